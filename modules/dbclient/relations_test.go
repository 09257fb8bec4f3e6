package dbclient

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCodeHelpParameters(t *testing.T) {
	vars, named := codeHelpParameters(" @GroupCode : SYS001 ;Empty:;Url:http://x;;bad")
	if named["GroupCode"] != "SYS001" || named["Url"] != "http://x" || named["Empty"] != "" || len(named) != 3 {
		t.Errorf("named %v", named)
	}
	if v, ok := vars["Empty"]; !ok || v != nil {
		t.Errorf("a blank value is null to expressions: %v", vars)
	}
}

func FuzzCodeHelpParameters(f *testing.F) {
	for _, s := range []string{"", "a:1;b:2", ":;:", "@x:y:z;;", "名:値"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		vars, named := codeHelpParameters(s)
		if len(vars) != len(named) {
			t.Fatalf("%q: %d variables, %d parameters", s, len(vars), len(named))
		}
		for name := range named {
			if name == "" || strings.ContainsAny(name[:1], "@:#$") {
				t.Fatalf("%q: parameter name %q", s, name)
			}
		}
	})
}

// FuzzXMLName checks that a column name becomes a name of XML 1.0 fifth
// edition characters and decodes back to itself.
func FuzzXMLName(f *testing.F) {
	for _, s := range []string{"ID", "1st", "a b", "_x0020_", "이름", "a:b", "ϸ", "x_x"} {
		f.Add(s)
	}
	escape := regexp.MustCompile(`_x([0-9A-F]{4}|[0-9A-F]{8})_`)
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" || !utf8.ValidString(s) {
			return
		}
		name := xmlName(s)
		for i, r := range name {
			if i == 0 && !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= 0x80) || r < 0x80 && !(r == '_' || r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
				t.Fatalf("%q -> %q holds %q", s, name, r)
			}
		}
		back := escape.ReplaceAllStringFunc(name, func(m string) string {
			n, _ := strconv.ParseUint(m[2:len(m)-1], 16, 32)
			return string(rune(n))
		})
		if back != s {
			t.Fatalf("%q -> %q -> %q", s, name, back)
		}
	})
}

func TestRelateKeepsUnrelatedSets(t *testing.T) {
	sets := []resultSet{{cols: []column{{name: "A"}}, rows: [][]any{{int64(1)}}}}
	out, err := relate(nil, sets)
	if err != nil || len(out) != 1 {
		t.Fatalf("relate(nil): %v %v", out, err)
	}
}
