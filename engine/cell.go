package engine

import (
	"github.com/mnist-tui/mnist-tui/engine/gemm"
	"github.com/mnist-tui/mnist-tui/engine/vecf32"
)

// The gated cells (LSTM in cell_lstm.go, GRU in cell_gru.go) share the
// plain RNN's plan: the input projection of every step is one GEMM over all
// T*B rows, each step does one B x GH x H GEMM for the recurrent projection
// and then a fused element-wise pass over the gates, and the weight
// gradients are single large GEMMs over all steps after backpropagation
// through time. Rows are time-major (row t*B+b is step t of digit b), a gate
// row holds the G blocks of H in PyTorch's order, and the batch is split
// between workers by digit, so no step needs a lock.

// gatedBufs are the saved state and scratch of an LSTM or GRU layer for one
// batch size, allocated once.
type gatedBufs struct {
	cell  Cell
	gh    int       // G*H, the width of a gate row
	gates []float32 // T*B*GH: the activated gates of every step
	aux   []float32 // T*B*H: LSTM cell states c_t; GRU W_hn h_{t-1} + b_hn
	tc    []float32 // LSTM: T*B*H tanh(c_t)
	dx    []float32 // T*B*GH: gradients at the input-side pre-activations
	dhid  []float32 // GRU: T*B*GH gradients at the hidden-side pre-activations
	dc    []float32 // LSTM: B*H cell-state gradient of the backward recurrence
	hp    []float32 // GRU: B*GH hidden projection of one step

	// whhT is Whh^T packed for the forward steps, whh is Whh packed for the
	// backward ones; each is packed once per pass.
	whhT, whh gemm.PackedB
	// wih, whhS, bih and bhh are copies of the weights with the rows of the
	// sigmoid gates halved (exactly, a power of two), so that the products
	// come out as the x/2 that sigma(x) = (1 + tanh(x/2))/2 takes.
	wih, whhS, bih, bhh []float32
}

// newGatedBufs returns the buffers of c's cell for d, or nil for the RNN.
func newGatedBufs(c Config, d dims) *gatedBufs {
	if c.Cell != LSTM && c.Cell != GRU {
		return nil
	}
	gh := c.gates() * d.H
	s := &gatedBufs{
		cell:  c.Cell,
		gh:    gh,
		gates: make([]float32, d.T*d.B*gh),
		aux:   make([]float32, d.T*d.B*d.H),
		dx:    make([]float32, d.T*d.B*gh),
		wih:   make([]float32, gh*d.I),
		whhS:  make([]float32, gh*d.H),
		bih:   make([]float32, gh),
		bhh:   make([]float32, gh),
	}
	if c.Cell == LSTM {
		s.dc = make([]float32, d.B*d.H)
		s.tc = make([]float32, d.T*d.B*d.H)
	} else {
		s.dhid = make([]float32, d.T*d.B*gh)
		s.hp = make([]float32, d.B*gh)
	}
	return s
}

// forward runs the layer over x and writes every hidden state into hs.
func (s *gatedBufs) forward(d dims, workers int, x, wih, whh, bih, bhh, hs []float32) {
	// The sigmoid gates: LSTM i, f, o (blocks 0, 1, 3); GRU r, z (0, 1).
	sig := func(k int) bool { return k != 2 }
	halveRows(s.wih, wih, d.H*d.I, sig)
	halveRows(s.whhS, whh, d.H*d.H, sig)
	halveRows(s.bih, bih, d.H, sig)
	halveRows(s.bhh, bhh, d.H, sig)
	gemm.PackB(true, d.H, s.gh, s.whhS, d.H, &s.whhT)
	if s.cell == LSTM {
		lstmForward(d, workers, x, s.wih, &s.whhT, s.bih, s.bhh, s.gates, s.aux, s.tc, hs)
	} else {
		gruForward(d, workers, x, s.wih, &s.whhT, s.bih, s.bhh, s.gates, s.aux, s.hp, hs)
	}
}

// backward back-propagates dLast (B x H, the loss gradient at the last
// hidden state) through the steps saved by the last forward, using dh (B x H)
// as scratch, and overwrites the weight and bias gradients.
func (s *gatedBufs) backward(d dims, workers int, x, whh, hs, dLast, dh, gWih, gWhh, gBih, gBhh []float32) {
	gemm.PackB(false, s.gh, d.H, whh, d.H, &s.whh)
	if s.cell == LSTM {
		lstmBackward(d, workers, &s.whh, s.gates, s.aux, s.tc, dLast, s.dx, dh, s.dc)
		gatedWeightGrads(d, workers, s.gh, x, hs, s.dx, s.dx, gWih, gWhh, gBih, gBhh)
	} else {
		gruBackward(d, workers, &s.whh, s.gates, s.aux, hs, dLast, s.dx, s.dhid, dh)
		gatedWeightGrads(d, workers, s.gh, x, hs, s.dx, s.dhid, gWih, gWhh, gBih, gBhh)
	}
}

