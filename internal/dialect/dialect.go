// Package dialect turns rendered contract SQL into what each database driver
// accepts: named placeholders (@name, :name) of declared parameters and the
// bind markers of #{name} become the driver's positional placeholders, list
// values expand to (p1, p2, ...), and on providers whose Go driver cannot
// return several result sets from one call (SQLite, PostgreSQL, Oracle) the
// text is split into statements. The scanner knows each dialect's strings,
// quoted identifiers and comments, so nothing inside them is touched.
package dialect

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Provider is a HandStack DataProvider name.
type Provider string

// The providers HandStack supports.
const (
	SQLite     Provider = "SQLite"
	PostgreSQL Provider = "PostgreSQL"
	MySQL      Provider = "MySQL"
	SQLServer  Provider = "SqlServer"
	Oracle     Provider = "Oracle"
)

// ParseProvider accepts a HandStack DataProvider name (any case).
func ParseProvider(s string) (Provider, error) {
	for _, p := range []Provider{SQLite, PostgreSQL, MySQL, SQLServer, Oracle} {
		if strings.EqualFold(string(p), strings.TrimSpace(s)) {
			return p, nil
		}
	}
	return "", fmt.Errorf("unknown DataProvider %q (want SqlServer, Oracle, MySQL, PostgreSQL or SQLite)", s)
}

// Marker is the bind marker the renderer writes for the i-th value of
// Query.Values. NUL cannot occur in contract XML, and the renderer refuses it
// in substituted values.
func Marker(i int) string { return "\x00" + strconv.Itoa(i) + "\x00" }

// Query is rendered SQL with its values.
type Query struct {
	// SQL is the rendered text; Marker(i) stands for Values[i].
	SQL    string
	Values []any
	// Named holds the declared parameters by name (without prefix). A value
	// that is a []any expands to a parenthesised list.
	Named map[string]any
}

// Command is one call to the driver.
type Command struct {
	SQL  string
	Args []any
}

// ErrMarkerInString reports a #{name} written inside a quoted string, where a
// bind parameter cannot go.
var ErrMarkerInString = errors.New("#{...} inside a quoted string or identifier cannot be bound; write it outside the quotes")

type splitMode int

const (
	noSplit splitMode = iota
	splitSQLite
	splitPlain
	splitOracle
)

// syntax describes what the scanner must know of one dialect.
type syntax struct {
	backslashEscapes bool   // MySQL: \' inside strings
	hashComments     bool   // MySQL: # to end of line
	bracketIdents    bool   // SQLite, SQL Server: [name]
	backtickIdents   bool   // SQLite, MySQL: `name`
	dollarQuotes     bool   // PostgreSQL: $tag$...$tag$
	prefixes         string // placeholder prefixes
	split            splitMode
	reuse            bool // the same placeholder may appear twice
	placeholder      func(n int) string
}

var syntaxes = map[Provider]*syntax{
	SQLite: {
		bracketIdents: true, backtickIdents: true, prefixes: "@:$", split: splitSQLite, reuse: true,
		placeholder: func(n int) string { return "?" + strconv.Itoa(n) },
	},
	PostgreSQL: {
		dollarQuotes: true, prefixes: "@:", split: splitPlain, reuse: true,
		placeholder: func(n int) string { return "$" + strconv.Itoa(n) },
	},
	MySQL: {
		backslashEscapes: true, hashComments: true, backtickIdents: true, prefixes: "@", split: noSplit,
		placeholder: func(int) string { return "?" },
	},
	SQLServer: {
		bracketIdents: true, prefixes: "@", split: noSplit, reuse: true,
		placeholder: func(n int) string { return "@p" + strconv.Itoa(n) },
	},
	Oracle: {
		prefixes: ":", split: splitOracle,
		placeholder: func(n int) string { return ":" + strconv.Itoa(n) },
	},
}

// Compile converts q for provider p.
func Compile(p Provider, q Query) ([]Command, error) {
	syn, ok := syntaxes[p]
	if !ok {
		return nil, fmt.Errorf("unknown provider %q", p)
	}
	c := &compiler{syn: syn, q: q, src: q.SQL}
	c.lower = make(map[string]string, len(q.Named))
	for name := range q.Named {
		c.lower[strings.ToLower(name)] = name
	}
	if err := c.run(); err != nil {
		return nil, err
	}
	return c.out, nil
}

type compiler struct {
	syn   *syntax
	q     Query
	src   string
	lower map[string]string // lower-cased name -> declared name
	out   []Command

	// the command being built
	b       strings.Builder
	args    []any
	slots   map[string]int // placeholder reuse: key -> number
	hasCode bool           // something other than blanks and comments
	words   []string       // first words of the statement (upper-cased), for split rules
	depth   int            // BEGIN/CASE ... END nesting inside a trigger
	begun   bool           // the trigger body's BEGIN was seen
	plsql   bool           // Oracle block: never split
}

