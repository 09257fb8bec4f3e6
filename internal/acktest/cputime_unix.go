//go:build unix

package acktest

import (
	"syscall"
	"time"
)

// ProcessCPU is the CPU time (user + system) this process has used. With
// other work on the machine, it measures the cost of a benchmark better than
// wall time does.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
