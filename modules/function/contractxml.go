package function

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/ack-dev/ack/internal/contract"
)

// node is an XML element; names are matched by local name, ignoring case,
// as HandStack does (the xmlns="contract.xsd" namespace is ignored).
type node struct {
	name     string
	attrs    []xml.Attr
	children []*node
	text     strings.Builder
	textLine int // line where the element's text starts
}

func (n *node) child(name string) *node {
	if n == nil {
		return nil
	}
	for _, c := range n.children {
		if strings.EqualFold(c.name, name) {
			return c
		}
	}
	return nil
}

func (n *node) all(name string) []*node {
	if n == nil {
		return nil
	}
	var out []*node
	for _, c := range n.children {
		if strings.EqualFold(c.name, name) {
			out = append(out, c)
		}
	}
	return out
}

func (n *node) value(name string) string {
	if c := n.child(name); c != nil {
		return strings.TrimSpace(c.text.String())
	}
	return ""
}

func (n *node) attr(name string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.attrs {
		if strings.EqualFold(a.Name.Local, name) {
			return strings.TrimSpace(a.Value)
		}
	}
	return ""
}

// readXML builds the element tree of data. Errors carry their line.
func readXML(data []byte) (*node, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	var root *node
	var stack []*node
	for {
		line, _ := d.InputPos()
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, &lineError{line: se.Line, err: errors.New(se.Msg)}
			}
			l, _ := d.InputPos()
			return nil, &lineError{line: l, err: err}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{name: t.Name.Local, attrs: t.Attr}
			if len(stack) == 0 {
				if root != nil {
					l, _ := d.InputPos()
					return nil, &lineError{line: l, err: errors.New("more than one root element")}
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				n := stack[len(stack)-1]
				if n.text.Len() == 0 {
					n.textLine = line
				}
				n.text.Write(t)
			}
		}
	}
	if root == nil {
		return nil, &lineError{line: 1, err: errors.New("no root element")}
	}
	return root, nil
}

type lineError struct {
	line int
	err  error
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %v", e.line, e.err) }

// parseXML reads the single-file form {App}/{Project}/{Tx}.xml.
func parseXML(fsys fs.FS, unit, defaultRuntime string) ([]*Command, error) {
	data, err := fs.ReadFile(fsys, unit)
	if err != nil {
		return nil, err
	}
	root, err := readXML(data)
	if err != nil {
		var le *lineError
		if errors.As(err, &le) {
			return nil, &contract.ParseError{Path: unit, Line: le.line, Err: le.err}
		}
		return nil, &contract.ParseError{Path: unit, Err: err}
	}
	hn := root.child("header")
	if hn == nil {
		return nil, &contract.ParseError{Path: unit, Err: errors.New("<header> is missing")}
	}
	if !xmlBool(hn.value("use"), true) {
		return nil, nil
	}
	// The Tx folder of the path is the file name without its extension.
	dir := strings.TrimSuffix(unit, path.Ext(unit))
	hd, err := completeHeader(header{
		app: hn.value("application"), project: hn.value("project"), tx: hn.value("transaction"),
		dataSource: hn.value("datasource"), language: hn.value("language"), runtime: hn.value("runtime"),
	}, dir, defaultRuntime)
	if err != nil {
		return nil, &contract.ParseError{Path: unit, Err: err}
	}
	sn := root.child("script")
	if sn == nil {
		return nil, &contract.ParseError{Path: unit, Err: errors.New("<script> is missing")}
	}
	raw := sn.text.String()
	src := strings.TrimLeft(raw, "\r\n")
	offset := sn.textLine + strings.Count(raw[:len(raw)-len(src)], "\n") - 1
	src = strings.TrimRight(src, "\r\n")
	code, err := newCode(unit, src, hd, offset)
	if err != nil {
		return nil, err
	}
	rawHeader := map[string]any{
		"ApplicationID": hd.app, "ProjectID": hd.project, "TransactionID": hd.tx, "DataSourceID": hd.dataSource,
		"LanguageType": hd.language, "ReferenceModuleID": hn.value("referenceModuleID"),
		"IsHttpContext": xmlBool(hn.value("isHttpContext"), false), "Use": true, "Comment": hn.value("desc"),
	}
	var out []*Command
	for _, cn := range root.child("commands").all("command") {
		var params []Param
		for _, pn := range cn.all("param") {
			p := Param{Name: pn.attr("id"), Type: pn.attr("type"), Length: xmlInt(pn.attr("length"), -1), Required: xmlBool(pn.attr("required"), false)}
			// A missing value attribute reads as "" in HandStack, and "NULL"
			// means no default.
			def := pn.attr("value")
			p.Default = &def
			params = append(params, p)
		}
		var metas []string
		for _, mn := range cn.all("outputmeta") {
			if v := mn.attr("value"); v != "" {
				metas = append(metas, v)
			}
		}
		out = append(out, newCommand(hd, code, rawHeader, commandFields{
			id: cn.attr("id"), seq: xmlInt(cn.attr("seq"), 0), timeout: xmlInt(cn.attr("timeout"), 0), desc: cn.attr("desc"),
			before: cn.value("beforeTransaction"), after: cn.value("afterTransaction"), fallback: cn.value("fallbackTransaction"),
			params: params, outputMetas: metas,
		}))
	}
	if err := checkCommands(out); err != nil {
		return nil, &contract.ParseError{Path: unit, Err: err}
	}
	return out, nil
}

func xmlBool(s string, def bool) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "y", "yes", "true", "1":
		return true
	case "n", "no", "false", "0":
		return false
	}
	return def
}

func xmlInt(s string, def int) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return def
	}
	return n
}
