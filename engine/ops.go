package engine

import (
	"fmt"
	"hash"
	"hash/fnv"
	"time"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/mnist-tui/mnist-tui/mnist"
)

// The fused fast path: one gorgonia op for the whole network (the
// recurrent layer, the linear head and a stable softmax cross-entropy),
// whose SymDiff returns backward ops that share the forward's saved state
// through a *batchState. One op rather than two (layer, head) so that a
// pass hands off to the second worker once: each worker carries its half
// of the batch through the layer and the head in the forward pass, and
// back through both in the backward pass (two ops would run the head
// between two hand-offs, on one core). gorgonia still builds the graph,
// differentiates it symbolically (the SymDiff below) and runs it on its
// tape machine. Every buffer is allocated once per batch size, so a
// training step does no heap allocation of its own.

var (
	mat32 = G.TensorType{Dims: 2, Of: tensor.Float32}
	vec32 = G.TensorType{Dims: 1, Of: tensor.Float32}
)

// batchState is what one graph's fused ops share for one batch size.
type batchState struct {
	d     dims
	x     []float32 // T*B*I inputs, time-major; bound to the graph's x node
	y     []int     // B labels
	lay   *layer    // the recurrent layer's saved state
	probs []float32 // B*C softmax outputs
	dl    []float32 // B*C logit gradients
	grads *Params   // gradient buffers (shared by every graph of a trainer)

	loss    G.F32 // the batch's mean loss
	lossSum float64
	correct int
	// rowLoss is every digit's loss, summed in batch order (so the loss
	// does not depend on the split); sums are the parts' correct counts,
	// a cache line each.
	rowLoss []float64
	sums    []partSum

	gen, done uint64 // forward count; last forward the backward served

	// src, if not nil, holds the batch (number k) the next forward pass
	// runs: each part fills its own digits of x and y first, on its own
	// core (the last reads of the batch from memory are then not the one
	// core's alone while the other waits). nil: x and y already hold it.
	src *mnist.Loader
	k   int

	// headGrads writes the head's weight gradients from dl (built once:
	// the weight gradients' first work item, see layer.weightGrads).
	headGrads func()

	gradT [6]*tensor.Dense // views on grads, state_dict order
}

// partSum is one part's correct count, padded to a cache line.
type partSum struct {
	correct int
	_       [cacheLine - 8]byte
}

func newBatchState(c Config, b, workers int, grads *Params, w *weights) *batchState {
	d := dims{B: b, T: c.Steps, I: c.Inputs, H: c.Hidden, C: c.Classes}
	s := &batchState{
		d: d, grads: grads,
		x:       make([]float32, d.T*d.B*d.I),
		y:       make([]int, d.B),
		lay:     newLayer(c, d, workers, grads != nil, w),
		probs:   alignedFloats(d.B * d.C),
		dl:      alignedFloats(d.B * d.C),
		rowLoss: make([]float64, d.B),
	}
	s.sums = make([]partSum, len(s.lay.parts))
	if grads != nil {
		last := s.lay.hs[(d.T-1)*d.B*d.H:]
		s.headGrads = func() { headWeightGrads(d, last, s.dl, grads.Wfc, grads.Bfc) }
		for i, sh := range paramShapes(c) {
			s.gradT[i] = dense(grads.slices()[i], sh...)
		}
	}
	return s
}

// forward runs the network over the batch in x and y (or in src) with the
// weights in v (Wih, Whh, bih, bhh, Wfc, bfc): each part fills its digits
// from src (if set), prepares its share of the weights (unless an
// evaluator did), then, once all have, runs its digits through the layer
// and the head.
func (s *batchState) forward(v [6][]float32) {
	l := s.lay
	l.each(func(p int) {
		pt := l.parts[p]
		if s.src != nil {
			s.src.Fill(s.k, s.x, s.y, pt.b0, pt.b1)
		}
		l.preparePart(p, v[0], v[1], v[2], v[3])
		start := time.Now()
		l.forwardPart(p, s.x)
		d := s.d
		d.B = pt.b1 - pt.b0
		s.sums[p].correct = headForward(d, l.last(p), v[4], v[5], s.y[pt.b0:pt.b1], s.probs[pt.b0*d.C:pt.b1*d.C], s.rowLoss[pt.b0:pt.b1])
		l.done(p, start)
	})
	s.src = nil
	s.lossSum, s.correct = 0, 0
	for _, v := range s.rowLoss {
		s.lossSum += v
	}
	for _, ps := range s.sums {
		s.correct += ps.correct
	}
	s.loss = G.F32(s.lossSum / float64(s.d.B))
}

