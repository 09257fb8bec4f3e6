package sqlmap_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ack-dev/ack/modules/dbclient/sqlmap"

	"github.com/ack-dev/ack/internal/acktest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestParseGolden parses testdata/parse/*.xml (as if each file lived at
// APP/PROJ/<name>.xml) and compares a dump of the result with <name>.golden.
func TestParseGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/parse/*.xml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".xml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			sts, warns, err := sqlmap.Parse("APP/PROJ/"+name+".xml", data)
			got := dump(sts, warns, err)
			golden := strings.TrimSuffix(f, ".xml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("dump differs from %s:\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
		})
	}
}

func dump(sts []*sqlmap.Statement, warns []sqlmap.Warning, err error) string {
	var b strings.Builder
	if err != nil {
		line := 0
		if e, ok := err.(*sqlmap.Error); ok {
			line = e.Line
		}
		fmt.Fprintf(&b, "error line %d: %v\n", line, err)
	}
	for _, w := range warns {
		fmt.Fprintf(&b, "warning line %d: %s\n", w.Line, w.Message)
	}
	for _, s := range sts {
		fmt.Fprintf(&b, "statement %s line %d ds=%q isolation=%q timeout=%d native=%v inline=%v desc=%q\n",
			s.QueryID(), s.Line, s.DataSourceID, s.Isolation, s.Timeout, s.Native, s.InlineValues, s.Description)
		for _, p := range s.Params {
			fmt.Fprintf(&b, "  param %s name=%s type=%s length=%d value=%q direction=%s transform=%q required=%v\n",
				p.ID, p.Name, p.Type, p.Length, p.Default, p.Direction, p.Transform, p.Required)
		}
		for _, m := range s.OutputMetas {
			fmt.Fprintf(&b, "  outputmeta %q\n", m)
		}
		if pt := s.Pretreatment; pt != nil {
			fmt.Fprintf(&b, "  pretreatment %v line %d\n", pt.ResultTypes, pt.Line)
			dumpNodes(&b, pt.Body, "    ")
		}
		dumpNodes(&b, s.Body, "  ")
	}
	return b.String()
}

func dumpNodes(b *strings.Builder, nodes []sqlmap.Node, indent string) {
	for _, n := range nodes {
		switch v := n.(type) {
		case *sqlmap.Text:
			if strings.TrimSpace(v.SQL) != "" {
				fmt.Fprintf(b, "%stext line %d %q\n", indent, v.Line, strings.Join(strings.Fields(v.SQL), " "))
			}
		case *sqlmap.If:
			fmt.Fprintf(b, "%sif %q line %d\n", indent, v.Test.Source(), v.Line)
			dumpNodes(b, v.Body, indent+"  ")
		case *sqlmap.Foreach:
			fmt.Fprintf(b, "%sforeach %s as %s open=%q close=%q sep=%q line %d\n", indent, v.Collection, v.Item, v.Open, v.Close, v.Separator, v.Line)
			dumpNodes(b, v.Body, indent+"  ")
		case *sqlmap.Bind:
			fmt.Fprintf(b, "%sbind %s = %q line %d\n", indent, v.Name, v.Value.Source(), v.Line)
		}
	}
}

func TestTruthy(t *testing.T) {
	for _, s := range []string{"Y", "y", "true", "1", "OK", "yes", "On"} {
		if !sqlmap.Truthy(s) {
			t.Errorf("Truthy(%q) = false", s)
		}
	}
	for _, s := range []string{"", "N", "0", "no", " Y"} {
		if sqlmap.Truthy(s) {
			t.Errorf("Truthy(%q) = true", s)
		}
	}
}

func TestFixturesParse(t *testing.T) {
	dir := acktest.Shared(t, "fixtures/handstack/home/contracts/dbclient/HDS/BOD")
	want := map[string][]string{
		"BOD010.xml": {"HDS|BOD|BOD010|ZD0100", "HDS|BOD|BOD010|LD0100"},
		"BOD011.xml": {"HDS|BOD|BOD011|ID0100"},
		"BOD012.xml": {"HDS|BOD|BOD012|GD0100", "HDS|BOD|BOD012|UD0100", "HDS|BOD|BOD012|DD0100"},
	}
	for file, ids := range want {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		sts, warns, err := sqlmap.Parse("HDS/BOD/"+file, data)
		if err != nil || len(warns) > 0 {
			t.Fatalf("%s: err %v, warnings %v", file, err, warns)
		}
		var got []string
		for _, s := range sts {
			got = append(got, s.QueryID())
			if s.DataSourceID != "DB01" {
				t.Errorf("%s: datasource %q", s.QueryID(), s.DataSourceID)
			}
		}
		if strings.Join(got, ",") != strings.Join(ids, ",") {
			t.Errorf("%s: got %v, want %v", file, got, ids)
		}
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/parse/*.xml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`<mapper><commands><statement id="a" seq="0"><![CDATA[x]]><if test="a<b">y</if></statement>`))
	f.Add([]byte(`<<>>&amp;&#x41;&#0;</ </a x='1' y=2 z>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sts, _, err := sqlmap.Parse("A/P/T.xml", data)
		if err != nil && len(sts) > 0 {
			t.Fatalf("statements returned with error %v", err)
		}
		for _, s := range sts {
			if s.QueryID() == "" || s.ID == "" {
				t.Fatalf("statement without identity: %+v", s)
			}
		}
	})
}

func TestTruncatedFileFails(t *testing.T) {
	full := `<mapper><header><application>A</application><project>P</project><transaction>T</transaction><use>Y</use></header>
<commands><statement id="GD01" seq="0">SELECT 1</statement></commands></mapper>`
	if _, _, err := sqlmap.Parse("A/P/T.xml", []byte(full)); err != nil {
		t.Fatalf("complete file: %v", err)
	}
	for _, cut := range []int{20, 60, len(full) - 10, len(full) - 1} {
		_, _, err := sqlmap.Parse("A/P/T.xml", []byte(full[:cut]))
		if err == nil || !strings.Contains(err.Error(), "not closed") {
			t.Errorf("file cut at %d: err = %v, want an incomplete-file error", cut, err)
		}
	}
}
