package engine

import (
	"math/rand/v2"
	"testing"
)

// benchNet builds a graph of the seed model for batch 64 on random inputs.
func benchNet(b *testing.B, train bool) (*net, *Params, *Params) {
	c := DefaultConfig()
	p := NewParams(c)
	var grads *Params
	if train {
		grads = NewParams(c)
	}
	n, err := newNet(c, c.Batch, workers(), p, grads)
	if err != nil {
		b.Fatal(err)
	}
	p.CopyFrom(InitParams(c))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range n.st.x {
		n.st.x[i] = 2*rng.Float32() - 1
	}
	for i := range n.st.y {
		n.st.y[i] = rng.IntN(10)
	}
	return n, p, grads
}

// BenchmarkTrainStep is one training step of the seed model on a batch of
// 64: forward, backward through time and the Adam update. Compare with
// scripts/bench_torch.py's "train" figure.
func BenchmarkTrainStep(b *testing.B) {
	n, p, g := benchNet(b, true)
	adam := NewAdam(n.st.d.config())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := n.run(); err != nil {
			b.Fatal(err)
		}
		adam.Update(p, g)
	}
	b.ReportMetric(float64(b.N*n.st.d.B)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkEvalStep is one forward pass of the seed model on a batch of 64.
// Compare with scripts/bench_torch.py's "eval" figure.
func BenchmarkEvalStep(b *testing.B) {
	n, _, _ := benchNet(b, false)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := n.run(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n.st.d.B)/b.Elapsed().Seconds(), "samples/s")
}
