// Package wire holds HandStack's JSON wire types exchanged between modules:
// the DynamicRequest that transact sends to an executor (dbclient, function)
// and the DynamicResponse it answers. The types are pure data; encoding/json
// already matches property names without regard to case, which is what
// HandStack's Newtonsoft-based modules accept.
package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ack-dev/ack/internal/jsonenc"
)

// ReturnType selects how an executor shapes its answer (ExecuteDynamicTypeObject).
type ReturnType int

// The return types HandStack defines, with their wire numbers.
const (
	ReturnJSON        ReturnType = 0
	ReturnScalar      ReturnType = 1
	ReturnNonQuery    ReturnType = 2
	ReturnSQLText     ReturnType = 3
	ReturnSchemeOnly  ReturnType = 4
	ReturnCodeHelp    ReturnType = 5
	ReturnXML         ReturnType = 6
	ReturnDynamicJSON ReturnType = 7
)

var returnTypeNames = []string{"Json", "Scalar", "NonQuery", "SQLText", "SchemeOnly", "CodeHelp", "Xml", "DynamicJson"}

// String returns HandStack's name for the return type.
func (t ReturnType) String() string {
	if t >= 0 && int(t) < len(returnTypeNames) {
		return returnTypeNames[t]
	}
	return strconv.Itoa(int(t))
}

// ParseReturnType accepts a HandStack return type name (any case) or its number.
func ParseReturnType(s string) (ReturnType, error) {
	s = strings.TrimSpace(s)
	for i, n := range returnTypeNames {
		if strings.EqualFold(n, s) {
			return ReturnType(i), nil
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n >= len(returnTypeNames) {
		return 0, fmt.Errorf("unknown return type %q", s)
	}
	return ReturnType(n), nil
}

// UnmarshalJSON accepts the number or the name, as Newtonsoft does for enums.
func (t *ReturnType) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*t = ReturnJSON
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := ParseReturnType(s)
		if err != nil {
			return err
		}
		*t = v
		return nil
	}
	var n int
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("return type: %w", err)
	}
	v, err := ParseReturnType(strconv.Itoa(n))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// JSONObjectType names the shape of one result set (Form 0, Grid 1, Chart 3,
// DataSet 4, Dynamic 5, Addition 6); it travels as an integer.
type JSONObjectType int

// The result shapes HandStack defines.
const (
	FormJSON     JSONObjectType = 0
	GridJSON     JSONObjectType = 1
	ChartJSON    JSONObjectType = 3
	DataSetJSON  JSONObjectType = 4
	DynamicJSON  JSONObjectType = 5
	AdditionJSON JSONObjectType = 6
)

// DynamicRequest is what transact sends to an executor module.
type DynamicRequest struct {
	ClientTag      string            `json:"ClientTag"`
	AccessToken    string            `json:"AccessToken"`
	Version        string            `json:"Version"`
	RequestID      string            `json:"RequestID"`
	LoadOptions    map[string]string `json:"LoadOptions"`
	Action         string            `json:"Action"`
	Environment    string            `json:"Environment"`
	ReturnType     ReturnType        `json:"ReturnType"`
	GlobalID       string            `json:"GlobalID"`
	IsTransaction  bool              `json:"IsTransaction"`
	DynamicObjects []QueryObject     `json:"DynamicObjects"`
}

// QueryObject names one statement (QueryID "App|Project|Tx|ServiceIDnn") and its parameters.
type QueryObject struct {
	QueryID            string               `json:"QueryID"`
	TenantID           string               `json:"TenantID"`
	JSONObject         JSONObjectType       `json:"JsonObject"`
	JSONObjects        []JSONObjectType     `json:"JsonObjects"`
	Parameters         []DynamicParameter   `json:"Parameters"`
	DecryptParameters  []string             `json:"DecryptParameters"`
	BaseFieldMappings  []BaseFieldMapping   `json:"BaseFieldMappings"`
	BaseFieldRelations []*BaseFieldRelation `json:"BaseFieldRelations"`
	IgnoreResult       bool                 `json:"IgnoreResult"`
}

// DynamicParameter is one named value of a QueryObject.
type DynamicParameter struct {
	ParameterName string `json:"ParameterName"`
	Value         any    `json:"Value"`
	DbType        string `json:"DbType"`
	Length        int    `json:"Length"`
}

// BaseFieldMapping copies a column of an earlier statement's last row into a parameter.
type BaseFieldMapping struct {
	BaseSequence  FlexString `json:"BaseSequence"`
	SourceFieldID string     `json:"SourceFieldID"`
	TargetFieldID string     `json:"TargetFieldID"`
}

