package dbclient

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"strings"

	"github.com/ack-dev/ack/internal/dialect"
	"github.com/ack-dev/ack/modules/dbclient/sqlmap"
)

// sqlText collects the answer of ReturnType SQLText (HandStack's
// SQLMapMeta): the statements, the SQL each one ran (base64), the SQL that
// failed, and the parameters bound by name. The SQL is what the driver
// received, with its placeholders: ack never pastes values into SQL, so
// values appear only in Parameters, and only to callers of this executor
// (transact refuses SQLText; over HTTP the route's authorization applies).
type sqlText struct {
	statements []*sqlmap.Statement
	defined    map[string]string
	executed   map[string]string
	params     map[string]map[string]any
}

func newSQLText() *sqlText {
	return &sqlText{defined: map[string]string{}, executed: map[string]string{}, params: map[string]map[string]any{}}
}

// define records the commands of one statement (st) or pretreatment (st
// nil) under id, with a copy of its named parameters.
func (s *sqlText) define(st *sqlmap.Statement, id string, cmds []dialect.Command, named map[string]any) {
	if st != nil && !containsStatement(s.statements, st) {
		s.statements = append(s.statements, st)
	}
	s.defined[id] = base64.StdEncoding.EncodeToString([]byte(commandsText(cmds)))
	s.params[id] = maps.Clone(named)
	if s.params[id] == nil {
		s.params[id] = map[string]any{}
	}
}

// failed records the command that the database rejected.
func (s *sqlText) failed(id string, c dialect.Command) {
	s.executed[id] = base64.StdEncoding.EncodeToString([]byte(c.SQL))
}

func containsStatement(list []*sqlmap.Statement, st *sqlmap.Statement) bool {
	for _, x := range list {
		if x == st {
			return true
		}
	}
	return false
}

func commandsText(cmds []dialect.Command) string {
	parts := make([]string, len(cmds))
	for i, c := range cmds {
		parts[i] = c.SQL
	}
	return strings.Join(parts, ";\n")
}

func (s *sqlText) resultJSON(m *Module) (json.RawMessage, error) {
	out := struct {
		Statements []statementMap
		DefinedSQL map[string]string
		ExecuteSQL map[string]string
		Parameters map[string]map[string]any
	}{Statements: []statementMap{}, DefinedSQL: s.defined, ExecuteSQL: s.executed, Parameters: s.params}
	for _, st := range s.statements {
		sm := m.statementMap(st)
		sm.SQL = base64.StdEncoding.EncodeToString([]byte(sm.SQL))
		out.Statements = append(out.Statements, sm)
	}
	return json.Marshal(out)
}
