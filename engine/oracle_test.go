package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// This file holds the correctness oracle for the fused fast path: the same
// network built from gorgonia's primitive ops, unrolled over the time steps,
// differentiated by gorgonia.Grad. The oracle itself is checked against a
// plain-Go float64 forward pass (loss and probabilities) and central finite
// differences of that forward pass (every parameter element).

// paramSet holds the six parameter tensors in state_dict order (Wih, Whh, Bih,
// Bhh, Wfc, Bfc), row-major, in float64. Values meant for a float32 run are
// float32-representable, so both precisions see exactly the same numbers.
type paramSet [6][]float64

// weightShapes lists the tensors' shapes for d, in state_dict order.
func weightShapes(d dims) [6][]int {
	return [6][]int{{d.H, d.I}, {d.H, d.H}, {d.H}, {d.H}, {d.C, d.H}, {d.C}}
}

// weightNames are short names for error messages, in state_dict order.
var weightNames = [6]string{"Wih", "Whh", "bih", "bhh", "Wfc", "bfc"}

// randWeights draws every parameter from U(-scale, scale), rounded to
// float32.
func randWeights(rng *rand.Rand, d dims, scale float64) paramSet {
	var w paramSet
	for k, sh := range weightShapes(d) {
		n := 1
		for _, v := range sh {
			n *= v
		}
		w[k] = make([]float64, n)
		for i := range w[k] {
			w[k][i] = float64(float32((2*rng.Float64() - 1) * scale))
		}
	}
	return w
}

// randBatch draws a time-major input batch, x[t*B*I + b*I + j] ~ U(-1, 1)
// (the range of the normalised pixels), rounded to float32, and labels
// uniform over the classes.
func randBatch(rng *rand.Rand, d dims) ([]float64, []int) {
	x := make([]float64, d.T*d.B*d.I)
	for i := range x {
		x[i] = float64(float32(2*rng.Float64() - 1))
	}
	y := make([]int, d.B)
	for i := range y {
		y[i] = rng.IntN(d.C)
	}
	return x, y
}

// clone returns a deep copy of w.
func (w paramSet) clone() paramSet {
	var c paramSet
	for k := range w {
		c[k] = append([]float64(nil), w[k]...)
	}
	return c
}

// oracleOut is what one oracle run yields, in float64 whatever its precision.
type oracleOut struct {
	loss  float64   // mean cross-entropy over the batch
	probs []float64 // B x C softmax probabilities
	grads paramSet  // gradients of loss
	// norms are, for every step t, the sum over the batch of |dL/dh_t|
	// (nil when not computed).
	norms []float64
}

// denseOf copies data into a new tensor of type dt and the given shape.
func denseOf(dt tensor.Dtype, data []float64, shape ...int) *tensor.Dense {
	switch dt {
	case tensor.Float32:
		s := make([]float32, len(data))
		for i, v := range data {
			s[i] = float32(v)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(s))
	case tensor.Float64:
		s := append([]float64(nil), data...)
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(s))
	}
	panic(fmt.Sprintf("oracle: unsupported dtype %v", dt))
}

// floatsOf copies a gorgonia value (tensor or scalar, float32 or float64)
// into a new float64 slice.
func floatsOf(v G.Value) ([]float64, error) {
	if v == nil {
		return nil, fmt.Errorf("oracle: nil value")
	}
	switch d := v.Data().(type) {
	case []float64:
		return append([]float64(nil), d...), nil
	case []float32:
		out := make([]float64, len(d))
		for i, f := range d {
			out[i] = float64(f)
		}
		return out, nil
	case float64:
		return []float64{d}, nil
	case float32:
		return []float64{float64(d)}, nil
	}
	return nil, fmt.Errorf("oracle: unexpected value data %T", v.Data())
}

