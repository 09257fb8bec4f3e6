package dbclient

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
)

// xmlOutput collects the answer of ReturnType Xml: every result set as a
// table named Table<seq><n> (n counts from 1 within a statement), written
// as a .NET DataSet with its inline schema (DataSet.WriteXml with
// XmlWriteMode.WriteSchema), the shape HandStack's tools read.
type xmlOutput struct {
	tables []xmlTable
}

type xmlTable struct {
	name string
	rs   resultSet
}

func (x *xmlOutput) add(seq int, sets []resultSet) error {
	for n, rs := range sets {
		name := "Table" + strconv.Itoa(seq) + strconv.Itoa(n+1)
		for _, t := range x.tables {
			if t.name == name {
				return fmt.Errorf("two result tables are named %s: statements with the same seq cannot share one Xml answer", name)
			}
		}
		x.tables = append(x.tables, xmlTable{name: name, rs: rs})
	}
	return nil
}

// document is the XML text.
func (x *xmlOutput) document() string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" standalone="yes"?>` + "\n<NewDataSet>")
	if len(x.tables) == 0 {
		b.WriteString("</NewDataSet>")
		return b.String()
	}
	b.WriteString("\n" + `  <xs:schema id="NewDataSet" xmlns="" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:msdata="urn:schemas-microsoft-com:xml-msdata">` + "\n")
	b.WriteString(`    <xs:element name="NewDataSet" msdata:IsDataSet="true" msdata:UseCurrentLocale="true">` + "\n")
	b.WriteString("      <xs:complexType>\n        <xs:choice minOccurs=\"0\" maxOccurs=\"unbounded\">\n")
	for _, t := range x.tables {
		b.WriteString(`          <xs:element name="` + t.name + "\">\n            <xs:complexType>\n              <xs:sequence>\n")
		for _, c := range t.rs.cols {
			b.WriteString(`                <xs:element name="` + xmlName(c.name) + `" type="` + c.family.xsdType() + "\" minOccurs=\"0\" />\n")
		}
		b.WriteString("              </xs:sequence>\n            </xs:complexType>\n          </xs:element>\n")
	}
	b.WriteString("        </xs:choice>\n      </xs:complexType>\n    </xs:element>\n  </xs:schema>\n")
	for _, t := range x.tables {
		for _, row := range t.rs.rows {
			b.WriteString("  <" + t.name + ">\n")
			for i, c := range t.rs.cols {
				if row[i] == nil {
					continue // a DataSet leaves null columns out
				}
				name := xmlName(c.name)
				b.WriteString("    <" + name + ">")
				xml.EscapeText(&b, []byte(cellText(row[i])))
				b.WriteString("</" + name + ">\n")
			}
			b.WriteString("  </" + t.name + ">\n")
		}
	}
	b.WriteString("</NewDataSet>")
	return b.String()
}

// cellText is a result value as text (XML content, CodeHelp fields).
func cellText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return string(x)
	case json.RawMessage:
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

// xmlName encodes a column name as an XML name the way .NET's
// XmlConvert.EncodeLocalName does: a character a name cannot hold (XML 1.0
// fifth edition, without ':') becomes _xHHHH_, and so does a '_' that
// would read as the start of such an escape.
func xmlName(s string) string {
	if s == "" {
		return "Column"
	}
	var b strings.Builder
	for i, r := range s {
		ok := nameStart(r) || i > 0 && nameChar(r)
		if ok && !(r == '_' && strings.HasPrefix(s[i:], "_x")) {
			b.WriteRune(r)
			continue
		}
		if r > 0xFFFF {
			fmt.Fprintf(&b, "_x%08X_", r)
		} else {
			fmt.Fprintf(&b, "_x%04X_", r)
		}
	}
	return b.String()
}

func nameStart(r rune) bool {
	switch {
	case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r == '_':
		return true
	case r < 0xC0:
		return false
	}
	return r <= 0xD6 || r >= 0xD8 && r <= 0xF6 || r >= 0xF8 && r <= 0x2FF || r >= 0x370 && r <= 0x37D ||
		r >= 0x37F && r <= 0x1FFF || r == 0x200C || r == 0x200D || r >= 0x2070 && r <= 0x218F ||
		r >= 0x2C00 && r <= 0x2FEF || r >= 0x3001 && r <= 0xD7FF || r >= 0xF900 && r <= 0xFDCF ||
		r >= 0xFDF0 && r <= 0xFFFD || r >= 0x10000 && r <= 0xEFFFF
}

func nameChar(r rune) bool {
	return nameStart(r) || r == '-' || r == '.' || r >= '0' && r <= '9' || r == 0xB7 ||
		r >= 0x300 && r <= 0x36F || r == 0x203F || r == 0x2040
}

// xsdType is the schema type a DataSet writes for a column of the family.
func (f family) xsdType() string {
	switch f {
	case famInteger:
		return "xs:long"
	case famDecimal:
		return "xs:decimal"
	case famFloat:
		return "xs:double"
	case famBool:
		return "xs:boolean"
	case famDate, famDateTime, famDateTimeTZ:
		return "xs:dateTime"
	case famBinary:
		return "xs:base64Binary"
	}
	return "xs:string"
}
