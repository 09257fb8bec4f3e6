package dbclient

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ack-dev/ack/internal/datasource"
	"github.com/ack-dev/ack/internal/dialect"
	"github.com/ack-dev/ack/internal/wire"
	"github.com/ack-dev/ack/modules/dbclient/dynsql"
	"github.com/ack-dev/ack/modules/dbclient/sqlexpr"
	"github.com/ack-dev/ack/modules/dbclient/sqlmap"
)

// Execute runs a DynamicRequest. Every failure of the request itself is an
// in-band answer (Acknowledge 0, ErrorCode, a client-safe ExceptionText);
// the details are logged with the GlobalID. The request is not modified.
func (m *Module) Execute(ctx context.Context, req *wire.DynamicRequest) (*wire.DynamicResponse, error) {
	if req == nil {
		return wire.Fail("", CodeBadRequest, "빈 요청. 요청 정보 확인 필요 (empty request)"), nil
	}
	resp, f := m.execute(ctx, req)
	if f != nil {
		m.log.Warn("dbclient request failed", "global_id", req.GlobalID, "code", f.code, "message", f.msg, "err", f.err)
		msg := f.msg
		if req.GlobalID != "" {
			msg += " (GlobalID: " + req.GlobalID + ")"
		}
		return wire.Fail(req.GlobalID, f.code, msg), nil
	}
	return resp, nil
}

// job is one QueryObject with its statement and data source.
type job struct {
	obj *wire.QueryObject
	st  *sqlmap.Statement
	src *datasource.Source
}

// querier is a connection or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (m *Module) execute(ctx context.Context, req *wire.DynamicRequest) (*wire.DynamicResponse, *failure) {
	switch req.ReturnType {
	case wire.ReturnJSON, wire.ReturnScalar, wire.ReturnNonQuery, wire.ReturnSQLText, wire.ReturnSchemeOnly, wire.ReturnCodeHelp, wire.ReturnXML:
	default:
		return nil, fail(CodeUnsupported, fmt.Sprintf("지원하지 않는 결과 타입 (ReturnType %s is not supported by ack's dbclient)", req.ReturnType), nil)
	}
	// SQLText and SchemeOnly describe statements: they run them to find
	// errors, result columns and BaseFieldMappings rows, in a transaction
	// that is always rolled back (HandStack commits what they ran).
	dry := req.ReturnType == wire.ReturnSQLText || req.ReturnType == wire.ReturnSchemeOnly
	inTx := req.IsTransaction || dry
	if len(req.DynamicObjects) == 0 {
		return nil, fail(CodeBadRequest, "거래 요청 정보 확인 필요 (DynamicObjects is empty)", nil)
	}
	// Resolve everything before running anything, as HandStack does.
	set := m.store.Load()
	jobs := make([]job, len(req.DynamicObjects))
	for i := range req.DynamicObjects {
		obj := &req.DynamicObjects[i]
		st, ok := set.Get(obj.QueryID)
		if !ok {
			return nil, fail(CodeStatementNotFound, fmt.Sprintf("QueryID - %s에 대한 매핑 정보 필요 (statement not found)", obj.QueryID), nil)
		}
		src, err := m.resolve(st)
		if err != nil {
			return nil, fail(CodeDataSourceNotFound, fmt.Sprintf("%s_%d에 대한 DataSourceID 데이터 원본 확인 필요 (no data source %q)", obj.QueryID, i, m.dataSourceID(st)), err)
		}
		if inTx && i > 0 && src.Target != jobs[0].src.Target {
			return nil, fail(CodeMixedDataSources, fmt.Sprintf("%s uses another database than %s; one transaction cannot span two databases", obj.QueryID, jobs[0].obj.QueryID), nil)
		}
		jobs[i] = job{obj: obj, st: st, src: src}
	}
	ex := &execution{m: m, req: req, conns: map[datasource.Target]*sql.Conn{}, bases: map[int][]namedValue{}, out: newOutput()}
	defer ex.close()
	switch req.ReturnType {
	case wire.ReturnSQLText:
		ex.sqlText = newSQLText()
	case wire.ReturnSchemeOnly:
		ex.scheme = &schemeOutput{}
	case wire.ReturnXML:
		ex.xml = &xmlOutput{}
	}
	if inTx {
		if f := ex.begin(ctx, jobs[0]); f != nil {
			return nil, f
		}
	}
	for i, j := range jobs {
		if f := ex.run(ctx, i, j); f != nil {
			return nil, f
		}
		if ex.stopped {
			break
		}
	}
	if ex.tx != nil && !dry {
		if err := ex.tx.Commit(); err != nil {
			return nil, classify(ctx, "commit", err)
		}
		ex.tx = nil
	}
	if req.ReturnType == wire.ReturnCodeHelp {
		if f := ex.codeHelp(ctx); f != nil {
			return nil, f
		}
	}
	return ex.response()
}

