package dynsql_test

import (
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/ack-dev/ack/internal/dialect"
	"github.com/ack-dev/ack/internal/wire"
	"github.com/ack-dev/ack/modules/dbclient/dynsql"
	"github.com/ack-dev/ack/modules/dbclient/sqlmap"
)

// BenchmarkPrepare measures the per-request work before the database:
// variables, parameter binding, rendering (bind, two ifs, a foreach) and the
// PostgreSQL placeholder rewrite with statement splitting.
func BenchmarkPrepare(b *testing.B) {
	ar, err := txtar.ParseFile("testdata/order_search.txtar")
	if err != nil {
		b.Fatal(err)
	}
	var contract []byte
	for _, f := range ar.Files {
		if f.Name == "contract.xml" {
			contract = f.Data
		}
	}
	sts, _, err := sqlmap.Parse("A/P/T.xml", contract)
	if err != nil {
		b.Fatal(err)
	}
	params := []wire.DynamicParameter{
		{ParameterName: "Status", Value: "", DbType: "String"},
		{ParameterName: "Keyword", Value: "pen", DbType: "String"},
		{ParameterName: "Regions", Value: "N,S", DbType: "String"},
		{ParameterName: "UseRegions", Value: "Y", DbType: "String"},
	}
	b.ReportAllocs()
	for b.Loop() {
		vars, present, err := dynsql.Variables(params)
		if err != nil {
			b.Fatal(err)
		}
		named, err := dynsql.Bind(sts[0], vars, present)
		if err != nil {
			b.Fatal(err)
		}
		q, err := dynsql.Render(sts[0].Body, vars, named, false)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := dialect.Compile(dialect.PostgreSQL, q); err != nil {
			b.Fatal(err)
		}
	}
}
