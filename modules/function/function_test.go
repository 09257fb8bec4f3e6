package function_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/internal/wire"
	"github.com/ack-dev/ack/modules/function"
)

// jsf010Main is a featureMain.js in HandStack's style for the JSF010
// fixture: the callback form (GF01) and the async form (GF02, same params).
const jsf010Main = `var fs = require('fs');
var syn = require('syn');

module.exports = {
    GF01: (callback, moduleID, parameters, dataContext) => {
        var serverDate = $array.getValue(parameters, 'ServerDate');
        var serverName = $array.getValue(parameters, 'ServerName');
        callback(null, {
            DataTable1: [{ FunctionResult: 'moduleID: ' + moduleID + ', serverDate: ' + serverDate + ', serverName: ' + serverName + ', globalID: ' + $array.getValue(parameters, 'GlobalID') }]
        });
    },
    GF02: async (moduleID, parameters, dataContext) => {
        return { DataTable1: [{ App: dataContext.featureMeta.applicationID, Sources: dataContext.featureMeta.dataSourceID, Provider: dataContext.dataProvider || '' }] };
    }
};
`

func fixtureHome(t *testing.T) string {
	meta, err := os.ReadFile(acktest.Shared(t, "fixtures/handstack/home/contracts/function/HDS/TST/JSF010/featureMeta.json"))
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	// GF02 reuses the fixture's command with another ID, for the async form.
	var doc map[string]any
	if err := json.Unmarshal(meta, &doc); err != nil {
		t.Fatal(err)
	}
	cmds := doc["Commands"].([]any)
	second := map[string]any{}
	for k, v := range cmds[0].(map[string]any) {
		second[k] = v
	}
	second["ID"] = "GF02"
	doc["Commands"] = append(cmds, second)
	meta2, _ := json.Marshal(doc)
	write(t, home, map[string]string{
		"contracts/function/HDS/TST/JSF010/featureMeta.json": string(meta),
		"contracts/function/HDS/TST/JSF010/featureMain.js":   jsf010Main,
		"contracts/function/HDS/TST/JSF011/featureMeta.json": strings.ReplaceAll(string(meta2), "JSF010", "JSF011"),
		"contracts/function/HDS/TST/JSF011/featureMain.js":   jsf010Main,
	})
	return home
}

func TestJSF010Fixture(t *testing.T) {
	home := fixtureHome(t)
	h := startHost(t, home, map[string]any{"FunctionSource": []map[string]any{
		{"ApplicationID": "HDS", "ProjectID": "*", "DataSourceID": "FN01", "DataProvider": "SQLite", "ConnectionString": "URI=file:x.db"},
	}})

	resp := execute(t, h, "HDS|TST|JSF010|GF0100", map[string]any{"ServerDate": "2024-01-02", "ServerName": "ack", "Extra": "dropped"})
	mustOK(t, resp)
	want := `[{"ID":"FormData0","Value":{"FunctionResult":"moduleID: HDS|TST|JSF010|GF0100, serverDate: 2024-01-02, serverName: ack, globalID: G1"}}]`
	if string(resp.ResultJSON) != want {
		t.Fatalf("ResultJson = %s\nwant %s", resp.ResultJSON, want)
	}
	if len(resp.ResultMeta) != 1 || resp.ResultMeta[0] != "FunctionResult:string;" || resp.CorrelationID != "G1" {
		t.Fatalf("meta %v, correlation %q", resp.ResultMeta, resp.CorrelationID)
	}

	resp = execute(t, h, "HDS|TST|JSF011|GF0200", map[string]any{"ServerDate": "d", "ServerName": "n"})
	mustOK(t, resp)
	if want := `[{"ID":"FormData0","Value":{"App":"HDS","Sources":"FN01, FN02, FN04","Provider":"SQLite"}}]`; string(resp.ResultJSON) != want {
		t.Fatalf("async form: %s", resp.ResultJSON)
	}

	// A declared parameter missing from the request fails the request.
	mustFail(t, execute(t, h, "HDS|TST|JSF010|GF0100", map[string]any{"ServerDate": "d"}), "function.parameter", "ServerName")
	mustFail(t, execute(t, h, "HDS|TST|JSF010|GF0900", nil), "function.not_found", "FunctionID - HDS|TST|JSF010|GF0900")
	// has and meta.
	var has bool
	acktest.ReadJSON(t, h.Get(t, "/function/api/execution/has?applicationID=HDS&projectID=TST&transactionID=JSF010&functionID=GF0100"), &has)
	if !has {
		t.Fatal("has = false")
	}
	var keys []string
	acktest.ReadJSON(t, h.Get(t, "/function/api/execution/meta"), &keys)
	if strings.Join(keys, ",") != "HDS|TST|JSF010|GF0100,HDS|TST|JSF011|GF0100,HDS|TST|JSF011|GF0200" {
		t.Fatalf("meta = %v", keys)
	}
}

