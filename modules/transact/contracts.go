package transact

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/ack-dev/ack/internal/config"
	"github.com/ack-dev/ack/internal/contract"
	"github.com/ack-dev/ack/internal/wire"
)

// Contract is one transaction contract file (HandStack's BusinessContract):
// contracts/transact/{App}/{Project}/{Tx}.json.
type Contract struct {
	ApplicationID            string
	ProjectID                string
	TransactionID            string
	TransactionApplicationID string
	TransactionProjectID     string
	Comment                  string
	Services                 []*Service
	Models                   []Model
	// File is the contract's path relative to its root.
	File string `json:"-"`

	services map[string]*Service
	models   map[string]*Model
}

// Key is the contract's identity, "App|Project|Tx".
func (c *Contract) Key() string { return contractKey(c.ApplicationID, c.ProjectID, c.TransactionID) }

func contractKey(app, project, tx string) string { return app + "|" + project + "|" + tx }

// Service returns the service with id.
func (c *Contract) Service(id string) (*Service, bool) {
	s, ok := c.services[id]
	return s, ok
}

// Model returns the model named name.
func (c *Contract) Model(name string) (*Model, bool) {
	m, ok := c.models[name]
	return m, ok
}

// Service is one callable service of a contract (HandStack's TransactionInfo).
type Service struct {
	ServiceID         string
	Authorize         flexBool
	Roles             []string
	Policys           map[string][]string
	TransactionTokens []string
	AuthorizeMethod   []string
	CommandType       string
	ReturnType        string
	TransactionScope  flexBool
	SequentialOption  []SequentialOption
	AccessScreenID    screenList
	RoutingCommandUri string
	TransactionLog    flexBool
	Comment           string
	Inputs            []Input
	Outputs           []Output

	returnType wire.ReturnType
}

// Input is one input group of a service (ModelInputContract).
type Input struct {
	ModelID           string
	Fields            []string
	DefaultValues     []json.RawMessage
	Type              string // Row or List
	BaseFieldMappings []wire.BaseFieldMapping
	ParameterHandling string // Rejected, ByPassing or DefaultValue
	IgnoreResult      flexBool
}

// Output is one expected result of a service (ModelOutputContract).
type Output struct {
	ModelID           string
	Fields            []string
	Type              string // Form, Grid, Chart, DataSet, Dynamic or Addition
	BaseFieldRelation *wire.BaseFieldRelation
}

// Model is a typed field list inputs and outputs can refer to by ModelID.
type Model struct {
	Name    string
	Columns []Column
}

// Column is one field of a Model.
type Column struct {
	Name     string
	DataType string
	Length   int
	Require  flexBool
	Default  json.RawMessage
}

// SequentialOption is one step of a CommandType S service.
type SequentialOption struct {
	TransactionProjectID string
	TransactionID        string
	ServiceID            string
	CommandType          string
	ServiceInputFields   []int
	ServiceOutputs       []Output
	ResultHandling       string // ResultSet or FieldMapping
	TargetInputFields    []int
	ResultOutputFields   []int
}

// screenList is AccessScreenID: absent means [] and an explicit null means
// "only the transaction's own screen", as in HandStack.
type screenList struct {
	IDs  []string
	Null bool
}

func (s *screenList) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*s = screenList{Null: true}
		return nil
	}
	var ids []string
	if err := json.Unmarshal(b, &ids); err != nil {
		var one string
		if err2 := json.Unmarshal(b, &one); err2 != nil {
			return errors.New("AccessScreenID: want a list of strings")
		}
		ids = []string{one}
	}
	*s = screenList{IDs: ids}
	return nil
}

func (s screenList) MarshalJSON() ([]byte, error) {
	if s.Null {
		return []byte("null"), nil
	}
	if s.IDs == nil {
		return []byte("[]"), nil
	}
	return json.Marshal(s.IDs)
}

// flexBool accepts true/false, "Y"/"N", "true", 1/0 (HandStack's ParseBool).
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case nil:
		*f = false
	case bool:
		*f = flexBool(x)
	case float64:
		*f = x != 0
	case string:
		*f = flexBool(parseBool(x))
	default:
		return errors.New("want a boolean")
	}
	return nil
}

// parseBool is HandStack's lenient boolean: true, y, 1, ok, yes, on.
func parseBool(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "y", "1", "ok", "yes", "on":
		return true
	}
	return false
}

// contractKind is the transact contract kind: *.json and *.txn files.
func contractKind() contract.Kind[*Contract] {
	return contract.Kind[*Contract]{
		Name:   "transact.json",
		Module: "transact",
		Match: func(rel string) bool {
			ext := strings.ToLower(path.Ext(rel))
			return ext == ".json" || ext == ".txn"
		},
		Parse: func(fsys fs.FS, rel string) ([]*Contract, error) {
			data, err := fs.ReadFile(fsys, rel)
			if err != nil {
				return nil, fmt.Errorf("transact: read %s: %w", rel, err)
			}
			c, err := parseContract(rel, data)
			if err != nil {
				return nil, err
			}
			return []*Contract{c}, nil
		},
		Key: (*Contract).Key,
	}
}

var (
	commandTypes = []string{"D", "F", "G", "C", "P", "R", "S", "W"}
	inputTypes   = []string{"Row", "List"}
	outputTypes  = []string{"Form", "Grid", "Chart", "DataSet", "Dynamic", "Addition"}
	handlings    = []string{"Rejected", "ByPassing", "DefaultValue"}
)

