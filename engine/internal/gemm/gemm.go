package gemm

import (
	"errors"
	"fmt"
	"sync"

	"github.com/mnist-tui/mnist-tui/engine/internal/kernelenv"
)

// Blocking parameters. mcMax and ncMax are multiples of every kernel's MR and
// NR (4, 6, 8 and 4, 8, 16, 32) so that whole blocks hold whole micro-panels.
const (
	kcMax = 256 // depth of a packed block (k direction)
	mcMax = 144 // rows of op(A) packed at once
	ncMax = 512 // columns of op(B) packed at once
)

// Kernel names a micro-kernel implementation (kernelenv's, shared with
// vecf32).
type Kernel = kernelenv.Kernel

// The kernels.
const (
	// KernelAuto picks the fastest kernel the CPU supports.
	KernelAuto = kernelenv.Auto
	// KernelGeneric is the portable Go kernel (4x4 tile).
	KernelGeneric = kernelenv.Generic
	// KernelAVX2 is the AVX2+FMA3 assembly kernel (6x16 tile), amd64 only.
	KernelAVX2 = kernelenv.AVX2
	// KernelAVX512 is the AVX-512F assembly kernel (8x32 tile), amd64 only.
	KernelAVX512 = kernelenv.AVX512
	// KernelNEON is the NEON (ASIMD) assembly kernel (8x8 tile), arm64 only.
	KernelNEON = kernelenv.NEON
)

// errUnsupported reports that a kernel cannot run on this CPU or build.
var errUnsupported = errors.New("gemm: kernel not supported on this CPU or build")

// microKernel computes the mr x nr tile
//
//	C = alpha * sum_p a[p*mr+i] * b[p*nr+j] + beta*C
//
// for p in [0,k), where a and b are packed micro-panels. beta == 0 means C is
// not read. c must hold (mr-1)*ldc + nr elements.
type microKernel func(k int, a, b, c []float32, ldc int, alpha, beta float32)

// directKernel is a microKernel that reads A in place: row i of the mr x k
// tile is a[i*lda : i*lda+k]. It saves packing a non-transposed A.
type directKernel func(k int, a []float32, lda int, b, c []float32, ldc int, alpha, beta float32)

// transposer transposes blocks 8x8 blocks: for q < blocks and r, c < 8,
// dst[(8q+c)*dstStride + r] = src[r*srcStride + 8q + c].
type transposer func(dst []float32, dstStride int, src []float32, srcStride int, blocks int)

type kernelImpl struct {
	kind   Kernel
	mr, nr int
	fn     microKernel
	direct directKernel // nil when the kernel has no direct-A form
	// edge, when not nil, holds direct kernels for fewer rows: edge[r]
	// computes an r x nr tile (1 <= r < mr).
	edge []directKernel
	// directT, when not nil, reads a transposed A in place: step p's mr
	// values of the tile are a[p*lda : p*lda+mr], laid out as a packed
	// panel's are (the weight gradients' dz^T, whose packing cost AVX2
	// training steps 5%); edgeT holds its forms for fewer rows, as edge.
	directT directKernel
	edgeT   []directKernel
	tr      transposer  // nil: transposing packs use plain Go
	cp      blockCopier // nil: copying packs use plain Go
}

// blockCopier copies rows runs of 8*chunks values: for r < rows,
// dst[r*dstStride:][:8*chunks] = src[r*srcStride:][:8*chunks].
type blockCopier func(dst []float32, dstStride int, src []float32, srcStride int, rows, chunks int)

func genericImpl() kernelImpl {
	return kernelImpl{kind: KernelGeneric, mr: 4, nr: 4, fn: kernGeneric4x4}
}

// chosen is the kernel KernelAuto runs: the CPU's best (bestImpl), or the
// one MNIST_TUI_KERNEL names (package kernelenv); chosenErr says why that
// could not be honoured. Both are fixed at start-up.
var chosen, chosenErr = choose()

