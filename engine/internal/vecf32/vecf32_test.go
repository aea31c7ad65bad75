package vecf32

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// allFuncs returns every kernel that can run here, the generic one first.
func allFuncs(t testing.TB) []funcs {
	t.Helper()
	var fs []funcs
	for _, k := range []Kernel{KernelGeneric, KernelAVX2, KernelAVX512, KernelNEON} {
		if !available(k) {
			t.Logf("kernel %v not available here", k)
			continue
		}
		f, err := forKernel(k)
		if err != nil {
			t.Fatalf("forKernel(%v): %v", k, err)
		}
		if f.Kernel() != k {
			t.Fatalf("forKernel(%v).Kernel() = %v", k, f.Kernel())
		}
		fs = append(fs, f)
	}
	return fs
}

// forKernel returns kernel k's funcs, or an error if it cannot run here.
func forKernel(k Kernel) (funcs, error) {
	f, ok := funcsFor(k)
	if !ok {
		return funcs{}, fmt.Errorf("kernel %v not supported here", k)
	}
	return f, nil
}

// simdFuncs returns the assembly kernels that can run here.
func simdFuncs(t testing.TB) []funcs {
	return allFuncs(t)[1:]
}

// ulps is the distance between a and b in units in the last place, counting
// +0 and -0 as equal; it is 0 for two NaNs and MaxInt32 for one.
func ulps(a, b float32) int64 {
	if a != a || b != b {
		if a != a && b != b {
			return 0
		}
		return math.MaxInt32
	}
	ord := func(f float32) int64 {
		u := math.Float32bits(f)
		if u&0x80000000 != 0 {
			return -int64(u & 0x7fffffff)
		}
		return int64(u)
	}
	d := ord(a) - ord(b)
	if d < 0 {
		d = -d
	}
	return d
}

// checkTanh checks one result of Tanh: bit for bit Tanh32 (any NaN for NaN;
// every kernel rounds exactly like Tanh32, tighter than the 2 ulp required),
// exactly x for |x| < 0.0004, NaN for NaN, and within 1e-6 relative of
// math.Tanh elsewhere.
func checkTanh(t *testing.T, k Kernel, x, got float32) {
	t.Helper()
	ref := Tanh32(x)
	if math.Float32bits(got) != math.Float32bits(ref) && (got == got || ref == ref) {
		d := ulps(got, ref)
		t.Fatalf("%v: Tanh(%g [%#08x]) = %g, Tanh32 = %g: %d ulp apart", k, x, math.Float32bits(x), got, ref, d)
	}
	switch ax := math.Abs(float64(x)); {
	case x != x:
		if got == got {
			t.Fatalf("%v: Tanh(NaN) = %g", k, got)
		}
	case float32(ax) < 0.0004: // the float32 comparison Tanh32 makes
		if math.Float32bits(got) != math.Float32bits(x) {
			t.Fatalf("%v: Tanh(%g) = %g, want x itself", k, x, got)
		}
	default:
		want := math.Tanh(float64(x))
		if rel := math.Abs(float64(got)-want) / math.Abs(want); rel > 1e-6 {
			t.Fatalf("%v: Tanh(%g) = %.9g, math.Tanh = %.9g: relative error %.3g", k, x, got, want, rel)
		}
	}
}

func TestTanhDenseSweep(t *testing.T) {
	step := 1e-5
	if testing.Short() {
		step = 1e-4
	}
	var xs []float32
	for v := -20.0; v <= 20; v += step {
		xs = append(xs, float32(v))
	}
	sweep(t, xs)
}

