package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ack-dev/ack/internal/jsonenc"
)

// TransactionRequest is what a browser (syn.js) or another module sends to
// transact: HandStack's camelCase envelope. encoding/json matches property
// names without regard to case, and the Flex types convert primitives the way
// Newtonsoft does ("sourcePort": "0" is accepted). Missing properties keep
// their zero values; the transact module applies HandStack's defaults.
type TransactionRequest struct {
	AccessToken FlexString  `json:"accessToken"`
	Action      FlexString  `json:"action"`
	Kind        FlexString  `json:"kind"`
	ClientTag   FlexString  `json:"clientTag"`
	LoadOptions LoadOptions `json:"loadOptions"`
	RequestID   FlexString  `json:"requestID"`
	Version     FlexString  `json:"version"`
	Environment FlexString  `json:"environment"`
	System      System      `json:"system"`
	Interface   Interface   `json:"interface"`
	Transaction Transaction `json:"transaction"`
	PayLoad     PayLoad     `json:"payLoad"`
}

// System identifies the calling application and the hops of the request.
type System struct {
	ProgramID FlexString `json:"programID"`
	ModuleID  FlexString `json:"moduleID"`
	Version   FlexString `json:"version"`
	Routes    []Route    `json:"routes"`
	LocaleID  FlexString `json:"localeID"`
	HostName  FlexString `json:"hostName"`
	PathName  FlexString `json:"pathName"`
	DeviceID  FlexString `json:"deviceID"`
}

// Route is one hop of a request; the server fills the last one.
type Route struct {
	SystemID     FlexString `json:"systemID"`
	HostName     FlexString `json:"hostName"`
	Environment  FlexString `json:"environment"`
	RequestTick  FlexInt    `json:"requestTick"`
	AcceptTick   FlexInt    `json:"acceptTick"`
	ResponseTick FlexInt    `json:"responseTick"`
}

// Interface describes the client device; transact only logs it.
type Interface struct {
	DevicePlatform FlexString `json:"devicePlatform"`
	InterfaceID    FlexString `json:"interfaceID"`
	SourceIP       FlexString `json:"sourceIP"`
	SourcePort     FlexInt    `json:"sourcePort"`
	SourceMAC      FlexString `json:"sourceMAC"`
	ConnectionType FlexString `json:"connectionType"`
	Timeout        FlexInt    `json:"timeout"`
}

// Transaction names the contract (businessID = project, transactionID) and
// the service (functionID) to run.
type Transaction struct {
	GlobalID         FlexString `json:"globalID"`
	BusinessID       FlexString `json:"businessID"`
	TransactionID    FlexString `json:"transactionID"`
	FunctionID       FlexString `json:"functionID"`
	CommandType      FlexString `json:"commandType"`
	SimulationType   FlexString `json:"simulationType"`
	TerminalGroupID  FlexString `json:"terminalGroupID"`
	OperatorID       FlexString `json:"operatorID"`
	ScreenID         FlexString `json:"screenID"`
	StartTraceID     FlexString `json:"startTraceID"`
	DataFormat       FlexString `json:"dataFormat"`
	CompressionYN    FlexString `json:"compressionYN"`
	TransactionToken FlexString `json:"transactionToken"`
}

// PayLoad carries the inputs: dataMapSet rows, dataMapCount[i] of them for
// contract input i, in order.
type PayLoad struct {
	Property         json.RawMessage `json:"property"`
	DataMapInterface FlexString      `json:"dataMapInterface"`
	DataMapCount     []FlexInt       `json:"dataMapCount"`
	DataMapSet       [][]DataMapItem `json:"dataMapSet"`
	DataMapSetRaw    []FlexString    `json:"dataMapSetRaw"`
}

// DataMapItem is one field of an input row. Value keeps the JSON as sent
// (a number stays a number).
type DataMapItem struct {
	ID    FlexString      `json:"id"`
	Value json.RawMessage `json:"value"`
}

// LoadOptions is HandStack's string-to-string option bag. Values may be any
// JSON primitive and are kept as text; objects and arrays are refused, as
// HandStack's binder refuses them.
type LoadOptions map[string]string

// UnmarshalJSON accepts an object of primitives (or null).
func (o *LoadOptions) UnmarshalJSON(b []byte) error {
	var raw map[string]FlexString
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("loadOptions: %w", err)
	}
	if raw == nil {
		*o = nil
		return nil
	}
	m := make(LoadOptions, len(raw))
	for k, v := range raw {
		m[k] = string(v)
	}
	*o = m
	return nil
}

// FlexInt accepts a JSON number or a numeric string, as Newtonsoft does;
// null is 0.
type FlexInt int64

// UnmarshalJSON accepts 12, 12.0, "12" and null.
func (n *FlexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*n = 0
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*n = 0
			return nil
		}
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		*n = FlexInt(v)
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != float64(int64(f)) {
		return fmt.Errorf("expected an integer, got %.40s", b)
	}
	*n = FlexInt(f)
	return nil
}

