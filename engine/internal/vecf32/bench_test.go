package vecf32

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/mnist-tui/mnist-tui/engine/internal/peak"
)

// Benchmark sizes: one batch forward of the default model (28 steps x 64
// digits x 128 hidden units) and one time step (64 x 128).
var benchSizes = []int{28 * 64 * 128, 64 * 128}

func benchData(n int) (x, y, z []float32) {
	r := rand.New(rand.NewPCG(3, 4))
	x, y, z = make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = 4 * (2*r.Float32() - 1)
		y[i] = 2*r.Float32() - 1
		z[i] = 2*r.Float32() - 1
	}
	return x, y, z
}

// benchEach runs body for the plain scalar loop (the engine's code before
// this package), then every kernel available here, reporting ns/elem from
// wall time and cpu-ns/elem from the thread's CPU time, which stays
// meaningful when other jobs share the cores.
func benchEach(b *testing.B, scalar func(x, y, z []float32), body func(f funcs, x, y, z []float32)) {
	for _, n := range benchSizes {
		x, y, z := benchData(n)
		run := func(name string, fn func()) {
			b.Run(fmt.Sprintf("%s/n=%d", name, n), func(b *testing.B) {
				b.SetBytes(int64(4 * n))
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				fn()
				c0 := peak.ThreadCPU()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					fn()
				}
				b.StopTimer()
				c1 := peak.ThreadCPU()
				elems := float64(b.N) * float64(n)
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/elems, "ns/elem")
				if c0 >= 0 && c1 > c0 {
					b.ReportMetric(float64(c1-c0)/elems, "cpu-ns/elem")
				}
			})
		}
		run("scalar", func() { scalar(x, y, z) })
		for _, f := range allFuncs(b) {
			run(f.Kernel().String(), func() { body(f, x, y, z) })
		}
	}
}

func BenchmarkTanh(b *testing.B) {
	benchEach(b, func(x, y, _ []float32) {
		for i, v := range x {
			y[i] = Tanh32(v)
		}
	}, func(f funcs, x, y, _ []float32) { f.Tanh(y, x) })
}

func BenchmarkTanhGrad(b *testing.B) {
	benchEach(b, func(x, y, z []float32) {
		for i, v := range z {
			x[i] = y[i] * (1 - v*v)
		}
	}, func(f funcs, x, y, z []float32) { f.TanhGrad(x, y, z) })
}

func BenchmarkAdd(b *testing.B) {
	benchEach(b, func(x, y, _ []float32) {
		for i, v := range y {
			x[i] += v
		}
	}, func(f funcs, x, y, _ []float32) { f.Add(x, y) })
}

func BenchmarkAddTo(b *testing.B) {
	benchEach(b, func(x, y, z []float32) {
		for j := range x {
			x[j] = y[j] + z[j]
		}
	}, func(f funcs, x, y, z []float32) { f.AddTo(x, y, z) })
}

// BenchmarkGateCells runs the LSTM and GRU gate kernels (the best this
// machine has) as the engine calls them: on a step of 64 digits, 128
// hidden units, the gates side by side in each row. It reports ns/unit,
// per hidden unit of a row, beside Tanh's ns/elem over the same 64x128 (an
// LSTM unit does five tanh, a GRU unit three).
func BenchmarkGateCells(b *testing.B) {
	const H, n = 128, 64
	x, y, z := benchData(n * 4 * H)
	run := func(name string, f func()) {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				f()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n*H), "ns/unit")
		})
	}
	one := func(s []float32, k int) []float32 { return s[k*n*H : (k+1)*n*H] }
	// The gradient kernels update dc and dh in place; both are put back
	// before every call (a 32 KB copy), or thousands of calls in a row
	// would take them to denormal numbers and time the slow path those
	// take (the GRU's ten times slower).
	carried := slices.Clone(one(z, 0))
	run("lstm", func() { LSTMCell(H, x, y[3*n*H:3*n*H+4*H], one(y, 0), one(y, 1), one(z, 0), one(z, 1)) })
	run("lstm-grad", func() {
		copy(one(z, 0), carried)
		LSTMCellGrad(H, y, one(z, 0), x, one(z, 1), one(z, 2), one(z, 3))
	})
	run("gru", func() { GRUCell(H, x[:3*n*H], y[:3*n*H], x[3*n*H:3*n*H+3*H], y[3*n*H:3*n*H+H], one(z, 0), one(z, 1)) })
	run("gru-grad", func() {
		copy(one(z, 1), carried)
		GRUCellGrad(H, y[:3*n*H], one(z, 0), one(z, 1), x[:3*n*H], one(z, 2), one(y, 3))
	})
	run("tanh", func() { Tanh(one(z, 0), one(x, 0)) })
}
