package engine

import (
	"github.com/mnist-tui/mnist-tui/engine/internal/gemm"
	"github.com/mnist-tui/mnist-tui/engine/internal/vecf32"
)

// weights are the recurrent layer's weights as its products read them,
// prepared from Params before a pass: the matrices packed for the GEMM
// kernels (Wih^T and Whh^T for the forward steps, Whh for the backward
// ones) and the biases the gate kernels add (the RNN's input projection
// starts from its bias).
//
// A training pass prepares them anew (its forward pass follows an
// optimizer step): each worker the share of the packed panels its part
// of PackBPart holds, so preparing runs on both cores. An evaluator
// prepares them once for a whole pass over a set (the weights do not
// change between its batches) and marks them fresh for its length.
type weights struct {
	cell  Cell
	d     dims // I and H
	gh    int
	train bool // also whhN, for the backward pass

	bias, bhn        []float32 // bih+bhh (the GRU's n block: bih alone); the GRU's b_hn
	wihT, whhT, whhN gemm.PackedB

	// fresh says the weights were prepared for the pass under way, by the
	// evaluator running it: its forward passes skip preparing them.
	fresh bool
}

func newWeights(c Config, d dims, train bool) *weights {
	gh := c.gates() * d.H
	w := &weights{cell: c.Cell, d: d, gh: gh, train: train, bias: make([]float32, gh)}
	if c.Cell == GRU {
		w.bhn = make([]float32, d.H)
	}
	gemm.PackBInit(d.I, gh, &w.wihT)
	gemm.PackBInit(d.H, gh, &w.whhT)
	if train {
		gemm.PackBInit(gh, d.H, &w.whhN)
	}
	return w
}

// preparePart prepares share part of parts from the cell's weights: the
// gate rows (and bias elements) [j0, j1) that its panels of Wih^T and
// Whh^T hold, and its panels of Whh. The shares write disjoint memory.
func (w *weights) preparePart(part, parts int, wih, whh, bih, bhh []float32) {
	I, H := w.d.I, w.d.H
	j0, j1 := w.whhT.PartCols(part, parts)
	if w.train {
		// Whh itself, for the backward pass's dz Whh.
		gemm.PackBPart(false, whh, H, &w.whhN, part, parts)
	}
	// Both sides' biases summed, but for the GRU's n gate, which keeps
	// them apart (b_hn is inside r*(...)).
	k := j1
	if w.cell == GRU {
		k = max(j0, min(j1, 2*H))
		copy(w.bias[k:j1], bih[k:j1])
		if k < j1 {
			copy(w.bhn[k-2*H:j1-2*H], bhh[k:j1])
		}
	}
	vecf32.AddTo(w.bias[j0:k], bih[j0:k], bhh[j0:k])
	gemm.PackBPart(true, wih, I, &w.wihT, part, parts)
	gemm.PackBPart(true, whh, H, &w.whhT, part, parts)
}

// prepare prepares all of the weights on the calling goroutine.
func (w *weights) prepare(p *Params) { w.preparePart(0, 1, p.Wih, p.Whh, p.Bih, p.Bhh) }
