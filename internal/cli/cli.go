// Package cli is ack's command line: flag parsing, settings, logging and the
// subcommands (serve, check, version). cmd/ack only calls Main.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/ack-dev/ack/internal/config"
	"github.com/ack-dev/ack/internal/host"
	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/internal/upgrade"
)

// Version is set at build time (-ldflags "-X github.com/ack-dev/ack/internal/cli.Version=v1.2.3").
var Version = ""

// Env is the process environment as Main sees it.
type Env struct {
	Args    []string // without the program name
	Stdout  io.Writer
	Stderr  io.Writer
	Environ []string      // KEY=VALUE, as os.Environ()
	Modules []module.Info // the built-in modules (modules/all)
}

const usage = `usage:
  ack [--modules=a,b,...] [--port=N] [--home=DIR]   serve (default: every module but edge, port 8421, home $ACK_HOME or .)
  ack check [--home=DIR] [--modules=a,b,...]        load and validate every contract and setting, then exit
  ack upgrade [--home=DIR] [--port=N]              replace the running ack (PID file) with the binary now at its path
  ack version                                       print the version
`

// Main runs the command line and returns the process exit code.
func Main(env Env) int {
	args := env.Args
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "version":
		fmt.Fprintln(env.Stdout, "ack", version())
		return 0
	case "help":
		fmt.Fprint(env.Stdout, usage)
		return 0
	case "serve", "check", "upgrade":
	default:
		fmt.Fprintf(env.Stderr, "ack: unknown command %q\n%s", cmd, usage)
		return 2
	}
	opts, err := parseFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(env.Stdout, usage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "ack: %v\n", err)
		return 2
	}
	cfg, err := buildConfig(opts, env)
	if err != nil {
		fmt.Fprintf(env.Stderr, "ack: %v\n", err)
		return 2
	}
	switch cmd {
	case "check":
		return check(cfg, env)
	case "upgrade":
		return upgradeRunning(cfg, env)
	}
	return serve(cfg, env)
}

type flags struct {
	home    string
	modules string
	port    int
	portSet bool
	modSet  bool
}

func parseFlags(args []string) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("ack", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&f.home, "home", "", "home directory")
	fs.StringVar(&f.modules, "modules", "", "modules to run")
	fs.IntVar(&f.port, "port", 0, "port")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "port":
			f.portSet = true
		case "modules":
			f.modSet = true
		}
	})
	return f, nil
}

func buildConfig(f flags, env Env) (host.Config, error) {
	home := f.home
	if home == "" {
		home = lookup(env.Environ, "ACK_HOME")
	}
	if home == "" {
		home = "."
	}
	home, err := filepath.Abs(home)
	if err != nil {
		return host.Config{}, fmt.Errorf("home: %w", err)
	}
	if st, err := os.Stat(home); err != nil || !st.IsDir() {
		return host.Config{}, fmt.Errorf("home %s is not a directory", home)
	}
	settings, err := config.Load(home, env.Environ)
	if err != nil {
		return host.Config{}, err
	}
	if f.portSet {
		if f.port < 0 || f.port > 65535 {
			return host.Config{}, fmt.Errorf("--port %d out of range", f.port)
		}
		settings.Port = f.port
	}
	if f.modSet {
		settings.Modules = config.SplitList(f.modules)
		if len(settings.Modules) == 0 {
			return host.Config{}, errors.New("--modules is empty")
		}
	}
	mods, err := host.Select(env.Modules, settings.Modules)
	if err != nil {
		return host.Config{}, err
	}
	return host.Config{
		Settings: settings,
		Paths:    config.NewPaths(home, settings.DataDir),
		Modules:  mods,
		Logger:   newLogger(settings.Log, env.Stderr),
		Version:  version(),
	}, nil
}

func lookup(environ []string, key string) string {
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}

func newLogger(l config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(l.Level))
	opts := &slog.HandlerOptions{Level: level}
	if l.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func serve(cfg host.Config, env Env) int {
	pidFile := cfg.Settings.PIDPath()
	if pidFile != "" {
		if err := os.MkdirAll(filepath.Dir(pidFile), 0o755); err != nil {
			fmt.Fprintf(env.Stderr, "ack: pid file: %v\n", err)
			return 1
		}
	}
	upg, err := upgrade.New(pidFile, cfg.Settings.UpgradeTimeout.D())
	if err != nil {
		fmt.Fprintf(env.Stderr, "ack: %v\n", err)
		return 1
	}
	defer upg.Stop()
	addr := net.JoinHostPort(cfg.Settings.Listen, fmt.Sprint(cfg.Settings.Port))
	ln, err := upg.Listen(addr)
	if err != nil {
		fmt.Fprintf(env.Stderr, "ack: cannot listen on %s: %v\n", addr, rootCause(err))
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go upgradeOnHUP(ctx, upg, cfg.Logger)
	if err := host.Run(ctx, cfg, ln, upg); err != nil {
		cfg.Logger.Error("ack failed", "err", err)
		fmt.Fprintf(env.Stderr, "ack: %v\n", err)
		return 1
	}
	return 0
}

// upgradeOnHUP starts the binary at the same path as a successor on each
// SIGHUP; this process keeps serving if the successor fails.
func upgradeOnHUP(ctx context.Context, upg *upgrade.Upgrader, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			log.Info("upgrade requested: starting the new binary")
			if err := upg.Upgrade(); err != nil {
				log.Error("upgrade failed; this process keeps serving", "err", err)
				continue
			}
			log.Info("upgrade: the new process is ready")
		}
	}
}

// rootCause drops the "listen tcp ..." wrapping for a one-line message.
func rootCause(err error) error {
	var sys *os.SyscallError
	if errors.As(err, &sys) {
		return sys.Err
	}
	return err
}

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			if dirty {
				rev += "-dirty"
			}
			return "dev-" + rev
		}
	}
	return "dev"
}
