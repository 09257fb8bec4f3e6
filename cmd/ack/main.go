// Command ack is the application server: see README.md.
package main

import (
	"os"

	"github.com/ack-dev/ack/internal/cli"
	"github.com/ack-dev/ack/modules/all"
)

func main() {
	os.Exit(cli.Main(cli.Env{
		Args:    os.Args[1:],
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
		Environ: os.Environ(),
		Modules: all.Standard(),
	}))
}
