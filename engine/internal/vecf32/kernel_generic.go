package vecf32

// tanhGeneric is the portable Tanh kernel.
func tanhGeneric(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = Tanh32(x)
	}
}

// Tanh32 is the scalar float32 tanh every kernel approximates: Eigen's and
// XLA's rational approximation, |x| clamped to 7.90531110763549805 (where
// tanh rounds to ±1), x itself for |x| < 0.0004, otherwise x*P(x²)/Q(x²). It
// is bit for bit the KernelGeneric Tanh and, with the default GOAMD64=v1,
// the engine's scalar tanh32. The float32 conversions round every product
// before its add, which keeps the compiler from fusing them into FMAs (it
// does for GOAMD64=v3 and on arm64), so the result is the same on every
// platform and equals the assembly kernels'.
func Tanh32(x float32) float32 {
	const clamp = 7.90531110763549805
	if x > clamp {
		x = clamp
	} else if x < -clamp {
		x = -clamp
	}
	if x < 0.0004 && x > -0.0004 {
		return x
	}
	x2 := x * x
	p := float32(-2.76076847742355e-16)
	p = float32(p*x2) + 2.00018790482477e-13
	p = float32(p*x2) + -8.60467152213735e-11
	p = float32(p*x2) + 5.12229709037114e-08
	p = float32(p*x2) + 1.48572235717979e-05
	p = float32(p*x2) + 6.37261928875436e-04
	p = float32(p*x2) + 4.89352455891786e-03
	p *= x
	q := float32(1.19825839466702e-06)
	q = float32(q*x2) + 1.18534705686654e-04
	q = float32(q*x2) + 2.26843463243900e-03
	q = float32(q*x2) + 4.89352518554385e-03
	return p / q
}

// tanhGradGeneric is the portable TanhGrad kernel.
func tanhGradGeneric(dz, g, h []float32) {
	g = g[:len(dz)]
	h = h[:len(dz)]
	for i, v := range h {
		dz[i] = g[i] * (1 - float32(v*v)) // no FMA, as in the assembly
	}
}

// addGeneric is the portable Add kernel.
func addGeneric(dst, s []float32) {
	s = s[:len(dst)]
	for i, v := range s {
		dst[i] += v
	}
}

// addToGeneric is the portable AddTo kernel.
func addToGeneric(dst, s, t []float32) {
	s = s[:len(dst)]
	t = t[:len(dst)]
	for i := range dst {
		dst[i] = s[i] + t[i]
	}
}

// dotGeneric is the portable Dot kernel: four running sums.
func dotGeneric(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		x, y := a[i:i+4:i+4], b[i:i+4:i+4]
		s0 += x[0] * y[0]
		s1 += x[1] * y[1]
		s2 += x[2] * y[2]
		s3 += x[3] * y[3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}
