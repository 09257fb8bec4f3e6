package transact

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/callerauth"
	"github.com/ack-dev/ack/internal/wire"
)

// makeToken builds a HandStack bearer token (TokenHelper.CreateBearerToken).
func makeToken(t *testing.T, hostAccessID, user string, payload any) string {
	t.Helper()
	pt, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	pad := aes.BlockSize - len(pt)%aes.BlockSize
	pt = append(pt, bytes.Repeat([]byte{byte(pad)}, pad)...)
	block, err := aes.NewCipher(tokenKey(hostAccessID, user))
	if err != nil {
		t.Fatal(err)
	}
	ct := make([]byte, len(pt))
	cipher.NewCBCEncrypter(block, make([]byte, aes.BlockSize)).CryptBlocks(ct, pt)
	h := sha256.Sum256([]byte(hostAccessID))
	return base64.StdEncoding.EncodeToString([]byte(user)) + "." + base64.StdEncoding.EncodeToString(ct) + "." + hex.EncodeToString(h[:])
}

func TestAuthorize(t *testing.T) {
	const hostID = "HANDSTACK_HOSTACCESSID"
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c, err := parseContract("HDS/P/T.json", []byte(`{"Services": [
    {"ServiceID": "OP01", "CommandType": "D"},
    {"ServiceID": "AU01", "CommandType": "D", "Authorize": true},
    {"ServiceID": "RL01", "CommandType": "D", "Authorize": true, "Roles": ["Manager"]},
    {"ServiceID": "PO01", "CommandType": "D", "Authorize": true, "Policys": {"Dept": ["A"]}},
    {"ServiceID": "TT01", "CommandType": "D", "Authorize": true, "Roles": ["Root"], "TransactionTokens": ["tok"]},
    {"ServiceID": "TO01", "CommandType": "D", "AuthorizeMethod": ["TransactionTokenOnly"], "TransactionTokens": ["tok"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	token := func(user string, roles []string, claims map[string]string, expires time.Time, vars any) string {
		return makeToken(t, hostID, user, map[string]any{
			"TokenID": "1", "ExpiredAt": expires.Format(time.RFC3339),
			"Policy":   map[string]any{"UserID": user, "Roles": roles, "Claims": claims},
			"Variable": vars,
		})
	}
	later := now.Add(time.Hour)
	tests := []struct {
		name, svc, access, operator, txToken string
		enforce, trusted                     bool
		hostID                               string
		code                                 string
		params                               []string
	}{
		{name: "open service, no token", svc: "OP01", enforce: true},
		{name: "authorize off by default", svc: "AU01"},
		{name: "authorize needs a token", svc: "AU01", enforce: true, code: CodeUnauthorized},
		{name: "trusted client skips roles", svc: "RL01", enforce: true, trusted: true},
		{name: "valid token, no lists", svc: "AU01", enforce: true, operator: "u1", access: token("u1", nil, nil, later, map[string]any{"UserNo": 7}), params: []string{"$UserNo"}},
		{name: "token of another user", svc: "AU01", enforce: true, operator: "u2", access: token("u1", nil, nil, later, nil), code: CodeUnauthorized},
		{name: "expired", svc: "AU01", enforce: true, operator: "u1", access: token("u1", nil, nil, now.Add(-time.Minute), nil), code: CodeTokenExpired},
		{name: "expired even when not enforced", svc: "OP01", operator: "u1", access: token("u1", nil, nil, now.Add(-time.Minute), nil), code: CodeTokenExpired},
		{name: "role rank passes", svc: "RL01", enforce: true, operator: "u1", access: token("u1", []string{"Administrator"}, nil, later, nil)},
		{name: "role rank fails", svc: "RL01", enforce: true, operator: "u1", access: token("u1", []string{"User"}, nil, later, nil), code: CodeUnauthorized},
		{name: "policy passes, claims become parameters", svc: "PO01", enforce: true, operator: "u1", access: token("u1", nil, map[string]string{"Dept": "A"}, later, map[string]any{}), params: []string{"#Dept"}},
		{name: "policy fails", svc: "PO01", enforce: true, operator: "u1", access: token("u1", nil, map[string]string{"Dept": "B"}, later, nil), code: CodeUnauthorized},
		{name: "transaction token instead of role", svc: "TT01", enforce: true, operator: "u1", access: token("u1", []string{"User"}, nil, later, nil), txToken: "tok"},
		{name: "transaction token without bearer", svc: "TT01", enforce: true, txToken: "tok"},
		{name: "token only, wrong token", svc: "TO01", txToken: "nope", code: CodeUnauthorized},
		{name: "token only", svc: "TO01", txToken: "tok"},
		{name: "garbage token", svc: "OP01", operator: "u1", access: "dTE=.AAAA", code: CodeUnauthorized},
		{name: "token from another host", svc: "OP01", operator: "u1", hostID: "OTHER", access: token("u1", nil, nil, later, nil), code: CodeUnauthorized},
		{name: "no dot, not enforced", svc: "OP01", access: "opaque"},
		{name: "no dot, enforced", svc: "AU01", enforce: true, access: "opaque", code: CodeUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{UseApiAuthorize: tc.enforce, HostAccessID: hostID}
			if tc.hostID != "" {
				cfg.HostAccessID = tc.hostID
			}
			var req wire.TransactionRequest
			req.AccessToken = wire.FlexString(tc.access)
			req.Transaction.OperatorID = wire.FlexString(tc.operator)
			req.Transaction.TransactionToken = wire.FlexString(tc.txToken)
			s, _ := c.Service(tc.svc)
			bt, terr := cfg.authorize(&req, c, s, tc.trusted, now)
			if tc.code != "" {
				if terr == nil || terr.code != tc.code {
					t.Fatalf("got %v, want %s", terr, tc.code)
				}
				return
			}
			if terr != nil {
				t.Fatal(terr)
			}
			var names []string
			for _, p := range tokenParameters(bt) {
				names = append(names, p.ParameterName)
			}
			if strings.Join(names, ",") != strings.Join(tc.params, ",") {
				t.Errorf("token parameters %v, want %v", names, tc.params)
			}
		})
	}
}

func TestScreenAndAppAllowed(t *testing.T) {
	c, err := parseContract("HDS/P/T1.json", []byte(`{"Services": [
    {"ServiceID": "S1", "CommandType": "D", "AccessScreenID": ["SCR"]},
    {"ServiceID": "S2", "CommandType": "D"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	s1, _ := c.Service("S1")
	s2, _ := c.Service("S2")
	none := []PublicTransaction{}
	public := []PublicTransaction{{ApplicationID: "HDS", ProjectID: "*", TransactionID: "T1"}}
	tests := []struct {
		name    string
		cfg     Config
		svc     *Service
		screen  string
		allowed bool
	}{
		{"open default", Config{}, s2, "OTHER", true},
		{"own screen", Config{PublicTransactions: &none}, s2, "T1", true},
		{"listed screen", Config{PublicTransactions: &none}, s1, "SCR", true},
		{"strict refuses", Config{PublicTransactions: &none}, s1, "OTHER", false},
		{"public entry", Config{PublicTransactions: &public}, s1, "OTHER", true},
	}
	for _, tc := range tests {
		if got := tc.cfg.screenAllowed(c, tc.svc, tc.screen); got != tc.allowed {
			t.Errorf("%s: %v", tc.name, got)
		}
	}
	apps := Config{AllowRequestTransactions: map[string][]string{"HDS": {"BOD"}}}
	if !apps.appAllowed("HDS", "BOD") || apps.appAllowed("HDS", "TST") || apps.appAllowed("ABC", "BOD") {
		t.Error("AllowRequestTransactions by project")
	}
	if !(&Config{}).appAllowed("ANY", "X") || (&Config{AllowRequestTransactions: map[string][]string{}}).appAllowed("HDS", "X") {
		t.Error("absent allows all, {} allows none")
	}
}

// TestClientAddressSettings checks AllowClientIP and BypassAuthorizeIP as
// validate parses them; the rule itself is callerauth's.
func TestClientAddressSettings(t *testing.T) {
	tests := []struct {
		entries []string
		remote  string
		want    bool
	}{
		{[]string{"localhost"}, "127.0.0.1:5000", true},
		{[]string{"localhost"}, "[::1]:5000", true},
		{[]string{"127.0.0.1"}, "127.0.0.10:1", false}, // HandStack matched substrings
		{[]string{"10.0.0.0/8"}, "10.1.2.3:80", true},
		{[]string{"10.0.0.0/8"}, "11.1.2.3:80", false},
		{[]string{"*"}, "1.2.3.4:1", true},
		{nil, "127.0.0.1:1", false},
		{[]string{"localhost"}, "garbage", false},
	}
	for _, tc := range tests {
		c := Config{AllowClientIP: tc.entries, BypassAuthorizeIP: tc.entries}
		err := c.validate()
		if slices.Contains(tc.entries, "*") {
			if err == nil || !strings.Contains(err.Error(), "BypassAuthorizeIP") {
				t.Errorf("BypassAuthorizeIP %q: %v, want an error (no wildcard)", tc.entries, err)
			}
		} else if err != nil {
			t.Fatalf("%q: %v", tc.entries, err)
		} else if got := c.bypass.Contains(callerauth.PeerIP(remote(tc.remote))); got != tc.want {
			t.Errorf("BypassAuthorizeIP %q, %q: %v", tc.entries, tc.remote, got)
		}
		if got := c.access.Allows(remote(tc.remote)); got != tc.want {
			t.Errorf("AllowClientIP %q, %q: %v", tc.entries, tc.remote, got)
		}
	}
	c := Config{AllowClientIP: []string{"10.0.0.300"}}
	if err := c.validate(); err == nil || !strings.Contains(err.Error(), "AllowClientIP") {
		t.Errorf("a wrong AllowClientIP entry: %v", err)
	}
}

func remote(addr string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/transact/api/transaction/meta", nil)
	r.RemoteAddr = addr
	return r
}
