// Package sqlexpr compiles and evaluates the expressions of SQL contracts: the
// test of <if test="..."> and the value of <bind value="...">. HandStack
// evaluates them with Dynamic LINQ; this package accepts the same syntax
// (single-quoted strings, and/or/not, = and <>, #claim and $bearer
// identifiers, .Contains(...) and friends) and runs it on expr-lang/expr, a
// sandboxed evaluator without reflection on arbitrary types. Expressions are
// compiled once, when a contract loads.
//
// Semantics are a superset of HandStack's: every expression that works there
// gives the same result here, and some that fail there work here. A missing
// identifier is null; null compared with a string is compared as "";
// null concatenates as ""; a numeric string compared with a number is
// converted.
package sqlexpr

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// MaxLength bounds the source text of one expression.
const MaxLength = 4096

// Program is a compiled expression, safe for concurrent use.
type Program struct {
	source string
	prog   *vm.Program
}

// Source is the expression as written in the contract.
func (p *Program) Source() string { return p.source }

// Compile translates a HandStack expression and compiles it.
func Compile(source string) (*Program, error) {
	if len(source) > MaxLength {
		return nil, fmt.Errorf("expression longer than %d bytes", MaxLength)
	}
	if strings.TrimSpace(source) == "" {
		return nil, errors.New("empty expression")
	}
	text, err := translate(source)
	if err != nil {
		return nil, err
	}
	pt := &patcher{}
	opts := []expr.Option{
		expr.Env(map[string]any{}),
		expr.AllowUndefinedVariables(),
		expr.DisableAllBuiltins(),
		expr.MaxNodes(2000),
		expr.Patch(pt),
	}
	for name, fn := range functions {
		opts = append(opts, expr.Function(name, fn))
	}
	prog, err := expr.Compile(text, opts...)
	if err == nil {
		err = pt.err
	}
	if err != nil {
		return nil, fmt.Errorf("expression %q: %w", source, cleanError(err))
	}
	return &Program{source: source, prog: prog}, nil
}

// cleanError keeps the first line of expr's message (the rest is a caret
// drawing of the translated text, which would only confuse).
func cleanError(err error) error {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return errors.New(msg)
}

// Env is the variable table an expression sees. Keys are the request's
// parameter names as sent ("Flag", "$UserNo", "#TenantID").
type Env map[string]any

// eval runs the program over vars.
func (p *Program) eval(vars Env) (any, error) {
	env := make(map[string]any, len(vars))
	for k, v := range vars {
		// HandStack rewrites # to $ before evaluating, so #Claim is read as $Claim.
		if strings.HasPrefix(k, "#") {
			k = "$" + k[1:]
		}
		env[k] = v
	}
	out, err := expr.Run(p.prog, env)
	if err != nil {
		return nil, fmt.Errorf("expression %q: %w", p.source, cleanError(err))
	}
	return out, nil
}

// Test evaluates the program as the condition of an <if>.
func (p *Program) Test(vars Env) (bool, error) {
	v, err := p.eval(vars)
	if err != nil {
		return false, err
	}
	switch b := v.(type) {
	case bool:
		return b, nil
	case nil:
		return false, nil
	}
	return false, fmt.Errorf("expression %q: result is %s, not a boolean", p.source, typeName(v))
}

// Value evaluates the program as the value of a <bind>, as text.
func (p *Program) Value(vars Env) (string, error) {
	v, err := p.eval(vars)
	if err != nil {
		return "", err
	}
	return Text(v), nil
}

// Text formats a value the way HandStack's .NET ToString does for the types
// that occur in variable tables.
func Text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// translate rewrites Dynamic LINQ tokens into expr syntax, token by token (so
// that text inside string literals is never touched).
func translate(src string) (string, error) {
	var b strings.Builder
	prevDot := false // the previous token was '.', so a word is a member name
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\'' || c == '"':
			s, n, err := scanString(src[i:])
			if err != nil {
				return "", err
			}
			b.WriteString(strconv.Quote(s))
			i += n
			prevDot = false
		case c == '#' || c == '$' || c == '_' || isLetterAt(src, i):
			j := i + 1
			for j < len(src) {
				r, size := utf8.DecodeRuneInString(src[j:])
				if r != '_' && r != '$' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					break
				}
				j += size
			}
			word := src[i:j]
			if c == '#' {
				word = "$" + word[1:]
			}
			if word == "$" {
				return "", fmt.Errorf("unexpected %q", src[i:j])
			}
			if !prevDot {
				if op, ok := keywords[strings.ToLower(word)]; ok {
					word = op
				}
			}
			b.WriteString(" " + word + " ")
			i = j
			prevDot = false
		case c >= '0' && c <= '9':
			j := i
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.') {
				j++
			}
			b.WriteString(src[i:j])
			// .NET numeric suffixes (5L, 1.5m, 2f) carry no meaning here.
			if j < len(src) && strings.ContainsRune("lLmMfFdDuU", rune(src[j])) && (j+1 == len(src) || !isWordByte(src[j+1])) {
				j++
			}
			i = j
			prevDot = false
		case c == '=':
			if strings.HasPrefix(src[i:], "==") {
				i += 2
			} else {
				i++
			}
			b.WriteString("==")
		case c == '<' && strings.HasPrefix(src[i:], "<>"):
			b.WriteString("!=")
			i += 2
		case c == '!' || c == '<' || c == '>':
			if i+1 < len(src) && src[i+1] == '=' {
				b.WriteString(src[i : i+2])
				i += 2
			} else {
				b.WriteByte(c)
				i++
			}
		case c == '.':
			b.WriteByte(c)
			i++
			prevDot = true
			continue
		case c == '`' || c == '\\':
			return "", fmt.Errorf("unexpected %q", c)
		default:
			b.WriteByte(c)
			i++
		}
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			prevDot = false
		}
	}
	return b.String(), nil
}

// keywords maps Dynamic LINQ words to expr operators and literals.
var keywords = map[string]string{
	"and": "&&", "or": "||", "not": "!",
	"eq": "==", "ne": "!=", "neq": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=",
	"mod": "%", "null": "nil", "true": "true", "false": "false",
}

func isLetterAt(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r)
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// scanString reads a quoted literal at the start of s ('...' or "..."; a
// doubled quote or a backslash escapes the quote) and returns its value and
// length.
func scanString(s string) (string, int, error) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			default:
				b.WriteByte(s[i])
			}
		case c == q && i+1 < len(s) && s[i+1] == q:
			b.WriteByte(q)
			i++
		case c == q:
			return b.String(), i + 1, nil
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, errors.New("unterminated string literal")
}
