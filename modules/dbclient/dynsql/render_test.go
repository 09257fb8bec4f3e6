package dynsql_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/ack-dev/ack/internal/dialect"
	"github.com/ack-dev/ack/internal/wire"
	"github.com/ack-dev/ack/modules/dbclient/dynsql"
	"github.com/ack-dev/ack/modules/dbclient/sqlmap"
)

var update = flag.Bool("update", false, "rewrite the want section of golden files")

// TestRenderGolden runs each testdata/*.txtar: the first statement of
// contract.xml with the String parameters of params.json, through Bind,
// Render and dialect.Compile (SQLite and PostgreSQL), compared with "want".
func TestRenderGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txtar")
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(f)
			if err != nil {
				t.Fatal(err)
			}
			sections := map[string][]byte{}
			for _, file := range ar.Files {
				sections[file.Name] = file.Data
			}
			got := run(t, sections["contract.xml"], sections["params.json"])
			if *update {
				var files []txtar.File
				for _, file := range ar.Files {
					if file.Name != "want" {
						files = append(files, file)
					}
				}
				ar.Files = append(files, txtar.File{Name: "want", Data: []byte(got)})
				if err := os.WriteFile(f, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if want := string(sections["want"]); got != want {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

var markerRE = regexp.MustCompile("\x00([0-9]+)\x00")

func run(t *testing.T, contract, paramsJSON []byte) string {
	t.Helper()
	sts, _, err := sqlmap.Parse("A/P/T.xml", contract)
	if err != nil || len(sts) == 0 {
		t.Fatalf("contract: %v (%d statements)", err, len(sts))
	}
	var raw map[string]any
	if err := json.Unmarshal(paramsJSON, &raw); err != nil {
		t.Fatalf("params.json: %v", err)
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var params []wire.DynamicParameter
	for _, k := range keys {
		params = append(params, wire.DynamicParameter{ParameterName: k, Value: raw[k], DbType: "String"})
	}
	var b strings.Builder
	vars, present, err := dynsql.Variables(params)
	if err != nil {
		return fmt.Sprintf("error: %v\n", err)
	}
	named, err := dynsql.Bind(sts[0], vars, present)
	if err != nil {
		return fmt.Sprintf("error: %v\n", err)
	}
	q, err := dynsql.Render(sts[0].Body, vars, named, sts[0].InlineValues)
	if err != nil {
		return fmt.Sprintf("error: %v\n", err)
	}
	fmt.Fprintf(&b, "sql: %s\n", markerRE.ReplaceAllString(strings.Join(strings.Fields(q.SQL), " "), "#$1"))
	fmt.Fprintf(&b, "values: %q\n", q.Values)
	names := make([]string, 0, len(named))
	for k := range named {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(&b, "named %s: %#v\n", k, named[k])
	}
	for _, p := range []dialect.Provider{dialect.SQLite, dialect.PostgreSQL} {
		cmds, err := dialect.Compile(p, q)
		if err != nil {
			fmt.Fprintf(&b, "%s: error: %v\n", p, err)
			continue
		}
		for _, c := range cmds {
			fmt.Fprintf(&b, "%s: %s %#v\n", p, strings.Join(strings.Fields(c.SQL), " "), c.Args)
		}
	}
	return b.String()
}

func TestVariables(t *testing.T) {
	vars, present, err := dynsql.Variables([]wire.DynamicParameter{
		{ParameterName: "S", Value: nil, DbType: "String"},
		{ParameterName: "N", Value: "12", DbType: "Number"},
		{ParameterName: "F", Value: 1.5, DbType: "Number"},
		{ParameterName: "B", Value: "Y", DbType: "Boolean"},
		{ParameterName: "I", Value: json.Number("9007199254740993"), DbType: "Int64"},
		{ParameterName: "A", Value: []any{"x", 1.0}, DbType: "String"},
		{ParameterName: "Z", Value: nil, DbType: "Int32"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"S": "", "N": int64(12), "F": 1.5, "B": true, "I": "9007199254740993", "A": `["x",1]`, "Z": nil}
	for k, v := range want {
		if fmt.Sprintf("%#v", vars[k]) != fmt.Sprintf("%#v", v) || !present[k] {
			t.Errorf("%s = %#v, want %#v", k, vars[k], v)
		}
	}
	if _, _, err := dynsql.Variables([]wire.DynamicParameter{{ParameterName: "X"}, {ParameterName: "X"}}); err == nil {
		t.Error("a duplicate parameter was accepted")
	}
}

func TestBindTypeErrors(t *testing.T) {
	for _, typ := range []string{"Int32", "Decimal", "Double", "Boolean", "DateTime", "Binary"} {
		st := &sqlmap.Statement{Params: []sqlmap.Param{{ID: "@X", Name: "X", Type: typ, Direction: "Input"}}}
		vars, present, _ := dynsql.Variables([]wire.DynamicParameter{{ParameterName: "X", Value: "not-a-value!"}})
		if _, err := dynsql.Bind(st, vars, present); err == nil {
			t.Errorf("%s accepted %q", typ, "not-a-value!")
		}
	}
}

func TestKnownTransform(t *testing.T) {
	if !dynsql.KnownTransform("@SUBSTRING|0|2") || !dynsql.KnownTransform("@foreach") || dynsql.KnownTransform("@NOPE") {
		t.Error("KnownTransform")
	}
}
