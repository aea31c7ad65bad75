package engine

import (
	"math"
	"sync"

	"github.com/mnist-tui/mnist-tui/engine/internal/gemm"
	"github.com/mnist-tui/mnist-tui/engine/internal/vecf32"
)

// The recurrent layer of every cell (the tanh RNN, the LSTM and the GRU) on
// one plan. The RNN is the one-gate case: its gate row is the hidden state
// itself.
//
// The batch is split by digits into parts, one a worker, and each worker
// carries its part through all T steps of the forward pass, back through
// all of them, and through its own weight-gradient products: one hand-off
// per pass (to a helper that stays awake between the passes of a step, see
// relay), no lock, no shared cache line written by two workers. The
// workers' weight gradients are summed once at the end.
//
// Rows are kept in slab order: part p (digits b0..b1, n = b1-b0 of them)
// owns rows [T*b0, T*b1), time-major within the slab (row T*b0 + t*n + i is
// step t of digit b0+i). With one part that is plain time-major order. A
// gate row holds the G blocks of H in PyTorch's order.
//
// Per step: the input projection x_t Wih^T (n x G*H x I) and one product
// h_{t-1} Whh^T (n x G*H x H), both with pre-packed weights, then one fused
// element-wise pass (vecf32's Tanh, LSTMCell or GRUCell). Each weight
// gradient is one product over all the steps. The sigmoid gates go through tanh, sigma(x) = (1+tanh(x/2))/2,
// so their rows of the weights are halved (exactly: a power of two) in the
// layer's copies.

// part is the digits [b0, b1) of a batch that one worker carries.
type part struct{ b0, b1 int }

// layer is the recurrent layer's saved state and scratch for one batch
// size, allocated once.
type layer struct {
	cell  Cell
	d     dims
	gh    int // G*H, the width of a gate row
	parts []part
	relay *relay   // runs part 1 when there are two
	w     *weights // the weights as the products read them

	meet *barrier // where the parts of a pass sync

	xs  []float32 // T*B*I: x in slab order; nil with one part (x is used as is)
	hs  []float32 // T*B*H: hidden states
	pre []float32 // T*B*gh: activated gates (GRU: input side); nil for the RNN
	aux []float32 // LSTM: T*B*H cell states; GRU: T*B*gh hidden-side projections
	tc  []float32 // LSTM: T*B*H tanh(c)
	dz  []float32 // T*B*gh: pre-activation gradients (GRU: hidden side)
	dxn []float32 // GRU: T*B*H gradients at the input side's n block
	dh  []float32 // B*H: dL/dh carried back through the steps (part rows)
	dc  []float32 // LSTM: B*H: dL/dc carried back through the steps
	// zero is H zeros: h_{-1} and c_{-1}.
	zero []float32

	// partial holds the gradients of parts 1.. (part 0 writes the
	// caller's buffers), added into those at the end of the backward pass.
	partial []*Params

	// wantNorms asks the next backward pass for the gradient norms; norms
	// then holds, for every step t, the sum over the batch of |dL/dh_t|
	// (part p's sums at p*T..).
	wantNorms bool
	norms     []float64
}

// newLayer allocates the layer of c for batches of d.B digits split between
// workers; train adds what the backward pass needs. w are the weights its
// products read (shared by an evaluator's layers); nil gives the layer
// weights of its own.
func newLayer(c Config, d dims, workers int, train bool, w *weights) *layer {
	gates := c.gates()
	gh := gates * d.H
	n := d.T * d.B
	if w == nil {
		w = newWeights(c, d, train)
	}
	l := &layer{
		cell: c.Cell, d: d, gh: gh, parts: splitParts(d.B, workers), relay: newRelay(), meet: newBarrier(), w: w,
		hs:   alignedFloats(n * d.H),
		zero: make([]float32, d.H),
	}
	if len(l.parts) > 1 {
		l.xs = alignedFloats(n * d.I)
	}
	switch c.Cell {
	case LSTM:
		l.pre = alignedFloats(n * gh)
		l.aux = alignedFloats(n * d.H)
		l.tc = alignedFloats(n * d.H)
	case GRU:
		l.pre = alignedFloats(n * gh)
		l.aux = alignedFloats(n * gh)
	}
	if !train {
		return l
	}
	l.dz = alignedFloats(n * gh)
	l.dh = alignedFloats(d.B * d.H)
	switch c.Cell {
	case LSTM:
		l.dc = alignedFloats(d.B * d.H)
	case GRU:
		l.dxn = alignedFloats(n * d.H)
	}
	for range l.parts[1:] {
		l.partial = append(l.partial, alignedParams(c))
	}
	l.norms = make([]float64, len(l.parts)*d.T)
	return l
}

