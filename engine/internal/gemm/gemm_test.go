package gemm

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// allKernels lists every kernel that runs here, the generic one first.
func allKernels(t testing.TB) []*mulCtx {
	t.Helper()
	var out []*mulCtx
	for _, k := range []Kernel{KernelGeneric, KernelAVX2, KernelAVX512, KernelNEON} {
		ctx, err := newMulCtx(k)
		if err != nil {
			t.Logf("kernel %v skipped: %v", k, err)
			continue
		}
		out = append(out, ctx)
	}
	return out
}

// refGemm is a naive float64 reference: it returns C = alpha*op(A)*op(B) +
// beta*C and, per element, the sum of absolute terms (for the tolerance).
func refGemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) (want, mag []float64) {
	want = make([]float64, m*n)
	mag = make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, sa float64
			for p := 0; p < k; p++ {
				var av, bv float64
				if tA {
					av = float64(a[p*lda+i])
				} else {
					av = float64(a[i*lda+p])
				}
				if tB {
					bv = float64(b[j*ldb+p])
				} else {
					bv = float64(b[p*ldb+j])
				}
				s += av * bv
				sa += math.Abs(av * bv)
			}
			v := float64(alpha) * s
			mg := math.Abs(float64(alpha)) * sa
			if beta != 0 {
				cv := float64(c[i*ldc+j])
				v += float64(beta) * cv
				mg += math.Abs(float64(beta) * cv)
			}
			want[i*n+j] = v
			mag[i*n+j] = mg
		}
	}
	return want, mag
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

type gemmCase struct {
	tA, tB      bool
	m, n, k     int
	alpha, beta float32
	padA, padB  int // extra leading-dimension padding
	padC        int
}

// prepared is a case with its inputs and float64 reference result.
type prepared struct {
	tc            gemmCase
	a, b, c       []float32
	lda, ldb, ldc int
	want, mag     []float64
}

func prepare(rng *rand.Rand, tc gemmCase) *prepared {
	rowA, colA := tc.m, tc.k
	if tc.tA {
		rowA, colA = tc.k, tc.m
	}
	rowB, colB := tc.k, tc.n
	if tc.tB {
		rowB, colB = tc.n, tc.k
	}
	p := &prepared{tc: tc, lda: max(1, colA+tc.padA), ldb: max(1, colB+tc.padB), ldc: max(1, tc.n+tc.padC)}
	p.a = randSlice(rng, rowA*p.lda)
	p.b = randSlice(rng, rowB*p.ldb)
	p.c = randSlice(rng, tc.m*p.ldc)
	if tc.beta == 0 {
		// BLAS: beta == 0 must not read C, so NaNs there must vanish.
		for i := range p.c {
			p.c[i] = float32(math.NaN())
		}
	}
	p.want, p.mag = refGemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, p.a, p.lda, p.b, p.ldb, tc.beta, p.c, p.ldc)
	return p
}

type gemmFunc func(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

// check runs gemm on a copy of the prepared C and compares with the
// reference; it reports the first mismatch with t.Errorf (safe from any
// goroutine) and returns false.
func (p *prepared) check(t testing.TB, gemm gemmFunc) bool {
	t.Helper()
	tc := p.tc
	c := append([]float32(nil), p.c...)
	gemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, p.a, p.lda, p.b, p.ldb, tc.beta, c, p.ldc)
	for i := 0; i < tc.m; i++ {
		for j := 0; j < p.ldc; j++ {
			got := c[i*p.ldc+j]
			if j >= tc.n {
				if orig := p.c[i*p.ldc+j]; math.Float32bits(got) != math.Float32bits(orig) {
					t.Errorf("%+v: padding C[%d,%d] changed: %v -> %v", tc, i, j, orig, got)
					return false
				}
				continue
			}
			w, mg := p.want[i*tc.n+j], p.mag[i*tc.n+j]
			tol := 1e-5*mg + 1.2e-7*float64(tc.k)*mg + 1e-30
			if d := math.Abs(float64(got) - w); !(d <= tol) {
				t.Errorf("%+v: C[%d,%d] = %v, want %v (|diff| %g > tol %g)", tc, i, j, got, w, d, tol)
				return false
			}
		}
	}
	return true
}

func runCase(t testing.TB, rng *rand.Rand, gemm gemmFunc, tc gemmCase) bool {
	t.Helper()
	return prepare(rng, tc).check(t, gemm)
}

