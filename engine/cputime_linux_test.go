package engine

import "syscall"

// processCPU returns the CPU time (user+system, ns) the process has used so
// far, or -1 if unknown: benchmarks on a machine shared with other jobs
// report figures per CPU-second as well as per wall-second.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
