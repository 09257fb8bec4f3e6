package wire

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	"github.com/ack-dev/ack/internal/jsonenc"
)

// UnmarshalTransactionRequest decodes a TransactionRequest body into r (a
// zero value) exactly as json.Unmarshal does. Well-formed bodies whose
// property names are ASCII and not repeated are decoded in one pass without
// reflection; anything else (including every error) is left to
// encoding/json, so errors and unusual inputs behave as before.
func UnmarshalTransactionRequest(data []byte, r *TransactionRequest) error {
	d := decoder{s: data, names: make([]byte, 0, 256)}
	if d.transactionRequest(r) {
		d.space()
		if d.i == len(d.s) {
			return nil
		}
	}
	*r = TransactionRequest{}
	return json.Unmarshal(data, r)
}

// decoder is a validating single-pass JSON reader for the request types.
// Its methods return false as soon as anything is unexpected.
type decoder struct {
	s     []byte
	i     int
	names []byte // scratch for object's property names
}

func (d *decoder) space() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte (0 at the end).
func (d *decoder) peek() byte {
	d.space()
	if d.i >= len(d.s) {
		return 0
	}
	return d.s[d.i]
}

// null consumes a null literal when it is next.
func (d *decoder) null() bool {
	if d.peek() == 'n' && len(d.s)-d.i >= 4 && string(d.s[d.i:d.i+4]) == "null" {
		d.i += 4
		return true
	}
	return false
}

// object reads an object, calling field with each property name folded to
// ASCII lower case; field reads the value. Names that are not ASCII, and a
// name repeated under folding, make it fail: encoding/json's rules for them
// (Unicode folding, merging repeated structs) are left to encoding/json.
func (d *decoder) object(field func(name []byte) bool) bool {
	if d.peek() != '{' {
		return false
	}
	d.i++
	if d.peek() == '}' {
		d.i++
		return true
	}
	// The folded names of this object, each followed by a NUL, at the end
	// of d.names (nested objects add theirs after and remove them).
	base := len(d.names)
	defer func() { d.names = d.names[:base] }()
	for {
		if d.peek() != '"' {
			return false
		}
		start := len(d.names)
		if !d.name() {
			return false
		}
		name := d.names[start:]
		for seen := d.names[base:start]; len(seen) > 0; {
			n := bytes.IndexByte(seen, 0)
			if bytes.Equal(seen[:n], name) {
				return false
			}
			seen = seen[n+1:]
		}
		d.names = append(d.names, 0)
		if d.peek() != ':' {
			return false
		}
		d.i++
		if !field(name) {
			return false
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return true
		default:
			return false
		}
	}
}

// name appends the property name at d.i, folded to ASCII lower case, to
// d.names; a name with a non-ASCII or NUL byte is refused.
func (d *decoder) name() bool {
	lit, plain, ok := d.stringLiteral()
	if !ok {
		return false
	}
	text := lit[1 : len(lit)-1]
	if !plain {
		var s string
		if json.Unmarshal(lit, &s) != nil {
			return false
		}
		text = []byte(s)
	}
	for _, c := range text {
		if c == 0 || c >= utf8.RuneSelf {
			return false
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		d.names = append(d.names, c)
	}
	return true
}

// array reads an array, calling elem for each element; empty is true when
// it had none. A null is not an array here.
func (d *decoder) array(elem func() bool) (empty, ok bool) {
	if d.peek() != '[' {
		return false, false
	}
	d.i++
	if d.peek() == ']' {
		d.i++
		return true, true
	}
	for {
		if !elem() {
			return false, false
		}
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			return false, true
		default:
			return false, false
		}
	}
}

// string reads a string literal: as it is when it needs no unescaping,
// else through encoding/json.
func (d *decoder) string() (string, bool) {
	lit, plain, ok := d.stringLiteral()
	if !ok {
		return "", false
	}
	if plain {
		return string(lit[1 : len(lit)-1]), true
	}
	var s string
	if json.Unmarshal(lit, &s) != nil {
		return "", false
	}
	return s, true
}

// stringLiteral returns the string literal at d.i, quotes included; plain
// means no escapes and valid UTF-8.
func (d *decoder) stringLiteral() (lit []byte, plain, ok bool) {
	start := d.i
	plain = true
	for d.i++; d.i < len(d.s); d.i++ {
		switch c := d.s[d.i]; {
		case c == '"':
			d.i++
			lit = d.s[start:d.i]
			if plain && !utf8.Valid(lit) {
				plain = false
			}
			if !plain && !json.Valid(lit) {
				return nil, false, false
			}
			return lit, plain, true
		case c == '\\':
			plain = false
			d.i++
		case c < 0x20:
			return nil, false, false
		}
	}
	return nil, false, false
}

