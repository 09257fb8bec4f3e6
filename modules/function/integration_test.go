package function_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/wire"
	"github.com/ack-dev/ack/modules/dbclient"
	"github.com/ack-dev/ack/modules/function"
	"github.com/ack-dev/ack/modules/transact"
)

const greetStatement = `<mapper><header><application>HDS</application><project>TST</project><transaction>FND010</transaction>
<datasource>DB01</datasource><use>Y</use></header><commands>
<statement id="GD01" seq="0"><![CDATA[SELECT @Name AS Greeting, 42 AS Answer UNION ALL SELECT 'second', 43]]><param id="@Name" type="String" value="" /></statement>
</commands></mapper>`

const dbFunctionMeta = `{"Header":{"ApplicationID":"HDS","ProjectID":"TST","TransactionID":"FND020","DataSourceID":"DB01","LanguageType":"javascript","Use":true},
 "Commands":[{"ID":"GF01","Seq":0,"Params":[{"ID":"Name","Type":"String"}]},{"ID":"GF02","Seq":0},{"ID":"GF03","Seq":0}]}`

const dbFunctionMain = `var syn = require('syn');
module.exports = {
    GF01: async (moduleID, parameters) => {
        var tables = await syn.$d.execute('HDS|TST|FND010|GD0100', { Name: 'hello ' + $array.getValue(parameters, 'Name') });
        return { Rows: tables[0] };
    },
    GF02: (callback) => {
        syn.$d.execute('OTHER|TST|FND010|GD0100', {}, function (err) { callback(err); });
    },
    GF03: async () => { await syn.$d.execute('HDS|TST|FND010|XX0100', {}); return {}; }
};`

func TestDatabaseAccess(t *testing.T) {
	home := t.TempDir()
	write(t, home, map[string]string{
		"contracts/dbclient/HDS/TST/FND010.xml":              greetStatement,
		"contracts/function/HDS/TST/FND020/featureMeta.json": dbFunctionMeta,
		"contracts/function/HDS/TST/FND020/featureMain.js":   dbFunctionMain,
	})
	h := startHost(t, home, nil, dbclient.Info(), function.Info())
	resp := execute(t, h, "HDS|TST|FND020|GF0100", map[string]any{"Name": "ack"}, func(r *wire.DynamicRequest) {
		r.DynamicObjects[0].JSONObjects = nil
		r.DynamicObjects[0].JSONObject = 1 // Grid
	})
	mustOK(t, resp)
	if want := `[{"ID":"GridData0","Value":[{"Greeting":"hello ack","Answer":42},{"Greeting":"second","Answer":43}]}]`; string(resp.ResultJSON) != want {
		t.Fatalf("got %s\nwant %s", resp.ResultJSON, want)
	}
	mustFail(t, execute(t, h, "HDS|TST|FND020|GF0200", nil), "function.failed", "must be a statement of application HDS")
	mustFail(t, execute(t, h, "HDS|TST|FND020|GF0300", nil), "function.failed", "syn.$d.execute: QueryID - HDS|TST|FND010|XX0100")
}

const transactContract = `{"ApplicationID":"HDS","ProjectID":"TST","TransactionID":"FNT010","Services":[
 {"ServiceID":"GF01","Authorize":false,"ReturnType":"Json","CommandType":"F","TransactionScope":false,
  "Inputs":[{"ModelID":"Dynamic","Fields":[],"TestValues":[],"DefaultValues":[],"Type":"Row","BaseFieldMappings":[],"ParameterHandling":"Rejected"}],
  "Outputs":[{"ModelID":"Dynamic","Fields":[],"Type":"Form"}]}]}`

const transactFunctionMeta = `{"Header":{"ApplicationID":"HDS","ProjectID":"TST","TransactionID":"FNT010","LanguageType":"javascript","Use":true,"Runtime":"%s"},
 "Commands":[{"ID":"GF01","Seq":0,"Params":[{"ID":"Name","Type":"String"}]}]}`

const transactFunctionMain = `module.exports = { GF01: (callback, moduleID, parameters) => callback(null, { T: [{ Greeting: 'hi ' + $array.getValue(parameters, 'Name') }] }) };`

