package engine

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// osYield gives the thread's CPU to any other thread waiting for it
// (sched_yield), returning at once when none is: a spinning worker must
// not hold a CPU that the thread it waits for, or the one gorgonia's
// machine hands the graph to, needs.
func osYield() { unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0) }

// currentCPU returns the CPU the calling thread runs on (getcpu), or -1.
func currentCPU() int {
	var cpu uint32
	if _, _, e := unix.RawSyscall(unix.SYS_GETCPU, uintptr(unsafe.Pointer(&cpu)), 0, 0); e != 0 {
		return -1
	}
	return int(cpu)
}

// leaveCPU moves the calling thread, which must be locked to its goroutine,
// off cpu to another CPU the thread may run on, if there is one: it
// narrows the thread's affinity to the others, which makes the kernel
// move it before the call returns, then widens it back, which leaves it
// where it is. It reports false if the affinity could not be widened back:
// the thread must then not run other goroutines (its goroutine exits
// locked, which ends the thread).
func leaveCPU(cpu int) bool {
	var home unix.CPUSet
	if unix.SchedGetaffinity(0, &home) != nil || !home.IsSet(cpu) || home.Count() < 2 {
		return true
	}
	others := home
	others.Clear(cpu)
	if unix.SchedSetaffinity(0, &others) != nil {
		return true
	}
	return unix.SchedSetaffinity(0, &home) == nil
}
