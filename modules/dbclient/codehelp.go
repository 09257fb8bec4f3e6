package dbclient

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ack-dev/ack/internal/dialect"
	"github.com/ack-dev/ack/modules/dbclient/dynsql"
	"github.com/ack-dev/ack/modules/dbclient/sqlexpr"
	"github.com/ack-dev/ack/modules/dbclient/sqlmap"
)

// codeHelpDefinition is the last statement a CodeHelp request ran, with its
// result sets, and the answer built from them.
type codeHelpDefinition struct {
	job    job
	sets   []resultSet
	result codeHelpResult
}

// codeHelpResult is HandStack's ResponseCodeObject.
type codeHelpResult struct {
	Comment       string
	CodeColumnID  string
	ValueColumnID string
	CreatedAt     string
	Scheme        []codeHelpScheme
	DataSource    json.RawMessage
}

type codeHelpScheme struct {
	ColumnID   string
	ColumnText string
	ColumnType string
	HiddenYN   bool
}

func (r codeHelpResult) resultJSON() (json.RawMessage, error) {
	if r.Scheme == nil {
		r.Scheme = []codeHelpScheme{}
	}
	if r.DataSource == nil {
		r.DataSource = json.RawMessage("null")
	}
	return json.Marshal(r)
}

// codeHelp answers ReturnType CodeHelp, as HandStack does: the statement
// returned a definition row (DataSourceID, CommandText, CodeColumnID,
// ValueColumnID, Comment, CreatedAt) and the scheme rows (ColumnID,
// ColumnText, ColumnType, HiddenYN); CommandText then runs on the data
// source DataSourceID of the statement's application and project, with the
// parameters "name:value;name:value" of the request's third parameter,
// bound as text (and seen by #{name}, which binds too, and ${name}, which
// takes only safe values).
func (ex *execution) codeHelp(ctx context.Context) *failure {
	d := &ex.help
	if d.job.obj == nil {
		return fail(CodeBadRequest, "CodeHelp: no statement ran (every query object was skipped or rendered empty)", nil)
	}
	st, obj := d.job.st, d.job.obj
	if len(d.sets) < 2 || len(d.sets[0].rows) != 1 {
		return fail(CodeQueryFailed, fmt.Sprintf("TransactionID: %s, StatementID: %s에 대한 데이터 정보 확인 필요 (a CodeHelp statement returns one definition row, then the scheme rows)", st.TransactionID, st.StatementID()), nil)
	}
	def, scheme := d.sets[0], d.sets[1]
	field := func(rs resultSet, row []any, name string) string {
		if c := rs.column(name); c >= 0 && row[c] != nil {
			return cellText(row[c])
		}
		return ""
	}
	row := def.rows[0]
	r := &d.result
	r.Comment, r.CodeColumnID, r.ValueColumnID, r.CreatedAt = field(def, row, "Comment"), field(def, row, "CodeColumnID"), field(def, row, "ValueColumnID"), field(def, row, "CreatedAt")
	for _, sr := range scheme.rows {
		r.Scheme = append(r.Scheme, codeHelpScheme{ColumnID: field(scheme, sr, "ColumnID"), ColumnText: field(scheme, sr, "ColumnText"),
			ColumnType: field(scheme, sr, "ColumnType"), HiddenYN: sqlmap.Truthy(field(scheme, sr, "HiddenYN"))})
	}
	dsID := field(def, row, "DataSourceID")
	src, _, err := ex.m.sources.Resolve(st.ApplicationID, st.ProjectID, dsID)
	if err != nil {
		return fail(CodeDataSourceNotFound, fmt.Sprintf("DataSourceID - %s_%s_%s에 대한 데이터 원본 정보 필요", st.ApplicationID, st.ProjectID, dsID), err)
	}
	var args string
	if len(obj.Parameters) > 2 && obj.Parameters[2].Value != nil {
		args = sqlexpr.Text(obj.Parameters[2].Value)
	}
	vars, named := codeHelpParameters(args)
	query, err := dynsql.Render([]sqlmap.Node{&sqlmap.Text{SQL: field(def, row, "CommandText"), Line: 1}}, vars, named, false)
	if err != nil {
		return renderFailure(obj.QueryID+" CodeHelp", err)
	}
	cmds, err := dialect.Compile(src.Provider, query)
	if err != nil {
		return renderFailure(obj.QueryID+" CodeHelp", err)
	}
	q, f := ex.querier(ctx, src)
	if f != nil {
		return f
	}
	if d := ex.m.cfg.statementTimeout(0); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	var sets []resultSet
	for _, c := range cmds {
		rs, err := query1(ctx, q, c, false)
		if err != nil {
			return ex.failed(ctx, obj.QueryID+" CodeHelp", "", c, err)
		}
		sets = append(sets, rs...)
	}
	if len(sets) == 0 {
		return nil
	}
	if r.DataSource, err = newRowWriter(sets[0].cols).rows(nil, sets[0].rows); err != nil {
		return fail(CodeQueryFailed, obj.QueryID+": the result could not be encoded", err)
	}
	if len(sets) > 1 && len(sets[1].rows) > 0 && sets[1].column("Comment") >= 0 {
		r.Comment = field(sets[1], sets[1].rows[0], "Comment")
	}
	return nil
}

// codeHelpParameters parses "name:value;name:value" into the variables and
// the bind parameters of a CodeHelp command (a blank value is null to
// expressions, as in HandStack).
func codeHelpParameters(s string) (sqlexpr.Env, map[string]any) {
	vars, named := sqlexpr.Env{}, map[string]any{}
	for _, part := range strings.Split(s, ";") {
		name, value, ok := strings.Cut(part, ":")
		name = strings.TrimLeft(strings.TrimSpace(name), "@:#$")
		if !ok || name == "" {
			continue
		}
		value = strings.TrimSpace(value)
		named[name] = value
		if value == "" {
			vars[name] = nil
		} else {
			vars[name] = value
		}
	}
	return vars, named
}
