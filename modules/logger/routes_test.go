package logger

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ack-dev/ack/internal/callerauth"
	"github.com/ack-dev/ack/internal/module"
)

func TestAuthorize(t *testing.T) {
	access, err := callerauth.New("secret", []string{"localhost"})
	if err != nil {
		t.Fatal(err)
	}
	m := &Module{access: access}
	cases := []struct {
		name, remote, key, forwardedFor string
		ok                              bool
	}{
		{"through a local proxy", "127.0.0.1:5000", "", "203.0.113.9", false},
		{"loopback v4", "127.0.0.1:5000", "", "", true},
		{"loopback v6", "[::1]:5000", "", "", true},
		{"remote with key", "10.0.0.5:5000", "secret", "", true},
		{"remote wrong key", "10.0.0.5:5000", "guess", "", false},
		{"remote without key", "10.0.0.5:5000", "", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/logger/api/log/list?applicationID=A", nil)
			r.RemoteAddr = tc.remote
			if tc.key != "" {
				r.Header.Set("AuthorizationKey", tc.key)
			}
			if tc.forwardedFor != "" {
				r.Header.Set("X-Forwarded-For", tc.forwardedFor)
			}
			err := m.authorize(r)
			if (err == nil) != tc.ok {
				t.Fatalf("authorize = %v, want ok=%v", err, tc.ok)
			}
			var me *module.Error
			if err != nil && (!errors.As(err, &me) || me.Status != http.StatusForbidden) {
				t.Fatalf("want a 403 module.Error, got %v", err)
			}
		})
	}
	// Without a configured key only loopback passes, whatever the header says.
	open := &Module{}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "10.0.0.5:5000"
	r.Header.Set("AuthorizationKey", "")
	if open.authorize(r) == nil {
		t.Fatal("an empty configured key let a remote caller in")
	}
}
