package function_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/config"
	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/internal/wire"
	"github.com/ack-dev/ack/modules/function"
)

// queryMeta declares FN01 (configured) and FN09 (not configured) as the
// function's data sources; FN02 is configured but for another application.
const queryMeta = `{"Header":{"ApplicationID":"HDS","ProjectID":"TST","TransactionID":"SQL010","DataSourceID":"FN01, FN09","LanguageType":"javascript","Use":true,"Runtime":"%s"},
 "Commands":[{"ID":"GF01","Seq":0,"Params":[{"ID":"Name","Type":"String"}]},{"ID":"GF02","Seq":0},{"ID":"GF03","Seq":0},
  {"ID":"GF04","Seq":0},{"ID":"GF05","Seq":0},{"ID":"GF06","Seq":0},{"ID":"GF07","Seq":0}]}`

const queryMain = `var syn = require('syn');
module.exports = {
    // Setup, a bound value that looks like SQL, two result sets and a list.
    GF01: async (moduleID, parameters) => {
        var name = $array.getValue(parameters, 'Name');
        await syn.$d.query('FN01', 'CREATE TABLE IF NOT EXISTS Item (ID INTEGER PRIMARY KEY, Name TEXT, Price REAL, Data BLOB); DELETE FROM Item;');
        await syn.$d.query('FN01', 'INSERT INTO Item (ID, Name, Price, Data) VALUES (@ID, @Name, @Price, X\'6869\')', { ID: 1, Name: name, Price: 2.5 });
        await syn.$d.query('FN01', 'INSERT INTO Item (ID, Name) VALUES (:ID, :Name)', [{ ParameterName: '@ID', Value: 2 }, { parameterName: 'Name', value: 'ink' }]);
        var sets = await syn.$d.query('FN01', 'SELECT ID, Name, Price, Data FROM Item WHERE Name = @name; SELECT COUNT(*) AS Total FROM Item WHERE ID IN @IDs', { Name: name, IDs: [1, 2, 3] });
        return { Rows: sets[0], Count: sets[1] };
    },
    // Callback form; a missing value is NULL.
    GF02: (callback) => {
        syn.$d.query('FN01', 'SELECT @Missing IS NULL AS NoValue, ID FROM Item ORDER BY ID', { Missing: null }, function (err, sets) {
            callback(err, { Rows: sets ? sets[0] : [] });
        });
    },
    GF03: async () => { await syn.$d.query('FN01', 'SELEC Secret FROM Nowhere'); return {}; },
    GF04: async () => { await syn.$d.query('FN02', 'SELECT 1'); return {}; },
    GF05: async () => { await syn.$d.query('FN09', 'SELECT 1'); return {}; },
    // A caught error is the function's to handle.
    GF06: async () => {
        try { await syn.$d.query('FN01', 'SELECT * FROM Nowhere'); } catch (e) { return { R: [{ Caught: e.message }] }; }
        return { R: [{ Caught: 'nothing' }] };
    },
    GF07: async () => { await syn.$d.query('FN01', 'SELECT @P', { P: { nested: 1 } }); return {}; }
};`

// startQueryHost runs function with FunctionSource FN01 (SQLite, written
// with HandStack's #{ContentRootPath}) on the given runtime.
func startQueryHost(t *testing.T, runtime string) (*acktest.Host, string) {
	t.Helper()
	home := t.TempDir()
	write(t, home, map[string]string{
		"contracts/function/HDS/TST/SQL010/featureMeta.json": strings.Replace(queryMeta, "%s", runtime, 1),
		"contracts/function/HDS/TST/SQL010/featureMain.js":   queryMain,
	})
	cfg := map[string]any{
		"FunctionSource": []map[string]any{
			{"ApplicationID": "HDS", "ProjectID": "*", "DataSourceID": "FN01", "DataProvider": "SQLite",
				"ConnectionString": "URI=file:#{ContentRootPath}/../fn01.db;Journal Mode=Off;", "IsEncryption": "N"},
			{"ApplicationID": "OTHER", "ProjectID": "*", "DataSourceID": "FN02", "DataProvider": "SQLite",
				"ConnectionString": "Data Source=fn02.db", "IsEncryption": "N"},
		},
		"NodeFunctionConfig": map[string]any{"PoolSize": 1},
	}
	return startHost(t, home, cfg, function.Info()), home
}

// An entry ack cannot open does not stop the module (its dataContext fields
// still reach functions, as in HandStack); ack check reports it.
func TestUnusableFunctionSourceIsDiagnosed(t *testing.T) {
	settings := func(s *config.Settings) {
		acktest.SetModuleConfig(t, s, "function", "FunctionSource", []map[string]any{
			{"ApplicationID": "HDS", "ProjectID": "*", "DataSourceID": "FN05", "DataProvider": "Access", "ConnectionString": "x"},
		})
	}
	opts := acktest.Options{Home: t.TempDir(), Modules: []module.Info{function.Info()}, Settings: settings}
	found := false
	for _, d := range acktest.Check(t, opts) {
		found = found || d.Severity == "warning" && strings.Contains(d.Message, "FN05") && strings.Contains(d.Message, "Access")
	}
	if !found {
		t.Errorf("no warning about FunctionSource FN05")
	}
	acktest.Start(t, opts)
}

