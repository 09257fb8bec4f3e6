package dbclient_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/wire"
)

// failContract is a test-only statement that fails when it runs.
const failContract = `<mapper><header><application>HDS</application><project>TST</project><transaction>FAIL010</transaction>
<datasource>DB01</datasource><use>Y</use></header><commands>
<statement id="XD01" seq="0"><![CDATA[SELECT * FROM NoSuchTable]]></statement>
</commands></mapper>`

// startBoard runs HandStack's board contracts (BOD010-012, unchanged from
// the shared fixtures) on a fresh SQLite file and seeds it with ZD01.
func startBoard(t testing.TB) *env {
	t.Helper()
	fixtures := acktest.Shared(t, "fixtures/handstack/home/contracts/dbclient")
	e := start(t, map[string]any{
		"ContractBasePath": []string{fixtures},
		"DataSource": []map[string]any{{
			"ApplicationID": "HDS", "ProjectID": "*", "DataSourceID": "DB01", "DataProvider": "SQLite",
			"ConnectionString": "URI=file:sqlite/HDS.db;Journal Mode=Off;BinaryGUID=False;DateTimeFormat=Ticks;Version=3;",
		}},
	}, map[string]string{"HDS/TST/FAIL010.xml": failContract})
	resp := e.ok(t, request(q("HDS|BOD|BOD010|ZD0100", nil)))
	if string(resp.ResultJSON) != "[]" || len(resp.ResultMeta) != 0 {
		t.Fatalf("ZD01: ResultJson %s, ResultMeta %v; want [] and []", resp.ResultJSON, resp.ResultMeta)
	}
	return e
}

func list(category, title string) wire.QueryObject {
	now := time.Now()
	return q("HDS|BOD|BOD010|LD0100", []wire.JSONObjectType{wire.GridJSON},
		"Category", category, "Title", title,
		"StartDate", now.AddDate(0, 0, -31).Format("2006-01-02"), "EndDate", now.Format("2006-01-02"),
		"OrderBy", "ID", "Sequence", "DESC")
}

func TestBoardFixtures(t *testing.T) {
	e := startBoard(t)

	resp := e.ok(t, request(list("", "")))
	rows := grid(t, resp, "GridData0")
	if len(rows) != 90 {
		t.Fatalf("LD01: %d rows, want 90", len(rows))
	}
	if rows[0]["ID"] != 90.0 || rows[89]["ID"] != 1.0 {
		t.Errorf("LD01 order: first ID %v, last ID %v; want 90 and 1", rows[0]["ID"], rows[89]["ID"])
	}
	if rows[0]["EditPost"] != "확인" || rows[0]["Author"] != "개발자" || len(rows[0]) != 6 {
		t.Errorf("LD01 row: %v", rows[0])
	}
	if want := "ID:number;Category:string|-1;Title:string|-1;Author:string|-1;DatePosted:string|-1;EditPost:string|-1;"; len(resp.ResultMeta) != 1 || resp.ResultMeta[0] != want {
		t.Errorf("LD01 meta %q, want %q", resp.ResultMeta, want)
	}
	if resp.CorrelationID != "G-test" {
		t.Errorf("CorrelationID %q", resp.CorrelationID)
	}
	if n := len(grid(t, e.ok(t, request(list("정보", ""))), "GridData0")); n != 30 {
		t.Errorf("LD01 Category=정보: %d rows, want 30", n)
	}
	if n := len(grid(t, e.ok(t, request(list("", "제목1"))), "GridData0")); n != 33 {
		t.Errorf("LD01 Title=제목1: %d rows, want 33", n)
	}

	// Insert, read, update, delete.
	ins := e.ok(t, request(q("HDS|BOD|BOD011|ID0100", nil, "Category", "소식", "Title", "새 글", "Content", "본문", "Author", "ack", "CreateDate", "")))
	if string(ins.ResultJSON) != "[]" {
		t.Errorf("ID01: ResultJson %s", ins.ResultJSON)
	}
	if n := len(grid(t, e.ok(t, request(list("", ""))), "GridData0")); n != 91 {
		t.Fatalf("after ID01: %d rows, want 91", n)
	}
	detail := func() map[string]any {
		return form(t, e.ok(t, request(q("HDS|BOD|BOD012|GD0100", []wire.JSONObjectType{wire.FormJSON}, "ID", "91"))), "FormData0")
	}
	if got := detail(); got["Title"] != "새 글" || got["ID"] != 91.0 || got["Content"] != "본문" {
		t.Fatalf("GD01 after insert: %v", got)
	}
	e.ok(t, request(q("HDS|BOD|BOD012|UD0100", nil, "ID", "91", "Category", "강좌", "Title", "고친 글", "Content", "새 본문", "Author", "ack")))
	if got := detail(); got["Title"] != "고친 글" || got["Category"] != "강좌" {
		t.Fatalf("GD01 after update: %v", got)
	}
	e.ok(t, request(q("HDS|BOD|BOD012|DD0100", nil, "ID", "91")))
	if got := detail(); len(got) != 0 {
		t.Fatalf("GD01 after delete: %v, want {}", got)
	}
}

