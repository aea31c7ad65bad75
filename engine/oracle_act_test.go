package engine

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/chewxy/hm"
	"github.com/mnist-tui/mnist-tui/engine/internal/vecf32"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// oracleAct names the nonlinearities an oracle is built with.
type oracleAct int

const (
	// exactAct is gorgonia's own tanh and sigmoid (math's in float64,
	// chewxy/math32's in float32, whose code differs per architecture).
	exactAct oracleAct = iota
	// tanh32Act is the fast path's tanh, vecf32.Tanh32 of the input rounded
	// to float32, and its sigmoid 0.5 + 0.5*tanh(x/2); everything else is
	// computed in the oracle's precision. In float64 it is the network the
	// fast path computes, with only the fast path's float32 rounding of
	// everything but the tanh taken out.
	tanh32Act
)

// tanh returns the node tanh(x).
func (a oracleAct) tanh(x *G.Node) (*G.Node, error) {
	if a == exactAct {
		return G.Tanh(x)
	}
	return G.ApplyOp(tanh32Op{}, x)
}

// sigmoid returns the node sigma(x).
func (a oracleAct) sigmoid(x *G.Node) (*G.Node, error) {
	if a == exactAct {
		return G.Sigmoid(x)
	}
	half := G.NewConstant(0.5)
	hx, err := G.HadamardProd(x, half)
	if err != nil {
		return nil, err
	}
	t, err := a.tanh(hx)
	if err != nil {
		return nil, err
	}
	ht, err := G.HadamardProd(t, half)
	if err != nil {
		return nil, err
	}
	return G.Add(ht, half)
}

// tanh32Op is y = Tanh32(float32(x)) element-wise on a float64 matrix, with
// the derivative 1 - y², which is what the fast path's backward uses.
type tanh32Op struct{}

var _ G.SDOp = tanh32Op{}

func (tanh32Op) Arity() int { return 1 }
func (tanh32Op) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}
func (tanh32Op) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("tanh32: input shape %v", in[0])
	}
	return s.Clone(), nil
}
func (tanh32Op) Do(v ...G.Value) (G.Value, error) {
	x, ok := v[0].(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("tanh32: input %T", v[0])
	}
	d, ok := x.Data().([]float64)
	if !ok {
		return nil, fmt.Errorf("tanh32: input data %T, want []float64", x.Data())
	}
	out := make([]float64, len(d))
	for i, e := range d {
		out[i] = float64(vecf32.Tanh32(float32(e)))
	}
	return tensor.New(tensor.WithShape(x.Shape().Clone()...), tensor.WithBacking(out)), nil
}
func (tanh32Op) ReturnsPtr() bool      { return false }
func (tanh32Op) CallsExtern() bool     { return false }
func (tanh32Op) OverwritesInput() int  { return -1 }
func (tanh32Op) String() string        { return "tanh32" }
func (tanh32Op) WriteHash(h hash.Hash) { fmt.Fprint(h, "tanh32") }
func (o tanh32Op) Hashcode() uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}
func (tanh32Op) DiffWRT(int) []bool { return []bool{true} }

// SymDiff is dL/dx = dL/dy * (1 - y²).
func (tanh32Op) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	one := G.NewConstant(1.0)
	sq, err := G.HadamardProd(out, out)
	if err != nil {
		return nil, err
	}
	d, err := G.Sub(one, sq)
	if err != nil {
		return nil, err
	}
	dx, err := G.HadamardProd(d, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// TestOracleTanh32Op checks the oracle's Tanh32 node against vecf32.Tanh32, and
// its gradient against 1 - y².
func TestOracleTanh32Op(t *testing.T) {
	xs := []float64{-9, -2.5, -0.7, -1e-5, 0, 3e-4, 0.3, 1.25, 4, 8.5}
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 5), G.WithName("x"), G.WithValue(denseOf(tensor.Float64, xs, 2, 5)))
	y, err := tanh32Act.tanh(x)
	if err != nil {
		t.Fatal(err)
	}
	G.WithName("y")(y)
	// Read y's value as it is computed: the backward pass may reuse its
	// memory afterwards.
	var yv G.Value
	G.Read(y, &yv)
	loss, err := G.Sum(y)
	if err != nil {
		t.Fatal(err)
	}
	G.WithName("loss")(loss)
	grads, err := G.Grad(loss, x)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	ys, err := floatsOf(yv)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := floatsOf(grads[0].Value())
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range xs {
		want := float64(vecf32.Tanh32(float32(v)))
		if ys[i] != want {
			t.Errorf("tanh32(%g) = %.9g, Tanh32 %.9g", v, ys[i], want)
		}
		if d := 1 - want*want; math.Abs(ds[i]-d) > 1e-15 {
			t.Errorf("tanh32'(%g) = %.17g, want 1 - y² = %.17g", v, ds[i], d)
		}
	}
}

// TestOracleTanh32MatchesExact checks that the float64 oracles built with
// the fast path's tanh (tanh32Act) are the exact ones up to Tanh32's error,
// for every cell, and that they do run Tanh32 (they are not bit for bit
// the exact ones).
func TestOracleTanh32MatchesExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 0x7a432))
	d := dims{B: 5, T: 7, I: 6, H: 9, C: 4}
	x, y := randBatch(rng, d)
	for _, cell := range cells {
		w := randCellWeights(rng, cell, d, 0.5)
		exact, err := runCellOracle(tensor.Float64, exactAct, cell, d, x, y, w)
		if err != nil {
			t.Fatal(err)
		}
		t32, err := runCellOracle(tensor.Float64, tanh32Act, cell, d, x, y, w)
		if err != nil {
			t.Fatal(err)
		}
		e := compareOut(t32, exact)
		t.Logf("%v: tanh32 oracle against the exact one: %v", cell, e)
		for j, v := range e {
			if !(v <= 2e-6) {
				t.Errorf("%v: %s: tanh32 oracle %.3g from the exact one", cell, outErrNames[j], v)
			}
		}
		if e == (outErrs{}) {
			t.Errorf("%v: the tanh32 oracle is bit for bit the exact one", cell)
		}
	}
	w := randWeights(rng, d, 0.5)
	exact, err := runOracle(tensor.Float64, exactAct, d, x, y, w)
	if err != nil {
		t.Fatal(err)
	}
	t32, err := runOracle(tensor.Float64, tanh32Act, d, x, y, w)
	if err != nil {
		t.Fatal(err)
	}
	e := compareOut(t32, exact)
	t.Logf("rnn (runOracle): tanh32 oracle against the exact one: %v", e)
	for j, v := range e {
		if !(v <= 2e-6) {
			t.Errorf("runOracle: %s: tanh32 oracle %.3g from the exact one", outErrNames[j], v)
		}
	}
	if e == (outErrs{}) {
		t.Error("runOracle: the tanh32 oracle is bit for bit the exact one")
	}
}