// backward writes into s.grads the gradients of scale times the loss sum
// of the last forward pass, wfc being the head's weights: each part back
// through the head and the layer for its digits, then the weight
// gradients, each worker summing a half of the batch's digits step by step
// as soon as every part's backward pass has written the step
// (layer.weightGrads).
func (s *batchState) backward(scale float32, wfc []float32) {
	l, d, g := s.lay, s.d, s.grads
	l.each(func(p int) {
		start := time.Now()
		pt := l.parts[p]
		dp := d
		dp.B = pt.b1 - pt.b0
		c0, c1 := pt.b0*d.C, pt.b1*d.C
		headBackward(dp, wfc, s.probs[c0:c1], s.y[pt.b0:pt.b1], scale, s.dl[c0:c1], l.dhead(p))
		l.backwardPart(p)
		l.done(p, start)
		l.weightGrads(p, s.x, g, s.headGrads)
	})
}

// dense wraps s (without copying) as a float32 tensor of the given shape.
func dense(s []float32, shape ...int) *tensor.Dense {
	n := 1
	for _, v := range shape {
		n *= v
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(s[:n]))
}

// paramShapes lists the tensors' shapes in state_dict order.
func paramShapes(c Config) [][]int {
	g := c.gates() * c.Hidden
	return [][]int{{g, c.Inputs}, {g, c.Hidden}, {g}, {g}, {c.Classes, c.Hidden}, {c.Classes}}
}

// f32s returns the float32 data of a gorgonia value without boxing it.
func f32s(v G.Value) []float32 {
	if d, ok := v.(*tensor.Dense); ok {
		return d.Float32s()
	}
	return v.Data().([]float32)
}

// opBase carries what every fused op shares: its state (identity for the
// hash, so two graphs' ops never merge) and its name.
type opBase struct {
	st   *batchState
	name string
	k    int // which output, for the backward ops
}

func (o opBase) ReturnsPtr() bool      { return true }
func (o opBase) CallsExtern() bool     { return false }
func (o opBase) OverwritesInput() int  { return -1 }
func (o opBase) String() string        { return fmt.Sprintf("%s%d", o.name, o.k) }
func (o opBase) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%s/%d/%p", o.name, o.k, o.st) }
func (o opBase) Hashcode() uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}

// modelOp is the whole network: (x, Wih, Whh, bih, bhh, Wfc, bfc) -> the
// mean cross-entropy of the batch against the state's labels. It keeps
// the probabilities.
type modelOp struct{ opBase }

var _ G.SDOp = modelOp{}

func (o modelOp) Arity() int { return 7 }
func (o modelOp) Type() hm.Type {
	return hm.NewFnType(mat32, mat32, mat32, vec32, vec32, mat32, vec32, tensor.Float32)
}
func (o modelOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return tensor.ScalarShape(), nil }
func (o modelOp) Do(v ...G.Value) (G.Value, error) {
	s := o.st
	s.gen++
	s.forward([6][]float32{f32s(v[1]), f32s(v[2]), f32s(v[3]), f32s(v[4]), f32s(v[5]), f32s(v[6])})
	return &s.loss, nil
}
func (o modelOp) DiffWRT(int) []bool { return []bool{false, true, true, true, true, true, true} }
func (o modelOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	res := make(G.Nodes, 7)
	for k := 1; k < 7; k++ {
		n, err := G.ApplyOp(modelGradOp{opBase{o.st, "model_grad", k}}, append(in[:7:7], grad)...)
		if err != nil {
			return nil, err
		}
		res[k] = n
	}
	return res, nil
}

// modelGradOp yields gradient k (1 Wih, 2 Whh, 3 bih, 4 bhh, 5 Wfc, 6 bfc)
// of the network; whichever runs first after a forward pass does the whole
// backward pass for all six.
type modelGradOp struct{ opBase }

func (o modelGradOp) Arity() int { return 8 }
func (o modelGradOp) Type() hm.Type {
	out := G.TensorType{Dims: len(o.st.gradT[o.k-1].Shape()), Of: tensor.Float32}
	return hm.NewFnType(mat32, mat32, mat32, vec32, vec32, mat32, vec32, tensor.Float32, out)
}
func (o modelGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return o.st.gradT[o.k-1].Shape().Clone(), nil
}
func (o modelGradOp) Do(v ...G.Value) (G.Value, error) {
	s := o.st
	if s.done != s.gen {
		s.done = s.gen
		s.backward(scalar32(v[7])/float32(s.d.B), f32s(v[5]))
	}
	return s.gradT[o.k-1], nil
}

// scalar32 reads a scalar gorgonia value (a *F32 or a one-element tensor).
func scalar32(v G.Value) float32 {
	if f, ok := v.(*G.F32); ok {
		return float32(*f)
	}
	return f32s(v)[0]
}
