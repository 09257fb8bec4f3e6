package wire_test

import (
	"encoding/json"
	"testing"

	"github.com/ack-dev/ack/internal/wire"
)

func TestLogMessageUnmarshalIgnoresCaseAndCoercesScalars(t *testing.T) {
	body := `{"applicationid":"HDS","GLOBALID":"G1","Acknowledge":1,"LogNo":"42",
		"Properties":{"a":[1, 2]},"Message":null,"Level":"D","Unknown":"x","recordID":"r-1"}`
	var m wire.LogMessage
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	want := wire.LogMessage{ApplicationID: "HDS", GlobalID: "G1", Acknowledge: "1", LogNo: 42,
		Properties: `{"a":[1,2]}`, Level: "D", RecordID: "r-1"}
	if m != want {
		t.Fatalf("got %+v\nwant %+v", m, want)
	}
}

func TestLogMessageRejectsBadLogNo(t *testing.T) {
	var m wire.LogMessage
	if err := json.Unmarshal([]byte(`{"LogNo":"abc"}`), &m); err == nil {
		t.Fatal("want an error for a non-numeric LogNo")
	}
	if err := json.Unmarshal([]byte(`{"LogNo":{}}`), &m); err == nil {
		t.Fatal("want an error for an object LogNo")
	}
}

func TestLogMessageSet(t *testing.T) {
	var m wire.LogMessage
	for k, v := range map[string]string{"APPLICATIONID": "HDS", "message": "hi", "logno": "7"} {
		ok, err := m.Set(k, v)
		if !ok || err != nil {
			t.Fatalf("Set(%q): ok=%v err=%v", k, ok, err)
		}
	}
	if ok, _ := m.Set("nope", "x"); ok {
		t.Fatal("Set accepted an unknown key")
	}
	if m.ApplicationID != "HDS" || m.Message != "hi" || m.LogNo != 7 {
		t.Fatalf("got %+v", m)
	}
}

func TestLogBatchAcceptsObjectOrArray(t *testing.T) {
	cases := []struct {
		name, body string
		want       int
	}{
		{"object", `{"ApplicationID":"A"}`, 1},
		{"array", ` [{"ApplicationID":"A"},{"applicationID":"B"}]`, 2},
		{"empty array", `[]`, 0},
		{"null", `null`, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b wire.LogBatch
			if err := json.Unmarshal([]byte(tc.body), &b); err != nil {
				t.Fatal(err)
			}
			if len(b) != tc.want {
				t.Fatalf("len = %d, want %d", len(b), tc.want)
			}
		})
	}
	var b wire.LogBatch
	if err := json.Unmarshal([]byte(`"text"`), &b); err == nil {
		t.Fatal("want an error for a string body")
	}
}

func TestLogBatchRoundTrip(t *testing.T) {
	in := wire.LogBatch{{ApplicationID: "A", RecordID: "1", ModuleID: "dbclient", Message: "m"}}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out wire.LogBatch
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0] != in[0] {
		t.Fatalf("round trip: %s -> %+v", data, out)
	}
}

func FuzzLogBatch(f *testing.F) {
	for _, s := range []string{
		`{"ApplicationID":"HDS","LogNo":1}`,
		`[{"applicationid":"x","Properties":{"k":[1]}},null]`,
		`{"LogNo":"9223372036854775808"}`,
		`[`, `null`, `""`, `{"Message":"\u00e9"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var b wire.LogBatch
		if err := json.Unmarshal(data, &b); err != nil {
			return
		}
		out, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("marshal after a successful unmarshal: %v", err)
		}
		var again wire.LogBatch
		if err := json.Unmarshal(out, &again); err != nil {
			t.Fatalf("re-unmarshal %s: %v", out, err)
		}
		if len(again) != len(b) {
			t.Fatalf("round trip changed the length: %d -> %d", len(b), len(again))
		}
	})
}
