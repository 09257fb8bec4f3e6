package peer_test

import (
	"testing"

	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/internal/peer"
	"github.com/ack-dev/ack/internal/wire"
)

func benchRequest() *wire.DynamicRequest {
	return request("HDS|BOD|BOD010|LD0100",
		wire.DynamicParameter{ParameterName: "Name", Value: "홍길동", DbType: "String", Length: -1},
		wire.DynamicParameter{ParameterName: "Age", Value: 42, DbType: "Int32", Length: -1})
}

// BenchmarkExecute compares the direct call of a co-located module with the
// same call through the resolver's HTTP path (loopback, one endpoint).
func BenchmarkExecute(b *testing.B) {
	exec := &echoExecutor{}
	srv := serve(b, "127.0.0.1:0", executorHandler(exec))
	local := newResolver(b, peer.Options{Local: map[module.ID]module.Module{module.DBClient: exec}})
	remote := newResolver(b, peer.Options{Endpoints: dbclientAt(srv.URL)})
	for _, bc := range []struct {
		name string
		r    *peer.Resolver
	}{{"local", local}, {"http", remote}} {
		ex, err := bc.r.Executor(module.DBClient, "")
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			req := benchRequest()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := ex.Execute(b.Context(), req); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
