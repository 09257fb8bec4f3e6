package function

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/ack-dev/ack/internal/config"
	"github.com/ack-dev/ack/internal/contract"
	"github.com/ack-dev/ack/modules/function/jsruntime"
)

// The languages HandStack functions are written in.
const (
	langJavaScript = "javascript"
	langCSharp     = "csharp"
	langPython     = "python"
)

// The runtimes a JavaScript function can run on.
const (
	runtimeEmbedded = "embedded"
	runtimeNode     = "node"
)

// Command is one callable function: a command of a function contract, keyed
// "App|Project|Transaction|ScriptID" like transact's QueryID.
type Command struct {
	ApplicationID string
	ProjectID     string
	TransactionID string
	ScriptID      string // ID + two-digit Seq: "GF0100"
	ExportName    string // the command ID, the property of module.exports
	Seq           int
	DataSourceID  string
	Language      string
	Description   string
	Timeout       int // seconds; <= 0: the module's default
	Before        string
	After         string
	Fallback      string
	Params        []Param
	OutputMetas   []string
	ModifiedAt    string
	// Header is the contract header as written, for dataContext.functionHeader.
	Header map[string]any
	// Code is the program, shared by every command of its contract.
	Code *Code
}

// Key is the command's QueryID.
func (c *Command) Key() string {
	return c.ApplicationID + "|" + c.ProjectID + "|" + c.TransactionID + "|" + c.ScriptID
}

// Param is a declared parameter of a command.
type Param struct {
	Name     string
	Type     string
	Length   int
	Default  *string // nil: no default
	Required bool
}

// Code is the source of one contract's program.
type Code struct {
	// File is the program's path relative to its contract root
	// (HDS/TST/JSF010/featureMain.js, or HDS/TST/JSF020.xml for the
	// single-file form).
	File string
	// Text is the source; Version identifies it (a content hash).
	Text    string
	Version string
	// Runtime is embedded or node for JavaScript, "" otherwise.
	Runtime string
	// Program is the compiled program for the embedded runtime.
	Program *jsruntime.Program
}

// featureFiles are the files of a directory contract; each maps to its
// directory's featureMeta.json.
var featureFiles = map[string]bool{
	"featureMeta.json": true, "featureMain.js": true, "featureMain.cs": true, "featureMain.py": true, "featureSQL.xml": true,
}

// newKind describes function contracts: {App}/{Project}/{Tx}/featureMeta.json
// with its featureMain.*, and the single-file {App}/{Project}/{Tx}.xml (or
// .fnc). defaultRuntime applies to JavaScript contracts that do not choose.
func newKind(defaultRuntime string) contract.Kind[*Command] {
	return contract.Kind[*Command]{
		Name:   "function",
		Module: "function",
		Match: func(rel string) bool {
			parts := strings.Split(rel, "/")
			switch len(parts) {
			case 4:
				return featureFiles[parts[3]]
			case 3:
				ext := strings.ToLower(path.Ext(rel))
				return (ext == ".xml" || ext == ".fnc") && parts[2] != "featureSQL.xml"
			}
			return false
		},
		Unit: func(rel string) string {
			if strings.Count(rel, "/") == 3 {
				return path.Join(path.Dir(rel), "featureMeta.json")
			}
			return rel
		},
		Parse: func(fsys fs.FS, unit string) ([]*Command, error) {
			if path.Base(unit) == "featureMeta.json" {
				return parseDirectory(fsys, unit, defaultRuntime)
			}
			return parseXML(fsys, unit, defaultRuntime)
		},
		Key: func(c *Command) string { return c.Key() },
	}
}

// metaFile is featureMeta.json. Keys match without regard to case.
type metaFile struct {
	Header   json.RawMessage `json:"Header"`
	Commands []metaCommand   `json:"Commands"`
}

type metaHeader struct {
	ApplicationID string `json:"ApplicationID"`
	ProjectID     string `json:"ProjectID"`
	TransactionID string `json:"TransactionID"`
	DataSourceID  string `json:"DataSourceID"`
	LanguageType  string `json:"LanguageType"`
	Use           bool   `json:"Use"`
	Comment       string `json:"Comment"`
	// Runtime is ack's own key: "embedded" or "node".
	Runtime string `json:"Runtime"`
}

type metaCommand struct {
	ID                  string      `json:"ID"`
	Seq                 int         `json:"Seq"`
	Timeout             int         `json:"Timeout"`
	BeforeTransaction   string      `json:"BeforeTransaction"`
	AfterTransaction    string      `json:"AfterTransaction"`
	FallbackTransaction string      `json:"FallbackTransaction"`
	Description         string      `json:"Description"`
	ModifiedAt          string      `json:"ModifiedAt"`
	OutputMetas         []string    `json:"OutputMetas"`
	Params              []metaParam `json:"Params"`
}

type metaParam struct {
	ID       string          `json:"ID"`
	Type     string          `json:"Type"`
	Length   *int            `json:"Length"`
	Value    json.RawMessage `json:"Value"`
	Required bool            `json:"Required"`
}

// header is the common part of both contract forms.
type header struct {
	app, project, tx, dataSource, language, runtime string
}

