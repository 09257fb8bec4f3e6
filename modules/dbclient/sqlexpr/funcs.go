package sqlexpr

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr/ast"
)

// patcher rewrites the parsed expression so that every operator and method
// goes through the functions below, which implement HandStack's value rules.
type patcher struct{ err error }

var binaryFuncs = map[string]string{
	"==": "__eq", "!=": "__ne", "<": "__lt", "<=": "__le", ">": "__gt", ">=": "__ge",
	"+": "__add", "-": "__sub", "*": "__mul", "/": "__div", "%": "__mod",
}

// methods are the .NET string members the language allows, by lower-cased name.
var methods = map[string]string{
	"contains": "__contains", "startswith": "__startswith", "endswith": "__endswith",
	"trim": "__trim", "trimstart": "__trimstart", "trimend": "__trimend",
	"toupper": "__toupper", "tolower": "__tolower", "substring": "__substring",
	"indexof": "__indexof", "equals": "__eq", "tostring": "__tostring",
}

// statics are string.X(...) calls.
var statics = map[string]string{
	"isnullorempty": "__isnullorempty", "isnullorwhitespace": "__isnullorwhitespace",
}

func call(name string, args ...ast.Node) *ast.CallNode {
	return &ast.CallNode{Callee: &ast.IdentifierNode{Value: name}, Arguments: args}
}

func (p *patcher) fail(format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf(format, args...)
	}
}

// Visit is called on every node, children first.
func (p *patcher) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.BinaryNode:
		switch n.Operator {
		case "&&", "||", "and", "or":
			op := "&&"
			if n.Operator == "||" || n.Operator == "or" {
				op = "||"
			}
			ast.Patch(node, &ast.BinaryNode{Operator: op, Left: call("__bool", n.Left), Right: call("__bool", n.Right)})
		case "??":
		case "==", "!=":
			// Against the null literal, only a real null (or a missing
			// identifier) is equal: "" != null, as in HandStack.
			other, isNull := nullOperand(n)
			if isNull {
				var test ast.Node = call("__isnull", other)
				if n.Operator == "!=" {
					test = &ast.UnaryNode{Operator: "!", Node: test}
				}
				ast.Patch(node, test)
				return
			}
			ast.Patch(node, call(binaryFuncs[n.Operator], n.Left, n.Right))
		default:
			fn, ok := binaryFuncs[n.Operator]
			if !ok {
				p.fail("operator %q is not supported", n.Operator)
				return
			}
			ast.Patch(node, call(fn, n.Left, n.Right))
		}
	case *ast.UnaryNode:
		switch n.Operator {
		case "!", "not":
			ast.Patch(node, &ast.UnaryNode{Operator: "!", Node: call("__bool", n.Node)})
		case "-":
			ast.Patch(node, call("__neg", n.Node))
		case "+":
			ast.Patch(node, n.Node)
		default:
			p.fail("operator %q is not supported", n.Operator)
		}
	case *ast.CallNode:
		switch callee := n.Callee.(type) {
		case *ast.MemberNode:
			name, ok := propertyName(callee)
			if !ok {
				p.fail("unsupported call")
				return
			}
			if id, isIdent := callee.Node.(*ast.IdentifierNode); isIdent && strings.EqualFold(id.Value, "string") {
				fn, ok := statics[strings.ToLower(name)]
				if !ok {
					p.fail("string.%s is not supported", name)
					return
				}
				ast.Patch(node, call(fn, n.Arguments...))
				return
			}
			fn, ok := methods[strings.ToLower(name)]
			if !ok {
				p.fail("method %s is not supported", name)
				return
			}
			ast.Patch(node, call(fn, append([]ast.Node{callee.Node}, n.Arguments...)...))
		case *ast.IdentifierNode:
			if strings.HasPrefix(callee.Value, "__") {
				return // one of ours, produced by an earlier patch
			}
			if !strings.EqualFold(callee.Value, "iif") {
				p.fail("function %s is not supported", callee.Value)
				return
			}
			if len(n.Arguments) != 3 {
				p.fail("iif takes 3 arguments")
				return
			}
			ast.Patch(node, &ast.ConditionalNode{Cond: call("__bool", n.Arguments[0]), Exp1: n.Arguments[1], Exp2: n.Arguments[2]})
		default:
			p.fail("unsupported call")
		}
	case *ast.MemberNode:
		if n.Method {
			return // handled by the CallNode around it
		}
		name, ok := propertyName(n)
		if !ok || !strings.EqualFold(name, "length") {
			p.fail("member %q is not supported (only .Length and string methods)", name)
			return
		}
		ast.Patch(node, call("__len", n.Node))
	case *ast.ConditionalNode:
		n.Cond = call("__bool", n.Cond)
	case *ast.IdentifierNode:
		if n.Value == "$env" {
			p.fail("identifier $env is not supported")
		}
	case *ast.ArrayNode, *ast.MapNode, *ast.BytesNode, *ast.PointerNode, *ast.VariableDeclaratorNode,
		*ast.SliceNode, *ast.BuiltinNode, *ast.PredicateNode, *ast.SequenceNode:
		p.fail("this construct is not part of the contract expression language")
	}
}

