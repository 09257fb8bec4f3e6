package transact

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// bearerToken is the payload of HandStack's bearer token (TokenHelper).
type bearerToken struct {
	TokenID    string
	IssuerName string
	ClientIP   string
	CreatedAt  dotnetTime
	ExpiredAt  dotnetTime
	Policy     tokenPolicy
	Variable   json.RawMessage
}

type tokenPolicy struct {
	UserNo        string
	UserID        string
	UserName      string
	Email         string
	VerifyTokenID string
	Roles         []string
	Claims        map[string]string
}

// dotnetTime reads the date formats .NET writes (with or without an offset;
// without one it is taken as UTC, which ExpiredAt is).
type dotnetTime struct{ time.Time }

func (t *dotnetTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil || s == "" {
		t.Time = time.Time{}
		return nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.9999999", "2006-01-02 15:04:05"} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v
			return nil
		}
	}
	return fmt.Errorf("unrecognised date %q", s)
}

var errTokenFormat = errors.New("bearer token is not user.payload[.host]")

// tokenUser returns the user ID encoded in a token's first part.
func tokenUser(token string) (string, error) {
	first, _, ok := strings.Cut(token, ".")
	if !ok {
		return "", errTokenFormat
	}
	u, err := base64.StdEncoding.DecodeString(first)
	if err != nil {
		return "", fmt.Errorf("bearer token user: %w", err)
	}
	return string(u), nil
}

// decodeBearerToken decrypts a HandStack bearer token:
// Base64(user) "." Base64(AES-256-CBC(JSON)) ["." hex(SHA256(HostAccessID))],
// keyed by the first 32 hex characters of SHA256(HostAccessID + user), zero IV.
// user is whose key to use (HandStack uses operatorID in one branch).
func decodeBearerToken(token, user, hostAccessID string) (*bearerToken, error) {
	if hostAccessID == "" {
		return nil, errors.New("HostAccessID is not configured")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 2 && len(parts) != 3 {
		return nil, errTokenFormat
	}
	if len(parts) == 3 {
		h := sha256.Sum256([]byte(hostAccessID))
		if subtle.ConstantTimeCompare([]byte(strings.ToLower(parts[2])), []byte(hex.EncodeToString(h[:]))) != 1 {
			return nil, errors.New("bearer token issued by another host")
		}
	}
	ct, err := base64.StdEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("bearer token payload: %w", err)
	}
	block, err := aes.NewCipher(tokenKey(hostAccessID, user))
	if err != nil {
		return nil, err
	}
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, errors.New("bearer token payload: bad length")
	}
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, make([]byte, aes.BlockSize)).CryptBlocks(pt, ct)
	pad := int(pt[len(pt)-1])
	if pad == 0 || pad > aes.BlockSize || !bytes.Equal(pt[len(pt)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return nil, errors.New("bearer token payload: bad key or padding")
	}
	var bt bearerToken
	if err := json.Unmarshal(pt[:len(pt)-pad], &bt); err != nil {
		return nil, fmt.Errorf("bearer token payload: %w", err)
	}
	return &bt, nil
}

func tokenKey(hostAccessID, user string) []byte {
	h := sha256.Sum256([]byte(hostAccessID + user))
	return []byte(hex.EncodeToString(h[:])[:32])
}

// roleRank is HandStack's Role enum: lower is more privileged.
var roleRank = map[string]int{
	"Root": 0, "Administrator": 100, "Master": 200, "Architect": 300, "Manager": 400,
	"BusinessOwner": 500, "Operator": 600, "Developer": 700, "Designer": 800, "User": 900,
}

// rolesAllow is HandStack's role check: a user role passes when it is named
// in roles or ranks at least as high as the most privileged role named there.
func rolesAllow(roles, userRoles []string) bool {
	if len(roles) == 0 {
		return true
	}
	limit := -1
	for i, r := range roles {
		rank, ok := roleRank[r]
		if !ok {
			limit = -1
			break
		}
		if i == 0 || rank < limit {
			limit = rank
		}
	}
	for _, u := range userRoles {
		if slices.Contains(roles, u) {
			return true
		}
		if rank, ok := roleRank[u]; ok && rank <= limit {
			return true
		}
	}
	return false
}

// policiesAllow passes when a user claim is listed, with an allowed value
// (a null list allows any value).
func policiesAllow(policys map[string][]string, claims map[string]string) bool {
	if len(policys) == 0 {
		return true
	}
	for k, v := range claims {
		allowed, ok := policys[k]
		if ok && (allowed == nil || slices.Contains(allowed, v)) {
			return true
		}
	}
	return false
}