// BaseFieldRelation nests the rows of one result set into the rows of another.
type BaseFieldRelation struct {
	RelationFieldID  string            `json:"RelationFieldID"`
	BaseSequence     int               `json:"BaseSequence"`
	RelationMappings []RelationMapping `json:"RelationMappings"`
	ColumnNames      []string          `json:"ColumnNames"`
	DisposeResult    bool              `json:"DisposeResult"`
}

// RelationMapping pairs a parent column with a child column.
type RelationMapping struct {
	BaseFieldID     string `json:"BaseFieldID"`
	ChildrenFieldID string `json:"ChildrenFieldID"`
}

// DynamicResponse is an executor's answer. Acknowledge is 1 on success, 0 on failure.
type DynamicResponse struct {
	Acknowledge   int             `json:"Acknowledge"`
	CorrelationID string          `json:"CorrelationID"`
	ExceptionText string          `json:"ExceptionText"`
	Informations  []string        `json:"Informations"`
	Version       string          `json:"Version"`
	ResponseID    string          `json:"ResponseID"`
	Environment   string          `json:"Environment"`
	RowsAffected  int             `json:"RowsAffected"`
	ResultMeta    []string        `json:"ResultMeta"`
	ResultJSON    json.RawMessage `json:"ResultJson"`
	ResultObject  any             `json:"ResultObject"`
	ResultInteger int64           `json:"ResultInteger"`
	// ErrorCode is ack's stable machine-readable code for a failure (empty on
	// success). HandStack clients ignore unknown properties.
	ErrorCode string `json:"ErrorCode,omitempty"`
}

// AppendJSON appends the response as encoding/json would write it, except
// that ResultJSON is copied as it is, without the validation and compaction
// encoding/json spends on a large result: only for a response whose
// ResultJSON the caller produced itself (a module answering over HTTP).
func (r *DynamicResponse) AppendJSON(b []byte) ([]byte, error) {
	b = num(b, `{"Acknowledge":`, int64(r.Acknowledge))
	b = str(b, `,"CorrelationID":`, r.CorrelationID)
	b = str(b, `,"ExceptionText":`, r.ExceptionText)
	b = strs(b, `,"Informations":`, r.Informations)
	b = str(b, `,"Version":`, r.Version)
	b = str(b, `,"ResponseID":`, r.ResponseID)
	b = str(b, `,"Environment":`, r.Environment)
	b = num(b, `,"RowsAffected":`, int64(r.RowsAffected))
	b = strs(b, `,"ResultMeta":`, r.ResultMeta)
	b = append(b, `,"ResultJson":`...)
	if len(r.ResultJSON) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, r.ResultJSON...)
	}
	b = append(b, `,"ResultObject":`...)
	b, err := jsonenc.Value(b, r.ResultObject)
	if err != nil {
		return b, fmt.Errorf("ResultObject: %w", err)
	}
	b = num(b, `,"ResultInteger":`, r.ResultInteger)
	if r.ErrorCode != "" {
		b = str(b, `,"ErrorCode":`, r.ErrorCode)
	}
	return append(b, '}'), nil
}

// strs appends a property name (with its colon) and a list of strings.
func strs(b []byte, name string, list []string) []byte {
	b = append(b, name...)
	if list == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, v := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.String(b, v)
	}
	return append(b, ']')
}

// Fail builds a failed response with a client-safe message and a stable code.
func Fail(correlationID, code, message string) *DynamicResponse {
	return &DynamicResponse{
		Acknowledge:   0,
		CorrelationID: correlationID,
		ExceptionText: message,
		ErrorCode:     code,
		Informations:  []string{},
		ResultMeta:    []string{},
	}
}

// FlexString accepts a JSON string or number and keeps its text, for fields
// HandStack sends either way (BaseSequence).
type FlexString string

// UnmarshalJSON accepts a string, a number, a boolean or null.
func (f *FlexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*f = ""
	case len(b) > 0 && b[0] == '"':
		if s, ok := plainString(b); ok {
			*f = FlexString(s)
			return nil
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = FlexString(s)
	case len(b) > 0 && (b[0] == '{' || b[0] == '['):
		return fmt.Errorf("expected a string or number, got %s", b[:1])
	default:
		*f = FlexString(b)
	}
	return nil
}

// plainString returns the content of the JSON string literal b when it needs
// no unescaping (most do): no backslash, quote or control byte inside, and
// valid UTF-8. ok is false otherwise, and the caller decodes it in full.
func plainString(b []byte) (s string, ok bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	inner := b[1 : len(b)-1]
	for _, c := range inner {
		if c < 0x20 || c == '"' || c == '\\' {
			return "", false
		}
	}
	if !utf8.Valid(inner) {
		return "", false
	}
	return string(inner), true
}
