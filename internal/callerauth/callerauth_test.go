package callerauth

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestParseAllowList(t *testing.T) {
	tests := []struct {
		entries []string
		ok      bool
	}{
		{nil, true},
		{[]string{}, true},
		{[]string{"*"}, true},
		{[]string{" 10.0.0.1 ", "::1", "10.0.0.0/8", "2001:db8::/32", "LocalHost", " * "}, true},
		{[]string{"not an ip"}, false},
		{[]string{"10.0.0.1", "10.0.0.300"}, false},
		{[]string{"10.0.0.0/33"}, false},
		{[]string{""}, false},
		{[]string{"**"}, false},
	}
	for _, tc := range tests {
		_, err := ParseAllowList(tc.entries)
		if (err == nil) != tc.ok {
			t.Errorf("ParseAllowList(%q) = %v, want ok=%v", tc.entries, err, tc.ok)
		}
	}
	if _, err := ParseAddrs([]string{"*"}); err == nil {
		t.Error(`ParseAddrs accepted "*", which only an allow-list may hold`)
	}
	_, err := ParseAddrs([]string{"bogus"})
	if err == nil || !strings.Contains(err.Error(), `"bogus"`) {
		t.Errorf("the error should quote the wrong entry: %v", err)
	}
}

func TestContains(t *testing.T) {
	tests := []struct {
		entries []string
		ip      string // "" is an unknown address
		want    bool
	}{
		{[]string{"localhost"}, "127.0.0.1", true},
		{[]string{"localhost"}, "127.0.0.2", true},
		{[]string{"localhost"}, "::1", true},
		{[]string{"localhost"}, "::ffff:127.0.0.1", true},
		{[]string{"localhost"}, "10.0.0.1", false},
		{[]string{"127.0.0.1"}, "127.0.0.10", false}, // HandStack matched substrings
		{[]string{"127.0.0.1"}, "127.0.0.1", true},
		{[]string{"127.0.0.1"}, "::ffff:127.0.0.1", true},
		{[]string{"::ffff:10.0.0.1"}, "10.0.0.1", true},
		{[]string{"127.0.0.1", "::1"}, "::1", true},
		{[]string{"127.0.0.1", "::1"}, "127.0.0.2", false},
		{[]string{"10.0.0.0/8"}, "10.1.2.3", true},
		{[]string{"10.1.2.3/8"}, "10.200.0.1", true}, // host bits are masked
		{[]string{"10.0.0.0/8"}, "11.1.2.3", false},
		{[]string{"2001:db8::/32"}, "2001:db8::7", true},
		{[]string{"2001:db8::/32"}, "2001:db9::7", false},
		{[]string{"fe80::/10"}, "fe80::1%eth0", true},
		{[]string{"fe80::1%eth0"}, "fe80::1", true},
		{[]string{"*"}, "1.2.3.4", true},
		{[]string{"*"}, "", false},
		{[]string{"localhost"}, "", false},
		{nil, "127.0.0.1", false},
		{[]string{}, "127.0.0.1", false},
	}
	for _, tc := range tests {
		list, err := ParseAllowList(tc.entries)
		if err != nil {
			t.Fatalf("ParseAllowList(%q): %v", tc.entries, err)
		}
		var ip netip.Addr
		if tc.ip != "" {
			ip = netip.MustParseAddr(tc.ip)
		}
		if got := list.Contains(ip); got != tc.want {
			t.Errorf("%q.Contains(%q) = %v, want %v", tc.entries, tc.ip, got, tc.want)
		}
	}
	if (Addrs{}).Contains(netip.MustParseAddr("127.0.0.1")) {
		t.Error("the zero Addrs matched an address")
	}
}

func request(remote, target string, header ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://ack.test"+target, nil)
	r.RemoteAddr = remote
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	return r
}

func TestPeerIP(t *testing.T) {
	tests := []struct{ remote, want string }{
		{"127.0.0.1:5000", "127.0.0.1"},
		{"[::1]:5000", "::1"},
		{"[::ffff:10.0.0.7]:80", "10.0.0.7"},
		{"10.0.0.7", "10.0.0.7"}, // no port
		{"garbage", "invalid IP"},
		{"", "invalid IP"},
		{"@", "invalid IP"},
	}
	for _, tc := range tests {
		if got := PeerIP(request(tc.remote, "/")).String(); got != tc.want {
			t.Errorf("PeerIP(%q) = %s, want %s", tc.remote, got, tc.want)
		}
	}
}

