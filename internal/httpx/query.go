package httpx

import (
	"net/http"
	"strings"
)

// Query returns the first value of the query-string parameter key, trimmed.
// The name matches without regard to case, as ASP.NET's model binding (and
// so HandStack's clients) expects.
func Query(r *http.Request, key string) string {
	for k, v := range r.URL.Query() {
		if strings.EqualFold(k, key) && len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
	}
	return ""
}
