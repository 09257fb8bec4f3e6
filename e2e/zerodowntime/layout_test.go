package zerodowntime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/acktest"
)

// sqlContract is the contract every event serves: transaction ZDT/ZDT/tx on
// data source ds, service GD01 answering a version string, so an edit is visible.
func sqlContract(tx, ds, version string) string {
	return acktest.SQLContract("ZDT", "ZDT", tx, ds, acktest.Statement{ID: "GD01", SQL: fmt.Sprintf(`SELECT '%s' AS "Version"`, version)})
}

const executePath = "/transact/api/transaction/execute"

// home is a home directory with one transaction per data source.
type home struct {
	dir string
}

func newHome(t *testing.T) *home {
	h := &home{dir: t.TempDir()}
	h.writeTransaction(t, "ZDT010", "DB01", "v1")
	return h
}

func (h *home) sqlPath(tx string) string {
	return filepath.Join(h.dir, "contracts", "dbclient", "ZDT", "ZDT", tx+".xml")
}

func (h *home) txPath(tx string) string {
	return filepath.Join(h.dir, "contracts", "transact", "ZDT", "ZDT", tx+".json")
}

// writeTransaction writes both contracts of transaction tx on data source ds.
func (h *home) writeTransaction(t *testing.T, tx, ds, version string) {
	t.Helper()
	acktest.ReplaceFile(t, h.sqlPath(tx), sqlContract(tx, ds, version))
	acktest.ReplaceFile(t, h.txPath(tx), acktest.TransactionContract("ZDT", "ZDT", tx, "GD01"))
}

// writeInPlace truncates path and writes it, as some editors do: the server
// may see an empty or half-written file in between.
func writeInPlace(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// request is the body syn.js would send for service GD01 of tx.
func request(t *testing.T, tx string) []byte {
	t.Helper()
	b, err := json.Marshal(acktest.Transaction("ZDT", "ZDT", tx, "GD01", nil))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var probeClient = &http.Client{Timeout: 10 * time.Second}

// served returns the version that tx answers on base, or what went wrong.
func served(t *testing.T, base, tx string) string {
	resp, err := probeClient.Post(base+executePath, "application/json", bytes.NewReader(request(t, tx)))
	if err != nil {
		return "error: " + err.Error()
	}
	defer resp.Body.Close()
	var out acktest.TransactionResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "error: " + err.Error()
	}
	return out.FormField("Version")
}

// get returns the body of GET base+path, "" on any failure.
func get(base, path string) string {
	resp, err := probeClient.Get(base + path)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// start starts an ack process; with ACK_ZDT_SAMPLES set, its log is kept
// there as <test>-<name>-<pid>.log when the test ends.
func start(t *testing.T, name string, opts acktest.ProcessOptions) *acktest.Process {
	t.Helper()
	p := acktest.StartProcess(t, opts)
	if dir := os.Getenv("ACK_ZDT_SAMPLES"); dir != "" {
		t.Cleanup(func() {
			file := fmt.Sprintf("%s-%s-%d.log", fileName(t.Name()), name, p.Cmd.Process.Pid)
			if err := os.WriteFile(filepath.Join(dir, file), []byte(p.Output()), 0o644); err != nil {
				t.Errorf("keep the log: %v", err)
			}
		})
	}
	return p
}

// fileName makes s safe as a file name.
func fileName(s string) string {
	return strings.Trim(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, s), "-")
}

// upgradable is a process followed across in-place upgrades through its PID
// file: after the first upgrade the serving process is no longer our child.
type upgradable struct {
	*acktest.Process
	pidFile string
}

func startUpgradable(t *testing.T, opts acktest.ProcessOptions) *upgradable {
	t.Helper()
	pidFile := filepath.Join(t.TempDir(), "ack.pid")
	opts.Env = append(opts.Env, "ACK_PID_FILE="+pidFile)
	p := start(t, "front", opts)
	u := &upgradable{Process: p, pidFile: pidFile}
	acktest.Eventually(t, 10*time.Second, "the PID file", func() bool { return u.pid() == p.Cmd.Process.Pid })
	// Runs before acktest's own cleanup, which only knows the first process.
	t.Cleanup(func() {
		if pid := u.pid(); pid > 0 && pid != p.Cmd.Process.Pid && !gone(pid) {
			_ = syscall.Kill(pid, syscall.SIGTERM)
			deadline := time.Now().Add(30 * time.Second)
			for !gone(pid) && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if !gone(pid) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				t.Errorf("upgraded ack %d did not stop on SIGTERM within 30s", pid)
			}
		}
	})
	return u
}

