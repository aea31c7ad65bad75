//go:build arm64 && !purego

package gemm

import "testing"

// TestNEONIsChosen checks that arm64 builds run the NEON kernel wherever
// KernelAuto is asked for: the package-level Sgemm, PackB and Workers.
func TestNEONIsChosen(t *testing.T) {
	if Best() != KernelNEON || !Available(KernelNEON) {
		t.Fatalf("Best() = %v, Available(neon) = %v; want the NEON kernel on arm64", Best(), Available(KernelNEON))
	}
	ctx := pool.Get().(*Context)
	defer pool.Put(ctx)
	if ctx.Kernel() != KernelNEON {
		t.Fatalf("package-level Sgemm runs %v, want neon", ctx.Kernel())
	}
	var pb PackedB
	PackB(false, 3, 9, make([]float32, 27), 9, &pb)
	if pb.kind != KernelNEON || pb.nr != 8 {
		t.Fatalf("PackB packed for %v (nr %d), want neon (nr 8)", pb.kind, pb.nr)
	}
	w := NewWorkers(2)
	defer w.Close()
	if w.ctx.Kernel() != KernelNEON {
		t.Fatalf("Workers run %v, want neon", w.ctx.Kernel())
	}
}
