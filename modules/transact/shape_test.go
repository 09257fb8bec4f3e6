package transact

import (
	"encoding/json"
	"reflect"
	"testing"
)

func FuzzScanItems(f *testing.F) {
	f.Add(`[{"id":"FormData0","value":{"a":"x\"}"}},{"ID":"GridData1","value":[1,2,{"b":[]}]}]`)
	f.Add(`[ { "value" : 1 , "id" : "X" } ]`)
	f.Add(`[{"id":"A","value":"s"},{"id":"B","value":null,"extra":true}]`)
	f.Add(`[]`)
	f.Add(`[{"id":"a\u0041","value":1}]`)
	f.Fuzz(func(t *testing.T, src string) {
		if !json.Valid([]byte(src)) {
			return // module results are valid JSON by construction
		}
		var want []resultItem
		wantErr := json.Unmarshal([]byte(src), &want)
		got, ok := scanItems([]byte(src))
		if !ok {
			return // the slow path decides
		}
		if wantErr != nil {
			t.Fatalf("fast path accepted what encoding/json refuses: %v", wantErr)
		}
		if len(got) != len(want) {
			t.Fatalf("%d items, want %d", len(got), len(want))
		}
		for i := range got {
			if got[i].ID != want[i].ID || !jsonEqual(got[i].Value, want[i].Value) {
				t.Fatalf("item %d: %q %s, want %q %s", i, got[i].ID, got[i].Value, want[i].ID, want[i].Value)
			}
			var list []json.RawMessage
			if json.Unmarshal(want[i].Value, &list) == nil && list != nil && valueCount(got[i].Value) != len(list) {
				t.Fatalf("valueCount %d, want %d", valueCount(got[i].Value), len(list))
			}
		}
	})
}

func jsonEqual(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}