func (u *upgradable) pid() int {
	b, err := os.ReadFile(u.pidFile)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// upgrade sends SIGHUP to the serving process and returns once its
// successor is ready and the old process has drained and exited.
func (u *upgradable) upgrade(t *testing.T) (oldPID, newPID int) {
	t.Helper()
	oldPID = u.pid()
	if err := syscall.Kill(oldPID, syscall.SIGHUP); err != nil {
		t.Fatalf("SIGHUP %d: %v", oldPID, err)
	}
	acktest.Eventually(t, 60*time.Second, "the new process to write its PID", func() bool {
		pid := u.pid()
		return pid != 0 && pid != oldPID
	})
	acktest.Eventually(t, 60*time.Second, fmt.Sprintf("the old process %d to exit", oldPID), func() bool { return gone(oldPID) })
	return oldPID, u.pid()
}

// gone reports whether pid has exited (a zombie waiting to be reaped counts).
func gone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the command name in parentheses: "pid (comm) S ...".
	if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) {
		return b[i+2] == 'Z' || b[i+2] == 'X'
	}
	return false
}

// split is HandStack's split layout: a front process running transact that
// receives the load, and two dbclient processes it calls as peers.
type split struct {
	home  *home
	front *upgradable
	db    [2]*acktest.Process
	ports [2]string
}

// dbclientDrainDelay keeps a stopping dbclient serving until every caller's
// health check (every 5 s, internal/peer) has seen it draining.
const dbclientDrainDelay = "ACK_DRAIN_DELAY=6s"

func startSplit(t *testing.T, h *home) *split {
	t.Helper()
	s := &split{home: h}
	for i := range s.db {
		s.db[i] = s.startDBClient(t, i, "0")
		s.ports[i] = s.db[i].Port
	}
	s.front = startUpgradable(t, acktest.ProcessOptions{
		Home: h.dir,
		Args: []string{"--modules=transact"},
		Env:  []string{"ACK_PEER_DBCLIENT=" + s.dbURL(0) + "," + s.dbURL(1)},
	})
	return s
}

func (s *split) startDBClient(t *testing.T, i int, port string) *acktest.Process {
	t.Helper()
	return start(t, fmt.Sprintf("dbclient%d", i+1), acktest.ProcessOptions{
		Home: s.home.dir,
		Args: []string{"--modules=dbclient", "--port=" + port},
		Env:  []string{dbclientDrainDelay},
	})
}

func (s *split) dbURL(i int) string { return "http://127.0.0.1:" + s.ports[i] }

// restartDBClient stops dbclient i gracefully, starts it again on the same
// port, and returns once the front process uses it again.
func (s *split) restartDBClient(t *testing.T, i int) {
	t.Helper()
	s.db[i].Stop(t)
	if code := s.db[i].ExitCode(t, time.Second); code != 0 {
		t.Errorf("dbclient %d exited with %d", i, code)
	}
	s.db[i] = s.startDBClient(t, i, s.ports[i])
	s.waitPeerUp(t, i)
}

// waitPeerUp waits until the front process counts dbclient i usable again.
func (s *split) waitPeerUp(t *testing.T, i int) {
	t.Helper()
	want := fmt.Sprintf(`endpoint=%q`, s.dbURL(i))
	var last time.Time
	acktest.Eventually(t, 20*time.Second, "the front process to use "+s.dbURL(i)+" again", func() bool {
		// At most ten scrapes a second: the front is the process under measurement.
		if time.Since(last) < 100*time.Millisecond {
			return false
		}
		last = time.Now()
		for _, line := range strings.Split(get(s.front.URL, "/metrics"), "\n") {
			if strings.HasPrefix(line, "ack_peer_endpoint_up{") && strings.Contains(line, want) &&
				strings.Contains(line, `target="dbclient"`) && strings.HasSuffix(line, " 1") {
				return true
			}
		}
		return false
	})
}
