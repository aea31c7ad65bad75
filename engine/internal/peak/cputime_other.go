//go:build !linux

package peak

// ThreadCPU returns -1: the thread's CPU time is read on Linux only.
func ThreadCPU() int64 { return -1 }

// ProcessCPU returns -1: the process's CPU time is read on Linux only.
func ProcessCPU() int64 { return -1 }
