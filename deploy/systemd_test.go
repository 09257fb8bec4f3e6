package deploy_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/config"

	"github.com/ack-dev/ack/internal/acktest"
)

const systemdDir = "systemd"

// unitFile is a systemd unit: section → key → values in order (a key may
// repeat; an empty assignment resets the list, as systemd does).
type unitFile map[string]map[string][]string

func (u unitFile) get(section, key string) string {
	v := u[section][key]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// parseUnit reads the unit syntax: [Section] lines, Key=Value lines, # and ;
// comments, a trailing backslash continuing a line.
func parseUnit(data []byte) (unitFile, error) {
	u := unitFile{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		for strings.HasSuffix(line, `\`) && sc.Scan() {
			n++
			line = strings.TrimRight(strings.TrimSuffix(line, `\`), " \t") + " " + strings.TrimSpace(sc.Text())
		}
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("line %d: bad section header %q", n, line)
			}
			if len(line) == 2 {
				return nil, fmt.Errorf("line %d: empty section name", n)
			}
			section = line[1 : len(line)-1]
			if u[section] == nil {
				u[section] = map[string][]string{}
			}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" || strings.TrimSpace(k) == "" {
				return nil, fmt.Errorf("line %d: %q is not Key=Value inside a section", n, line)
			}
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if v == "" {
				u[section][k] = nil
				continue
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	return u, sc.Err()
}

// readUnit parses a unit of deploy/systemd; a template is instantiated with
// instance (%i).
func readUnit(t *testing.T, name, instance string) unitFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(systemdDir, name))
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.ReplaceAll(data, []byte("%i"), []byte(instance))
	u, err := parseUnit(data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return u
}

// unitWords splits a command line or an Environment= value into words,
// honouring double and single quotes.
func unitWords(s string) []string {
	var words []string
	var cur strings.Builder
	quote, inWord := rune(0), false
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// systemdSeconds parses a systemd time span: "45", "45s", "1min 30s", "2m".
func systemdSeconds(v string) (time.Duration, error) {
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	v = strings.NewReplacer(" ", "", "min", "m", "sec", "s").Replace(v)
	return time.ParseDuration(v)
}

func TestParseUnit(t *testing.T) {
	u, err := parseUnit([]byte("# c\n[Service]\nEnvironment=A=1\nEnvironment=B=2 \\\n  C=3\n; c\nExecStart=/x\nExecStart=\nExecStart=/y --a\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := u["Service"]["Environment"]; !slices.Equal(got, []string{"A=1", "B=2 C=3"}) {
		t.Errorf("Environment = %q", got)
	}
	if got := u["Service"]["ExecStart"]; !slices.Equal(got, []string{"/y --a"}) {
		t.Errorf("ExecStart = %q, want the list reset by the empty assignment", got)
	}
	for _, bad := range []string{"Key=outside\n", "[Service\n", "[Service]\nno equals sign\n"} {
		if _, err := parseUnit([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if got := unitWords(`/bin/ack --home="/srv/my ack" 'a b' c`); !slices.Equal(got, []string{"/bin/ack", "--home=/srv/my ack", "a b", "c"}) {
		t.Errorf("unitWords = %q", got)
	}
	for in, want := range map[string]time.Duration{"45": 45 * time.Second, "45s": 45 * time.Second, "1min 30s": 90 * time.Second} {
		if got, err := systemdSeconds(in); err != nil || got != want {
			t.Errorf("systemdSeconds(%q) = %v, %v", in, got, err)
		}
	}
}

func FuzzParseUnit(f *testing.F) {
	for _, name := range []string{"ack.service", "ack.socket", "ack@.service", "ack@.socket"} {
		data, err := os.ReadFile(filepath.Join(systemdDir, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("[A]\nk=v \\\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		u, err := parseUnit(data)
		if err != nil {
			return
		}
		for section, keys := range u {
			for k, vs := range keys {
				if section == "" || k == "" || slices.Contains(vs, "") {
					t.Fatalf("empty name or value: [%s] %q=%q", section, k, vs)
				}
			}
		}
	})
}

// serviceProcess is what a service unit runs, as ack reads its settings.
type serviceProcess struct {
	unit     unitFile
	settings config.Settings
}

func checkService(t *testing.T, name, instance string) serviceProcess {
	t.Helper()
	u := readUnit(t, name, instance)
	svc := u["Service"]
	if svc == nil {
		t.Fatal("no [Service] section")
	}
	if ty := u.get("Service", "Type"); ty != "" && ty != "simple" && ty != "exec" {
		t.Errorf("Type=%s: ack does not fork or notify", ty)
	}
	cmd := unitWords(u.get("Service", "ExecStart"))
	if len(cmd) == 0 || cmd[0] != "/usr/local/bin/ack" {
		t.Fatalf("ExecStart=%q: want /usr/local/bin/ack ...", cmd)
	}
	if slices.ContainsFunc(cmd[1:], func(a string) bool { return !strings.HasPrefix(a, "--") }) {
		t.Errorf("ExecStart=%q: serve takes flags only", cmd)
	}
	home := flagValue(cmd, "home")
	if !filepath.IsAbs(home) {
		t.Fatalf("ExecStart: --home=%q, want an absolute path", home)
	}
	var environ []string
	for _, v := range svc["Environment"] {
		environ = append(environ, unitWords(v)...)
	}
	s := loadSettings(t, home, "", environ, cmd)

	if got := u.get("Service", "ExecReload"); got != "/bin/kill -HUP $MAINPID" {
		t.Errorf("ExecReload=%q: want /bin/kill -HUP $MAINPID (ack upgrades in place on SIGHUP)", got)
	}
	// After an upgrade the serving process is the old one's child; systemd
	// finds it through the PID file ack writes.
	if got, want := u.get("Service", "PIDFile"), s.PIDPath(); got != want {
		t.Errorf("PIDFile=%s, but ack writes %s", got, want)
	}
	if got := u.get("Service", "KillSignal"); got != "SIGTERM" {
		t.Errorf("KillSignal=%q, want SIGTERM (ack drains on it)", got)
	}
	if km := u.get("Service", "KillMode"); km != "" && km != "control-group" {
		t.Errorf("KillMode=%s: an old process still draining after an upgrade must get SIGTERM too, not SIGKILL", km)
	}
	for _, k := range []string{"ACK_DRAIN_DELAY", "ACK_GRACE_PERIOD"} {
		if !slices.ContainsFunc(environ, func(e string) bool { return strings.HasPrefix(e, k+"=") }) {
			t.Errorf("Environment: %s not set", k)
		}
	}
	need := s.Shutdown.DrainDelay.D() + s.Shutdown.GracePeriod.D() + stopAllowance
	stop, err := systemdSeconds(u.get("Service", "TimeoutStopSec"))
	if err != nil {
		t.Errorf("TimeoutStopSec: %v", err)
	} else if stop < need {
		t.Errorf("TimeoutStopSec %v < drain %v + grace %v + stop %v", stop, s.Shutdown.DrainDelay.D(), s.Shutdown.GracePeriod.D(), stopAllowance)
	}
	if got := u.get("Service", "Restart"); got != "on-failure" {
		t.Errorf("Restart=%q, want on-failure", got)
	}
	user := u.get("Service", "User")
	if u.get("Service", "DynamicUser") != "yes" && (user == "" || user == "root" || user == "0") {
		t.Errorf("User=%q: run as a dedicated user or DynamicUser=yes", user)
	}
	for k, want := range map[string]string{"NoNewPrivileges": "yes", "ProtectSystem": "strict", "PrivateTmp": "yes", "ProtectHome": "yes"} {
		if got := u.get("Service", k); got != want {
			t.Errorf("%s=%q, want %s", k, got, want)
		}
	}
	if caps, ok := svc["CapabilityBoundingSet"]; !ok || len(caps) != 0 {
		t.Errorf("CapabilityBoundingSet=%q: ack needs no capability on a port above 1023", caps)
	}
	var writable []string
	for _, v := range svc["ReadWritePaths"] {
		writable = append(writable, unitWords(v)...)
	}
	for what, p := range map[string]string{"data directory": s.DataDir, "PID file": s.PIDPath()} {
		if !slices.ContainsFunc(writable, func(dir string) bool { return within(p, dir) }) {
			t.Errorf("%s %s is not under ReadWritePaths %q (ProtectSystem=strict)", what, p, writable)
		}
	}
	return serviceProcess{unit: u, settings: s}
}

func checkSocket(t *testing.T, name, instance string, svc serviceProcess) {
	t.Helper()
	u := readUnit(t, name, instance)
	if u["Socket"] == nil {
		t.Fatal("no [Socket] section")
	}
	if a := u.get("Socket", "Accept"); a != "" && a != "no" {
		t.Errorf("Accept=%s: ack takes the listening socket itself (Accept=no)", a)
	}
	streams := u["Socket"]["ListenStream"]
	if len(streams) != 1 {
		t.Fatalf("ListenStream=%q: ack takes exactly one socket", streams)
	}
	addr := streams[0]
	if _, port, err := net.SplitHostPort(addr); err == nil {
		addr = port
	}
	if port, err := strconv.Atoi(addr); err != nil || port != svc.settings.Port {
		t.Errorf("ListenStream=%s, but the service runs ack on port %d (its PID file is named after it)", streams[0], svc.settings.Port)
	}
}

func TestSystemdUnits(t *testing.T) {
	t.Run("ack.service", func(t *testing.T) {
		svc := checkService(t, "ack.service", "")
		t.Run("ack.socket", func(t *testing.T) { checkSocket(t, "ack.socket", "", svc) })
	})
	// A template is checked through an instance: the instance is the port.
	t.Run("ack@8422.service", func(t *testing.T) {
		svc := checkService(t, "ack@.service", "8422")
		if svc.settings.Port != 8422 {
			t.Errorf("ack@8422.service runs ack on port %d", svc.settings.Port)
		}
		t.Run("ack@8422.socket", func(t *testing.T) { checkSocket(t, "ack@.socket", "8422", svc) })
	})
	t.Run("instances do not share a PID file", func(t *testing.T) {
		a, b := checkService(t, "ack@.service", "8421"), checkService(t, "ack@.service", "8422")
		if a.settings.PIDPath() == b.settings.PIDPath() {
			t.Errorf("both instances write %s", a.settings.PIDPath())
		}
	})
}

// TestSystemdAnalyzeVerify lets systemd itself check the units (unknown keys,
// bad values, missing socket/service pairs), on copies whose binary path
// points at an executable that exists here.
func TestSystemdAnalyzeVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		acktest.Require(t, "systemd-analyze (Debian package systemd)")
	}
	stand, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true(1) to stand in for the ack binary")
	}
	dir := t.TempDir()
	copies := map[string]string{"ack.service": "ack.service", "ack.socket": "ack.socket",
		"ack@.service": "ack@8422.service", "ack@.socket": "ack@8422.socket"}
	var names []string
	for src, dst := range copies {
		data, err := os.ReadFile(filepath.Join(systemdDir, src))
		if err != nil {
			t.Fatal(err)
		}
		data = bytes.ReplaceAll(data, []byte("/usr/local/bin/ack"), []byte(stand))
		if err := os.WriteFile(filepath.Join(dir, dst), data, 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, "./"+dst)
	}
	cmd := exec.CommandContext(t.Context(), analyze, append([]string{"verify", "--man=no"}, names...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
