package engine

import (
	"math"
	"sync"
	"time"

	"github.com/mnist-tui/mnist-tui/engine/internal/gemm"
	"github.com/mnist-tui/mnist-tui/engine/internal/vecf32"
)

// The recurrent layer of every cell (the tanh RNN, the LSTM and the GRU) on
// one plan. The RNN is the one-gate case: its gate row is the hidden state
// itself.
//
// A gate row holds the G blocks of H in PyTorch's order. A pass splits the
// batch by digits into parts, one a worker, and each worker carries its
// part through all T steps, forward or back: one hand-off per pass (to a
// helper that stays awake between the passes of a step, see relay), no
// lock, no cache line written by two workers (a row is whole cache
// lines). The split follows the workers' speeds (see balance): the two
// cores of a virtual machine often run at different speeds for seconds at
// a time, and an even split would leave the faster one waiting.
//
// A training layer keeps its saved states in time-major order (row
// t*B + b is step t of digit b). A layer that only evaluates keeps each
// part's rows in a block of their own instead, time-major within it (part
// p's row of step t and digit b is b0*T + t*n + b-b0, n its digits): in
// time-major order every step's rows of the two parts meet twice, and
// each core's prefetcher, running past the end of its rows, pulls lines
// the other core is writing. In blocks the RNN's two-worker evaluation
// pass is 7-15% faster, the gated cells' 1-4% (BenchmarkSplitBound's
// layout-gain). In training the same cost was 3-7% of the parts' passes
// (measured when the weight gradients still read runs of whole steps in
// time-major order; they now read a half of the batch a step, which a
// training layer in blocks could serve as well: not measured).
//
// Per step: the input projection x_t Wih^T (n x G*H x I) and one product
// h_{t-1} Whh^T (n x G*H x H), both with pre-packed weights, then one fused
// element-wise pass (vecf32's Tanh, LSTMCell or GRUCell).
//
// The weight gradients are sums over all the batch's rows, cut into two
// fixed groups of digits, the batch's halves (gradGroups): each group's
// sums run step by step from the last step down into a buffer of its own
// (the weights' gradients transposed: see groupGrads), each step once
// every part's backward pass has written it (progress), and the workers
// add the two buffers and transpose the sum into the gradients, each a
// share of the rows. On two workers each computes one half, which is its
// own part's digits when the split is even: the rows it reads are in its
// own core's cache, and the next forward pass writes lines the other core
// has not read (summed in runs of steps over the whole batch instead, each
// run read both parts' rows, and two workers trained the RNN 1.72-1.75
// times as fast as one, now 1.91-1.94 with AVX-512). The groups and the order of the sums do not depend on the
// split or on the workers: the gradients, like the states, are bit for bit
// the same on one worker or two, whatever the balance.

// part is the digits [b0, b1) of a batch that one worker carries.
type part struct{ b0, b1 int }

// gradGroups is how many groups of digits the weight gradients are summed
// in (see layer): the batch's halves, or the whole batch of one digit.
func gradGroups(B int) int { return min(B, 2) }

// groupDigits returns group h's digits [b0, b1) of a batch of B.
func groupDigits(h, B int) (b0, b1 int) {
	g := gradGroups(B)
	return h * B / g, (h + 1) * B / g
}

// layer is the recurrent layer's saved state and scratch for one batch
// size, allocated once.
type layer struct {
	cell  Cell
	d     dims
	gh    int    // G*H, the width of a gate row
	parts []part // the pass's split (see each)
	bal   balance
	spent []paddedDuration // each part's balanced work in the pass
	relay *relay           // runs part 1 when there are two
	w     *weights         // the weights as the products read them

	meet *barrier  // where the parts of a pass sync
	prog *progress // how far each part's backward pass has come

	// partMajor keeps each part's saved rows in a block of its own (a
	// layer that only evaluates; see rowOf).
	partMajor bool

	hs  []float32 // T*B*H: hidden states
	pre []float32 // T*B*gh: activated gates (GRU: input side), then dz; nil for the RNN
	aux []float32 // LSTM: T*B*H cell states; GRU, training: T*B*H hidden side's n blocks (W_hn h + b_hn)
	hid []float32 // GRU: B*gh: a step's hidden-side projections
	tc  []float32 // LSTM: T*B*H tanh(c)
	dz  []float32 // T*B*gh: pre-activation gradients (GRU: hidden side); the gated cells' is pre
	dxn []float32 // GRU: T*B*H gradients at the input side's n block
	dh  []float32 // B*H: dL/dh carried back through the steps
	dc  []float32 // LSTM: B*H: dL/dc carried back through the steps
	// zero is H zeros: h_{-1} and c_{-1}.
	zero []float32

	// groups are the weight gradients' sums of each group of digits (see
	// groupGrads), the weights' transposed; the workers add them into the
	// first.
	groups []*Params

	// wantNorms asks the next backward pass for the gradient norms; norms
	// then holds |dL/dh_t| of every digit (at row t*B + b).
	wantNorms bool
	norms     []float64
}

