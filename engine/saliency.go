package engine

import "fmt"

// Saliency returns the gradient of the logit of class (before the
// softmax) with respect to the network's inputs for one 28x28 digit
// (pixels as in mnist.Set, row-major): out[i] is d logit / d x_i, x_i =
// (p_i/255 - 0.5)/0.5 the normalised pixel i. A positive value means more
// ink at pixel i would raise the class. It runs the fused layer's own
// backward pass on the one digit (no gorgonia graph).
func (m *Model) Saliency(pixels []uint8, class int) ([]float32, error) {
	c := m.Config
	x, err := traceInput(c, pixels, "saliency")
	if err != nil {
		return nil, err
	}
	if class < 0 || class >= c.Classes {
		return nil, fmt.Errorf("engine: saliency: class %d is not in 0..%d", class, c.Classes-1)
	}
	return inputSaliency(c, m.Params, x, class), nil
}

// inputSaliency is d logit_class / dx for one sequence x (T x I) of c's
// shape with the weights p: the layer forward, dL/dh_T = Wfc[class] (the
// logit is linear in h_T), and back through the steps to the inputs.
func inputSaliency(c Config, p *Params, x []float32, class int) []float32 {
	d := dims{B: 1, T: c.Steps, I: c.Inputs, H: c.Hidden, C: c.Classes}
	l := newLayer(c, d, 1, true, nil)
	l.forward(x, p)
	gh := c.gates() * d.H
	g := &Params{
		Wih: make([]float32, gh*d.I), Whh: make([]float32, gh*d.H),
		Bih: make([]float32, gh), Bhh: make([]float32, gh),
	}
	l.backward(x, p.Wfc[class*d.H:(class+1)*d.H], g)
	dx := make([]float32, len(x))
	l.inputGrad(p.Wih, dx)
	return dx
}
