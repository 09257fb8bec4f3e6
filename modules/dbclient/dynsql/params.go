// Package dynsql prepares one execution of a contract statement: it builds
// the variable table from the request's parameters, computes the values of
// the declared <param>s (defaults, transforms, types), and renders the
// statement body (<if>, <foreach>, <bind>, #{} and ${}) into SQL text whose
// values travel as bind parameters (package dialect finishes the job per
// provider).
package dynsql

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/ack-dev/ack/internal/wire"
	"github.com/ack-dev/ack/modules/dbclient/sqlexpr"
	"github.com/ack-dev/ack/modules/dbclient/sqlmap"
)

// Variables builds the variable table of one QueryObject from its
// parameters, typed by each parameter's DbType as HandStack does (in practice
// nearly everything is a string). It also reports which names were sent.
func Variables(params []wire.DynamicParameter) (sqlexpr.Env, map[string]bool, error) {
	vars := make(sqlexpr.Env, len(params))
	present := make(map[string]bool, len(params))
	for _, p := range params {
		if present[p.ParameterName] {
			return nil, nil, fmt.Errorf("parameter %s is given twice", p.ParameterName)
		}
		present[p.ParameterName] = true
		vars[p.ParameterName] = variable(p)
	}
	return vars, present, nil
}

func variable(p wire.DynamicParameter) any {
	switch strings.ToLower(p.DbType) {
	case "", "string":
		return valueText(p.Value)
	case "number":
		if p.Value == nil {
			return nil
		}
		s := valueText(p.Value)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
		return nil
	case "boolean":
		b, ok := parseBool(valueText(p.Value))
		if !ok {
			return nil
		}
		return b
	}
	if p.Value == nil {
		return nil
	}
	return valueText(p.Value)
}

// valueText is a request value as .NET's JToken.ToString() shows it: arrays
// and objects as JSON text, null as "".
func valueText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool, int, int64:
		return sqlexpr.Text(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "y", "1", "ok", "yes", "on":
		return true, true
	case "false", "n", "0", "no", "off":
		return false, true
	}
	return false, false
}

// Bind computes the value of every declared input parameter of st, in
// declaration order, and returns them by name. As in HandStack, a parameter
// that was sent but is empty takes its default, and the variable table sees
// that default too; a parameter that was not sent takes its default silently,
// except value="NULL", which binds SQL NULL. A <param> with the @FOREACH
// transform is not bound: its list is for <foreach> only.
func Bind(st *sqlmap.Statement, vars sqlexpr.Env, present map[string]bool) (map[string]any, error) {
	named := make(map[string]any, len(st.Params))
	for _, p := range st.Params {
		if p.Direction == "Output" || p.Direction == "ReturnValue" {
			continue
		}
		v, sent := vars[p.Name], present[p.Name]
		if !sent && strings.EqualFold(p.Default, "NULL") {
			named[p.Name] = nil
			continue
		}
		if !sent || blank(v) {
			v = defaultValue(p.Default)
			if sent {
				vars[p.Name] = v
			}
		}
		if !st.Native && p.Transform != "" {
			var bound bool
			var err error
			v, bound, err = transform(p, v, vars, sent)
			if err != nil {
				return nil, err
			}
			if !bound {
				continue
			}
		}
		bv, err := convert(p, v)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %w", p.Name, err)
		}
		named[p.Name] = bv
	}
	return named, nil
}

func blank(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	}
	return false
}

// defaultValue resolves a <param value="..."> token.
func defaultValue(token string) any {
	switch token {
	case "@SUID":
		id, err := uuid.NewV7() // time-ordered, like HandStack's sequential IDs
		if err != nil {
			id = uuid.New()
		}
		return strings.ReplaceAll(id.String(), "-", "")
	case "@GUID":
		return uuid.NewString()
	case "@NOW":
		return time.Now()
	case "@UTCNOW":
		return time.Now().UTC()
	case "@TRUE":
		return true
	case "@FALSE":
		return false
	case "@DBNULL":
		return nil
	case "NULL":
		return ""
	}
	return token
}

// KnownTransform reports whether ack implements a transform (for diagnostics).
func KnownTransform(t string) bool {
	name, _, _ := strings.Cut(t, "|")
	_, ok := transforms[strings.ToUpper(strings.TrimSpace(name))]
	return ok
}