func parseDirectory(fsys fs.FS, unit, defaultRuntime string) ([]*Command, error) {
	data, err := fs.ReadFile(fsys, unit)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &contract.ParseError{Path: unit, Err: errors.New("featureMeta.json is missing beside the function's files")}
		}
		return nil, err
	}
	data = config.StripJSONC(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	var f metaFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, &contract.ParseError{Path: unit, Line: config.JSONErrorLine(data, err), Err: err}
	}
	var h metaHeader
	var rawHeader map[string]any
	if len(f.Header) > 0 {
		if err := json.Unmarshal(f.Header, &h); err != nil {
			return nil, &contract.ParseError{Path: unit, Line: config.JSONErrorLine(data, err), Err: fmt.Errorf("Header: %w", err)}
		}
		_ = json.Unmarshal(f.Header, &rawHeader)
	}
	if !h.Use {
		return nil, nil // HandStack skips a contract whose Header.Use is not true
	}
	dir := path.Dir(unit)
	hd, err := completeHeader(header{h.ApplicationID, h.ProjectID, h.TransactionID, h.DataSourceID, h.LanguageType, h.Runtime}, dir, defaultRuntime)
	if err != nil {
		return nil, &contract.ParseError{Path: unit, Err: err}
	}
	file := path.Join(dir, "featureMain."+map[string]string{langJavaScript: "js", langCSharp: "cs", langPython: "py"}[hd.language])
	src, err := fs.ReadFile(fsys, file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &contract.ParseError{Path: unit, Err: fmt.Errorf("%s is missing for LanguageType %q", path.Base(file), hd.language)}
		}
		return nil, err
	}
	code, err := newCode(file, string(src), hd, 0)
	if err != nil {
		return nil, err
	}
	out := make([]*Command, 0, len(f.Commands))
	for _, c := range f.Commands {
		params := make([]Param, 0, len(c.Params))
		for _, p := range c.Params {
			params = append(params, Param{Name: p.ID, Type: p.Type, Length: lengthOr(p.Length), Default: jsonDefault(p.Value), Required: p.Required})
		}
		out = append(out, newCommand(hd, code, rawHeader, commandFields{
			id: c.ID, seq: c.Seq, timeout: c.Timeout, desc: c.Description, modifiedAt: c.ModifiedAt,
			before: c.BeforeTransaction, after: c.AfterTransaction, fallback: c.FallbackTransaction,
			params: params, outputMetas: c.OutputMetas,
		}))
	}
	if err := checkCommands(out); err != nil {
		return nil, &contract.ParseError{Path: unit, Err: err}
	}
	return out, nil
}

// completeHeader fills the identity from the path (App/Project/Tx) where the
// header leaves it empty and validates the language and runtime.
func completeHeader(h header, dir, defaultRuntime string) (header, error) {
	parts := strings.Split(dir, "/")
	if len(parts) >= 3 {
		if h.app == "" {
			h.app = parts[len(parts)-3]
		}
		if h.project == "" {
			h.project = parts[len(parts)-2]
		}
		if h.tx == "" {
			h.tx = parts[len(parts)-1]
		}
	}
	h.language = strings.ToLower(strings.TrimSpace(h.language))
	switch h.language {
	case langJavaScript:
		var err error
		if h.runtime, err = runtimeName(h.runtime, defaultRuntime); err != nil {
			return h, err
		}
	case langCSharp, langPython:
		h.runtime = ""
	default:
		return h, fmt.Errorf("unknown LanguageType %q: want javascript, csharp or python", h.language)
	}
	return h, nil
}

// newCode builds a contract's program. An embedded JavaScript program is
// compiled here, so that a syntax error keeps the last good version serving;
// lineOffset is the line of the file where the source starts, minus one.
func newCode(file, src string, h header, lineOffset int) (*Code, error) {
	code := &Code{File: file, Text: src, Version: version(src), Runtime: h.runtime}
	if h.runtime != runtimeEmbedded {
		// Node parses its own files; a syntax error shows at the call.
		return code, nil
	}
	prog, err := jsruntime.Compile(file, src)
	if err != nil {
		var se *jsruntime.SyntaxError
		if errors.As(err, &se) && se.Line > 0 {
			line := se.Line + lineOffset
			return nil, &contract.ParseError{Path: file, Line: line, Err: fmt.Errorf("%s:%d:%d: SyntaxError: %s", path.Base(file), line, se.Column, se.Message)}
		}
		return nil, &contract.ParseError{Path: file, Err: err}
	}
	code.Program = prog
	return code, nil
}

type commandFields struct {
	id, desc, modifiedAt    string
	seq, timeout            int
	before, after, fallback string
	params                  []Param
	outputMetas             []string
}

func newCommand(h header, code *Code, rawHeader map[string]any, f commandFields) *Command {
	return &Command{
		ApplicationID: h.app, ProjectID: h.project, TransactionID: h.tx,
		ScriptID: fmt.Sprintf("%s%02d", f.id, f.seq), ExportName: f.id, Seq: f.seq,
		DataSourceID: h.dataSource, Language: h.language,
		Description: f.desc, Timeout: f.timeout, ModifiedAt: f.modifiedAt,
		Before: f.before, After: f.after, Fallback: f.fallback,
		Params: f.params, OutputMetas: f.outputMetas,
		Header: rawHeader, Code: code,
	}
}

// checkCommands rejects a contract whose commands cannot all be called.
func checkCommands(cmds []*Command) error {
	seen := map[string]bool{}
	for _, c := range cmds {
		if c.ExportName == "" {
			return errors.New("a command has no ID")
		}
		if c.Seq < 0 {
			return fmt.Errorf("command %s: Seq must not be negative", c.ExportName)
		}
		if seen[c.ScriptID] {
			return fmt.Errorf("command %s with Seq %d is defined twice", c.ExportName, c.Seq)
		}
		seen[c.ScriptID] = true
	}
	return nil
}

func lengthOr(l *int) int {
	if l == nil {
		return -1
	}
	return *l
}

// jsonDefault reads a param's Value: null is no default; a string or any
// other scalar is its text.
func jsonDefault(raw json.RawMessage) *string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return &s
	}
	s = string(raw)
	return &s
}

// version fingerprints a source for the Node workers' module caches.
func version(src string) string {
	h := fnv.New64a()
	h.Write([]byte(src))
	return strconv.FormatUint(h.Sum64(), 36)
}
