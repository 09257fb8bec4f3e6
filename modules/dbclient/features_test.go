package dbclient_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/internal/wire"
	"github.com/ack-dev/ack/modules/dbclient"
)

const demoContract = `<mapper><header><application>APP</application><project>DEMO</project><transaction>DEM010</transaction>
<datasource>DB01</datasource><use>Y</use></header><commands>
<statement id="ZD01" seq="0"><![CDATA[
CREATE TABLE IF NOT EXISTS Item (ID INTEGER PRIMARY KEY, Name TEXT, Price NUMERIC, Score REAL, Made DATETIME, Active BOOLEAN);
DELETE FROM Item;
INSERT INTO Item VALUES (1, 'pen', 1.50, 0.5, '2024-03-01 10:20:30', 1);
INSERT INTO Item VALUES (2, 'ink', 12.25, 2, '2024-03-02 00:00:00', 0);
]]></statement>
<statement id="LD01" seq="0"><![CDATA[
INSERT INTO Item (ID, Name) SELECT 100, 'tmp' WHERE 0;
SELECT ID, Name, Price, Score, Made, Active FROM Item WHERE Name = #{Name} ORDER BY ID;
SELECT COUNT(*) AS Total FROM Item;
]]></statement>
<statement id="LD02" seq="0"><![CDATA[SELECT ID FROM Item ORDER BY ${Column}]]></statement>
<statement id="LD03" seq="0" timeout="1"><![CDATA[
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c]]></statement>
<statement id="MD01" seq="0"><![CDATA[INSERT INTO Item (ID, Name) VALUES (@ID, @Name); SELECT @ID AS NewID;]]>
<param id="@ID" type="Int64" value="" /><param id="@Name" type="String" value="" /></statement>
<statement id="MD01" seq="1"><if test="Flag == 'C'"><![CDATA[UPDATE Item SET Name = Name || '-' || @Suffix WHERE ID = @NewID]]></if>
<param id="@NewID" type="Int64" value="" /><param id="@Suffix" type="String" value="" /></statement>
<statement id="GD01" seq="0"><![CDATA[SELECT Name FROM Item WHERE ID = @ID]]><param id="@ID" type="Int64" value="" /></statement>
<statement id="UD01" seq="0"><![CDATA[UPDATE Item SET Score = 9]]></statement>
</commands></mapper>`

func startDemo(t *testing.T, cfg map[string]any) *env {
	t.Helper()
	if cfg == nil {
		cfg = map[string]any{}
	}
	e := start(t, cfg, map[string]string{"APP/DEMO/DEM010.xml": demoContract})
	e.ok(t, request(q("APP|DEMO|DEM010|ZD0100", nil)))
	return e
}

func TestResultSetsAndValueFormats(t *testing.T) {
	e := startDemo(t, nil)
	resp := e.ok(t, request(q("APP|DEMO|DEM010|LD0100", []wire.JSONObjectType{wire.GridJSON, wire.FormJSON}, "Name", "pen")))
	want := `[{"id":"GridData0","value":[{"ID":1,"Name":"pen","Price":1.5,"Score":0.5,"Made":"2024-03-01T10:20:30","Active":true}]},{"id":"FormData1","value":{"Total":2}}]`
	if string(resp.ResultJSON) != want {
		t.Errorf("ResultJson\n got  %s\n want %s", resp.ResultJSON, want)
	}
	wantMeta := []string{"ID:number;Name:string|-1;Price:numeric;Score:numeric;Made:date;Active:bool;", "Total:number;"}
	if strings.Join(resp.ResultMeta, " ") != strings.Join(wantMeta, " ") {
		t.Errorf("ResultMeta %q, want %q", resp.ResultMeta, wantMeta)
	}

	req := request(q("APP|DEMO|DEM010|LD0100", nil, "Name", "pen"))
	req.ReturnType = wire.ReturnScalar
	if resp := e.ok(t, req); resp.ResultObject != int64(2) {
		t.Errorf("Scalar: %#v, want 2 (first cell of the last result set)", resp.ResultObject)
	}
	req = request(q("APP|DEMO|DEM010|UD0100", nil))
	req.ReturnType = wire.ReturnNonQuery
	if resp := e.ok(t, req); resp.ResultInteger != 2 {
		t.Errorf("NonQuery: %d rows, want 2", resp.ResultInteger)
	}
	req.ReturnType = wire.ReturnDynamicJSON
	if resp := e.call(t, req); resp.Acknowledge != 0 || resp.ErrorCode != "dbclient.unsupported" {
		t.Errorf("DynamicJson: %+v", resp)
	}
}