func TestQueryOnFunctionSource(t *testing.T) {
	for _, runtime := range []string{"embedded", "node"} {
		t.Run(runtime, func(t *testing.T) {
			if runtime == "node" {
				if _, err := exec.LookPath("node"); err != nil {
					acktest.Require(t, "node (Debian package nodejs)")
				}
			}
			h, home := startQueryHost(t, runtime)
			injection := "pen'); DROP TABLE Item; --"
			resp := execute(t, h, "HDS|TST|SQL010|GF0100", map[string]any{"Name": injection}, func(r *wire.DynamicRequest) {
				r.DynamicObjects[0].JSONObjects = []wire.JSONObjectType{wire.GridJSON, wire.FormJSON}
			})
			mustOK(t, resp)
			want := `[{"ID":"GridData0","Value":[{"ID":1,"Name":"pen'); DROP TABLE Item; --","Price":2.5,"Data":"aGk="}]},{"ID":"FormData1","Value":{"Total":2}}]`
			if string(resp.ResultJSON) != want {
				t.Errorf("result\n got  %s\n want %s", resp.ResultJSON, want)
			}
			if _, err := os.Stat(filepath.Join(home, "fn01.db")); err != nil {
				t.Errorf("#{ContentRootPath} is DIR/app, so the database is DIR/fn01.db: %v", err)
			}

			resp = execute(t, h, "HDS|TST|SQL010|GF0200", nil, func(r *wire.DynamicRequest) {
				r.DynamicObjects[0].JSONObjects = []wire.JSONObjectType{wire.GridJSON}
			})
			mustOK(t, resp)
			if want := `[{"ID":"GridData0","Value":[{"NoValue":1,"ID":1},{"NoValue":1,"ID":2}]}]`; string(resp.ResultJSON) != want {
				t.Errorf("callback form: %s, want %s (the table survived the injection attempt)", resp.ResultJSON, want)
			}

			resp = execute(t, h, "HDS|TST|SQL010|GF0300", nil)
			mustFail(t, resp, "function.failed", "syn.$d.query FN01: the database rejected the statement")
			if strings.Contains(resp.ExceptionText, "SELEC") || strings.Contains(resp.ExceptionText, "syntax") {
				t.Errorf("the database's message reached the client: %s", resp.ExceptionText)
			}
			mustFail(t, execute(t, h, "HDS|TST|SQL010|GF0400", nil), "function.failed", `data source "FN02" is not one of this function's (DataSourceID "FN01, FN09")`)
			mustFail(t, execute(t, h, "HDS|TST|SQL010|GF0500", nil), "function.failed", "data source FN09 has no usable FunctionSource entry for HDS/TST")
			mustFail(t, execute(t, h, "HDS|TST|SQL010|GF0700", nil), "function.failed", "parameter P: an object cannot be bound")

			resp = execute(t, h, "HDS|TST|SQL010|GF0600", nil)
			mustOK(t, resp)
			var items []struct{ Value map[string]string }
			if err := json.Unmarshal(resp.ResultJSON, &items); err != nil || len(items) != 1 || items[0].Value["Caught"] != "syn.$d.query FN01: the database rejected the statement (see the server log)" {
				t.Errorf("caught error: %s (%v)", resp.ResultJSON, err)
			}
		})
	}
}

// TestQueryOnPostgreSQL runs syn.$d.query on a real PostgreSQL server
// (ACK_TEST_PG_DSN), through HandStack's Npgsql connection string.
func TestQueryOnPostgreSQL(t *testing.T) {
	dsn := acktest.ServerDSN(t, "ACK_TEST_PG_DSN")
	home := t.TempDir()
	write(t, home, map[string]string{
		"contracts/function/HDS/TST/PGS010/featureMeta.json": `{"Header":{"ApplicationID":"HDS","ProjectID":"TST","TransactionID":"PGS010","DataSourceID":"PG01","LanguageType":"javascript","Use":true},"Commands":[{"ID":"GF01","Seq":0}]}`,
		"contracts/function/HDS/TST/PGS010/featureMain.js": `var syn = require('syn');
module.exports = { GF01: async () => {
    var sets = await syn.$d.query('PG01', 'SELECT @N::int + 1 AS Next, @S AS Echo, CAST(12.50 AS numeric(5,2)) AS Amount, DATE \'2024-03-01\' AS Day WHERE @N = ANY(ARRAY[1, 2]) OR 1 IN @L', { N: 1, S: "it's", L: [1, 5] });
    return { Rows: sets[0] };
} };`,
	})
	h := startHost(t, home, map[string]any{"FunctionSource": []map[string]any{{
		"ApplicationID": "HDS", "ProjectID": "TST", "DataSourceID": "PG01", "DataProvider": "PostgreSQL",
		"ConnectionString": acktest.NpgsqlConnectionString(t, dsn),
	}}}, function.Info())
	resp := execute(t, h, "HDS|TST|PGS010|GF0100", nil, func(r *wire.DynamicRequest) {
		r.DynamicObjects[0].JSONObjects = []wire.JSONObjectType{wire.GridJSON}
	})
	mustOK(t, resp)
	if want := `[{"ID":"GridData0","Value":[{"next":2,"echo":"it's","amount":12.5,"day":"2024-03-01"}]}]`; string(resp.ResultJSON) != want {
		t.Errorf("got  %s\nwant %s", resp.ResultJSON, want)
	}
}
