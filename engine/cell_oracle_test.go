package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The cells' oracle: the RNN, LSTM and GRU unrolled from gorgonia's
// primitive ops, one parameter node per gate block (so no slicing is
// involved; the RNN is the one-block case), differentiated by gorgonia.Grad
// and checked against central finite differences of a plain-Go float64
// forward pass. The fused kernels are then compared with its float32 build,
// in one table over the three cells. (oracle_test.go keeps the RNN's
// original oracle, with its own finite-difference and fast-path tests.)

// cellShapes lists the parameter shapes of cell for d, in state_dict order.
func cellShapes(cell Cell, d dims) [6][]int {
	g := configFor(d)
	g.Cell = cell
	gh := g.gates() * d.H
	return [6][]int{{gh, d.I}, {gh, d.H}, {gh}, {gh}, {d.C, d.H}, {d.C}}
}

// randCellWeights draws every parameter of cell from U(-scale, scale),
// rounded to float32.
func randCellWeights(rng *rand.Rand, cell Cell, d dims, scale float64) paramSet {
	var w paramSet
	for k, sh := range cellShapes(cell, d) {
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

// runCellOracle builds the network with an RNN, LSTM or GRU layer from
// gorgonia's primitive ops in precision dt and runs it on one batch; see
// runOracle for the head and the loss, which are built the same way. It
// also returns the norms of dL/dh_t (the gradient at every step's hidden
// state, gorgonia's own) summed over the batch.
func runCellOracle(dt tensor.Dtype, act oracleAct, cell Cell, d dims, x []float64, y []int, w paramSet) (*oracleOut, error) {
	ng := cell.Gates()
	g := G.NewGraph()
	var err error
	must := func(n *G.Node, e error) *G.Node {
		if err == nil && e != nil {
			err = e
		}
		return n
	}
	seq := 0
	op := func(n *G.Node, e error) *G.Node {
		n = must(n, e)
		if n != nil {
			seq++
			G.WithName(fmt.Sprintf("n%d", seq))(n)
		}
		return n
	}
	mat := func(name string, data []float64, r, c int) *G.Node {
		return G.NewMatrix(g, dt, G.WithShape(r, c), G.WithName(name), G.WithValue(denseOf(dt, data, r, c)))
	}
	vec := func(name string, data []float64) *G.Node {
		return G.NewVector(g, dt, G.WithShape(len(data)), G.WithName(name), G.WithValue(denseOf(dt, data, len(data))))
	}
	// One node per gate block: wih[k] is rows k*H..(k+1)*H of Wih, etc.
	var wih, whh, bih, bhh []*G.Node
	var params G.Nodes
	for k := 0; k < ng; k++ {
		h := d.H
		wih = append(wih, mat(fmt.Sprintf("wih%d", k), w[0][k*h*d.I:(k+1)*h*d.I], h, d.I))
		whh = append(whh, mat(fmt.Sprintf("whh%d", k), w[1][k*h*h:(k+1)*h*h], h, h))
		bih = append(bih, vec(fmt.Sprintf("bih%d", k), w[2][k*h:(k+1)*h]))
		bhh = append(bhh, vec(fmt.Sprintf("bhh%d", k), w[3][k*h:(k+1)*h]))
	}
	for _, ns := range [][]*G.Node{wih, whh, bih, bhh} {
		params = append(params, ns...)
	}
	wfc := mat("wfc", w[4], d.C, d.H)
	bfc := vec("bfc", w[5])
	params = append(params, wfc, bfc)

	ones := make([]float64, d.B*d.H)
	for i := range ones {
		ones[i] = 1
	}
	one := mat("ones", ones, d.B, d.H)
	// proj is x W^T + b for one gate block.
	proj := func(in, wk, bk *G.Node) *G.Node {
		return op(G.BroadcastAdd(op(G.Mul(in, op(G.Transpose(wk)))), bk, nil, []byte{0}))
	}
	h := mat("h0", make([]float64, d.B*d.H), d.B, d.H)
	c := mat("c0", make([]float64, d.B*d.H), d.B, d.H)
	var hNodes G.Nodes
	for t := 0; t < d.T && err == nil; t++ {
		xt := mat(fmt.Sprintf("x%d", t), x[t*d.B*d.I:(t+1)*d.B*d.I], d.B, d.I)
		xs := make([]*G.Node, ng)
		hs := make([]*G.Node, ng)
		for k := 0; k < ng; k++ {
			xs[k] = proj(xt, wih[k], bih[k])
			hs[k] = proj(h, whh[k], bhh[k])
		}
		switch cell {
		case RNN:
			h = op(act.tanh(op(G.Add(xs[0], hs[0]))))
		case LSTM:
			i := op(act.sigmoid(op(G.Add(xs[0], hs[0]))))
			f := op(act.sigmoid(op(G.Add(xs[1], hs[1]))))
			gg := op(act.tanh(op(G.Add(xs[2], hs[2]))))
			o := op(act.sigmoid(op(G.Add(xs[3], hs[3]))))
			c = op(G.Add(op(G.HadamardProd(f, c)), op(G.HadamardProd(i, gg))))
			h = op(G.HadamardProd(o, op(act.tanh(c))))
		default:
			r := op(act.sigmoid(op(G.Add(xs[0], hs[0]))))
			z := op(act.sigmoid(op(G.Add(xs[1], hs[1]))))
			n := op(act.tanh(op(G.Add(xs[2], op(G.HadamardProd(r, hs[2]))))))
			h = op(G.Add(op(G.HadamardProd(op(G.Sub(one, z)), n)), op(G.HadamardProd(z, h))))
		}
		// gorgonia differentiates with regard to input nodes only: a zero
		// input added to h_t has the gradient dL/dh_t.
		probe := mat(fmt.Sprintf("probe%d", t), make([]float64, d.B*d.H), d.B, d.H)
		h = op(G.Add(h, probe))
		hNodes = append(hNodes, probe)
	}
	if err != nil {
		return nil, fmt.Errorf("oracle: building the recurrence: %w", err)
	}
	logits := op(G.BroadcastAdd(op(G.Mul(h, op(G.Transpose(wfc)))), bfc, nil, []byte{0}))
	shifted := op(G.BroadcastSub(logits, op(G.Max(logits, 1)), nil, []byte{1}))
	logSum := op(G.Log(op(G.Sum(op(G.Exp(shifted)), 1))))
	onehot := make([]float64, d.B*d.C)
	for b, cl := range y {
		onehot[b*d.C+cl] = 1
	}
	picked := op(G.Sum(op(G.HadamardProd(shifted, mat("onehot", onehot, d.B, d.C))), 1))
	loss := op(G.Mean(op(G.Sub(logSum, picked))))
	probs := op(G.Exp(op(G.BroadcastSub(shifted, logSum, nil, []byte{1}))))
	if err != nil {
		return nil, fmt.Errorf("oracle: building the loss: %w", err)
	}
	gradNodes, err := G.Grad(loss, append(params, hNodes...)...)
	if err != nil {
		return nil, fmt.Errorf("oracle: differentiating: %w", err)
	}
	dhNodes := gradNodes[len(params):]
	gradNodes = gradNodes[:len(params)]
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
	out.loss = l[0]
	if out.probs, err = floatsOf(probs.Value()); err != nil {
		return nil, err
	}
	// Concatenate the gate blocks' gradients back into state_dict layout.
	for i, n := range gradNodes {
		v, err := floatsOf(n.Value())
		if err != nil {
			return nil, err
		}
		k := 4 + i - 4*ng // the head's two tensors come last
		if i < 4*ng {
			k = i / ng
		}
		out.grads[k] = append(out.grads[k], v...)
	}
	for _, n := range dhNodes {
		v, err := floatsOf(n.Value())
		if err != nil {
			return nil, err
		}
		var sum float64
		for b := 0; b < d.B; b++ {
			var sq float64
			for _, e := range v[b*d.H : (b+1)*d.H] {
				sq += e * e
			}
			sum += math.Sqrt(sq)
		}
		out.norms = append(out.norms, sum)
	}
	for k := range w {
		if len(out.grads[k]) != len(w[k]) {
			return nil, fmt.Errorf("oracle: gradient of %s has %d elements, want %d", weightNames[k], len(out.grads[k]), len(w[k]))
		}
	}
	return out, nil
}

func sigmoid64(v float64) float64 { return 1 / (1 + math.Exp(-v)) }

// refCellForward is a plain-Go float64 forward pass of the network with an
// RNN, LSTM or GRU layer, written from PyTorch's documented equations: the mean
// loss and the probabilities.
func refCellForward(cell Cell, d dims, x []float64, y []int, w paramSet) (float64, []float64) {
	st := refCellStates(cell, d, x, w)
	logits := refLogits(d, st[d.T-1].h, w)
	var loss float64
	probs := make([]float64, d.B*d.C)
	for b := 0; b < d.B; b++ {
		z := logits[b*d.C : (b+1)*d.C]
		lse := logSumExp(z)
		loss += lse - z[y[b]]
		for cl, v := range z {
			probs[b*d.C+cl] = math.Exp(v - lse)
		}
	}
	return loss / float64(d.B), probs
}

// logSumExp is log(sum(exp(z))), computed stably.
func logSumExp(z []float64) float64 {
	m := math.Inf(-1)
	for _, v := range z {
		m = math.Max(m, v)
	}
	var sum float64
	for _, v := range z {
		sum += math.Exp(v - m)
	}
	return m + math.Log(sum)
}

// refStep is one time step of refCellStates, for all B digits: the hidden
// states h and (LSTM) cell states c, B x H, and the activated gates, B x
// G*H in PyTorch's order (nil for the RNN).
type refStep struct{ h, c, gates []float64 }

// refCellStates runs the recurrent layer of refCellForward and returns
// every step.
func refCellStates(cell Cell, d dims, x []float64, w paramSet) []refStep {
	wih, whh, bih, bhh := w[0], w[1], w[2], w[3]
	H := d.H
	ng := len(bih) / H
	h := make([]float64, d.B*H)
	c := make([]float64, d.B*H)
	xp := make([]float64, ng*H)
	hp := make([]float64, ng*H)
	steps := make([]refStep, d.T)
	for t := 0; t < d.T; t++ {
		nh := make([]float64, d.B*H)
		nc := make([]float64, d.B*H)
		var gates []float64
		if cell != RNN {
			gates = make([]float64, d.B*ng*H)
		}
		for b := 0; b < d.B; b++ {
			xb := x[(t*d.B+b)*d.I : (t*d.B+b+1)*d.I]
			hb := h[b*H : (b+1)*H]
			for j := 0; j < ng*H; j++ {
				sx, sh := bih[j], bhh[j]
				for i, v := range xb {
					sx += v * wih[j*d.I+i]
				}
				for i, v := range hb {
					sh += v * whh[j*H+i]
				}
				xp[j], hp[j] = sx, sh
			}
			var gb []float64
			if gates != nil {
				gb = gates[b*ng*H : (b+1)*ng*H]
			}
			for j := 0; j < H; j++ {
				switch cell {
				case RNN:
					nh[b*H+j] = math.Tanh(xp[j] + hp[j])
				case LSTM:
					i := sigmoid64(xp[j] + hp[j])
					f := sigmoid64(xp[H+j] + hp[H+j])
					g := math.Tanh(xp[2*H+j] + hp[2*H+j])
					o := sigmoid64(xp[3*H+j] + hp[3*H+j])
					gb[j], gb[H+j], gb[2*H+j], gb[3*H+j] = i, f, g, o
					nc[b*H+j] = f*c[b*H+j] + i*g
					nh[b*H+j] = o * math.Tanh(nc[b*H+j])
				default:
					r := sigmoid64(xp[j] + hp[j])
					z := sigmoid64(xp[H+j] + hp[H+j])
					n := math.Tanh(xp[2*H+j] + r*hp[2*H+j])
					gb[j], gb[H+j], gb[2*H+j] = r, z, n
					nh[b*H+j] = (1-z)*n + z*hb[j]
				}
			}
		}
		h, c = nh, nc
		steps[t] = refStep{h: nh, c: nc, gates: gates}
	}
	return steps
}

// refLogits is the linear head on the hidden states h (B x H).
func refLogits(d dims, h []float64, w paramSet) []float64 {
	wfc, bfc := w[4], w[5]
	out := make([]float64, d.B*d.C)
	for b := 0; b < d.B; b++ {
		for cl := 0; cl < d.C; cl++ {
			s := bfc[cl]
			for j := 0; j < d.H; j++ {
				s += h[b*d.H+j] * wfc[cl*d.H+j]
			}
			out[b*d.C+cl] = s
		}
	}
	return out
}

// cells are the recurrent cells every table of this file runs.
var cells = Cells

func TestCellOracleFiniteDifferences(t *testing.T) {
	cases := []struct {
		name  string
		d     dims
		scale float64
		seed  uint64
	}{
		{"B3T4I5H6C4", dims{B: 3, T: 4, I: 5, H: 6, C: 4}, 0.5, 1},
		{"B1T1I2H3C2", dims{B: 1, T: 1, I: 2, H: 3, C: 2}, 0.5, 2},
		{"B2T5I3H4C3-saturating", dims{B: 2, T: 5, I: 3, H: 4, C: 3}, 2, 3},
	}
	const (
		step   = 1e-6
		relTol = 1e-6
		absTol = 1e-8
	)
	for _, cell := range cells {
		for _, tc := range cases {
			t.Run(cell.String()+"/"+tc.name, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(tc.seed, 0xce11))
				d := tc.d
				w := randCellWeights(rng, cell, d, tc.scale)
				x, y := randBatch(rng, d)
				got, err := runCellOracle(tensor.Float64, exactAct, cell, d, x, y, w)
				if err != nil {
					t.Fatal(err)
				}
				wantLoss, wantProbs := refCellForward(cell, d, x, y, w)
				if e := math.Abs(got.loss-wantLoss) / math.Abs(wantLoss); !(e <= 1e-13) {
					t.Errorf("loss: oracle %.17g, reference %.17g (relative error %.3g)", got.loss, wantLoss, e)
				}
				if e, i := maxRelErr(got.probs, wantProbs); !(e <= 1e-13) {
					t.Errorf("probs[%d]: oracle %.17g, reference %.17g (error %.3g)", i, got.probs[i], wantProbs[i], e)
				}
				for k := range w {
					p := w.clone()
					for i := range p[k] {
						orig := p[k][i]
						p[k][i] = orig + step
						lp, _ := refCellForward(cell, d, x, y, p)
						p[k][i] = orig - step
						lm, _ := refCellForward(cell, d, x, y, p)
						p[k][i] = orig
						fd := (lp - lm) / (2 * step)
						an := got.grads[k][i]
						if diff := math.Abs(an - fd); !(diff <= absTol+relTol*math.Abs(fd)) {
							t.Errorf("d loss / d %s[%d]: oracle %.12g, finite difference %.12g (diff %.3g)", weightNames[k], i, an, fd, diff)
						}
					}
				}
			})
		}
	}
}