func choose() (kernelImpl, error) {
	k, err := kernelenv.Get()
	switch {
	case err != nil || k == KernelAuto:
		return bestImpl(), err
	case k == KernelGeneric:
		return genericImpl(), nil
	}
	if impl, ok := asmImpl(k); ok {
		return impl, nil
	}
	return bestImpl(), kernelenv.Unavailable(k)
}

// Best returns the kernel KernelAuto resolves to: the fastest this CPU
// supports unless MNIST_TUI_KERNEL asks for another.
func Best() Kernel {
	return chosen.kind
}

// Override reports a MNIST_TUI_KERNEL value that could not be honoured (an
// unknown name, or a kernel this CPU or build lacks: Best is then the
// CPU's best), or nil.
func Override() error {
	if chosenErr != nil {
		return fmt.Errorf("gemm: %w", chosenErr)
	}
	return nil
}

// available reports whether kernel k can run here.
func available(k Kernel) bool {
	_, ok := implFor(k)
	return ok
}

func implFor(k Kernel) (kernelImpl, bool) {
	switch k {
	case KernelAuto:
		return chosen, true
	case KernelGeneric:
		return genericImpl(), true
	}
	return asmImpl(k)
}

// mulCtx owns the packing buffers for one goroutine and a kernel choice.
// The zero value is not usable; create one with newMulCtx. A mulCtx is not
// safe for concurrent use, but can be reused for any number of calls without
// allocating.
type mulCtx struct {
	k    kernelImpl
	abuf []float32
	bbuf []float32
	tile []float32
}

// newMulCtx returns a mulCtx that uses kernel k (KernelAuto for the best
// available). It returns errUnsupported if k cannot run here.
func newMulCtx(k Kernel) (*mulCtx, error) {
	impl, ok := implFor(k)
	if !ok {
		return nil, fmt.Errorf("%w: %v", errUnsupported, k)
	}
	return newCtxImpl(impl), nil
}

func newCtxImpl(impl kernelImpl) *mulCtx {
	return &mulCtx{
		k:    impl,
		tile: make([]float32, impl.mr*impl.nr),
	}
}

// grow makes the packing buffers hold at least aLen and bLen values. They
// start empty and grow to the largest blocks used, at most mcMax x kcMax and
// kcMax x ncMax (a few hundred KiB).
func (ctx *mulCtx) grow(aLen, bLen int) {
	if len(ctx.abuf) < aLen {
		ctx.abuf = make([]float32, aLen)
	}
	if len(ctx.bbuf) < bLen {
		ctx.bbuf = make([]float32, bLen)
	}
}

// Kernel returns the kernel this mulCtx runs.
func (ctx *mulCtx) Kernel() Kernel { return ctx.k.kind }

// pool holds mulCtx values with the best kernel for the package-level Sgemm. It is
// a cache of scratch buffers, not program state.
var pool = sync.Pool{New: func() any { return newCtxImpl(chosen) }}

// Sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major float32
// matrices, where op(X) is X or its transpose when the matching flag is set:
// op(A) is m x k, op(B) is k x n and C is m x n, stored with leading
// dimensions (row strides) lda, ldb and ldc. As in BLAS, beta == 0 means C is
// only written, so NaNs in it do not propagate. It is safe for concurrent use
// and does not allocate in steady state.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ctx := pool.Get().(*mulCtx)
	ctx.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	pool.Put(ctx)
}

// Sgemm is the package-level Sgemm using this mulCtx's buffers and kernel.
func (ctx *mulCtx) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	ctx.gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// checkArgs panics on sizes, leading dimensions or slices that do not fit
// C = op(A)*op(B) with op(A) m x k and op(B) k x n.
func checkArgs(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if n < 0 {
		panic("gemm: n < 0")
	}
	if k < 0 {
		panic("gemm: k < 0")
	}
	checkAC(transA, m, n, k, a, lda, c, ldc)
	rowB, colB := k, n
	if transB {
		rowB, colB = n, k
	}
	checkOperand("b", "ldb", rowB, colB, b, ldb)
}

