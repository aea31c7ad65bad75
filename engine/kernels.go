package engine

import (
	"math"

	"github.com/mnist-tui/mnist-tui/engine/internal/gemm"
)

// dims are the sizes of one batch through the network: B digits, T time
// steps of I inputs, H hidden units, C classes.
type dims struct{ B, T, I, H, C int }

// headForward computes the linear layer's logits for the B x H states h, the
// softmax probabilities (written to probs, B x C) through a stable
// log-softmax, writes every row's cross-entropy against its label in y into
// loss (B long) and returns the number of correct argmax predictions.
func headForward(d dims, h, wfc, bfc []float32, y []int, probs []float32, loss []float64) (correct int) {
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
		loss[b] = lse - float64(row[y[b]])
		for j, v := range row {
			row[j] = float32(math.Exp(float64(v) - lse))
		}
	}
	return correct
}

// headBackward writes the gradients of scale*sum(cross-entropy) given the
// probabilities from headForward: dlogits = scale*(p - onehot(y)) into dl
// (B x C), and dh = dlogits Wfc.
func headBackward(d dims, wfc, probs []float32, y []int, scale float32, dl, dh []float32) {
	for b := 0; b < d.B; b++ {
		for j := 0; j < d.C; j++ {
			v := probs[b*d.C+j]
			if j == y[b] {
				v--
			}
			dl[b*d.C+j] = v * scale
		}
	}
	gemm.Sgemm(false, false, d.B, d.H, d.C, 1, dl, d.C, wfc, d.H, 0, dh, d.H)
}

// headWeightGrads writes the head's weight gradients from headBackward's
// dl and the B x H states h: gWfc = dlogits^T h, gBfc = colsum dlogits.
func headWeightGrads(d dims, h, dl, gWfc, gBfc []float32) {
	colSum(dl, d.C, d.B, gBfc)
	gemm.Sgemm(true, false, d.C, d.H, d.B, 1, dl, d.C, h, d.H, 0, gWfc, d.H)
}
