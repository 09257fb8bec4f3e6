package logger

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ack-dev/ack/internal/dialect"
)

// errUnsupportedProvider marks a HandStack provider ack's logger does not
// write to (yet).
var errUnsupportedProvider = errors.New("not supported by ack's logger")

// parseProvider accepts the providers the logger writes to; an empty name is
// SQLite. Connection strings are translated by dbclient's datasource package,
// the one place that knows HandStack's ADO.NET strings.
func parseProvider(s string) (dialect.Provider, error) {
	if strings.TrimSpace(s) == "" {
		return dialect.SQLite, nil
	}
	p, err := dialect.ParseProvider(s)
	if err != nil {
		return "", err
	}
	if p != dialect.SQLite && p != dialect.PostgreSQL {
		return "", fmt.Errorf("DataProvider %s: %w", s, errUnsupportedProvider)
	}
	return p, nil
}
