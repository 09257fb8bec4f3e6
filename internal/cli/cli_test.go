package cli_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ack-dev/ack/internal/cli"
	"github.com/ack-dev/ack/internal/contract"
	"github.com/ack-dev/ack/internal/module"
)

// checked is a module with one contract kind: *.cfg files that must not start with "!".
type checked struct{}

func (checked) Provision(ctx context.Context, h module.Host) error {
	roots, err := h.Config().ContractRoots()
	if err != nil {
		return err
	}
	s := contract.NewStore(contract.Kind[string]{
		Name: "checked.cfg", Module: "checked",
		Match: func(rel string) bool { return strings.HasSuffix(rel, ".cfg") },
		Parse: func(fsys fs.FS, rel string) ([]string, error) {
			b, err := fs.ReadFile(fsys, rel)
			if err != nil {
				return nil, err
			}
			if bytes.HasPrefix(b, []byte("!")) {
				return nil, &contract.ParseError{Path: rel, Line: 1, Err: errors.New("bad contract")}
			}
			return []string{rel}, nil
		},
		Key: func(s string) string { return s },
	}, roots, contract.Options{})
	return h.Contracts().Register(s)
}
func (checked) Start(context.Context) error { return nil }
func (checked) Stop(context.Context) error  { return nil }
func (checked) Routes() []module.Route      { return nil }
func (checked) Diagnose(context.Context) []module.Diagnostic {
	return []module.Diagnostic{{Severity: "warning", Message: "implicit data source"}}
}

var infos = []module.Info{{ID: "checked", New: func() module.Module { return checked{} }}}

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cli.Main(cli.Env{Args: args, Stdout: &out, Stderr: &errb, Modules: infos})
	return code, out.String(), errb.String()
}

func TestBadCommandLines(t *testing.T) {
	home := t.TempDir()
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown module", []string{"--home=" + home, "--modules=nope"}, `unknown module "nope" (valid: checked)`},
		{"bad flag", []string{"--home=" + home, "--frobnicate"}, "flag provided but not defined: -frobnicate"},
		{"bad port", []string{"--home=" + home, "--port=99999"}, "out of range"},
		{"not a number", []string{"--home", home, "--port", "abc"}, "invalid value"},
		{"missing home", []string{"--home=" + filepath.Join(home, "nope")}, "is not a directory"},
		{"unknown command", []string{"frob"}, `unknown command "frob"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, tc.args...)
			if code == 0 {
				t.Fatal("want a non-zero exit")
			}
			first := strings.SplitN(stderr, "\n", 2)[0]
			if !strings.Contains(first, tc.want) {
				t.Fatalf("first line of stderr = %q, want it to contain %q", first, tc.want)
			}
		})
	}
}

func TestBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	var out, errb bytes.Buffer
	code := cli.Main(cli.Env{Args: []string{"--home=" + t.TempDir(), "--port=" + port}, Stdout: &out, Stderr: &errb,
		Environ: []string{"ACK_LISTEN=127.0.0.1"}, Modules: infos})
	if code == 0 || !strings.Contains(errb.String(), "address already in use") || strings.Count(errb.String(), "\n") != 1 {
		t.Fatalf("code %d, stderr %q", code, errb.String())
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := run(t, "version")
	if code != 0 || !strings.HasPrefix(out, "ack ") {
		t.Fatalf("version: %d %q", code, out)
	}
}

func TestCheck(t *testing.T) {
	home := t.TempDir()
	dir := filepath.Join(home, "contracts", "checked")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "good.cfg"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := run(t, "check", "--home="+home)
	if code != 0 || !strings.Contains(out, "settings: warning: implicit data source") || !strings.HasSuffix(out, "ok\n") {
		t.Fatalf("clean home: %d %q", code, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.cfg"), []byte("!"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ = run(t, "check", "--home="+home)
	want := filepath.Join(dir, "bad.cfg") + ":1: bad contract"
	if code == 0 || !strings.Contains(out, want) || !strings.Contains(out, "1 error(s)") {
		t.Fatalf("broken home: %d %q, want %q", code, out, want)
	}
}