// transactHome is a home where transact's FNT010/GF01 calls function GF01.
func transactHome(t testing.TB, runtime string) string {
	home := t.TempDir()
	write(t, home, map[string]string{
		"contracts/transact/HDS/TST/FNT010.json":             transactContract,
		"contracts/function/HDS/TST/FNT010/featureMeta.json": strings.Replace(transactFunctionMeta, "%s", runtime, 1),
		"contracts/function/HDS/TST/FNT010/featureMain.js":   transactFunctionMain,
		"contracts/function/HDS/TST/FNT020/featureMeta.json": `{"Header":{"ApplicationID":"HDS","ProjectID":"TST","TransactionID":"FNT020","LanguageType":"javascript","Use":true},"Commands":[{"ID":"GF01","Seq":0}]}`,
		"contracts/function/HDS/TST/FNT020/featureMain.js":   nestedMain,
	})
	return home
}

// transactRequest is what syn.js sends for FNT010/GF01 with Name=ack.
func transactRequest() map[string]any {
	return map[string]any{
		"accessToken": "", "action": "SYN", "kind": "BIZ", "clientTag": "HANDSTACK|WebClient|ack|D",
		"loadOptions": map[string]any{"encryptionType": "P", "encryptionKey": "G", "platform": "Win32"},
		"requestID":   "R1", "version": "001", "environment": "D",
		"system": map[string]any{"programID": "HDS", "moduleID": "wwwroot", "version": "1.0.0",
			"routes": []any{map[string]any{"systemID": "HANDSTACK", "requestTick": 1741750512000}}, "localeID": "ko-KR", "hostName": "localhost", "pathName": "/view/x.html"},
		"interface": map[string]any{"devicePlatform": "browser", "interfaceID": "WEB", "sourceIP": "10.0.0.7", "sourcePort": 0, "timeout": 180000},
		"transaction": map[string]any{"globalID": "G-FNT010", "businessID": "TST", "transactionID": "FNT010", "functionID": "GF01",
			"commandType": "F", "simulationType": "P", "terminalGroupID": "|", "operatorID": "", "screenID": "FNT010", "startTraceID": "", "dataFormat": "J", "compressionYN": "N"},
		"payLoad": map[string]any{"property": map[string]any{}, "dataMapInterface": "Row|Form", "dataMapCount": []int{1},
			"dataMapSet": [][]map[string]any{{{"id": "Name", "value": "ack"}}}, "dataMapSetRaw": []any{}},
	}
}

func TestThroughTransact(t *testing.T) {
	h := startHost(t, transactHome(t, "embedded"), nil, dbclient.Info(), function.Info(), transact.Info())
	var out struct {
		Acknowledge   int    `json:"acknowledge"`
		ExceptionText string `json:"exceptionText"`
		Result        struct {
			DataSet []struct {
				ID    string          `json:"id"`
				Value json.RawMessage `json:"value"`
			} `json:"dataSet"`
		} `json:"result"`
	}
	acktest.ReadJSON(t, h.Post(t, "/transact/api/transaction/execute", transactRequest()), &out)
	if out.Acknowledge != 1 || len(out.Result.DataSet) != 1 || string(out.Result.DataSet[0].Value) != `{"Greeting":"hi ack"}` {
		t.Fatalf("got %+v", out)
	}

	// A function runs another transaction in process.
	resp := execute(t, h, "HDS|TST|FNT020|GF0100", nil)
	mustOK(t, resp)
	if want := `[{"ID":"FormData0","Value":{"Ack":1,"Greeting":"hi nested"}}]`; string(resp.ResultJSON) != want {
		t.Fatalf("transactionDirect: %s", resp.ResultJSON)
	}
}

const nestedMain = `module.exports = {
    GF01: (callback) => {
        syn.$w.transactionDirect({ businessID: 'TST', transactionID: 'FNT010', functionID: 'GF01', inputObjects: [{ prop: 'Name', val: 'nested' }] }, function (r) {
            callback(null, { T: [{ Ack: r.acknowledge, Greeting: r.acknowledge === 1 ? r.result.dataSet[0].value.Greeting : r.exceptionText }] });
        });
    }
};`

