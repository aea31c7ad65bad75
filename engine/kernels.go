package engine

import (
	"math"
	"sync"

	"github.com/mnist-tui/mnist-tui/engine/gemm"
	"github.com/mnist-tui/mnist-tui/engine/vecf32"
)

// dims are the sizes of one batch through the network: B digits, T time
// steps of I inputs, H hidden units, C classes.
type dims struct{ B, T, I, H, C int }

// split runs f on n contiguous parts of [0, total) in parallel and waits.
// Part i covers [total*i/n, total*(i+1)/n).
func split(total, n int, f func(lo, hi int)) {
	if n <= 1 || total < 2*n {
		f(0, total)
		return
	}
	var wg sync.WaitGroup
	wg.Add(n - 1)
	for i := 1; i < n; i++ {
		go func(lo, hi int) {
			defer wg.Done()
			f(lo, hi)
		}(total*i/n, total*(i+1)/n)
	}
	f(0, total/n)
	wg.Wait()
}

// rnnPacks holds Whh packed for the products of the recurrence: Whh^T for
// the forward steps, Whh for the backward ones. Each is packed once per
// pass and shared by the workers.
type rnnPacks struct{ whhT, whh gemm.PackedB }

// rnnForward runs the tanh RNN over x (time-major, row t*B+b holds step t of
// digit b) and writes every hidden state into hs (same row layout, H wide):
// h_t = tanh(x_t Wih^T + bih + h_{t-1} Whh^T + bhh), h_{-1} = 0. pk may be
// nil for a one-off pass.
func rnnForward(d dims, workers int, x, wih, whh, bih, bhh, hs []float32, pk *rnnPacks) {
	if pk == nil {
		pk = new(rnnPacks)
	}
	rows := d.T * d.B
	gemm.PackB(true, d.H, d.H, whh, d.H, &pk.whhT)
	split(rows, workers, func(lo, hi int) {
		gemm.Sgemm(false, true, hi-lo, d.H, d.I, 1, x[lo*d.I:], d.I, wih, d.I, 0, hs[lo*d.H:], d.H)
		for r := lo; r < hi; r++ {
			vecf32.Add3To(hs[r*d.H:(r+1)*d.H], bih[:d.H], bhh[:d.H])
		}
	})
	split(d.B, workers, func(b0, b1 int) {
		n := b1 - b0
		first := hs[b0*d.H : b1*d.H]
		vecf32.Tanh(first, first)
		for t := 1; t < d.T; t++ {
			cur := hs[(t*d.B+b0)*d.H : (t*d.B+b1)*d.H]
			prev := hs[((t-1)*d.B+b0)*d.H:]
			gemm.SgemmPacked(false, n, 1, prev, d.H, &pk.whhT, 1, cur, d.H)
			vecf32.Tanh(cur, cur)
		}
	})
}

// rnnBackward back-propagates dLast (the loss gradient at the last hidden
// state, B x H) through time. dz receives dL/dz_t for every step (the
// pre-activation gradients, laid out like hs) and dh is B x H scratch. The
// weight and bias gradients are overwritten.
func rnnBackward(d dims, workers int, x, whh, hs, dLast, dz, dh, gWih, gWhh, gBih, gBhh []float32, pk *rnnPacks) {
	if pk == nil {
		pk = new(rnnPacks)
	}
	gemm.PackB(false, d.H, d.H, whh, d.H, &pk.whh)
	split(d.B, workers, func(b0, b1 int) {
		n := b1 - b0
		g := dh[b0*d.H : b1*d.H]
		copy(g, dLast[b0*d.H:b1*d.H])
		for t := d.T - 1; t >= 0; t-- {
			off := (t*d.B + b0) * d.H
			z := dz[off : off+n*d.H]
			vecf32.TanhGrad(z, g, hs[off:off+n*d.H])
			if t > 0 {
				gemm.SgemmPacked(false, n, 1, z, d.H, &pk.whh, 0, g, d.H)
			}
		}
	})
	rows := d.T * d.B
	split(d.H, workers, func(r0, r1 int) {
		m := r1 - r0
		if rows > d.B {
			gemm.Sgemm(true, false, m, d.H, rows-d.B, 1, dz[d.B*d.H+r0:], d.H, hs, d.H, 0, gWhh[r0*d.H:], d.H)
		} else {
			clear(gWhh[r0*d.H : r1*d.H])
		}
		gemm.Sgemm(true, false, m, d.I, rows, 1, dz[r0:], d.H, x, d.I, 0, gWih[r0*d.I:], d.I)
		colSum(dz, d.H, rows, gBih[r0:r1], r0)
		copy(gBhh[r0:r1], gBih[r0:r1])
	})
}

// headForward computes the linear layer's logits for the B x H states h, the
// softmax probabilities (written to probs, B x C) through a stable
// log-softmax, and returns the summed cross-entropy and the number of
// correct argmax predictions against the labels y.
func headForward(d dims, h, wfc, bfc []float32, y []int, probs []float32) (lossSum float64, correct int) {
	gemm.Sgemm(false, true, d.B, d.C, d.H, 1, h, d.H, wfc, d.H, 0, probs, d.C)
	for b := 0; b < d.B; b++ {
		row := probs[b*d.C : (b+1)*d.C]
		best := 0
		for j := range row {
			row[j] += bfc[j]
			if row[j] > row[best] {
				best = j
			}
		}
		if best == y[b] {
			correct++
		}
		// log-softmax: z - max - log(sum(exp(z - max))), in float64.
		maxv := float64(row[best])
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v) - maxv)
		}
		lse := maxv + math.Log(sum)
		lossSum += lse - float64(row[y[b]])
		for j, v := range row {
			row[j] = float32(math.Exp(float64(v) - lse))
		}
	}
	return lossSum, correct
}

// headBackward writes the gradients of scale*sum(cross-entropy) given the
// probabilities from headForward: dlogits = scale*(p - onehot(y)), into dl
// (B x C scratch), then dh = dlogits Wfc, gWfc = dlogits^T h, gBfc = colsum.
func headBackward(d dims, h, wfc, probs []float32, y []int, scale float32, dl, dh, gWfc, gBfc []float32) {
	for j := range gBfc {
		gBfc[j] = 0
	}
	for b := 0; b < d.B; b++ {
		for j := 0; j < d.C; j++ {
			v := probs[b*d.C+j]
			if j == y[b] {
				v--
			}
			v *= scale
			dl[b*d.C+j] = v
			gBfc[j] += v
		}
	}
	gemm.Sgemm(false, false, d.B, d.H, d.C, 1, dl, d.C, wfc, d.H, 0, dh, d.H)
	gemm.Sgemm(true, false, d.C, d.H, d.B, 1, dl, d.C, h, d.H, 0, gWfc, d.H)
}