const xmlContract = `<?xml version="1.0" encoding="UTF-8"?>
<mapper xmlns="contract.xsd">
    <header>
        <application>HDS</application>
        <project>TST</project>
        <transaction>JSF020</transaction>
        <datasource>FN01</datasource>
        <language>javascript</language>
        <use>Y</use>
        <desc>single file</desc>
    </header>
    <script><![CDATA[
var syn = require('syn');
module.exports = {
    GF01: (callback, moduleID, parameters) => {
        callback(null, { DataTable1: [{ Echo: $array.getValue(parameters, 'Name'), Default: $array.getValue(parameters, 'Kind') }] });
    }
};
    ]]></script>
    <commands>
        <command id="GF01" seq="0" use="Y" timeout="0" desc="echo">
            <param id="Name" type="String" length="0" value="NULL" />
            <param id="@Kind" type="String" length="10" value="basic" />
        </command>
    </commands>
</mapper>
`

func TestSingleFileXML(t *testing.T) {
	home := t.TempDir()
	write(t, home, map[string]string{"contracts/function/HDS/TST/JSF020.xml": xmlContract})
	h := startHost(t, home, nil)
	resp := execute(t, h, "HDS|TST|JSF020|GF0100", map[string]any{"Name": "x", "Kind": nil})
	mustOK(t, resp)
	if want := `[{"ID":"FormData0","Value":{"Echo":"x","Default":"basic"}}]`; string(resp.ResultJSON) != want {
		t.Fatalf("got %s", resp.ResultJSON)
	}
	// A syntax error in the script points at its line in the XML file.
	write(t, home, map[string]string{"contracts/function/HDS/TST/JSF021.xml": strings.Replace(strings.ReplaceAll(xmlContract, "JSF020", "JSF021"), "callback(null, {", "callback(null, {{", 1)})
	h.Get(t, "/function/api/execution/refresh?changeType=Created&filePath=HDS/TST/JSF021.xml").Body.Close()
	st := status(t, h)
	if len(st) != 1 || !strings.HasSuffix(st[0].Path, "JSF021.xml") || st[0].Line != 16 {
		t.Fatalf("errors = %+v, want JSF021.xml line 16", st)
	}
}

// status returns the function store's failing files.
func status(t *testing.T, h *acktest.Host) []struct {
	Path    string
	Line    int
	Message string
} {
	t.Helper()
	for _, s := range h.Host.Contracts().Handles() {
		if s.Name() == "function" {
			var out []struct {
				Path    string
				Line    int
				Message string
			}
			for _, e := range s.Status().Errors {
				out = append(out, struct {
					Path    string
					Line    int
					Message string
				}{e.Path, e.Line, e.Message})
			}
			return out
		}
	}
	t.Fatal("no function store")
	return nil
}

const behaviourMeta = `{
  "Header": { "ApplicationID": "HDS", "ProjectID": "TST", "TransactionID": "BEH010", "DataSourceID": "", "LanguageType": "javascript", "Use": true },
  "Commands": [
    { "ID": "LOOP", "Seq": 0, "Timeout": 1, "Params": [] },
    { "ID": "THROW", "Seq": 0, "Params": [] },
    { "ID": "CBERR", "Seq": 0, "Params": [] },
    { "ID": "TABLES", "Seq": 0, "Params": [] },
    { "ID": "TABLES", "Seq": 1, "Params": [ { "id": "Code", "type": "String" } ] },
    { "ID": "TEXT", "Seq": 0, "Params": [] },
    { "ID": "NOTTABLES", "Seq": 0, "Params": [] },
    { "ID": "OK", "Seq": 0, "Params": [] },
  ]
}`

const behaviourMain = `module.exports = {
    LOOP: (callback) => { for (;;) {} },
    THROW: async () => { throw new Error('Name must not be empty'); },
    CBERR: (callback) => { callback('callback says no'); },
    TABLES: async (moduleID, parameters) => ({
        Form: [{ Code: 'A', Count: 3, Rate: 1.5, Ok: true, At: '2024-03-01T10:20:30' }],
        Grid: [{ Code: 'A', Name: 'one' }, { Code: 'B', Extra: 2 }],
        Chart: [{ Label: 'x', V1: 1, V2: 2 }],
        Set: [{ Code: $array.getValue(parameters, 'Code', 'none') }],
        Messages: [{ MessageCode: 'I01', MessageText: 'saved' }],
        Dyn: [{ Z: 1 }]
    }),
    TEXT: async () => '{"T":[{"A":1}]}',
    NOTTABLES: async () => [1, 2, 3],
    OK: (callback) => callback(null, { T: [{ A: 1 }] })
};`

