package engine

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The fused fast path: two gorgonia ops (the whole recurrent layer, and the
// linear head with a stable softmax cross-entropy) whose SymDiff returns
// backward ops sharing the forward's saved state through a *batchState.
// Every buffer is allocated once per batch size, so a training step does no
// heap allocation of its own.

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
	dhead []float32 // B*H loss gradient at the last hidden state
	grads *Params   // gradient buffers (shared by every graph of a trainer)

	loss    G.F32 // the batch's mean loss
	lossSum float64
	correct int

	gen, rnnDone, headDone uint64 // forward count; last forward each backward served

	hLast, dheadT *tensor.Dense
	gradT         [6]*tensor.Dense // views on grads, state_dict order
}

func newBatchState(c Config, b, workers int, grads *Params) *batchState {
	d := dims{B: b, T: c.Steps, I: c.Inputs, H: c.Hidden, C: c.Classes}
	s := &batchState{
		d: d, grads: grads,
		x:     make([]float32, d.T*d.B*d.I),
		y:     make([]int, d.B),
		lay:   newLayer(c, d, workers, grads != nil),
		probs: make([]float32, d.B*d.C),
		dl:    make([]float32, d.B*d.C),
		dhead: make([]float32, d.B*d.H),
	}
	s.hLast = dense(s.lay.hLast, d.B, d.H)
	s.dheadT = dense(s.dhead, d.B, d.H)
	if grads != nil {
		for i, sh := range paramShapes(c) {
			s.gradT[i] = dense(grads.slices()[i], sh...)
		}
	}
	return s
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

// rnnOp is the whole recurrent layer: (x, Wih, Whh, bih, bhh) -> h_T.
type rnnOp struct{ opBase }

var _ G.SDOp = rnnOp{}

func (o rnnOp) Arity() int { return 5 }
func (o rnnOp) Type() hm.Type {
	return hm.NewFnType(mat32, mat32, mat32, vec32, vec32, mat32)
}
func (o rnnOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{o.st.d.B, o.st.d.H}, nil
}
func (o rnnOp) Do(v ...G.Value) (G.Value, error) {
	s := o.st
	s.gen++
	s.lay.forward(f32s(v[0]), f32s(v[1]), f32s(v[2]), f32s(v[3]), f32s(v[4]))
	return s.hLast, nil
}
func (o rnnOp) DiffWRT(int) []bool { return []bool{false, true, true, true, true} }
func (o rnnOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	res := make(G.Nodes, 5)
	for k := 1; k < 5; k++ {
		n, err := G.ApplyOp(rnnGradOp{opBase{o.st, "rnn_grad", k}}, in[0], in[1], in[2], in[3], in[4], grad)
		if err != nil {
			return nil, err
		}
		res[k] = n
	}
	return res, nil
}

// rnnGradOp yields gradient k (1 Wih, 2 Whh, 3 bih, 4 bhh) of the recurrent
// layer; whichever runs first after a forward pass does the whole
// backpropagation through time for all four.
type rnnGradOp struct{ opBase }

func (o rnnGradOp) Arity() int { return 6 }
func (o rnnGradOp) Type() hm.Type {
	out := G.TensorType{Dims: len(o.st.gradT[o.k-1].Shape()), Of: tensor.Float32}
	return hm.NewFnType(mat32, mat32, mat32, vec32, vec32, mat32, out)
}
func (o rnnGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return o.st.gradT[o.k-1].Shape().Clone(), nil
}
func (o rnnGradOp) Do(v ...G.Value) (G.Value, error) {
	s := o.st
	if s.rnnDone != s.gen {
		s.rnnDone = s.gen
		s.lay.backward(f32s(v[0]), f32s(v[2]), f32s(v[5]), s.grads)
	}
	return s.gradT[o.k-1], nil
}

// headOp is the linear layer with the mean softmax cross-entropy against the
// state's labels: (h, Wfc, bfc) -> loss. It keeps the probabilities.
type headOp struct{ opBase }

var _ G.SDOp = headOp{}

func (o headOp) Arity() int                                     { return 3 }
func (o headOp) Type() hm.Type                                  { return hm.NewFnType(mat32, mat32, vec32, tensor.Float32) }
func (o headOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return tensor.ScalarShape(), nil }
func (o headOp) Do(v ...G.Value) (G.Value, error) {
	s := o.st
	s.lossSum, s.correct = headForward(s.d, f32s(v[0]), f32s(v[1]), f32s(v[2]), s.y, s.probs)
	s.loss = G.F32(s.lossSum / float64(s.d.B))
	return &s.loss, nil
}
func (o headOp) DiffWRT(int) []bool { return []bool{true, true, true} }
func (o headOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	res := make(G.Nodes, 3)
	for k := range res {
		n, err := G.ApplyOp(headGradOp{opBase{o.st, "head_grad", k}}, in[0], in[1], in[2], grad)
		if err != nil {
			return nil, err
		}
		res[k] = n
	}
	return res, nil
}

// headGradOp yields gradient k (0 h, 1 Wfc, 2 bfc) of the head; whichever
// runs first after a forward pass computes all three.
type headGradOp struct{ opBase }

func (o headGradOp) Arity() int { return 4 }
func (o headGradOp) out() *tensor.Dense {
	if o.k == 0 {
		return o.st.dheadT
	}
	return o.st.gradT[3+o.k]
}
func (o headGradOp) Type() hm.Type {
	out := G.TensorType{Dims: len(o.out().Shape()), Of: tensor.Float32}
	return hm.NewFnType(mat32, mat32, vec32, tensor.Float32, out)
}
func (o headGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return o.out().Shape().Clone(), nil
}
func (o headGradOp) Do(v ...G.Value) (G.Value, error) {
	s := o.st
	if s.headDone != s.gen {
		s.headDone = s.gen
		scale := scalar32(v[3]) / float32(s.d.B)
		headBackward(s.d, f32s(v[0]), f32s(v[1]), s.probs, s.y, scale, s.dl, s.dhead, s.grads.Wfc, s.grads.Bfc)
	}
	return o.out(), nil
}

// scalar32 reads a scalar gorgonia value (a *F32 or a one-element tensor).
func scalar32(v G.Value) float32 {
	if f, ok := v.(*G.F32); ok {
		return float32(*f)
	}
	return f32s(v)[0]
}