func TestSgemmShapes(t *testing.T) {
	dims := []int{1, 2, 3, 5, 7, 8, 15, 17, 31, 33, 64, 65}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, ctx := range allKernels(t) {
		t.Run(ctx.Kernel().String(), func(t *testing.T) {
			for _, tA := range []bool{false, true} {
				for _, tB := range []bool{false, true} {
					for it := 0; it < 60; it++ {
						tc := gemmCase{
							tA: tA, tB: tB,
							m: dims[rng.IntN(len(dims))], n: dims[rng.IntN(len(dims))], k: dims[rng.IntN(len(dims))],
							alpha: []float32{1, -0.5, 2.25}[rng.IntN(3)],
							beta:  []float32{0, 1, -1.5, 0.25}[rng.IntN(4)],
							padA:  rng.IntN(3), padB: rng.IntN(3), padC: rng.IntN(3),
						}
						if !runCase(t, rng, ctx.Sgemm, tc) {
							return
						}
					}
				}
			}
		})
	}
}

// TestSgemmEdgeRows gives every kernel blocks whose last panel of rows has
// each height from 1 to mr-1 (and none), with full and partial last panels
// of columns, a k with and without a remainder of the kernels' unrolling,
// and both a written and an accumulated C, so every edge kernel (and the
// packed fallback of the kernels without them) runs in every form.
func TestSgemmEdgeRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, ctx := range allKernels(t) {
		mr, nr := ctx.k.mr, ctx.k.nr
		for r := 0; r < mr; r++ {
			for _, n := range []int{nr, 2*nr + 3} {
				for _, k := range []int{1, 4, 11} {
					for _, tA := range []bool{false, true} {
						for _, beta := range []float32{0, 0.5} {
							tc := gemmCase{tA: tA, m: 2*mr + r, n: n, k: k, alpha: 1.5, beta: beta, padA: 1, padC: 2}
							if !runCase(t, rng, guardRows(t, ctx.Sgemm), tc) {
								t.Fatalf("%v: rows %d = 2*%d + %d", ctx.Kernel(), tc.m, mr, r)
							}
						}
					}
				}
			}
		}
	}
}

// guardRows wraps gemm so that C is followed by a row of sentinels, which
// must be left alone (a kernel that writes a row too many would change them).
func guardRows(t testing.TB, gemm gemmFunc) gemmFunc {
	return func(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
		t.Helper()
		const sentinel = -12345.5
		buf := make([]float32, len(c)+2*ldc)
		copy(buf, c)
		for i := len(c); i < len(buf); i++ {
			buf[i] = sentinel
		}
		gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, buf, ldc)
		copy(c, buf)
		for i, v := range buf[len(c):] {
			if v != sentinel {
				t.Errorf("m %d, n %d, k %d: wrote past the last row of C, at element %d after it: %v", m, n, k, i, v)
				return
			}
		}
	}
}