func TestBehaviour(t *testing.T) {
	home := t.TempDir()
	write(t, home, map[string]string{
		"contracts/function/HDS/TST/BEH010/featureMeta.json": behaviourMeta,
		"contracts/function/HDS/TST/BEH010/featureMain.js":   behaviourMain,
	})
	h := startHost(t, home, nil)

	t.Run("errors", func(t *testing.T) {
		mustFail(t, execute(t, h, "HDS|TST|BEH010|THROW00", nil), "function.failed", "GlobalID: G1, QueryID: HDS|TST|BEH010|THROW00, Exception: 'Name must not be empty'")
		mustFail(t, execute(t, h, "HDS|TST|BEH010|CBERR00", nil), "function.failed", "'callback says no'")
		mustFail(t, execute(t, h, "HDS|TST|BEH010|NOTTABLES00", nil), "function.invalid_result", "not a JSON object of tables")
		mustFail(t, execute(t, h, "HDS|TST|BEH010|OK00", nil, func(r *wire.DynamicRequest) { r.ReturnType = wire.ReturnScalar }), "function.unsupported_return_type", "지원하지 않는 결과 타입")
	})

	t.Run("timeout stops the code and spares other calls", func(t *testing.T) {
		var wg sync.WaitGroup
		var loop *wire.DynamicResponse
		wg.Go(func() { loop = execute(t, h, "HDS|TST|BEH010|LOOP00", nil) })
		for range 20 {
			mustOK(t, execute(t, h, "HDS|TST|BEH010|OK00", nil))
		}
		wg.Wait()
		mustFail(t, loop, "function.timeout", "TimeoutException - '1000' 실행 시간 초과")
	})

	t.Run("shapes", func(t *testing.T) {
		req := request("HDS|TST|BEH010|TABLES00", nil)
		req.DynamicObjects[0].JSONObjects = []wire.JSONObjectType{wire.FormJSON, wire.GridJSON, wire.ChartJSON, wire.DataSetJSON, wire.AdditionJSON, wire.DynamicJSON}
		resp := post(t, h, req)
		mustOK(t, resp)
		want := `[{"ID":"FormData0","Value":{"Code":"A","Count":3,"Rate":1.5,"Ok":true,"At":"2024-03-01T10:20:30"}},` +
			`{"ID":"GridData1","Value":[{"Code":"A","Name":"one","Extra":null},{"Code":"B","Name":null,"Extra":2}]},` +
			`{"ID":"ChartData2","Value":[{"name":"x","data":[1,2]}]},` +
			`{"ID":"DataSetData3","Value":[{"Code":"none"}]},` +
			`{"ID":"AdditionalData","Value":[{"MessageCode":"I01","MessageText":"saved"}]}]`
		if string(resp.ResultJSON) != want {
			t.Fatalf("ResultJson\n got %s\nwant %s", resp.ResultJSON, want)
		}
		wantMeta := "Code:string;Count:number;Rate:numeric;Ok:bool;At:date;|Code:string;Name:string;Extra:number;|Label:string;V1:number;V2:number;|Code:string;"
		if got := strings.Join(resp.ResultMeta, "|"); got != wantMeta {
			t.Fatalf("ResultMeta\n got %s\nwant %s", got, wantMeta)
		}
	})

	t.Run("BaseFieldMappings and IgnoreResult", func(t *testing.T) {
		req := request("HDS|TST|BEH010|TABLES00", nil)
		req.DynamicObjects[0].IgnoreResult = true
		second := request("HDS|TST|BEH010|TABLES01", map[string]any{"Code": "?"}).DynamicObjects[0]
		second.BaseFieldMappings = []wire.BaseFieldMapping{{SourceFieldID: "Code", TargetFieldID: "Code"}}
		second.JSONObject = wire.GridJSON
		second.JSONObjects = nil
		req.DynamicObjects = append(req.DynamicObjects, second)
		resp := post(t, h, req)
		mustOK(t, resp)
		if !strings.Contains(string(resp.ResultJSON), `{"ID":"GridData3","Value":[{"Code":"A"}]}`) || strings.Contains(string(resp.ResultJSON), "FormData") {
			t.Fatalf("got %s", resp.ResultJSON)
		}
	})

	t.Run("DynamicJson passes the text", func(t *testing.T) {
		resp := execute(t, h, "HDS|TST|BEH010|TEXT00", nil, func(r *wire.DynamicRequest) { r.ReturnType = wire.ReturnDynamicJSON })
		mustOK(t, resp)
		if want := `"{\"T\":[{\"A\":1}]}"`; string(resp.ResultJSON) != want {
			t.Fatalf("got %s, want %s", resp.ResultJSON, want)
		}
	})
}

