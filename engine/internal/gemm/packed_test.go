package gemm

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestSgemmPacked(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	cases := []gemmCase{
		{tA: false, tB: true, m: 64, n: 128, k: 128, alpha: 1, beta: 1},
		{tA: false, tB: false, m: 64, n: 128, k: 128, alpha: 1, beta: 0},
		{tA: true, tB: true, m: 17, n: 33, k: 9, alpha: -2, beta: 0.5, padA: 1, padB: 2, padC: 1},
		{tA: false, tB: false, m: 7, n: 530, k: 300, alpha: 1, beta: 0}, // several blocks in k and n
		{tA: false, tB: true, m: 1, n: 1, k: 1, alpha: 1, beta: 0},
		{tA: true, tB: true, m: 150, n: 40, k: 300, alpha: 1, beta: 1, padA: 3}, // several blocks in m and k
		{tA: false, tB: false, m: 5, n: 9, k: 0, alpha: 1, beta: 0.5},           // k == 0 only scales C
	}
	for _, tc := range cases {
		p := prepare(rng, tc)
		for _, ctx := range allKernels(t) {
			var pb PackedB
			ctx.PackB(tc.tB, tc.k, tc.n, p.b, p.ldb, &pb)
			if pb.k != tc.k || pb.n != tc.n {
				t.Fatalf("PackedB is %dx%d, want %dx%d", pb.k, pb.n, tc.k, tc.n)
			}
			p.check(t, func(tA, _ bool, m, _, _ int, alpha float32, a []float32, lda int, _ []float32, _ int, beta float32, c []float32, ldc int) {
				ctx.SgemmPacked(tA, m, alpha, a, lda, &pb, beta, c, ldc)
			})
		}
		var pb PackedB
		PackB(tc.tB, tc.k, tc.n, p.b, p.ldb, &pb)
		p.check(t, func(tA, _ bool, m, _, _ int, alpha float32, a []float32, lda int, _ []float32, _ int, beta float32, c []float32, ldc int) {
			SgemmPacked(tA, m, alpha, a, lda, &pb, beta, c, ldc)
		})
	}
}

func TestPackedReuseNoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	w, h, c := randSlice(rng, 128*128), randSlice(rng, 64*128), randSlice(rng, 64*128)
	ctx, err := newMulCtx(KernelAuto)
	if err != nil {
		t.Fatal(err)
	}
	var pb PackedB
	ctx.PackB(true, 128, 128, w, 128, &pb)
	if n := testing.AllocsPerRun(20, func() {
		ctx.PackB(true, 128, 128, w, 128, &pb) // repack into the same storage
		ctx.SgemmPacked(false, 64, 1, h, 128, &pb, 1, c, 128)
	}); n != 0 {
		t.Errorf("PackB+SgemmPacked: %v allocs per call, want 0", n)
	}
	if raceEnabled {
		return
	}
	if n := testing.AllocsPerRun(20, func() {
		PackB(true, 128, 128, w, 128, &pb)
		SgemmPacked(false, 64, 1, h, 128, &pb, 1, c, 128)
	}); n != 0 {
		t.Errorf("package-level PackB+SgemmPacked: %v allocs per call, want 0", n)
	}
}

func TestPackedWrongKernelPanics(t *testing.T) {
	gen, err := newMulCtx(KernelGeneric)
	if err != nil {
		t.Fatal(err)
	}
	if Best() == KernelGeneric {
		t.Skip("only the generic kernel runs here")
	}
	var pb PackedB
	PackB(false, 4, 4, make([]float32, 16), 4, &pb) // packed for Best()
	defer func() {
		s, _ := recover().(string)
		if !strings.Contains(s, "PackedB packed for kernel") {
			t.Fatalf("panic = %q, want a kernel mismatch", s)
		}
	}()
	gen.SgemmPacked(false, 4, 1, make([]float32, 16), 4, &pb, 0, make([]float32, 16), 4)
}