// paddedDuration is a duration on a cache line of its own.
type paddedDuration struct {
	d time.Duration
	_ [cacheLine - 8]byte
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
	parts := splitParts(d.B, workers)
	l := &layer{
		cell: c.Cell, d: d, gh: gh, parts: parts,
		bal: balance{share: 0.5}, spent: make([]paddedDuration, len(parts)),
		relay: newRelay(), meet: newBarrier(), prog: newProgress(len(parts)), w: w,
		partMajor: !train,
		hs:        alignedFloats(n * d.H),
		zero:      make([]float32, d.H),
	}
	switch c.Cell {
	case LSTM:
		l.pre = alignedFloats(n * gh)
		l.aux = alignedFloats(n * d.H)
		l.tc = alignedFloats(n * d.H)
	case GRU:
		l.pre = alignedFloats(n * gh)
		l.hid = alignedFloats(d.B * gh)
	}
	if !train {
		return l
	}
	if c.Cell == GRU {
		l.aux = alignedFloats(n * d.H)
	}
	if l.pre != nil {
		// A step's gate gradients overwrite its gates, whose last use
		// they are: gh floats a row less to stream through the caches
		// (the gate gradient kernels may work in place).
		l.dz = l.pre
	} else {
		l.dz = alignedFloats(n * gh)
	}
	l.dh = alignedFloats(d.B * d.H)
	switch c.Cell {
	case LSTM:
		l.dc = alignedFloats(d.B * d.H)
	case GRU:
		l.dxn = alignedFloats(n * d.H)
	}
	for range gradGroups(d.B) {
		l.groups = append(l.groups, alignedGrads(gh, d))
	}
	l.norms = make([]float64, n)
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

// rowOf returns part p's first row of step t in the saved states and the
// rows from one of its steps to the next: t*B + b0 and B in time-major
// order, b0*T + t*n and n (n the part's digits) when each part's rows are
// a block of their own (partMajor).
func (l *layer) rowOf(p, t int) (row, stride int) {
	pt := l.parts[p]
	if l.partMajor {
		n := pt.b1 - pt.b0
		return pt.b0*l.d.T + t*n, n
	}
	return t*l.d.B + pt.b0, l.d.B
}

// share returns the elements [lo, hi) of a tensor of n elements that part
// p of parts works on when a pass splits every tensor between the workers
// (Adam, the non-finite check): nearly equal, each starting on a cache
// line (16 floats) so that no two workers write one line.
func share(n, p, parts int) (lo, hi int) {
	at := func(q int) int {
		if q == parts {
			return n
		}
		return n * q / parts &^ 15
	}
	return at(p), at(p + 1)
}

// balance splits a batch between two workers in proportion to their
// recent speeds: share is part 0's fraction of the digits, moved a quarter
// of the way towards the split that would have finished both parts of the
// last pass together, within [minShare, 1-minShare]. The split is a
// multiple of splitUnit digits: a part of 31 or 33 rows runs 7-row or
// 1-row edge tiles of the product kernels (8 rows on AVX-512, 6 on AVX2),
// which cost nearly a whole tile each, and the timings' noise alone moves
// the share by a digit or two.
type balance struct{ share float64 }

const (
	minShare  = 0.2
	splitUnit = 4
)

// split returns part 0's number of digits of a batch of b >= 2.
func (bl *balance) split(b int) int {
	n := int(math.Round(bl.share * float64(b)))
	if b >= 4*splitUnit {
		n = int(math.Round(bl.share*float64(b)/splitUnit)) * splitUnit
	}
	return min(max(n, 1), b-1)
}

// observe takes the time two parts of n0 and n1 digits spent.
func (bl *balance) observe(n0, n1 int, d0, d1 time.Duration) {
	if d0 <= 0 || d1 <= 0 {
		return
	}
	s0, s1 := float64(n0)/d0.Seconds(), float64(n1)/d1.Seconds()
	bl.share += (s0/(s0+s1) - bl.share) / 4
	bl.share = min(max(bl.share, minShare), 1-minShare)
}

// each runs f for every part, part 0 on the calling goroutine and the
// others on the relay's helpers, and waits for all. The parts may meet in
// sync, report and await their progress down the steps (prog), and time
// their balanced work with done.
func (l *layer) each(f func(p int)) {
	l.meet.reset()
	l.prog.reset(l.d.T)
	switch len(l.parts) {
	case 1:
		f(0)
	case 2:
		b := l.bal.split(l.d.B)
		l.parts[0].b1, l.parts[1].b0 = b, b
		l.relay.run(func() { f(1) }, func() { f(0) })
		l.bal.observe(b, l.d.B-b, l.spent[0].d, l.spent[1].d)
		l.spent[0].d, l.spent[1].d = 0, 0
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

// done records that part p's balanced work, begun at start, is over.
func (l *layer) done(p int, start time.Time) { l.spent[p].d = time.Since(start) }

// sync is the parts' one meeting in a pass under each: it returns once
// every part has called it (spinning briefly, then parked: see barrier).
func (l *layer) sync() {
	if len(l.parts) == 1 {
		return
	}
	l.meet.await(int32(len(l.parts)))
}

// preparePart prepares part p's share of the weights for a pass and waits
// for the other parts to have prepared theirs, unless an evaluator
// prepared them for the pass under way (then the parts need not meet).
func (l *layer) preparePart(p int, wih, whh, bih, bhh []float32) {
	if !l.w.fresh {
		l.w.preparePart(p, len(l.parts), wih, whh, bih, bhh)
		l.sync()
	}
}

// forward runs the layer over x (time-major: row t*B+b is step t of digit
// b) with the weights p, saving what backward needs.
func (l *layer) forward(x []float32, p *Params) {
	l.each(func(q int) {
		l.preparePart(q, p.Wih, p.Whh, p.Bih, p.Bhh)
		start := time.Now()
		l.forwardPart(q, x)
		l.done(q, start)
	})
}

// last returns part p's last hidden states (its digits in batch order).
func (l *layer) last(p int) []float32 {
	pt, H := l.parts[p], l.d.H
	r, _ := l.rowOf(p, l.d.T-1)
	return l.hs[r*H : (r+pt.b1-pt.b0)*H]
}

// forwardPart runs part p's digits through the steps.
func (l *layer) forwardPart(p int, x []float32) {
	d, gh, H, w := l.d, l.gh, l.d.H, l.w
	b0, n := l.parts[p].b0, l.parts[p].b1-l.parts[p].b0
	out := l.pre
	if out == nil {
		out = l.hs
	}
	for t := 0; t < d.T; t++ {
		r, stride := l.rowOf(p, t) // the part's first row of step t
		cur := out[r*gh : (r+n)*gh]
		var hprev []float32
		if t > 0 {
			hprev = l.hs[(r-stride)*H : (r-stride+n)*H]
		}
		// The step's input projection, x_t Wih^T (the RNN's starts from
		// the bias; the gated cells' gate kernels add it), made step by
		// step so that it is still in cache for the rest of the step.
		beta := float32(0)
		if l.cell == RNN {
			fillRows(cur[:n*gh], w.bias)
			beta = 1
		}
		gemm.SgemmPacked(false, n, 1, x[(t*d.B+b0)*d.I:], d.I, &w.wihT, beta, cur, gh)
		switch l.cell {
		case LSTM:
			if t > 0 {
				gemm.SgemmPacked(false, n, 1, hprev, H, &w.whhT, 1, cur, gh)
			}
			cp := l.zero
			if t > 0 {
				cp = l.aux[(r-stride)*H : (r-stride+n)*H]
			}
			vecf32.LSTMCell(H, cur, w.bias, cp, l.aux[r*H:(r+n)*H], l.tc[r*H:(r+n)*H], l.hs[r*H:(r+n)*H])
		case GRU:
			// The hidden side is a step's scratch: the backward pass
			// reads only its n blocks, kept in aux when training.
			hp := l.hid[b0*gh : (b0+n)*gh]
			prev := l.zero
			if t > 0 {
				gemm.SgemmPacked(false, n, 1, hprev, H, &w.whhT, 0, hp, gh)
				prev = hprev
			} else {
				clear(hp) // h_{-1} = 0
			}
			vecf32.GRUCell(H, cur, hp, w.bias, w.bhn, prev, l.hs[r*H:(r+n)*H])
			if l.aux != nil {
				for b := range n {
					copy(l.aux[(r+b)*H:(r+b+1)*H], hp[b*gh+2*H:(b+1)*gh])
				}
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

// backward back-propagates dLast (B x H, the loss gradient at the last
// hidden states, batch order) through the steps the last forward pass
// saved (with the weights it prepared), and overwrites g's Wih, Whh, Bih
// and Bhh with the weight gradients.
func (l *layer) backward(x, dLast []float32, g *Params) {
	H := l.d.H
	l.each(func(p int) {
		start := time.Now()
		pt := l.parts[p]
		copy(l.dhead(p), dLast[pt.b0*H:pt.b1*H])
		l.backwardPart(p)
		l.done(p, start)
		l.weightGrads(p, x, g, nil)
	})
}

// backwardPart back-propagates part p's digits through the steps the last
// forward pass saved, from dL/dh_{T-1} in dhead(p), leaving the
// pre-activation gradients in dz (and dxn).
func (l *layer) backwardPart(p int) {
	d, gh, H, w := l.d, l.gh, l.d.H, l.w
	b0, n := l.parts[p].b0, l.parts[p].b1-l.parts[p].b0
	dh := l.dhead(p)
	var dc []float32
	if l.dc != nil {
		dc = l.dc[b0*H : (b0+n)*H]
		clear(dc)
	}
	for t := d.T - 1; t >= 0; t-- {
		r := t*d.B + b0
		if l.wantNorms {
			for b := 0; b < n; b++ {
				row := dh[b*H : (b+1)*H]
				l.norms[r+b] = math.Sqrt(float64(vecf32.Dot(row, row)))
			}
		}
		switch l.cell {
		case LSTM:
			cp := l.zero
			if t > 0 {
				cp = l.aux[(r-d.B)*H : (r-d.B+n)*H]
			}
			vecf32.LSTMCellGrad(H, l.dz[r*gh:(r+n)*gh], dc, l.pre[r*gh:(r+n)*gh], l.tc[r*H:(r+n)*H], cp, dh)
			l.reached(p, t)
			if t > 0 {
				gemm.SgemmPacked(false, n, 1, l.dz[r*gh:], gh, &w.whhN, 0, dh, H)
			}
		case GRU:
			prev := l.zero
			if t > 0 {
				prev = l.hs[(r-d.B)*H : (r-d.B+n)*H]
			}
			vecf32.GRUCellGrad(H, l.dz[r*gh:(r+n)*gh], l.dxn[r*H:(r+n)*H], dh,
				l.pre[r*gh:(r+n)*gh], l.aux[r*H:(r+n)*H], prev)
			l.reached(p, t)
			if t > 0 {
				gemm.SgemmPacked(false, n, 1, l.dz[r*gh:], gh, &w.whhN, 1, dh, H)
			}
		default:
			z := l.dz[r*H : (r+n)*H]
			vecf32.TanhGrad(z, dh, l.hs[r*H:(r+n)*H])
			l.reached(p, t)
			if t > 0 {
				gemm.SgemmPacked(false, n, 1, z, H, &w.whhN, 0, dh, H)
			}
		}
	}
}

// reached reports that part p's pre-activation gradients of step t are
// written (see progress).
func (l *layer) reached(p, t int) {
	if len(l.parts) > 1 {
		l.prog.reached(p, t)
	}
}

// await returns once every part's pre-activation gradients of step t are
// written.
func (l *layer) await(t int) {
	if len(l.parts) > 1 {
		l.prog.await(t)
	}
}

// weightGrads is part p's share of the weight gradients, once its digits
// are back at the first step: the head's gradients (with head, on the last
// part, once every part's head gradient is written), then the sums of the
// groups of digits it takes (part p the groups p, p+parts, ...), waits
// for the other parts, then adds its share of the columns of the groups'
// sums and transposes them into g's rows. It overwrites g's Wih, Whh, Bih
// and Bhh:
//
//	gWih = dz^T X,  gWhh = dz[B:]^T H[:-B],  gBih = gBhh = colsum dz
//
// (the first step's hidden-side gradient meets h_{-1} = 0, so it reaches
// bhh only). For the GRU dz is the hidden side; the input side equals it
// but for the n block, which is dxn.
func (l *layer) weightGrads(p int, x []float32, g *Params, head func()) {
	parts := len(l.parts)
	if head != nil && p == parts-1 {
		l.await(l.d.T - 1) // every part's head gradient dl is written
		head()
	}
	for h := p; h < len(l.groups); h += parts {
		l.groupGrads(h, x, l.groups[h])
	}
	l.sync()
	gh, H, I := l.gh, l.d.H, l.d.I
	i0, i1 := share(gh, p, parts)
	sum := l.groups[0]
	for _, o := range l.groups[1:] {
		for k := range H {
			vecf32.Add(sum.Whh[k*gh+i0:k*gh+i1], o.Whh[k*gh+i0:k*gh+i1])
		}
		for k := range I {
			vecf32.Add(sum.Wih[k*gh+i0:k*gh+i1], o.Wih[k*gh+i0:k*gh+i1])
		}
		vecf32.Add(sum.Bih[i0:i1], o.Bih[i0:i1])
		vecf32.Add(sum.Bhh[i0:i1], o.Bhh[i0:i1])
	}
	gemm.Transpose(I, i1-i0, sum.Wih[i0:], gh, g.Wih[i0*I:], I)
	gemm.Transpose(H, i1-i0, sum.Whh[i0:], gh, g.Whh[i0*H:], H)
	copy(g.Bih[i0:i1], sum.Bih[i0:i1])
	copy(g.Bhh[i0:i1], sum.Bhh[i0:i1])
}

// groupGrads overwrites g's Wih, Whh, Bih and Bhh with the weight
// gradients of group h's digits (groupDigits), the weights' transposed
// (g.Wih is I x gh, g.Whh H x gh), summed step by step from the last step
// down, each step once every part has written its pre-activation
// gradients: as gWhh^T = H^T dz the products read dz as their packed
// right-hand operand, in rows, and H and X in place at their own, short
// row strides (read as dz^T, a gated cell's rows of 4H or 3H floats made
// every step of the product's depth a new cache line).
func (l *layer) groupGrads(h int, x []float32, g *Params) {
	gh, H, I, B, T := l.gh, l.d.H, l.d.I, l.d.B, l.d.T
	b0, b1 := groupDigits(h, B)
	n := b1 - b0
	// The GRU's input side takes only dz's r and z blocks: its n block is
	// dxn^T X.
	in := gh
	if l.cell == GRU {
		in = 2 * H
	}
	clear(g.Bhh)
	if l.cell == GRU {
		clear(g.Bih[2*H:])
	}
	if T == 1 {
		clear(g.Whh)
	}
	for t := T - 1; t >= 0; t-- {
		l.await(t)
		r0 := t*B + b0
		dz, xs := l.dz[r0*gh:], x[r0*I:]
		beta := float32(1)
		if t == T-1 {
			beta = 0
		}
		addRows(dz, gh, n, g.Bhh)
		if t > 0 {
			// Both products read dz: its blocks are packed once for them.
			gemm.SgemmSharedB(true, n, gh, 1, dz, gh,
				H, l.hs[(r0-B)*H:], H, beta, g.Whh, gh,
				I, in, xs, I, beta, g.Wih, gh)
		} else {
			// The first step's hidden-side gradient meets h_{-1} = 0 and
			// reaches bhh only.
			gemm.Sgemm(true, false, I, in, n, 1, xs, I, dz, gh, beta, g.Wih, gh)
		}
		if l.cell == GRU {
			dxn := l.dxn[r0*H:]
			gemm.Sgemm(true, false, I, H, n, 1, xs, I, dxn, H, beta, g.Wih[2*H:], gh)
			addRows(dxn, H, n, g.Bih[2*H:])
		}
	}
	if l.cell != GRU {
		copy(g.Bih, g.Bhh)
	} else {
		copy(g.Bih[:2*H], g.Bhh[:2*H])
	}
}

// gradNorms writes into out (length T) the norms of dL/dh_t of the last
// backward pass that wanted them, summed over the batch.
func (l *layer) gradNorms(out []float32) {
	B := l.d.B
	for t := range out[:l.d.T] {
		var s float64
		for _, v := range l.norms[t*B : (t+1)*B] {
			s += v
		}
		out[t] = float32(s)
	}
}

// fillRows fills dst, rows of len(row) values, with copies of row,
// doubling the copied part each time: a few large copies instead of a
// small one per row.
func fillRows(dst, row []float32) {
	n := copy(dst, row)
	for n < len(dst) {
		n += copy(dst[n:], dst[:n])
	}
}

// colSum writes into acc the sums over rows of the first len(acc) columns
// of the rows x ld matrix m.
func colSum(m []float32, ld, rows int, acc []float32) {
	clear(acc)
	addRows(m, ld, rows, acc)
}

// addRows adds into acc, row by row in order, the first len(acc) columns
// of the rows x ld matrix m.
func addRows(m []float32, ld, rows int, acc []float32) {
	for r := 0; r < rows; r++ {
		vecf32.Add(acc, m[r*ld:r*ld+len(acc)])
	}
}

// inputGrad writes into dx (T*B x I, in x's time-major order) the loss
// gradient at the inputs of the last backward pass, dL/dx_t = dz_t Wih
// (the input side's pre-activation gradients: for the GRU the hidden
// side's r and z blocks and dxn's n block). wih are the cell's weights as
// given to forward.
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