// parseContract reads one contract (JSON with comments and trailing commas)
// and checks everything that can be checked before a request arrives. rel is
// the slash path below the root; it supplies the identity the file omits.
func parseContract(rel string, data []byte) (*Contract, error) {
	clean := config.StripJSONC(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	var c Contract
	if err := json.Unmarshal(clean, &c); err != nil {
		return nil, &contract.ParseError{Path: rel, Line: config.JSONErrorLine(clean, err), Err: err}
	}
	c.File = rel
	dir, file := path.Split(rel)
	parts := strings.Split(strings.Trim(dir, "/"), "/")
	if c.TransactionID == "" {
		c.TransactionID = strings.TrimSuffix(file, path.Ext(file))
	}
	if c.ProjectID == "" && len(parts) >= 1 {
		c.ProjectID = parts[len(parts)-1]
	}
	if c.ApplicationID == "" && len(parts) >= 2 {
		c.ApplicationID = parts[len(parts)-2]
	}
	if c.ApplicationID == "" || c.ProjectID == "" || c.TransactionID == "" {
		return nil, &contract.ParseError{Path: rel, Err: errors.New("ApplicationID, ProjectID and TransactionID are required (or a path App/Project/Tx.json)")}
	}
	if c.TransactionProjectID == "" {
		c.TransactionProjectID = c.ProjectID
	}
	c.models = make(map[string]*Model, len(c.Models))
	for i := range c.Models {
		c.models[c.Models[i].Name] = &c.Models[i]
	}
	c.services = make(map[string]*Service, len(c.Services))
	for _, s := range c.Services {
		if s == nil {
			return nil, &contract.ParseError{Path: rel, Err: errors.New("a service is null")}
		}
		line := lineOf(clean, s.ServiceID)
		fail := func(format string, a ...any) error {
			return &contract.ParseError{Path: rel, Line: line, Err: fmt.Errorf("service %q: "+format, append([]any{s.ServiceID}, a...)...)}
		}
		if s.ServiceID == "" {
			return nil, fail("ServiceID is empty")
		}
		if _, dup := c.services[s.ServiceID]; dup {
			return nil, fail("ServiceID is defined twice")
		}
		if !slices.Contains(commandTypes, s.CommandType) {
			return nil, fail("CommandType %q: want one of %s", s.CommandType, strings.Join(commandTypes, ", "))
		}
		if s.ReturnType == "" {
			s.ReturnType = "Json"
		}
		rt, err := wire.ParseReturnType(s.ReturnType)
		if err != nil || rt.String() != s.ReturnType {
			return nil, fail("ReturnType %q: want Json, Scalar, NonQuery, CodeHelp, Xml or DynamicJson (case matters)", s.ReturnType)
		}
		s.returnType = rt
		for i, in := range s.Inputs {
			if !slices.Contains(inputTypes, in.Type) {
				return nil, fail("input %d: Type %q: want Row or List", i, in.Type)
			}
			if in.ParameterHandling == "" {
				s.Inputs[i].ParameterHandling = "Rejected"
			} else if !slices.Contains(handlings, in.ParameterHandling) {
				return nil, fail("input %d: ParameterHandling %q: want Rejected, ByPassing or DefaultValue", i, in.ParameterHandling)
			}
			if err := checkModel(&c, in.ModelID); err != nil {
				return nil, fail("input %d: %v", i, err)
			}
		}
		for i, out := range s.Outputs {
			if err := checkOutput(&c, out); err != nil {
				return nil, fail("output %d: %v", i, err)
			}
		}
		// Two ResultSet options placing a result at the same position would
		// silently drop one of them.
		placed := map[int]bool{}
		for i, opt := range s.SequentialOption {
			if !slices.Contains(commandTypes[:5], opt.CommandType) {
				return nil, fail("SequentialOption %d: CommandType %q: want D, F, G, C or P", i, opt.CommandType)
			}
			switch opt.ResultHandling {
			case "", "ResultSet":
				for _, p := range opt.ResultOutputFields {
					if p < 0 || placed[p] {
						return nil, fail("SequentialOption %d: ResultOutputFields position %d is negative or used twice", i, p)
					}
					placed[p] = true
				}
			case "FieldMapping":
			default:
				return nil, fail("SequentialOption %d: ResultHandling %q: want ResultSet or FieldMapping", i, opt.ResultHandling)
			}
			for _, k := range append(slices.Clone(opt.ServiceInputFields), opt.TargetInputFields...) {
				if k < 0 || k >= len(s.Inputs) {
					return nil, fail("SequentialOption %d: input index %d out of range", i, k)
				}
			}
			for j, out := range opt.ServiceOutputs {
				if err := checkOutput(&c, out); err != nil {
					return nil, fail("SequentialOption %d output %d: %v", i, j, err)
				}
			}
		}
		if s.CommandType == "S" && len(s.SequentialOption) == 0 {
			return nil, fail("CommandType S needs SequentialOption")
		}
		c.services[s.ServiceID] = s
	}
	return &c, nil
}

func checkOutput(c *Contract, out Output) error {
	if !slices.Contains(outputTypes, out.Type) {
		return fmt.Errorf("Type %q: want one of %s", out.Type, strings.Join(outputTypes, ", "))
	}
	return checkModel(c, out.ModelID)
}

func checkModel(c *Contract, id string) error {
	switch id {
	case "", "Dynamic", "Unknown":
		return nil
	}
	if _, ok := c.models[id]; !ok {
		return fmt.Errorf("ModelID %q is not in Models", id)
	}
	return nil
}

// lineOf finds the line of the first `"...": "value"` occurrence of value, to
// point a semantic error at its service.
func lineOf(data []byte, value string) int {
	if value == "" {
		return 0
	}
	q, _ := json.Marshal(value)
	if i := bytes.Index(data, q); i >= 0 {
		return config.LineOf(data, int64(i))
	}
	return 0
}
