package dbclient

import (
	"errors"
	"io/fs"
	"log/slog"

	"github.com/ack-dev/ack/internal/contract"
	"github.com/ack-dev/ack/modules/dbclient/sqlmap"
)

// sqlKind is the SQL contract kind: every *.xml and *.dbc file under the
// module's contract roots, keyed by QueryID.
func sqlKind(log *slog.Logger) contract.Kind[*sqlmap.Statement] {
	return contract.Kind[*sqlmap.Statement]{
		Name:   "dbclient.sql",
		Module: "dbclient",
		Match:  sqlmap.IsContract,
		Parse: func(fsys fs.FS, unit string) ([]*sqlmap.Statement, error) {
			data, err := fs.ReadFile(fsys, unit)
			if err != nil {
				return nil, err
			}
			sts, warns, err := sqlmap.Parse(unit, data)
			for _, w := range warns {
				log.Warn("SQL contract warning", "file", unit, "line", w.Line, "warning", w.Message)
			}
			if err != nil {
				var pe *sqlmap.Error
				if errors.As(err, &pe) {
					return nil, &contract.ParseError{Path: unit, Line: pe.Line, Err: errors.New(pe.Msg)}
				}
				return nil, err
			}
			return sts, nil
		},
		Key: (*sqlmap.Statement).QueryID,
	}
}