type transformFunc func(v any, args []string) (any, error)

var transforms = map[string]transformFunc{
	"@LOWER": func(v any, _ []string) (any, error) { return strings.ToLower(sqlexpr.Text(v)), nil },
	"@UPPER": func(v any, _ []string) (any, error) { return strings.ToUpper(sqlexpr.Text(v)), nil },
	"@TRIM":  func(v any, _ []string) (any, error) { return strings.TrimSpace(sqlexpr.Text(v)), nil },
	"@SUBSTRING": func(v any, a []string) (any, error) {
		return substring(sqlexpr.Text(v), a, true)
	},
	"@SUBSTRING_START": func(v any, a []string) (any, error) {
		return substring(sqlexpr.Text(v), a, false)
	},
	"@REPLACE": func(v any, a []string) (any, error) {
		if len(a) < 1 {
			return nil, fmt.Errorf("needs |old|new")
		}
		return strings.ReplaceAll(sqlexpr.Text(v), a[0], arg(a, 1)), nil
	},
	"@REPLACE_REGEX": func(v any, a []string) (any, error) {
		re, err := regexp.Compile(arg(a, 0))
		if err != nil {
			return nil, err
		}
		return re.ReplaceAllString(sqlexpr.Text(v), arg(a, 1)), nil
	},
	"@CONTAINS":    func(v any, a []string) (any, error) { return strings.Contains(sqlexpr.Text(v), arg(a, 0)), nil },
	"@STARTS_WITH": func(v any, a []string) (any, error) { return strings.HasPrefix(sqlexpr.Text(v), arg(a, 0)), nil },
	"@ENDS_WITH":   func(v any, a []string) (any, error) { return strings.HasSuffix(sqlexpr.Text(v), arg(a, 0)), nil },
	"@PADLEFT":     func(v any, a []string) (any, error) { return pad(sqlexpr.Text(v), a, true) },
	"@PADRIGHT":    func(v any, a []string) (any, error) { return pad(sqlexpr.Text(v), a, false) },
	"@DEFAULT_IF_NULL": func(v any, a []string) (any, error) {
		if v == nil {
			return arg(a, 0), nil
		}
		return v, nil
	},
	"@DEFAULT_IF_EMPTY": func(v any, a []string) (any, error) {
		if sqlexpr.Text(v) == "" {
			return arg(a, 0), nil
		}
		return v, nil
	},
	"@DEFAULT_IF_WHITESPACE": func(v any, a []string) (any, error) {
		if strings.TrimSpace(sqlexpr.Text(v)) == "" {
			return arg(a, 0), nil
		}
		return v, nil
	},
	"@SPLIT_CUSTOM": func(v any, a []string) (any, error) {
		sep := arg(a, 0)
		if sep == "" {
			sep = ","
		}
		var list []any
		for _, s := range strings.Split(sqlexpr.Text(v), sep) {
			list = append(list, s)
		}
		return list, nil
	},
	// @FOREACH is handled in transform: it changes the variable, not the binding.
	"@FOREACH": nil,
}

func arg(a []string, i int) string {
	if i < len(a) {
		return a[i]
	}
	return ""
}

func substring(s string, a []string, withLength bool) (any, error) {
	r := []rune(s)
	start, err := strconv.Atoi(arg(a, 0))
	if err != nil {
		return nil, fmt.Errorf("start %q is not a number", arg(a, 0))
	}
	if start < 0 || start > len(r) {
		return "", nil
	}
	end := len(r)
	if withLength {
		n, err := strconv.Atoi(arg(a, 1))
		if err != nil {
			return nil, fmt.Errorf("length %q is not a number", arg(a, 1))
		}
		end = min(start+max(n, 0), len(r))
	}
	return string(r[start:end]), nil
}

func pad(s string, a []string, left bool) (any, error) {
	width, err := strconv.Atoi(arg(a, 0))
	if err != nil || width > 4096 {
		return nil, fmt.Errorf("width %q is not a number up to 4096", arg(a, 0))
	}
	ch := " "
	if c := arg(a, 1); c != "" {
		ch = c[:len(string([]rune(c)[0]))]
	}
	n := width - utf8.RuneCountInString(s)
	if n <= 0 {
		return s, nil
	}
	if left {
		return strings.Repeat(ch, n) + s, nil
	}
	return s + strings.Repeat(ch, n), nil
}

