package peak

import (
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
