package transact_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/config"
)

// The board list transaction (BOD010 LD01, 90 rows) over HTTP at 16
// concurrent clients: ack (transact+dbclient in one process, and transact and
// dbclient in two) against the floor, a hand-written net/http +
// database/sql handler running the same SQL on the same database, on SQLite
// and (with ACK_TEST_PG_DSN) on PostgreSQL.
//
//	go test -run '^$' -bench BenchmarkBoardList -benchtime 3s ./modules/transact/
func BenchmarkBoardList(b *testing.B) {
	tc := acktest.Shared(b, "fixtures/handstack/home/contracts/transact")
	dc := acktest.Shared(b, "fixtures/handstack/home/contracts/dbclient")
	body, _ := json.Marshal(listRequest("", ""))
	for _, l := range boardLayouts[:2] {
		b.Run("ack-"+l.name+"-sqlite", func(b *testing.B) {
			h := startBench(b, l, tc, sqliteBoard(b, dc))
			runClients(b, h.URL+"/transact/api/transaction/execute", body)
		})
	}
	b.Run("floor-sqlite", func(b *testing.B) {
		// The floor reads the database ack seeded, so both see the same rows.
		h := startBench(b, boardLayouts[0], tc, sqliteBoard(b, dc))
		db, err := sql.Open("sqlite", filepath.Join(h.Home, "data", "dbclient", "HDS", "DB01.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		runClients(b, serveFloor(b, db, "", floorSQLite, nil), body)
	})
	pg := boardServers[0]
	for _, l := range boardLayouts[:2] {
		b.Run("ack-"+l.name+"-postgresql", func(b *testing.B) {
			settings, _ := pg.settings(b)
			h := startBench(b, l, tc, settings)
			runClients(b, h.URL+"/transact/api/transaction/execute", body)
		})
	}
	b.Run("floor-postgresql", func(b *testing.B) {
		settings, dsn := pg.settings(b)
		startBench(b, boardLayouts[0], tc, settings) // seeds the table
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		runClients(b, serveFloor(b, db, floorPostgreSQLCreate, floorPostgreSQL, floorPostgreSQLArgs), body)
	})
}

// startBench runs layout l and seeds the board with ZD01.
func startBench(b *testing.B, l boardLayout, tc string, db func(*config.Settings)) *acktest.Host {
	b.Helper()
	h := l.start(b, tc, db)
	seed, _ := json.Marshal(request("HDS", "BOD", "BOD010", "ZD01", "Row|", nil))
	var r response
	post(b, h.URL+"/transact/api/transaction/execute", seed, &r)
	if r.Acknowledge == nil || *r.Acknowledge != 1 {
		b.Fatalf("ZD01: %+v", r)
	}
	return h
}

func post(b *testing.B, url string, body []byte, out any) {
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		b.Fatalf("%s: %d %s", url, resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			b.Fatal(err)
		}
	}
}

// runClients posts body b.N times from 16 clients; every answer must be a
// 200 with the 90 rows (over 1000 bytes).
func runClients(b *testing.B, url string, body []byte) {
	acktest.Load(b, acktest.LoadOptions{URL: url, Body: body, Check: func(status int, answer []byte) error {
		if status != http.StatusOK || len(answer) < 1000 {
			return fmt.Errorf("status %d, %d bytes", status, len(answer))
		}
		return nil
	}})
}

// floorSQLite is LD01's statement (BOD010.xml), which also creates the table.
const floorSQLite = `CREATE TABLE IF NOT EXISTS Board (ID INTEGER PRIMARY KEY AUTOINCREMENT, Category TEXT, Title TEXT, Content TEXT, Author TEXT, DatePosted TEXT);
SELECT B.ID, B.Category, B.Title, B.Author, B.DatePosted, '확인' AS EditPost
FROM Board B
WHERE B.DatePosted BETWEEN @StartDate AND (@EndDate || '23:59:59')
    AND CASE WHEN @Category = '' THEN @Category ELSE B.Category END = @Category
    AND CASE WHEN @Title = '' THEN @Title ELSE B.Title END LIKE ('%' || @Title || '%')
ORDER BY (CASE @Sequence WHEN 'ASC' THEN CASE @OrderBy WHEN 'ID' THEN ID WHEN 'Category' THEN Category WHEN 'Title' THEN Title WHEN 'Author' THEN Author END END) ASC,
    (CASE @Sequence WHEN 'DESC' THEN CASE @OrderBy WHEN 'ID' THEN ID WHEN 'Category' THEN Category WHEN 'Title' THEN Title WHEN 'Author' THEN Author END END) DESC`

// floorPostgreSQL is LD01 in dbclient's PostgreSQL board contract
// (testdata/postgresql BOD010.xml): the CREATE TABLE IF NOT EXISTS, then the
// SELECT with positional arguments (pgx ignores argument names, and runs
// one statement per call with arguments, as dbclient sends them).
const floorPostgreSQLCreate = `CREATE TABLE IF NOT EXISTS ack_dbclient_board (ID SERIAL PRIMARY KEY, Category TEXT, Title TEXT, Content TEXT, Author TEXT, DatePosted TIMESTAMP, Price NUMERIC(14, 2))`

const floorPostgreSQL = `SELECT B.ID AS "ID", B.Category AS "Category", B.Title AS "Title", B.Author AS "Author",
	to_char(B.DatePosted, 'YYYY-MM-DD HH24:MI:SS') AS "DatePosted", '확인' AS "EditPost"
FROM ack_dbclient_board B
WHERE B.DatePosted BETWEEN CAST($1 AS timestamp) AND CAST($2 AS date) + interval '1 day'
	AND ($3 = '' OR B.Category = $3)
	AND B.Title LIKE '%' || $4 || '%'
ORDER BY CASE WHEN $5 = 'ASC' THEN B.ID END ASC, CASE WHEN $5 = 'DESC' THEN B.ID END DESC`

// floorPostgreSQLArgs are the request fields bound to $1, $2, ...
var floorPostgreSQLArgs = []string{"StartDate", "EndDate", "Category", "Title", "Sequence"}

// serveFloor serves the minimal handler: decode the same request body, run
// create (when not empty) and the query with the request's fields (named,
// or by position in the order of positional), answer the rows as JSON.
func serveFloor(b *testing.B, db *sql.DB, create, query string, positional []string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	// The pool policy of dbclient's defaults, so that both open and keep
	// connections alike (database/sql's default keeps only two idle).
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(5)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			PayLoad struct {
				DataMapSet [][]struct {
					ID    string `json:"id"`
					Value string `json:"value"`
				} `json:"dataMapSet"`
			} `json:"payLoad"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.PayLoad.DataMapSet) != 1 {
			http.Error(w, "bad request", 400)
			return
		}
		args := []any{}
		for _, f := range req.PayLoad.DataMapSet[0] {
			args = append(args, sql.Named(f.ID, f.Value))
		}
		if positional != nil {
			byName := args
			args = make([]any, len(positional))
			for i, name := range positional {
				for _, a := range byName {
					if a.(sql.NamedArg).Name == name {
						args[i] = a.(sql.NamedArg).Value
					}
				}
			}
		}
		if create != "" {
			if _, err := db.ExecContext(r.Context(), create); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
		}
		rows, err := db.QueryContext(r.Context(), query, args...)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		out := []map[string]any{}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			m := make(map[string]any, len(cols))
			for i, c := range cols {
				m[c] = vals[i]
			}
			out = append(out, m)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"acknowledge": 1, "result": map[string]any{"dataSet": []any{map[string]any{"id": "GridData0", "value": out}}}})
	})}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}
