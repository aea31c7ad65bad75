package gemm

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/viterin/vek/vek32"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/mnist-tui/mnist-tui/engine/internal/peak"
)

// benchShape is one of the engine's hot products.
type benchShape struct {
	name    string
	tA, tB  bool
	m, n, k int
	beta    float32
}

var benchShapes = []benchShape{
	{"inproj_1792x128x28_NT", false, true, 1792, 128, 28, 0},
	{"recur_64x128x128_NT", false, true, 64, 128, 128, 1},
	{"backh_64x128x128_NN", false, false, 64, 128, 128, 0},
	{"dWhh_128x128x1792_TN", true, false, 128, 128, 1792, 1},
	{"dWih_128x28x1792_TN", true, false, 128, 28, 1792, 0},
	{"dWhh_512x128x1728_TN", true, false, 512, 128, 1728, 0}, // the LSTM's
	{"dWih_512x28x1792_TN", true, false, 512, 28, 1792, 0},
	{"fc_64x10x128_NT", false, true, 64, 10, 128, 0},
	{"recur_32x128x128_NT", false, true, 32, 128, 128, 1}, // one of two workers' share of a step
	{"recur_16x128x128_NT", false, true, 16, 128, 128, 1},
	{"recur_64x512x128_NT", false, true, 64, 512, 128, 1},  // the LSTM's step
	{"backh_64x128x512_NN", false, false, 64, 128, 512, 0}, // the LSTM's step back
	{"inproj_1792x512x28_NT", false, true, 1792, 512, 28, 1},
	{"square_256x256x256_NN", false, false, 256, 256, 256, 0},
}

type benchData struct {
	a, b, c       []float32
	lda, ldb, ldc int
	// aN (m x k) and bN (k x n) are op(A) and op(B) stored plainly, for vek.
	aN, bN []float32
}

func newBenchData(s benchShape) benchData {
	rng := rand.New(rand.NewPCG(11, 12))
	d := benchData{ldc: s.n}
	if s.tA {
		d.a, d.lda = randSlice(rng, s.k*s.m), s.m
	} else {
		d.a, d.lda = randSlice(rng, s.m*s.k), s.k
	}
	if s.tB {
		d.b, d.ldb = randSlice(rng, s.n*s.k), s.k
	} else {
		d.b, d.ldb = randSlice(rng, s.k*s.n), s.n
	}
	d.c = randSlice(rng, s.m*s.n)
	d.aN = make([]float32, s.m*s.k)
	d.bN = make([]float32, s.k*s.n)
	for i := 0; i < s.m; i++ {
		for p := 0; p < s.k; p++ {
			if s.tA {
				d.aN[i*s.k+p] = d.a[p*s.m+i]
			} else {
				d.aN[i*s.k+p] = d.a[i*s.k+p]
			}
		}
	}
	for p := 0; p < s.k; p++ {
		for j := 0; j < s.n; j++ {
			if s.tB {
				d.bN[p*s.n+j] = d.b[j*s.k+p]
			} else {
				d.bN[p*s.n+j] = d.b[p*s.n+j]
			}
		}
	}
	return d
}

// benchLoop runs f b.N times and reports GFLOP/s from wall time and, when
// serial (all work on this goroutine), "cpuGFLOP/s" from the thread's CPU time, which stays
// meaningful when other jobs share the cores.
func benchLoop(b *testing.B, s benchShape, serial bool, f func()) {
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	f()
	c0 := peak.ThreadCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f()
	}
	b.StopTimer()
	c1 := peak.ThreadCPU()
	flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if serial && c0 >= 0 && c1 > c0 {
		b.ReportMetric(flops/float64(c1-c0), "cpuGFLOP/s")
	}
}

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// BenchmarkSgemm compares, per shape, this package's kernels, gonum's Sgemm and vek's MatMul_Into (vek gets pre-transposed
// operands for free, and parallelises internally).
func BenchmarkSgemm(b *testing.B) {
	for _, s := range benchShapes {
		d := newBenchData(s)
		for _, ctx := range allKernels(b) {
			b.Run(s.name+"/"+ctx.Kernel().String(), func(b *testing.B) {
				benchLoop(b, s, true, func() {
					ctx.Sgemm(s.tA, s.tB, s.m, s.n, s.k, 1, d.a, d.lda, d.b, d.ldb, s.beta, d.c, d.ldc)
				})
			})
		}
		b.Run(s.name+"/packedB", func(b *testing.B) {
			var pb PackedB
			PackB(s.tB, s.k, s.n, d.b, d.ldb, &pb)
			benchLoop(b, s, true, func() {
				SgemmPacked(s.tA, s.m, 1, d.a, d.lda, &pb, s.beta, d.c, d.ldc)
			})
		})
		b.Run(s.name+"/gonum", func(b *testing.B) {
			var impl gonum.Implementation
			// gonum goes parallel on its own for m, n >= 128: no CPU metric.
			benchLoop(b, s, s.m < 128 && s.n < 128, func() {
				impl.Sgemm(trans(s.tA), trans(s.tB), s.m, s.n, s.k, 1, d.a, d.lda, d.b, d.ldb, s.beta, d.c, d.ldc)
			})
		})
		b.Run(s.name+"/vek", func(b *testing.B) {
			benchLoop(b, s, false, func() {
				vek32.MatMul_Into(d.c, d.aN, d.bN, s.k)
			})
		})
	}
}
