package dbclient_test

import (
	"testing"

	"github.com/ack-dev/ack/internal/wire"
)

// BenchmarkBoardList runs HandStack's board list (BOD010 LD01: a CREATE
// TABLE IF NOT EXISTS and a 90-row SELECT with six bound parameters) on
// SQLite through the in-process executor, as transact calls it.
func BenchmarkBoardList(b *testing.B) {
	e := startBoard(b)
	req := request(list("", ""))
	b.ReportAllocs()
	for b.Loop() {
		if resp := e.ok(b, req); resp.Acknowledge != 1 {
			b.Fatal(resp.ExceptionText)
		}
	}
}

// BenchmarkBoardDetail runs BOD012 GD01 (one row by key), the smallest
// round trip.
func BenchmarkBoardDetail(b *testing.B) {
	e := startBoard(b)
	req := request(q("HDS|BOD|BOD012|GD0100", []wire.JSONObjectType{wire.FormJSON}, "ID", "45"))
	b.ReportAllocs()
	for b.Loop() {
		e.ok(b, req)
	}
}