// namedValue is one column of a remembered row (BaseFieldMappings).
type namedValue struct {
	name  string
	value any
}

type execution struct {
	m     *Module
	req   *wire.DynamicRequest
	tx    *sql.Tx
	conns map[datasource.Target]*sql.Conn
	// bases holds, by statement seq, the last row of the last result set of
	// the latest statement run with that seq (nil when it had none).
	bases    map[int][]namedValue
	out      *output
	affected int64
	scalar   any

	// The collectors of the other return types; nil unless requested.
	sqlText *sqlText
	scheme  *schemeOutput
	xml     *xmlOutput
	help    codeHelpDefinition
	// stopped is set when SQLText recorded a failed statement: the
	// request answers what it has so far.
	stopped bool
}

func (ex *execution) close() {
	if ex.tx != nil {
		if err := ex.tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
			ex.m.log.Warn("rollback failed", "global_id", ex.req.GlobalID, "err", err)
		}
	}
	for _, c := range ex.conns {
		c.Close()
	}
	ex.out.release()
}

func (ex *execution) begin(ctx context.Context, first job) *failure {
	db, err := ex.m.sources.DB(first.src)
	if err != nil {
		return fail(CodeDataSourceUnavailable, "the database is unavailable", err)
	}
	iso := first.src.Isolation
	if first.st.Isolation != "" {
		if iso, err = datasource.ParseIsolation(first.st.Isolation); err != nil {
			return fail(CodeBadRequest, fmt.Sprintf("%s: %v", first.obj.QueryID, err), err)
		}
	}
	if first.src.Provider == dialect.SQLite {
		iso = sql.LevelDefault // SQLite transactions are serializable; the driver rejects other levels
	}
	tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: iso})
	if err != nil {
		return classify(ctx, "begin transaction", err)
	}
	ex.tx = tx
	return nil
}

// querier returns the transaction, or this request's connection to src.
func (ex *execution) querier(ctx context.Context, src *datasource.Source) (querier, *failure) {
	if ex.tx != nil {
		return ex.tx, nil
	}
	if c, ok := ex.conns[src.Target]; ok {
		return c, nil
	}
	db, err := ex.m.sources.DB(src)
	if err != nil {
		return nil, fail(CodeDataSourceUnavailable, "the database is unavailable", err)
	}
	c, err := db.Conn(ctx)
	if err != nil {
		return nil, classify(ctx, "connect to "+src.DataSourceID, err)
	}
	ex.conns[src.Target] = c
	return c, nil
}

func (ex *execution) run(ctx context.Context, i int, j job) *failure {
	obj, st := j.obj, j.st
	if len(obj.Parameters) > 0 && obj.Parameters[0].ParameterName == "DefaultEmpty" {
		return nil // the browser's placeholder row for an empty grid
	}
	params := obj.Parameters
	if len(obj.BaseFieldMappings) > 0 {
		var f *failure
		if params, f = ex.mapBaseFields(obj, st); f != nil {
			return f
		}
	}
	vars, present, err := dynsql.Variables(params)
	if err != nil {
		return fail(CodeParameter, fmt.Sprintf("%s: %v", obj.QueryID, err), err)
	}
	named, err := dynsql.Bind(st, vars, present)
	if err != nil {
		return fail(CodeParameter, fmt.Sprintf("%s: %v", obj.QueryID, err), err)
	}
	q, f := ex.querier(ctx, j.src)
	if f != nil {
		return f
	}
	if d := ex.m.cfg.statementTimeout(st.Timeout); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	sqlID := fmt.Sprintf("%s_%d", obj.QueryID, i)
	if st.Pretreatment != nil {
		if f := ex.pretreat(ctx, q, j, sqlID+"_pretreatment", vars, named); f != nil || ex.stopped {
			return f
		}
	}
	query, err := dynsql.Render(st.Body, vars, named, st.InlineValues)
	if err != nil {
		return renderFailure(obj.QueryID, err)
	}
	if strings.TrimSpace(query.SQL) == "" {
		return nil // nothing to run (every <if> was false), as in HandStack
	}
	cmds, err := dialect.Compile(j.src.Provider, query)
	if err != nil {
		return renderFailure(obj.QueryID, err)
	}
	sqlID += "_statement"
	if ex.sqlText != nil {
		ex.sqlText.define(st, sqlID, cmds, named)
	}
	if ex.req.ReturnType == wire.ReturnNonQuery {
		for _, c := range cmds {
			res, err := q.ExecContext(ctx, c.SQL, c.Args...)
			if err != nil {
				return ex.failed(ctx, obj.QueryID, sqlID, c, err)
			}
			if n, err := res.RowsAffected(); err == nil {
				ex.affected += n
			}
		}
		return nil
	}
	var sets []resultSet
	for _, c := range cmds {
		rs, err := query1(ctx, q, c, obj.IgnoreResult && len(sets) == 0)
		if err != nil {
			return ex.failed(ctx, obj.QueryID, sqlID, c, err)
		}
		sets = append(sets, rs...)
		if obj.IgnoreResult && len(sets) > 0 {
			break
		}
	}
	if obj.IgnoreResult {
		ex.remember(st.Seq, sets)
		return nil
	}
	if sets, err = relate(obj.BaseFieldRelations, sets); err != nil {
		return fail(CodeQueryFailed, obj.QueryID+": the result could not be encoded", err)
	}
	ex.remember(st.Seq, sets)
	return ex.collect(j, sets)
}