func (c *compiler) emit() {
	sql := strings.TrimSpace(c.b.String())
	if c.hasCode {
		if c.syn.split == splitOracle && !c.plsql {
			sql = strings.TrimSpace(strings.TrimSuffix(sql, ";"))
		}
		c.out = append(c.out, Command{SQL: sql, Args: c.args})
	}
	c.b.Reset()
	c.args, c.slots, c.hasCode, c.words, c.depth, c.begun, c.plsql = nil, nil, false, nil, 0, false, false
}

func (c *compiler) run() error {
	s := c.src
	i := 0
	for i < len(s) {
		ch := s[i]
		switch {
		case ch == '\x00':
			end := strings.IndexByte(s[i+1:], 0)
			if end < 0 {
				return errors.New("malformed bind marker")
			}
			n, err := strconv.Atoi(s[i+1 : i+1+end])
			if err != nil || n < 0 || n >= len(c.q.Values) {
				return errors.New("malformed bind marker")
			}
			c.bind("\x00"+strconv.Itoa(n), c.q.Values[n])
			c.hasCode = true
			i += end + 2
		case ch == '\'':
			n, err := c.quoted(s[i:], '\'', c.syn.backslashEscapes || c.isEString(i))
			if err != nil {
				return err
			}
			i += n
		case ch == '"':
			n, err := c.quoted(s[i:], '"', c.syn.backslashEscapes)
			if err != nil {
				return err
			}
			i += n
		case ch == '`' && c.syn.backtickIdents:
			n, err := c.quoted(s[i:], '`', false)
			if err != nil {
				return err
			}
			i += n
		case ch == '[' && c.syn.bracketIdents:
			n, err := c.quoted(s[i:], ']', false)
			if err != nil {
				return err
			}
			i += n
		case ch == '-' && strings.HasPrefix(s[i:], "--"), ch == '#' && c.syn.hashComments:
			end := strings.IndexByte(s[i:], '\n')
			if end < 0 {
				end = len(s) - i
			}
			c.comment(s[i : i+end])
			i += end
		case ch == '/' && strings.HasPrefix(s[i:], "/*"):
			end := strings.Index(s[i+2:], "*/")
			n := len(s) - i
			if end >= 0 {
				n = end + 4
			}
			c.comment(s[i : i+n])
			i += n
		case ch == '$' && c.syn.dollarQuotes && c.dollarTag(s[i:]) != "":
			tag := c.dollarTag(s[i:])
			end := strings.Index(s[i+len(tag):], tag)
			n := len(s) - i
			if end >= 0 {
				n = len(tag) + end + len(tag)
			}
			if strings.Contains(s[i:i+n], "\x00") {
				return ErrMarkerInString
			}
			c.b.WriteString(s[i : i+n])
			c.hasCode = true
			i += n
		case strings.IndexByte(c.syn.prefixes, ch) >= 0 && c.placeholderAt(i):
			j := i + 1
			for j < len(s) && isIdentByte(s[j]) {
				j++
			}
			name := c.lookup(s[i+1 : j])
			c.bind(name, c.q.Named[name])
			c.hasCode = true
			i = j
		case ch == ';' && c.syn.split != noSplit:
			c.b.WriteByte(';')
			if c.statementEnds() {
				c.emit()
			}
			i++
		case isIdentByte(ch):
			j := i
			for j < len(s) && isIdentByte(s[j]) {
				j++
			}
			c.word(s[i:j])
			c.b.WriteString(s[i:j])
			c.hasCode = true
			i = j
		default:
			if !isSpace(ch) {
				c.hasCode = true
			}
			c.b.WriteByte(ch)
			i++
		}
	}
	c.emit()
	return nil
}

// quoted copies a quoted string or identifier starting at s[0] and returns
// its length. A doubled closing quote (or a backslash escape where the
// dialect has them) stays inside.
func (c *compiler) quoted(s string, closeCh byte, backslash bool) (int, error) {
	i := 1
	for i < len(s) {
		switch {
		case backslash && s[i] == '\\' && i+1 < len(s):
			i += 2
			continue
		case s[i] == closeCh && i+1 < len(s) && s[i+1] == closeCh:
			i += 2
			continue
		case s[i] == closeCh:
			i++
			if strings.Contains(s[:i], "\x00") {
				return 0, ErrMarkerInString
			}
			c.b.WriteString(s[:i])
			c.hasCode = true
			return i, nil
		}
		i++
	}
	// Unterminated: the database will report it; keep the text as is.
	if strings.Contains(s, "\x00") {
		return 0, ErrMarkerInString
	}
	c.b.WriteString(s)
	c.hasCode = true
	return len(s), nil
}

