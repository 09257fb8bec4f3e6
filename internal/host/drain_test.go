package host_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/config"
	"github.com/ack-dev/ack/internal/module"
)

// During the drain delay the listener still accepts, so answers keep their
// connection (a keep-alive caller does not reconnect for every request);
// once the listener is closed, a request still arriving over a kept-alive
// connection is answered and asked to close it.
func TestConnectionCloseOnlyOnceTheListenerIsClosed(t *testing.T) {
	h := acktest.Start(t, acktest.Options{Modules: []module.Info{newInfo("alpha", nil, &journal{})}, Settings: func(s *config.Settings) {
		s.Shutdown.DrainDelay = config.Duration(2 * time.Second)
	}})
	stopped := make(chan error, 1)
	go func() { stopped <- h.Host.Shutdown(context.Background()) }()

	var draining *http.Response
	acktest.Eventually(t, 5*time.Second, "readiness to turn false", func() bool {
		resp, err := h.Client.Get(h.URL + "/readyz")
		if err != nil {
			return false
		}
		if strings.Contains(acktest.ReadBody(t, resp), `"state":"draining"`) {
			draining = resp
			return true
		}
		return false
	})
	if draining.Close {
		t.Errorf("an answer during the drain delay asks the client to close its connection")
	}

	acktest.Eventually(t, 10*time.Second, "the listener to close", func() bool {
		c, err := net.Dial("tcp", strings.TrimPrefix(h.URL, "http://"))
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	// h.Client still holds the keep-alive connection of the last readyz.
	resp, err := h.Client.Get(h.URL + "/readyz")
	if err != nil {
		t.Fatalf("a request over a kept-alive connection after the listener closed: %v", err)
	}
	acktest.ReadBody(t, resp)
	if !resp.Close {
		t.Errorf("an answer after the listener closed does not ask the client to close its connection")
	}
	if err := <-stopped; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

// A client with a pool of kept-alive connections that keeps sending after the
// listener closed is answered on every one of them (each answer closing its
// connection) for as long as it keeps sending, not cut off after a fixed
// grace: cutting an idle connection the client is reusing loses the request.
func TestKeptAliveConnectionsAreUsedUpNotCut(t *testing.T) {
	var mod *testModule
	info := newInfo("alpha", nil, &journal{})
	inner := info.New
	info.New = func() module.Module { m := inner(); mod = m.(*testModule); return m }
	h := acktest.Start(t, acktest.Options{Modules: []module.Info{info}})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 100}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()

	// n requests in flight at once open n connections, idle in the pool after.
	const n = 12
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			resp, err := client.Get(h.URL + "/alpha/slow")
			if err != nil {
				t.Errorf("slow request: %v", err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		})
	}
	acktest.Eventually(t, 5*time.Second, "the slow requests to be in flight", func() bool {
		return strings.Contains(acktest.ReadBody(t, h.Get(t, "/metrics")), fmt.Sprintf("ack_http_in_flight_requests %d", n+1))
	})
	close(mod.release)
	wg.Wait()

	stopped := make(chan error, 1)
	go func() { stopped <- h.Host.Shutdown(context.Background()) }()
	acktest.Eventually(t, 10*time.Second, "the listener to close", func() bool {
		c, err := net.Dial("tcp", strings.TrimPrefix(h.URL, "http://"))
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	// One request every 100 ms: n of them last longer than the idle grace
	// (0.5 s), and each uses up one pooled connection.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for i := range n {
		<-tick.C
		resp, err := client.Get(h.URL + "/alpha/note/none")
		if err != nil {
			t.Fatalf("request %d of %d after the listener closed: %v", i+1, n, err)
		}
		acktest.ReadBody(t, resp)
		if resp.StatusCode != http.StatusNotFound || !resp.Close {
			t.Fatalf("request %d: status %d, Connection: close %v; want 404 and close", i+1, resp.StatusCode, resp.Close)
		}
	}
	if err := <-stopped; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}
