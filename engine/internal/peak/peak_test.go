package peak

import (
	"runtime"
	"testing"
	"time"
)

// BenchmarkFMAPeak reports one core's float32 FMA peak for every
// instruction set available here (GFLOP/s per CPU-second of the thread).
func BenchmarkFMAPeak(b *testing.B) {
	for _, isa := range []ISA{AVX2, AVX512} {
		b.Run(isa.String(), func(b *testing.B) {
			if !Available(isa) {
				b.Skipf("%v not available here", isa)
			}
			var g float64
			for i := 0; i < b.N; i++ {
				g = PerCore(isa, 100*time.Millisecond)
			}
			b.ReportMetric(g, "GFLOP/s")
		})
	}
}

func TestPerCore(t *testing.T) {
	if !Available(Best) {
		if PerCore(Best, time.Millisecond) != 0 {
			t.Fatal("PerCore without assembly is not 0")
		}
		t.Skip("no FMA loop in this build")
	}
	// A loose sanity floor: any AVX2 core does over 4 GFLOP/s.
	if g := PerCore(Best, 20*time.Millisecond); g < 4 {
		t.Fatalf("PerCore = %.1f GFLOP/s", g)
	}
}

func TestCPUTicks(t *testing.T) {
	s0, t0, ok := CPUTicks()
	if !ok {
		if runtime.GOOS == "linux" {
			t.Fatal("CPUTicks cannot read /proc/stat on Linux")
		}
		t.Skip("no CPU counters on " + runtime.GOOS)
	}
	time.Sleep(30 * time.Millisecond) // a clock tick is at most 10 ms
	s1, t1, ok := CPUTicks()
	if !ok || t1 <= t0 || s1 < s0 || s1-s0 > t1-t0 {
		t.Fatalf("CPUTicks: steal %d -> %d, total %d -> %d, ok %v", s0, s1, t0, t1, ok)
	}
	if f := StealShare(s0, t0, s1, t1); f < 0 || f > 1 {
		t.Fatalf("StealShare = %v", f)
	}
	if f := StealShare(1, 100, 3, 200); f != 0.02 {
		t.Fatalf("StealShare(1, 100, 3, 200) = %v, want 0.02", f)
	}
	if f := StealShare(0, 100, 0, 100); f != -1 {
		t.Fatalf("StealShare of no time = %v, want -1", f)
	}
}
