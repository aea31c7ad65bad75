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
//   - Sgemm: serial, zero allocation in steady state; packing buffers come
//     from a sync.Pool of Context values.
//   - Context: caller-owned packing buffers plus an explicit kernel choice
//     (newMulCtx(KernelGeneric) forces the pure-Go path, e.g. in tests).
//     Not safe for concurrent use.
//   - PackB and SgemmPacked: pack a right-hand operand once (a weight matrix
//     used at every time step) and multiply by it many times without
//     repacking; PackB reuses the PackedB's storage, so repacking after an
//     optimizer step does not allocate.
//   - Workers: a fixed set of helper goroutines that split large products
//     across cores; call Close when done. Small products run serially on the
//     calling goroutine.
//   - Implementation: a gonum blas.Float32/Float64/... implementation (gonum's
//     own for everything but Sgemm) suitable for gorgonia.Use.
//
// Argument errors (negative sizes, too-small leading dimensions, slices too
// short) are programmer errors and panic with a message prefixed "gemm: ",
// like the reference BLAS.
package gemm
