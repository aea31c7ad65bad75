package engine

import (
	"math"
	"math/rand/v2"
)

// Params are the model's weights, laid out as PyTorch's state_dict for the
// notebook's Net: rnn.weight_ih_l0 [G*H x I], rnn.weight_hh_l0 [G*H x H],
// rnn.bias_ih_l0 [G*H], rnn.bias_hh_l0 [G*H], fc.weight [C x H], fc.bias [C],
// all row-major (G is the cell's number of gate blocks, 1 for the RNN).
type Params struct {
	Wih, Whh, Bih, Bhh, Wfc, Bfc []float32
}

// NewParams allocates zeroed parameters shaped for c.
func NewParams(c Config) *Params {
	g, h := c.gates()*c.Hidden, c.Hidden
	return &Params{
		Wih: make([]float32, g*c.Inputs),
		Whh: make([]float32, g*h),
		Bih: make([]float32, g),
		Bhh: make([]float32, g),
		Wfc: make([]float32, c.Classes*h),
		Bfc: make([]float32, c.Classes),
	}
}

// InitParams draws PyTorch's default initialisation for c from a generator
// seeded with c.Seed: every recurrent weight and bias U(-1/sqrt(H), 1/sqrt(H))
// (nn.RNN), and the Linear layer's weight and bias U(-1/sqrt(H), 1/sqrt(H))
// (kaiming_uniform with a=sqrt(5), and the fan-in bound for the bias).
func InitParams(c Config) *Params {
	p := NewParams(c)
	rng := rand.New(rand.NewPCG(c.Seed, 0x6d6e697374)) // "mnist"
	k := float32(1 / math.Sqrt(float64(c.Hidden)))
	for _, s := range p.slices() {
		for i := range s {
			s[i] = (2*rng.Float32() - 1) * k
		}
	}
	return p
}

// slices lists the tensors in state_dict order.
func (p *Params) slices() [][]float32 {
	return [][]float32{p.Wih, p.Whh, p.Bih, p.Bhh, p.Wfc, p.Bfc}
}

// Clone returns a deep copy of p.
func (p *Params) Clone() *Params {
	q := &Params{}
	dst := []*[]float32{&q.Wih, &q.Whh, &q.Bih, &q.Bhh, &q.Wfc, &q.Bfc}
	for i, s := range p.slices() {
		*dst[i] = append([]float32(nil), s...)
	}
	return q
}

// CopyFrom overwrites p's values with q's; both must have the same shapes.
func (p *Params) CopyFrom(q *Params) {
	src := q.slices()
	for i, s := range p.slices() {
		copy(s, src[i])
	}
}
