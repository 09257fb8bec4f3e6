package repository

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// signer makes and checks signed, expiring download links: an HMAC-SHA256
// over the application, repository, item and expiry, so that none of them can
// be changed without the key.
type signer struct {
	key []byte
}

var (
	errLinkExpired  = errors.New("the download link has expired")
	errLinkTampered = errors.New("the download link is not valid")
)

func (s signer) mac(app, repo, item string, expires int64) []byte {
	m := hmac.New(sha256.New, s.key)
	// Lengths first, so that no two different tuples share an encoding.
	for _, part := range []string{app, repo, item} {
		fmt.Fprintf(m, "%d:%s\n", len(part), part)
	}
	fmt.Fprintf(m, "%d", expires)
	return m.Sum(nil)
}

// sign returns the token for a link to item valid until expires.
func (s signer) sign(app, repo, item string, expires time.Time) string {
	return base64.RawURLEncoding.EncodeToString(s.mac(app, repo, item, expires.Unix()))
}

// verify checks a token and its expiry (Unix seconds, as text) at now.
func (s signer) verify(app, repo, item, token, expires string, now time.Time) error {
	exp, err := strconv.ParseInt(strings.TrimSpace(expires), 10, 64)
	if err != nil {
		return errLinkTampered
	}
	got, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || !hmac.Equal(got, s.mac(app, repo, item, exp)) {
		return errLinkTampered
	}
	if now.Unix() > exp {
		return errLinkExpired
	}
	return nil
}

// loadSigningKey returns the configured key, or the one kept in file
// (created with a random value on first use), so that links survive restarts
// and work across the processes that share a data directory.
func loadSigningKey(configured, file string) ([]byte, error) {
	if configured != "" {
		return []byte(configured), nil
	}
	data, err := os.ReadFile(file)
	if err == nil {
		key, derr := hex.DecodeString(strings.TrimSpace(string(data)))
		if derr != nil || len(key) < 32 {
			return nil, fmt.Errorf("repository: signing key %s is damaged; delete it to make a new one", file)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("repository: read signing key: %w", err)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails
	if err := os.MkdirAll(filepath.Dir(file), 0o750); err != nil {
		return nil, fmt.Errorf("repository: signing key directory: %w", err)
	}
	// O_EXCL: when two processes race, the loser reads the winner's key.
	f, err := os.OpenFile(file, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if errors.Is(err, os.ErrExist) {
		return loadSigningKey("", file)
	}
	if err != nil {
		return nil, fmt.Errorf("repository: create signing key: %w", err)
	}
	_, err = f.WriteString(hex.EncodeToString(key) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("repository: write signing key: %w", err)
	}
	return key, nil
}
