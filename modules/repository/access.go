package repository

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// params reads query-string keys without regard to case, as HandStack's
// ASP.NET model binding does (the browser sends repositoryID, the server
// documents RepositoryID).
type params map[string][]string

func queryParams(r *http.Request) params {
	p := params{}
	for k, v := range r.URL.Query() {
		lk := strings.ToLower(k)
		p[lk] = append(p[lk], v...)
	}
	return p
}

// get returns the first value of key, trimmed.
func (p params) get(key string) string { return strings.TrimSpace(p.raw(key)) }

// raw returns the first value of key as sent.
func (p params) raw(key string) string {
	if v := p[strings.ToLower(key)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func clientIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, _ := netip.ParseAddr(host)
	return ip.Unmap()
}

// keyMatches reports whether the request carries the module's
// AuthorizationKey: in the header, or (from loopback only, as HandStack
// allows) in the query string.
func (m *Module) keyMatches(r *http.Request) bool {
	want := m.cfg.AuthorizationKey
	if want == "" {
		return false
	}
	got := r.Header.Get("AuthorizationKey")
	if got == "" && clientIP(r).IsLoopback() {
		got = queryParams(r).get("AuthorizationKey")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// authorized is HandStack's IsAllowAuthorization: the key, or a client IP
// in AllowClientIP ("*" allows every client).
func (m *Module) authorized(r *http.Request) bool {
	if m.keyMatches(r) {
		return true
	}
	ip := clientIP(r)
	for _, allowed := range m.cfg.AllowClientIP {
		allowed = strings.TrimSpace(allowed)
		if allowed == "*" {
			return true
		}
		if a, err := netip.ParseAddr(allowed); err == nil && a.Unmap() == ip {
			return true
		}
	}
	return false
}

// readAllowed applies a repository's AccessMethod to a read without a
// signed link: public is open; protected needs a loopback caller, a page of
// this host or of WithOrigins (the Referer), or the key; private needs the key.
func (m *Module) readAllowed(r *http.Request, repo Repository) bool {
	switch repo.AccessMethod {
	case accessPublic:
		return true
	case accessProtected:
		return clientIP(r).IsLoopback() || m.refererAllowed(r) || m.keyMatches(r)
	default:
		return m.keyMatches(r)
	}
}

func (m *Module) refererAllowed(r *http.Request) bool {
	ref, err := url.Parse(r.Header.Get("Referer"))
	if err != nil || ref.Host == "" || (ref.Scheme != "http" && ref.Scheme != "https") {
		return false
	}
	if strings.EqualFold(ref.Host, r.Host) {
		return true
	}
	origin := strings.ToLower(ref.Scheme + "://" + ref.Host)
	for _, o := range m.cfg.WithOrigins {
		if strings.ToLower(strings.TrimRight(strings.TrimSpace(o), "/")) == origin {
			return true
		}
	}
	return false
}