// checkAC is checkArgs for op(A) (m x k) and C (m x n), shared with the
// products whose B is already packed.
func checkAC(transA bool, m, n, k int, a []float32, lda int, c []float32, ldc int) {
	if m < 0 {
		panic("gemm: m < 0")
	}
	rowA, colA := m, k
	if transA {
		rowA, colA = k, m
	}
	checkOperand("a", "lda", rowA, colA, a, lda)
	checkOperand("c", "ldc", m, n, c, ldc)
}

// checkOperand panics unless x holds a rows x cols matrix with leading
// dimension ld.
func checkOperand(name, ldName string, rows, cols int, x []float32, ld int) {
	if ld < max(1, cols) {
		panic(fmt.Sprintf("gemm: bad %s %d for %d columns", ldName, ld, cols))
	}
	if rows > 0 && cols > 0 && len(x) < ld*(rows-1)+cols {
		panic(fmt.Sprintf("gemm: %s too short: len %d < %d", name, len(x), ld*(rows-1)+cols))
	}
}

// scaleC sets C = beta*C (C = 0 when beta == 0).
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// split returns the block size for a dimension of length total with blocks of
// at most maxBlock, balanced so the last block is not tiny, rounded up to a
// multiple of unit.
func split(total, maxBlock, unit int) int {
	if total <= maxBlock {
		return total
	}
	nb := (total + maxBlock - 1) / maxBlock
	bs := (total + nb - 1) / nb
	bs = (bs + unit - 1) / unit * unit
	return min(bs, maxBlock)
}

// gemm is Sgemm without argument checks.
func (ctx *mulCtx) gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	mr, nr := ctx.k.mr, ctx.k.nr
	kc := split(k, kcMax, 1)
	mc := split(m, mcMax, mr)
	nc := split(n, ncMax, nr)
	ctx.grow(roundUp(mc, mr)*kc, roundUp(nc, nr)*kc)
	for jc := 0; jc < n; jc += nc {
		nb := min(nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			bt := beta
			if pc > 0 {
				bt = 1
			}
			packB(ctx.k.tr, ctx.k.cp, nr, transB, b, ldb, pc, kb, jc, nb, ctx.bbuf)
			for ic := 0; ic < m; ic += mc {
				mb := min(mc, m-ic)
				ctx.block(transA, a, lda, ic, mb, pc, kb, nb, alpha, bt, ctx.bbuf, c[ic*ldc+jc:], ldc)
			}
		}
	}
}

// block multiplies rows [ic, ic+mb) and columns [pc, pc+kb) of op(A) by the
// packed kb x nb block of B in bblk into C (whose top-left element is c[0]),
// packing A unless the kernel can read it in place.
func (ctx *mulCtx) block(transA bool, a []float32, lda, ic, mb, pc, kb, nb int, alpha, beta float32, bblk, c []float32, ldc int) {
	if !transA && ctx.k.direct != nil {
		ctx.macroDirect(mb, nb, kb, alpha, beta, a[ic*lda+pc:], lda, bblk, c, ldc)
		return
	}
	if transA && ctx.k.directT != nil {
		ctx.macroDirectT(mb, nb, kb, alpha, beta, a[pc*lda+ic:], lda, bblk, c, ldc)
		return
	}
	packA(ctx.k.tr, ctx.k.cp, ctx.k.mr, transA, a, lda, ic, mb, pc, kb, ctx.abuf)
	ctx.macro(mb, nb, kb, alpha, beta, bblk, c, ldc)
}