// collect hands the result sets of one statement to the requested return
// type's output.
func (ex *execution) collect(j job, sets []resultSet) *failure {
	obj := j.obj
	switch {
	case ex.sqlText != nil:
		return nil // SQLText answers the SQL, not its results
	case ex.scheme != nil:
		ex.scheme.add(obj, sets)
		return nil
	case ex.xml != nil:
		if err := ex.xml.add(j.st.Seq, sets); err != nil {
			return fail(CodeQueryFailed, fmt.Sprintf("%s: %v", obj.QueryID, err), err)
		}
		return nil
	case ex.req.ReturnType == wire.ReturnCodeHelp:
		ex.help = codeHelpDefinition{job: j, sets: sets}
		return nil
	}
	for _, rs := range sets {
		if err := ex.out.add(obj, rs); err != nil {
			return fail(CodeQueryFailed, obj.QueryID+": the result could not be encoded", err)
		}
		if len(rs.rows) > 0 && len(rs.cols) > 0 {
			ex.scalar = rs.rows[0][0]
		} else {
			ex.scalar = nil
		}
	}
	return nil
}

func query1(ctx context.Context, q querier, c dialect.Command, onlyFirst bool) ([]resultSet, error) {
	rows, err := q.QueryContext(ctx, c.SQL, c.Args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return readResultSets(rows, onlyFirst)
}

// renderFailure reports a statement that could not be rendered; the message
// names the contract line and the rule, never a value.
func renderFailure(queryID string, err error) *failure {
	code := CodeRender
	if errors.Is(err, dynsql.ErrUnsafeValue) {
		code = CodeUnsafeValue
	}
	return fail(code, fmt.Sprintf("%s: %v", queryID, err), err)
}

// logSQL logs a failed command with its SQL and values, which never go to
// the client.
func (ex *execution) logSQL(queryID string, c dialect.Command, err error) {
	ex.m.log.Warn("statement failed", "global_id", ex.req.GlobalID, "query_id", queryID, "sql", c.SQL, "args", fmt.Sprint(c.Args), "err", err)
}

// failed handles command c of query what (sqlID in SQLText) failing with
// err: logged, then a failure, or for SQLText a recorded ExecuteSQL entry
// that ends the request with what it has.
func (ex *execution) failed(ctx context.Context, what, sqlID string, c dialect.Command, err error) *failure {
	ex.logSQL(what, c, err)
	if ex.sqlText != nil && ctx.Err() == nil {
		ex.sqlText.failed(sqlID, c)
		ex.stopped = true
		return nil
	}
	return classify(ctx, what, err)
}

// remember stores the last row of the last result set under seq.
func (ex *execution) remember(seq int, sets []resultSet) {
	if len(sets) == 0 || len(sets[len(sets)-1].rows) == 0 {
		ex.bases[seq] = nil
		return
	}
	last := sets[len(sets)-1]
	row := last.rows[len(last.rows)-1]
	nv := make([]namedValue, len(last.cols))
	for i, c := range last.cols {
		nv[i] = namedValue{name: c.name, value: row[i]}
	}
	ex.bases[seq] = nv
}

// mapBaseFields copies columns of a remembered row into parameters of obj
// (master/detail keys). It returns a copy of the parameters.
func (ex *execution) mapBaseFields(obj *wire.QueryObject, st *sqlmap.Statement) ([]wire.DynamicParameter, *failure) {
	params := append([]wire.DynamicParameter(nil), obj.Parameters...)
	for _, mp := range obj.BaseFieldMappings {
		seq := st.Seq - 1
		if s := strings.TrimSpace(string(mp.BaseSequence)); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				return nil, fail(CodeBaseFieldMapping, fmt.Sprintf("BaseFieldMappings - QueryID: '%s', Sequence: '%s'에 대한 매핑 정보 필요 (not a number)", obj.QueryID, s), err)
			}
			seq = n
		}
		missing := fail(CodeBaseFieldMapping, fmt.Sprintf("BaseFieldMappings - QueryID: '%s', Sequence: '%d'에 대한 매핑 정보 필요 (%s -> %s)", obj.QueryID, seq, mp.SourceFieldID, mp.TargetFieldID), nil)
		row := ex.bases[seq]
		var value any
		found := false
		for _, nv := range row {
			if nv.name == mp.SourceFieldID {
				value, found = nv.value, true
				break
			}
		}
		if !found {
			return nil, missing
		}
		target := -1
		for k := range params {
			if params[k].ParameterName == mp.TargetFieldID {
				target = k
			}
		}
		if target < 0 {
			return nil, missing
		}
		params[target].Value = value
	}
	return params, nil
}

