package dbclient

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/ack-dev/ack/internal/wire"
	"github.com/ack-dev/ack/modules/dbclient/sqlexpr"
)

// relate applies a statement's BaseFieldRelations to its result sets:
// relation j nests the rows of result set j into each row of result set
// BaseSequence, as a new column RelationFieldID (default "_Children"),
// choosing the child rows whose ChildrenFieldID values equal the parent's
// BaseFieldID values. (HandStack compares the columns the other way round,
// which only works when both names are equal; this is the rule it means.)
// The child rows keep ColumnNames, else every column but the
// ChildrenFieldIDs. Result sets whose relation says DisposeResult are then
// dropped from the output.
func relate(rels []*wire.BaseFieldRelation, sets []resultSet) ([]resultSet, error) {
	if len(rels) == 0 {
		return sets, nil
	}
	for j, rel := range rels {
		if j >= len(sets) || rel == nil || rel.BaseSequence < 0 || rel.BaseSequence >= len(sets) || len(rel.RelationMappings) == 0 {
			continue
		}
		field := rel.RelationFieldID
		if strings.TrimSpace(field) == "" {
			field = "_Children"
		}
		base := &sets[rel.BaseSequence]
		if base.column(field) >= 0 {
			continue
		}
		if err := nest(base, sets[j], field, rel); err != nil {
			return nil, err
		}
	}
	out := sets[:0:0]
	for j, rs := range sets {
		if j < len(rels) && rels[j] != nil && rels[j].DisposeResult {
			continue
		}
		out = append(out, rs)
	}
	return out, nil
}

// nest adds column field to base holding, for each row, the matching rows of child.
func nest(base *resultSet, child resultSet, field string, rel *wire.BaseFieldRelation) error {
	var parentKeys, childKeys []int
	for _, m := range rel.RelationMappings {
		p, c := base.column(m.BaseFieldID), child.column(m.ChildrenFieldID)
		if p >= 0 && c >= 0 {
			parentKeys, childKeys = append(parentKeys, p), append(childKeys, c)
		}
	}
	// The columns the child rows keep.
	var keep []int
	if len(rel.ColumnNames) > 0 {
		for _, name := range rel.ColumnNames {
			if c := child.column(name); c >= 0 {
				keep = append(keep, c)
			}
		}
	} else {
		for c, col := range child.cols {
			if !slices.ContainsFunc(rel.RelationMappings, func(m wire.RelationMapping) bool { return m.ChildrenFieldID == col.name }) {
				keep = append(keep, c)
			}
		}
	}
	cols := make([]column, len(keep))
	for i, c := range keep {
		cols[i] = child.cols[c]
	}
	w := newRowWriter(cols)
	byKey := map[string][][]any{}
	if len(childKeys) > 0 {
		for _, row := range child.rows {
			if k, ok := relationKey(row, childKeys); ok {
				projected := make([]any, len(keep))
				for i, c := range keep {
					projected[i] = row[c]
				}
				byKey[k] = append(byKey[k], projected)
			}
		}
	}
	base.cols = append(base.cols, column{name: field, family: famNested, length: -1})
	for r, row := range base.rows {
		var v any // no applicable mapping: null, as HandStack leaves it
		if len(parentKeys) > 0 {
			k, ok := relationKey(row, parentKeys)
			rows := byKey[k]
			if !ok {
				rows = nil
			}
			b, err := w.rows(nil, rows)
			if err != nil {
				return err
			}
			v = json.RawMessage(b)
		}
		base.rows[r] = append(row, v)
	}
	return nil
}

// relationKey is the text of the key columns of row; a null never matches.
func relationKey(row []any, keys []int) (string, bool) {
	var b strings.Builder
	for _, c := range keys {
		if row[c] == nil {
			return "", false
		}
		b.WriteString(sqlexpr.Text(row[c]))
		b.WriteByte(0)
	}
	return b.String(), true
}

// column is the index of the first column named name, or -1.
func (rs resultSet) column(name string) int {
	for i, c := range rs.cols {
		if c.name == name {
			return i
		}
	}
	return -1
}