// macroDirect is macro for a non-transposed A read in place (a[0] is the
// block's top-left element); a last partial panel of rows runs the edge
// kernel of its height, or is packed when there is none.
func (ctx *mulCtx) macroDirect(mb, nb, kb int, alpha, beta float32, a []float32, lda int, bbuf, c []float32, ldc int) {
	mr, nr, fn, direct, edge := ctx.k.mr, ctx.k.nr, ctx.k.fn, ctx.k.direct, ctx.k.edge
	tile := ctx.tile
	full := mb / mr * mr
	if full < mb && edge == nil {
		gatherRows(ctx.k.tr, ctx.abuf, mr, a, full*lda, lda, mb-full, kb)
	}
	for jr := 0; jr < nb; jr += nr {
		cols := min(nr, nb-jr)
		bp := bbuf[jr*kb : (jr+nr)*kb]
		for ir, rows := 0, 0; ir < mb; ir += rows {
			rows = min(mr, mb-ir)
			if edge != nil {
				rows = tileRows(ir, mb, mr)
			}
			cc := c[ir*ldc+jr:]
			switch {
			case rows == mr && cols == nr:
				direct(kb, a[ir*lda:], lda, bp, cc, ldc, alpha, beta)
				continue
			case rows == mr:
				direct(kb, a[ir*lda:], lda, bp, tile, nr, alpha, 0)
			case edge != nil && cols == nr:
				edge[rows](kb, a[ir*lda:], lda, bp, cc, ldc, alpha, beta)
				continue
			case edge != nil:
				edge[rows](kb, a[ir*lda:], lda, bp, tile, nr, alpha, 0)
			default:
				fn(kb, ctx.abuf[:mr*kb], bp, tile, nr, alpha, 0)
			}
			mergeTile(cc, ldc, tile, nr, rows, cols, beta)
		}
	}
}

// macroDirectT is macro for a transposed A read in place (a[0] is the
// block's top-left element of op(A), a[p*lda+i] its element (i, p)); a
// last partial panel of rows runs the transposed edge kernel of its
// height.
func (ctx *mulCtx) macroDirectT(mb, nb, kb int, alpha, beta float32, a []float32, lda int, bbuf, c []float32, ldc int) {
	mr, nr, direct, edge := ctx.k.mr, ctx.k.nr, ctx.k.directT, ctx.k.edgeT
	tile := ctx.tile
	for jr := 0; jr < nb; jr += nr {
		cols := min(nr, nb-jr)
		bp := bbuf[jr*kb : (jr+nr)*kb]
		for ir, rows := 0, 0; ir < mb; ir += rows {
			rows = tileRows(ir, mb, mr)
			k := direct
			if rows < mr {
				k = edge[rows]
			}
			cc := c[ir*ldc+jr:]
			if cols == nr {
				k(kb, a[ir:], lda, bp, cc, ldc, alpha, beta)
				continue
			}
			k(kb, a[ir:], lda, bp, tile, nr, alpha, 0)
			mergeTile(cc, ldc, tile, nr, rows, cols, beta)
		}
	}
}

// minEdgeRows is the fewest rows of an edge tile that keep the FMA units
// busy: every assembly kernel holds two vectors of C a row, so four rows
// are eight independent chains of FMAs, which cover two FMA pipes' latency
// of four cycles; a 2-row tile runs at about half the rate.
const minEdgeRows = 4

// tileRows returns the height of the row tile at row ir of a block of mb
// rows, for tiles of mr rows and edge kernels of every smaller height: mr,
// but where the block would end in a tile of fewer than minEdgeRows rows,
// its last two tiles share their rows evenly (AVX2's 32 rows: 6, 6, 6, 6,
// 4, 4 rather than 6, 6, 6, 6, 6, 2). Every element of C is the same FMA
// chain whatever tile computes it, so the results do not change.
func tileRows(ir, mb, mr int) int {
	left := mb - ir
	if rem := left - mr; rem > 0 && rem < minEdgeRows {
		return (left + 1) / 2
	}
	return min(mr, left)
}

// mergeTile sets C = T + beta*C on the rows x cols corner of C, where T is
// a kernel's output tile with row stride nr.
func mergeTile(c []float32, ldc int, tile []float32, nr, rows, cols int, beta float32) {
	for i := 0; i < rows; i++ {
		dst := c[i*ldc : i*ldc+cols]
		src := tile[i*nr : i*nr+cols]
		if beta == 0 {
			copy(dst, src)
			continue
		}
		for j, v := range src {
			dst[j] = v + beta*dst[j]
		}
	}
}