// inputProjection writes x W^T + b1 (+ b2 if not nil) for all T*B rows into
// out (T*B x gh), split between workers by rows.
func inputProjection(d dims, workers, gh int, x, w, b1, b2, out []float32) {
	split(d.T*d.B, workers, func(lo, hi int) {
		gemm.Sgemm(false, true, hi-lo, gh, d.I, 1, x[lo*d.I:], d.I, w, d.I, 0, out[lo*gh:], gh)
		for r := lo; r < hi; r++ {
			row := out[r*gh : (r+1)*gh]
			if b2 == nil {
				vecf32.AddTo(row, b1)
			} else {
				vecf32.Add3To(row, b1, b2)
			}
		}
	})
}

// gatedWeightGrads overwrites the weight and bias gradients from the
// pre-activation gradients of every step: dxs on the input side (for Wih,
// bih) and dhs on the hidden side (for Whh, bhh), both T*B x gh; they are
// the same buffer for the LSTM, whose two projections are simply summed.
//
//	gWih = dxs^T X,  gWhh = dhs[B:]^T H[:-B],  gBih = colsum dxs,  gBhh = colsum dhs
//
// (the first step's hidden-side gradient meets h_{-1} = 0, so it reaches
// bhh only). The gate rows are split between workers.
func gatedWeightGrads(d dims, workers, gh int, x, hs, dxs, dhs, gWih, gWhh, gBih, gBhh []float32) {
	rows := d.T * d.B
	split(gh, workers, func(r0, r1 int) {
		m := r1 - r0
		if rows > d.B {
			gemm.Sgemm(true, false, m, d.H, rows-d.B, 1, dhs[d.B*gh+r0:], gh, hs, d.H, 0, gWhh[r0*d.H:], d.H)
		} else {
			clear(gWhh[r0*d.H : r1*d.H])
		}
		gemm.Sgemm(true, false, m, d.I, rows, 1, dxs[r0:], gh, x, d.I, 0, gWih[r0*d.I:], d.I)
		colSum(dxs, gh, rows, gBih[r0:r1], r0)
		if &dhs[0] == &dxs[0] {
			copy(gBhh[r0:r1], gBih[r0:r1])
		} else {
			colSum(dhs, gh, rows, gBhh[r0:r1], r0)
		}
	})
}

// colSum writes into acc the sums over rows of columns [c0, c0+len(acc)) of
// the rows x ld matrix m.
func colSum(m []float32, ld, rows int, acc []float32, c0 int) {
	clear(acc)
	for r := 0; r < rows; r++ {
		vecf32.AddTo(acc, m[r*ld+c0:r*ld+c0+len(acc)])
	}
}

// The gates' sigmoids go through tanh, sigma(x) = (1 + tanh(x/2))/2, so
// that every activation of a step is one call of tanhTo over a whole block.
// It is accurate to a few float32 ulps in absolute terms.

// halveRows copies src into dst, block by block of size n, halving the
// blocks k for which sig(k) holds.
func halveRows(dst, src []float32, n int, sig func(k int) bool) {
	for k := 0; k*n < len(src); k++ {
		d, s := dst[k*n:(k+1)*n], src[k*n:(k+1)*n]
		if !sig(k) {
			copy(d, s)
			continue
		}
		for i, v := range s {
			d[i] = 0.5 * v
		}
	}
}

// tanhTo writes tanh(src[i]) into dst[i] with the vectorised tanh32
// (vecf32.Tanh); dst may be src.
func tanhTo(dst, src []float32) { vecf32.Tanh(dst[:len(src)], src) }

// hiddenStates runs the recurrent layer of c with the weights p over one
// input sequence batch (d.B digits, time-major) on the calling goroutine and
// returns every hidden state, T*B x H. It allocates its buffers; it is for
// one-off passes such as Model.Trace.
func hiddenStates(c Config, d dims, p *Params, x []float32) []float32 {
	hs := make([]float32, d.T*d.B*d.H)
	if g := newGatedBufs(c, d); g != nil {
		g.forward(d, 1, x, p.Wih, p.Whh, p.Bih, p.Bhh, hs)
	} else {
		rnnForward(d, 1, x, p.Wih, p.Whh, p.Bih, p.Bhh, hs, nil)
	}
	return hs
}