// pretreat runs the statement's <pretreatment> SQL and turns its result sets
// into parameters: Row binds each column of the first row, List binds the
// distinct values of each column as a list (for "IN @col").
func (ex *execution) pretreat(ctx context.Context, q querier, j job, sqlID string, vars sqlexpr.Env, named map[string]any) *failure {
	pt := j.st.Pretreatment
	query, err := dynsql.Render(pt.Body, vars, named, j.st.InlineValues)
	if err != nil {
		return renderFailure(j.obj.QueryID, err)
	}
	cmds, err := dialect.Compile(j.src.Provider, query)
	if err != nil {
		return renderFailure(j.obj.QueryID, err)
	}
	if ex.sqlText != nil {
		ex.sqlText.define(nil, sqlID, cmds, named)
	}
	var sets []resultSet
	for _, c := range cmds {
		rs, err := query1(ctx, q, c, false)
		if err != nil {
			f := ex.failed(ctx, j.obj.QueryID+" pretreatment", sqlID, c, err)
			if f != nil {
				f.code = CodePretreatment
			}
			return f
		}
		sets = append(sets, rs...)
	}
	mismatch := fail(CodePretreatment, fmt.Sprintf("Pretreatment - 전처리 쿼리 실행 결과와 %s 설정 확인 필요 (%s)", strings.Join(pt.ResultTypes, ","), j.obj.QueryID), nil)
	if len(sets) != len(pt.ResultTypes) {
		return mismatch
	}
	for k, rs := range sets {
		if strings.EqualFold(pt.ResultTypes[k], "Row") {
			if len(rs.rows) == 0 {
				return mismatch
			}
			for c, col := range rs.cols {
				named[col.name] = rs.rows[0][c]
				vars[col.name] = rs.rows[0][c]
			}
			continue
		}
		for c, col := range rs.cols {
			seen := map[any]bool{}
			list := []any{}
			for _, row := range rs.rows {
				if !seen[row[c]] {
					seen[row[c]] = true
					list = append(list, row[c])
				}
			}
			named[col.name] = list
		}
	}
	return nil
}

func (ex *execution) response() (*wire.DynamicResponse, *failure) {
	resp := &wire.DynamicResponse{
		Acknowledge:   1,
		CorrelationID: ex.req.GlobalID,
		Informations:  []string{},
		ResultMeta:    []string{},
	}
	var err error
	switch ex.req.ReturnType {
	case wire.ReturnNonQuery:
		resp.ResultInteger = ex.affected
	case wire.ReturnScalar:
		resp.ResultObject = ex.scalar
	case wire.ReturnSQLText:
		resp.ResultJSON, err = ex.sqlText.resultJSON(ex.m)
	case wire.ReturnSchemeOnly:
		resp.ResultJSON, err = ex.scheme.resultJSON()
	case wire.ReturnXML:
		resp.ResultObject = ex.xml.document()
	case wire.ReturnCodeHelp:
		resp.ResultJSON, err = ex.help.result.resultJSON()
	default:
		data, err := ex.out.resultJSON()
		if err != nil {
			return nil, fail(CodeQueryFailed, "the result could not be encoded", err)
		}
		resp.ResultJSON = data
		resp.ResultMeta = append(resp.ResultMeta, ex.out.meta...)
	}
	if err != nil {
		return nil, fail(CodeQueryFailed, "the result could not be encoded", err)
	}
	return resp, nil
}
