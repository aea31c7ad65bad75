package peak

import (
	"runtime"
	"time"
)

// ISA names a vector instruction set the loop can use.
type ISA int

const (
	// Best is the widest instruction set the CPU supports.
	Best ISA = iota
	// AVX2 is 256-bit AVX2 with FMA3 (amd64).
	AVX2
	// AVX512 is 512-bit AVX-512F (amd64).
	AVX512
)

// String returns the instruction set's name.
func (i ISA) String() string {
	switch i {
	case AVX2:
		return "avx2"
	case AVX512:
		return "avx512"
	}
	return "best"
}

// Available reports whether isa can run here.
func Available(isa ISA) bool { return flopsPerIter(resolve(isa)) > 0 }

// PerCore measures the float32 peak of one core in GFLOP/s (an FMA counted
// as two operations) with isa, running the loop on the calling goroutine
// (locked to its thread) for about d of CPU time. It returns 0 when isa
// cannot run here.
func PerCore(isa ISA, d time.Duration) float64 {
	isa = resolve(isa)
	per := flopsPerIter(isa)
	if per == 0 {
		return 0
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const chunk = 1 << 16
	fma(isa, chunk) // warm up: wake the wide units
	best := 0.0
	for round := 0; round < 5; round++ {
		c0 := ThreadCPU()
		w0 := time.Now()
		iters := 0
		for time.Since(w0) < d/5 {
			fma(isa, chunk)
			iters += chunk
		}
		el := time.Duration(ThreadCPU() - c0)
		if el <= 0 {
			el = time.Since(w0)
		}
		if g := float64(iters) * float64(per) / el.Seconds() / 1e9; g > best {
			best = g
		}
	}
	return best
}

func resolve(isa ISA) ISA {
	if isa != Best {
		return isa
	}
	if flopsPerIter(AVX512) > 0 {
		return AVX512
	}
	return AVX2
}

// StealShare returns the share of the machine's CPU time between two
// CPUTicks readings that the hypervisor gave to other guests (0 to 1),
// or -1 when nothing was counted. On a shared host a benchmark's wall-clock
// figures drop by about that share and move with it.
func StealShare(steal0, total0, steal1, total1 uint64) float64 {
	if total1 <= total0 || steal1 < steal0 {
		return -1
	}
	return float64(steal1-steal0) / float64(total1-total0)
}
