package vecf32

import "math"

// AdamConsts are the scalars of one Adam step (see AdamStep), as PyTorch's
// Adam computes them for step t: C1 = 1-Beta1 and C2 = 1-Beta2 rounded once
// from float64, StepSize = lr/(1-beta1^t) and InvSqrtBC2 =
// 1/sqrt(1-beta2^t).
type AdamConsts struct {
	Beta1, C1, Beta2, C2, StepSize, InvSqrtBC2, Eps float32
}

// AdamStep applies one Adam step with gradient g to the weights w and the
// moments m and v, in place:
//
//	m = b1*m + c1*g;  v = b2*v + (c2*g)*g;  w -= (step*m) / (sqrt(v)*invSqrtBC2 + eps)
//
// every product, sum and quotient rounded separately in this order, the
// square root correctly rounded, so that all kernels give bit for bit the
// same weights. All slices must have the same length (it panics
// otherwise).
func AdamStep(w, m, v, g []float32, c *AdamConsts) {
	checkLen("AdamStep", w, m, v, g)
	if !adamAsm(best.kind, w, m, v, g, c) {
		adamGeneric(w, m, v, g, c)
	}
}

func adamGeneric(w, m, v, g []float32, c *AdamConsts) {
	n := len(w)
	m, v, g = m[:n], v[:n], g[:n]
	for j := range w {
		gj := g[j]
		mj := float32(c.Beta1*m[j]) + float32(c.C1*gj)
		vj := float32(c.Beta2*v[j]) + float32(float32(c.C2*gj)*gj)
		m[j], v[j] = mj, vj
		s := float32(math.Sqrt(float64(vj)))
		w[j] -= float32(c.StepSize*mj) / (float32(s*c.InvSqrtBC2) + c.Eps)
	}
}

func checkLen(fn string, s ...[]float32) {
	for _, x := range s[1:] {
		if len(x) != len(s[0]) {
			n := make([]int, len(s))
			for i, y := range s {
				n[i] = len(y)
			}
			panicLen(fn, n...)
		}
	}
}
