package vecf32

import (
	"encoding/binary"
	"math"
	"testing"
)

// FuzzTanh checks that every assembly Tanh kernel matches the generic one
// bit for bit (NaN for NaN) on the float32 values spelled by the input bytes
// (little endian; a trailing partial value is dropped), starting at the
// given offset.
func FuzzTanh(f *testing.F) {
	enc := func(vs ...float32) []byte {
		b := make([]byte, 4*len(vs))
		for i, v := range vs {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		return b
	}
	f.Add(enc(), uint8(0))
	f.Add(enc(specials()...), uint8(0))
	f.Add(enc(specials()...), uint8(5))
	f.Add(enc(0.5, -0.5, 1, -1, 3, -3, 7.9, -7.9, 0.0004, -0.0004, 1e-3), uint8(1))
	f.Add(enc(float32(math.Inf(1)), float32(math.NaN()), math.SmallestNonzeroFloat32), uint8(2))
	simd := simdFuncs(f)
	generic, err := forKernel(KernelGeneric)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, off uint8) {
		n := len(data) / 4
		src := make([]float32, n)
		for i := range src {
			src[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
		o := int(off) % (n + 1)
		src = src[o:]
		want := make([]float32, len(src))
		generic.Tanh(want, src)
		got := make([]float32, len(src))
		for _, s := range simd {
			s.Tanh(got, src)
			for i := range src {
				if g, w := got[i], want[i]; math.Float32bits(g) != math.Float32bits(w) && (g == g || w == w) {
					d := ulps(g, w)
					t.Fatalf("%v: Tanh(%g [%#08x]) = %g, generic %g: %d ulp apart", s.Kernel(), src[i], math.Float32bits(src[i]), got[i], want[i], d)
				}
				if ax := float32(math.Abs(float64(src[i]))); ax < 0.0004 && math.Float32bits(got[i]) != math.Float32bits(src[i]) {
					t.Fatalf("%v: Tanh(%g) = %g, want x itself", s.Kernel(), src[i], got[i])
				}
			}
		}
	})
}
