// Package peertest checks that a module answers the same whether it is called
// in process or over HTTP: the conformance table every executor module (and
// package peer itself) runs.
package peertest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/internal/peer"
	"github.com/ack-dev/ack/internal/wire"
)

// Case is one request of a conformance table.
type Case struct {
	Name    string
	Request wire.DynamicRequest
}

// Compare runs every case against exec directly and against handler (the
// module's routes serving the same executor, e.g. a ServeMux of its
// Routes()) behind a real HTTP server, reached through a peer.Resolver the
// way another process would. Both must fail, or both must answer the same
// DynamicResponse once encoded as JSON (what a client sees).
func Compare(t *testing.T, id module.ID, exec module.Executor, handler http.Handler, cases []Case) {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	r, err := peer.NewResolver(peer.Options{
		Endpoints:      map[module.ID][]string{id: {srv.URL}},
		HealthInterval: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	remote, err := r.Executor(id, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			localReq, remoteReq := tc.Request, tc.Request
			want, localErr := exec.Execute(t.Context(), &localReq)
			got, remoteErr := remote.Execute(t.Context(), &remoteReq)
			if (localErr != nil) != (remoteErr != nil) {
				t.Fatalf("local error %v, remote error %v", localErr, remoteErr)
			}
			if localErr != nil {
				return
			}
			if w, g := canonical(t, want), canonical(t, got); !bytes.Equal(w, g) {
				t.Errorf("responses differ\nlocal:  %s\nremote: %s", w, g)
			}
		})
	}
}

// canonical encodes v as JSON with object keys sorted and numbers as a
// client decodes them, so that equal answers compare equal.
func canonical(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode response: %v", err)
	}
	var generic any
	if err := json.Unmarshal(data, &generic); err != nil {
		t.Fatalf("decode response: %v", err)
	}
	data, err = json.Marshal(generic)
	if err != nil {
		t.Fatalf("encode response: %v", err)
	}
	return data
}