// runOracle builds the network of d from gorgonia's primitive ops in
// precision dt with the tanh act, runs it on one batch (x time-major, labels y) with the
// weights w, and returns the mean loss, the probabilities and the gradients.
//
//	h_{-1} = 0
//	h_t    = tanh(x_t Wih^T + bih + h_{t-1} Whh^T + bhh),   t = 0..T-1
//	z      = h_{T-1} Wfc^T + bfc                           (B x C logits)
//	m      = max_j z[b, j]                                  (row maxima)
//	lse    = m + log(sum_j exp(z - m))     (the "m +" cancels below)
//	loss   = mean_b (log(sum_j exp(z - m)) - (z - m)[b, y_b])
//
// The shift by the row maximum uses gorgonia's Max along axis 1, which has a
// symbolic gradient (the output gradient routed to the arg-max through an
// equality mask). Mathematically the loss does not depend on m at all (the
// gradient through m is -sum_j (p_j - onehot_j)/B = 0 per row), so this only
// adds a numerically-zero term; the finite-difference test confirms it. The
// softmax is written by hand: gorgonia's SoftMax (and the Log(SoftMax) it
// rewrites) is unstable for rows like [200, 0, 0] (see DESIGN.md).
func runOracle(dt tensor.Dtype, act oracleAct, d dims, x []float64, y []int, w paramSet) (*oracleOut, error) {
	g := G.NewGraph()
	shapes := weightShapes(d)
	params := make(G.Nodes, 6)
	for k, sh := range shapes {
		name := G.WithName("oracle_" + weightNames[k])
		val := G.WithValue(denseOf(dt, w[k], sh...))
		if len(sh) == 1 {
			params[k] = G.NewVector(g, dt, G.WithShape(sh...), name, val)
		} else {
			params[k] = G.NewMatrix(g, dt, G.WithShape(sh...), name, val)
		}
	}
	wih, whh, bih, bhh, wfc, bfc := params[0], params[1], params[2], params[3], params[4], params[5]

	// Every error below is a programming error in this file; collect the
	// first one instead of checking each call.
	var err error
	must := func(n *G.Node, e error) *G.Node {
		if err == nil && e != nil {
			err = e
		}
		return n
	}
	named := func(name string) func(*G.Node, error) *G.Node {
		return func(n *G.Node, e error) *G.Node {
			n = must(n, e)
			if n != nil {
				G.WithName(name)(n)
			}
			return n
		}
	}
	wihT := named("wihT")(G.Transpose(wih))
	whhT := named("whhT")(G.Transpose(whh))
	wfcT := named("wfcT")(G.Transpose(wfc))

	h := G.NewMatrix(g, dt, G.WithShape(d.B, d.H), G.WithName("h0"), G.WithValue(denseOf(dt, make([]float64, d.B*d.H), d.B, d.H)))
	for t := 0; t < d.T && err == nil; t++ {
		xt := G.NewMatrix(g, dt, G.WithShape(d.B, d.I), G.WithName(fmt.Sprintf("x%d", t)),
			G.WithValue(denseOf(dt, x[t*d.B*d.I:(t+1)*d.B*d.I], d.B, d.I)))
		in := named(fmt.Sprintf("xw%d", t))(G.Mul(xt, wihT))
		in = named(fmt.Sprintf("xwb%d", t))(G.BroadcastAdd(in, bih, nil, []byte{0}))
		rec := named(fmt.Sprintf("hw%d", t))(G.Mul(h, whhT))
		rec = named(fmt.Sprintf("hwb%d", t))(G.BroadcastAdd(rec, bhh, nil, []byte{0}))
		z := named(fmt.Sprintf("z%d", t))(G.Add(in, rec))
		h = named(fmt.Sprintf("h%d", t+1))(act.tanh(z))
	}
	if err != nil {
		return nil, fmt.Errorf("oracle: building the recurrence: %w", err)
	}
	logits := named("logits")(G.BroadcastAdd(named("hwfc")(G.Mul(h, wfcT)), bfc, nil, []byte{0}))
	rowMax := named("rowmax")(G.Max(logits, 1))
	shifted := named("shifted")(G.BroadcastSub(logits, rowMax, nil, []byte{1}))
	sumExp := named("sumexp")(G.Sum(named("exp")(G.Exp(shifted)), 1))
	logSum := named("logsum")(G.Log(sumExp))
	onehot := make([]float64, d.B*d.C)
	for b, c := range y {
		onehot[b*d.C+c] = 1
	}
	oh := G.NewMatrix(g, dt, G.WithShape(d.B, d.C), G.WithName("onehot"), G.WithValue(denseOf(dt, onehot, d.B, d.C)))
	picked := named("picked")(G.Sum(named("masked")(G.HadamardProd(shifted, oh)), 1))
	nll := named("nll")(G.Sub(logSum, picked))
	loss := named("loss")(G.Mean(nll))
	probs := named("probs")(G.Exp(named("logp")(G.BroadcastSub(shifted, logSum, nil, []byte{1}))))
	if err != nil {
		return nil, fmt.Errorf("oracle: building the loss: %w", err)
	}
	gradNodes, err := G.Grad(loss, params...)
	if err != nil {
		return nil, fmt.Errorf("oracle: differentiating: %w", err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		return nil, fmt.Errorf("oracle: running: %w", err)
	}
	out := &oracleOut{}
	l, err := floatsOf(loss.Value())
	if err != nil {
		return nil, err
	}
	if len(l) != 1 {
		return nil, fmt.Errorf("oracle: loss has %d elements", len(l))
	}
	out.loss = l[0]
	if out.probs, err = floatsOf(probs.Value()); err != nil {
		return nil, err
	}
	for k, n := range gradNodes {
		if out.grads[k], err = floatsOf(n.Value()); err != nil {
			return nil, fmt.Errorf("oracle: gradient of %s: %w", weightNames[k], err)
		}
		if len(out.grads[k]) != len(w[k]) {
			return nil, fmt.Errorf("oracle: gradient of %s has %d elements, want %d", weightNames[k], len(out.grads[k]), len(w[k]))
		}
	}
	return out, nil
}

// refForward is a plain-Go float64 forward pass of the same network: the
// mean loss, the probabilities and the logits. It shares no code with the
// engine or the oracle.
func refForward(d dims, x []float64, y []int, w paramSet) (loss float64, probs, logits []float64) {
	wih, whh, bih, bhh, wfc, bfc := w[0], w[1], w[2], w[3], w[4], w[5]
	h := make([]float64, d.B*d.H)
	next := make([]float64, d.B*d.H)
	for t := 0; t < d.T; t++ {
		for b := 0; b < d.B; b++ {
			xb := x[(t*d.B+b)*d.I : (t*d.B+b+1)*d.I]
			hb := h[b*d.H : (b+1)*d.H]
			for j := 0; j < d.H; j++ {
				s := bih[j] + bhh[j]
				for i, v := range xb {
					s += v * wih[j*d.I+i]
				}
				for i, v := range hb {
					s += v * whh[j*d.H+i]
				}
				next[b*d.H+j] = math.Tanh(s)
			}
		}
		h, next = next, h
	}
	logits = make([]float64, d.B*d.C)
	probs = make([]float64, d.B*d.C)
	for b := 0; b < d.B; b++ {
		z := logits[b*d.C : (b+1)*d.C]
		m := math.Inf(-1)
		for c := range z {
			s := bfc[c]
			for j := 0; j < d.H; j++ {
				s += h[b*d.H+j] * wfc[c*d.H+j]
			}
			z[c] = s
			m = math.Max(m, s)
		}
		var sum float64
		for _, v := range z {
			sum += math.Exp(v - m)
		}
		lse := m + math.Log(sum)
		loss += lse - z[y[b]]
		for c, v := range z {
			probs[b*d.C+c] = math.Exp(v - lse)
		}
	}
	return loss / float64(d.B), probs, logits
}

// maxRelErr is max_i |got_i - want_i| / max_i |want_i| (or the plain
// absolute error when want is all zeros), and the index of the worst
// element.
func maxRelErr(got, want []float64) (float64, int) {
	var scale, worst float64
	at := -1
	for i, v := range want {
		scale = math.Max(scale, math.Abs(v))
		if e := math.Abs(got[i] - v); e > worst || math.IsNaN(e) {
			worst, at = e, i
			if math.IsNaN(e) {
				worst = math.Inf(1)
			}
		}
	}
	if scale == 0 {
		return worst, at
	}
	return worst / scale, at
}

func TestOracleFiniteDifferences(t *testing.T) {
	cases := []struct {
		name  string
		d     dims
		scale float64
		seed  uint64
	}{
		{"B3T4I5H6C4", dims{B: 3, T: 4, I: 5, H: 6, C: 4}, 0.5, 1},
		{"B1T1I2H3C2", dims{B: 1, T: 1, I: 2, H: 3, C: 2}, 0.5, 2},
		{"B2T6I3H4C3-saturating", dims{B: 2, T: 6, I: 3, H: 4, C: 3}, 1.5, 3},
		{"B4T3I2H5C5-large-logits", dims{B: 4, T: 3, I: 2, H: 5, C: 5}, 4, 4},
	}
	const (
		step   = 1e-6
		relTol = 1e-6
		absTol = 1e-8
	)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(tc.seed, 0x04ac1e))
			d := tc.d
			w := randWeights(rng, d, tc.scale)
			x, y := randBatch(rng, d)
			got, err := runOracle(tensor.Float64, exactAct, d, x, y, w)
			if err != nil {
				t.Fatal(err)
			}
			wantLoss, wantProbs, _ := refForward(d, x, y, w)
			if e := math.Abs(got.loss-wantLoss) / math.Abs(wantLoss); !(e <= 1e-13) {
				t.Errorf("loss: oracle %.17g, reference %.17g (relative error %.3g)", got.loss, wantLoss, e)
			}
			if e, i := maxRelErr(got.probs, wantProbs); !(e <= 1e-13) {
				t.Errorf("probs[%d]: oracle %.17g, reference %.17g (error %.3g)", i, got.probs[i], wantProbs[i], e)
			}
			var worst float64
			for k := range w {
				p := w.clone()
				for i := range p[k] {
					orig := p[k][i]
					p[k][i] = orig + step
					lp, _, _ := refForward(d, x, y, p)
					p[k][i] = orig - step
					lm, _, _ := refForward(d, x, y, p)
					p[k][i] = orig
					fd := (lp - lm) / (2 * step)
					an := got.grads[k][i]
					diff := math.Abs(an - fd)
					if !(diff <= absTol+relTol*math.Abs(fd)) {
						t.Errorf("d loss / d %s[%d]: oracle %.12g, finite difference %.12g (diff %.3g)", weightNames[k], i, an, fd, diff)
					}
					worst = math.Max(worst, diff/(absTol+relTol*math.Abs(fd)))
				}
			}
			t.Logf("loss %.6f; worst gradient error %.3g of the tolerance", got.loss, worst)
		})
	}
}