// sweep runs every kernel's Tanh over xs: the generic kernel gets the full
// checkTanh (against Tanh32 and math.Tanh); the others must match it bit for
// bit (NaN for NaN).
func sweep(t *testing.T, xs []float32) {
	t.Helper()
	fs := allFuncs(t)
	ref := make([]float32, len(xs))
	fs[0].Tanh(ref, xs)
	for i, x := range xs {
		checkTanh(t, fs[0].Kernel(), x, ref[i])
	}
	got := make([]float32, len(xs))
	for _, f := range fs[1:] {
		f.Tanh(got, xs)
		for i, x := range xs {
			if g, r := got[i], ref[i]; math.Float32bits(g) != math.Float32bits(r) && (g == g || r == r) {
				t.Fatalf("%v: Tanh(%g [%#08x]) = %g, generic %g: %d ulp apart", f.Kernel(), x, math.Float32bits(x), g, r, ulps(g, r))
			}
		}
	}
}

// TestTanhBitPatterns strides through every float32 bit pattern of both
// signs (denormals, tiny, normal, huge, Inf and NaN payloads).
func TestTanhBitPatterns(t *testing.T) {
	stride := uint32(4093)
	if testing.Short() {
		stride = 65521
	}
	var xs []float32
	for u := uint64(0); u <= math.MaxUint32; u += uint64(stride) {
		xs = append(xs, math.Float32frombits(uint32(u)))
	}
	sweep(t, xs)
}

const clamp32 = float32(7.90531110763549805)

// specials are the values TestTanhSpecial places at every lane position.
func specials() []float32 {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	tiny := float32(0.0004)
	var s []float32
	for _, v := range []float32{
		0, math.SmallestNonzeroFloat32, math.Float32frombits(0x007fffff), // denormals
		math.Float32frombits(0x00800000), 1e-20, 3e-4,
		tiny, math.Nextafter32(tiny, 0), math.Nextafter32(tiny, 1),
		0.5, 1, 2, 7.9, clamp32, math.Nextafter32(clamp32, 0), math.Nextafter32(clamp32, 10),
		8, 9, 20, 1e10, math.MaxFloat32, inf,
	} {
		s = append(s, v, -v)
	}
	return append(s, nan, float32(math.Copysign(math.NaN(), -1)))
}

func TestTanhSpecial(t *testing.T) {
	// 53 = 3*16 + 5 puts every position in the unrolled loop, the
	// one-vector loop and the masked tail of both assembly kernels.
	const n = 53
	for _, f := range allFuncs(t) {
		for _, v := range specials() {
			for pos := 0; pos < n; pos++ {
				src := make([]float32, n)
				for i := range src {
					src[i] = 0.25 * float32(i-n/2)
				}
				src[pos] = v
				dst := make([]float32, n)
				f.Tanh(dst, src)
				for i := range src {
					checkTanh(t, f.Kernel(), src[i], dst[i])
				}
			}
		}
		// The values with an exact answer.
		in := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
		out := make([]float32, len(in))
		f.Tanh(out, in)
		if math.Float32bits(out[0]) != 0 || math.Float32bits(out[1]) != 0x80000000 {
			t.Errorf("%v: Tanh(±0) = %g, %g; want +0, -0", f.Kernel(), out[0], out[1])
		}
		if out[2] != 1 || out[3] != -1 {
			t.Errorf("%v: Tanh(±Inf) = %g, %g; want 1, -1", f.Kernel(), out[2], out[3])
		}
		if out[4] == out[4] {
			t.Errorf("%v: Tanh(NaN) = %g; want NaN", f.Kernel(), out[4])
		}
	}
}

// guarded returns a slice of n random values in [-scale, scale] that starts
// off elements into a buffer; the elements around it hold a sentinel.
func guarded(r *rand.Rand, n, off int, scale float32) (s, buf []float32) {
	buf = make([]float32, off+n+32)
	for i := range buf {
		buf[i] = sentinel
	}
	s = buf[off : off+n : off+n]
	for i := range s {
		s[i] = scale * (2*r.Float32() - 1)
	}
	return s, buf
}

const sentinel = float32(-12345.5)

func checkGuards(t *testing.T, what string, buf []float32, off, n int) {
	t.Helper()
	for i, v := range buf {
		if (i < off || i >= off+n) && v != sentinel {
			t.Fatalf("%s: wrote outside the slice (off %d, len %d) at buffer index %d: %g", what, off, n, i, v)
		}
	}
}

