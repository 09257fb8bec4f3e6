package dbclient_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/ack-dev/ack/internal/wire"
)

const returnTypesContract = `<mapper><header><application>APP</application><project>RT</project><transaction>RT010</transaction>
<datasource>DB01</datasource><use>Y</use></header><commands>
<statement id="ZD01" seq="0"><![CDATA[
CREATE TABLE IF NOT EXISTS Dept (ID INTEGER PRIMARY KEY, Name VARCHAR(20), Budget NUMERIC);
CREATE TABLE IF NOT EXISTS Emp (ID INTEGER PRIMARY KEY, DeptID INTEGER, EmpName TEXT);
CREATE TABLE IF NOT EXISTS CodeHelp (CodeHelpID TEXT, DataSourceID TEXT, CommandText TEXT, CodeColumnID TEXT, ValueColumnID TEXT, Comment TEXT, CreatedAt TEXT);
CREATE TABLE IF NOT EXISTS CodeHelpScheme (CodeHelpID TEXT, ColumnID TEXT, ColumnText TEXT, HiddenYN TEXT, SortingNo INTEGER);
DELETE FROM Dept; DELETE FROM Emp; DELETE FROM CodeHelp; DELETE FROM CodeHelpScheme;
INSERT INTO Dept VALUES (1, 'sales', 10.5), (2, 'r&d', 20), (3, 'ops', NULL);
INSERT INTO Emp VALUES (1, 1, 'kim'), (2, 2, 'lee'), (3, 1, 'park');
INSERT INTO CodeHelp VALUES ('CHP001', 'DB01', 'SELECT ID AS Code, Name FROM Dept WHERE Name <> @Skip ORDER BY ID', 'Code', 'Name', 'departments', '2024-01-01');
INSERT INTO CodeHelpScheme VALUES ('CHP001', 'Code', 'code', 'Y', 1), ('CHP001', 'Name', 'name', 'N', 2);
]]></statement>
<statement id="LD01" seq="0"><![CDATA[SELECT ID, Name, Budget FROM Dept WHERE Name <> #{Name} AND ID >= @Min ORDER BY ID]]>
<param id="@Min" type="Int32" value="" /></statement>
<statement id="MD01" seq="0"><![CDATA[INSERT INTO Dept (ID, Name) VALUES (@ID, 'new'); SELECT @ID AS NewID]]><param id="@ID" type="Int64" value="" /></statement>
<statement id="LD02" seq="0"><![CDATA[SELECT ID, Name FROM Dept ORDER BY ID; SELECT ID AS EmpID, DeptID, EmpName FROM Emp ORDER BY ID]]></statement>
<statement id="LD03" seq="0"><![CDATA[SELECT Missing FROM NoSuchTable]]></statement>
<statement id="CH01" seq="0"><![CDATA[
SELECT DataSourceID, CommandText, CodeColumnID, ValueColumnID, Comment, CreatedAt FROM CodeHelp WHERE CodeHelpID = @CodeHelpID;
SELECT ColumnID, ColumnText, 'text' AS ColumnType, HiddenYN FROM CodeHelpScheme WHERE CodeHelpID = @CodeHelpID ORDER BY SortingNo;
]]><param id="@CodeHelpID" type="String" value="" /></statement>
</commands></mapper>`

func startReturnTypes(t *testing.T, cfg map[string]any) *env {
	t.Helper()
	if cfg == nil {
		cfg = map[string]any{}
	}
	e := start(t, cfg, map[string]string{"APP/RT/RT010.xml": returnTypesContract})
	e.ok(t, request(q("APP|RT|RT010|ZD0100", nil)))
	return e
}

type sqlTextResult struct {
	Statements []struct {
		StatementID string
		SQL         string
	}
	DefinedSQL map[string]string
	ExecuteSQL map[string]string
	Parameters map[string]map[string]any
}

func unbase64(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("base64 %q: %v", s, err)
	}
	return string(b)
}

