package dbclient

import (
	"context"
	"database/sql/driver"
	"errors"
	"net"

	"github.com/jackc/pgx/v5/pgconn"
)

// Stable error codes of failed responses (DynamicResponse.ErrorCode). The
// ExceptionText next to them is safe to show; the cause, with SQL and
// values, is logged with the GlobalID.
const (
	CodeBadRequest            = "dbclient.bad_request"
	CodeUnauthorized          = "dbclient.unauthorized"
	CodeStatementNotFound     = "dbclient.statement_not_found"
	CodeDataSourceNotFound    = "dbclient.datasource_not_found"
	CodeDataSourceUnavailable = "dbclient.datasource_unavailable"
	CodeMixedDataSources      = "dbclient.mixed_datasources"
	CodeParameter             = "dbclient.invalid_parameter"
	CodeRender                = "dbclient.render_failed"
	CodeUnsafeValue           = "dbclient.unsafe_value"
	CodeBaseFieldMapping      = "dbclient.base_field_mapping"
	CodePretreatment          = "dbclient.pretreatment_failed"
	CodeQueryFailed           = "dbclient.query_failed"
	CodeTimeout               = "dbclient.timeout"
	CodeCanceled              = "dbclient.canceled"
	CodeUnsupported           = "dbclient.unsupported"
)

// failure is a request failure: a code and a client-safe message, and the
// cause for the log.
type failure struct {
	code, msg string
	err       error
}

func fail(code, msg string, err error) *failure { return &failure{code: code, msg: msg, err: err} }

// unavailable reports an error that means the database could not be
// reached (as opposed to a statement the database rejected).
func unavailable(err error) bool {
	var ne net.Error
	var ce *pgconn.ConnectError
	return errors.Is(err, driver.ErrBadConn) || errors.As(err, &ne) || errors.As(err, &ce)
}

// classify turns a database error into a failure.
func classify(ctx context.Context, what string, err error) *failure {
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fail(CodeTimeout, what+": the statement took longer than its timeout", err)
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		return fail(CodeCanceled, what+": the request was canceled", err)
	case unavailable(err):
		return fail(CodeDataSourceUnavailable, what+": the database is unavailable", err)
	}
	return fail(CodeQueryFailed, what+": the database rejected the statement", err)
}
