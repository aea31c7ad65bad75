package gemm

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gorgonia.org/gorgonia"
)

// Compile-time check: Implementation is what gorgonia.Use takes.
var _ gorgonia.BLAS = Implementation{}

func TestImplementationSgemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	w := NewWorkers(2)
	defer w.Close()
	w.MinFlops = 0
	for _, impl := range []Implementation{{}, {Workers: w}} {
		for _, tr := range []struct {
			tA, tB blas.Transpose
		}{{blas.NoTrans, blas.NoTrans}, {blas.Trans, blas.NoTrans}, {blas.NoTrans, blas.ConjTrans}, {blas.ConjTrans, blas.Trans}} {
			tc := gemmCase{tA: tr.tA != blas.NoTrans, tB: tr.tB != blas.NoTrans, m: 37, n: 45, k: 29, alpha: 1.5, beta: 0.5, padA: 1}
			runCase(t, rng, func(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
				impl.Sgemm(tr.tA, tr.tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
			}, tc)
		}
	}
	defer func() {
		if r := recover(); r != "gemm: bad transpose" {
			t.Fatalf("bad transpose: panic = %v", r)
		}
	}()
	Implementation{}.Sgemm('x', blas.NoTrans, 1, 1, 1, 1, []float32{1}, 1, []float32{1}, 1, 0, []float32{0}, 1)
}

// TestImplementationInGorgonia runs a gorgonia matrix product with the
// Implementation plugged in and checks the result.
func TestImplementationInGorgonia(t *testing.T) {
	old := gorgonia.WhichBLAS()
	gorgonia.Use(Implementation{})
	defer gorgonia.Use(old)

	g := gorgonia.NewGraph()
	av := []float32{1, 2, 3, 4, 5, 6}  // 2x3
	bv := []float32{1, 0, 2, 1, -1, 3} // 3x2
	a := gorgonia.NewMatrix(g, gorgonia.Float32, gorgonia.WithShape(2, 3), gorgonia.WithName("a"), gorgonia.WithValue(tensorOf(av, 2, 3)))
	b := gorgonia.NewMatrix(g, gorgonia.Float32, gorgonia.WithShape(3, 2), gorgonia.WithName("b"), gorgonia.WithValue(tensorOf(bv, 3, 2)))
	c, err := gorgonia.Mul(a, b)
	if err != nil {
		t.Fatal(err)
	}
	vm := gorgonia.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	got := c.Value().Data().([]float32)
	want := []float32{1*1 + 2*2 + 3*-1, 1*0 + 2*1 + 3*3, 4*1 + 5*2 + 6*-1, 4*0 + 5*1 + 6*3}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("gorgonia Mul with gemm: got %v, want %v", got, want)
		}
	}
}
