package wire

import (
	"encoding/json"
	"reflect"
	"testing"
)

// browserBody is what syn.js sends for a list transaction.
const browserBody = `{"accessToken":"","action":"SYN","kind":"BIZ","clientTag":"HANDSTACK|WebClient|ack|D",
"loadOptions":{"encryptionType":"P","encryptionKey":"G","platform":"Win32","n":12,"b":true,"z":null},
"requestID":"R1","version":"001","environment":"D",
"system":{"programID":"HDS","moduleID":"wwwroot","version":"1.0.0","routes":[{"systemID":"HANDSTACK","requestTick":1741750512000,"acceptTick":"0","responseTick":null}],"localeID":"ko-KR","hostName":"localhost","pathName":"/view/x.html"},
"interface":{"devicePlatform":"browser","interfaceID":"WEB","sourceIP":"10.0.0.7","sourcePort":0,"sourceMAC":"","connectionType":"4g","timeout":180000},
"transaction":{"globalID":"G-1","businessID":"BOD","transactionID":"BOD010","functionID":"LD01","commandType":"D","simulationType":"P","terminalGroupID":"|","operatorID":"","screenID":"BOD010","startTraceID":"","dataFormat":"J","compressionYN":"N"},
"payLoad":{"property":{},"dataMapInterface":"Row|Grid","dataMapCount":[1],"dataMapSet":[[{"id":"Title","value":""},{"id":"Category","value":"정보"},{"id":"N","value":12.5},{"id":"Q","value":"a\"b\u00e9"}]],"dataMapSetRaw":[]},
"unknown":{"x":[1,{"y":null}]}}`

// decodeBoth decodes data with UnmarshalTransactionRequest and with
// encoding/json, which must agree on the error and the value; fast tells
// whether the one-pass path took it.
func decodeBoth(t *testing.T, data []byte) (fast bool) {
	t.Helper()
	var want, got TransactionRequest
	werr := json.Unmarshal(data, &want)
	var fastReq TransactionRequest
	d := decoder{s: data}
	fast = d.transactionRequest(&fastReq)
	if fast {
		d.space()
		fast = d.i == len(d.s)
	}
	gerr := UnmarshalTransactionRequest(data, &got)
	if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
		t.Fatalf("%q: error %v, encoding/json %v", data, gerr, werr)
	}
	if fast && werr != nil {
		t.Fatalf("%q: one-pass decoder took a body encoding/json refuses: %v", data, werr)
	}
	if werr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got %+v\nwant %+v", data, got, want)
	}
	if fast && !reflect.DeepEqual(fastReq, want) {
		t.Fatalf("%q: one-pass\n got %+v\nwant %+v", data, fastReq, want)
	}
	return fast
}

var requestSeeds = []string{
	browserBody,
	`{}`, `null`, `[]`, `{"system":null,"payLoad":{"dataMapSet":null,"dataMapCount":[null,"2"," 3 "],"property":null}}`,
	`{"ACTION":"x","Action":"y"}`, `{"system":{"routes":[null,{}]},"SYSTEM":{}}`, `{"payload":{"datamapset":[[null],[],null]}}`,
	`{"action":12.50,"kind":true,"clientTag":null,"version":{}}`, `{"loadOptions":{"a":{}}}`, `{"loadOptions":"x"}`, `{"loadOptions":{"a":"1","a":"2"}}`,
	`{"system":{"routes":[{"requestTick":1.5}]}}`, `{"interface":{"timeout":"x"}}`, `{"transaction":"x"}`,
	`{"\u0061ction":"esc key","K` + "\u212a" + `":"kelvin"}`, `{"action":"` + "\xff" + `"}`, `{"action":"a` + "\x01" + `"}`,
	`{"action":"x"} trailing`, `{"action":"x",}`, `{"payLoad":{"property":{"a": [1, 2 ]}}}`, `{"a":01}`, `{"a":-}`, `{"a":tru}`,
	` { "action" : "spaced" } `, `{"payLoad":{"dataMapSet":[[{"id":7,"value":null,"ID":"dup"}]]}}`,
}

func TestUnmarshalTransactionRequest(t *testing.T) {
	for _, s := range requestSeeds {
		decodeBoth(t, []byte(s))
	}
	if !decodeBoth(t, []byte(browserBody)) {
		t.Errorf("the browser's body did not take the one-pass path")
	}
}

func FuzzUnmarshalTransactionRequest(f *testing.F) {
	for _, s := range requestSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { decodeBoth(t, []byte(s)) })
}

func BenchmarkUnmarshalTransactionRequest(b *testing.B) {
	data := []byte(browserBody)
	b.Run("one-pass", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r TransactionRequest
			if err := UnmarshalTransactionRequest(data, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r TransactionRequest
			if err := json.Unmarshal(data, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