func TestClientIP(t *testing.T) {
	proxies, err := ParseAddrs([]string{"10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, remote, forwarded, want string
	}{
		{"loopback proxy", "127.0.0.1:1", "203.0.113.7, 10.1.1.1", "203.0.113.7"},
		{"listed proxy", "10.2.3.4:1", " 203.0.113.7 ", "203.0.113.7"},
		{"mapped forwarded address", "10.2.3.4:1", "::ffff:203.0.113.7", "203.0.113.7"},
		{"untrusted peer", "198.51.100.1:1", "203.0.113.7", "198.51.100.1"},
		{"garbage header", "127.0.0.1:1", "<script>", "127.0.0.1"},
		{"no header", "10.2.3.4:1", "", "10.2.3.4"},
		{"unknown peer", "garbage", "203.0.113.7", "invalid IP"},
	}
	for _, tc := range tests {
		r := request(tc.remote, "/")
		if tc.forwarded != "" {
			r.Header.Set("X-Forwarded-For", tc.forwarded)
		}
		if got := ClientIP(r, proxies).String(); got != tc.want {
			t.Errorf("%s: ClientIP = %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestRule(t *testing.T) {
	keyed, err := New("k3y", []string{})
	if err != nil {
		t.Fatal(err)
	}
	loopbackOnly, err := New("", []string{"127.0.0.1", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	everyone, err := New("", []string{"*"})
	if err != nil {
		t.Fatal(err)
	}
	// The logger's rule: loopback, or the key from anywhere.
	logger, err := New("secret", []string{"localhost"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		rule Rule
		r    *http.Request
		want bool
	}{
		{"key in header", keyed, request("203.0.113.5:1", "/", Header, "k3y"), true},
		{"wrong key", keyed, request("203.0.113.5:1", "/", Header, "k3y "), false},
		{"key prefix", keyed, request("203.0.113.5:1", "/", Header, "k3"), false},
		{"no key", keyed, request("127.0.0.1:1", "/"), false},
		{"query key from loopback", keyed, request("127.0.0.1:1", "/?AuthorizationKey=k3y"), true},
		{"query key name in any case", keyed, request("[::1]:1", "/?authorizationkey=k3y"), true},
		{"query key from a remote caller", keyed, request("203.0.113.5:1", "/?AuthorizationKey=k3y"), false},
		{"header wins over the query", keyed, request("127.0.0.1:1", "/?AuthorizationKey=k3y", Header, "wrong"), false},
		{"empty configured key", loopbackOnly, request("203.0.113.5:1", "/", Header, ""), false},
		{"allowed IP", loopbackOnly, request("127.0.0.1:1", "/"), true},
		{"allowed IPv6", loopbackOnly, request("[::1]:1", "/"), true},
		{"unlisted IP", loopbackOnly, request("203.0.113.5:1", "/"), false},
		{"everyone", everyone, request("203.0.113.5:1", "/"), true},
		{"everyone but an unknown address", everyone, request("garbage", "/"), false},
		{"logger loopback v4", logger, request("127.0.0.1:5000", "/"), true},
		{"logger loopback v6", logger, request("[::1]:5000", "/"), true},
		{"logger remote with key", logger, request("10.0.0.5:5000", "/", Header, "secret"), true},
		{"logger remote wrong key", logger, request("10.0.0.5:5000", "/", Header, "guess"), false},
		{"logger remote without key", logger, request("10.0.0.5:5000", "/"), false},
		{"forwarded by a local proxy", loopbackOnly, request("127.0.0.1:1", "/", "X-Forwarded-For", "203.0.113.9"), false},
		{"forwarded with RFC 7239 only", loopbackOnly, request("127.0.0.1:1", "/", "Forwarded", "for=203.0.113.9"), false},
		{"forwarded for a loopback client", loopbackOnly, request("127.0.0.1:1", "/", "X-Forwarded-For", "127.0.0.1"), true},
		{"query key through a local proxy", keyed, request("127.0.0.1:1", "/?AuthorizationKey=k3y", "X-Forwarded-For", "203.0.113.9"), false},
	}
	for _, tc := range tests {
		if got := tc.rule.Allows(tc.r); got != tc.want {
			t.Errorf("%s: Allows = %v, want %v", tc.name, got, tc.want)
		}
	}
	if loopbackOnly.HasKey(request("127.0.0.1:1", "/?AuthorizationKey=")) || (Rule{}).HasKey(request("127.0.0.1:1", "/", Header, "")) {
		t.Error("an empty key was accepted")
	}
	if _, err := New("k", []string{"10.0.0.1/99"}); err == nil || !strings.Contains(err.Error(), "AllowClientIP") {
		t.Errorf("a wrong AllowClientIP entry: %v", err)
	}
}

func FuzzParseAllowList(f *testing.F) {
	for _, s := range []string{"*", "127.0.0.1", "::1", "10.0.0.0/8", "localhost", "::ffff:1.2.3.4", "fe80::1%eth0", "1.2.3.4/0", " ", "x"} {
		f.Add(s, "127.0.0.1")
	}
	f.Fuzz(func(t *testing.T, entry, client string) {
		list, err := ParseAllowList([]string{entry})
		if err != nil {
			return
		}
		ip, err := netip.ParseAddr(client)
		if err != nil {
			return
		}
		got := list.Contains(ip)
		// An address that is itself the entry is always on the list.
		if e, err := netip.ParseAddr(strings.TrimSpace(entry)); err == nil && e.Unmap() == ip.Unmap() && !got {
			t.Errorf("%q does not contain %q", entry, client)
		}
	})
}
