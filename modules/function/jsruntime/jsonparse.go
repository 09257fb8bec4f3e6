package jsruntime

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/dop251/goja"

	"github.com/ack-dev/ack/internal/jsonenc"
)

// maxJSONDepth bounds parseJSON's recursion; deeper texts go to JSON.parse.
const maxJSONDepth = 200

// parseJSON builds the value of a JSON text the way goja's JSON.parse does
// (plain data properties in text order, numbers as float64, a repeated key
// keeping its first position and last value), without encoding/json's
// token stream, which was the costliest part of starting a small call. ok
// is false for anything it does not take (invalid JSON, a number out of
// range, deep nesting); the caller then runs JSON.parse, which also reports
// the error.
func (v *vm) parseJSON(data string) (goja.Value, bool) {
	p := jsonParser{rt: v.rt, s: data}
	val, ok := p.value(0)
	if !ok {
		return nil, false
	}
	p.space()
	return val, p.i == len(p.s)
}

type jsonParser struct {
	rt *goja.Runtime
	s  string
	i  int
}

func (p *jsonParser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value(depth int) (goja.Value, bool) {
	p.space()
	if p.i >= len(p.s) || depth > maxJSONDepth {
		return nil, false
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, ok := p.string()
		if !ok {
			return nil, false
		}
		return p.rt.ToValue(s), true
	case c == 't':
		return p.literal("true", p.rt.ToValue(true))
	case c == 'f':
		return p.literal("false", p.rt.ToValue(false))
	case c == 'n':
		return p.literal("null", goja.Null())
	case c == '-' || c >= '0' && c <= '9':
		start := p.i
		for p.i < len(p.s) && isNumberByte(p.s[p.i]) {
			p.i++
		}
		num := p.s[start:p.i]
		if !jsonenc.ValidNumber(num) {
			return nil, false
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return nil, false
		}
		return p.rt.ToValue(f), true
	}
	return nil, false
}

func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

func (p *jsonParser) literal(word string, v goja.Value) (goja.Value, bool) {
	if len(p.s)-p.i < len(word) || p.s[p.i:p.i+len(word)] != word {
		return nil, false
	}
	p.i += len(word)
	return v, true
}

func (p *jsonParser) object(depth int) (goja.Value, bool) {
	obj := p.rt.NewObject()
	p.i++ // {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return obj, true
	}
	for {
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return nil, false
		}
		key, ok := p.string()
		if !ok {
			return nil, false
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, false
		}
		p.i++
		val, ok := p.value(depth + 1)
		if !ok {
			return nil, false
		}
		// A data property even for "__proto__", as JSON.parse makes it.
		if obj.DefineDataProperty(key, val, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE) != nil {
			return nil, false
		}
		if done, ok := p.next('}'); !ok {
			return nil, false
		} else if done {
			return obj, true
		}
	}
}

func (p *jsonParser) array(depth int) (goja.Value, bool) {
	p.i++ // [
	var items []any
	p.space()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return p.rt.NewArray(), true
	}
	for {
		val, ok := p.value(depth + 1)
		if !ok {
			return nil, false
		}
		items = append(items, val)
		if done, ok := p.next(']'); !ok {
			return nil, false
		} else if done {
			return p.rt.NewArray(items...), true
		}
	}
}

// next consumes what follows a member or an item: a ',' (more to come) or
// end, the closing bracket (done).
func (p *jsonParser) next(end byte) (done, ok bool) {
	p.space()
	if p.i >= len(p.s) || p.s[p.i] != ',' && p.s[p.i] != end {
		return false, false
	}
	p.i++
	return p.s[p.i-1] == end, true
}

// string reads the string literal at p.i. One without escapes or invalid
// UTF-8 is taken as it is; others are decoded by encoding/json, which is
// what JSON.parse uses.
func (p *jsonParser) string() (string, bool) {
	start := p.i
	plain := true
	for p.i++; p.i < len(p.s); p.i++ {
		switch c := p.s[p.i]; {
		case c == '"':
			p.i++
			lit := p.s[start:p.i]
			if plain && utf8.ValidString(lit) {
				return lit[1 : len(lit)-1], true
			}
			var s string
			if json.Unmarshal([]byte(lit), &s) != nil {
				return "", false
			}
			return s, true
		case c == '\\':
			plain = false
			p.i++ // the escaped byte; encoding/json checks the escape
		case c < 0x20:
			return "", false
		}
	}
	return "", false
}
