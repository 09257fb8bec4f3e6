// Package callerauth is the receiving side of HandStack's rule for calls
// between modules: a caller is served when it sends the module's
// AuthorizationKey or when its address is on the module's AllowClientIP list.
// It also says who the caller is: the socket peer, or the address a trusted
// proxy forwarded.
package callerauth

import (
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/ack-dev/ack/internal/httpx"
)

// Header carries the AuthorizationKey, as HandStack's modules send it.
const Header = "AuthorizationKey"

// Refused is HandStack's answer to a refused caller ("required access
// information missing"), with what ack wants instead.
const Refused = "필수 접근 정보 확인 필요 (AuthorizationKey or an allowed client IP is required)"

// Addrs matches client addresses against a parsed list of IPs, CIDR
// prefixes, "localhost" (every loopback address) and, in an allow-list, "*"
// (every caller). The zero Addrs matches nothing.
type Addrs struct {
	everyone bool
	loopback bool
	prefixes []netip.Prefix
}

// ParseAddrs parses a list of IPs, CIDR prefixes and "localhost". A wrong
// entry is an error rather than skipped, so that a typo cannot silently
// narrow or widen who is let in.
func ParseAddrs(entries []string) (Addrs, error) {
	var a Addrs
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if strings.EqualFold(e, "localhost") {
			a.loopback = true
			continue
		}
		if p, err := netip.ParsePrefix(e); err == nil {
			a.prefixes = append(a.prefixes, p.Masked())
			continue
		}
		ip, err := netip.ParseAddr(e)
		if err != nil {
			return Addrs{}, fmt.Errorf("%q is not an IP address, a CIDR prefix or localhost", e)
		}
		ip = ip.Unmap()
		a.prefixes = append(a.prefixes, netip.PrefixFrom(ip, ip.BitLen()))
	}
	return a, nil
}

// ParseAllowList parses an AllowClientIP setting: ParseAddrs' entries and
// "*" for every caller.
func ParseAllowList(entries []string) (Addrs, error) {
	rest := make([]string, 0, len(entries))
	everyone := false
	for _, e := range entries {
		if strings.TrimSpace(e) == "*" {
			everyone = true
			continue
		}
		rest = append(rest, e)
	}
	a, err := ParseAddrs(rest)
	if err != nil {
		return Addrs{}, err
	}
	a.everyone = everyone
	return a, nil
}

// Contains reports whether ip is on the list. An invalid ip (a caller whose
// address is unknown) is on no list, not even "*". Zones are ignored: a
// prefix never contains a zoned address.
func (a Addrs) Contains(ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	ip = ip.Unmap().WithZone("")
	if a.everyone || a.loopback && ip.IsLoopback() {
		return true
	}
	for _, p := range a.prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// PeerIP is the socket address of the caller, IPv4-mapped addresses
// unmapped; the zero Addr when RemoteAddr holds no IP (a Unix socket).
func PeerIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return ip.Unmap()
}

// Caller is who a protected route serves: the socket peer, except that a
// request a proxy on this machine forwarded (a loopback peer with
// X-Forwarded-For or Forwarded, as the edge sends) is the forwarded client,
// or no address when that cannot be read. Without this, anyone reaching a
// same-host proxy would pass for a loopback caller.
func Caller(r *http.Request) netip.Addr {
	peer := PeerIP(r)
	if !peer.IsLoopback() {
		return peer
	}
	xff, fwd := r.Header.Get("X-Forwarded-For"), r.Header.Get("Forwarded")
	if xff == "" && fwd == "" {
		return peer
	}
	first, _, _ := strings.Cut(xff, ",")
	if ip, err := netip.ParseAddr(strings.TrimSpace(first)); err == nil {
		return ip.Unmap()
	}
	return netip.Addr{}
}

// ClientIP is the first X-Forwarded-For address when the peer is a trusted
// proxy (loopback, or on proxies), otherwise the peer. HandStack believes the
// header from anyone, which lets any client claim any address.
func ClientIP(r *http.Request, proxies Addrs) netip.Addr {
	peer := PeerIP(r)
	if !peer.IsLoopback() && !proxies.Contains(peer) {
		return peer
	}
	first, _, _ := strings.Cut(r.Header.Get("X-Forwarded-For"), ",")
	if ip, err := netip.ParseAddr(strings.TrimSpace(first)); err == nil {
		return ip.Unmap()
	}
	return peer
}

// Rule is one module's receiving-side check (HandStack's
// IsAllowAuthorization).
type Rule struct {
	key   []byte
	allow Addrs
}

// New parses a module's AuthorizationKey and AllowClientIP settings. An
// empty key accepts no key.
func New(key string, allowClientIP []string) (Rule, error) {
	allow, err := ParseAllowList(allowClientIP)
	if err != nil {
		return Rule{}, fmt.Errorf("AllowClientIP: %w", err)
	}
	return Rule{key: []byte(key), allow: allow}, nil
}

// HasKey reports whether r carries the key: in the AuthorizationKey header
// or, from a loopback peer, in the query string (any case of the name), where
// HandStack's local tools put it. The comparison takes constant time.
func (ru Rule) HasKey(r *http.Request) bool {
	if len(ru.key) == 0 {
		return false
	}
	got := r.Header.Get(Header)
	if got == "" && Caller(r).IsLoopback() {
		got = httpx.Query(r, Header)
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), ru.key) == 1
}

// Allows reports whether r may use the module's protected routes: it carries
// the key, or its caller (see Caller) is on AllowClientIP.
func (ru Rule) Allows(r *http.Request) bool {
	return ru.HasKey(r) || ru.allow.Contains(Caller(r))
}