func TestLengthsAndOffsets(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	fs := allFuncs(t)
	for iter := 0; iter < 400; iter++ {
		n := r.IntN(101)
		if iter < 101 {
			n = iter
		}
		off := r.IntN(16)
		for _, f := range fs {
			name := fmt.Sprintf("%v n=%d off=%d", f.Kernel(), n, off)
			// Tanh, out of place and in place.
			src, _ := guarded(r, n, r.IntN(16), 10)
			dst, dbuf := guarded(r, n, off, 1)
			f.Tanh(dst, src)
			checkGuards(t, name+" Tanh", dbuf, off, n)
			for i := range src {
				checkTanh(t, f.Kernel(), src[i], dst[i])
			}
			inPlace := append([]float32(nil), src...)
			f.Tanh(inPlace, inPlace)
			for i := range src {
				if math.Float32bits(inPlace[i]) != math.Float32bits(dst[i]) {
					t.Fatalf("%s: in-place Tanh[%d] = %g, out of place %g", name, i, inPlace[i], dst[i])
				}
			}

			// TanhGrad: bit for bit the scalar formula.
			g, _ := guarded(r, n, r.IntN(16), 3)
			h, _ := guarded(r, n, r.IntN(16), 1)
			dz, zbuf := guarded(r, n, off, 1)
			f.TanhGrad(dz, g, h)
			checkGuards(t, name+" TanhGrad", zbuf, off, n)
			for i := range dz {
				if want := g[i] * (1 - float32(h[i]*h[i])); math.Float32bits(dz[i]) != math.Float32bits(want) {
					t.Fatalf("%s: TanhGrad[%d] = %g, want %g", name, i, dz[i], want)
				}
			}

			// Add and AddTo: bit for bit.
			a, _ := guarded(r, n, r.IntN(16), 1)
			b, _ := guarded(r, n, r.IntN(16), 1e-3)
			d, abuf := guarded(r, n, off, 100)
			before := append([]float32(nil), d...)
			f.Add(d, a)
			checkGuards(t, name+" Add", abuf, off, n)
			for i := range d {
				if want := before[i] + a[i]; math.Float32bits(d[i]) != math.Float32bits(want) {
					t.Fatalf("%s: Add[%d] = %g, want %g", name, i, d[i], want)
				}
			}
			copy(d, before)
			f.AddTo(d, a, b)
			checkGuards(t, name+" AddTo", abuf, off, n)
			for i := range d {
				if want := a[i] + b[i]; math.Float32bits(d[i]) != math.Float32bits(want) {
					t.Fatalf("%s: AddTo[%d] = %g, want %g", name, i, d[i], want)
				}
			}
		}
	}
}

func TestTanhGradSpecial(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	g := []float32{1, -2, 3, 0, inf, 1, 1, 5, 0.5, nan, 1e30, -1e-30, 7, 1, 2, 3, 4}
	h := []float32{0, 1, -1, 0.5, 0.5, inf, nan, 0.99999994, -0.3, 0.3, 0.9, 0.1, 1e20, 1e-20, 0.75, -0.75, 0.25}
	for _, f := range allFuncs(t) {
		dz := make([]float32, len(g))
		f.TanhGrad(dz, g, h)
		for i := range dz {
			want := g[i] * (1 - float32(h[i]*h[i]))
			if math.Float32bits(dz[i]) != math.Float32bits(want) && !(dz[i] != dz[i] && want != want) {
				t.Errorf("%v: TanhGrad(g=%g, h=%g) = %g, want %g", f.Kernel(), g[i], h[i], dz[i], want)
			}
		}
	}
}

func TestLengthMismatchPanics(t *testing.T) {
	a, b := make([]float32, 3), make([]float32, 4)
	for _, f := range allFuncs(t) {
		for name, call := range map[string]func(){
			"Tanh":     func() { f.Tanh(a, b) },
			"TanhGrad": func() { f.TanhGrad(a, a, b) },
			"Add":      func() { f.Add(b, a) },
			"AddTo":    func() { f.AddTo(a, b, a) },
		} {
			func() {
				defer func() {
					msg, _ := recover().(string)
					if !strings.HasPrefix(msg, "vecf32: "+name+": ") {
						t.Errorf("%v %s with mismatched lengths: recovered %q, want a vecf32: %s panic", f.Kernel(), name, msg, name)
					}
				}()
				call()
			}()
		}
	}
}