// macro multiplies the packed mb x kb block of A (in ctx.abuf) by the packed
// kb x nb block of B (in bbuf) into C (whose top-left element is c[0]).
func (ctx *mulCtx) macro(mb, nb, kb int, alpha, beta float32, bbuf, c []float32, ldc int) {
	mr, nr, fn := ctx.k.mr, ctx.k.nr, ctx.k.fn
	tile := ctx.tile
	for jr := 0; jr < nb; jr += nr {
		cols := min(nr, nb-jr)
		bp := bbuf[jr*kb : (jr+nr)*kb]
		for ir := 0; ir < mb; ir += mr {
			rows := min(mr, mb-ir)
			ap := ctx.abuf[ir*kb : (ir+mr)*kb]
			cc := c[ir*ldc+jr:]
			if rows == mr && cols == nr {
				fn(kb, ap, bp, cc, ldc, alpha, beta)
				continue
			}
			fn(kb, ap, bp, tile, nr, alpha, 0)
			mergeTile(cc, ldc, tile, nr, rows, cols, beta)
		}
	}
}

// packA packs rows [i0, i0+mb) and columns [p0, p0+kb) of op(A) into
// micro-panels of mr rows: panel r holds, for each p, the mr values
// op(A)[i0+r*mr+ii, p0+p]; rows past mb are zero.
func packA(tr transposer, cp blockCopier, mr int, trans bool, a []float32, lda, i0, mb, p0, kb int, dst []float32) {
	ir := 0
	if trans && (cp == nil || mr%8 != 0) {
		// Row p0+p of a holds column p of every panel: read each row once,
		// in order, scattering it over the full panels (the block copier
		// only serves panels of a multiple of 8, such as AVX-512's).
		full := mb / mr * mr
		scatterRows(dst, mr, a, p0*lda+i0, lda, full, kb)
		ir = full
	}
	for ; ir < mb; ir += mr {
		rows := min(mr, mb-ir)
		d := dst[ir*kb : (ir+mr)*kb]
		if !trans {
			// Row i of op(A) is a contiguous run: transpose while packing.
			gatherRows(tr, d, mr, a, (i0+ir)*lda+p0, lda, rows, kb)
		} else {
			// Column p of the panel is contiguous in a.
			copyRuns(cp, d, mr, a, p0*lda+i0+ir, lda, rows, kb)
		}
	}
}

// scatterRows fills the first m/w panels of dst (each kb groups of w
// values) with dst[r*w*kb + p*w + i] = src[off + p*ld + r*w + i]: row p of
// the source, read in order, spread over the panels. m is a multiple of w.
func scatterRows(dst []float32, w int, src []float32, off, ld, m, kb int) {
	if m == 0 || kb == 0 {
		return
	}
	panels := m / w
	stride := w * kb
	_ = dst[(panels-1)*stride+kb*w-1]
	for p := 0; p < kb; p++ {
		row := src[off+p*ld : off+p*ld+m]
		o := p * w
		switch w {
		case 8:
			for r := 0; r < panels; r++ {
				*(*[8]float32)(dst[o+r*stride:]) = *(*[8]float32)(row[r*8:])
			}
		case 4:
			for r := 0; r < panels; r++ {
				*(*[4]float32)(dst[o+r*stride:]) = *(*[4]float32)(row[r*4:])
			}
		default:
			for r := 0; r < panels; r++ {
				copy(dst[o+r*stride:o+r*stride+w], row[r*w:])
			}
		}
	}
}

// packB packs rows [p0, p0+kb) and columns [j0, j0+nb) of op(B) into
// micro-panels of nr columns: panel s holds, for each p, the nr values
// op(B)[p0+p, j0+s*nr+jj]; columns past nb are zero.
func packB(tr transposer, cp blockCopier, nr int, trans bool, b []float32, ldb, p0, kb, j0, nb int, dst []float32) {
	for jr := 0; jr < nb; jr += nr {
		cols := min(nr, nb-jr)
		d := dst[jr*kb : (jr+nr)*kb]
		if !trans {
			copyRuns(cp, d, nr, b, p0*ldb+j0+jr, ldb, cols, kb)
		} else {
			gatherRows(tr, d, nr, b, (j0+jr)*ldb+p0, ldb, cols, kb)
		}
	}
}

