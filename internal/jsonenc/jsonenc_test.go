package jsonenc_test

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/ack-dev/ack/internal/jsonenc"
)

// same checks that jsonenc writes v exactly as encoding/json does.
func same(t *testing.T, v any) {
	t.Helper()
	want, werr := json.Marshal(v)
	got, gerr := jsonenc.Value(nil, v)
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("%#v: error %v, encoding/json %v", v, gerr, werr)
	}
	if werr == nil && string(got) != string(want) {
		t.Fatalf("%#v: got %s, encoding/json %s", v, got, want)
	}
}

func TestValueMatchesEncodingJSON(t *testing.T) {
	for _, v := range []any{
		nil, "", "plain", `q"b\s`, "<a href='x'>&</a>", "\x00\x01\x1f\x7f", "\b\f\n\r\t", "한글 확인", "\u2028\u2029",
		"bad \xff utf8 \xe2\x82", true, false, int64(0), int64(-9223372036854775808), 42, int32(-7), uint64(18446744073709551615),
		0.0, math.Copysign(0, -1), 1.5, -0.1, 1e-7, 1e20, 1e21, 123456789.125, math.MaxFloat64, math.SmallestNonzeroFloat64, 5e-324,
		float32(1.1), float32(1e-7), float32(3e38), math.NaN(), math.Inf(1), float32(math.Inf(-1)),
		json.Number("12.50"), json.Number(""), json.Number("-0"), json.Number("1e5"), json.Number("01"), json.Number("1."), json.Number("x"),
		json.RawMessage(`{"a":1}`), json.RawMessage(nil), []any{1, "x"}, map[string]any{"b": 1, "a": 2},
	} {
		same(t, v)
	}
}

func FuzzString(f *testing.F) {
	for _, s := range []string{"", "a<b>&c", "\u2028", "\xff", "\"\\\n", "확인"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { same(t, s) })
}

func FuzzFloat(f *testing.F) {
	for _, v := range []float64{0, 1, -1.5, 1e-6, 9.999999e-7, 1e21, 1e300, 123.456} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		same(t, v)
		same(t, float32(v))
	})
}

func FuzzNumber(f *testing.F) {
	for _, s := range []string{"0", "-1.5e+10", "1E5", "00", "-", "1.e3", ".5", "12"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		same(t, json.Number(s))
		// A valid JSON text that starts with '-' or a digit and ends with a
		// digit is a number and nothing else.
		want := json.Valid([]byte(s)) && s != "" && (s[0] == '-' || s[0] >= '0' && s[0] <= '9') && s[len(s)-1] >= '0' && s[len(s)-1] <= '9'
		if got := jsonenc.ValidNumber(s); got != want {
			t.Errorf("ValidNumber(%q) = %v, want %v", s, got, want)
		}
	})
}
