//go:build linux

package peak

import "syscall"

// ThreadCPU returns the calling thread's CPU time (user and system) in
// nanoseconds, or -1 if it cannot be read. Lock the goroutine to its thread
// around the measured code.
func ThreadCPU() int64 { return rusage(1) } // RUSAGE_THREAD

// ProcessCPU returns the process's CPU time (user and system, all threads)
// in nanoseconds, or -1 if it cannot be read.
func ProcessCPU() int64 { return rusage(syscall.RUSAGE_SELF) }

func rusage(who int) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