// skip reads any value and returns its text.
func (d *decoder) skip() ([]byte, bool) {
	c := d.peek()
	start := d.i
	switch {
	case c == '{':
		if !d.object(func([]byte) bool { _, ok := d.skip(); return ok }) {
			return nil, false
		}
	case c == '[':
		if _, ok := d.array(func() bool { _, ok := d.skip(); return ok }); !ok {
			return nil, false
		}
	case c == '"':
		if _, _, ok := d.stringLiteral(); !ok {
			return nil, false
		}
	case c == 't' || c == 'f' || c == 'n':
		for _, w := range []string{"true", "false", "null"} {
			if len(d.s)-d.i >= len(w) && string(d.s[d.i:d.i+len(w)]) == w {
				d.i += len(w)
				return d.s[start:d.i], true
			}
		}
		return nil, false
	case c == '-' || c >= '0' && c <= '9':
		for d.i < len(d.s) && (d.s[d.i] >= '0' && d.s[d.i] <= '9' || d.s[d.i] == '-' || d.s[d.i] == '+' || d.s[d.i] == '.' || d.s[d.i] == 'e' || d.s[d.i] == 'E') {
			d.i++
		}
		if !jsonenc.ValidNumber(string(d.s[start:d.i])) {
			return nil, false
		}
	default:
		return nil, false
	}
	return d.s[start:d.i], true
}

// The leaf types decode their own text, exactly as encoding/json has them do.

func (d *decoder) flexString(f *FlexString) bool {
	if d.peek() == '"' {
		s, ok := d.string()
		*f = FlexString(s)
		return ok
	}
	v, ok := d.skip()
	return ok && f.UnmarshalJSON(v) == nil
}

func (d *decoder) flexInt(n *FlexInt) bool {
	v, ok := d.skip()
	return ok && n.UnmarshalJSON(v) == nil
}

func (d *decoder) raw(m *json.RawMessage) bool {
	v, ok := d.skip()
	if ok {
		*m = append(json.RawMessage(nil), v...)
	}
	return ok
}

// loadOptions reads an object of primitives (or null), as
// LoadOptions.UnmarshalJSON does.
func (d *decoder) loadOptions(o *LoadOptions) bool {
	if d.null() {
		*o = nil
		return true
	}
	if d.peek() != '{' {
		return false
	}
	m := LoadOptions{}
	d.i++
	if d.peek() == '}' {
		d.i++
		*o = m
		return true
	}
	for {
		if d.peek() != '"' {
			return false
		}
		k, ok := d.string()
		if !ok || d.peek() != ':' {
			return false
		}
		d.i++
		var v FlexString
		if !d.flexString(&v) {
			return false
		}
		m[k] = string(v) // a repeated key keeps its last value, as in a map
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			*o = m
			return true
		default:
			return false
		}
	}
}

// list reads a JSON array (or null) into a slice: null is nil and [] an
// empty slice, as encoding/json makes them.
func list[T any](d *decoder, out *[]T, elem func(*T) bool) bool {
	if d.null() {
		*out = nil
		return true
	}
	s := []T{}
	_, ok := d.array(func() bool {
		var v T
		if !elem(&v) {
			return false
		}
		s = append(s, v)
		return true
	})
	*out = s
	return ok
}

// structure reads an object into a struct (null leaves it as it is).
func (d *decoder) structure(field func(name []byte) bool) bool {
	if d.null() {
		return true
	}
	return d.object(field)
}

func (d *decoder) transactionRequest(r *TransactionRequest) bool {
	if d.peek() != '{' {
		return false
	}
	return d.object(func(name []byte) bool {
		switch string(name) {
		case "accesstoken":
			return d.flexString(&r.AccessToken)
		case "action":
			return d.flexString(&r.Action)
		case "kind":
			return d.flexString(&r.Kind)
		case "clienttag":
			return d.flexString(&r.ClientTag)
		case "loadoptions":
			return d.loadOptions(&r.LoadOptions)
		case "requestid":
			return d.flexString(&r.RequestID)
		case "version":
			return d.flexString(&r.Version)
		case "environment":
			return d.flexString(&r.Environment)
		case "system":
			return d.system(&r.System)
		case "interface":
			return d.iface(&r.Interface)
		case "transaction":
			return d.transaction(&r.Transaction)
		case "payload":
			return d.payLoad(&r.PayLoad)
		}
		_, ok := d.skip()
		return ok
	})
}