// comment copies a comment, dropping any bind marker in it (a #{name} in a
// comment means nothing to the database).
func (c *compiler) comment(s string) {
	for {
		a := strings.IndexByte(s, 0)
		if a < 0 {
			break
		}
		b := strings.IndexByte(s[a+1:], 0)
		if b < 0 {
			s = s[:a] + s[a+1:]
			continue
		}
		s = s[:a] + s[a+1+b+1:]
	}
	c.b.WriteString(s)
}

// isEString reports a PostgreSQL E'...' string (backslash escapes).
func (c *compiler) isEString(i int) bool {
	return c.syn.dollarQuotes && i > 0 && (c.src[i-1] == 'E' || c.src[i-1] == 'e') && (i < 2 || !isIdentByte(c.src[i-2]))
}

// dollarTag returns the $tag$ opening a dollar-quoted string at s, or "".
func (c *compiler) dollarTag(s string) string {
	j := 1
	for j < len(s) && (isIdentByte(s[j]) && !(j == 1 && s[j] >= '0' && s[j] <= '9')) {
		j++
	}
	if j < len(s) && s[j] == '$' {
		return s[:j+1]
	}
	return ""
}

// placeholderAt reports whether the prefix at i starts a placeholder of a
// declared parameter: not doubled (@@version, ::cast), not part of a word,
// and naming a declared parameter.
func (c *compiler) placeholderAt(i int) bool {
	s := c.src
	if i+1 >= len(s) || !isIdentStart(s[i+1]) {
		return false
	}
	if i > 0 && (s[i-1] == s[i] || isIdentByte(s[i-1])) {
		return false
	}
	j := i + 1
	for j < len(s) && isIdentByte(s[j]) {
		j++
	}
	return c.lookup(s[i+1:j]) != ""
}

func (c *compiler) lookup(name string) string {
	if _, ok := c.q.Named[name]; ok {
		return name
	}
	return c.lower[strings.ToLower(name)]
}

// bind writes the placeholder(s) for value, expanding lists.
func (c *compiler) bind(key string, value any) {
	if list, ok := value.([]any); ok {
		if len(list) == 0 {
			c.b.WriteString("(NULL)")
			return
		}
		c.b.WriteByte('(')
		for k, v := range list {
			if k > 0 {
				c.b.WriteString(", ")
			}
			c.bind(key+"\x00"+strconv.Itoa(k), v)
		}
		c.b.WriteByte(')')
		return
	}
	if c.syn.reuse {
		if n, ok := c.slots[key]; ok {
			c.b.WriteString(c.syn.placeholder(n))
			return
		}
		if c.slots == nil {
			c.slots = map[string]int{}
		}
		c.slots[key] = len(c.args) + 1
	}
	c.args = append(c.args, value)
	c.b.WriteString(c.syn.placeholder(len(c.args)))
}

// word tracks the keywords that decide where a statement ends.
func (c *compiler) word(w string) {
	u := strings.ToUpper(w)
	if len(c.words) < 4 {
		c.words = append(c.words, u)
		if c.syn.split == splitOracle && len(c.words) <= 4 {
			c.plsql = c.plsql || isPLSQL(c.words)
		}
	}
	if c.syn.split == splitSQLite && c.isTrigger() {
		switch u {
		case "BEGIN":
			c.depth++
			c.begun = true
		case "CASE":
			c.depth++
		case "END":
			c.depth--
		}
	}
}

func (c *compiler) isTrigger() bool {
	w := c.words
	if len(w) < 2 || w[0] != "CREATE" {
		return false
	}
	if w[1] == "TEMP" || w[1] == "TEMPORARY" {
		return len(w) >= 3 && w[2] == "TRIGGER"
	}
	return w[1] == "TRIGGER"
}

func isPLSQL(w []string) bool {
	switch w[0] {
	case "BEGIN", "DECLARE":
		return true
	case "CREATE":
		for _, x := range w[1:] {
			switch x {
			case "PROCEDURE", "FUNCTION", "PACKAGE", "TRIGGER", "TYPE":
				return true
			}
		}
	}
	return false
}

// statementEnds decides whether the ';' just written ends the statement.
func (c *compiler) statementEnds() bool {
	switch c.syn.split {
	case splitSQLite:
		return !c.isTrigger() || c.begun && c.depth <= 0
	case splitOracle:
		return !c.plsql
	}
	return true
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isIdentByte(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }
