//go:build !linux

package engine

// MachineMemory returns 0 (unknown) outside Linux: Config.CheckMemory
// then checks nothing.
func MachineMemory() int64 { return 0 }
