package engine

import (
	"math"
	"math/rand/v2"
	"testing"
)

// traceModel is the notebook's model of cell with weights drawn at twice
// PyTorch's scale, so that its predictions differ from digit to digit and
// from step to step (the untrained initialisation is nearly uniform).
func traceModel(t testing.TB, cell Cell, seed uint64) *Model {
	t.Helper()
	c := DefaultConfig()
	c.Cell = cell
	d := dims{B: 1, T: c.Steps, I: c.Inputs, H: c.Hidden, C: c.Classes}
	w := randCellWeights(rand.New(rand.NewPCG(seed, 0x7ace)), cell, d, 2/math.Sqrt(float64(c.Hidden)))
	return &Model{Config: c, Params: paramsOf(c, w)}
}

// TestTraceMatchesEvaluate holds Model.Trace against the batched
// evaluation graph for every cell: the probabilities after the last step
// are bit for bit Evaluate's (batches of 64 on two workers, and a partial
// last batch), so the replay's last step is exactly the prediction the
// browser shows. The trace must be the network's, too: its hidden states,
// cell states, gate means and per-step probabilities match a float64
// forward pass written from PyTorch's equations.
func TestTraceMatchesEvaluate(t *testing.T) {
	if raceEnabled {
		t.Skip("numerics are checked without -race")
	}
	data := smallData(t, 100) // a full batch and one of 36
	for _, cell := range cells {
		t.Run(cell.String(), func(t *testing.T) {
			m := traceModel(t, cell, uint64(cell))
			pr, err := m.Evaluate(t.Context(), data.Test, nil)
			if err != nil {
				t.Fatal(err)
			}
			changed := 0
			for i := range data.Test.Len() {
				tr, err := m.Trace(data.Test.Image(i))
				if err != nil {
					t.Fatal(err)
				}
				if tr.Probs[27] != pr.Probs[i] {
					t.Errorf("digit %d: trace's last step %v, evaluate %v", i, tr.Probs[27], pr.Probs[i])
				}
				if got := tr.Pred(27); got != int(pr.Pred[i]) {
					t.Errorf("digit %d: trace predicts %d, evaluate %d", i, got, pr.Pred[i])
				}
				if tr.Pred(13) != tr.Pred(27) {
					changed++
				}
				if s := tr.Settled(); tr.Pred(s) != tr.Pred(27) || (s > 0 && tr.Pred(s-1) == tr.Pred(27)) {
					t.Errorf("digit %d: settled at step %d, but predictions are %v", i, s, preds(tr))
				}
			}
			if changed == 0 {
				t.Error("no digit's prediction at row 14 differs from its last: the test cannot tell steps apart")
			}
			checkTraceAgainstReference(t, m, data.Test.Image(7))
		})
	}
	if _, err := traceModel(t, RNN, 1).Trace(make([]uint8, 10)); err == nil {
		t.Error("Trace of 10 pixels gave no error")
	}
}

// preds lists a trace's prediction at every step.
func preds(tr *Trace) []int {
	out := make([]int, tr.Steps())
	for s := range out {
		out[s] = tr.Pred(s)
	}
	return out
}

// checkTraceAgainstReference compares every step of m's trace of px with
// refCellStates in float64.
func checkTraceAgainstReference(t *testing.T, m *Model, px []uint8) {
	t.Helper()
	c := m.Config
	d := dims{B: 1, T: c.Steps, I: c.Inputs, H: c.Hidden, C: c.Classes}
	x := make([]float64, len(px))
	for i, p := range px {
		x[i] = float64((float32(p)/255 - 0.5) / 0.5)
	}
	w := weightsOf(m.Params)
	ref := refCellStates(c.Cell, d, x, w)
	tr, err := m.Trace(px)
	if err != nil {
		t.Fatal(err)
	}
	const tol = 2e-5
	near := func(what string, s int, got float32, want float64) {
		t.Helper()
		if math.Abs(float64(got)-want) > tol*(1+math.Abs(want)) {
			t.Fatalf("step %d: %s %v, reference %v", s, what, got, want)
		}
	}
	var blocks []int
	switch c.Cell {
	case LSTM:
		blocks = []int{0, 1, 3}
	case GRU:
		blocks = []int{0, 1}
	}
	if len(tr.GateNames) != len(blocks) || (tr.Cell == nil) != (c.Cell != LSTM) || (tr.Gates == nil) != (blocks == nil) {
		t.Fatalf("%s trace has gates %v, cell states %t", c.Cell, tr.GateNames, tr.Cell != nil)
	}
	for s, r := range ref {
		for j, v := range r.h {
			near("h", s, tr.Hidden[s][j], v)
		}
		if tr.Cell != nil {
			for j, v := range r.c {
				near("c", s, tr.Cell[s][j], v)
			}
		}
		for k, b := range blocks {
			var mean float64
			for _, v := range r.gates[b*d.H : (b+1)*d.H] {
				mean += v / float64(d.H)
			}
			near(tr.GateNames[k]+" gate", s, tr.Gates[s][k], mean)
		}
		z := refLogits(d, r.h, w)
		lse := logSumExp(z)
		for cl, v := range z {
			near("probability", s, tr.Probs[s][cl], math.Exp(v-lse))
		}
	}
}
