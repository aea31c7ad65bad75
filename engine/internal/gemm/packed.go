package gemm

import "fmt"

// PackedB is a right-hand operand op(B) packed once for reuse in many
// products, such as a weight matrix multiplied at every time step. Packing
// costs about as much as reading B; reusing it saves that on every product.
// The zero value is empty; fill it with PackB or mulCtx.PackB. A PackedB is
// tied to the kernel it was packed for, and it is only read by products, so
// several goroutines may share one.
type PackedB struct {
	kind   Kernel
	nr     int
	k, n   int
	kc, nc int
	data   []float32
}

// PackB packs op(B) (k x n, the transpose of b when transB is set) for the
// best kernel, as the package-level SgemmPacked uses. See mulCtx.PackB.
func PackB(transB bool, k, n int, b []float32, ldb int, p *PackedB) {
	PackBInit(k, n, p)
	PackBPart(transB, b, ldb, p, 0, 1)
}

// PackB packs op(B) (k x n, the transpose of b when transB is set) into p
// for this mulCtx's kernel, reusing p's storage when it is large enough
// (so repacking an updated weight matrix does not allocate). It panics on
// bad sizes or a slice too short, like Sgemm.
func (ctx *mulCtx) PackB(transB bool, k, n int, b []float32, ldb int, p *PackedB) {
	initPacked(ctx.k, k, n, p)
	packPart(ctx.k, transB, b, ldb, p, 0, 1)
}

// PackBInit shapes p for a k x n op(B) packed for the best kernel, reusing
// its storage when it is large enough, without packing anything: the
// parts of PackBPart then fill it, possibly from several goroutines at
// once. Shaping an already shaped p again does not allocate.
func PackBInit(k, n int, p *PackedB) {
	initPacked(chosen, k, n, p)
}

// PackBPart packs share part of parts (0 <= part < parts) of the panels of
// op(B) (the k x n shape PackBInit gave p; b is the transpose of op(B)
// when transB is set) into p: the columns PartCols(part, parts) of op(B).
// The parts write disjoint parts of p, so each may run on its own
// goroutine; all of them together pack what PackB packs. It panics on a
// slice too short, like Sgemm.
func PackBPart(transB bool, b []float32, ldb int, p *PackedB, part, parts int) {
	if p.kind != chosen.kind {
		panic(fmt.Sprintf("gemm: PackedB shaped for kernel %v, packed for %v", p.kind, chosen.kind))
	}
	packPart(chosen, transB, b, ldb, p, part, parts)
}

// PartCols returns the columns [j0, j1) of op(B) that share part of parts
// of the panels holds (PackBPart): a whole number of panels each, as
// nearly equal as they can be.
func (p *PackedB) PartCols(part, parts int) (j0, j1 int) {
	if parts < 1 || part < 0 || part >= parts {
		panic(fmt.Sprintf("gemm: part %d of %d", part, parts))
	}
	if p.nr == 0 {
		return 0, 0
	}
	panels := (p.n + p.nr - 1) / p.nr
	return min(panels*part/parts*p.nr, p.n), min(panels*(part+1)/parts*p.nr, p.n)
}

func initPacked(impl kernelImpl, k, n int, p *PackedB) {
	if k < 0 || n < 0 {
		panic(fmt.Sprintf("gemm: bad PackB size %dx%d", k, n))
	}
	nr := impl.nr
	*p = PackedB{kind: impl.kind, nr: nr, k: k, n: n, kc: split(k, kcMax, 1), nc: split(n, ncMax, nr), data: p.data}
	size := 0
	for jc := 0; jc < n; jc += p.nc {
		size += roundUp(min(p.nc, n-jc), nr) * k
	}
	if cap(p.data) < size {
		p.data = make([]float32, size)
	}
	p.data = p.data[:size]
}

// packPart packs the columns PartCols(part, parts) of op(B) into p.
func packPart(impl kernelImpl, transB bool, b []float32, ldb int, p *PackedB, part, parts int) {
	k, n, nr := p.k, p.n, p.nr
	rowB, colB := k, n
	if transB {
		rowB, colB = n, k
	}
	if ldb < max(1, colB) {
		panic(fmt.Sprintf("gemm: bad ldb %d for %d columns", ldb, colB))
	}
	if rowB > 0 && colB > 0 && len(b) < ldb*(rowB-1)+colB {
		panic(fmt.Sprintf("gemm: b too short: len %d < %d", len(b), ldb*(rowB-1)+colB))
	}
	j0, j1 := p.PartCols(part, parts)
	off := 0
	for jc := 0; jc < n; jc += p.nc {
		nb := min(p.nc, n-jc)
		// This block's share: columns [lo, hi) of op(B), whole panels.
		lo, hi := max(j0, jc), min(j1, jc+nb)
		for pc := 0; pc < k; pc += p.kc {
			kb := min(p.kc, k-pc)
			if lo < hi {
				packB(impl.tr, impl.cp, nr, transB, b, ldb, pc, kb, lo, hi-lo, p.data[off+(lo-jc)*kb:])
			}
			off += roundUp(nb, nr) * kb
		}
	}
}

func roundUp(x, unit int) int { return (x + unit - 1) / unit * unit }

// SgemmPacked computes C = alpha*op(A)*B + beta*C like Sgemm, with B packed
// by PackB: op(A) has as many columns as op(B) has rows, and C as many as op(B). It is safe for concurrent
// use and does not allocate in steady state.
func SgemmPacked(transA bool, m int, alpha float32, a []float32, lda int, p *PackedB, beta float32, c []float32, ldc int) {
	ctx := pool.Get().(*mulCtx)
	ctx.SgemmPacked(transA, m, alpha, a, lda, p, beta, c, ldc)
	pool.Put(ctx)
}

// SgemmPacked is the package-level SgemmPacked using this mulCtx. p must
// have been packed for this mulCtx's kernel (by its PackB, or by the
// package-level PackB when the mulCtx runs KernelAuto's choice).
func (ctx *mulCtx) SgemmPacked(transA bool, m int, alpha float32, a []float32, lda int, p *PackedB, beta float32, c []float32, ldc int) {
	if p.nr == 0 && (p.k > 0 || p.n > 0) || p.nr != 0 && p.kind != ctx.k.kind {
		panic(fmt.Sprintf("gemm: PackedB packed for kernel %v, used with %v", p.kind, ctx.k.kind))
	}
	k, n := p.k, p.n
	checkAC(transA, m, n, k, a, lda, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	mr, nr := ctx.k.mr, ctx.k.nr
	mc := split(m, mcMax, mr)
	ctx.grow(roundUp(mc, mr)*p.kc, 0)
	off := 0
	for jc := 0; jc < n; jc += p.nc {
		nb := min(p.nc, n-jc)
		for pc := 0; pc < k; pc += p.kc {
			kb := min(p.kc, k-pc)
			bt := beta
			if pc > 0 {
				bt = 1
			}
			bblk := p.data[off : off+roundUp(nb, nr)*kb]
			off += len(bblk)
			for ic := 0; ic < m; ic += mc {
				mb := min(mc, m-ic)
				ctx.block(transA, a, lda, ic, mb, pc, kb, nb, alpha, bt, bblk, c[ic*ldc+jc:], ldc)
			}
		}
	}
}
