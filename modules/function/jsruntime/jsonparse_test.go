package jsruntime

import (
	"testing"

	"github.com/dop251/goja"
)

// sameAsJSONParse compares parseJSON with goja's JSON.parse on text: the
// same verdict, and for valid text the same value (types, -0, key order,
// prototypes), checked in JavaScript.
func sameAsJSONParse(t *testing.T, v *vm, equal goja.Callable, text string) {
	t.Helper()
	want, perr := v.parse(goja.Undefined(), v.rt.ToValue(text))
	got, ok := v.parseJSON(text)
	if !ok {
		return // JSON.parse decides, as in arguments()
	}
	if perr != nil {
		t.Fatalf("parseJSON took %q, which JSON.parse refuses: %v", text, perr)
	}
	same, err := equal(goja.Undefined(), got, want)
	if err != nil {
		t.Fatal(err)
	}
	if !same.ToBoolean() {
		t.Fatalf("%q: parseJSON and JSON.parse differ", text)
	}
}

func newTestVM(t testing.TB) (*vm, goja.Callable) {
	v, err := newVM(0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	eq, err := v.rt.RunString(`(function eq(a, b) {
	if (typeof a !== typeof b) return false;
	if (a === null || typeof a !== 'object') return Object.is(a, b);
	if (Array.isArray(a) !== Array.isArray(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
	var ka = Object.getOwnPropertyNames(a), kb = Object.getOwnPropertyNames(b);
	if (ka.length !== kb.length) return false;
	for (var i = 0; i < ka.length; i++) {
		if (ka[i] !== kb[i] || !eq(a[ka[i]], b[kb[i]])) return false;
		var da = Object.getOwnPropertyDescriptor(a, ka[i]), db = Object.getOwnPropertyDescriptor(b, kb[i]);
		if (da.writable !== db.writable || da.enumerable !== db.enumerable || da.configurable !== db.configurable) return false;
	}
	return true;
})`)
	if err != nil {
		t.Fatal(err)
	}
	fn, _ := goja.AssertFunction(eq)
	return v, fn
}

var jsonSeeds = []string{
	`["HDS|TST|FNT010|GF0100",[{"parameterName":"Name","value":"ack","dbType":"String","length":-1}],{"accessToken":"","loadOptions":{"a":"b"},"globalID":"G","environment":"D"}]`,
	`{}`, `[]`, ` [ 1 , -0 , 0.5 , 1e21 , 1E-7 , 12345678901234567890 , true , false , null ] `,
	`{"__proto__":{"x":1},"a":1,"a":2,"0":"zero","b":[{"c":[[]]}]}`,
	`"esc \" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00 \ud800"`, "\"bad \xff utf8\"", `"한글"`,
	`1e400`, `01`, `[1,]`, `{"a" 1}`, `"ctl ` + "\x01" + `"`, `nul`, `[1] x`, ``, `-`, `"\x"`,
}

func TestParseJSONMatchesJSONParse(t *testing.T) {
	v, eq := newTestVM(t)
	for _, s := range jsonSeeds {
		sameAsJSONParse(t, v, eq, s)
	}
	// The common case must take the fast path.
	if _, ok := v.parseJSON(jsonSeeds[0]); !ok {
		t.Errorf("parseJSON refused the arguments of a call")
	}
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add(s)
	}
	v, eq := newTestVM(f)
	f.Fuzz(func(t *testing.T, s string) { sameAsJSONParse(t, v, eq, s) })
}

func BenchmarkParseArguments(b *testing.B) {
	v, _ := newTestVM(b)
	text := jsonSeeds[0]
	b.Run("parseJSON", func(b *testing.B) {
		for b.Loop() {
			if _, ok := v.parseJSON(text); !ok {
				b.Fatal("refused")
			}
		}
	})
	b.Run("JSON.parse", func(b *testing.B) {
		for b.Loop() {
			if _, err := v.parse(goja.Undefined(), v.rt.ToValue(text)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