// splitParts splits b digits into at most workers parts of nearly equal
// size (none empty).
func splitParts(b, workers int) []part {
	n := max(1, min(workers, b))
	ps := make([]part, n)
	for i := range ps {
		ps[i] = part{b * i / n, b * (i + 1) / n}
	}
	return ps
}

// share returns the elements [lo, hi) of a tensor of n elements that part
// p of parts works on when a pass splits every tensor between the workers
// (the gradients' sum, Adam): nearly equal, each starting on a cache line
// (16 floats) so that no two workers write one line.
func share(n, p, parts int) (lo, hi int) {
	at := func(q int) int {
		if q == parts {
			return n
		}
		return n * q / parts &^ 15
	}
	return at(p), at(p + 1)
}

// each runs f for every part, part 0 on the calling goroutine and the
// others on the relay's helpers, and waits for all. The parts may meet in
// sync.
func (l *layer) each(f func(p int)) {
	l.meet.reset()
	switch len(l.parts) {
	case 1:
		f(0)
	case 2:
		l.relay.run(func() { f(1) }, func() { f(0) })
	default:
		var wg sync.WaitGroup
		wg.Add(len(l.parts) - 1)
		for p := 1; p < len(l.parts); p++ {
			go func() {
				defer wg.Done()
				f(p)
			}()
		}
		f(0)
		wg.Wait()
	}
}

// sync is the n-th barrier of the parts of a pass under each: it returns
// once every part has called sync n times (spinning briefly, then parked:
// see barrier).
func (l *layer) sync(n int) {
	if len(l.parts) == 1 {
		return
	}
	l.meet.await(int32(n * len(l.parts)))
}

// preparePart prepares part p's share of the weights for a pass, unless
// an evaluator prepared them for the pass under way; the parts must sync
// before they use them.
func (l *layer) preparePart(p int, wih, whh, bih, bhh []float32) {
	if !l.w.fresh {
		l.w.preparePart(p, len(l.parts), wih, whh, bih, bhh)
	}
}

// forward runs the layer over x (time-major: row t*B+b is step t of digit
// b) with the weights p, saving what backward needs.
func (l *layer) forward(x []float32, p *Params) {
	l.each(func(q int) {
		l.preparePart(q, p.Wih, p.Whh, p.Bih, p.Bhh)
		l.sync(1)
		l.forwardPart(q, x)
	})
}

// slab returns part p's number of digits and its first row.
func (l *layer) slab(p int) (n, r0 int) {
	pt := l.parts[p]
	return pt.b1 - pt.b0, l.d.T * pt.b0
}

// last returns part p's last hidden states (its digits in batch order).
func (l *layer) last(p int) []float32 {
	n, r0 := l.slab(p)
	r := r0 + (l.d.T-1)*n
	return l.hs[r*l.d.H : (r+n)*l.d.H]
}

// inputs returns part p's inputs in slab order, gathering them from the
// time-major x when the batch has several parts.
func (l *layer) inputs(p int, x []float32) []float32 {
	if l.xs == nil {
		return x
	}
	d := l.d
	n, r0 := l.slab(p)
	b0 := l.parts[p].b0
	for t := 0; t < d.T; t++ {
		copy(l.xs[(r0+t*n)*d.I:(r0+t*n+n)*d.I], x[(t*d.B+b0)*d.I:(t*d.B+b0+n)*d.I])
	}
	return l.xs[r0*d.I : (r0+d.T*n)*d.I]
}

// forwardPart runs part p's digits through the steps.
func (l *layer) forwardPart(p int, x []float32) {
	d, gh, H, w := l.d, l.gh, l.d.H, l.w
	n, r0 := l.slab(p)
	xw := l.inputs(p, x)
	out := l.pre
	if out == nil {
		out = l.hs
	}
	for t := 0; t < d.T; t++ {
		r := r0 + t*n
		cur := out[r*gh : (r+n)*gh]
		var hprev []float32
		if t > 0 {
			hprev = l.hs[(r-n)*H : r*H]
		}
		// The step's input projection, bias + x_t Wih^T, made step by
		// step so that it is still in cache for the rest of the step.
		for b := 0; b < n; b++ {
			copy(cur[b*gh:(b+1)*gh], w.bias)
		}
		gemm.SgemmPacked(false, n, 1, xw[t*n*d.I:], d.I, &w.wihT, 1, cur, gh)
		switch l.cell {
		case LSTM:
			if t > 0 {
				gemm.SgemmPacked(false, n, 1, hprev, H, &w.whhT, 1, cur, gh)
			}
			for b := 0; b < n; b++ {
				g := cur[b*gh : (b+1)*gh]
				cp := l.zero
				if t > 0 {
					cp = l.aux[(r-n+b)*H : (r-n+b+1)*H]
				}
				rb := (r + b) * H
				vecf32.LSTMCell(g[:H], g[H:2*H], g[2*H:3*H], g[3*H:], cp, l.aux[rb:rb+H], l.tc[rb:rb+H], l.hs[rb:rb+H])
			}
		case GRU:
			hp := l.aux[r*gh : (r+n)*gh]
			for b := 0; b < n; b++ {
				copy(hp[b*gh:(b+1)*gh], w.bhh)
			}
			if t > 0 {
				gemm.SgemmPacked(false, n, 1, hprev, H, &w.whhT, 1, hp, gh)
			}
			for b := 0; b < n; b++ {
				g, q := cur[b*gh:(b+1)*gh], hp[b*gh:(b+1)*gh]
				prev := l.zero
				if t > 0 {
					prev = hprev[b*H : (b+1)*H]
				}
				rb := (r + b) * H
				vecf32.GRUCell(g[:H], g[H:2*H], g[2*H:], q[:H], q[H:2*H], q[2*H:], prev, l.hs[rb:rb+H])
			}
		default:
			if t > 0 {
				gemm.SgemmPacked(false, n, 1, hprev, H, &w.whhT, 1, cur, H)
			}
			vecf32.Tanh(cur, cur)
		}
	}
}

