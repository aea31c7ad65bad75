package vecf32

import (
	"math"
	"math/rand/v2"
	"testing"
)

// adamConsts are step 3's constants of Adam with lr 1e-3 and PyTorch's
// defaults, computed as engine.Adam computes them.
func adamConsts(t int) *AdamConsts {
	b1, b2 := 0.9, 0.999
	return &AdamConsts{
		Beta1: float32(b1), C1: float32(1 - b1), Beta2: float32(b2), C2: float32(1 - b2),
		StepSize:   float32(1e-3 / (1 - math.Pow(b1, float64(t)))),
		InvSqrtBC2: float32(1 / math.Sqrt(1-math.Pow(b2, float64(t)))),
		Eps:        1e-8,
	}
}

// TestAdamStepMath holds AdamStep against Adam's update in float64.
func TestAdamStepMath(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	c := adamConsts(5)
	const n = 1000
	w, m, v, g := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for j := range n {
		w[j], m[j], v[j], g[j] = 2*r.Float32()-1, 0.1*(2*r.Float32()-1), 0.01*r.Float32(), 2*r.Float32()-1
	}
	w0, m0, v0 := append([]float32(nil), w...), append([]float32(nil), m...), append([]float32(nil), v...)
	AdamStep(w, m, v, g, c)
	for j := range n {
		b1m, c1g := float64(c.Beta1)*float64(m0[j]), float64(c.C1)*float64(g[j])
		b2v, c2gg := float64(c.Beta2)*float64(v0[j]), float64(c.C2)*float64(g[j])*float64(g[j])
		mj, vj := b1m+c1g, b2v+c2gg
		step := float64(c.StepSize) * mj / (math.Sqrt(vj)*float64(c.InvSqrtBC2) + float64(c.Eps))
		wj := float64(w0[j]) - step
		// Each within a few roundings of the sizes of its terms.
		for _, p := range [][3]float64{
			{float64(m[j]), mj, math.Abs(b1m) + math.Abs(c1g)},
			{float64(v[j]), vj, vj},
			{float64(w[j]), wj, math.Abs(float64(w0[j])) + math.Abs(step)},
		} {
			if math.Abs(p[0]-p[1]) > 4e-7*p[2] {
				t.Fatalf("[%d]: %g, float64 %g", j, p[0], p[1])
			}
		}
	}
}

// TestAdamStepLengthPanics: slices of different lengths panic.
func TestAdamStepLengthPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	AdamStep(make([]float32, 3), make([]float32, 3), make([]float32, 2), make([]float32, 3), adamConsts(1))
}

func BenchmarkAdamStep(b *testing.B) {
	const n = 21514 // the default model's parameters
	w, m, v, g := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for j := range n {
		g[j], v[j] = 0.01, 1e-4
	}
	c := adamConsts(3)
	for _, f := range allFuncs(b) {
		b.Run(f.Kernel().String(), func(b *testing.B) {
			for b.Loop() {
				if !adamAsm(f.Kernel(), w, m, v, g, c) {
					adamGeneric(w, m, v, g, c)
				}
			}
		})
	}
}
