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
// training graph (it receives the gradients) and nil for evaluation. The
// net prepares its weights in every forward pass.
func newNet(c Config, batch, workers int, p, grads *Params) (*net, error) {
	return newNetWith(c, batch, workers, p, grads, nil)
}

// newNetWith is newNet with the weights w its products read (shared by an
// evaluator's nets, which prepares them once a pass); nil gives the net
// weights of its own.
func newNetWith(c Config, batch, workers int, p, grads *Params, w *weights) (*net, error) {
	st := newBatchState(c, batch, workers, grads, w)
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
	loss, err := G.ApplyOp(modelOp{opBase{st, "model", 0}}, append(G.Nodes{x}, nodes...)...)
	if err != nil {
		return nil, fmt.Errorf("engine: building the network: %w", err)
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
