package engine

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// net is one compiled gorgonia graph of the fused model for one batch size:
// a training graph (forward, symbolic gradients) or an evaluation graph
// (forward only). Its parameter nodes are bound to the given Params' slices
// without copying, so updates to those slices are seen by the next run.
type net struct {
	st *batchState
	g  *G.ExprGraph
	vm G.VM
}

// newNet builds and compiles the graph. grads must be non-nil for a
// training graph (it receives the gradients) and nil for evaluation.
func newNet(c Config, batch, workers int, p, grads *Params) (*net, error) {
	st := newBatchState(c, batch, workers, grads)
	g := G.NewGraph()
	shapes := paramShapes(c)
	names := StateDictNames(c)
	nodes := make([]*G.Node, len(shapes))
	for i, s := range p.slices() {
		v := dense(s, shapes[i]...)
		if len(shapes[i]) == 1 {
			nodes[i] = G.NewVector(g, tensor.Float32, G.WithShape(shapes[i]...), G.WithName(names[i]), G.WithValue(v))
		} else {
			nodes[i] = G.NewMatrix(g, tensor.Float32, G.WithShape(shapes[i]...), G.WithName(names[i]), G.WithValue(v))
		}
	}
	d := st.d
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(d.T*d.B, d.I), G.WithName("x"), G.WithValue(dense(st.x, d.T*d.B, d.I)))
	h, err := G.ApplyOp(rnnOp{opBase{st, "rnn", 0}}, x, nodes[0], nodes[1], nodes[2], nodes[3])
	if err != nil {
		return nil, fmt.Errorf("engine: building the recurrent layer: %w", err)
	}
	loss, err := G.ApplyOp(headOp{opBase{st, "head", 0}}, h, nodes[4], nodes[5])
	if err != nil {
		return nil, fmt.Errorf("engine: building the loss: %w", err)
	}
	if grads != nil {
		if _, err := G.Grad(loss, nodes...); err != nil {
			return nil, fmt.Errorf("engine: differentiating the loss: %w", err)
		}
	}
	return &net{st: st, g: g, vm: G.NewTapeMachine(g)}, nil
}

// run executes the graph once on the batch already in st.x and st.y.
func (n *net) run() error {
	defer n.vm.Reset()
	return n.vm.RunAll()
}

// StateDictNames lists PyTorch's state_dict names of the notebook's Net, in
// the order of the Params fields.
func StateDictNames(Config) []string {
	return []string{"rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0", "fc.weight", "fc.bias"}
}
