package transact_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/modules/dbclient"
	"github.com/ack-dev/ack/modules/transact"
)

// seqSQL is the dbclient side of the sequential scenario, run on dbclient's
// implicit SQLite file for DB01.
const seqSQL = `<mapper><header><application>APP</application><project>SEQ</project><transaction>SEQ010</transaction>
<datasource>DB01</datasource><use>Y</use></header><commands>
<statement id="ZD01" seq="0"><![CDATA[
CREATE TABLE IF NOT EXISTS Item (ID INTEGER PRIMARY KEY, Name TEXT);
DELETE FROM Item;
INSERT INTO Item VALUES (1, 'pen');
INSERT INTO Item VALUES (2, 'ink');
]]></statement>
<statement id="GD01" seq="0"><![CDATA[SELECT ID AS ItemID, Name || '!' AS Label FROM Item WHERE Name = @Name]]>
<param id="@Name" type="String" value="" /></statement>
<statement id="LD01" seq="0"><![CDATA[SELECT ID, Name FROM Item WHERE ID = @ItemID ORDER BY ID]]>
<param id="@ItemID" type="Int64" value="" /></statement>
<statement id="GD02" seq="0"><![CDATA[SELECT @Label AS Label, @ItemID AS ItemID]]>
<param id="@Label" type="String" value="" /><param id="@ItemID" type="Int64" value="" /></statement>
<statement id="LD02" seq="0"><![CDATA[SELECT ID, Name FROM Item ORDER BY ID]]></statement>
<statement id="XD01" seq="0"><![CDATA[SELECT Secret FROM NoSuchTable]]></statement>
</commands></mapper>`

// seqContract declares the CommandType S services. S01: GD01 looks the item
// up by name and maps {ItemID, Label} onto input 1 (FieldMapping); LD01 and
// GD02 then run with the mapped input and land at outputs 1 and 0
// (ResultSet, in the opposite order of the options).
const seqContract = `{
  "ApplicationID": "APP", "ProjectID": "SEQ", "TransactionID": "SEQ010",
  "Services": [
    {"ServiceID": "ZD01", "CommandType": "D", "ReturnType": "Json",
     "Inputs": [{"ModelID": "Dynamic", "Type": "Row", "ParameterHandling": "Rejected"}], "Outputs": []},
    {"ServiceID": "S01", "CommandType": "S", "ReturnType": "Json",
     "Inputs": [
       {"ModelID": "Dynamic", "Fields": ["Name"], "Type": "Row", "ParameterHandling": "Rejected"},
       {"ModelID": "Dynamic", "Fields": ["ItemID", "Label"], "Type": "Row", "ParameterHandling": "Rejected"}
     ],
     "Outputs": [{"ModelID": "Dynamic", "Type": "Form"}, {"ModelID": "Dynamic", "Type": "Grid"}],
     "SequentialOption": [
       {"ServiceID": "GD01", "CommandType": "D", "ServiceInputFields": [0],
        "ServiceOutputs": [{"ModelID": "Dynamic", "Type": "Form"}],
        "ResultHandling": "FieldMapping", "TargetInputFields": [1]},
       {"ServiceID": "LD01", "CommandType": "D", "ServiceInputFields": [1],
        "ServiceOutputs": [{"ModelID": "Dynamic", "Type": "Grid"}],
        "ResultHandling": "ResultSet", "ResultOutputFields": [1]},
       {"ServiceID": "GD02", "CommandType": "D", "ServiceInputFields": [1],
        "ServiceOutputs": [{"ModelID": "Dynamic", "Type": "Form"}],
        "ResultHandling": "ResultSet", "ResultOutputFields": [0]}
     ]},
    {"ServiceID": "S02", "CommandType": "S", "ReturnType": "Json",
     "Inputs": [{"ModelID": "Dynamic", "Type": "Row", "ParameterHandling": "Rejected"}],
     "Outputs": [{"ModelID": "Dynamic", "Type": "Grid"}],
     "SequentialOption": [
       {"ServiceID": "LD02", "CommandType": "D", "ServiceInputFields": [0],
        "ServiceOutputs": [{"ModelID": "Dynamic", "Type": "Grid"}], "ResultHandling": "ResultSet", "ResultOutputFields": [0]},
       {"ServiceID": "XD01", "CommandType": "D", "ServiceInputFields": [0],
        "ServiceOutputs": [{"ModelID": "Dynamic", "Type": "Grid"}], "ResultHandling": "ResultSet", "ResultOutputFields": [1]}
     ]},
    {"ServiceID": "S03", "CommandType": "S", "ReturnType": "Json",
     "Inputs": [{"ModelID": "Dynamic", "Type": "Row", "ParameterHandling": "Rejected"}],
     "Outputs": [{"ModelID": "Dynamic", "Type": "Grid"}],
     "SequentialOption": [
       {"ServiceID": "LD02", "CommandType": "D", "ServiceInputFields": [0],
        "ServiceOutputs": [{"ModelID": "Dynamic", "Type": "Grid"}], "ResultHandling": "FieldMapping", "TargetInputFields": [0]}
     ]},
    {"ServiceID": "S04", "CommandType": "S", "ReturnType": "Scalar",
     "Inputs": [{"ModelID": "Dynamic", "Type": "Row", "ParameterHandling": "Rejected"}],
     "SequentialOption": [{"ServiceID": "LD02", "CommandType": "D", "ServiceInputFields": [0], "ResultHandling": "ResultSet"}]}
  ]
}`

