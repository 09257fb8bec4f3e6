// Package all is the one list of ack's built-in modules.
package all

import (
	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/modules/dbclient"
	"github.com/ack-dev/ack/modules/edge"
	"github.com/ack-dev/ack/modules/function"
	"github.com/ack-dev/ack/modules/logger"
	"github.com/ack-dev/ack/modules/repository"
	"github.com/ack-dev/ack/modules/transact"
	"github.com/ack-dev/ack/modules/wwwroot"
)

// Standard returns every built-in module, in the order `ack` lists them. The
// default selection leaves out Explicit ones (edge).
func Standard() []module.Info {
	return []module.Info{
		wwwroot.Info(),
		transact.Info(),
		dbclient.Info(),
		function.Info(),
		repository.Info(),
		logger.Info(),
		edge.Info(),
	}
}
