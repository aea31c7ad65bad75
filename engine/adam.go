package engine

import (
	"math"
	"sync"

	"github.com/mnist-tui/mnist-tui/engine/internal/vecf32"
)

// Adam is PyTorch's Adam optimiser (no weight decay, no amsgrad), updating
// parameters in place. Its moments are plain Params, so they can be saved.
type Adam struct {
	LR, Beta1, Beta2, Eps float64
	// Step counts the updates done so far.
	Step int
	// M and V are the first and second moment estimates.
	M, V *Params
}

// NewAdam returns an optimiser with PyTorch's defaults (betas 0.9 and 0.999,
// eps 1e-8) for parameters shaped by c.
func NewAdam(c Config) *Adam {
	return &Adam{LR: c.LR, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, M: NewParams(c), V: NewParams(c)}
}

// Models of parallelAdam parameters and more are updated by two
// goroutines: the gated cells' models (about 61K and 86K), whose update
// (tens of microseconds) outlasts handing half of it to the relay of the
// graph that computed the gradients (whose helper is awake right after the
// backward pass), or, with no relay at hand, to a new goroutine. The
// RNN's 21.5K take about 12 us on one core (vecf32.AdamStep), less than a
// hand-off costs when the operating system has just moved the caller's
// thread (gorgonia's machine returns on a thread of its own).
const parallelAdam = 48 << 10

// Update applies one step with gradients g to p, splitting large models
// between two goroutines, each taking its share of every tensor.
func (a *Adam) Update(p, g *Params) { a.step(p, g, nil, false) }

// step is Update that may split its work on r, the relay of the graph
// that computed g (nil for none), and with check also returns the index
// of the first of p, a.M and a.V that holds a NaN or an infinity after the
// update (-1: none), each goroutine checking what it wrote.
func (a *Adam) step(p, g *Params, r *relay, check bool) int {
	n := len(p.Wih) + len(p.Whh) + len(p.Wfc)
	switch {
	case workers() < 2 || n < parallelAdam:
		return a.update(p, g, 1, nil, check)
	case r != nil:
		return a.update(p, g, 2, r, check)
	}
	return a.update(p, g, 2, nil, check)
}

// update is step on parts goroutines (1 or 2; the second on r if not
// nil); the result does not depend on parts.
func (a *Adam) update(p, g *Params, parts int, r *relay, check bool) int {
	a.Step++
	bc1 := 1 - math.Pow(a.Beta1, float64(a.Step))
	bc2 := 1 - math.Pow(a.Beta2, float64(a.Step))
	// 1-beta rounded once from float64, as PyTorch computes it: float32(1)-b2
	// would be 0.00099998713, not 0.001.
	c := vecf32.AdamConsts{
		Beta1: float32(a.Beta1), C1: float32(1 - a.Beta1),
		Beta2: float32(a.Beta2), C2: float32(1 - a.Beta2),
		StepSize: float32(a.LR / bc1), InvSqrtBC2: float32(1 / math.Sqrt(bc2)), Eps: float32(a.Eps),
	}
	ms, vs, gs, ws := a.M.slices(), a.V.slices(), g.slices(), p.slices()
	var bad [2]int
	// half updates share part of parts of every tensor, the shares of the
	// gradients' sum (the same worker summed them: they are in its cache).
	half := func(part, parts int) {
		for i, w := range ws {
			lo, hi := share(len(w), part, parts)
			vecf32.AdamStep(w[lo:hi], ms[i][lo:hi], vs[i][lo:hi], gs[i][lo:hi], &c)
		}
		bad[part] = -1
		if check {
			bad[part] = nonFiniteShare(part, parts, p, a.M, a.V)
		}
	}
	switch {
	case parts < 2:
		half(0, 1)
		return bad[0]
	case r != nil:
		r.run(func() { half(1, 2) }, func() { half(0, 2) })
	default:
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			half(1, 2)
		}()
		half(0, 2)
		wg.Wait()
	}
	if bad[0] < 0 || bad[1] >= 0 && bad[1] < bad[0] {
		return bad[1]
	}
	return bad[0]
}
