//go:build !linux

package peak

// CPUTicks reports ok false: the counters are read on Linux only.
func CPUTicks() (steal, total uint64, ok bool) { return 0, 0, false }
