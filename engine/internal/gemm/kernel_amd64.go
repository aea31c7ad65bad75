//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

//go:generate python3 gen_kernels.py

// Feature flags read once from the CPU; they never change after start-up.
var (
	hasAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	hasAVX512 = cpu.X86.HasAVX512F && hasAVX2
)

// kern6x16AVX2 is the AVX2+FMA3 6x16 micro-kernel (see microKernel).
//
//go:noescape
func kern6x16AVX2(k int, a, b, c []float32, ldc int, alpha, beta float32)

// kern8x32AVX512 is the AVX-512F 8x32 micro-kernel (see microKernel).
//
//go:noescape
func kern8x32AVX512(k int, a, b, c []float32, ldc int, alpha, beta float32)

// kern6x16AVX2Direct is kern6x16AVX2 reading A in place (see directKernel).
//
//go:noescape
func kern6x16AVX2Direct(k int, a []float32, lda int, b, c []float32, ldc int, alpha, beta float32)

// kern8x32AVX512Direct is kern8x32AVX512 reading A in place (see
// directKernel).
//
//go:noescape
func kern8x32AVX512Direct(k int, a []float32, lda int, b, c []float32, ldc int, alpha, beta float32)

// kern6x16AVX2DirectT is kern6x16AVX2 reading a transposed A in place
// (see kernelImpl.directT).
//
//go:noescape
func kern6x16AVX2DirectT(k int, a []float32, lda int, b, c []float32, ldc int, alpha, beta float32)

// kern8x32AVX512DirectT is kern8x32AVX512 reading a transposed A in place
// (see kernelImpl.directT).
//
//go:noescape
func kern8x32AVX512DirectT(k int, a []float32, lda int, b, c []float32, ldc int, alpha, beta float32)

// transpose8x8AVX is the AVX transposer (see transposer).
//
//go:noescape
func transpose8x8AVX(dst []float32, dstStride int, src []float32, srcStride int, blocks int)

// copyBlocksAVX is the AVX block copier (see blockCopier).
//
//go:noescape
func copyBlocksAVX(dst []float32, dstStride int, src []float32, srcStride int, rows, chunks int)

func bestImpl() kernelImpl {
	if hasAVX512 {
		impl, _ := asmImpl(KernelAVX512)
		return impl
	}
	if hasAVX2 {
		impl, _ := asmImpl(KernelAVX2)
		return impl
	}
	return genericImpl()
}

func asmImpl(k Kernel) (kernelImpl, bool) {
	switch {
	case k == KernelAVX2 && hasAVX2:
		return kernelImpl{kind: KernelAVX2, mr: 6, nr: 16, fn: kern6x16AVX2, direct: kern6x16AVX2Direct, edge: edgeAVX2, directT: kern6x16AVX2DirectT, edgeT: edgeTAVX2, tr: transpose8x8AVX, cp: copyBlocksAVX}, true
	case k == KernelAVX512 && hasAVX512:
		return kernelImpl{kind: KernelAVX512, mr: 8, nr: 32, fn: kern8x32AVX512, direct: kern8x32AVX512Direct, edge: edgeAVX512, directT: kern8x32AVX512DirectT, edgeT: edgeTAVX512, tr: transpose8x8AVX, cp: copyBlocksAVX}, true
	}
	return kernelImpl{}, false
}