func (d *decoder) system(s *System) bool {
	return d.structure(func(name []byte) bool {
		switch string(name) {
		case "programid":
			return d.flexString(&s.ProgramID)
		case "moduleid":
			return d.flexString(&s.ModuleID)
		case "version":
			return d.flexString(&s.Version)
		case "routes":
			return list(d, &s.Routes, d.route)
		case "localeid":
			return d.flexString(&s.LocaleID)
		case "hostname":
			return d.flexString(&s.HostName)
		case "pathname":
			return d.flexString(&s.PathName)
		case "deviceid":
			return d.flexString(&s.DeviceID)
		}
		_, ok := d.skip()
		return ok
	})
}

func (d *decoder) route(rt *Route) bool {
	return d.structure(func(name []byte) bool {
		switch string(name) {
		case "systemid":
			return d.flexString(&rt.SystemID)
		case "hostname":
			return d.flexString(&rt.HostName)
		case "environment":
			return d.flexString(&rt.Environment)
		case "requesttick":
			return d.flexInt(&rt.RequestTick)
		case "accepttick":
			return d.flexInt(&rt.AcceptTick)
		case "responsetick":
			return d.flexInt(&rt.ResponseTick)
		}
		_, ok := d.skip()
		return ok
	})
}

func (d *decoder) iface(f *Interface) bool {
	return d.structure(func(name []byte) bool {
		switch string(name) {
		case "deviceplatform":
			return d.flexString(&f.DevicePlatform)
		case "interfaceid":
			return d.flexString(&f.InterfaceID)
		case "sourceip":
			return d.flexString(&f.SourceIP)
		case "sourceport":
			return d.flexInt(&f.SourcePort)
		case "sourcemac":
			return d.flexString(&f.SourceMAC)
		case "connectiontype":
			return d.flexString(&f.ConnectionType)
		case "timeout":
			return d.flexInt(&f.Timeout)
		}
		_, ok := d.skip()
		return ok
	})
}

func (d *decoder) transaction(t *Transaction) bool {
	return d.structure(func(name []byte) bool {
		switch string(name) {
		case "globalid":
			return d.flexString(&t.GlobalID)
		case "businessid":
			return d.flexString(&t.BusinessID)
		case "transactionid":
			return d.flexString(&t.TransactionID)
		case "functionid":
			return d.flexString(&t.FunctionID)
		case "commandtype":
			return d.flexString(&t.CommandType)
		case "simulationtype":
			return d.flexString(&t.SimulationType)
		case "terminalgroupid":
			return d.flexString(&t.TerminalGroupID)
		case "operatorid":
			return d.flexString(&t.OperatorID)
		case "screenid":
			return d.flexString(&t.ScreenID)
		case "starttraceid":
			return d.flexString(&t.StartTraceID)
		case "dataformat":
			return d.flexString(&t.DataFormat)
		case "compressionyn":
			return d.flexString(&t.CompressionYN)
		case "transactiontoken":
			return d.flexString(&t.TransactionToken)
		}
		_, ok := d.skip()
		return ok
	})
}

func (d *decoder) payLoad(p *PayLoad) bool {
	return d.structure(func(name []byte) bool {
		switch string(name) {
		case "property":
			return d.raw(&p.Property)
		case "datamapinterface":
			return d.flexString(&p.DataMapInterface)
		case "datamapcount":
			return list(d, &p.DataMapCount, d.flexInt)
		case "datamapset":
			return list(d, &p.DataMapSet, func(row *[]DataMapItem) bool { return list(d, row, d.dataMapItem) })
		case "datamapsetraw":
			return list(d, &p.DataMapSetRaw, d.flexString)
		}
		_, ok := d.skip()
		return ok
	})
}

func (d *decoder) dataMapItem(it *DataMapItem) bool {
	return d.structure(func(name []byte) bool {
		switch string(name) {
		case "id":
			return d.flexString(&it.ID)
		case "value":
			return d.raw(&it.Value)
		}
		_, ok := d.skip()
		return ok
	})
}
