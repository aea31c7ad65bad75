package engine

import "unsafe"

// cacheLine is the size in bytes of the CPU's cache line (64 on amd64 and
// on the arm64 cores this runs on; 128 on Apple's, where 64 still keeps
// the vector loads within lines).
const cacheLine = 64

// alignedFloats returns n zeroed float32s starting on a cache line, so
// that buffers split between the workers at multiples of 16 floats share
// no line between them, and vector loads do not straddle two.
func alignedFloats(n int) []float32 {
	const per = cacheLine / 4
	s := make([]float32, n+per-1)
	skip := 0
	if len(s) > 0 {
		if m := uintptr(unsafe.Pointer(&s[0])) % cacheLine; m != 0 {
			skip = int(cacheLine-m) / 4
		}
	}
	return s[skip : skip+n : skip+n]
}

// alignedGrads is the gradients of a recurrent layer's weights (G*H = gh
// gate rows over d's sizes) with every tensor on cache lines of its own.
func alignedGrads(gh int, d dims) *Params {
	return &Params{Wih: alignedFloats(gh * d.I), Whh: alignedFloats(gh * d.H), Bih: alignedFloats(gh), Bhh: alignedFloats(gh)}
}
