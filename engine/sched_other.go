//go:build !linux

package engine

// osYield is a no-op where sched_yield is not at hand: spinning is bounded
// anyway (see spin).
func osYield() {}

// currentCPU returns -1: which CPU a thread runs on is read on Linux only.
func currentCPU() int { return -1 }

// leaveCPU does nothing: threads are moved between CPUs on Linux only.
func leaveCPU(int) bool { return true }