// TestOracleFloat32MatchesFloat64 checks that the float32 build of the
// oracle agrees with its float64 build, so that comparing the fast path with
// the float32 oracle is meaningful.
func TestOracleFloat32MatchesFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 0x04ac1e))
	d := dims{B: 5, T: 7, I: 6, H: 9, C: 4}
	w := randWeights(rng, d, 0.5)
	x, y := randBatch(rng, d)
	o64, err := runOracle(tensor.Float64, exactAct, d, x, y, w)
	if err != nil {
		t.Fatal(err)
	}
	o32, err := runOracle(tensor.Float32, exactAct, d, x, y, w)
	if err != nil {
		t.Fatal(err)
	}
	if e := math.Abs(o32.loss-o64.loss) / o64.loss; !(e <= 1e-6) {
		t.Errorf("loss: float32 %.9g, float64 %.9g (relative error %.3g)", o32.loss, o64.loss, e)
	}
	if e, i := maxRelErr(o32.probs, o64.probs); !(e <= 1e-6) {
		t.Errorf("probs[%d]: float32 %.9g, float64 %.9g (error %.3g)", i, o32.probs[i], o64.probs[i], e)
	}
	for k := range w {
		if e, i := maxRelErr(o32.grads[k], o64.grads[k]); !(e <= 1e-5) {
			t.Errorf("gradient of %s[%d]: float32 %.9g, float64 %.9g (error %.3g)", weightNames[k], i, o32.grads[k][i], o64.grads[k][i], e)
		}
	}
}
