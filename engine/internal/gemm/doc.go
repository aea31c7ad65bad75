// Package gemm is a fast single-precision matrix multiply (BLAS sgemm) for
// row-major float32 matrices, tuned for the small and medium products of the
// recurrent network in the engine (64x128x128 per time step, 1792x128x28 for
// the input projection, 128x128x1792 for the weight gradients).
//
// The algorithm is the classic GotoBLAS/BLIS scheme: op(A) and op(B) are
// packed into cache-sized blocks of contiguous micro-panels and a
// register-blocked micro-kernel multiplies one panel pair at a time. Packing
// absorbs the transposes, so all four transpose combinations run at the same
// speed.
//
// Micro-kernels, chosen at run time from the CPU's features
// (golang.org/x/sys/cpu):
//
//   - KernelAVX512: 8x32 tile in Go assembly using AVX-512F (zmm) and FMA.
//   - KernelAVX2: 6x16 tile in Go assembly using AVX2 and FMA3.
//   - KernelGeneric: 4x4 tile in portable Go; the fallback everywhere else.
//
// The assembly kernels also have a direct-A form that reads a
// non-transposed A in place (no packing), and the packing routines use AVX
// 8x8 transposes and block copies.
//
// Building with the tag purego (or for a non-amd64 target) leaves out the
// assembly altogether; CGO is never used, so CGO_ENABLED=0 builds are fine.
//
// Entry points:
//
//   - Sgemm: zero allocation in steady state, safe for concurrent use;
//     packing buffers come from a sync.Pool.
//   - PackB and SgemmPacked: pack a right-hand operand once (a weight matrix
//     used at every time step) and multiply by it many times without
//     repacking; PackB reuses the PackedB's storage, so repacking after an
//     optimizer step does not allocate.
//   - Best: which kernel runs.
//
// The engine splits its work between cores itself (each worker its share
// of the batch), so the package has no thread pool of its own.
//
// Each architecture plugs its kernels in with two functions in a file of
// its own, selected by build tags (kernel_amd64.go here; kernel_noasm.go is
// the fallback for every other target and for purego):
//
//	bestImpl() kernelImpl                 // the kernel KernelAuto runs
//	asmImpl(k Kernel) (kernelImpl, bool)  // kernel k, if this CPU has it
//
// A kernelImpl holds the micro-kernel fn (an mr x nr tile from packed
// panels: a[p*mr+i], b[p*nr+j]), optionally its direct form reading a
// non-transposed A in place (row i at a[i*lda:]), and optional 8x8
// transpose and 8-float block copy helpers for packing. mr must divide
// mcMax (144) and nr must divide ncMax (512), so that whole blocks hold
// whole panels.
//
// Argument errors (negative sizes, too-small leading dimensions, slices too
// short) are programmer errors and panic with a message prefixed "gemm: ",
// like the reference BLAS.
package gemm
