package peer

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/internal/wire"
)

func FuzzDecodeResponse(f *testing.F) {
	f.Add(0, []byte(`{"Acknowledge":1,"ResultJson":[{"id":"FormData0","value":{}}]}`))
	f.Add(0, []byte(`{"Acknowledge":0,"ExceptionText":"boom"}`))
	f.Add(6, []byte(`<rows/>`))
	f.Add(1, []byte(`{"ResultObject":12.5}`))
	f.Add(0, []byte(`null`))
	f.Add(0, []byte(`{"ReturnType":"x"`))
	f.Fuzz(func(t *testing.T, rt int, data []byte) {
		resp, err := decodeResponse(wire.ReturnType(rt), data)
		if err != nil {
			return
		}
		if resp == nil {
			t.Fatal("nil response without an error")
		}
		if wire.ReturnType(rt) != wire.ReturnXML && !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
			t.Fatalf("accepted %q, which is not a JSON object", data)
		}
	})
}

func FuzzParseBase(f *testing.F) {
	for _, s := range []string{"http://127.0.0.1:8004", "https://host/prefix/", "localhost:8004", "http://", "http://a b", "http://[::1]:1", "HTTP://X:1/%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		base, err := parseBase(raw)
		if err != nil {
			return
		}
		if !utf8.ValidString(base) || strings.HasSuffix(base, "/") {
			t.Fatalf("parseBase(%q) = %q", raw, base)
		}
		again, err := parseBase(base)
		if err != nil || again != base {
			t.Fatalf("parseBase(%q) = %q, which parses to %q, %v", raw, base, again, err)
		}
	})
}

func FuzzExecutorURL(f *testing.F) {
	for _, s := range []string{"", "http://localhost:8421/dbclient/api/query", "event://dbclient.Events.DbClientRequest", "event://", "https://h:1/x?y=1#z", "http://127.0.0.1:8421/x", "ftp://x", "\x00"} {
		f.Add(s)
	}
	r, err := NewResolver(Options{
		Endpoints:      map[module.ID][]string{module.Function: {"http://127.0.0.1:9"}},
		Self:           []string{"http://127.0.0.1:8421"},
		HealthInterval: -1,
		Logger:         slog.New(slog.DiscardHandler),
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, id := range []module.ID{module.DBClient, module.Function} {
			ex, err := r.Executor(id, raw)
			if err != nil {
				continue
			}
			he, ok := ex.(*httpExecutor)
			if !ok || !strings.HasPrefix(he.path, "/") || !utf8.ValidString(he.c.endpoints[0].base) {
				t.Fatalf("Executor(%s, %q) = %#v", id, raw, ex)
			}
		}
	})
}
