// Package jsruntime runs HandStack JavaScript functions in process on goja:
// programs compiled once per file version, a pool of runtimes so that
// concurrent calls never share one, per-call timeouts that really stop the
// code, and a guard that stops runaway allocations before they take the
// process down.
package jsruntime

import (
	"errors"
	"fmt"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"
)

// Program is one compiled version of a function file, wrapped as a CommonJS
// module. It is immutable and shared by every runtime.
type Program struct {
	name string
	prog *goja.Program
}

// Name is the file name the program was compiled under.
func (p *Program) Name() string { return p.name }

// SyntaxError is a compile failure with its 1-based line in the source.
type SyntaxError struct {
	Line    int
	Column  int
	Message string
}

func (e *SyntaxError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d:%d: %s", e.Line, e.Column, e.Message)
	}
	return e.Message
}

// The wrapper keeps the source's line numbers: it adds nothing before line 1.
const (
	moduleHead = "(function (exports, require, module, __filename, __dirname) {"
	moduleTail = "\n})"
)

// Compile compiles source as a CommonJS module. A syntax error is returned as
// a *SyntaxError.
func Compile(name, source string) (*Program, error) {
	ast, err := parser.ParseFile(nil, name, moduleHead+source+moduleTail, 0)
	if err != nil {
		var list parser.ErrorList
		if errors.As(err, &list) && len(list) > 0 {
			pos := list[0].Position
			col := pos.Column
			if pos.Line == 1 {
				col -= len(moduleHead)
			}
			return nil, &SyntaxError{Line: pos.Line, Column: col, Message: list[0].Message}
		}
		return nil, &SyntaxError{Message: err.Error()}
	}
	prog, err := goja.CompileAST(ast, false)
	if err != nil {
		var ce *goja.CompilerSyntaxError
		if errors.As(err, &ce) && ce.File != nil {
			pos := ce.File.Position(ce.Offset)
			return nil, &SyntaxError{Line: pos.Line, Column: pos.Column, Message: ce.Message}
		}
		return nil, &SyntaxError{Message: err.Error()}
	}
	return &Program{name: name, prog: prog}, nil
}
