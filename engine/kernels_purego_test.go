//go:build purego

package engine

import (
	"testing"

	"github.com/mnist-tui/mnist-tui/engine/internal/gemm"
	"github.com/mnist-tui/mnist-tui/engine/internal/vecf32"
)

// TestFastPathKernelsArePureGo checks that -tags purego leaves the fast path
// on the portable Go kernels, so the oracle tests run with it check them.
func TestFastPathKernelsArePureGo(t *testing.T) {
	if g, v := gemm.Best(), vecf32.Best(); g != gemm.KernelGeneric || v != vecf32.KernelGeneric {
		t.Fatalf("fast path kernels with -tags purego: gemm %v, vecf32 %v; want generic, generic", g, v)
	}
}
