// Package vecf32 holds vectorised float32 element-wise kernels for the
// recurrent network in the engine: the tanh activation and its backward, and
// the bias additions.
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
// The package-level functions (Tanh, TanhGrad, AddTo, Add3To) run the best
// kernel for this machine. For(k) returns a Funcs value bound to one kernel,
// e.g. For(KernelGeneric) forces the pure-Go path in tests.
//
// Tanh is the float32 rational approximation Eigen and XLA use (x*P(x²)/Q(x²)
// with |x| clamped to 7.90531110763549805, and tanh(x) = x for |x| < 0.0004),
// exported in scalar form as Tanh32. Every kernel rounds every step exactly
// like Tanh32 (separate multiplies and adds, no fused multiply-add, IEEE
// division), so all kernels return bit-identical results: training gives
// the same numbers with and without the assembly. TanhGrad, AddTo and Add3To
// are likewise bit for bit their plain scalar loops.
//
// Every function accepts any length, allocates nothing and touches no memory
// outside its slices. Slices of different lengths are a programmer error and
// panic with a message prefixed "vecf32: ". A destination may be the very
// same slice as an input, but must not otherwise overlap one.
package vecf32