// copyRuns fills the panel d (kb groups of w values) with d[p*w+i] =
// src[off+p*ld+i] for i < cnt, and zero for cnt <= i < w. cp, when not nil,
// copies the first multiple of 8 values of every group.
func copyRuns(cp blockCopier, d []float32, w int, src []float32, off, ld, cnt, kb int) {
	d = d[:w*kb]
	if kb == 0 {
		return
	}
	if cp != nil && cnt >= 8 {
		done := cnt / 8 * 8
		_ = src[off+(kb-1)*ld+done-1] // bounds for the assembly
		cp(d, w, src[off:], ld, kb, done/8)
		if done < w {
			for p := 0; p < kb; p++ {
				g := d[p*w+done : p*w+w]
				n := copy(g, src[off+p*ld+done:off+p*ld+cnt])
				clear(g[n:])
			}
		}
		return
	}
	if cnt == w && w == 4 {
		for p := 0; p < kb; p++ {
			t := (*[4]float32)(d[p*4:])
			s := (*[4]float32)(src[off+p*ld:])
			t[0], t[1], t[2], t[3] = s[0], s[1], s[2], s[3]
		}
		return
	}
	for p := 0; p < kb; p++ {
		g := d[p*w : p*w+w]
		copy(g, src[off+p*ld:off+p*ld+cnt])
		clear(g[cnt:])
	}
}

// gatherRows fills the panel d (kb groups of w values) with d[p*w+i] =
// src[off+i*ld+p] for i < cnt (a transpose of cnt rows of length kb), and
// zero for cnt <= i < w. tr, when not nil, transposes groups of 8 rows.
func gatherRows(tr transposer, d []float32, w int, src []float32, off, ld, cnt, kb int) {
	d = d[:w*kb]
	i := 0
	if tr != nil && kb >= 8 {
		blocks := kb / 8
		for ; i+8 <= cnt; i += 8 {
			o := off + i*ld
			// Bounds for the assembly: 8 rows of kb values and kb groups of w.
			_ = src[o+7*ld+kb-1]
			tr(d[i:], w, src[o:], ld, blocks)
			for p := blocks * 8; p < kb; p++ {
				t := (*[8]float32)(d[p*w+i:])
				for r := range t {
					t[r] = src[o+r*ld+p]
				}
			}
		}
	}
	for ; i+8 <= cnt; i += 8 {
		o := off + i*ld
		r0 := src[o : o+kb]
		r1 := src[o+ld : o+ld+kb]
		r2 := src[o+2*ld : o+2*ld+kb]
		r3 := src[o+3*ld : o+3*ld+kb]
		r4 := src[o+4*ld : o+4*ld+kb]
		r5 := src[o+5*ld : o+5*ld+kb]
		r6 := src[o+6*ld : o+6*ld+kb]
		r7 := src[o+7*ld : o+7*ld+kb]
		for p := range r0 {
			t := (*[8]float32)(d[p*w+i:])
			t[0], t[1], t[2], t[3] = r0[p], r1[p], r2[p], r3[p]
			t[4], t[5], t[6], t[7] = r4[p], r5[p], r6[p], r7[p]
		}
	}
	for ; i+4 <= cnt; i += 4 {
		o := off + i*ld
		r0 := src[o : o+kb]
		r1 := src[o+ld : o+ld+kb]
		r2 := src[o+2*ld : o+2*ld+kb]
		r3 := src[o+3*ld : o+3*ld+kb]
		for p := range r0 {
			t := (*[4]float32)(d[p*w+i:])
			t[0], t[1], t[2], t[3] = r0[p], r1[p], r2[p], r3[p]
		}
	}
	for ; i < cnt; i++ {
		o := off + i*ld
		for p, v := range src[o : o+kb] {
			d[p*w+i] = v
		}
	}
	if cnt < w {
		for p := 0; p < kb; p++ {
			clear(d[p*w+cnt : p*w+w])
		}
	}
}

