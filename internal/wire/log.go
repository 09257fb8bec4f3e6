package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// LogMessage is one record for the logger module: HandStack's LogMessage
// (every field a string except LogNo) plus two ack fields. HandStack clients
// send it with any key case and sometimes with numbers where strings are
// declared; UnmarshalJSON accepts both, as Newtonsoft does.
type LogMessage struct {
	LogNo              int64  `json:"LogNo"`
	ServerID           string `json:"ServerID"`
	RunningEnvironment string `json:"RunningEnvironment"`
	ProgramName        string `json:"ProgramName"`
	GlobalID           string `json:"GlobalID"`
	Acknowledge        string `json:"Acknowledge"`
	ApplicationID      string `json:"ApplicationID"`
	ProjectID          string `json:"ProjectID"`
	TransactionID      string `json:"TransactionID"`
	ServiceID          string `json:"ServiceID"`
	// Type is A (application or program) or T (transaction).
	Type string `json:"Type"`
	// Flow is I (request), O (response) or N (none).
	Flow string `json:"Flow"`
	// Level is V, D, I, W, E or F.
	Level string `json:"Level"`
	// Format is J (JSON) or P (plain) and describes Message.
	Format     string `json:"Format"`
	Message    string `json:"Message"`
	Properties string `json:"Properties"`
	UserID     string `json:"UserID"`
	// CreatedAt is "yyyy-MM-dd HH:mm:ss.fff" in HandStack; RFC 3339 is also accepted.
	CreatedAt string `json:"CreatedAt"`
	StartedAt string `json:"StartedAt"`
	EndedAt   string `json:"EndedAt"`
	IpAddress string `json:"IpAddress"`
	DeviceID  string `json:"DeviceID"`
	ProgramID string `json:"ProgramID"`

	// ModuleID names the ack module that wrote the record (ack's own logs).
	ModuleID string `json:"ModuleID,omitempty"`
	// RecordID is an idempotency key (a UUID) set by ack's log shipper: the
	// logger stores a RecordID once, so a replayed batch adds no duplicates.
	RecordID string `json:"RecordID,omitempty"`
}

// fields maps every lower-cased string property name to its field.
func (m *LogMessage) fields() map[string]*string {
	return map[string]*string{
		"serverid":           &m.ServerID,
		"runningenvironment": &m.RunningEnvironment,
		"programname":        &m.ProgramName,
		"globalid":           &m.GlobalID,
		"acknowledge":        &m.Acknowledge,
		"applicationid":      &m.ApplicationID,
		"projectid":          &m.ProjectID,
		"transactionid":      &m.TransactionID,
		"serviceid":          &m.ServiceID,
		"type":               &m.Type,
		"flow":               &m.Flow,
		"level":              &m.Level,
		"format":             &m.Format,
		"message":            &m.Message,
		"properties":         &m.Properties,
		"userid":             &m.UserID,
		"createdat":          &m.CreatedAt,
		"startedat":          &m.StartedAt,
		"endedat":            &m.EndedAt,
		"ipaddress":          &m.IpAddress,
		"deviceid":           &m.DeviceID,
		"programid":          &m.ProgramID,
		"moduleid":           &m.ModuleID,
		"recordid":           &m.RecordID,
	}
}

// Set assigns the property named key (any case) from text, as HandStack's
// query-string and form binding does. It reports whether key is a property.
func (m *LogMessage) Set(key, value string) (bool, error) {
	k := strings.ToLower(key)
	if k == "logno" {
		if value == "" {
			m.LogNo = 0
			return true, nil
		}
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return true, fmt.Errorf("LogNo: %q is not an integer", value)
		}
		m.LogNo = n
		return true, nil
	}
	f, ok := m.fields()[k]
	if ok {
		*f = value
	}
	return ok, nil
}

// UnmarshalJSON reads a JSON object with property names in any case. Unknown
// properties are ignored (HandStack treats them as payload). A string
// property may arrive as a number, a boolean, an object or an array: it keeps
// that value's JSON text, as Newtonsoft's string conversion does.
func (m *LogMessage) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return nil // the json package's convention for null
	}
	// Fast path: encoding/json already matches names without regard to case;
	// only a value of another type (a number for a string) needs the slow path.
	type plain LogMessage
	var p plain
	err := json.Unmarshal(b, &p)
	var typeErr *json.UnmarshalTypeError
	if err == nil {
		*m = LogMessage(p)
		return nil
	}
	if !errors.As(err, &typeErr) {
		return fmt.Errorf("log message: %w", err)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return fmt.Errorf("log message: %w", err)
	}
	*m = LogMessage{}
	fields := m.fields()
	for key, raw := range obj {
		k := strings.ToLower(key)
		if k == "logno" {
			var n FlexString
			if err := json.Unmarshal(raw, &n); err != nil {
				return fmt.Errorf("log message LogNo: %w", err)
			}
			if _, err := m.Set(k, string(n)); err != nil {
				return fmt.Errorf("log message: %w", err)
			}
			continue
		}
		f, ok := fields[k]
		if !ok {
			continue
		}
		s, err := jsonText(raw)
		if err != nil {
			return fmt.Errorf("log message %s: %w", key, err)
		}
		*f = s
	}
	return nil
}

// jsonText turns a JSON value into the string a HandStack string property
// would hold: a string's content, null as "", anything else as its JSON text.
func jsonText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || bytes.Equal(raw, []byte("null")):
		return "", nil
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return s, nil
	default:
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
}

// LogBatch is what POST /logger/api/log/insert accepts: one LogMessage
// object (HandStack) or a JSON array of them (ack's log shipper). It always
// encodes as an array.
type LogBatch []LogMessage

// UnmarshalJSON accepts an object or an array of objects; null is an empty batch.
func (b *LogBatch) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch {
	case len(data) == 0:
		return errors.New("log batch: empty body")
	case bytes.Equal(data, []byte("null")):
		*b = nil
		return nil
	case data[0] == '[':
		var list []LogMessage
		if err := json.Unmarshal(data, &list); err != nil {
			return fmt.Errorf("log batch: %w", err)
		}
		*b = list
		return nil
	}
	var one LogMessage
	if err := json.Unmarshal(data, &one); err != nil {
		return err
	}
	*b = LogBatch{one}
	return nil
}
