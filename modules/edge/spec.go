package edge

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ack-dev/ack/internal/config"
	"github.com/ack-dev/ack/internal/contract"
	"github.com/ack-dev/ack/internal/module"
)

// routesFile is the one contract file of the edge, relative to its root.
const routesFile = "routes.json"

// The colors of a blue-green pool.
const (
	blue  = "blue"
	green = "green"
)

// maxWeight keeps the smooth weighted round robin's sums far from overflow.
const maxWeight = 1_000_000

// Routing is routes.json once validated: what the edge serves.
type Routing struct {
	Routes []Route // longest prefix first
	Pools  map[string]*Pool
}

// Route sends the paths under Prefix to Pool.
type Route struct {
	Prefix  string
	Pool    string
	Timeout time.Duration // 0: the module's RequestTimeout
}

// Pool is a set of interchangeable upstreams: one list, or two colors of
// which one is active.
type Pool struct {
	Name      string
	Upstreams []Upstream // a pool without colors
	Blue      []Upstream
	Green     []Upstream
	Active    string // "", blue or green
	Sticky    Sticky
}

// Members returns the upstreams of color ("" for a pool without colors).
func (p *Pool) Members(color string) []Upstream {
	switch color {
	case blue:
		return p.Blue
	case green:
		return p.Green
	default:
		return p.Upstreams
	}
}

// Colors lists the pool's colors ("" alone for a pool without colors).
func (p *Pool) Colors() []string {
	if p.Active == "" {
		return []string{""}
	}
	return []string{blue, green}
}

// Upstream is one process behind the edge.
type Upstream struct {
	Name   string // the value sticky routing uses; default: a digest of URL
	URL    string // base URL, normalised: scheme://host[:port][/path], no trailing slash
	Weight int
}

// Sticky pins a client to one upstream of the active color: by a header the
// client sends (a tester asking for the canary), or by a cookie the edge sets
// on the first answer.
type Sticky struct {
	Cookie string
	Header string
}

// The JSON shape of routes.json. Unknown keys are errors: this is ack's own
// format, and a misspelt "wieght" must not pass silently.
type routesJSON struct {
	Routes []routeJSON          `json:"routes"`
	Pools  map[string]*poolJSON `json:"pools"`
}

type routeJSON struct {
	Prefix  string          `json:"prefix"`
	Pool    string          `json:"pool"`
	Timeout config.Duration `json:"timeout"`
}

type poolJSON struct {
	Upstreams []upstreamJSON `json:"upstreams"`
	Blue      []upstreamJSON `json:"blue"`
	Green     []upstreamJSON `json:"green"`
	Active    string         `json:"active"`
	Sticky    *Sticky        `json:"sticky"`
}

type upstreamJSON struct {
	URL    string `json:"url"`
	Weight *int   `json:"weight"`
	Name   string `json:"name"`
}

// routesKind is the contract kind of routes.json.
func routesKind() contract.Kind[*Routing] {
	return contract.Kind[*Routing]{
		Name:   "edge.routes",
		Module: string(module.Edge),
		Match:  func(rel string) bool { return rel == routesFile },
		Parse: func(fsys fs.FS, unit string) ([]*Routing, error) {
			data, err := fs.ReadFile(fsys, unit)
			if err != nil {
				return nil, err
			}
			r, err := parseRoutes(data)
			if err != nil {
				var pe *contract.ParseError
				if errors.As(err, &pe) {
					pe.Path = unit
					return nil, pe
				}
				return nil, &contract.ParseError{Path: unit, Err: err}
			}
			return []*Routing{r}, nil
		},
		Key: func(*Routing) string { return routesFile },
	}
}