// dhead returns part p's rows of the carried gradient dL/dh, where the
// head's backward pass writes dL/dh_{T-1}.
func (l *layer) dhead(p int) []float32 {
	pt, H := l.parts[p], l.d.H
	return l.dh[pt.b0*H : pt.b1*H]
}

// grads returns where part p's gradients go: g for part 0, its own
// buffers for the others (reduced into g by reducePart).
func (l *layer) grads(p int, g *Params) *Params {
	if p == 0 {
		return g
	}
	return l.partial[p-1]
}

// reducePart adds share p of every tensor of the other parts' gradients
// into g's.
func (l *layer) reducePart(p int, g *Params) {
	for k, dst := range g.slices() {
		lo, hi := share(len(dst), p, len(l.parts))
		for _, q := range l.partial {
			vecf32.Add(dst[lo:hi], q.slices()[k][lo:hi])
		}
	}
}

// backward back-propagates dLast (B x H, the loss gradient at the last
// hidden states, batch order) through the steps the last forward pass
// saved (with the weights it prepared), and overwrites g's Wih, Whh, Bih
// and Bhh with the weight gradients.
func (l *layer) backward(x, dLast []float32, g *Params) {
	if l.wantNorms {
		clear(l.norms)
	}
	H := l.d.H
	l.each(func(p int) {
		pt := l.parts[p]
		copy(l.dhead(p), dLast[pt.b0*H:pt.b1*H])
		l.backwardPart(p, x, l.grads(p, g))
		l.sync(1)
		l.reducePart(p, g)
	})
}

