package repository

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestSignerVerify(t *testing.T) {
	s := signer{key: []byte("0123456789abcdef0123456789abcdef")}
	now := time.Unix(1_800_000_000, 0)
	exp := now.Add(time.Hour)
	tok := s.sign("HDS", "R1", "item", exp)
	expStr := strconv.FormatInt(exp.Unix(), 10)
	if err := s.verify("HDS", "R1", "item", tok, expStr, now); err != nil {
		t.Fatalf("valid link refused: %v", err)
	}
	cases := map[string]struct {
		app, repo, item, tok, exp string
		at                        time.Time
		want                      error
	}{
		"expired":           {"HDS", "R1", "item", tok, expStr, exp.Add(time.Second), errLinkExpired},
		"other item":        {"HDS", "R1", "item2", tok, expStr, now, errLinkTampered},
		"other repository":  {"HDS", "R2", "item", tok, expStr, now, errLinkTampered},
		"boundary shift":    {"HDS", "R", "1item", tok, expStr, now, errLinkTampered},
		"extended expiry":   {"HDS", "R1", "item", tok, strconv.FormatInt(exp.Unix()+3600, 10), now, errLinkTampered},
		"not a number":      {"HDS", "R1", "item", tok, "soon", now, errLinkTampered},
		"garbage token":     {"HDS", "R1", "item", "!!", expStr, now, errLinkTampered},
		"empty token":       {"HDS", "R1", "item", "", expStr, now, errLinkTampered},
		"other key's token": {"HDS", "R1", "item", signer{key: []byte("another key of 32 bytes.........")}.sign("HDS", "R1", "item", exp), expStr, now, errLinkTampered},
	}
	for name, c := range cases {
		if err := s.verify(c.app, c.repo, c.item, c.tok, c.exp, c.at); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", name, err, c.want)
		}
	}
}

func TestLoadSigningKeyPersists(t *testing.T) {
	file := filepath.Join(t.TempDir(), "repository", "signing.key")
	k1, err := loadSigningKey("", file)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := loadSigningKey("", file)
	if err != nil {
		t.Fatal(err)
	}
	if len(k1) != 32 || !bytes.Equal(k1, k2) {
		t.Fatalf("key not kept: %x vs %x", k1, k2)
	}
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", st, err)
	}
	if k, _ := loadSigningKey("configured-key-1234", file); string(k) != "configured-key-1234" {
		t.Fatalf("configured key ignored")
	}
	if err := os.WriteFile(file, []byte("zz"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadSigningKey("", file); err == nil {
		t.Fatal("a damaged key file was accepted")
	}
}
