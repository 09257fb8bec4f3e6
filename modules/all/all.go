// Package all is the one list of ack's built-in modules.
package all

import (
	"github.com/ack-dev/ack/internal/module"
)

// Standard returns every built-in module, in the order `ack` lists them.
func Standard() []module.Info {
	return []module.Info{}
}
