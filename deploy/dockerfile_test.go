package deploy_test

import (
	"bufio"
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ack-dev/ack/internal/config"
)

const dockerfile = "docker/Dockerfile"

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line int
	cmd  string // upper case: FROM, RUN, ...
	args string
}

// stage is the instructions from one FROM to the next.
type stage struct {
	from  string // the image
	name  string // AS name
	instr []instruction
}

// parseDockerfile reads the instruction syntax: comments, blank lines and
// backslash continuations; parser directives are comments too.
func parseDockerfile(data []byte) ([]stage, error) {
	var stages []stage
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		start := n
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		for strings.HasSuffix(line, `\`) {
			line = strings.TrimSuffix(line, `\`)
			for {
				if !sc.Scan() {
					return nil, fmt.Errorf("line %d: continuation at end of file", n)
				}
				n++
				next := strings.TrimSpace(sc.Text())
				if next != "" && next[0] != '#' { // comments inside a continuation are dropped
					line += " " + next
					break
				}
			}
		}
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		cmd, args := line, ""
		if i := strings.IndexAny(line, " \t"); i > 0 {
			cmd, args = line[:i], line[i+1:]
		}
		in := instruction{line: start, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			f := strings.Fields(in.args)
			f = slices.DeleteFunc(f, func(s string) bool { return strings.HasPrefix(s, "--") })
			if len(f) == 0 {
				return nil, fmt.Errorf("line %d: FROM without an image", start)
			}
			st := stage{from: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			if in.cmd == "ARG" {
				continue // global build arguments
			}
			return nil, fmt.Errorf("line %d: %s before the first FROM", start, in.cmd)
		}
		stages[len(stages)-1].instr = append(stages[len(stages)-1].instr, in)
	}
	return stages, sc.Err()
}

func (s stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.instr {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

func readDockerfile(t *testing.T) []stage {
	t.Helper()
	data, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	stages, err := parseDockerfile(data)
	if err != nil {
		t.Fatalf("%s: %v", dockerfile, err)
	}
	if len(stages) < 2 {
		t.Fatalf("%d stage(s): build in one stage, ship the binary in another", len(stages))
	}
	return stages
}

// goBuild returns the `go build` command of the build stage's RUN lines as
// words, and the ENV settings of that stage.
func goBuild(t *testing.T, stages []stage) (words []string, env map[string]string) {
	t.Helper()
	for _, st := range stages[:len(stages)-1] {
		env = map[string]string{}
		for _, in := range st.instr {
			if in.cmd == "ENV" {
				for _, kv := range unitWords(in.args) {
					if k, v, ok := strings.Cut(kv, "="); ok {
						env[k] = v
					}
				}
			}
			if in.cmd != "RUN" {
				continue
			}
			for _, part := range strings.Split(in.args, "&&") {
				w := unitWords(part)
				w = slices.DeleteFunc(w, func(s string) bool { return strings.HasPrefix(s, "--mount=") })
				// Variables set on the command itself (CGO_ENABLED=0 go build).
				for len(w) > 0 && strings.Contains(w[0], "=") {
					k, v, _ := strings.Cut(w[0], "=")
					env[k] = v
					w = w[1:]
				}
				if len(w) >= 2 && w[0] == "go" && w[1] == "build" {
					return w, env
				}
			}
		}
	}
	t.Fatal("no RUN go build in a build stage")
	return nil, nil
}

func TestParseDockerfile(t *testing.T) {
	stages, err := parseDockerfile([]byte("# syntax=docker/dockerfile:1\nARG V=1\nFROM golang AS build\nRUN a \\\n  # note\n  b\nFROM scratch\nUSER 1:1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(stages) != 2 || stages[0].name != "build" || stages[1].from != "scratch" {
		t.Fatalf("stages = %+v", stages)
	}
	if got := stages[0].instr[0]; got.cmd != "RUN" || got.args != "a  b" || got.line != 4 {
		t.Errorf("RUN = %+v", got)
	}
	for _, bad := range []string{"RUN x\n", "FROM\n", "FROM a\nRUN b \\\n"} {
		if _, err := parseDockerfile([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func FuzzParseDockerfile(f *testing.F) {
	data, err := os.ReadFile(dockerfile)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte("FROM a AS b\nRUN x \\\n\\\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		stages, err := parseDockerfile(data)
		if err != nil {
			return
		}
		for _, st := range stages {
			if st.from == "" {
				t.Fatal("a stage without an image")
			}
			for _, in := range st.instr {
				if in.cmd == "" || in.cmd == "FROM" {
					t.Fatalf("instruction %+v", in)
				}
			}
		}
	})
}

func TestDockerfile(t *testing.T) {
	stages := readDockerfile(t)
	final := stages[len(stages)-1]
	if !strings.HasPrefix(final.from, "gcr.io/distroless/static") && final.from != "scratch" {
		t.Errorf("runtime image %s: want distroless/static or scratch", final.from)
	}
	users := final.all("USER")
	if len(users) == 0 {
		t.Fatal("no USER in the runtime stage: it would run as root")
	}
	user, group, _ := strings.Cut(users[len(users)-1].args, ":")
	if user == "root" || user == "0" || group == "0" || group == "root" {
		t.Errorf("USER %s runs as root", users[len(users)-1].args)
	}
	if uid, err := strconv.Atoi(user); err != nil || uid == 0 {
		// Kubernetes' runAsNonRoot can check only a numeric user.
		t.Errorf("USER %s: want a numeric non-zero UID", users[len(users)-1].args)
	}
	if e := final.all("EXPOSE"); len(e) != 1 || e[0].args != strconv.Itoa(config.DefaultPort) {
		t.Errorf("EXPOSE %v, want %d", e, config.DefaultPort)
	}
	if s := final.all("STOPSIGNAL"); len(s) != 1 || s[0].args != "SIGTERM" {
		t.Errorf("STOPSIGNAL %v, want SIGTERM", s)
	}
	for _, st := range stages {
		for _, h := range st.all("HEALTHCHECK") {
			if h.args != "NONE" {
				t.Errorf("line %d: HEALTHCHECK: orchestrators probe /readyz and /livez", h.line)
			}
		}
	}
	words, env := goBuild(t, stages)
	if env["CGO_ENABLED"] != "0" {
		t.Errorf("CGO_ENABLED=%q in the build stage, want 0", env["CGO_ENABLED"])
	}
	if !slices.Contains(words, "-trimpath") {
		t.Error("go build without -trimpath")
	}
	out := ""
	if i := slices.Index(words, "-o"); i > 0 && i+1 < len(words) {
		out = words[i+1]
	}
	if out == "" {
		t.Fatal("go build without -o")
	}
	// The runtime stage runs what the build stage wrote.
	entry := final.all("ENTRYPOINT")
	if len(entry) != 1 {
		t.Fatal("want one ENTRYPOINT")
	}
	copied := ""
	for _, c := range final.all("COPY") {
		w := unitWords(c.args)
		w = slices.DeleteFunc(w, func(s string) bool { return strings.HasPrefix(s, "--") })
		if len(w) == 2 && w[0] == out {
			copied = w[1]
		}
	}
	if copied == "" || !strings.Contains(entry[0].args, `"`+copied+`"`) {
		t.Errorf("ENTRYPOINT %s does not run the binary built at %s (copied to %q)", entry[0].args, out, copied)
	}
}

// TestDockerfileBuildsAStaticBinary runs the Dockerfile's own `go build`
// line here, with the same environment, and checks that the result needs no
// dynamic loader (it must run on distroless/static or scratch) and reports
// the version given at build time.
func TestDockerfileBuildsAStaticBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ack (-short)")
	}
	words, env := goBuild(t, readDockerfile(t))
	const version = "v0.0.0-deploytest"
	bin := filepath.Join(t.TempDir(), "ack")
	args := slices.Clone(words[1:])
	for i, a := range args {
		a = strings.NewReplacer("${VERSION}", version, "$VERSION", version).Replace(a)
		if i > 0 && args[i-1] == "-o" {
			a = bin
		}
		args[i] = a
	}
	cmd := exec.CommandContext(t.Context(), "go", args...)
	cmd.Dir = ".." // the build context is the repository root
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("program header %v: the binary is dynamically linked", p.Type)
		}
	}
	if f.Section(".dynamic") != nil || f.Section(".interp") != nil {
		t.Error("the binary has a .dynamic or .interp section")
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary needs %v", libs)
	}
	out, err := exec.CommandContext(t.Context(), bin, "version").Output()
	if err != nil {
		t.Fatalf("ack version: %v", err)
	}
	if got, want := strings.TrimSpace(string(out)), "ack "+version; got != want {
		t.Errorf("ack version = %q, want %q: the -X flag does not reach cli.Version", got, want)
	}
}
