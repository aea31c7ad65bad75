//go:build arm64 && !purego

package gemm

import "testing"

// TestNEONIsChosen checks that arm64 builds run the NEON kernel wherever
// KernelAuto is asked for: Best, the package-level Sgemm's pool and PackB.
func TestNEONIsChosen(t *testing.T) {
	if Best() != KernelNEON || !available(KernelNEON) {
		t.Fatalf("Best() = %v, available(neon) = %v; want the NEON kernel on arm64", Best(), available(KernelNEON))
	}
	ctx := pool.Get().(*mulCtx)
	defer pool.Put(ctx)
	if ctx.Kernel() != KernelNEON {
		t.Fatalf("package-level Sgemm runs %v, want neon", ctx.Kernel())
	}
	if ctx.k.direct == nil || ctx.k.tr == nil || ctx.k.cp == nil || len(ctx.k.edge) != ctx.k.mr {
		t.Fatalf("NEON kernel without its direct form, edge kernels, transposer or copier: %+v", ctx.k)
	}
	var pb PackedB
	PackB(false, 3, 9, make([]float32, 27), 9, &pb)
	if pb.kind != KernelNEON || pb.nr != 8 {
		t.Fatalf("PackB packed for %v (nr %d), want neon (nr 8)", pb.kind, pb.nr)
	}
}
