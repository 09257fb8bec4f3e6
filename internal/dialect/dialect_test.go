package dialect_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/ack-dev/ack/internal/dialect"
)

func TestCompile(t *testing.T) {
	m0, m1 := dialect.Marker(0), dialect.Marker(1)
	named := map[string]any{"ID": "7", "Title": "t", "Ids": []any{"1", "2"}, "Empty": []any{}}
	cases := []struct {
		name string
		p    dialect.Provider
		sql  string
		vals []any
		want string // commands joined by " | ", each "SQL [args]"
	}{
		{"sqlite named", dialect.SQLite, "SELECT * FROM B WHERE ID = @ID AND T = :title OR X = @ID", nil,
			"SELECT * FROM B WHERE ID = ?1 AND T = ?2 OR X = ?1 [7 t]"},
		{"sqlite undeclared stays", dialect.SQLite, "SELECT @Other, @ID", nil, "SELECT @Other, ?1 [7]"},
		{"sqlite split", dialect.SQLite, "CREATE TABLE T(a); INSERT INTO T VALUES(@ID);\n-- done\n SELECT 'a;b' AS \"x;\", [c;] FROM T;", nil,
			"CREATE TABLE T(a); [] | INSERT INTO T VALUES(?1); [7] | -- done\n SELECT 'a;b' AS \"x;\", [c;] FROM T; []"},
		{"sqlite trailing comment only", dialect.SQLite, "SELECT 1; -- end", nil, "SELECT 1; []"},
		{"sqlite trigger", dialect.SQLite, "CREATE TRIGGER tr AFTER INSERT ON T BEGIN UPDATE T SET a = CASE WHEN 1 THEN 2 END; DELETE FROM U; END; SELECT 1;", nil,
			"CREATE TRIGGER tr AFTER INSERT ON T BEGIN UPDATE T SET a = CASE WHEN 1 THEN 2 END; DELETE FROM U; END; [] | SELECT 1; []"},
		{"sqlite markers", dialect.SQLite, "SELECT " + m0 + ", " + m1 + ", " + m0, []any{"a", "b"}, "SELECT ?1, ?2, ?1 [a b]"},
		{"marker in comment dropped", dialect.SQLite, "SELECT 1 /* " + m0 + " */", []any{"a"}, "SELECT 1 /*  */ []"},
		{"list expansion", dialect.SQLite, "SELECT 1 WHERE a IN @Ids AND b IN @Empty", nil, "SELECT 1 WHERE a IN (?1, ?2) AND b IN (NULL) [1 2]"},
		{"pg", dialect.PostgreSQL, "SELECT :ID::int, @Title, $$ @ID; $$, E'\\' @ID', a @> b; SELECT $tag$x$tag$", nil,
			"SELECT $1::int, $2, $$ @ID; $$, E'\\' @ID', a @> b; [7 t] | SELECT $tag$x$tag$ []"},
		{"pg case-insensitive", dialect.PostgreSQL, "SELECT :id", nil, "SELECT $1 [7]"},
		{"mysql", dialect.MySQL, "SELECT @@hostname, @ID, '\\' @ID', `@ID`, @ID; # @ID\nSELECT @var := 1;", nil,
			"SELECT @@hostname, ?, '\\' @ID', `@ID`, ?; # @ID\nSELECT @var := 1; [7 7]"},
		{"sqlserver", dialect.SQLServer, "DECLARE @x INT = @ID; SELECT @@SERVERNAME, [@ID], @x, @ID;", nil,
			"DECLARE @x INT = @p1; SELECT @@SERVERNAME, [@ID], @x, @p1; [7]"},
		{"oracle", dialect.Oracle, "SELECT :ID, :ID FROM dual; SELECT 1 FROM v$instance;", nil,
			"SELECT :1, :2 FROM dual [7 7] | SELECT 1 FROM v$instance []"},
		{"oracle plsql", dialect.Oracle, "BEGIN UPDATE T SET a = :ID; COMMIT; END;", nil, "BEGIN UPDATE T SET a = :1; COMMIT; END; [7]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmds, err := dialect.Compile(tc.p, dialect.Query{SQL: tc.sql, Values: tc.vals, Named: named})
			if err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, c := range cmds {
				parts = append(parts, fmt.Sprintf("%s %v", c.SQL, c.Args))
			}
			if got := strings.Join(parts, " | "); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestMarkerInString(t *testing.T) {
	for _, p := range []dialect.Provider{dialect.SQLite, dialect.PostgreSQL, dialect.MySQL, dialect.SQLServer, dialect.Oracle} {
		_, err := dialect.Compile(p, dialect.Query{SQL: "SELECT '%" + dialect.Marker(0) + "%'", Values: []any{"x"}})
		if !errors.Is(err, dialect.ErrMarkerInString) {
			t.Errorf("%s: err = %v, want ErrMarkerInString", p, err)
		}
	}
}

func TestParseProvider(t *testing.T) {
	for in, want := range map[string]dialect.Provider{"sqlite": dialect.SQLite, "SqlServer": dialect.SQLServer, " PostgreSQL ": dialect.PostgreSQL} {
		got, err := dialect.ParseProvider(in)
		if err != nil || got != want {
			t.Errorf("ParseProvider(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := dialect.ParseProvider("DB2"); err == nil {
		t.Error("ParseProvider(DB2) succeeded")
	}
}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		"SELECT @ID; SELECT ':ID'", "CREATE TRIGGER t BEGIN SELECT 1; END;", "$a$ x $a$ E'\\'' -- c\n /* @ID */",
		"`a` [b] \"c\" # d\n @@e", "BEGIN NULL; END;", "SELECT \x000\x00",
	} {
		f.Add(s)
	}
	named := map[string]any{"ID": int64(1), "L": []any{"a", "b"}}
	f.Fuzz(func(t *testing.T, sql string) {
		for _, p := range []dialect.Provider{dialect.SQLite, dialect.PostgreSQL, dialect.MySQL, dialect.SQLServer, dialect.Oracle} {
			cmds, err := dialect.Compile(p, dialect.Query{SQL: sql, Values: []any{"v"}, Named: named})
			if err != nil {
				continue
			}
			for _, c := range cmds {
				if strings.Contains(c.SQL, "\x00") {
					t.Fatalf("%s: marker left in %q", p, c.SQL)
				}
				if reflect.ValueOf(c.Args).Len() > 2*len(sql)+2 {
					t.Fatalf("%s: %d args from %d bytes", p, len(c.Args), len(sql))
				}
			}
		}
	})
}