func TestKernelChoice(t *testing.T) {
	if !available(KernelAuto) || !available(KernelGeneric) {
		t.Fatal("auto and generic kernels must always be available")
	}
	auto, err := forKernel(KernelAuto)
	if err != nil || auto.Kernel() != best.kind {
		t.Fatalf("forKernel(KernelAuto) = %v, %v; want kernel %v", auto.Kernel(), err, best.kind)
	}
	if available(Kernel(99)) {
		t.Fatal("available(Kernel(99)) = true")
	}
	if got := Kernel(99).String(); got != "Kernel(99)" {
		t.Fatalf("Kernel(99).String() = %q", got)
	}
	// The package-level functions run Best.
	src := []float32{-3, -0.5, 0.1, 2, 9}
	want, got := make([]float32, len(src)), make([]float32, len(src))
	auto.Tanh(want, src)
	Tanh(got, src)
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("Tanh = %v, the best kernel Tanh = %v", got, want)
		}
	}
	h := []float32{0.5, -0.25, 0.75, 0, 1}
	TanhGrad(got, src, h)
	Add(got, src)
	AddTo(got, got, h)
	for i := range got {
		if w := (src[i]*(1-float32(h[i]*h[i])) + src[i]) + h[i]; got[i] != w {
			t.Fatalf("TanhGrad, Add, AddTo: [%d] = %g, want %g", i, got[i], w)
		}
	}
}

func TestZeroAllocs(t *testing.T) {
	x := make([]float32, 1000)
	y := make([]float32, 1000)
	z := make([]float32, 1000)
	if n := testing.AllocsPerRun(10, func() {
		Tanh(x, y)
		TanhGrad(x, y, z)
		Add(x, y)
		AddTo(x, y, z)
	}); n != 0 {
		t.Errorf("package functions: %v allocations per run", n)
	}
	for _, f := range allFuncs(t) {
		if n := testing.AllocsPerRun(10, func() {
			f.Tanh(x, y)
			f.TanhGrad(x, y, z)
			f.Add(x, y)
			f.AddTo(x, y, z)
		}); n != 0 {
			t.Errorf("%v: %v allocations per run", f.Kernel(), n)
		}
	}
	// Slices of a stack array must stay on the stack: nothing escapes.
	var last float32
	if n := testing.AllocsPerRun(10, func() {
		var buf, bias [37]float32
		for i := range buf {
			buf[i] = float32(i) / 8
		}
		Tanh(buf[:], buf[:])
		Add(buf[:], bias[:])
		last = buf[36]
	}); n != 0 {
		t.Errorf("stack buffer: %v allocations per run", n)
	}
	if want := Tanh32(36.0 / 8); last != want {
		t.Errorf("stack buffer: tanh(4.5) = %g, want %g", last, want)
	}
}

func TestNilSlices(t *testing.T) {
	for _, f := range allFuncs(t) {
		f.Tanh(nil, nil)
		f.TanhGrad(nil, nil, nil)
		f.Add(nil, []float32{})
		f.AddTo([]float32{}, nil, nil)
	}
}

func TestZeroFuncsIsGeneric(t *testing.T) {
	var f funcs
	if f.Kernel() != KernelGeneric {
		t.Fatalf("funcs{}.Kernel() = %v, want generic", f.Kernel())
	}
	src := []float32{0.5, 20, -1}
	dst := make([]float32, 3)
	f.Tanh(dst, src)
	for i, x := range src {
		if dst[i] != Tanh32(x) {
			t.Fatalf("funcs{}.Tanh(%g) = %g, want %g", x, dst[i], Tanh32(x))
		}
	}
}
