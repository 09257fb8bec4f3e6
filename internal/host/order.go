package host

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ack-dev/ack/internal/module"
)

// Select picks the modules named in ids (when ids is empty, every available
// module that is not Explicit)
// and orders them so that every module comes after the selected modules it
// calls. An unknown or repeated name is an error listing the valid IDs.
func Select(available []module.Info, ids []string) ([]module.Info, error) {
	byID := make(map[module.ID]module.Info, len(available))
	var valid []string
	for _, info := range available {
		byID[info.ID] = info
		valid = append(valid, string(info.ID))
	}
	var chosen []module.Info
	if len(ids) == 0 {
		for _, info := range available {
			if !info.Explicit {
				chosen = append(chosen, info)
			}
		}
	} else {
		seen := map[module.ID]bool{}
		for _, raw := range ids {
			id := module.ID(strings.ToLower(strings.TrimSpace(raw)))
			info, ok := byID[id]
			if !ok {
				return nil, fmt.Errorf("unknown module %q (valid: %s)", raw, strings.Join(valid, ", "))
			}
			if seen[id] {
				return nil, fmt.Errorf("module %q listed twice", raw)
			}
			seen[id] = true
			chosen = append(chosen, info)
		}
	}
	return order(chosen)
}

// order sorts modules topologically by Calls among themselves, keeping the
// given order where the graph allows (so the result is deterministic).
func order(mods []module.Info) ([]module.Info, error) {
	index := map[module.ID]int{}
	for i, m := range mods {
		index[m.ID] = i
	}
	const (
		unvisited = iota
		visiting
		done
	)
	state := make([]int, len(mods))
	var out []module.Info
	var visit func(i int, path []module.ID) error
	visit = func(i int, path []module.ID) error {
		switch state[i] {
		case done:
			return nil
		case visiting:
			cycle := append(slices.Clone(path), mods[i].ID)
			names := make([]string, len(cycle))
			for k, id := range cycle {
				names[k] = string(id)
			}
			return fmt.Errorf("modules call each other in a cycle: %s", strings.Join(names, " -> "))
		}
		state[i] = visiting
		for _, dep := range mods[i].Calls {
			if j, ok := index[dep]; ok {
				if err := visit(j, append(path, mods[i].ID)); err != nil {
					return err
				}
			}
		}
		state[i] = done
		out = append(out, mods[i])
		return nil
	}
	for i := range mods {
		if err := visit(i, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}