// backwardPart back-propagates part p's digits through the steps the last
// forward pass saved, from dL/dh_{T-1} in dhead(p), and overwrites g's
// Wih, Whh, Bih and Bhh with the part's weight gradients.
func (l *layer) backwardPart(p int, x []float32, g *Params) {
	d, gh, H, w := l.d, l.gh, l.d.H, l.w
	n, r0 := l.slab(p)
	b0 := l.parts[p].b0
	dh := l.dh[b0*H : (b0+n)*H]
	var dc []float32
	if l.dc != nil {
		dc = l.dc[b0*H : (b0+n)*H]
		clear(dc)
	}
	for t := d.T - 1; t >= 0; t-- {
		r := r0 + t*n
		if l.wantNorms {
			l.norms[p*d.T+t] = rowNorms(dh, H)
		}
		switch l.cell {
		case LSTM:
			for b := 0; b < n; b++ {
				rb := (r + b) * H
				z, gt := l.dz[(r+b)*gh:(r+b+1)*gh], l.pre[(r+b)*gh:(r+b+1)*gh]
				cp := l.zero
				if t > 0 {
					cp = l.aux[rb-n*H : rb-n*H+H]
				}
				vecf32.LSTMCellGrad(z[:H], z[H:2*H], z[2*H:3*H], z[3*H:], dc[b*H:(b+1)*H],
					gt[:H], gt[H:2*H], gt[2*H:3*H], gt[3*H:], l.tc[rb:rb+H], cp, dh[b*H:(b+1)*H])
			}
			if t > 0 {
				gemm.SgemmPacked(false, n, 1, l.dz[r*gh:], gh, &w.whhN, 0, dh, H)
			}
		case GRU:
			for b := 0; b < n; b++ {
				rb := (r + b) * H
				z, gt, q := l.dz[(r+b)*gh:(r+b+1)*gh], l.pre[(r+b)*gh:(r+b+1)*gh], l.aux[(r+b)*gh:(r+b+1)*gh]
				prev := l.zero
				if t > 0 {
					prev = l.hs[rb-n*H : rb-n*H+H]
				}
				vecf32.GRUCellGrad(z[:H], z[H:2*H], z[2*H:], l.dxn[rb:rb+H], dh[b*H:(b+1)*H],
					gt[:H], gt[H:2*H], gt[2*H:], q[2*H:], prev)
			}
			if t > 0 {
				gemm.SgemmPacked(false, n, 1, l.dz[r*gh:], gh, &w.whhN, 1, dh, H)
			}
		default:
			z := l.dz[r*H : (r+n)*H]
			vecf32.TanhGrad(z, dh, l.hs[r*H:(r+n)*H])
			if t > 0 {
				gemm.SgemmPacked(false, n, 1, z, H, &w.whhN, 0, dh, H)
			}
		}
	}
	// The weight gradients over the slab's rows (the first step's
	// hidden-side gradient meets h_{-1} = 0, so it reaches bhh only):
	//
	//	gWih = dz^T X,  gWhh = dz[n:]^T H[:-n],  gBih = gBhh = colsum dz
	//
	// For the GRU dz is the hidden side; the input side equals it but for
	// the n block, which is dxn.
	rows := d.T * n
	xw := x
	if l.xs != nil {
		xw = l.xs[r0*d.I : (r0+rows)*d.I]
	}
	dzw := l.dz[r0*gh : (r0+rows)*gh]
	colSum(dzw, gh, rows, g.Bhh)
	if l.cell != GRU {
		// Both products read dz^T from the second step on: it is packed
		// once for them; the first step's rows are added to gWih after.
		gemm.SgemmShared(true, gh, rows-n, 1, dzw[n*gh:], gh,
			H, l.hs[r0*H:], H, 0, g.Whh, H,
			d.I, xw[n*d.I:], d.I, 0, g.Wih, d.I)
		gemm.Sgemm(true, false, gh, d.I, n, 1, dzw, gh, xw, d.I, 1, g.Wih, d.I)
		copy(g.Bih, g.Bhh)
		return
	}
	gemm.Sgemm(true, false, gh, H, rows-n, 1, dzw[n*gh:], gh, l.hs[r0*H:], H, 0, g.Whh, H)
	dxn := l.dxn[r0*H : (r0+rows)*H]
	gemm.Sgemm(true, false, 2*H, d.I, rows, 1, dzw, gh, xw, d.I, 0, g.Wih, d.I)
	gemm.Sgemm(true, false, H, d.I, rows, 1, dxn, H, xw, d.I, 0, g.Wih[2*H*d.I:], d.I)
	copy(g.Bih[:2*H], g.Bhh[:2*H])
	colSum(dxn, H, rows, g.Bih[2*H:])
}

// gradNorms writes into out (length T) the norms of dL/dh_t of the last
// backward pass that wanted them, summed over the batch.
func (l *layer) gradNorms(out []float32) {
	T := l.d.T
	for t := range out[:T] {
		var s float64
		for p := range l.parts {
			s += l.norms[p*T+t]
		}
		out[t] = float32(s)
	}
}

// rowNorms returns the sum of the Euclidean norms of the rows (w wide) of m.
func rowNorms(m []float32, w int) float64 {
	var s float64
	for r := 0; r+w <= len(m); r += w {
		row := m[r : r+w]
		s += math.Sqrt(float64(vecf32.Dot(row, row)))
	}
	return s
}

// colSum writes into acc (ld wide) the sums over rows of the columns of
// the rows x ld matrix m.
func colSum(m []float32, ld, rows int, acc []float32) {
	clear(acc)
	for r := 0; r < rows; r++ {
		vecf32.Add(acc, m[r*ld:r*ld+len(acc)])
	}
}

// inputGrad writes into dx (T*B x I, in x's time-major order) the loss
// gradient at the inputs of the last backward pass, dL/dx_t = dz_t Wih
// (the input side's pre-activation gradients: for the GRU the hidden
// side's r and z blocks and dxn's n block). wih are the cell's weights as
// given to forward. It needs one part (the rows in time-major order).
func (l *layer) inputGrad(wih, dx []float32) {
	d, gh, H := l.d, l.gh, l.d.H
	rows := d.T * d.B
	if l.cell != GRU {
		gemm.Sgemm(false, false, rows, d.I, gh, 1, l.dz, gh, wih, d.I, 0, dx, d.I)
		return
	}
	gemm.Sgemm(false, false, rows, d.I, 2*H, 1, l.dz, gh, wih, d.I, 0, dx, d.I)
	gemm.Sgemm(false, false, rows, d.I, H, 1, l.dxn, H, wih[2*H*d.I:], d.I, 1, dx, d.I)
}
