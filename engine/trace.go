package engine

import (
	"fmt"

	"github.com/mnist-tui/mnist-tui/mnist"
)

// Trace is the network reading one digit row by row: the hidden state after
// every time step and the class probabilities the head would give if the
// digit ended there.
type Trace struct {
	// Hidden[t] is h_t, Hidden units wide.
	Hidden [][]float32
	// Probs[t] is softmax(fc(h_t)).
	Probs [][mnist.Classes]float32
}

// Trace runs the model on one 28x28 digit (pixels as in mnist.Set, row-major)
// step by step, for views that replay the reading.
func (m *Model) Trace(pixels []uint8) (*Trace, error) {
	c := m.Config
	if len(pixels) != c.Steps*c.Inputs {
		return nil, fmt.Errorf("engine: trace: %d pixels, want %d", len(pixels), c.Steps*c.Inputs)
	}
	if c.Classes != mnist.Classes {
		return nil, fmt.Errorf("engine: trace: %d classes, want %d", c.Classes, mnist.Classes)
	}
	d := dims{B: 1, T: c.Steps, I: c.Inputs, H: c.Hidden, C: c.Classes}
	x := make([]float32, len(pixels))
	for i, p := range pixels {
		x[i] = (float32(p)/255 - 0.5) / 0.5
	}
	p := m.Params
	hs := hiddenStates(c, d, p, x)
	tr := &Trace{Hidden: make([][]float32, d.T), Probs: make([][mnist.Classes]float32, d.T)}
	probs := make([]float32, d.C)
	y := []int{0}
	for t := 0; t < d.T; t++ {
		tr.Hidden[t] = hs[t*d.H : (t+1)*d.H : (t+1)*d.H]
		headForward(d, tr.Hidden[t], p.Wfc, p.Bfc, y, probs)
		copy(tr.Probs[t][:], probs)
	}
	return tr, nil
}
