package zerodowntime

import (
	"context"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/acktest"
)

// postgres is a private PostgreSQL server for this test alone: the event
// stops it, so it must not be the shared one other packages test against.
type postgres struct {
	bin  string // directory of initdb and pg_ctl
	dir  string // socket directory and log; data in dir/data
	Port string
	as   *user.User // the user the server runs as when we are root
}

// startPostgres initialises and starts a server on a free loopback port with
// trust authentication for the superuser ackzdt, and removes it at cleanup.
func startPostgres(t *testing.T) *postgres {
	t.Helper()
	bin := postgresBin()
	if bin == "" {
		acktest.Require(t, "PostgreSQL server binaries (initdb, pg_ctl: /usr/lib/postgresql/*/bin or PATH)")
	}
	pg := &postgres{bin: bin}
	if os.Geteuid() == 0 {
		// initdb refuses to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			acktest.Require(t, "a postgres user to run PostgreSQL as (running as root)")
		}
		pg.as = u
	}
	dir, err := os.MkdirTemp("", "ackzdt-pg-")
	if err != nil {
		t.Fatal(err)
	}
	pg.dir = dir
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if pg.as != nil {
		uid, _ := strconv.Atoi(pg.as.Uid)
		gid, _ := strconv.Atoi(pg.as.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	pg.Port = acktest.FreePort(t)
	pg.run(t, "initdb", "-D", pg.data(), "-A", "trust", "-U", "ackzdt", "-E", "UTF8", "--no-sync")
	pg.start(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = pg.command(ctx, "pg_ctl", "-D", pg.data(), "-m", "immediate", "-w", "stop").Run()
	})
	return pg
}

func postgresBin() string {
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(found) > 0 {
		slices.Sort(found) // the newest major version last (same number of digits on one machine)
		return filepath.Dir(found[len(found)-1])
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if _, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p)
		}
	}
	return ""
}

func (pg *postgres) data() string { return filepath.Join(pg.dir, "data") }

// ConnectionString is the ADO.NET connection string dbclient reads, with the
// default connect timeout (15 s): a failure that waits for it must show.
func (pg *postgres) ConnectionString() string {
	return "Host=127.0.0.1;Port=" + pg.Port + ";Database=postgres;User ID=ackzdt;SSL Mode=Disable"
}

// start starts the server and returns when it accepts connections.
func (pg *postgres) start(t *testing.T) {
	t.Helper()
	pg.run(t, "pg_ctl", "-D", pg.data(), "-l", filepath.Join(pg.dir, "server.log"), "-w",
		"-o", "-p "+pg.Port+" -k "+pg.dir+" -c listen_addresses=127.0.0.1 -c fsync=off", "start")
}

// stop shuts the server down the way an operator's restart does (fast:
// sessions are ended, in-flight statements fail) and returns when it is down.
func (pg *postgres) stop(t *testing.T) {
	t.Helper()
	pg.run(t, "pg_ctl", "-D", pg.data(), "-m", "fast", "-w", "stop")
}

func (pg *postgres) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	path := filepath.Join(pg.bin, name)
	if pg.as != nil {
		return exec.CommandContext(ctx, "runuser", append([]string{"-u", pg.as.Username, "--", path}, args...)...)
	}
	return exec.CommandContext(ctx, path, args...)
}

func (pg *postgres) run(t *testing.T, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := pg.command(ctx, name, args...)
	cmd.Dir = pg.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(pg.dir, "server.log"))
		t.Fatalf("%s %v: %v\n%s\nserver log:\n%s", name, args, err, out, log)
	}
}
