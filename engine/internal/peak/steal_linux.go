//go:build linux

package peak

import (
	"bytes"
	"os"
	"strconv"
)

// CPUTicks returns the machine's CPU time counters from /proc/stat's cpu
// line: steal, the time the hypervisor ran other guests on this guest's
// vCPUs, and total, all the time counted (user, nice, system, idle,
// iowait, irq, softirq and steal), both in clock ticks; ok is false if
// they cannot be read. StealShare turns two readings into a share.
func CPUTicks() (steal, total uint64, ok bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 9 || string(f[0]) != "cpu" {
		return 0, 0, false
	}
	for i := 1; i <= 8; i++ {
		v, err := strconv.ParseUint(string(f[i]), 10, 64)
		if err != nil {
			return 0, 0, false
		}
		total += v
		if i == 8 {
			steal = v
		}
	}
	return steal, total, true
}
