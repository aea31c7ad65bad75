//go:build arm64 && !purego

package engine

import (
	"testing"

	"github.com/mnist-tui/mnist-tui/engine/internal/gemm"
	"github.com/mnist-tui/mnist-tui/engine/internal/vecf32"
)

// TestFastPathKernelsAreNEON checks that on arm64 the fast path (which calls
// the package-level gemm and vecf32 functions) runs the NEON kernels, so the
// oracle tests in this package check them.
func TestFastPathKernelsAreNEON(t *testing.T) {
	if g, v := gemm.Best(), vecf32.Best(); g != gemm.KernelNEON || v != vecf32.KernelNEON {
		t.Fatalf("fast path kernels: gemm %v, vecf32 %v; want neon, neon", g, v)
	}
}
