// Package sqlmap reads HandStack SQL contracts (<mapper> XML files under
// contracts/dbclient) into statement trees: the header, each <statement> with
// its <param>s and a body of text runs, <if>, <foreach>, <bind> and
// <pretreatment> nodes. Expressions are compiled here, once per file load, so
// that a bad expression is reported with its line when the file loads rather
// than when a request runs.
package sqlmap

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/ack-dev/ack/modules/dbclient/sqlexpr"
)

// Node is one part of a statement body.
type Node interface{ line() int }

// Text is a run of SQL, with #{name} and ${name} placeholders still in it.
type Text struct {
	SQL  string
	Line int
}

// If renders Body when Test holds.
type If struct {
	Test *sqlexpr.Program
	Body []Node
	Line int
}

// Foreach renders Body once per element of the JSON array in variable
// Collection, with variable Item set to the element.
type Foreach struct {
	Collection, Item, Open, Close, Separator string
	Body                                     []Node
	Line                                     int
}

// Bind sets variable Name to the text of Value.
type Bind struct {
	Name  string
	Value *sqlexpr.Program
	Line  int
}

// Pretreatment is SQL run before the statement; its result sets become
// parameters (Row: one value per column, List: the distinct values).
type Pretreatment struct {
	ResultTypes []string // "Row" or "List", one per result set
	Body        []Node
	Line        int
}

func (n *Text) line() int         { return n.Line }
func (n *If) line() int           { return n.Line }
func (n *Foreach) line() int      { return n.Line }
func (n *Bind) line() int         { return n.Line }
func (n *Pretreatment) line() int { return n.Line }

// Param is a declared bind parameter (<param>).
type Param struct {
	ID        string // as written, with its prefix ("@Title")
	Name      string // the request parameter it binds ("Title")
	Type      string
	Length    int
	Default   string // value=
	Direction string // Input (default), Output, InputOutput, ReturnValue
	Transform string
	Required  bool
	TestValue string
}

// Statement is one executable statement of a contract.
type Statement struct {
	ApplicationID string
	ProjectID     string
	TransactionID string
	ID            string // the service ID ("LD01")
	Seq           int
	DataSourceID  string // statement or header datasource; "" means the module default
	Isolation     string // header <isolation>
	Description   string
	// Timeout is the statement's timeout attribute in seconds. HandStack
	// reads 0 (or no attribute) as no limit and a negative value as "use
	// DefaultCommandTimeout".
	Timeout int
	Native  bool
	// InlineValues opts the statement out of ack's injection safety: #{x}
	// becomes a quoted literal and ${x} is pasted unchecked, as in HandStack.
	InlineValues bool
	Params       []Param
	Body         []Node
	Pretreatment *Pretreatment
	OutputMetas  []string
	Raw          string // the statement's inner markup as written
	File         string // slash-separated, relative to its contract root
	Line         int
}

// StatementID is the ID followed by the two-digit sequence ("LD0100").
func (s *Statement) StatementID() string { return fmt.Sprintf("%s%02d", s.ID, s.Seq) }

// QueryID is the statement's key: "App|Project|Transaction|StatementID".
func (s *Statement) QueryID() string {
	return s.ApplicationID + "|" + s.ProjectID + "|" + s.TransactionID + "|" + s.StatementID()
}

// Warning is a problem that does not stop a file from loading.
type Warning struct {
	Line    int
	Message string
}

// Error is a problem that stops a file from loading.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// IsContract reports whether a file is an SQL contract by its name.
func IsContract(rel string) bool {
	ext := strings.ToLower(path.Ext(rel))
	return ext == ".xml" || ext == ".dbc"
}

// Truthy is HandStack's list of true words (case-insensitive).
func Truthy(s string) bool {
	switch strings.ToLower(s) {
	case "true", "y", "1", "ok", "yes", "on":
		return true
	}
	return false
}

