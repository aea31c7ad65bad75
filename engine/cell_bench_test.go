package engine

import (
	"math/rand/v2"
	"testing"
)

// benchCell is one training step (forward, backward, Adam) or forward pass
// of cell at the notebook's sizes on a batch of 64.
func benchCell(b *testing.B, cell Cell, train bool) {
	c := DefaultConfig()
	c.Cell = cell
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
	adam := NewAdam(c)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := n.run(); err != nil {
			b.Fatal(err)
		}
		if train {
			adam.Update(p, grads)
		}
	}
	b.ReportMetric(float64(b.N*c.Batch)/b.Elapsed().Seconds(), "samples/s")
}

func BenchmarkCellTrainStep(b *testing.B) {
	for _, cell := range Cells {
		b.Run(cell.String(), func(b *testing.B) { benchCell(b, cell, true) })
	}
}

func BenchmarkCellEvalStep(b *testing.B) {
	for _, cell := range Cells {
		b.Run(cell.String(), func(b *testing.B) { benchCell(b, cell, false) })
	}
}
