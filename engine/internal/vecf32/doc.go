// Package vecf32 holds vectorised float32 element-wise kernels for the
// recurrent network in the engine: the tanh activation and its backward,
// additions, a dot product, and the fused gate arithmetic of one LSTM or GRU step and of
// its backward (LSTMCell, LSTMCellGrad, GRUCell, GRUCellGrad).
//
// Kernels, chosen at run time from the CPU's features (golang.org/x/sys/cpu):
//
//   - KernelAVX512: Go assembly using AVX-512F (16 lanes, zmm), masked tails.
//   - KernelAVX2: Go assembly using AVX2 and FMA3 (8 lanes, ymm), masked
//     tails.
//   - KernelNEON: Go assembly using NEON (arm64's ASIMD, 4 lanes), tails
//     loaded lane by lane.
//   - KernelGeneric: portable Go loops; the fallback everywhere else.
//
// Building with the tag purego (or for a target other than amd64 and arm64)
// leaves out the assembly altogether; CGO is never used, so CGO_ENABLED=0 builds are fine.
//
// The functions run the best kernel for this machine; the tests run every
// kernel available against the generic one. Names follow gonum's floats:
// Add(dst, s) adds in place, AddTo(dst, s, t) writes s + t.
//
// Each architecture plugs its kernels in with a file of its own selected by
// build tags (kernel_amd64.go here; kernel_noasm.go for every other target
// and for purego), defining bestFuncs, asmFuncs and, for every kernel, a
// dispatcher that runs it and reports true or reports false to fall back to
// the generic Go: tanhAsm, tanhGradAsm, addAsm, addToAsm, lstmCellAsm,
// lstmCellGradAsm, gruCellAsm, gruCellGradAsm and dotAsm.
//
// Tanh is the float32 rational approximation Eigen and XLA use (x*P(x²)/Q(x²)
// with |x| clamped to 7.90531110763549805, and tanh(x) = x for |x| < 0.0004),
// exported in scalar form as Tanh32. Every kernel rounds every step exactly
// like Tanh32 (separate multiplies and adds, no fused multiply-add, IEEE
// division), so all kernels return bit-identical results: training gives
// the same numbers with and without the assembly. The other kernels are
// likewise bit for bit their generic Go forms (kernel_generic.go, gate.go),
// except Dot, a reduction that sums in each kernel's own order.
//
// Every function accepts any length, allocates nothing and touches no memory
// outside its slices. Slices of different lengths are a programmer error and
// panic with a message prefixed "vecf32: ". A destination may be the very
// same slice as an input, but must not otherwise overlap one.
package vecf32
