//go:build arm64 && !purego

package gemm

//go:generate python3 gen_kernels_arm64.py

// The NEON kernels need only the base ASIMD (Advanced SIMD) instruction set,
// which every arm64 CPU Go runs on has: Go's own runtime uses it
// unconditionally, so there is no feature to test.

// kern8x8NEON is the NEON 8x8 micro-kernel (see microKernel).
//
//go:noescape
func kern8x8NEON(k int, a, b, c []float32, ldc int, alpha, beta float32)

// kern8x8NEONDirect is kern8x8NEON reading A in place (see directKernel).
//
//go:noescape
func kern8x8NEONDirect(k int, a []float32, lda int, b, c []float32, ldc int, alpha, beta float32)

// transpose8x8NEON is the NEON transposer (see transposer).
//
//go:noescape
func transpose8x8NEON(dst []float32, dstStride int, src []float32, srcStride int, blocks int)

// copyBlocksNEON is the NEON block copier (see blockCopier).
//
//go:noescape
func copyBlocksNEON(dst []float32, dstStride int, src []float32, srcStride int, rows, chunks int)

func neonImpl() kernelImpl {
	return kernelImpl{kind: KernelNEON, mr: 8, nr: 8, fn: kern8x8NEON, direct: kern8x8NEONDirect, edge: edgeNEON, tr: transpose8x8NEON, cp: copyBlocksNEON}
}

func bestImpl() kernelImpl { return neonImpl() }

func asmImpl(k Kernel) (kernelImpl, bool) {
	if k == KernelNEON {
		return neonImpl(), true
	}
	return kernelImpl{}, false
}