// Parse reads one contract file. rel (slash-separated, relative to the
// contract root) supplies the application, project and transaction IDs when
// the header does not. It returns the statements in file order; a header
// whose <use> is not truthy yields none (with a warning), as in HandStack.
func Parse(rel string, data []byte) ([]*Statement, []Warning, error) {
	src := strings.TrimPrefix(string(data), "\ufeff")
	p := &parser{src: src}
	root := parseMarkup(src)
	var app, project, tx string
	if parts := strings.Split(rel, "/"); len(parts) >= 3 {
		app, project = parts[len(parts)-3], parts[len(parts)-2]
	}
	tx = strings.TrimSuffix(path.Base(rel), path.Ext(rel))
	// Lenient as HandStack is, but a file cut short (an editor or a copy
	// still writing it) must fail, so that its last good version keeps
	// serving instead of silently losing its statements.
	if mappers := root.find("#root", "mapper"); len(mappers) > 0 && !mappers[0].closed {
		return nil, nil, &Error{Line: mappers[0].line, Msg: "<mapper> is not closed: the file is incomplete (still being written?)"}
	}
	headerDS, isolation := "", ""
	headers := root.find("mapper", "header")
	if len(headers) > 0 {
		h := headers[0]
		value := func(name string) string {
			if c := h.child(name); c != nil {
				return strings.TrimSpace(c.innerText())
			}
			return ""
		}
		if v := value("application"); v != "" {
			app = v
		}
		if v := value("project"); v != "" {
			project = v
		}
		if v := value("transaction"); v != "" {
			tx = v
		}
		headerDS, isolation = value("datasource"), value("isolation")
		if h.child("encryptcommands") != nil {
			p.warn(h.line, "encrypted commands (<encryptcommands>) are not supported; the file is skipped")
			return nil, p.warnings, nil
		}
		if use := h.child("use"); use == nil || !Truthy(strings.TrimSpace(use.innerText())) {
			p.warn(h.line, "the header's <use> is missing or not true (Y, true, 1, ok, yes, on): no statement of this file is loaded")
			return nil, p.warnings, nil
		}
	}
	if app == "" || project == "" || tx == "" {
		return nil, p.warnings, &Error{Line: 1, Msg: "application, project and transaction IDs are neither in the header nor in the path (APP/PROJECT/TRANSACTION.xml)"}
	}
	seen := map[string]int{}
	var out []*Statement
	for _, e := range root.find("commands", "statement") {
		st, err := p.statement(e)
		if err != nil {
			return nil, p.warnings, err
		}
		st.ApplicationID, st.ProjectID, st.TransactionID = app, project, tx
		if st.DataSourceID == "" {
			st.DataSourceID = headerDS
		}
		st.Isolation = isolation
		st.File = rel
		if first, dup := seen[st.StatementID()]; dup {
			p.warn(e.line, fmt.Sprintf("statement %s is already defined on line %d; this one is ignored", st.StatementID(), first))
			continue
		}
		seen[st.StatementID()] = e.line
		out = append(out, st)
	}
	return out, p.warnings, nil
}

type parser struct {
	src      string
	warnings []Warning
}

func (p *parser) warn(line int, msg string) {
	p.warnings = append(p.warnings, Warning{Line: line, Message: msg})
}

