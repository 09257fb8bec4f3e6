package transact

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ack-dev/ack/internal/wire"
)

// appAllowed applies AllowRequestTransactions (absent: everything allowed).
func (c *Config) appAllowed(app, project string) bool {
	if c.AllowRequestTransactions == nil {
		return true
	}
	if _, ok := c.AllowRequestTransactions["*"]; ok {
		return true
	}
	projects, ok := c.AllowRequestTransactions[app]
	return ok && (slices.Contains(projects, "*") || slices.Contains(projects, project))
}

// screenAllowed applies the service's AccessScreenID, then PublicTransactions.
func (c *Config) screenAllowed(ct *Contract, s *Service, screen string) bool {
	if screen == ct.TransactionID || slices.Contains(s.AccessScreenID.IDs, screen) {
		return true
	}
	if c.PublicTransactions == nil {
		return true // HandStack ships every app public; see docs for the strict setting
	}
	for _, p := range *c.PublicTransactions {
		if p.ApplicationID == ct.ApplicationID &&
			(p.ProjectID == "*" || p.ProjectID == ct.ProjectID) &&
			(p.TransactionID == "*" || p.TransactionID == ct.TransactionID) {
			return true
		}
	}
	return false
}

// authorize runs HandStack's per-service checks (reference §9.2–9.4) and
// returns the decoded bearer token, if one was sent. trusted is true for
// in-process callers and for clients matched by BypassAuthorizeIP.
func (c *Config) authorize(req *wire.TransactionRequest, ct *Contract, s *Service, trusted bool, now time.Time) (*bearerToken, *txError) {
	txToken := string(req.Transaction.TransactionToken)
	tokenOK := txToken != "" && slices.Contains(s.TransactionTokens, txToken)
	method := func(m string) bool { return len(s.AuthorizeMethod) == 0 || slices.Contains(s.AuthorizeMethod, m) }
	if slices.Contains(s.AuthorizeMethod, "TransactionTokenOnly") {
		if !tokenOK {
			return nil, fail(CodeUnauthorized, "TransactionToken 확인 필요")
		}
		return nil, nil
	}
	access := string(req.AccessToken)
	operator := string(req.Transaction.OperatorID)
	enforce := c.UseApiAuthorize && !trusted

	var bt *bearerToken
	switch {
	case access == "":
	case !strings.Contains(access, "."):
		if enforce {
			return nil, fail(CodeUnauthorized, "BearerToken 기본 무결성 확인 필요")
		}
	default:
		user, err := tokenUser(access)
		if err != nil {
			return nil, fail(CodeUnauthorized, "BearerToken 기본 무결성 확인 필요").with(err)
		}
		if enforce && user != operator {
			return nil, fail(CodeUnauthorized, "BearerToken 사용자 무결성 확인 필요")
		}
		if trusted && operator != "" {
			user = operator // HandStack's bypass branch keys the token by operatorID
		}
		bt, err = decodeBearerToken(access, user, c.HostAccessID)
		if err != nil {
			return nil, fail(CodeUnauthorized, "%s: BearerToken 정보가 훼손되거나 확인 할 수 없습니다. 다시 로그인 해야 합니다.", user).with(err)
		}
		if !bt.ExpiredAt.IsZero() && bt.ExpiredAt.Before(now) {
			return nil, fail(CodeTokenExpired, "거래 액세스 토큰 유효기간 만료")
		}
	}
	if !enforce || !bool(s.Authorize) {
		return bt, nil
	}
	if bt == nil {
		if method("TransactionToken") && tokenOK {
			return nil, nil
		}
		return nil, fail(CodeUnauthorized, "'%s' 애플리케이션, '%s' 프로젝트 또는 HandStack.%s.AuthenticationScheme 역할 권한 확인 필요",
			ct.ApplicationID, ct.ProjectID, string(req.System.ModuleID))
	}
	if (method("Role") && len(s.Roles) > 0 && rolesAllow(s.Roles, bt.Policy.Roles)) ||
		(method("Policy") && len(s.Policys) > 0 && policiesAllow(s.Policys, bt.Policy.Claims)) ||
		(method("TransactionToken") && tokenOK) ||
		(len(s.Roles) == 0 && len(s.Policys) == 0) {
		return bt, nil
	}
	return nil, fail(CodeUnauthorized, "BearerToken 역할 또는 정책 권한 확인 필요")
}

// tokenParameters are the trusted parameters a bearer token gives SQL:
// $name for each property of Variable and #name for each claim.
func tokenParameters(bt *bearerToken) []wire.DynamicParameter {
	if bt == nil {
		return nil
	}
	var vars map[string]json.RawMessage
	if json.Unmarshal(bt.Variable, &vars) != nil || vars == nil {
		return nil
	}
	out := make([]wire.DynamicParameter, 0, len(vars)+len(bt.Policy.Claims))
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		var v any
		raw := vars[k]
		var s string
		switch {
		case json.Unmarshal(raw, &s) == nil:
			v = s
		case len(raw) > 0 && raw[0] == '{':
			v = string(raw)
		case len(raw) > 0 && raw[0] == '[':
			var arr []any
			_ = json.Unmarshal(raw, &arr)
			v = arr
		default:
			v = string(raw)
		}
		out = append(out, wire.DynamicParameter{ParameterName: "$" + k, Value: v, DbType: "String", Length: -1})
	}
	for _, k := range slices.Sorted(maps.Keys(bt.Policy.Claims)) {
		out = append(out, wire.DynamicParameter{ParameterName: "#" + k, Value: bt.Policy.Claims[k], DbType: "String", Length: -1})
	}
	return out
}

// withTokenParameters replaces client-sent parameters of the same names.
func withTokenParameters(r row, extra []wire.DynamicParameter) row {
	if len(extra) == 0 {
		return r
	}
	out := make(row, 0, len(r)+len(extra))
	for _, p := range r {
		if !slices.ContainsFunc(extra, func(e wire.DynamicParameter) bool { return e.ParameterName == p.ParameterName }) {
			out = append(out, p)
		}
	}
	return append(out, extra...)
}
