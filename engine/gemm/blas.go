package gemm

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Implementation is a complete gonum BLAS (blas.Float32, blas.Float64,
// blas.Complex64, blas.Complex128) that runs Sgemm with this package and
// everything else with gonum's pure-Go implementation. It satisfies
// gorgonia's BLAS interface, so gorgonia.Use(gemm.Implementation{}) plugs it
// in (gorgonia.Use also hands it to gorgonia.org/tensor).
//
// With Workers set, large Sgemm products are split across the Workers'
// goroutines; the caller owns Workers and must Close it after the last use
// (and after switching gorgonia back with gorgonia.Use). The zero value runs
// serially with pooled buffers.
type Implementation struct {
	gonum.Implementation
	// Workers, when non-nil, runs Sgemm (see Workers.Sgemm).
	Workers *Workers
}

var (
	_ blas.Float32    = Implementation{}
	_ blas.Float64    = Implementation{}
	_ blas.Complex64  = Implementation{}
	_ blas.Complex128 = Implementation{}
)

func isTrans(t blas.Transpose) bool {
	switch t {
	case blas.NoTrans:
		return false
	case blas.Trans, blas.ConjTrans:
		return true
	}
	panic("gemm: bad transpose")
}

// Sgemm computes C = alpha*op(A)*op(B) + beta*C like gonum's Sgemm
// (blas.Float32Level3), with this package's kernels. tA and tB must be
// blas.NoTrans, blas.Trans or blas.ConjTrans (the same as Trans for real
// matrices).
func (impl Implementation) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	transA, transB := isTrans(tA), isTrans(tB)
	if impl.Workers != nil {
		impl.Workers.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
