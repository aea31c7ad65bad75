package engine

import (
	"fmt"

	"github.com/mnist-tui/mnist-tui/mnist"
)

// Trace is the network reading one digit row by row: the hidden state after
// every time step, the class probabilities the head would give if the
// digit ended there, and for the gated cells their cell state and gates.
type Trace struct {
	// Hidden[t] is h_t, Hidden units wide.
	Hidden [][]float32
	// Probs[t] is softmax(fc(h_t)). Probs[Steps-1] is the model's
	// prediction for the digit, bit for bit what Evaluate gives.
	Probs [][mnist.Classes]float32
	// Cell[t] is the LSTM's cell state c_t (nil for the other cells).
	Cell [][]float32
	// Gates[t][k] is the mean over the hidden units of the activation of
	// gate GateNames[k] at step t: the LSTM's input, forget and output
	// gates, the GRU's reset and update gates (nil for the RNN).
	Gates     [][]float32
	GateNames []string
}

// Trace runs the model on one 28x28 digit (pixels as in mnist.Set, row-major)
// step by step, for views that replay the reading.
func (m *Model) Trace(pixels []uint8) (*Trace, error) {
	c := m.Config
	x, err := traceInput(c, pixels, "trace")
	if err != nil {
		return nil, err
	}
	d := dims{B: 1, T: c.Steps, I: c.Inputs, H: c.Hidden, C: c.Classes}
	p := m.Params
	l := newLayer(c, d, 1, false, nil)
	l.forward(x, p)
	H := d.H
	tr := &Trace{Hidden: make([][]float32, d.T), Probs: make([][mnist.Classes]float32, d.T)}
	probs := make([]float32, d.C)
	y, loss := []int{0}, []float64{0}
	for t := 0; t < d.T; t++ {
		tr.Hidden[t] = l.hs[t*H : (t+1)*H : (t+1)*H]
		headForward(d, tr.Hidden[t], p.Wfc, p.Bfc, y, probs, loss)
		copy(tr.Probs[t][:], probs)
	}
	// The activated gates of step t are row t of l.pre, G blocks of H in
	// PyTorch's order: the LSTM's i, f, g, o, the GRU's r, z, n.
	var blocks []int
	switch c.Cell {
	case LSTM:
		tr.GateNames, blocks = []string{"input", "forget", "output"}, []int{0, 1, 3}
		tr.Cell = make([][]float32, d.T)
		for t := range tr.Cell {
			tr.Cell[t] = l.aux[t*H : (t+1)*H : (t+1)*H]
		}
	case GRU:
		tr.GateNames, blocks = []string{"reset", "update"}, []int{0, 1}
	}
	if blocks != nil {
		tr.Gates = make([][]float32, d.T)
		for t := range tr.Gates {
			row := l.pre[t*l.gh : (t+1)*l.gh]
			tr.Gates[t] = make([]float32, len(blocks))
			for k, b := range blocks {
				var s float64
				for _, v := range row[b*H : (b+1)*H] {
					s += float64(v)
				}
				tr.Gates[t][k] = float32(s / float64(H))
			}
		}
	}
	return tr, nil
}

// Steps is how many time steps the trace covers.
func (tr *Trace) Steps() int { return len(tr.Probs) }

// Pred is the class the head predicts after step t (0-based): the argmax of
// Probs[t], the lowest class on ties.
func (tr *Trace) Pred(t int) int { return argmax(tr.Probs[t][:]) }

// Settled returns the 0-based step from which the prediction stays what it
// is at the last step: Pred(s) == Pred(Steps()-1) for every s >= Settled().
func (tr *Trace) Settled() int {
	n := tr.Steps()
	if n == 0 {
		return 0
	}
	final := tr.Pred(n - 1)
	s := n - 1
	for s > 0 && tr.Pred(s-1) == final {
		s--
	}
	return s
}

// argmax is the index of the largest value, the first on ties.
func argmax(v []float32) int {
	best := 0
	for j, x := range v {
		if x > v[best] {
			best = j
		}
	}
	return best
}

// traceInput checks that pixels is one digit of c's shape and returns it
// normalised as the batches are, (p/255 - 0.5)/0.5, time-major (a row a
// step).
func traceInput(c Config, pixels []uint8, what string) ([]float32, error) {
	if len(pixels) != c.Steps*c.Inputs {
		return nil, fmt.Errorf("engine: %s: %d pixels, want %d", what, len(pixels), c.Steps*c.Inputs)
	}
	if c.Classes != mnist.Classes {
		return nil, fmt.Errorf("engine: %s: %d classes, want %d", what, c.Classes, mnist.Classes)
	}
	x := make([]float32, len(pixels))
	for i, p := range pixels {
		x[i] = (float32(p)/255 - 0.5) / 0.5
	}
	return x, nil
}
