package vecf32

import "syscall"

// threadCPU returns the CPU time (user+system, ns) used so far by the calling
// OS thread, or -1 if unknown. Benchmarks lock their goroutine to a thread
// and use it to report figures that survive a machine shared with other jobs.
func threadCPU() int64 {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