// nullOperand returns the other side of a comparison with the null literal.
func nullOperand(n *ast.BinaryNode) (ast.Node, bool) {
	if _, ok := n.Right.(*ast.NilNode); ok {
		return n.Left, true
	}
	if _, ok := n.Left.(*ast.NilNode); ok {
		return n.Right, true
	}
	return nil, false
}

func propertyName(m *ast.MemberNode) (string, bool) {
	s, ok := m.Property.(*ast.StringNode)
	if !ok {
		return "", false
	}
	return s.Value, true
}

// functions implement operators and methods over the loosely typed values of a
// variable table (strings, numbers, booleans, nil).
var functions = map[string]func(args ...any) (any, error){
	"__bool": func(a ...any) (any, error) {
		switch v := a[0].(type) {
		case bool:
			return v, nil
		case nil:
			return false, nil
		}
		return nil, fmt.Errorf("%s used as a condition", typeName(a[0]))
	},
	"__isnull": func(a ...any) (any, error) { return a[0] == nil, nil },
	"__eq":     func(a ...any) (any, error) { return equal(a[0], a[1]) },
	"__ne": func(a ...any) (any, error) {
		eq, err := equal(a[0], a[1])
		return !eq, err
	},
	"__lt": func(a ...any) (any, error) { return order(a[0], a[1], func(c int) bool { return c < 0 }) },
	"__le": func(a ...any) (any, error) { return order(a[0], a[1], func(c int) bool { return c <= 0 }) },
	"__gt": func(a ...any) (any, error) { return order(a[0], a[1], func(c int) bool { return c > 0 }) },
	"__ge": func(a ...any) (any, error) { return order(a[0], a[1], func(c int) bool { return c >= 0 }) },
	"__add": func(a ...any) (any, error) {
		_, ls := a[0].(string)
		_, rs := a[1].(string)
		if ls || rs || a[0] == nil || a[1] == nil {
			return Text(a[0]) + Text(a[1]), nil
		}
		return arith(a[0], a[1], "+")
	},
	"__sub":        func(a ...any) (any, error) { return arith(a[0], a[1], "-") },
	"__mul":        func(a ...any) (any, error) { return arith(a[0], a[1], "*") },
	"__div":        func(a ...any) (any, error) { return arith(a[0], a[1], "/") },
	"__mod":        func(a ...any) (any, error) { return arith(a[0], a[1], "%") },
	"__neg":        func(a ...any) (any, error) { return arith(int64(0), a[0], "-") },
	"__len":        func(a ...any) (any, error) { return int64(utf8.RuneCountInString(Text(a[0]))), nil },
	"__contains":   strFunc2(func(s, t string) any { return strings.Contains(s, t) }),
	"__startswith": strFunc2(func(s, t string) any { return strings.HasPrefix(s, t) }),
	"__endswith":   strFunc2(func(s, t string) any { return strings.HasSuffix(s, t) }),
	"__indexof": strFunc2(func(s, t string) any {
		i := strings.Index(s, t)
		if i < 0 {
			return int64(-1)
		}
		return int64(utf8.RuneCountInString(s[:i]))
	}),
	"__trim":      strFunc1(strings.TrimSpace),
	"__trimstart": strFunc1(func(s string) string { return strings.TrimLeft(s, " \t\r\n") }),
	"__trimend":   strFunc1(func(s string) string { return strings.TrimRight(s, " \t\r\n") }),
	"__toupper":   strFunc1(strings.ToUpper),
	"__tolower":   strFunc1(strings.ToLower),
	"__tostring":  strFunc1(func(s string) string { return s }),
	"__isnullorempty": func(a ...any) (any, error) {
		if err := arity(a, 1); err != nil {
			return nil, err
		}
		return Text(a[0]) == "", nil
	},
	"__isnullorwhitespace": func(a ...any) (any, error) {
		if err := arity(a, 1); err != nil {
			return nil, err
		}
		return strings.TrimSpace(Text(a[0])) == "", nil
	},
	"__substring": func(a ...any) (any, error) {
		if len(a) != 2 && len(a) != 3 {
			return nil, errors.New("Substring takes 1 or 2 arguments")
		}
		r := []rune(Text(a[0]))
		start, ok := toInt(a[1])
		n := int64(len(r)) - start
		if len(a) == 3 {
			var ok2 bool
			n, ok2 = toInt(a[2])
			ok = ok && ok2
		}
		if !ok || start < 0 || n < 0 || start+n > int64(len(r)) {
			return nil, errors.New("Substring: index out of range")
		}
		return string(r[start : start+n]), nil
	},
}