// SgemmSharedB computes C1 = alpha*op(A1)*B + beta1*C1 and C2 =
// alpha*op(A2)*B[:, :n2] + beta2*C2 (op(A1) m1 x k, op(A2) m2 x k, B k x n,
// not transposed, n2 <= n: C2 is m2 x n2), exactly as two Sgemm calls
// would, packing each block of B once for both products: the transposed
// weight gradients of a recurrent layer, H^T dz and X^T dz, share dz (the
// GRU's input side takes only dz's r and z blocks). It panics like Sgemm,
// and if n2 is not in [0, n].
func SgemmSharedB(transA bool, k, n int, alpha float32, b []float32, ldb int,
	m1 int, a1 []float32, lda1 int, beta1 float32, c1 []float32, ldc1 int,
	m2, n2 int, a2 []float32, lda2 int, beta2 float32, c2 []float32, ldc2 int) {
	if n2 < 0 || n2 > n {
		panic(fmt.Sprintf("gemm: SgemmSharedB's second product has %d columns, not in [0, %d]", n2, n))
	}
	ctx := pool.Get().(*mulCtx)
	defer pool.Put(ctx)
	checkArgs(transA, false, m1, n, k, a1, lda1, b, ldb, c1, ldc1)
	checkArgs(transA, false, m2, n2, k, a2, lda2, b, ldb, c2, ldc2)
	if m1 == 0 || m2 == 0 || n2 == 0 || alpha == 0 || k == 0 {
		ctx.gemm(transA, false, m1, n, k, alpha, a1, lda1, b, ldb, beta1, c1, ldc1)
		ctx.gemm(transA, false, m2, n2, k, alpha, a2, lda2, b, ldb, beta2, c2, ldc2)
		return
	}
	type side struct {
		m, n int
		a    []float32
		lda  int
		beta float32
		c    []float32
		ldc  int
	}
	sides := [2]side{{m1, n, a1, lda1, beta1, c1, ldc1}, {m2, n2, a2, lda2, beta2, c2, ldc2}}
	mr, nr := ctx.k.mr, ctx.k.nr
	kc := split(k, kcMax, 1)
	nc := split(n, ncMax, nr)
	ctx.grow(roundUp(split(max(m1, m2), mcMax, mr), mr)*kc, roundUp(nc, nr)*kc)
	for jc := 0; jc < n; jc += nc {
		nb := min(nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			packB(ctx.k.tr, ctx.k.cp, nr, false, b, ldb, pc, kb, jc, nb, ctx.bbuf)
			for _, s := range sides {
				// B's packed panels are in column order: a product of
				// fewer columns reads the first of them.
				nbs := min(nb, s.n-jc)
				if nbs <= 0 {
					continue
				}
				bt := s.beta
				if pc > 0 {
					bt = 1
				}
				mc := split(s.m, mcMax, mr)
				for ic := 0; ic < s.m; ic += mc {
					mb := min(mc, s.m-ic)
					ctx.block(transA, s.a, s.lda, ic, mb, pc, kb, nbs, alpha, bt, ctx.bbuf, s.c[ic*s.ldc+jc:], s.ldc)
				}
			}
		}
	}
}

// Transpose writes into dst the transpose of the rows x cols matrix src
// (leading dimensions lds and ldd): dst[j*ldd+i] = src[i*lds+j]. Strips of
// eight rows go through the kernel's 8x8 transposer where it has one. It
// panics on a slice too short, like Sgemm.
func Transpose(rows, cols int, src []float32, lds int, dst []float32, ldd int) {
	checkOperand("src", "lds", rows, cols, src, lds)
	checkOperand("dst", "ldd", cols, rows, dst, ldd)
	tr := chosen.tr
	i := 0
	if tr != nil && cols >= 8 {
		for ; i+8 <= rows; i += 8 {
			tr(dst[i:], ldd, src[i*lds:], lds, cols/8)
		}
	}
	full := i
	for r := range rows {
		j0 := 0
		if r < full {
			j0 = cols / 8 * 8
		}
		for j := j0; j < cols; j++ {
			dst[j*ldd+r] = src[r*lds+j]
		}
	}
}