// newCellNet builds a training graph of the fused fast path for cell and d,
// then writes the weights w into its parameters.
func newCellNet(t testing.TB, cell Cell, d dims, workers int, w paramSet) *fastNet {
	t.Helper()
	c := configFor(d)
	c.Cell = cell
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	p, grads := NewParams(c), NewParams(c)
	n, err := newNet(c, d.B, workers, p, grads)
	if err != nil {
		t.Fatal(err)
	}
	p.CopyFrom(paramsOf(c, w))
	return &fastNet{n: n, p: p, grads: grads}
}

// TestCellFastPathMatchesOracle compares the fused kernels of every cell
// with the float32 primitive-op oracle (also the per-step norms of dL/dh_t
// the backward pass records for GradNorms): the notebook's shapes with a full
// batch and partial ones, odd small shapes, one and two workers, two
// batches in a row through the same graph. Every quantity must be within
// tol of the float32 oracle (max-abs error over the tensor's largest
// magnitude, see compareOut), unless the float32 oracle is itself more than
// tol/10 from the float64 one (cancellation in a tiny tensor): then the rule
// of oracleCase.check applies, with the fast path's sigmoid (from Tanh32) in
// its reference too.
func TestCellFastPathMatchesOracle(t *testing.T) {
	const tol = 1e-5
	shapes := []struct {
		name string
		d    dims
	}{
		{"notebook-B64", dims{B: 64, T: 28, I: 28, H: 128, C: 10}},
		{"notebook-B7", dims{B: 7, T: 28, I: 28, H: 128, C: 10}},
		{"B5T9I5H7C3", dims{B: 5, T: 9, I: 5, H: 7, C: 3}},
		{"B13T4I3H33C11", dims{B: 13, T: 4, I: 3, H: 33, C: 11}},
		{"B2T1I1H1C2", dims{B: 2, T: 1, I: 1, H: 1, C: 2}},
	}
	switch {
	case raceEnabled:
		shapes = shapes[2:] // the notebook's sizes are checked without -race
	case testing.Short():
		shapes = shapes[1:]
	}
	for _, cell := range cells {
		for si, sh := range shapes {
			d := sh.d
			t.Run(cell.String()+"/"+sh.name, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(si+1), 0xfa57ce11))
				scale := 1 / math.Sqrt(float64(d.H))
				if si%2 == 1 {
					scale *= 2
				}
				w := randCellWeights(rng, cell, d, scale)
				type batch struct {
					x  []float64
					y  []int
					oc *oracleCase
				}
				batches := make([]batch, 2)
				for i := range batches {
					b := &batches[i]
					b.x, b.y = randBatch(rng, d)
					var err error
					if b.oc, err = newOracleCase(func(dt tensor.Dtype, act oracleAct) (*oracleOut, error) {
						return runCellOracle(dt, act, cell, d, b.x, b.y, w)
					}); err != nil {
						t.Fatal(err)
					}
				}
				var worst outErrs
				for _, workers := range []int{1, 2} {
					f := newCellNet(t, cell, d, workers, w)
					for i, b := range batches {
						got, _ := f.run(t, b.x, b.y)
						v := b.oc.check(t, fmt.Sprintf("workers %d batch %d", workers, i), got, tol)
						for j, e := range v.e {
							if !v.ill[j] && e <= tol {
								worst[j] = math.Max(worst[j], e)
							}
						}
					}
				}
				t.Logf("worst: %v", worst)
			})
		}
	}
}
