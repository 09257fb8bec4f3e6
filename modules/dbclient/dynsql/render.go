package dynsql

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/ack-dev/ack/internal/dialect"
	"github.com/ack-dev/ack/modules/dbclient/sqlexpr"
	"github.com/ack-dev/ack/modules/dbclient/sqlmap"
)

// ErrUnsafeValue is returned when a ${name} value is not a plain identifier,
// number or comma list, in a statement that has not opted out.
var ErrUnsafeValue = errors.New("unsafe ${} value")

// safeRaw is what ${name} may paste into SQL: identifiers, numbers and comma
// lists of them (column names, sort directions, IN lists of numbers).
var safeRaw = regexp.MustCompile(`^(-?[0-9]+(\.[0-9]+)?|[\p{L}\p{N}_.,]*)$`)

// Render renders body with vars (which <bind> and <foreach> update) into a
// query for package dialect. named holds the declared parameters (from
// Bind). inline selects HandStack's text substitution for #{} and ${}
// (the statement's inlinevalues="Y"); otherwise #{name} becomes a bind
// parameter and ${name} accepts only safe values.
func Render(body []sqlmap.Node, vars sqlexpr.Env, named map[string]any, inline bool) (dialect.Query, error) {
	r := &renderer{vars: vars, inline: inline}
	var b strings.Builder
	if err := r.nodes(body, &b); err != nil {
		return dialect.Query{}, err
	}
	return dialect.Query{SQL: b.String(), Values: r.values, Named: named}, nil
}

type renderer struct {
	vars   sqlexpr.Env
	inline bool
	values []any
}

func (r *renderer) nodes(nodes []sqlmap.Node, b *strings.Builder) error {
	for _, n := range nodes {
		switch v := n.(type) {
		case *sqlmap.Text:
			if err := r.text(v.SQL, b); err != nil {
				return fmt.Errorf("line %d: %w", v.Line, err)
			}
		case *sqlmap.If:
			ok, err := v.Test.Test(r.vars)
			if err != nil {
				return fmt.Errorf("line %d: %w", v.Line, err)
			}
			if ok {
				if err := r.nodes(v.Body, b); err != nil {
					return err
				}
			}
		case *sqlmap.Bind:
			s, err := v.Value.Value(r.vars)
			if err != nil {
				return fmt.Errorf("line %d: %w", v.Line, err)
			}
			r.vars[v.Name] = s
		case *sqlmap.Foreach:
			if err := r.foreach(v, b); err != nil {
				return fmt.Errorf("line %d: %w", v.Line, err)
			}
		}
	}
	return nil
}

func (r *renderer) foreach(f *sqlmap.Foreach, b *strings.Builder) error {
	raw, ok := r.vars[f.Collection]
	if !ok {
		return nil
	}
	var items []any
	switch x := raw.(type) {
	case []any:
		items = x
	case string:
		if err := json.Unmarshal([]byte(x), &items); err != nil {
			return fmt.Errorf("foreach %s: the value is not a JSON array (declare the parameter with transform=\"@FOREACH\")", f.Collection)
		}
	default:
		return fmt.Errorf("foreach %s: the value is not a JSON array", f.Collection)
	}
	var parts []string
	for _, it := range items {
		r.vars[f.Item] = valueText(it)
		var ib strings.Builder
		if err := r.nodes(f.Body, &ib); err != nil {
			return err
		}
		// Blank items are dropped; the others keep their spaces, because
		// the separator is written verbatim (separator="OR").
		if s := ib.String(); strings.TrimSpace(s) != "" {
			parts = append(parts, s)
		}
	}
	delete(r.vars, f.Collection)
	b.WriteString(f.Open + strings.Join(parts, f.Separator) + f.Close)
	return nil
}

// text writes a run of SQL, replacing #{name} and ${name} of known
// variables in one left-to-right pass (a value is never expanded again).
// Unknown placeholders stay as written, as in HandStack.
func (r *renderer) text(s string, b *strings.Builder) error {
	for {
		i := strings.IndexAny(s, "#$")
		if i < 0 || i+1 >= len(s) {
			b.WriteString(s)
			return nil
		}
		if s[i+1] != '{' {
			b.WriteString(s[:i+1])
			s = s[i+1:]
			continue
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			b.WriteString(s)
			return nil
		}
		name := s[i+2 : i+2+end]
		v, known := r.vars[name]
		if !known || strings.ContainsAny(name, " \t\r\n{") {
			b.WriteString(s[:i+2])
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		if err := r.substitute(s[i] == '#', name, v, b); err != nil {
			return err
		}
		s = s[i+2+end+1:]
	}
}

func (r *renderer) substitute(quoted bool, name string, v any, b *strings.Builder) error {
	text := sqlexpr.Text(v)
	if strings.ContainsRune(text, 0) {
		return fmt.Errorf("%w: value of %s contains a NUL character", ErrUnsafeValue, name)
	}
	switch {
	case r.inline:
		// HandStack's substitution, for statements that opted out.
		if !strings.HasPrefix(name, "$") {
			text = strings.ReplaceAll(strings.ReplaceAll(text, `"`, `\"`), "'", "''")
		}
		if quoted {
			text = "'" + text + "'"
		}
		b.WriteString(text)
	case quoted:
		b.WriteString(dialect.Marker(len(r.values)))
		r.values = append(r.values, text)
	default:
		if !safeRaw.MatchString(text) {
			return fmt.Errorf("%w: ${%s} may only hold letters, digits, '_', '.' and ',' (or set inlinevalues=\"Y\" on the statement)", ErrUnsafeValue, name)
		}
		b.WriteString(text)
	}
	return nil
}