var (
	namePattern   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	cookiePattern = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+.^_|~-]{1,64}$`) // an RFC 6265 token
)

// parseRoutes reads and validates routes.json (JSON with comments and
// trailing commas). A problem comes back as a *contract.ParseError with the
// line of the value at fault when it can be found.
func parseRoutes(data []byte) (*Routing, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	clean := config.StripJSONC(data)
	var f routesJSON
	dec := json.NewDecoder(bytes.NewReader(clean))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		line := config.JSONErrorLine(clean, err)
		if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok && line == 0 {
			line = lineNear(data, field) // the decoder gives no offset for this one
		}
		return nil, &contract.ParseError{Line: line, Err: err}
	}
	if dec.More() {
		return nil, &contract.ParseError{Line: config.LineOf(clean, dec.InputOffset()), Err: errors.New("text after the JSON object")}
	}
	fail := func(near string, format string, args ...any) error {
		return &contract.ParseError{Line: lineNear(data, near), Err: fmt.Errorf(format, args...)}
	}
	r := &Routing{Pools: make(map[string]*Pool, len(f.Pools))}
	for _, name := range slices.Sorted(maps.Keys(f.Pools)) {
		p, err := parsePool(name, f.Pools[name], fail)
		if err != nil {
			return nil, err
		}
		r.Pools[name] = p
	}
	seen := map[string]bool{}
	for i, rt := range f.Routes {
		if !strings.HasPrefix(rt.Prefix, "/") {
			return nil, fail(strconv.Quote(rt.Prefix), "route %d: prefix %q must start with /", i+1, rt.Prefix)
		}
		key := strings.ToLower(rt.Prefix)
		if seen[key] {
			return nil, fail(strconv.Quote(rt.Prefix), "route %d: prefix %q is listed twice", i+1, rt.Prefix)
		}
		seen[key] = true
		if _, ok := r.Pools[rt.Pool]; !ok {
			return nil, fail(strconv.Quote(rt.Prefix), "route %q: no pool named %q", rt.Prefix, rt.Pool)
		}
		if rt.Timeout < 0 {
			return nil, fail(strconv.Quote(rt.Prefix), "route %q: negative timeout", rt.Prefix)
		}
		r.Routes = append(r.Routes, Route{Prefix: rt.Prefix, Pool: rt.Pool, Timeout: rt.Timeout.D()})
	}
	sort.SliceStable(r.Routes, func(i, j int) bool { return len(r.Routes[i].Prefix) > len(r.Routes[j].Prefix) })
	return r, nil
}

func parsePool(name string, pj *poolJSON, fail func(near, format string, args ...any) error) (*Pool, error) {
	near := strconv.Quote(name)
	if !namePattern.MatchString(name) {
		return nil, fail(near, "pool name %q: use letters, digits, '.', '_' or '-'", name)
	}
	if pj == nil {
		return nil, fail(near, "pool %q: want an object", name)
	}
	p := &Pool{Name: name}
	colored := pj.Active != "" || pj.Blue != nil || pj.Green != nil
	if colored {
		if pj.Upstreams != nil {
			return nil, fail(near, "pool %q: use either upstreams or blue/green with active, not both", name)
		}
		if pj.Active != blue && pj.Active != green {
			return nil, fail(near, "pool %q: active must be %q or %q", name, blue, green)
		}
		p.Active = pj.Active
	}
	urls := map[string]bool{}
	names := map[string]bool{}
	lists := []struct {
		in  []upstreamJSON
		out *[]Upstream
	}{{pj.Upstreams, &p.Upstreams}, {pj.Blue, &p.Blue}, {pj.Green, &p.Green}}
	for _, l := range lists {
		for _, uj := range l.in {
			u, err := parseUpstream(uj)
			if err != nil {
				return nil, fail(strconv.Quote(uj.URL), "pool %q: %v", name, err)
			}
			if urls[u.URL] {
				return nil, fail(strconv.Quote(uj.URL), "pool %q: upstream %s is listed twice", name, u.URL)
			}
			if names[u.Name] {
				return nil, fail(strconv.Quote(uj.URL), "pool %q: upstream name %q is used twice", name, u.Name)
			}
			urls[u.URL], names[u.Name] = true, true
			*l.out = append(*l.out, u)
		}
	}
	if pj.Sticky != nil {
		s := *pj.Sticky
		if s.Cookie == "" && s.Header == "" {
			return nil, fail(near, "pool %q: sticky needs a cookie or a header name", name)
		}
		if s.Cookie != "" && !cookiePattern.MatchString(s.Cookie) {
			return nil, fail(near, "pool %q: sticky cookie name %q is not a valid cookie name", name, s.Cookie)
		}
		if s.Header != "" && !cookiePattern.MatchString(s.Header) {
			return nil, fail(near, "pool %q: sticky header name %q is not a valid header name", name, s.Header)
		}
		p.Sticky = s
	}
	return p, nil
}

// parseUpstream checks and normalises one upstream.
func parseUpstream(uj upstreamJSON) (Upstream, error) {
	u, err := url.Parse(uj.URL)
	switch {
	case err != nil || uj.URL == "":
		return Upstream{}, fmt.Errorf("upstream url %q is not a URL", uj.URL)
	case u.Scheme != "http" && u.Scheme != "https":
		return Upstream{}, fmt.Errorf("upstream url %q: want http:// or https://", uj.URL)
	case u.Host == "":
		return Upstream{}, fmt.Errorf("upstream url %q has no host", uj.URL)
	case u.User != nil:
		return Upstream{}, fmt.Errorf("upstream url %q: credentials in a URL are refused", uj.URL)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return Upstream{}, fmt.Errorf("upstream url %q: a base URL has no query or fragment", uj.URL)
	}
	norm := u.Scheme + "://" + strings.ToLower(u.Host) + strings.TrimSuffix(u.EscapedPath(), "/")
	w := 1
	if uj.Weight != nil {
		w = *uj.Weight
	}
	if w < 0 || w > maxWeight {
		return Upstream{}, fmt.Errorf("upstream %s: weight %d out of 0..%d", norm, w, maxWeight)
	}
	name := uj.Name
	if name == "" {
		sum := sha256.Sum256([]byte(norm))
		name = hex.EncodeToString(sum[:6])
	} else if !namePattern.MatchString(name) {
		return Upstream{}, fmt.Errorf("upstream %s: name %q: use letters, digits, '.', '_' or '-'", norm, name)
	}
	return Upstream{Name: name, URL: norm, Weight: w}, nil
}

// lineNear is the 1-based line of the first occurrence of s in data, or 0:
// enough to point a reader at the value a validation error is about.
func lineNear(data []byte, s string) int {
	i := bytes.Index(data, []byte(s))
	if i < 0 {
		return 0
	}
	return bytes.Count(data[:i], []byte("\n")) + 1
}