// TransactionResponse is transact's JSON envelope. Property order follows
// HandStack's (browser code does not depend on it, but diffs against
// HandStack's answers are easier to read).
type TransactionResponse struct {
	System         ResponseSystem      `json:"system"`
	Transaction    ResponseTransaction `json:"transaction"`
	Message        Message             `json:"message"`
	Result         Result              `json:"result"`
	AcceptDateTime string              `json:"acceptDateTime"`
	// Acknowledge is 1 on success and 0 on failure; an integer on the wire.
	Acknowledge   int               `json:"acknowledge"`
	CorrelationID string            `json:"correlationID"`
	ExceptionText string            `json:"exceptionText"`
	RowsAffected  int               `json:"rowsAffected"`
	ResponseID    string            `json:"responseID"`
	LoadOptions   map[string]string `json:"loadOptions"`
	Version       string            `json:"version"`
	Environment   string            `json:"environment"`
	// ErrorCode is ack's stable machine-readable code for a failure (empty on
	// success). HandStack clients ignore unknown properties.
	ErrorCode string `json:"errorCode,omitempty"`

	// Raw is set instead of the envelope for a successful Scalar, NonQuery,
	// Xml or DynamicJson service: the body to send as is, with RawType as its
	// Content-Type. It is never serialised.
	Raw     []byte `json:"-"`
	RawType string `json:"-"`
}

// ResponseSystem is the system part of a response.
type ResponseSystem struct {
	ProgramID string          `json:"programID"`
	ModuleID  string          `json:"moduleID"`
	Version   string          `json:"version"`
	Routes    []ResponseRoute `json:"routes"`
	LocaleID  string          `json:"localeID"`
	HostName  string          `json:"hostName"`
	PathName  string          `json:"pathName"`
	DeviceID  string          `json:"deviceID"`
}

// ResponseRoute is one hop as echoed in a response.
type ResponseRoute struct {
	SystemID     string `json:"systemID"`
	HostName     string `json:"hostName"`
	Environment  string `json:"environment"`
	RequestTick  int64  `json:"requestTick"`
	AcceptTick   int64  `json:"acceptTick"`
	ResponseTick int64  `json:"responseTick"`
}

// ResponseTransaction echoes the request's transaction part.
type ResponseTransaction struct {
	GlobalID         string `json:"globalID"`
	BusinessID       string `json:"businessID"`
	TransactionID    string `json:"transactionID"`
	FunctionID       string `json:"functionID"`
	CommandType      string `json:"commandType"`
	SimulationType   string `json:"simulationType"`
	TerminalGroupID  string `json:"terminalGroupID"`
	OperatorID       string `json:"operatorID"`
	ScreenID         string `json:"screenID"`
	StartTraceID     string `json:"startTraceID"`
	DataFormat       string `json:"dataFormat"`
	CompressionYN    string `json:"compressionYN"`
	TransactionToken string `json:"transactionToken"`
}

// Message is the status part of a response.
type Message struct {
	ResponseStatus string     `json:"responseStatus"`
	MainCode       string     `json:"mainCode"`
	MainText       string     `json:"mainText"`
	Additions      []Addition `json:"additions"`
}

// Addition is one message row produced by an Addition output.
type Addition struct {
	Type string `json:"type"`
	Code string `json:"code"`
	Text string `json:"text"`
}

// Result holds the outputs of a successful Json or CodeHelp service.
type Result struct {
	Property     json.RawMessage `json:"property"`
	OutputAction json.RawMessage `json:"outputAction"`
	ResponseType string          `json:"responseType"`
	DataSetMeta  []string        `json:"dataSetMeta"`
	DataMapCount []int           `json:"dataMapCount"`
	DataSet      []DataSetItem   `json:"dataSet"`
}

// DataSetItem is one output: FormDataN (an object), GridDataN (an array), ...
type DataSetItem struct {
	ID    string          `json:"id"`
	Value json.RawMessage `json:"value"`
}

// MarshalJSON writes the envelope with each dataSet value copied as it is:
// values come from json.Marshal or from validated JSON, and re-checking a
// large grid on every answer is the costliest part of encoding it. Calling
// it directly (not through json.Marshal, which compacts a Marshaler's
// output again) keeps that saving.
func (r *TransactionResponse) MarshalJSON() ([]byte, error) {
	return r.AppendJSON(make([]byte, 0, r.SizeHint()))
}

// SizeHint is about the size of the encoded envelope.
func (r *TransactionResponse) SizeHint() int { return 1024 + dataSetSize(r.Result.DataSet) }

