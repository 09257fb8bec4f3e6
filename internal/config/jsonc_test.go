package config_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/ack-dev/ack/internal/config"
)

func TestStripJSONC(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"plain", `{"a": [1, 2]}`, `{"a": [1, 2]}`},
		{"line comment", "{\"a\": 1 // one\n}", "{\"a\": 1       \n}"},
		{"line comment at end", `{"a": 1} // end`, `{"a": 1}       `},
		{"block comment", `{/* c */"a": 1}`, `{       "a": 1}`},
		{"block comment keeps newlines", "{/* a\nb */\"a\": 1}", "{    \n    \"a\": 1}"},
		{"unterminated block comment", `{"a": 1} /* open`, `{"a": 1}        `},
		{"trailing comma in object", `{"a": 1,}`, `{"a": 1 }`},
		{"trailing comma in array", "[1, 2,\n]", "[1, 2 \n]"},
		{"trailing comma before a line comment", "[1, // c\n]", "[1      \n]"},
		{"trailing comma before a block comment", "[1, /* c */ ]", "[1          ]"},
		{"comment markers in strings", `{"u": "http://x/*y*/", "c": ","}`, `{"u": "http://x/*y*/", "c": ","}`},
		{"escaped quote in string", `{"a": "x\"// not a comment"}`, `{"a": "x\"// not a comment"}`},
		{"comma inside string before brace", `{"a": ",}"}`, `{"a": ",}"}`},
		{"lone slash", `{"a": 1 /}`, `{"a": 1 /}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(config.StripJSONC([]byte(tc.in)))
			if got != tc.want {
				t.Fatalf("StripJSONC(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestStripJSONCKeepsErrorLines(t *testing.T) {
	in := []byte("{\n  // a comment\n  /* and\n  another */\n  \"a\": 1,\n  \"b\": nope\n}")
	clean := config.StripJSONC(in)
	var v any
	err := json.Unmarshal(clean, &v)
	if err == nil {
		t.Fatal("decoded a broken document")
	}
	if line := config.JSONErrorLine(clean, err); line != 6 {
		t.Fatalf("error on line %d, want 6: %v", line, err)
	}
}

func TestStripJSONCDecodes(t *testing.T) {
	in := []byte(`{
  // HandStack writes comments like this
  "ModuleID": "dbclient", /* and like this */
  "List": [1, 2, 3,],
  "Nested": {"x": "a//b",},
}`)
	var got map[string]any
	if err := json.Unmarshal(config.StripJSONC(in), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"ModuleID": "dbclient", "List": []any{1.0, 2.0, 3.0}, "Nested": map[string]any{"x": "a//b"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func FuzzStripJSONC(f *testing.F) {
	for _, s := range []string{
		`{"a": 1}`, `{"a": [1, 2,], }`, "// c\n{}", `/* */`, `/*`, `"`, `"\`, `,`, `,]`, `, /* x */ }`,
		`{"u": "http://x"}`, "[1, // c\n]", `{"a": "\"/*"}`, "\xef\xbb\xbf{}", `[,]`, `*/`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out := config.StripJSONC(in)
		// Offsets and lines stay where they were, so that errors point right.
		if len(out) != len(in) {
			t.Fatalf("length %d → %d", len(in), len(out))
		}
		for i := range in {
			if (in[i] == '\n') != (out[i] == '\n') {
				t.Fatalf("newline moved at %d", i)
			}
		}
		// JSON without comments or trailing commas is left as it is.
		if json.Valid(in) {
			if !bytes.Equal(out, in) {
				t.Fatalf("valid JSON changed: %q → %q", in, out)
			}
			a, err := decode(in)
			if err != nil {
				t.Fatal(err)
			}
			b, err := decode(out)
			if err != nil {
				t.Fatalf("stripped JSON does not decode: %v", err)
			}
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("decodes to %v, want %v", b, a)
			}
		}
	})
}

// decode keeps numbers as written, so that any valid JSON decodes.
func decode(data []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	return v, err
}