func TestSQLText(t *testing.T) {
	e := startReturnTypes(t, nil)
	req := request(q("APP|RT|RT010|LD0100", nil, "Name", "ops", "Min", "1"), q("APP|RT|RT010|MD0100", nil, "ID", "9"))
	req.ReturnType = wire.ReturnSQLText
	resp := e.ok(t, req)
	var res sqlTextResult
	if err := json.Unmarshal(resp.ResultJSON, &res); err != nil {
		t.Fatalf("%s: %v", resp.ResultJSON, err)
	}
	if len(res.Statements) != 2 || res.Statements[0].StatementID != "LD0100" || !strings.Contains(unbase64(t, res.Statements[0].SQL), "FROM Dept") {
		t.Errorf("Statements: %+v", res.Statements)
	}
	defined := unbase64(t, res.DefinedSQL["APP|RT|RT010|LD0100_0_statement"])
	if !strings.Contains(defined, "Name <> ?") || strings.Contains(defined, "ops") {
		t.Errorf("DefinedSQL: %q, want placeholders and no value", defined)
	}
	if p := res.Parameters["APP|RT|RT010|LD0100_0_statement"]; p["Min"] != float64(1) {
		t.Errorf("Parameters: %v", res.Parameters)
	}
	if _, ok := res.DefinedSQL["APP|RT|RT010|MD0100_1_statement"]; !ok || len(res.ExecuteSQL) != 0 {
		t.Errorf("DefinedSQL %v, ExecuteSQL %v", res.DefinedSQL, res.ExecuteSQL)
	}
	// The INSERT ran in a transaction that was rolled back.
	rows := grid(t, e.ok(t, request(q("APP|RT|RT010|LD0100", []wire.JSONObjectType{wire.GridJSON}, "Name", "", "Min", "9"))), "GridData0")
	if len(rows) != 0 {
		t.Errorf("SQLText left rows behind: %v", rows)
	}

	failing := request(q("APP|RT|RT010|LD0300", nil))
	failing.ReturnType = wire.ReturnSQLText
	resp = e.ok(t, failing)
	res = sqlTextResult{}
	if err := json.Unmarshal(resp.ResultJSON, &res); err != nil {
		t.Fatal(err)
	}
	if got := unbase64(t, res.ExecuteSQL["APP|RT|RT010|LD0300_0_statement"]); !strings.Contains(got, "NoSuchTable") {
		t.Errorf("ExecuteSQL: %v", res.ExecuteSQL)
	}
}

func TestSQLTextNeedsTheKeyWhenEveryoneIsAllowed(t *testing.T) {
	e := startReturnTypes(t, map[string]any{"AllowClientIP": []string{"*"}, "AuthorizationKey": "k3y"})
	req := request(q("APP|RT|RT010|LD0100", nil, "Name", "ops", "Min", "1"))
	req.ReturnType = wire.ReturnSQLText
	body, _ := json.Marshal(req)
	post := func(key string) wire.DynamicResponse {
		r, _ := http.NewRequest("POST", e.URL+"/dbclient/api/query", strings.NewReader(string(body)))
		if key != "" {
			r.Header.Set("AuthorizationKey", key)
		}
		res, err := e.Client.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var resp wire.DynamicResponse
		if err := json.NewDecoder(res.Body).Decode(&resp); err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if resp := post(""); resp.Acknowledge != 0 || resp.ErrorCode != "dbclient.unauthorized" || strings.Contains(string(resp.ResultJSON), "Parameters") {
		t.Errorf("without the key: %+v", resp)
	}
	if resp := post("k3y"); resp.Acknowledge != 1 || !strings.Contains(string(resp.ResultJSON), "DefinedSQL") {
		t.Errorf("with the key: %+v", resp)
	}
}

func TestSchemeOnly(t *testing.T) {
	e := startReturnTypes(t, nil)
	req := request(q("APP|RT|RT010|LD0200", []wire.JSONObjectType{wire.FormJSON, wire.DataSetJSON}), q("APP|RT|RT010|MD0100", nil, "ID", "8"))
	req.ReturnType = wire.ReturnSchemeOnly
	resp := e.ok(t, req)
	want := `{"FormData0":[{"Name":"ID","Comment":"","DataType":"Int64","Length":-1,"Require":false,"Default":""},` +
		`{"Name":"Name","Comment":"","DataType":"String","Length":-1,"Require":false,"Default":""}],` +
		`"DataTable1":[{"Name":"EmpID","Comment":"","DataType":"Int64","Length":-1,"Require":false,"Default":""},` +
		`{"Name":"DeptID","Comment":"","DataType":"Int64","Length":-1,"Require":false,"Default":""},` +
		`{"Name":"EmpName","Comment":"","DataType":"String","Length":-1,"Require":false,"Default":""}],` +
		`"FormData2":[{"Name":"NewID","Comment":"","DataType":"Int64","Length":-1,"Require":false,"Default":""}]}`
	if string(resp.ResultJSON) != want {
		t.Errorf("ResultJson\n got  %s\n want %s", resp.ResultJSON, want)
	}
	rows := grid(t, e.ok(t, request(q("APP|RT|RT010|LD0100", []wire.JSONObjectType{wire.GridJSON}, "Name", "", "Min", "8"))), "GridData0")
	if len(rows) != 0 {
		t.Errorf("SchemeOnly left rows behind: %v", rows)
	}
}

func TestCodeHelp(t *testing.T) {
	e := startReturnTypes(t, nil)
	req := request(q("APP|RT|RT010|CH0100", nil, "CodeHelpID", "CHP001", "Unused", "", "Parameters", "@Skip:r&d;"))
	req.ReturnType = wire.ReturnCodeHelp
	resp := e.ok(t, req)
	want := `{"Comment":"departments","CodeColumnID":"Code","ValueColumnID":"Name","CreatedAt":"2024-01-01",` +
		`"Scheme":[{"ColumnID":"Code","ColumnText":"code","ColumnType":"text","HiddenYN":true},{"ColumnID":"Name","ColumnText":"name","ColumnType":"text","HiddenYN":false}],` +
		`"DataSource":[{"Code":1,"Name":"sales"},{"Code":3,"Name":"ops"}]}`
	if string(resp.ResultJSON) != want {
		t.Errorf("ResultJson\n got  %s\n want %s", resp.ResultJSON, want)
	}

	missing := request(q("APP|RT|RT010|CH0100", nil, "CodeHelpID", "NOPE"))
	missing.ReturnType = wire.ReturnCodeHelp
	if resp := e.call(t, missing); resp.Acknowledge != 0 || !strings.Contains(resp.ExceptionText, "StatementID: CH0100") {
		t.Errorf("unknown CodeHelpID: %+v", resp)
	}
}

func TestXML(t *testing.T) {
	e := startReturnTypes(t, nil)
	req := request(q("APP|RT|RT010|LD0100", nil, "Name", "ops", "Min", "1"))
	req.ReturnType = wire.ReturnXML
	resp := e.ok(t, req)
	doc, _ := resp.ResultObject.(string)
	for _, want := range []string{
		`<?xml version="1.0" standalone="yes"?>`,
		`<xs:element name="Table01">`,
		`<xs:element name="ID" type="xs:long" minOccurs="0" />`,
		`<xs:element name="Budget" type="xs:decimal" minOccurs="0" />`,
		"<Table01>\n    <ID>2</ID>\n    <Name>r&amp;d</Name>\n    <Budget>20</Budget>\n  </Table01>",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("Xml lacks %q:\n%s", want, doc)
		}
	}
	if strings.Contains(doc, "<Name>ops</Name>") {
		t.Errorf("Xml has a filtered row:\n%s", doc)
	}

	twice := request(q("APP|RT|RT010|LD0100", nil, "Name", "ops", "Min", "1"), q("APP|RT|RT010|LD0100", nil, "Name", "ops", "Min", "1"))
	twice.ReturnType = wire.ReturnXML
	if resp := e.call(t, twice); resp.Acknowledge != 0 || !strings.Contains(resp.ExceptionText, "Table01") {
		t.Errorf("two tables named Table01: %+v", resp)
	}
}