// needNPM installs is-number@7.0.0 under home/node_modules, or skips.
func needNPM(t *testing.T, home string) {
	t.Helper()
	for _, bin := range []string{"node", "npm"} {
		if _, err := exec.LookPath(bin); err != nil {
			if os.Getenv("ACK_REQUIRE_ALL") == "1" {
				t.Fatalf("%s is required", bin)
			}
			t.Skipf("%s is not installed", bin)
		}
	}
	out, err := exec.CommandContext(t.Context(), "npm", "install", "--no-audit", "--no-fund", "--prefix", home, "is-number@7.0.0").CombinedOutput()
	if err != nil {
		if os.Getenv("ACK_REQUIRE_ALL") == "1" {
			t.Fatalf("npm install: %v\n%s", err, out)
		}
		t.Skipf("npm install failed (registry unreachable?): %v\n%s", err, out)
	}
}

const nodeMeta = `{"Header":{"ApplicationID":"HDS","ProjectID":"TST","TransactionID":"NOD010","DataSourceID":"DB01","LanguageType":"javascript","Use":true,"Runtime":"node"},
 "Commands":[{"ID":"GF01","Seq":0,"Params":[{"ID":"Value","Type":"String"}]},{"ID":"DB01","Seq":0},{"ID":"CRASH","Seq":0},{"ID":"SLOW","Seq":0,"Timeout":1}]}`

const nodeMain = `const isNumber = require('is-number');
const os = require('os');
const syn = require('syn');
module.exports = {
    GF01: (callback, moduleID, parameters) => {
        const v = $array.getValue(parameters, 'Value');
        callback(null, { T: [{ Value: v, IsNumber: isNumber(v), HasCPUs: os.cpus().length > 0 }] });
    },
    DB01: async () => ({ T: (await syn.$d.execute('HDS|TST|FND010|GD0100', { Name: 'from node' }))[0] }),
    CRASH: () => { process.exit(7); },
    SLOW: (callback) => { for (;;) {} },
};`

func TestNodeRuntime(t *testing.T) {
	home := t.TempDir()
	needNPM(t, home)
	write(t, home, map[string]string{
		"contracts/dbclient/HDS/TST/FND010.xml":              greetStatement,
		"contracts/function/HDS/TST/NOD010/featureMeta.json": nodeMeta,
		"contracts/function/HDS/TST/NOD010/featureMain.js":   nodeMain,
	})
	h := startHost(t, home, map[string]any{"NodeFunctionConfig": map[string]any{"PoolSize": 2}}, dbclient.Info(), function.Info())

	resp := execute(t, h, "HDS|TST|NOD010|GF0100", map[string]any{"Value": "42"})
	mustOK(t, resp)
	if want := `[{"ID":"FormData0","Value":{"Value":"42","IsNumber":true,"HasCPUs":true}}]`; string(resp.ResultJSON) != want {
		t.Fatalf("got %s", resp.ResultJSON)
	}
	resp = execute(t, h, "HDS|TST|NOD010|DB0100", nil)
	mustOK(t, resp)
	if !strings.Contains(string(resp.ResultJSON), `"Greeting":"from node"`) {
		t.Fatalf("dbclient from node: %s", resp.ResultJSON)
	}
	mustFail(t, execute(t, h, "HDS|TST|NOD010|CRASH00", nil), "function.failed", "exited during the call")
	mustFail(t, execute(t, h, "HDS|TST|NOD010|SLOW00", nil), "function.timeout", "TimeoutException - '1000'")
	// The pool recovered.
	mustOK(t, execute(t, h, "HDS|TST|NOD010|GF0100", map[string]any{"Value": "x"}))

	// An edit reloads the changed file.
	write(t, home, map[string]string{"contracts/function/HDS/TST/NOD010/featureMain.js": strings.Replace(nodeMain, "IsNumber: isNumber(v)", "IsNumber: 'edited'", 1)})
	h.Get(t, "/function/api/execution/refresh?changeType=Changed&filePath=HDS/TST/NOD010/featureMain.js").Body.Close()
	resp = execute(t, h, "HDS|TST|NOD010|GF0100", map[string]any{"Value": "1"})
	mustOK(t, resp)
	if !strings.Contains(string(resp.ResultJSON), `"IsNumber":"edited"`) {
		t.Fatalf("after edit: %s", resp.ResultJSON)
	}
}