func TestBoardTransactionAtomicity(t *testing.T) {
	e := startBoard(t)
	insert := q("HDS|BOD|BOD011|ID0100", nil, "Category", "정보", "Title", "atomic", "Content", "c", "Author", "a", "CreateDate", "")
	count := func() int { return len(grid(t, e.ok(t, request(list("", "atomic"))), "GridData0")) }

	req := request(insert, q("HDS|TST|FAIL010|XD0100", nil))
	req.IsTransaction = true
	resp := e.call(t, req)
	if resp.Acknowledge != 0 || resp.ErrorCode != "dbclient.query_failed" {
		t.Fatalf("failing transaction: %+v", resp)
	}
	if n := count(); n != 0 {
		t.Fatalf("IsTransaction=true: %d rows kept, want 0 (rolled back)", n)
	}

	req.IsTransaction = false
	if resp := e.call(t, req); resp.Acknowledge != 0 {
		t.Fatalf("failing request without transaction was acknowledged")
	}
	if n := count(); n != 1 {
		t.Fatalf("IsTransaction=false: %d rows, want 1 (the insert before the failure stays)", n)
	}
}

func TestBoardOverHTTP(t *testing.T) {
	e := startBoard(t)
	body, _ := json.Marshal(request(list("소식", "")))
	res := e.Post(t, "/dbclient/api/query", body)
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	var resp wire.DynamicResponse
	if err := json.NewDecoder(res.Body).Decode(&resp); err != nil {
		t.Fatal(err)
	}
	if resp.Acknowledge != 1 || len(grid(t, &resp, "GridData0")) != 30 {
		t.Fatalf("HTTP LD01: %+v", resp)
	}

	for _, tc := range []struct{ path, want string }{
		{"/dbclient/api/query/has?applicationID=HDS&projectID=BOD&transactionID=BOD010&functionID=LD0100", "true"},
		{"/dbclient/api/query/has?ApplicationID=HDS&ProjectID=BOD&TransactionID=BOD010&FunctionID=XX0100", "false"},
	} {
		res := e.Get(t, tc.path)
		var got json.RawMessage
		_ = json.NewDecoder(res.Body).Decode(&got)
		res.Body.Close()
		if string(got) != tc.want {
			t.Errorf("GET %s = %s, want %s", tc.path, got, tc.want)
		}
	}
	res = e.Get(t, "/dbclient/api/query/retrieve?applicationID=HDS&projectID=BOD&transactionID=BOD012")
	var maps []struct {
		StatementID  string
		DataSourceID string
		DbParameters []struct{ Name, DbType string }
	}
	if err := json.NewDecoder(res.Body).Decode(&maps); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if len(maps) != 3 || maps[0].DataSourceID != "DB01" || len(maps[0].DbParameters) == 0 || maps[0].DbParameters[0].Name != "@ID" {
		t.Errorf("retrieve: %+v", maps)
	}
	res = e.Get(t, "/dbclient/api/query/meta")
	var ids []string
	_ = json.NewDecoder(res.Body).Decode(&ids)
	res.Body.Close()
	if fmt.Sprint(ids) != "[HDS|BOD|BOD010|LD0100 HDS|BOD|BOD010|ZD0100 HDS|BOD|BOD011|ID0100 HDS|BOD|BOD012|DD0100 HDS|BOD|BOD012|GD0100 HDS|BOD|BOD012|UD0100 HDS|TST|FAIL010|XD0100]" {
		t.Errorf("meta: %v", ids)
	}
}
