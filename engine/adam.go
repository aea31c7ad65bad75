package engine

import "math"

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

// Update applies one step with gradients g to p.
func (a *Adam) Update(p, g *Params) {
	a.Step++
	bc1 := 1 - math.Pow(a.Beta1, float64(a.Step))
	bc2 := 1 - math.Pow(a.Beta2, float64(a.Step))
	stepSize := float32(a.LR / bc1)
	invSqrtBC2 := float32(1 / math.Sqrt(bc2))
	b1, b2 := float32(a.Beta1), float32(a.Beta2)
	// 1-beta rounded once from float64, as PyTorch computes it: float32(1)-b2
	// would be 0.00099998713, not 0.001.
	c1, c2 := float32(1-a.Beta1), float32(1-a.Beta2)
	eps := float32(a.Eps)
	ms, vs, gs := a.M.slices(), a.V.slices(), g.slices()
	for i, w := range p.slices() {
		m, v, gr := ms[i][:len(w)], vs[i][:len(w)], gs[i][:len(w)]
		for j := range w {
			gj := gr[j]
			mj := b1*m[j] + c1*gj
			vj := b2*v[j] + c2*gj*gj
			m[j], v[j] = mj, vj
			w[j] -= stepSize * mj / (sqrt32(vj)*invSqrtBC2 + eps)
		}
	}
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