// startSequential runs transact and dbclient in one host over seqSQL and
// seqContract, with the Item table seeded.
func startSequential(t *testing.T) *acktest.Host {
	t.Helper()
	home := t.TempDir()
	acktest.WriteFile(t, filepath.Join(home, "contracts", "dbclient", "APP", "SEQ", "SEQ010.xml"), seqSQL)
	acktest.WriteFile(t, filepath.Join(home, "contracts", "transact", "APP", "SEQ", "SEQ010.json"), seqContract)
	h := acktest.Start(t, acktest.Options{Home: home, Modules: []module.Info{transact.Info(), dbclient.Info()}})
	if r := execute(t, h, request("APP", "SEQ", "SEQ010", "ZD01", "", []item{{"Seed", "1"}})); *r.Acknowledge != 1 {
		t.Fatalf("seed: %s (%s)", r.ExceptionText, r.ErrorCode)
	}
	return h
}

// inputs turns a one-input request into one with a Row input per row.
func inputs(body map[string]any, rows ...[]item) map[string]any {
	set, counts := [][]acktest.Field{}, []int{}
	for _, row := range rows {
		fields := []acktest.Field{}
		for _, it := range row {
			fields = append(fields, acktest.Field(it))
		}
		set = append(set, fields)
		counts = append(counts, 1)
	}
	p := body["payLoad"].(map[string]any)
	p["dataMapSet"], p["dataMapCount"] = set, counts
	return body
}