// AppendJSON appends what MarshalJSON writes to b: the envelope, written
// field by field without reflection, byte for byte what encoding/json
// would write for it.
func (r *TransactionResponse) AppendJSON(b []byte) ([]byte, error) {
	sy := &r.System
	b = append(b, `{"system":{"programID":`...)
	b = jsonenc.String(b, sy.ProgramID)
	b = str(b, `,"moduleID":`, sy.ModuleID)
	b = str(b, `,"version":`, sy.Version)
	b = append(b, `,"routes":`...)
	if sy.Routes == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range sy.Routes {
			rt := &sy.Routes[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = str(b, `{"systemID":`, rt.SystemID)
			b = str(b, `,"hostName":`, rt.HostName)
			b = str(b, `,"environment":`, rt.Environment)
			b = num(b, `,"requestTick":`, rt.RequestTick)
			b = num(b, `,"acceptTick":`, rt.AcceptTick)
			b = num(b, `,"responseTick":`, rt.ResponseTick)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = str(b, `,"localeID":`, sy.LocaleID)
	b = str(b, `,"hostName":`, sy.HostName)
	b = str(b, `,"pathName":`, sy.PathName)
	b = str(b, `,"deviceID":`, sy.DeviceID)

	t := &r.Transaction
	b = str(b, `},"transaction":{"globalID":`, t.GlobalID)
	b = str(b, `,"businessID":`, t.BusinessID)
	b = str(b, `,"transactionID":`, t.TransactionID)
	b = str(b, `,"functionID":`, t.FunctionID)
	b = str(b, `,"commandType":`, t.CommandType)
	b = str(b, `,"simulationType":`, t.SimulationType)
	b = str(b, `,"terminalGroupID":`, t.TerminalGroupID)
	b = str(b, `,"operatorID":`, t.OperatorID)
	b = str(b, `,"screenID":`, t.ScreenID)
	b = str(b, `,"startTraceID":`, t.StartTraceID)
	b = str(b, `,"dataFormat":`, t.DataFormat)
	b = str(b, `,"compressionYN":`, t.CompressionYN)
	b = str(b, `,"transactionToken":`, t.TransactionToken)

	m := &r.Message
	b = str(b, `},"message":{"responseStatus":`, m.ResponseStatus)
	b = str(b, `,"mainCode":`, m.MainCode)
	b = str(b, `,"mainText":`, m.MainText)
	b = append(b, `,"additions":`...)
	if m.Additions == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, a := range m.Additions {
			if i > 0 {
				b = append(b, ',')
			}
			b = str(b, `{"type":`, a.Type)
			b = str(b, `,"code":`, a.Code)
			b = str(b, `,"text":`, a.Text)
			b = append(b, '}')
		}
		b = append(b, ']')
	}

	res := &r.Result
	b = append(b, `},"result":{"property":`...)
	b = append(b, rawOrNull(res.Property)...)
	b = append(b, `,"outputAction":`...)
	b = append(b, rawOrNull(res.OutputAction)...)
	b = str(b, `,"responseType":`, res.ResponseType)
	b = append(b, `,"dataSetMeta":[`...)
	for i, v := range res.DataSetMeta {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.String(b, v)
	}
	b = append(b, `],"dataMapCount":[`...)
	for i, v := range res.DataMapCount {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(v), 10)
	}
	b = append(b, `],"dataSet":[`...)
	for i, it := range res.DataSet {
		if i > 0 {
			b = append(b, ',')
		}
		b = str(b, `{"id":`, it.ID)
		b = append(b, `,"value":`...)
		b = append(b, rawOrNull(it.Value)...)
		b = append(b, '}')
	}
	b = str(b, `]},"acceptDateTime":`, r.AcceptDateTime)
	b = num(b, `,"acknowledge":`, int64(r.Acknowledge))
	b = str(b, `,"correlationID":`, r.CorrelationID)
	b = str(b, `,"exceptionText":`, r.ExceptionText)
	b = num(b, `,"rowsAffected":`, int64(r.RowsAffected))
	b = str(b, `,"responseID":`, r.ResponseID)
	b = append(b, `,"loadOptions":`...)
	b = appendStringMap(b, r.LoadOptions)
	b = str(b, `,"version":`, r.Version)
	b = str(b, `,"environment":`, r.Environment)
	if r.ErrorCode != "" {
		b = str(b, `,"errorCode":`, r.ErrorCode)
	}
	return append(b, '}'), nil
}

// str appends a property name (with its colon) and a string value.
func str(b []byte, name, v string) []byte {
	return jsonenc.String(append(b, name...), v)
}

// num appends a property name (with its colon) and an integer value.
func num(b []byte, name string, v int64) []byte {
	return strconv.AppendInt(append(b, name...), v, 10)
}

// appendStringMap writes m with sorted keys, as encoding/json does.
func appendStringMap(b []byte, m map[string]string) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.String(b, k)
		b = append(b, ':')
		b = jsonenc.String(b, m[k])
	}
	return append(b, '}')
}

func dataSetSize(items []DataSetItem) int {
	n := 0
	for _, it := range items {
		n += len(it.ID) + len(it.Value) + 20
	}
	return n
}

func rawOrNull(v json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(v)) == 0 {
		return json.RawMessage("null")
	}
	return v
}