// transform applies p's transform to v. bound is false when the parameter
// must not be bound (@FOREACH).
func transform(p sqlmap.Param, v any, vars sqlexpr.Env, sent bool) (any, bool, error) {
	parts := strings.Split(p.Transform, "|")
	name := strings.ToUpper(strings.TrimSpace(parts[0]))
	if name == "@FOREACH" {
		items := []string{}
		for _, s := range strings.Split(sqlexpr.Text(v), ",") {
			items = append(items, s)
		}
		b, err := json.Marshal(items)
		if err != nil {
			return nil, false, err
		}
		vars[p.Name] = string(b)
		return nil, false, nil
	}
	fn, ok := transforms[name]
	if !ok {
		// HandStack logs a failing transform and binds the value unchanged.
		return v, true, nil
	}
	out, err := fn(v, parts[1:])
	if err != nil {
		return nil, false, fmt.Errorf("parameter %s: transform %s: %w", p.Name, name, err)
	}
	if sent {
		vars[p.Name] = out
	}
	return out, true, nil
}

// convert turns v into the Go value to bind for p's type.
func convert(p sqlmap.Param, v any) (any, error) {
	if list, ok := v.([]any); ok {
		out := make([]any, len(list))
		for i, x := range list {
			c, err := convert(p, x)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	}
	fam := family(p.Type)
	if v == nil {
		return nil, nil
	}
	if t, ok := v.(time.Time); ok {
		if fam == famString {
			return t.Format("2006-01-02 15:04:05"), nil
		}
		return t, nil
	}
	if b, ok := v.(bool); ok && fam != famString {
		if fam == famInteger {
			if b {
				return int64(1), nil
			}
			return int64(0), nil
		}
		return b, nil
	}
	s := sqlexpr.Text(v)
	if fam == famString {
		return s, nil
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil // an empty value of a non-string type binds NULL
	}
	switch fam {
	case famInteger:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", s)
		}
		return n, nil
	case famDecimal:
		if !decimalText.MatchString(s) {
			return nil, fmt.Errorf("%q is not a decimal number", s)
		}
		return s, nil
	case famFloat:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", s)
		}
		return f, nil
	case famBool:
		b, ok := parseBool(s)
		if !ok {
			return nil, fmt.Errorf("%q is not a boolean", s)
		}
		return b, nil
	case famTime:
		for _, layout := range timeLayouts {
			if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
				return t, nil
			}
		}
		return nil, fmt.Errorf("%q is not a date and time", s)
	case famBinary:
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("binary value is not base64")
		}
		return b, nil
	}
	return s, nil
}

var decimalText = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

var timeLayouts = []string{
	time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02",
}

type typeFamily int

const (
	famString typeFamily = iota
	famInteger
	famDecimal
	famFloat
	famBool
	famTime
	famBinary
)

// family classifies a DbType or provider type name (SqlDbType, NpgsqlDbType,
// MySqlDbType, OracleDbType), case-insensitively.
func family(typ string) typeFamily {
	switch strings.ToLower(typ) {
	case "int16", "int32", "int64", "int", "integer", "bigint", "smallint", "tinyint", "byte", "sbyte",
		"uint16", "uint32", "uint64", "mediumint", "long", "short", "int24", "year":
		return famInteger
	case "decimal", "numeric", "currency", "varnumeric", "money", "smallmoney", "newdecimal":
		return famDecimal
	case "double", "single", "float", "real", "binarydouble", "binaryfloat":
		return famFloat
	case "boolean", "bit", "bool":
		return famBool
	case "date", "datetime", "datetime2", "smalldatetime", "datetimeoffset", "timestamp", "timestamptz",
		"timestampltz", "timestamptzwithtimezone", "newdate":
		return famTime
	case "binary", "varbinary", "blob", "raw", "bytea", "image", "longblob", "mediumblob", "tinyblob", "longraw":
		return famBinary
	}
	return famString
}