func TestSequentialFieldMappingAndResultSet(t *testing.T) {
	h := startSequential(t)
	// Input 1 is sent with placeholders: GD01's result must replace both
	// before LD01 and GD02 run.
	body := inputs(request("APP", "SEQ", "SEQ010", "S01", "", nil),
		[]item{{"Name", "ink"}}, []item{{"ItemID", "0"}, {"Label", "none"}})
	r := execute(t, h, body)
	if *r.Acknowledge != 1 {
		t.Fatalf("S01: %s (%s)", r.ExceptionText, r.ErrorCode)
	}
	if got := strings.Join(r.ids(), ","); got != "FormData0,GridData0" {
		t.Fatalf("dataSet ids %s, want FormData0 (GD02 at position 0), GridData0 (LD01 at position 1)", got)
	}
	var form struct {
		Label  string
		ItemID json.Number
	}
	if err := json.Unmarshal(r.Result.DataSet[0].Value, &form); err != nil || form.Label != "ink!" || form.ItemID != "2" {
		t.Errorf("GD02 form %s (%v): want the mapped Label ink! and ItemID 2", r.Result.DataSet[0].Value, err)
	}
	var grid []struct {
		ID   int
		Name string
	}
	if err := json.Unmarshal(r.Result.DataSet[1].Value, &grid); err != nil || len(grid) != 1 || grid[0].ID != 2 || grid[0].Name != "ink" {
		t.Errorf("LD01 grid %s (%v): want the row of the mapped ItemID 2", r.Result.DataSet[1].Value, err)
	}
	if len(r.Result.DataMapCount) != 2 || r.Result.DataMapCount[0] != 1 || r.Result.DataMapCount[1] != 1 {
		t.Errorf("dataMapCount %v, want [1 1]", r.Result.DataMapCount)
	}
	if len(r.Result.DataSetMeta) != 2 || !strings.Contains(r.Result.DataSetMeta[0], "Label:") || !strings.Contains(r.Result.DataSetMeta[1], "Name:") {
		t.Errorf("dataSetMeta %q: want GD02's meta first, LD01's second", r.Result.DataSetMeta)
	}

	// Another name maps another item: nothing is left over from the last call.
	body = inputs(request("APP", "SEQ", "SEQ010", "S01", "", nil),
		[]item{{"Name", "pen"}}, []item{{"ItemID", "0"}, {"Label", "none"}})
	if r := execute(t, h, body); *r.Acknowledge != 1 || !strings.Contains(string(r.Result.DataSet[0].Value), `"pen!"`) {
		t.Errorf("S01 pen: ack %d %s, dataSet %+v", *r.Acknowledge, r.ExceptionText, r.Result.DataSet)
	}
}

func TestSequentialFailures(t *testing.T) {
	h := startSequential(t)
	row := []item{{"Any", "1"}}
	t.Run("failing step", func(t *testing.T) {
		r := execute(t, h, request("APP", "SEQ", "SEQ010", "S02", "", row))
		if *r.Acknowledge != 0 {
			t.Fatalf("acknowledge 1 for a step on a missing table: %+v", r.Result)
		}
		if r.ErrorCode == "" || strings.HasPrefix(r.ErrorCode, "TX_") && r.ErrorCode != "TX_MODULE" {
			t.Errorf("errorCode %q: want dbclient's own code", r.ErrorCode)
		}
		if strings.Contains(r.ExceptionText, "NoSuchTable") || strings.Contains(r.ExceptionText, "Secret") {
			t.Errorf("exceptionText shows the SQL: %s", r.ExceptionText)
		}
		if len(r.Result.DataSet) != 0 {
			t.Errorf("the first step's results leaked into a failed response: %v", r.ids())
		}
	})
	t.Run("FieldMapping result is not an object", func(t *testing.T) {
		r := execute(t, h, request("APP", "SEQ", "SEQ010", "S03", "", row))
		if *r.Acknowledge != 0 || r.ErrorCode != "TX_OUTPUT" || !strings.Contains(r.ExceptionText, "FieldMapping") {
			t.Errorf("got ack %d %s %q, want TX_OUTPUT naming FieldMapping", *r.Acknowledge, r.ErrorCode, r.ExceptionText)
		}
	})
	t.Run("non-Json return type", func(t *testing.T) {
		r := execute(t, h, request("APP", "SEQ", "SEQ010", "S04", "", row))
		if *r.Acknowledge != 0 || r.ErrorCode != "TX_RETURN_TYPE" || !strings.Contains(r.ExceptionText, "Json만 지원") {
			t.Errorf("got ack %d %s %q, want TX_RETURN_TYPE", *r.Acknowledge, r.ErrorCode, r.ExceptionText)
		}
	})
	t.Run("FieldMapping source without a matching row", func(t *testing.T) {
		body := inputs(request("APP", "SEQ", "SEQ010", "S01", "", nil),
			[]item{{"Name", "nothing"}}, []item{{"ItemID", "0"}, {"Label", "none"}})
		r := execute(t, h, body)
		// No row: GD01's form is empty, so the inputs keep their values and
		// LD01 finds no item 0.
		if *r.Acknowledge != 1 {
			t.Fatalf("S01 without a match: %s (%s)", r.ExceptionText, r.ErrorCode)
		}
		if got := string(r.Result.DataSet[1].Value); got != "[]" {
			t.Errorf("LD01 grid %s, want [] (ItemID 0 kept)", got)
		}
	})
}
