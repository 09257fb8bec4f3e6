package logger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/internal/wire"
)

// Request limits: a shipper batch is far below both.
const (
	maxInsertBody    = 32 << 20
	maxInsertRecords = 10000
	defaultListLimit = 500 // HandStack's fixed page
	maxListLimit     = 1000
)

// authorize lets a loopback caller through, and any caller that sends the
// configured AuthorizationKey. Logs hold whole requests and responses.
func (m *Module) authorize(r *http.Request) error {
	if m.access.Allows(r) {
		return nil
	}
	return module.Errorf(http.StatusForbidden, "logger.forbidden",
		"this route needs a local caller or the AuthorizationKey header", nil)
}

func badRequest(code, format string, args ...any) error {
	return module.Errorf(http.StatusBadRequest, code, fmt.Sprintf(format, args...), nil)
}

// handleInsert stores one LogMessage (HandStack: JSON object, query string
// or form) or a JSON array of them (ack's shipper). It answers 200 with an
// empty body once the records are stored, and 503 when they could not be.
func (m *Module) handleInsert(w http.ResponseWriter, r *http.Request) error {
	if m.cfg.RequireKeyForInsert {
		if err := m.authorize(r); err != nil {
			return err
		}
	}
	msgs, err := readInsert(w, r)
	if err != nil {
		return err
	}
	if len(msgs) == 0 {
		return badRequest("logger.empty", "no log record in the request")
	}
	if len(msgs) > maxInsertRecords {
		return module.Errorf(http.StatusRequestEntityTooLarge, "logger.too_many",
			fmt.Sprintf("at most %d records per request", maxInsertRecords), nil)
	}
	for i, msg := range msgs {
		if strings.TrimSpace(msg.ApplicationID) == "" {
			return badRequest("logger.application_required", "record %d: ApplicationID is required", i)
		}
	}
	if err := m.InsertLogs(r.Context(), msgs); err != nil {
		return module.Errorf(http.StatusServiceUnavailable, "logger.unavailable", "log storage is unavailable", err)
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// readInsert decodes the records of an insert request.
func readInsert(w http.ResponseWriter, r *http.Request) ([]wire.LogMessage, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxInsertBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, module.Errorf(http.StatusRequestEntityTooLarge, "logger.too_large",
				fmt.Sprintf("request body over %d bytes", maxInsertBody), err)
		}
		return nil, badRequest("logger.bad_body", "cannot read the request body")
	}
	body = bytes.TrimSpace(body)
	if len(body) > 0 && (body[0] == '{' || body[0] == '[') {
		var batch wire.LogBatch
		if err := json.Unmarshal(body, &batch); err != nil {
			return nil, badRequest("logger.bad_json", "invalid log record JSON: %v", err)
		}
		return batch, nil
	}
	// HandStack also binds a LogMessage from the query string and a form.
	fields := r.URL.Query()
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, badRequest("logger.bad_form", "invalid form body")
		}
		for k, v := range form {
			fields[k] = append(fields[k], v...)
		}
	}
	if len(fields) == 0 {
		return nil, nil
	}
	var msg wire.LogMessage
	for k, v := range fields {
		if len(v) == 0 {
			continue
		}
		if _, err := msg.Set(k, v[len(v)-1]); err != nil {
			return nil, badRequest("logger.bad_field", "%v", err)
		}
	}
	return []wire.LogMessage{msg}, nil
}

// query reads query-string values with keys in any case (HandStack's
// browser library and its server disagree on case).
type query map[string]string

func newQuery(r *http.Request) query {
	q := query{}
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			q[strings.ToLower(k)] = strings.TrimSpace(v[len(v)-1])
		}
	}
	return q
}

func (q query) get(keys ...string) string {
	for _, k := range keys {
		if v := q[strings.ToLower(k)]; v != "" {
			return v
		}
	}
	return ""
}

// handleList answers GET /logger/api/log/list: rows of one ApplicationID,
// newest first, filtered and paged (see docs/logger.md).
func (m *Module) handleList(w http.ResponseWriter, r *http.Request) error {
	if err := m.authorize(r); err != nil {
		return err
	}
	lq, err := parseList(newQuery(r))
	if err != nil {
		return err
	}
	t := m.tableFor(lq.ApplicationID)
	if err := t.ensure(r.Context()); err != nil {
		return module.Errorf(http.StatusServiceUnavailable, "logger.unavailable", "log storage is unavailable", err)
	}
	rows, err := t.list(r.Context(), lq)
	if err != nil {
		return err
	}
	return writeJSON(w, rows)
}

func parseList(q query) (listQuery, error) {
	lq := listQuery{
		ApplicationID: q.get("applicationID"),
		ServerID:      q.get("serverID"),
		GlobalID:      q.get("globalID"),
		Environment:   q.get("environment", "runningEnvironment"),
		ProjectID:     q.get("projectID"),
		ServiceID:     q.get("serviceID"),
		TransactionID: q.get("transactionID"),
		ModuleID:      q.get("moduleID", "module"),
		Limit:         defaultListLimit,
	}
	if lq.ApplicationID == "" {
		return lq, badRequest("logger.application_required", "applicationID is required")
	}
	if v := q.get("level"); v != "" {
		for l := range strings.SplitSeq(v, ",") {
			if l = strings.TrimSpace(l); l != "" {
				lq.Levels = append(lq.Levels, l)
			}
		}
	}
	if v := q.get("startedAt", "from"); v != "" {
		t, ok := parseTime(v, time.Local)
		if !ok {
			return lq, badRequest("logger.bad_time", "startedAt %q is not a time (yyyy-MM-dd HH:mm:ss or RFC 3339)", v)
		}
		lq.From = t
	}
	if v := q.get("endedAt", "to"); v != "" {
		t, ok := parseTime(v, time.Local)
		if !ok {
			return lq, badRequest("logger.bad_time", "endedAt %q is not a time (yyyy-MM-dd HH:mm:ss or RFC 3339)", v)
		}
		if len(v) == len("2006-01-02") {
			t = t.AddDate(0, 0, 1) // a date alone means the whole day
		}
		lq.To = t
	}
	if v := q.get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return lq, badRequest("logger.bad_before", "before must be a positive LogNo")
		}
		lq.Before = n
	}
	if v := q.get("limit", "pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return lq, badRequest("logger.bad_limit", "limit must be a positive number")
		}
		lq.Limit = min(n, maxListLimit)
	}
	switch strings.ToLower(q.get("withMessage")) {
	case "1", "true", "y", "yes":
		lq.WithMessage = true
	}
	return lq, nil
}

// handleDetail answers GET /logger/api/log/detail with the Message and
// Properties of one record, as a one-element array ([] when not found).
func (m *Module) handleDetail(w http.ResponseWriter, r *http.Request) error {
	if err := m.authorize(r); err != nil {
		return err
	}
	q := newQuery(r)
	appID, no := q.get("applicationID"), q.get("logNo")
	if appID == "" || no == "" {
		return badRequest("logger.required", "applicationID and logNo are required")
	}
	logNo, err := strconv.ParseInt(no, 10, 64)
	if err != nil {
		return badRequest("logger.bad_log_no", "logNo must be an integer")
	}
	t := m.tableFor(appID)
	if err := t.ensure(r.Context()); err != nil {
		return module.Errorf(http.StatusServiceUnavailable, "logger.unavailable", "log storage is unavailable", err)
	}
	rows, err := t.detail(r.Context(), appID, logNo)
	if err != nil {
		return err
	}
	return writeJSON(w, rows)
}

func writeJSON(w http.ResponseWriter, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, err = w.Write(data)
	return err
}
