package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// StripJSONC removes // and /* */ comments and trailing commas from JSON
// text, leaving strings untouched and every newline in place (so that error
// offsets still give the right line). HandStack's contracts and settings are
// read by Newtonsoft, which allows both.
func StripJSONC(data []byte) []byte {
	out := make([]byte, 0, len(data))
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			out = append(out, c)
			switch c {
			case '\\':
				if i+1 < len(data) {
					i++
					out = append(out, data[i])
				}
			case '"':
				inString = false
			}
			continue
		}
		switch {
		case c == '"':
			inString = true
			out = append(out, c)
		case c == '/' && i+1 < len(data) && data[i+1] == '/':
			for i < len(data) && data[i] != '\n' {
				out = append(out, ' ')
				i++
			}
			if i < len(data) {
				out = append(out, '\n')
			}
		case c == '/' && i+1 < len(data) && data[i+1] == '*':
			out = append(out, ' ', ' ')
			i += 2
			for i < len(data) && !(data[i] == '*' && i+1 < len(data) && data[i+1] == '/') {
				if data[i] == '\n' {
					out = append(out, '\n')
				} else {
					out = append(out, ' ')
				}
				i++
			}
			if i < len(data) {
				out = append(out, ' ', ' ')
				i++
			}
		case c == ',':
			// A comma before a closing bracket, possibly across comments, is dropped.
			if j := skipSpaceAndComments(data, i+1); j < len(data) && (data[j] == '}' || data[j] == ']') {
				out = append(out, ' ')
			} else {
				out = append(out, c)
			}
		default:
			out = append(out, c)
		}
	}
	return out
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipSpaceAndComments returns the index of the first byte at or after i
// that is neither white space nor inside a comment.
func skipSpaceAndComments(data []byte, i int) int {
	for i < len(data) {
		switch {
		case isSpace(data[i]):
			i++
		case bytes.HasPrefix(data[i:], []byte("//")):
			end := bytes.IndexByte(data[i:], '\n')
			if end < 0 {
				return len(data)
			}
			i += end
		case bytes.HasPrefix(data[i:], []byte("/*")):
			end := bytes.Index(data[i+2:], []byte("*/"))
			if end < 0 {
				return len(data)
			}
			i += 2 + end + 2
		default:
			return i
		}
	}
	return i
}

// LineOf returns the 1-based line of a byte offset in data.
func LineOf(data []byte, offset int64) int {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	return bytes.Count(data[:offset], []byte("\n")) + 1
}

// JSONErrorLine returns the line that a json decoding error points at, or 0.
func JSONErrorLine(data []byte, err error) int {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return LineOf(data, se.Offset)
	case errors.As(err, &te):
		return LineOf(data, te.Offset)
	}
	return 0
}

func describeJSONError(data []byte, err error) error {
	if line := JSONErrorLine(data, err); line > 0 {
		return fmt.Errorf("line %d: %w", line, err)
	}
	return err
}
