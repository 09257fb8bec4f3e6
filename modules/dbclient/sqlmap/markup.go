package sqlmap

import (
	"sort"
	"strconv"
	"strings"
)

// The markup reader is deliberately lenient, like the HTML parser HandStack
// uses: names are case-insensitive, a '<' that does not start a tag is text,
// unbalanced end tags are ignored and the end of the file closes everything.
// It never fails; the contract rules (required attributes, known elements)
// are checked on the tree it builds.

// element is one markup element.
type element struct {
	name     string // lower-cased
	attrs    map[string]string
	attrLine map[string]int
	line     int
	children []any // *element or text
	rawStart int   // offset just after the start tag
	rawEnd   int   // offset of the end tag (or where the element was closed)
	closed   bool  // its own end tag was found (not closed by an outer one or the end of the file)
	parent   *element
}

// text is character data: CDATA as written, other text entity-decoded.
type text struct {
	value string
	line  int
}

// voidElements never have content, even without "/>".
var voidElements = map[string]bool{"param": true, "bind": true, "outputmeta": true}

// lines maps offsets to 1-based line numbers.
type lines []int

func newLines(src string) lines {
	l := lines{0}
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			l = append(l, i+1)
		}
	}
	return l
}

func (l lines) at(off int) int { return sort.SearchInts(l, off+1) }

// parseMarkup builds the element tree of src under a synthetic root.
func parseMarkup(src string) *element {
	ln := newLines(src)
	root := &element{name: "#root", attrs: map[string]string{}}
	cur := root
	var buf strings.Builder // pending decoded text
	bufLine := 0
	flush := func() {
		if buf.Len() > 0 {
			cur.children = append(cur.children, text{value: buf.String(), line: bufLine})
			buf.Reset()
		}
	}
	addText := func(s string, off int) {
		if buf.Len() == 0 {
			bufLine = ln.at(off)
		}
		buf.WriteString(s)
	}
	i := 0
	for i < len(src) {
		lt := strings.IndexByte(src[i:], '<')
		if lt < 0 {
			addText(decodeEntities(src[i:]), i)
			break
		}
		if lt > 0 {
			addText(decodeEntities(src[i:i+lt]), i)
			i += lt
		}
		rest := src[i:]
		switch {
		case strings.HasPrefix(rest, "<![CDATA["):
			end := strings.Index(rest, "]]>")
			if end < 0 {
				addText(rest[9:], i+9)
				i = len(src)
				continue
			}
			addText(rest[9:end], i+9)
			i += end + 3
		case strings.HasPrefix(rest, "<!--"):
			end := strings.Index(rest[4:], "-->")
			if end < 0 {
				i = len(src)
			} else {
				i += 4 + end + 3
			}
		case strings.HasPrefix(rest, "<?"), strings.HasPrefix(rest, "<!"):
			end := strings.IndexByte(rest, '>')
			if end < 0 {
				i = len(src)
			} else {
				i += end + 1
			}
		case len(rest) > 2 && rest[1] == '/' && isNameStart(rest[2]):
			j := 2
			for j < len(rest) && isNameByte(rest[j]) {
				j++
			}
			name := strings.ToLower(rest[2:j])
			end := strings.IndexByte(rest, '>')
			if end < 0 {
				// An end tag cut short closes nothing: the file is incomplete.
				i = len(src)
				continue
			}
			flush()
			// Close up to the nearest open element of that name; ignore the
			// end tag when none is open.
			for e := cur; e != root; e = e.parent {
				if e.name == name {
					e.closed = true
					for c := cur; c != e.parent; c = c.parent {
						c.rawEnd = i
					}
					cur = e.parent
					break
				}
			}
			i += end + 1
		case len(rest) > 1 && isNameStart(rest[1]):
			flush()
			e, n := parseStartTag(src, i, ln)
			e.parent = cur
			cur.children = append(cur.children, e)
			i += n
			e.rawStart, e.rawEnd = i, i
			if !strings.HasSuffix(src[:i], "/>") && !voidElements[e.name] {
				cur = e
			}
		default:
			addText("<", i)
			i++
		}
	}
	flush()
	for c := cur; c != root; c = c.parent {
		c.rawEnd = len(src)
	}
	return root
}