// TestPackBParts checks that the parts of PackBPart, packed concurrently
// into one PackBInit'ed PackedB, are PackB's packing, for shapes of one
// and several blocks, panel counts the parts do not divide, and more parts
// than panels.
func TestPackBParts(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	for _, s := range []struct{ k, n int }{{128, 128}, {28, 512}, {300, 530}, {5, 7}, {128, 1030}, {0, 9}} {
		for _, trans := range []bool{false, true} {
			ld := s.n
			if trans {
				ld = max(s.k, 1)
			}
			b := randSlice(rng, max(s.k, s.n)*max(ld, 1))
			var want PackedB
			PackB(trans, s.k, s.n, b, ld, &want)
			for _, parts := range []int{1, 2, 3, 64} {
				var got PackedB
				PackBInit(s.k, s.n, &got)
				for i := range got.data {
					got.data[i] = float32(math.NaN()) // every element must be written
				}
				var wg sync.WaitGroup
				covered := 0
				for part := range parts {
					j0, j1 := got.PartCols(part, parts)
					if j0 != covered || j1 < j0 {
						t.Fatalf("%dx%d: part %d of %d holds columns [%d, %d), want from %d", s.k, s.n, part, parts, j0, j1, covered)
					}
					covered = j1
					wg.Add(1)
					go func() {
						defer wg.Done()
						PackBPart(trans, b, ld, &got, part, parts)
					}()
				}
				wg.Wait()
				if covered != s.n {
					t.Fatalf("%dx%d: %d parts cover %d columns", s.k, s.n, parts, covered)
				}
				if !slices.EqualFunc(got.data, want.data, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) }) {
					t.Fatalf("%dx%d trans %v: %d parts differ from PackB", s.k, s.n, trans, parts)
				}
			}
		}
	}
}

// TestSgemmSharedBIsTwoSgemms checks SgemmSharedB against two Sgemm
// calls, bit for bit, with A transposed or not, one block or several of
// rows, of k and of columns, betas 0 and 1, and a second product of all
// of B's columns or of fewer (the GRU's 256 of 384; a part of a panel; a
// part of a second block of columns; none).
func TestSgemmSharedBIsTwoSgemms(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	for _, s := range []struct{ m1, m2, k, n, n2 int }{
		{128, 28, 1792, 128, 128}, {128, 28, 448, 512, 512}, {128, 28, 448, 384, 256},
		{3, 9, 5, 7, 7}, {3, 9, 5, 7, 3}, {300, 4, 700, 1030, 1030}, {300, 4, 700, 1030, 600},
		{300, 4, 700, 1030, 0}, {1, 1, 1, 1, 1},
	} {
		for _, trans := range []bool{false, true} {
			for _, beta := range []float32{0, 1} {
				lda1, lda2 := s.k, s.k
				if trans {
					lda1, lda2 = s.m1, s.m2
				}
				a1, a2 := randSlice(rng, s.m1*s.k), randSlice(rng, s.m2*s.k)
				b := randSlice(rng, s.k*s.n)
				// C2 keeps B's row length: the columns past n2 must stay.
				c1, c2 := randSlice(rng, s.m1*s.n), randSlice(rng, s.m2*s.n)
				w1, w2 := slices.Clone(c1), slices.Clone(c2)
				Sgemm(trans, false, s.m1, s.n, s.k, 1, a1, lda1, b, s.n, beta, w1, s.n)
				Sgemm(trans, false, s.m2, s.n2, s.k, 1, a2, lda2, b, s.n, beta, w2, s.n)
				SgemmSharedB(trans, s.k, s.n, 1, b, s.n, s.m1, a1, lda1, beta, c1, s.n, s.m2, s.n2, a2, lda2, beta, c2, s.n)
				bits := func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) }
				if !slices.EqualFunc(c1, w1, bits) || !slices.EqualFunc(c2, w2, bits) {
					t.Fatalf("%+v trans %v beta %v: SgemmSharedB differs from two Sgemm calls", s, trans, beta)
				}
			}
		}
	}
}

// TestTranspose checks Transpose against the definition on shapes with and
// without whole strips of eight rows and blocks of eight columns, and with
// leading dimensions past the matrices' widths.
func TestTranspose(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	for _, s := range []struct{ rows, cols, lds, ldd int }{{128, 512, 512, 128}, {28, 512, 512, 28}, {28, 256, 384, 28}, {7, 5, 9, 11}, {9, 17, 17, 9}, {16, 8, 8, 16}, {1, 1, 1, 1}, {8, 3, 3, 8}} {
		src := randSlice(rng, s.rows*s.lds)
		dst := randSlice(rng, s.cols*s.ldd)
		want := slices.Clone(dst)
		for i := range s.rows {
			for j := range s.cols {
				want[j*s.ldd+i] = src[i*s.lds+j]
			}
		}
		Transpose(s.rows, s.cols, src, s.lds, dst, s.ldd)
		if !slices.Equal(dst, want) {
			t.Fatalf("%+v: Transpose differs from the definition", s)
		}
	}
}
