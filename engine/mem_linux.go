package engine

import "syscall"

// MachineMemory returns the machine's total memory in bytes (0 when it
// cannot be told), for Config.CheckMemory.
func MachineMemory() int64 {
	var si syscall.Sysinfo_t
	if err := syscall.Sysinfo(&si); err != nil {
		return 0
	}
	return int64(si.Totalram) * int64(si.Unit)
}
