package transact

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/contract"
)

func TestParseFixtureContracts(t *testing.T) {
	root := acktest.Shared(t, "fixtures/handstack/home/contracts/transact")
	want := map[string][]string{
		"HDS/BOD/BOD010.json": {"ZD01", "LD01"},
		"HDS/BOD/BOD011.json": {"ID01"},
		"HDS/BOD/BOD012.json": {"GD01", "UD01", "DD01"},
		"HDS/TST/TST020.json": {"GD01", "LD01", "AD01", "DD01"},
	}
	for rel, services := range want {
		data, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		c, err := parseContract(rel, data)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		parts := strings.Split(strings.TrimSuffix(rel, ".json"), "/")
		if c.Key() != strings.Join(parts, "|") {
			t.Errorf("%s: key %q", rel, c.Key())
		}
		for _, id := range services {
			s, ok := c.Service(id)
			if !ok {
				t.Errorf("%s: service %s missing", rel, id)
				continue
			}
			if len(s.Inputs) != 1 || s.Inputs[0].Type != "Row" || s.Inputs[0].ParameterHandling != "Rejected" {
				t.Errorf("%s %s: inputs %+v", rel, id, s.Inputs)
			}
		}
		if len(c.Services) != len(services) {
			t.Errorf("%s: %d services, want %d", rel, len(c.Services), len(services))
		}
	}
}

func TestParseContract(t *testing.T) {
	tests := []struct {
		name, rel, src string
		check          func(t *testing.T, c *Contract)
		errLine        int
		errHas         string
	}{
		{
			name: "comments, trailing commas and identity from the path",
			rel:  "APP/PRJ/TX001.json",
			src: `{
  // a comment
  "Services": [ /* block */
    {"ServiceID": "GD01", "CommandType": "D", "Inputs": [{"Type": "Row",},], "Outputs": [{"Type": "Form"}],},
  ],
}`,
			check: func(t *testing.T, c *Contract) {
				if c.Key() != "APP|PRJ|TX001" || c.TransactionProjectID != "PRJ" {
					t.Errorf("key %q, TransactionProjectID %q", c.Key(), c.TransactionProjectID)
				}
				s, _ := c.Service("GD01")
				if s.ReturnType != "Json" || s.Inputs[0].ParameterHandling != "Rejected" {
					t.Errorf("defaults: %q %q", s.ReturnType, s.Inputs[0].ParameterHandling)
				}
			},
		},
		{
			name: "lower-case keys and lenient booleans",
			rel:  "A/B/C.txn",
			src:  `{"applicationid":"X","projectid":"Y","transactionid":"Z","services":[{"serviceid":"S1","commandtype":"R","authorize":"Y","AccessScreenID":null}]}`,
			check: func(t *testing.T, c *Contract) {
				s, ok := c.Service("S1")
				if c.Key() != "X|Y|Z" || !ok || !bool(s.Authorize) || !s.AccessScreenID.Null {
					t.Errorf("got %q %+v", c.Key(), s)
				}
			},
		},
		{name: "syntax error line", rel: "A/B/C.json", src: "{\n\"Services\": [\n{\"a\" 1}\n]}", errLine: 3},
		{name: "unknown command type", rel: "A/B/C.json", src: "{\"Services\": [\n{\"ServiceID\": \"X1\", \"CommandType\": \"Q\"}]}", errLine: 2, errHas: "CommandType"},
		{name: "return type case matters", rel: "A/B/C.json", src: `{"Services": [{"ServiceID": "X1", "CommandType": "D", "ReturnType": "json"}]}`, errHas: "ReturnType"},
		{name: "duplicate service", rel: "A/B/C.json", src: `{"Services": [{"ServiceID": "X1", "CommandType": "D"}, {"ServiceID": "X1", "CommandType": "D"}]}`, errHas: "twice"},
		{name: "unknown model", rel: "A/B/C.json", src: `{"Services": [{"ServiceID": "X1", "CommandType": "D", "Outputs": [{"ModelID": "M", "Type": "Form"}]}]}`, errHas: "Models"},
		{name: "bad output type", rel: "A/B/C.json", src: `{"Services": [{"ServiceID": "X1", "CommandType": "D", "Outputs": [{"Type": "Table"}]}]}`, errHas: "Type"},
		{name: "S without options", rel: "A/B/C.json", src: `{"Services": [{"ServiceID": "X1", "CommandType": "S"}]}`, errHas: "SequentialOption"},
		{name: "S result position twice", rel: "A/B/C.json", src: `{"Services": [{"ServiceID": "X1", "CommandType": "S", "SequentialOption": [
			{"CommandType": "D", "ResultOutputFields": [1]}, {"CommandType": "D", "ResultHandling": "ResultSet", "ResultOutputFields": [1]}]}]}`, errHas: "used twice"},
		{name: "S bad result handling", rel: "A/B/C.json", src: `{"Services": [{"ServiceID": "X1", "CommandType": "S", "SequentialOption": [{"CommandType": "D", "ResultHandling": "Merge"}]}]}`, errHas: "ResultHandling"},
		{name: "no identity", rel: "C.json", src: `{"Services": []}`, errHas: "required"},
		{name: "services is not a list", rel: "A/B/C.json", src: `{"Services": {}}`, errLine: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseContract(tc.rel, []byte(tc.src))
			if tc.check != nil {
				if err != nil {
					t.Fatal(err)
				}
				tc.check(t, c)
				return
			}
			var pe *contract.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("want a ParseError, got %v", err)
			}
			if tc.errLine != 0 && pe.Line != tc.errLine {
				t.Errorf("line %d, want %d (%v)", pe.Line, tc.errLine, err)
			}
			if !strings.Contains(err.Error(), tc.errHas) {
				t.Errorf("error %q does not mention %q", err, tc.errHas)
			}
		})
	}
}

func FuzzParseContract(f *testing.F) {
	f.Add(`{"ApplicationID":"A","ProjectID":"B","TransactionID":"C","Services":[{"ServiceID":"S","CommandType":"D","Inputs":[{"Type":"Row"}],"Outputs":[{"Type":"Grid"}]}]}`)
	f.Add(`{"Services":[{"ServiceID":"S","CommandType":"S","SequentialOption":[{"CommandType":"D","ServiceInputFields":[3]}]}]}`)
	f.Add("{// c\n\"Services\":[,],}")
	f.Add(`{"Models":[{"Name":"M","Columns":[{"Name":"x","Require":true,"Default":1}]}],"Services":[{"ServiceID":"S","CommandType":"F","Inputs":[{"ModelID":"M","Type":"List","ParameterHandling":"DefaultValue"}]}]}`)
	f.Fuzz(func(t *testing.T, src string) {
		c, err := parseContract("A/B/C.json", []byte(src))
		if err == nil && (c.Key() == "" || c.services == nil) {
			t.Fatalf("accepted without identity: %+v", c)
		}
	})
}
