package host_test

import (
	"context"
	"net"
	"net/http"
	"strings"
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
		if strings.Contains(body(t, resp), `"state":"draining"`) {
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
	body(t, resp)
	if !resp.Close {
		t.Errorf("an answer after the listener closed does not ask the client to close its connection")
	}
	if err := <-stopped; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}
