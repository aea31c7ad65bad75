package gemm

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/mnist-tui/mnist-tui/engine/internal/peak"
)

// BenchmarkBatch runs every matrix product of one training step of the
// notebook RNN (batch 64, 28 steps, 28 inputs, 128 hidden, 10 classes) on one
// goroutine, and reports samples/s as if the products were all the work: an
// upper bound for the engine. "gemm" packs Whh once per pass (PackB) as the
// engine does; "gonum" is gonum's Sgemm for every product.
func BenchmarkBatch(b *testing.B) {
	const B, T, I, H, C = 64, 28, 28, 128, 10
	rng := rand.New(rand.NewPCG(31, 32))
	x := randSlice(rng, T*B*I)
	wih, whh, wfc := randSlice(rng, H*I), randSlice(rng, H*H), randSlice(rng, C*H)
	hs, dz := randSlice(rng, T*B*H), randSlice(rng, T*B*H)
	gWih, gWhh, gWfc := make([]float32, H*I), make([]float32, H*H), make([]float32, C*H)
	logits, dlog, dh := make([]float32, B*C), randSlice(rng, B*C), make([]float32, B*H)
	flops := 2.0 * (T*B*H*I + (T-1)*B*H*H + B*C*H + // forward
		B*H*C + C*H*B + // head backward
		(T-1)*B*H*H + H*H*(T-1)*B + H*I*T*B) // recurrence backward, weight gradients

	run := func(b *testing.B, step func()) {
		b.ReportAllocs()
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		step()
		c0 := peak.ThreadCPU()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			step()
		}
		b.StopTimer()
		c1 := peak.ThreadCPU()
		b.ReportMetric(float64(B*b.N)/b.Elapsed().Seconds(), "samples/s")
		b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		if c0 >= 0 && c1 > c0 {
			b.ReportMetric(float64(B*b.N)/(float64(c1-c0)/1e9), "cpu-samples/s")
		}
	}

	b.Run("gemm", func(b *testing.B) {
		var whhT, whhN PackedB
		run(b, func() {
			Sgemm(false, true, T*B, H, I, 1, x, I, wih, I, 0, hs, H)
			PackB(true, H, H, whh, H, &whhT)
			for t := 1; t < T; t++ {
				SgemmPacked(false, B, 1, hs[(t-1)*B*H:], H, &whhT, 1, hs[t*B*H:], H)
			}
			Sgemm(false, true, B, C, H, 1, hs[(T-1)*B*H:], H, wfc, H, 0, logits, C)
			Sgemm(false, false, B, H, C, 1, dlog, C, wfc, H, 0, dh, H)
			Sgemm(true, false, C, H, B, 1, dlog, C, hs[(T-1)*B*H:], H, 0, gWfc, H)
			PackB(false, H, H, whh, H, &whhN)
			for t := T - 1; t > 0; t-- {
				SgemmPacked(false, B, 1, dz[t*B*H:], H, &whhN, 0, dh, H)
			}
			Sgemm(true, false, H, H, (T-1)*B, 1, dz[B*H:], H, hs, H, 0, gWhh, H)
			Sgemm(true, false, H, I, T*B, 1, dz, H, x, I, 0, gWih, I)
		})
	})
	b.Run("gonum", func(b *testing.B) {
		var g gonum.Implementation
		N, Tr := blas.NoTrans, blas.Trans
		run(b, func() {
			g.Sgemm(N, Tr, T*B, H, I, 1, x, I, wih, I, 0, hs, H)
			for t := 1; t < T; t++ {
				g.Sgemm(N, Tr, B, H, H, 1, hs[(t-1)*B*H:], H, whh, H, 1, hs[t*B*H:], H)
			}
			g.Sgemm(N, Tr, B, C, H, 1, hs[(T-1)*B*H:], H, wfc, H, 0, logits, C)
			g.Sgemm(N, N, B, H, C, 1, dlog, C, wfc, H, 0, dh, H)
			g.Sgemm(Tr, N, C, H, B, 1, dlog, C, hs[(T-1)*B*H:], H, 0, gWfc, H)
			for t := T - 1; t > 0; t-- {
				g.Sgemm(N, N, B, H, H, 1, dz[t*B*H:], H, whh, H, 0, dh, H)
			}
			g.Sgemm(Tr, N, H, H, (T-1)*B, 1, dz[B*H:], H, hs, H, 0, gWhh, H)
			g.Sgemm(Tr, N, H, I, T*B, 1, dz, H, x, I, 0, gWih, I)
		})
	})
}