func TestReload(t *testing.T) {
	home := t.TempDir()
	meta := `{"Header":{"ApplicationID":"HDS","ProjectID":"TST","TransactionID":"REL010","LanguageType":"javascript","Use":true},"Commands":[{"ID":"GF01","Seq":0}]}`
	main := filepath.Join(home, "contracts/function/HDS/TST/REL010/featureMain.js")
	write(t, home, map[string]string{
		"contracts/function/HDS/TST/REL010/featureMeta.json": meta,
		"contracts/function/HDS/TST/REL010/featureMain.js":   `module.exports = { GF01: (cb) => cb(null, { T: [{ V: 'one' }] }) };`,
	})
	h := startHost(t, home, nil)
	value := func() string {
		resp := execute(t, h, "HDS|TST|REL010|GF0100", nil)
		mustOK(t, resp)
		return string(resp.ResultJSON)
	}
	if v := value(); !strings.Contains(v, `"V":"one"`) {
		t.Fatalf("first: %s", v)
	}
	if err := os.WriteFile(main, []byte(`module.exports = { GF01: (cb) => cb(null, { T: [{ V: 'two' }] }) };`), 0o644); err != nil {
		t.Fatal(err)
	}
	acktest.Eventually(t, 10*time.Second, "the edit is served", func() bool { return strings.Contains(value(), `"V":"two"`) })

	// A syntax error keeps the last good version serving, with the error reported.
	if err := os.WriteFile(main, []byte("module.exports = {\n  GF01: (cb) => cb(null, { T: [{ V: 'three' ] })\n};"), 0o644); err != nil {
		t.Fatal(err)
	}
	acktest.Eventually(t, 10*time.Second, "the syntax error is reported", func() bool { return len(status(t, h)) == 1 })
	if st := status(t, h)[0]; st.Line != 2 || !strings.Contains(st.Message, "featureMain.js:2") {
		t.Fatalf("error = %+v", st)
	}
	if v := value(); !strings.Contains(v, `"V":"two"`) {
		t.Fatalf("after a syntax error: %s", v)
	}
	// A new command in featureMeta.json is served next.
	write(t, home, map[string]string{"contracts/function/HDS/TST/REL010/featureMain.js": `module.exports = { GF01: (cb) => cb(null, { T: [{ V: 'four' }] }), GF02: async () => ({ T: [{ V: 'new' }] }) };`,
		"contracts/function/HDS/TST/REL010/featureMeta.json": strings.Replace(meta, `{"ID":"GF01","Seq":0}`, `{"ID":"GF01","Seq":0},{"ID":"GF02","Seq":0}`, 1)})
	h.Get(t, "/function/api/execution/refresh?changeType=Changed&filePath=HDS/TST/REL010/featureMeta.json").Body.Close()
	resp := execute(t, h, "HDS|TST|REL010|GF0200", nil)
	mustOK(t, resp)
	if !strings.Contains(string(resp.ResultJSON), `"V":"new"`) || !strings.Contains(value(), `"V":"four"`) {
		t.Fatalf("after refresh: %s", resp.ResultJSON)
	}
}

func TestCSharpAndPythonAreDiagnosed(t *testing.T) {
	home := t.TempDir()
	write(t, home, map[string]string{
		"contracts/function/HDS/TST/CSF010/featureMeta.json": `{"Header":{"ApplicationID":"HDS","ProjectID":"TST","TransactionID":"CSF010","LanguageType":"csharp","Use":true},"Commands":[{"ID":"GF01","Seq":0}]}`,
		"contracts/function/HDS/TST/CSF010/featureMain.cs":   `namespace HDS.Function.TST { public class CSF010 {} }`,
		"contracts/function/HDS/TST/PYF020.xml":              `<mapper><header><language>python</language><use>Y</use></header><script>def f(): pass</script><commands><command id="GF01" seq="0"/></commands></mapper>`,
	})
	h := startHost(t, home, nil)
	mustFail(t, execute(t, h, "HDS|TST|CSF010|GF0100", nil), "function.unsupported_language", "C# function")
	mustFail(t, execute(t, h, "HDS|TST|PYF020|GF0100", nil), "function.unsupported_language", "Python function")

	// What `ack check` reports, on a host that is only provisioned.
	diags := acktest.Check(t, acktest.Options{Home: home, Modules: []module.Info{function.Info()}})
	var got []string
	for _, d := range diags {
		got = append(got, filepath.Base(d.File)+": "+d.Message)
	}
	joined := strings.Join(got, "\n")
	for _, want := range []string{"featureMain.cs: HDS|TST|CSF010 is a C# function", "PYF020.xml: HDS|TST|PYF020 is a Python function"} {
		if !strings.Contains(joined, want) {
			t.Errorf("diagnostics lack %q:\n%s", want, joined)
		}
	}
}
