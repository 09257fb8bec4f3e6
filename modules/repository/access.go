package repository

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/ack-dev/ack/internal/callerauth"
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

// readAllowed applies a repository's AccessMethod to a read without a
// signed link: public is open; protected needs a loopback caller, a page of
// this host or of WithOrigins (the Referer), or the key; private needs the key.
func (m *Module) readAllowed(r *http.Request, repo Repository) bool {
	switch repo.AccessMethod {
	case accessPublic:
		return true
	case accessProtected:
		return callerauth.Caller(r).IsLoopback() || m.refererAllowed(r) || m.cfg.access.HasKey(r)
	default:
		return m.cfg.access.HasKey(r)
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