func TestInjection(t *testing.T) {
	e := startDemo(t, nil)
	// #{Name} is a bind parameter: the attempt matches no row and changes nothing.
	resp := e.ok(t, request(q("APP|DEMO|DEM010|LD0100", []wire.JSONObjectType{wire.GridJSON, wire.FormJSON}, "Name", "x' OR '1'='1")))
	if rows := grid(t, resp, "GridData0"); len(rows) != 0 {
		t.Errorf("#{} injection returned %d rows", len(rows))
	}
	resp = e.ok(t, request(q("APP|DEMO|DEM010|LD0100", []wire.JSONObjectType{wire.GridJSON, wire.FormJSON}, "Name", "x'; DROP TABLE Item; --")))
	if total := form(t, resp, "FormData1")["Total"]; total != 2.0 {
		t.Errorf("Item after the attempt: Total %v", total)
	}
	// ${Column} takes identifiers only.
	if rows := grid(t, e.ok(t, request(q("APP|DEMO|DEM010|LD0200", []wire.JSONObjectType{wire.GridJSON}, "Column", "Name"))), "GridData0"); len(rows) != 2 || rows[0]["ID"] != 2.0 {
		t.Errorf("ORDER BY ${Column}=Name: %v", rows)
	}
	for _, bad := range []string{"ID; DROP TABLE Item", "(SELECT 1)", "ID--", "ID /* x */"} {
		resp := e.call(t, request(q("APP|DEMO|DEM010|LD0200", nil, "Column", bad)))
		if resp.Acknowledge != 0 || resp.ErrorCode != "dbclient.unsafe_value" {
			t.Errorf("${Column}=%q: %+v", bad, resp)
		}
	}
}

func TestErrorsAreSafe(t *testing.T) {
	e := startDemo(t, nil)
	resp := e.call(t, request(q("APP|DEMO|DEM010|XX0100", nil)))
	if resp.Acknowledge != 0 || resp.ErrorCode != "dbclient.statement_not_found" || !strings.Contains(resp.ExceptionText, "APP|DEMO|DEM010|XX0100") {
		t.Errorf("unknown statement: %+v", resp)
	}
	resp = e.call(t, request(q("APP|DEMO|DEM010|GD0100", nil, "ID", "not-a-number")))
	if resp.Acknowledge != 0 || resp.ErrorCode != "dbclient.invalid_parameter" {
		t.Errorf("bad Int64: %+v", resp)
	}
	resp = e.call(t, request())
	if resp.ErrorCode != "dbclient.bad_request" {
		t.Errorf("no DynamicObjects: %+v", resp)
	}
	// A database error is reported by code; the SQL and the driver text are only logged.
	e.ok(t, request(q("APP|DEMO|DEM010|MD0100", nil, "ID", "7", "Name", "secret-value")))
	resp = e.call(t, request(q("APP|DEMO|DEM010|MD0100", nil, "ID", "7", "Name", "secret-value")))
	if resp.Acknowledge != 0 || resp.ErrorCode != "dbclient.query_failed" {
		t.Fatalf("duplicate key: %+v", resp)
	}
	for _, leak := range []string{"INSERT", "secret-value", "UNIQUE", "constraint", "sqlite"} {
		if strings.Contains(resp.ExceptionText, leak) {
			t.Errorf("ExceptionText %q leaks %q", resp.ExceptionText, leak)
		}
	}
}

func TestTimeoutAndCancel(t *testing.T) {
	e := startDemo(t, nil)
	begin := time.Now()
	resp := e.call(t, request(q("APP|DEMO|DEM010|LD0300", nil)))
	if resp.Acknowledge != 0 || resp.ErrorCode != "dbclient.timeout" {
		t.Fatalf("endless query with timeout=1: %+v", resp)
	}
	if d := time.Since(begin); d > 10*time.Second {
		t.Errorf("the timeout took %v", d)
	}
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		time.AfterFunc(200*time.Millisecond, cancel)
	}()
	r, err := e.exec.Execute(ctx, request(q("APP|DEMO|DEM010|LD0300", nil)))
	if err != nil || r.Acknowledge != 0 || r.ErrorCode != "dbclient.canceled" {
		t.Fatalf("canceled request: %+v, %v", r, err)
	}
}