func TestDynamicJSONIsUnsupported(t *testing.T) {
	e := startReturnTypes(t, nil)
	req := request(q("APP|RT|RT010|LD0200", nil))
	req.ReturnType = wire.ReturnDynamicJSON
	if resp := e.call(t, req); resp.Acknowledge != 0 || resp.ErrorCode != "dbclient.unsupported" {
		t.Errorf("DynamicJson: %+v", resp)
	}
}

func TestBaseFieldRelations(t *testing.T) {
	e := startReturnTypes(t, nil)
	obj := q("APP|RT|RT010|LD0200", []wire.JSONObjectType{wire.GridJSON, wire.GridJSON})
	obj.BaseFieldRelations = []*wire.BaseFieldRelation{nil, {
		BaseSequence:     0,
		RelationFieldID:  "Staff",
		RelationMappings: []wire.RelationMapping{{BaseFieldID: "ID", ChildrenFieldID: "DeptID"}},
		DisposeResult:    true,
	}}
	resp := e.ok(t, request(obj))
	want := `[{"id":"GridData0","value":[{"ID":1,"Name":"sales","Staff":[{"EmpID":1,"EmpName":"kim"},{"EmpID":3,"EmpName":"park"}]},` +
		`{"ID":2,"Name":"r\u0026d","Staff":[{"EmpID":2,"EmpName":"lee"}]},{"ID":3,"Name":"ops","Staff":[]}]}]`
	if string(resp.ResultJSON) != want {
		t.Errorf("ResultJson\n got  %s\n want %s", resp.ResultJSON, want)
	}
	if len(resp.ResultMeta) != 1 || resp.ResultMeta[0] != "ID:number;Name:string|-1;Staff:object;" {
		t.Errorf("ResultMeta %q", resp.ResultMeta)
	}

	// ColumnNames picks the child columns; without DisposeResult the
	// children stay in the output; the default field is _Children.
	obj.BaseFieldRelations[1] = &wire.BaseFieldRelation{
		RelationMappings: []wire.RelationMapping{{BaseFieldID: "ID", ChildrenFieldID: "DeptID"}},
		ColumnNames:      []string{"EmpName"},
	}
	resp = e.ok(t, request(obj))
	depts := grid(t, resp, "GridData0")
	if got, _ := json.Marshal(depts[0]["_Children"]); string(got) != `[{"EmpName":"kim"},{"EmpName":"park"}]` {
		t.Errorf("_Children of sales: %s", got)
	}
	if emps := grid(t, resp, "GridData1"); len(emps) != 3 {
		t.Errorf("children result set: %v", emps)
	}
}