func arity(a []any, n int) error {
	if len(a) != n {
		return fmt.Errorf("want %d arguments, got %d", n, len(a))
	}
	return nil
}

func strFunc1(f func(string) string) func(a ...any) (any, error) {
	return func(a ...any) (any, error) {
		if err := arity(a, 1); err != nil {
			return nil, err
		}
		return f(Text(a[0])), nil
	}
}

func strFunc2(f func(s, t string) any) func(a ...any) (any, error) {
	return func(a ...any) (any, error) {
		if err := arity(a, 2); err != nil {
			return nil, err
		}
		return f(Text(a[0]), Text(a[1])), nil
	}
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int, int64, float64:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

// number returns v as a float64 when it is a number or a numeric string.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	}
	return 0, false
}

func isNumber(v any) bool {
	switch v.(type) {
	case int, int64, float64:
		return true
	}
	return false
}

func toInt(v any) (int64, bool) {
	f, ok := number(v)
	if !ok || f != math.Trunc(f) {
		return 0, false
	}
	return int64(f), true
}

// equal implements == with HandStack's rules plus the superset: null against
// a string compares as "", a numeric string against a number compares as a
// number.
func equal(a, b any) (bool, error) {
	if a == nil && b == nil {
		return true, nil
	}
	_, as := a.(string)
	_, bs := b.(string)
	switch {
	case a == nil && bs, b == nil && as:
		return Text(a) == Text(b), nil
	case a == nil || b == nil:
		return false, nil
	case as && bs:
		return a == b, nil
	case isNumber(a) || isNumber(b):
		x, ok1 := number(a)
		y, ok2 := number(b)
		if !ok1 || !ok2 {
			return false, nil
		}
		return x == y, nil
	}
	if ab, ok := a.(bool); ok {
		if bb, ok := b.(bool); ok {
			return ab == bb, nil
		}
		if bs {
			return strings.EqualFold(Text(a), b.(string)), nil
		}
	}
	return Text(a) == Text(b), nil
}

func order(a, b any, ok func(int) bool) (any, error) {
	if a == nil || b == nil {
		return false, nil
	}
	as, aIsStr := a.(string)
	bs, bIsStr := b.(string)
	if aIsStr && bIsStr {
		return ok(strings.Compare(as, bs)), nil
	}
	x, ok1 := number(a)
	y, ok2 := number(b)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("cannot compare %s with %s", typeName(a), typeName(b))
	}
	switch {
	case x < y:
		return ok(-1), nil
	case x > y:
		return ok(1), nil
	}
	return ok(0), nil
}

func arith(a, b any, op string) (any, error) {
	x, ok1 := number(a)
	y, ok2 := number(b)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("cannot apply %s to %s and %s", op, typeName(a), typeName(b))
	}
	var r float64
	switch op {
	case "+":
		r = x + y
	case "-":
		r = x - y
	case "*":
		r = x * y
	case "/", "%":
		if y == 0 {
			return nil, errors.New("division by zero")
		}
		if op == "/" {
			r = x / y
		} else {
			r = math.Mod(x, y)
		}
	}
	if r == math.Trunc(r) && math.Abs(r) < 1<<53 {
		return int64(r), nil
	}
	return r, nil
}
