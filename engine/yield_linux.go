package engine

import "syscall"

// osYield gives the thread's CPU to any other thread waiting for it
// (sched_yield), returning at once when none is: a spinning worker must
// not hold a CPU that the thread it waits for, or the one gorgonia's
// machine hands the graph to, needs.
func osYield() { syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0) }
