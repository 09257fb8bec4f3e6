package sqlexpr_test

import (
	"strings"
	"testing"

	"github.com/ack-dev/ack/modules/dbclient/sqlexpr"
)

func TestTest(t *testing.T) {
	vars := sqlexpr.Env{
		"Flag": "U", "Empty": "", "Num": "5", "N": int64(3), "NumNull": nil,
		"$UserNo": "42", "#TenantID": "T1", "TOKEN": "a", "TOKEN_ID": "b", "Title": "It's",
	}
	cases := []struct {
		expr string
		want bool
	}{
		{"(Flag == 'U')", true},
		{"(Flag == 'C')", false},
		{"Flag = 'U'", true},
		{"Flag <> 'U'", false},
		{"Flag != 'U' or Empty == ''", true},
		{"Flag == 'U' and Empty != ''", false},
		{"Flag == 'U' && not (Empty != '')", true},
		{"!(Flag == 'U')", false},
		{"Empty != null", true},     // a string variable is never null
		{"Missing == null", true},   // a missing identifier is null
		{"Missing != ''", false},    // null against a string compares as ""
		{"NumNull != ''", false},    // same for a null value
		{"Num > 3", true},           // numeric string against a number
		{"N ge 3 && N lt 4", true},  // word operators
		{"N + 1 == 4", true},        // arithmetic
		{"N mod 2 == 1", true},      //
		{"5L > 4", true},            // .NET suffix
		{"$UserNo == '42'", true},   // bearer variable
		{"#TenantID == 'T1'", true}, // claim variable, # read as $
		{"TOKEN_ID == 'b'", true},   // no prefix confusion (HandStack bug)
		{"Flag == 'Flag'", false},   // names inside literals stay literals
		{"Title == 'It''s'", true},  // doubled quote inside a literal
		{`Title == "It's"`, true},   // double-quoted literal
		{"Title.Contains('t')", true},
		{"Title.StartsWith('It')", true},
		{"Title.ToUpper() == 'IT''S'", true},
		{"Title.Length == 4", true},
		{"Title.Substring(1, 2) == 't'''", true},
		{"string.IsNullOrEmpty(Empty)", true},
		{"String.IsNullOrWhiteSpace(Flag)", false},
		{"iif(Flag == 'U', 1, 2) == 1", true},
		{"Flag == 'U' ? true : false", true},
		{"Missing", false}, // null as a condition is false
		{"true", true},
		{"null == null", true},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			p, err := sqlexpr.Compile(tc.expr)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			got, err := p.Test(vars)
			if err != nil {
				t.Fatalf("Test: %v", err)
			}
			if got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestValue(t *testing.T) {
	vars := sqlexpr.Env{"Keyword": "pen", "END_DT": "2024-01-31", "N": int64(2), "B": true}
	cases := []struct{ expr, want string }{
		{"'%' + Keyword + '%'", "%pen%"},
		{"END_DT + ' 23:59:59'", "2024-01-31 23:59:59"},
		{"'%' + Missing + '%'", "%%"},
		{"N * 2", "4"},
		{"N / 4", "0.5"},
		{"'n=' + N", "n=2"},
		{"B", "True"},
	}
	for _, tc := range cases {
		p, err := sqlexpr.Compile(tc.expr)
		if err != nil {
			t.Fatalf("%s: Compile: %v", tc.expr, err)
		}
		got, err := p.Value(vars)
		if err != nil {
			t.Fatalf("%s: Value: %v", tc.expr, err)
		}
		if got != tc.want {
			t.Errorf("%s = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	for _, src := range []string{
		"", "   ", "Flag ==", "'unterminated", "Flag.Foo()", "Flag.Bar", "foo(1)",
		"[1, 2]", "{a: 1}", "Flag matches 'x'", "$env", "`raw`", strings.Repeat("a", sqlexpr.MaxLength+1),
		"string.Format('x')", "iif(1, 2)",
	} {
		if _, err := sqlexpr.Compile(src); err == nil {
			t.Errorf("Compile(%q) succeeded, want an error", src)
		}
	}
}

func TestRuntimeErrors(t *testing.T) {
	for _, src := range []string{"Flag", "Flag > 1", "1 / 0", "Flag - 1", "Flag.Substring(5)"} {
		p, err := sqlexpr.Compile(src)
		if err != nil {
			t.Fatalf("Compile(%q): %v", src, err)
		}
		if _, err := p.Test(sqlexpr.Env{"Flag": "x"}); err == nil {
			t.Errorf("Test(%q) succeeded, want an error", src)
		}
	}
}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		"(Flag == 'U')", "a != '' and b == 'c'", "x.Contains('y') || #c == $d", "iif(a, 'b', \"c\")",
		"'%' + K + '%'", "n ge 5L", "string.IsNullOrEmpty(x)", "a ? b : c", "-x * 2 mod 3", "'it''s'",
	} {
		f.Add(s)
	}
	vars := sqlexpr.Env{"a": "", "b": "c", "x": "xyz", "n": int64(5), "K": "k"}
	f.Fuzz(func(t *testing.T, src string) {
		p, err := sqlexpr.Compile(src)
		if err != nil {
			return
		}
		_, _ = p.Test(vars)
		_, _ = p.Value(vars)
	})
}