func TestBaseFieldMappingsAndSkippedRows(t *testing.T) {
	e := startDemo(t, nil)
	master := q("APP|DEMO|DEM010|MD0100", nil, "ID", "50", "Name", "cap")
	master.IgnoreResult = true
	detail := q("APP|DEMO|DEM010|MD0101", nil, "Flag", "C", "NewID", "", "Suffix", "blue")
	detail.BaseFieldMappings = []wire.BaseFieldMapping{{SourceFieldID: "NewID", TargetFieldID: "NewID"}}
	skipped := q("APP|DEMO|DEM010|MD0101", nil, "Flag", "R", "NewID", "", "Suffix", "red")
	skipped.BaseFieldMappings = detail.BaseFieldMappings
	empty := q("APP|DEMO|DEM010|MD0101", nil, "DefaultEmpty", "")
	req := request(master, detail, skipped, empty)
	req.IsTransaction = true
	if resp := e.ok(t, req); string(resp.ResultJSON) != "[]" {
		t.Errorf("IgnoreResult master: ResultJson %s", resp.ResultJSON)
	}
	got := form(t, e.ok(t, request(q("APP|DEMO|DEM010|GD0100", nil, "ID", "50"))), "FormData0")
	if got["Name"] != "cap-blue" {
		t.Errorf("detail row: %v, want Name cap-blue", got)
	}
	bad := q("APP|DEMO|DEM010|MD0101", nil, "Flag", "C", "NewID", "", "Suffix", "x")
	bad.BaseFieldMappings = []wire.BaseFieldMapping{{BaseSequence: "0", SourceFieldID: "Missing", TargetFieldID: "NewID"}}
	if resp := e.call(t, request(bad)); resp.ErrorCode != "dbclient.base_field_mapping" {
		t.Errorf("mapping without a base row: %+v", resp)
	}
}

func TestAuthorization(t *testing.T) {
	e := startDemo(t, map[string]any{"AllowClientIP": []string{}, "AuthorizationKey": "k3y"})
	body, _ := json.Marshal(request(q("APP|DEMO|DEM010|GD0100", nil, "ID", "1")))
	res := e.Post(t, "/dbclient/api/query", body)
	var resp wire.DynamicResponse
	_ = json.NewDecoder(res.Body).Decode(&resp)
	res.Body.Close()
	if res.StatusCode != 200 || resp.Acknowledge != 0 || resp.ErrorCode != "dbclient.unauthorized" {
		t.Errorf("no key: %d %+v", res.StatusCode, resp)
	}
	req, _ := http.NewRequest("POST", e.URL+"/dbclient/api/query", strings.NewReader(string(body)))
	req.Header.Set("AuthorizationKey", "k3y")
	res, err := e.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp = wire.DynamicResponse{}
	_ = json.NewDecoder(res.Body).Decode(&resp)
	res.Body.Close()
	if resp.Acknowledge != 1 {
		t.Errorf("with the key: %+v", resp)
	}
	if res := e.Get(t, "/dbclient/api/query/meta"); res.StatusCode != 400 {
		t.Errorf("GET without key: %d, want 400", res.StatusCode)
	}
	if res := e.Get(t, "/dbclient/api/query/meta?AuthorizationKey=k3y"); res.StatusCode != 200 {
		t.Errorf("GET with the key in the query from loopback: %d", res.StatusCode)
	}
	if res := e.Post(t, "/dbclient/api/query", "{not json"); res.StatusCode != 200 {
		// unauthorized comes first, in-band, as HandStack answers execute
		t.Errorf("bad body without key: %d", res.StatusCode)
	}
}

func TestImplicitSQLiteAndRefresh(t *testing.T) {
	e := startDemo(t, nil)
	if _, err := os.Stat(filepath.Join(e.Paths.Data, "dbclient", "APP", "DB01.db")); err != nil {
		t.Errorf("implicit SQLite file: %v", err)
	}
	// A new file appears; refresh loads it.
	p := filepath.Join(e.Home, "contracts", "dbclient", "APP", "DEMO", "DEM020.xml")
	if err := os.WriteFile(p, []byte(strings.ReplaceAll(demoContract, "DEM010", "DEM020")), 0o644); err != nil {
		t.Fatal(err)
	}
	res := e.Get(t, "/dbclient/api/query/refresh?changeType=Created&filePath=APP/DEMO/DEM020.xml")
	var ok bool
	raw, _ := io.ReadAll(res.Body)
	err := json.Unmarshal(raw, &ok)
	res.Body.Close()
	if err != nil || !ok {
		t.Fatalf("refresh: status %d, %v, answer %s", res.StatusCode, err, raw)
	}
	e.ok(t, request(q("APP|DEMO|DEM020|GD0100", nil, "ID", "1")))

	diags := acktest.Check(t, acktest.Options{Home: e.Home, Modules: []module.Info{dbclient.Info()}})
	found := false
	for _, d := range diags {
		found = found || d.Severity == "warning" && strings.Contains(d.Message, `data source "DB01" has no configuration`)
	}
	if !found {
		t.Errorf("Check did not warn about the implicit data source: %+v", diags)
	}

	off := start(t, map[string]any{"ImplicitSQLite": false}, map[string]string{"APP/DEMO/DEM010.xml": demoContract})
	if resp := off.call(t, request(q("APP|DEMO|DEM010|GD0100", nil, "ID", "1"))); resp.ErrorCode != "dbclient.datasource_not_found" {
		t.Errorf("ImplicitSQLite=false: %+v", resp)
	}
}