func (p *parser) statement(e *element) (*Statement, error) {
	id := strings.TrimSpace(e.attrs["id"])
	if id == "" {
		return nil, &Error{Line: e.line, Msg: "<statement> needs an id attribute"}
	}
	seqText, ok := e.attrs["seq"]
	if !ok {
		return nil, &Error{Line: e.line, Msg: fmt.Sprintf("statement %s needs a seq attribute", id)}
	}
	seq, err := strconv.Atoi(strings.TrimSpace(seqText))
	if err != nil || seq < 0 || seq > 99 {
		return nil, &Error{Line: e.attrLine["seq"], Msg: fmt.Sprintf("statement %s: seq %q is not a number from 0 to 99", id, seqText)}
	}
	st := &Statement{
		ID: id, Seq: seq,
		DataSourceID: strings.TrimSpace(e.attrs["datasource"]),
		Description:  e.attrs["desc"],
		Native:       Truthy(e.attrs["native"]),
		InlineValues: Truthy(e.attrs["inlinevalues"]),
		Raw:          p.src[e.rawStart:max(e.rawStart, e.rawEnd)],
		Line:         e.line,
	}
	if t, ok := e.attrs["timeout"]; ok && strings.TrimSpace(t) != "" {
		st.Timeout, err = strconv.Atoi(strings.TrimSpace(t))
		if err != nil {
			return nil, &Error{Line: e.attrLine["timeout"], Msg: fmt.Sprintf("statement %s: timeout %q is not a number of seconds", id, t)}
		}
	}
	for _, a := range []string{"before", "after", "fallback"} {
		if strings.TrimSpace(e.attrs[a]) != "" {
			p.warn(e.attrLine[a], fmt.Sprintf("statement %s: the %s attribute has no effect (as in HandStack) and is ignored", id, a))
		}
	}
	st.Body, err = p.body(st, e, false)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// body converts the children of e into nodes. Params, output metas and the
// pretreatment are collected on st wherever they appear.
func (p *parser) body(st *Statement, e *element, inPretreatment bool) ([]Node, error) {
	var out []Node
	for _, c := range e.children {
		if t, ok := c.(text); ok {
			out = append(out, &Text{SQL: t.value, Line: t.line})
			continue
		}
		ce := c.(*element)
		switch ce.name {
		case "param":
			prm, err := p.param(st, ce)
			if err != nil {
				return nil, err
			}
			st.Params = append(st.Params, prm)
		case "outputmeta":
			st.OutputMetas = append(st.OutputMetas, ce.attrs["value"])
		case "if":
			test, ok := ce.attrs["test"]
			if !ok {
				return nil, &Error{Line: ce.line, Msg: "<if> needs a test attribute"}
			}
			prog, err := sqlexpr.Compile(test)
			if err != nil {
				return nil, &Error{Line: ce.attrLine["test"], Msg: err.Error()}
			}
			body, err := p.body(st, ce, inPretreatment)
			if err != nil {
				return nil, err
			}
			out = append(out, &If{Test: prog, Body: body, Line: ce.line})
		case "foreach":
			f := &Foreach{
				Collection: strings.TrimSpace(ce.attrs["collection"]), Item: strings.TrimSpace(ce.attrs["item"]),
				Open: ce.attrs["open"], Close: ce.attrs["close"], Separator: ce.attrs["separator"], Line: ce.line,
			}
			if f.Collection == "" {
				msg := "<foreach> needs a collection attribute"
				if _, ok := ce.attrs["list"]; ok {
					msg += " (list= is not supported; write collection=)"
				}
				return nil, &Error{Line: ce.line, Msg: msg}
			}
			if f.Item == "" {
				return nil, &Error{Line: ce.line, Msg: "<foreach> needs an item attribute"}
			}
			body, err := p.body(st, ce, inPretreatment)
			if err != nil {
				return nil, err
			}
			f.Body = body
			p.checkItemPlaceholder(f)
			out = append(out, f)
		case "bind":
			name, value := strings.TrimSpace(ce.attrs["name"]), ce.attrs["value"]
			if name == "" {
				return nil, &Error{Line: ce.line, Msg: "<bind> needs a name attribute"}
			}
			prog, err := sqlexpr.Compile(value)
			if err != nil {
				return nil, &Error{Line: ce.attrLine["value"], Msg: err.Error()}
			}
			out = append(out, &Bind{Name: name, Value: prog, Line: ce.line})
		case "pretreatment":
			if inPretreatment || st.Pretreatment != nil {
				return nil, &Error{Line: ce.line, Msg: "a statement has at most one <pretreatment>"}
			}
			var types []string
			for _, t := range strings.Split(ce.attrs["resulttype"], ",") {
				t = strings.TrimSpace(t)
				switch strings.ToLower(t) {
				case "row", "list":
					types = append(types, t)
				default:
					return nil, &Error{Line: ce.line, Msg: fmt.Sprintf("<pretreatment> resultType %q: want a comma list of Row and List", ce.attrs["resulttype"])}
				}
			}
			body, err := p.body(st, ce, true)
			if err != nil {
				return nil, err
			}
			st.Pretreatment = &Pretreatment{ResultTypes: types, Body: body, Line: ce.line}
		default:
			p.warn(ce.line, fmt.Sprintf("statement %s: unknown element <%s> is dropped with its content (HandStack supports if, foreach, bind, pretreatment, param, outputmeta)", st.ID, ce.name))
		}
	}
	return out, nil
}

func (p *parser) param(st *Statement, e *element) (Param, error) {
	id := strings.TrimSpace(e.attrs["id"])
	if id == "" {
		return Param{}, &Error{Line: e.line, Msg: fmt.Sprintf("statement %s: <param> needs an id attribute", st.ID)}
	}
	typ, ok := e.attrs["type"]
	if !ok || strings.TrimSpace(typ) == "" {
		return Param{}, &Error{Line: e.line, Msg: fmt.Sprintf("statement %s: <param id=%q> needs a type attribute", st.ID, id)}
	}
	name := id
	if strings.ContainsRune("@:#", rune(id[0])) {
		name = id[1:]
	}
	length := -1
	if l := strings.TrimSpace(e.attrs["length"]); l != "" {
		if n, err := strconv.Atoi(l); err == nil && n > 0 {
			length = n
		}
	}
	dir := strings.TrimSpace(e.attrs["direction"])
	switch dir {
	case "":
		dir = "Input"
	case "Input", "InputOutput":
	case "Output", "ReturnValue":
		p.warn(e.line, fmt.Sprintf("statement %s: parameter %s is %s; output values are not returned (as in HandStack) and the parameter is not bound", st.ID, id, dir))
	default:
		return Param{}, &Error{Line: e.attrLine["direction"], Msg: fmt.Sprintf("statement %s: parameter %s: direction %q: want Input, Output, InputOutput or ReturnValue", st.ID, id, dir)}
	}
	return Param{
		ID: id, Name: name, Type: strings.TrimSpace(typ), Length: length,
		Default: e.attrs["value"], Direction: dir, Transform: strings.TrimSpace(e.attrs["transform"]),
		Required: Truthy(e.attrs["required"]), TestValue: e.attrs["test"],
	}, nil
}

// checkItemPlaceholder warns about @item inside a foreach: HandStack does not
// expand it (write #{item}).
func (p *parser) checkItemPlaceholder(f *Foreach) {
	var walk func([]Node)
	walk = func(nodes []Node) {
		for _, n := range nodes {
			switch v := n.(type) {
			case *Text:
				if containsWord(v.SQL, "@"+f.Item) {
					p.warn(v.Line, fmt.Sprintf("@%s inside <foreach item=%q> is not the item (write #{%s})", f.Item, f.Item, f.Item))
				}
			case *If:
				walk(v.Body)
			case *Foreach:
				walk(v.Body)
			}
		}
	}
	walk(f.Body)
}

func containsWord(s, w string) bool {
	for i := strings.Index(s, w); i >= 0; {
		end := i + len(w)
		if end == len(s) || !isNameStart(s[end]) && (s[end] < '0' || s[end] > '9') {
			return true
		}
		next := strings.Index(s[end:], w)
		if next < 0 {
			return false
		}
		i = end + next
	}
	return false
}