// TestSgemmModelShapes covers the engine's real products, including sizes
// beyond one packed block (k > kcMax, m > mcMax, n > ncMax).
func TestSgemmModelShapes(t *testing.T) {
	cases := []gemmCase{
		{tA: false, tB: true, m: 1792, n: 128, k: 28, alpha: 1, beta: 0},                               // input projection
		{tA: false, tB: true, m: 64, n: 128, k: 128, alpha: 1, beta: 1},                                // recurrence
		{tA: false, tB: false, m: 64, n: 128, k: 128, alpha: 1, beta: 0},                               // backward through Whh
		{tA: true, tB: false, m: 128, n: 128, k: 1792, alpha: 1, beta: 1},                              // dWhh
		{tA: true, tB: false, m: 128, n: 28, k: 1792, alpha: 1, beta: 0},                               // dWih
		{tA: false, tB: true, m: 16, n: 10, k: 128, alpha: 1, beta: 0},                                 // FC, partial batch
		{tA: false, tB: false, m: 150, n: 520, k: 260, alpha: 0.5, beta: 2, padA: 3, padB: 1, padC: 5}, // several blocks
	}
	if testing.Short() {
		// Smaller stand-ins that still span several packed blocks.
		cases = cases[:len(cases)-1]
		for i := range cases {
			cases[i].m = min(cases[i].m, 300)
			cases[i].k = min(cases[i].k, 520)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	ctxs := allKernels(t)
	for _, tc := range cases {
		p := prepare(rng, tc)
		for _, ctx := range ctxs {
			p.check(t, ctx.Sgemm)
		}
		p.check(t, Sgemm)
	}
}

func TestSgemmDegenerate(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, ctx := range allKernels(t) {
		t.Run(ctx.Kernel().String(), func(t *testing.T) {
			// k == 0 and alpha == 0 only scale C.
			runCase(t, rng, ctx.Sgemm, gemmCase{m: 5, n: 7, k: 0, alpha: 1, beta: 0.5})
			runCase(t, rng, ctx.Sgemm, gemmCase{m: 5, n: 7, k: 0, alpha: 1, beta: 0})
			runCase(t, rng, ctx.Sgemm, gemmCase{m: 5, n: 7, k: 9, alpha: 0, beta: 2})
			// m == 0 or n == 0 touch nothing, even with empty slices.
			ctx.Sgemm(false, false, 0, 3, 4, 1, make([]float32, 0), 4, make([]float32, 12), 3, 0, nil, 3)
			ctx.Sgemm(false, false, 3, 0, 4, 1, make([]float32, 12), 4, nil, 1, 0, nil, 1)
		})
	}
}

func TestSgemmPanics(t *testing.T) {
	a := make([]float32, 6)
	b := make([]float32, 6)
	c := make([]float32, 4)
	tests := []struct {
		name string
		want string
		call func()
	}{
		{"negative m", "m < 0", func() { Sgemm(false, false, -1, 2, 3, 1, a, 3, b, 2, 0, c, 2) }},
		{"bad lda", "bad lda", func() { Sgemm(false, false, 2, 2, 3, 1, a, 2, b, 2, 0, c, 2) }},
		{"bad ldb transposed", "bad ldb", func() { Sgemm(false, true, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2) }},
		{"bad ldc", "bad ldc", func() { Sgemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 1) }},
		{"short a", "a too short", func() { Sgemm(false, false, 2, 2, 3, 1, a[:5], 3, b, 2, 0, c, 2) }},
		{"short b", "b too short", func() { Sgemm(false, false, 2, 2, 3, 1, a, 3, b[:5], 2, 0, c, 2) }},
		{"short c", "c too short", func() { Sgemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c[:3], 2) }},
		{"shared n2 past n", "second product has 3 columns", func() {
			SgemmSharedB(false, 3, 2, 1, b, 2, 2, a, 3, 0, c, 2, 2, 3, a, 3, 0, c, 2)
		}},
		{"shared n2 negative", "second product has -1 columns", func() {
			SgemmSharedB(false, 3, 2, 1, b, 2, 2, a, 3, 0, c, 2, 2, -1, a, 3, 0, c, 2)
		}},
		{"shared short c2", "c too short", func() {
			SgemmSharedB(false, 3, 2, 1, b, 2, 2, a, 3, 0, c, 2, 2, 2, a, 3, 0, c[:3], 2)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				s, _ := r.(string)
				if !strings.HasPrefix(s, "gemm: ") || !strings.Contains(s, tt.want) {
					t.Fatalf("panic = %v, want one containing %q", r, tt.want)
				}
			}()
			tt.call()
		})
	}
	// The valid call with the same slices must not panic.
	Sgemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2)
}

func TestSgemmNoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	a, b, c := randSlice(rng, 64*128), randSlice(rng, 128*128), randSlice(rng, 64*128)
	for _, ctx := range allKernels(t) {
		n := testing.AllocsPerRun(20, func() {
			ctx.Sgemm(false, true, 64, 128, 128, 1, a, 128, b, 128, 1, c, 128)
		})
		if n != 0 {
			t.Errorf("%v: %v allocs per call, want 0", ctx.Kernel(), n)
		}
	}
	if raceEnabled {
		return
	}
	if n := testing.AllocsPerRun(20, func() {
		Sgemm(false, true, 64, 128, 128, 1, a, 128, b, 128, 1, c, 128)
	}); n != 0 {
		t.Errorf("package-level Sgemm: %v allocs per call, want 0", n)
	}
}

func TestKernelChoice(t *testing.T) {
	if !available(KernelGeneric) || !available(KernelAuto) {
		t.Fatal("generic and auto kernels must always be available")
	}
	if _, err := newMulCtx(Kernel(99)); err == nil {
		t.Fatal("newMulCtx(Kernel(99)) succeeded")
	}
	ctx, err := newMulCtx(KernelAuto)
	if err != nil {
		t.Fatal(err)
	}
	if ctx.Kernel() != Best() || Best() == KernelAuto {
		t.Fatalf("auto context runs %v, Best() = %v", ctx.Kernel(), Best())
	}
}

// TestConcurrentCallers runs the package-level Sgemm from several
// goroutines at once (its buffers come from a pool).
func TestConcurrentCallers(t *testing.T) {
	done := make(chan struct{})
	for g := 0; g < 3; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for i := 0; i < 5; i++ {
				runCase(t, rng, Sgemm, gemmCase{tA: true, m: 40, n: 50, k: 60, alpha: 1, beta: 0.5})
			}
		}()
	}
	for g := 0; g < 3; g++ {
		<-done
	}
}