// parseStartTag reads "<name attr=value ...>" at src[i] and returns the
// element and the tag's length.
func parseStartTag(src string, i int, ln lines) (*element, int) {
	j := i + 1
	for j < len(src) && isNameByte(src[j]) {
		j++
	}
	e := &element{name: strings.ToLower(src[i+1 : j]), attrs: map[string]string{}, attrLine: map[string]int{}, line: ln.at(i)}
	for j < len(src) {
		for j < len(src) && isSpace(src[j]) {
			j++
		}
		if j >= len(src) {
			break
		}
		if src[j] == '>' {
			return e, j + 1 - i
		}
		if src[j] == '/' {
			j++
			continue
		}
		k := j
		for k < len(src) && !isSpace(src[k]) && src[k] != '=' && src[k] != '>' && src[k] != '/' {
			k++
		}
		if k == j { // a stray '=' or similar: skip it
			j++
			continue
		}
		name := strings.ToLower(src[j:k])
		line := ln.at(j)
		j = k
		for j < len(src) && isSpace(src[j]) {
			j++
		}
		value := ""
		if j < len(src) && src[j] == '=' {
			j++
			for j < len(src) && isSpace(src[j]) {
				j++
			}
			if j < len(src) && (src[j] == '"' || src[j] == '\'') {
				q := src[j]
				end := strings.IndexByte(src[j+1:], q)
				if end < 0 {
					end = len(src) - j - 1
				}
				value = src[j+1 : j+1+end]
				j += end + 2
			} else {
				k := j
				for k < len(src) && !isSpace(src[k]) && src[k] != '>' {
					k++
				}
				value = src[j:k]
				j = k
			}
		}
		if _, dup := e.attrs[name]; !dup {
			e.attrs[name] = decodeEntities(value)
			e.attrLine[name] = line
		}
	}
	return e, len(src) - i
}

func isNameStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }

func isNameByte(c byte) bool {
	return isNameStart(c) || c >= '0' && c <= '9' || c == '-' || c == ':' || c == '.'
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// decodeEntities decodes the XML entities and numeric references; anything
// else that starts with '&' stays as written.
func decodeEntities(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	var b strings.Builder
	for {
		amp := strings.IndexByte(s, '&')
		if amp < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:amp])
		s = s[amp:]
		semi := strings.IndexByte(s, ';')
		if semi < 0 || semi > 10 {
			b.WriteByte('&')
			s = s[1:]
			continue
		}
		name := s[1:semi]
		if r, ok := entity(name); ok {
			b.WriteString(r)
			s = s[semi+1:]
			continue
		}
		b.WriteByte('&')
		s = s[1:]
	}
}

func entity(name string) (string, bool) {
	switch name {
	case "amp":
		return "&", true
	case "lt":
		return "<", true
	case "gt":
		return ">", true
	case "quot":
		return `"`, true
	case "apos":
		return "'", true
	}
	if len(name) > 1 && name[0] == '#' {
		var n uint64
		var err error
		if name[1] == 'x' || name[1] == 'X' {
			n, err = strconv.ParseUint(name[2:], 16, 32)
		} else {
			n, err = strconv.ParseUint(name[1:], 10, 32)
		}
		if err == nil && n > 0 && n <= 0x10FFFF && (n < 0xD800 || n > 0xDFFF) {
			return string(rune(n)), true
		}
	}
	return "", false
}

// find returns the descendants of e named name whose parent is named parent
// (XPath //parent/name), in document order.
func (e *element) find(parent, name string) []*element {
	var out []*element
	var walk func(*element)
	walk = func(x *element) {
		for _, c := range x.children {
			if ce, ok := c.(*element); ok {
				if ce.name == name && x.name == parent {
					out = append(out, ce)
				}
				walk(ce)
			}
		}
	}
	walk(e)
	return out
}

// child returns the first child element named name.
func (e *element) child(name string) *element {
	for _, c := range e.children {
		if ce, ok := c.(*element); ok && ce.name == name {
			return ce
		}
	}
	return nil
}

// innerText is the concatenated text of e and its descendants.
func (e *element) innerText() string {
	var b strings.Builder
	var walk func(*element)
	walk = func(x *element) {
		for _, c := range x.children {
			switch v := c.(type) {
			case text:
				b.WriteString(v.value)
			case *element:
				walk(v)
			}
		}
	}
	walk(e)
	return b.String()
}
