package engine

import "github.com/mnist-tui/mnist-tui/engine/gemm"

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
	cell  string
	gh    int       // G*H, the width of a gate row
	gates []float32 // T*B*GH: the activated gates of every step
	aux   []float32 // T*B*H: LSTM cell states c_t; GRU W_hn h_{t-1} + b_hn
	dx    []float32 // T*B*GH: gradients at the input-side pre-activations
	dhid  []float32 // GRU: T*B*GH gradients at the hidden-side pre-activations
	dc    []float32 // LSTM: B*H cell-state gradient of the backward recurrence
	hp    []float32 // GRU: B*GH hidden projection of one step
}

// newGatedBufs returns the buffers of c's cell for d, or nil for the RNN.
func newGatedBufs(c Config, d dims) *gatedBufs {
	if c.Cell != "lstm" && c.Cell != "gru" {
		return nil
	}
	gh := c.gates() * d.H
	s := &gatedBufs{
		cell:  c.Cell,
		gh:    gh,
		gates: make([]float32, d.T*d.B*gh),
		aux:   make([]float32, d.T*d.B*d.H),
		dx:    make([]float32, d.T*d.B*gh),
	}
	if c.Cell == "lstm" {
		s.dc = make([]float32, d.B*d.H)
	} else {
		s.dhid = make([]float32, d.T*d.B*gh)
		s.hp = make([]float32, d.B*gh)
	}
	return s
}

// forward runs the layer over x and writes every hidden state into hs.
func (s *gatedBufs) forward(d dims, workers int, x, wih, whh, bih, bhh, hs []float32) {
	if s.cell == "lstm" {
		lstmForward(d, workers, x, wih, whh, bih, bhh, s.gates, s.aux, hs)
	} else {
		gruForward(d, workers, x, wih, whh, bih, bhh, s.gates, s.aux, s.hp, hs)
	}
}

// backward back-propagates dLast (B x H, the loss gradient at the last
// hidden state) through the steps saved by the last forward, using dh (B x H)
// as scratch, and overwrites the weight and bias gradients.
func (s *gatedBufs) backward(d dims, workers int, x, whh, hs, dLast, dh, gWih, gWhh, gBih, gBhh []float32) {
	if s.cell == "lstm" {
		lstmBackward(d, workers, whh, s.gates, s.aux, dLast, s.dx, dh, s.dc)
		gatedWeightGrads(d, workers, s.gh, x, hs, s.dx, s.dx, gWih, gWhh, gBih, gBhh)
	} else {
		gruBackward(d, workers, whh, s.gates, s.aux, hs, dLast, s.dx, s.dhid, dh)
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
				for j := range row {
					row[j] += b1[j]
				}
				continue
			}
			for j := range row {
				row[j] += b1[j] + b2[j]
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
		colSum(dhs, gh, rows, gBhh[r0:r1], r0)
	})
}

// colSum writes into acc the sums over rows of columns [c0, c0+len(acc)) of
// the rows x ld matrix m.
func colSum(m []float32, ld, rows int, acc []float32, c0 int) {
	clear(acc)
	for r := 0; r < rows; r++ {
		row := m[r*ld+c0 : r*ld+c0+len(acc)]
		for j, v := range row {
			acc[j] += v
		}
	}
}

// sigmoid32 is the logistic function through tanh32 (sigma(x) =
// (1 + tanh(x/2))/2), accurate to a few float32 ulps in absolute terms.
func sigmoid32(x float32) float32 {
	return 0.5 + 0.5*tanh32(0.5*x)
}

// hiddenStates runs the recurrent layer of c with the weights p over one
// input sequence batch (d.B digits, time-major) on the calling goroutine and
// returns every hidden state, T*B x H. It allocates its buffers; it is for
// one-off passes such as Model.Trace.
func hiddenStates(c Config, d dims, p *Params, x []float32) []float32 {
	hs := make([]float32, d.T*d.B*d.H)
	if g := newGatedBufs(c, d); g != nil {
		g.forward(d, 1, x, p.Wih, p.Whh, p.Bih, p.Bhh, hs)
	} else {
		rnnForward(d, 1, x, p.Wih, p.Whh, p.Bih, p.Bhh, hs)
	}
	return hs
}
