package gemm

import (
	"runtime"
	"sync"
)

// DefaultMinFlops is the default Workers.MinFlops: products of fewer
// floating-point operations (2*m*n*k) run on the calling goroutine, because
// waking a helper costs more than it saves. On the 2-core machine the
// benchmarks ran on, splitting a 64x128x128 step (2.1 MFLOP) always lost
// (about 41 µs split against 23 µs serial), while the 12.8 MFLOP and larger
// products broke even or gained depending on the load of the other core.
const DefaultMinFlops = 4 << 20

// Workers splits large products across a fixed set of helper goroutines.
// Create it with NewWorkers and call Close when done; Close ends the helper
// goroutines. Its Sgemm is safe for concurrent use, but concurrent calls are
// serialized. A nil *Workers runs every product serially.
type Workers struct {
	// MinFlops is the smallest product, in floating-point operations
	// (2*m*n*k), that is split; smaller ones run serially. Set it before
	// the first call.
	MinFlops int

	mu      sync.Mutex
	closed  bool
	ctx     *Context // the calling goroutine's share
	helpers []helper
	wg      sync.WaitGroup
}

type helper struct {
	ctx  *Context
	jobs chan job
	done chan struct{}
}

// job is one slice of a product; it travels by value, so nothing allocates.
type job struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
}

// NewWorkers returns Workers that run products on n goroutines in all (the
// caller's plus n-1 helpers) with the best kernel. n <= 0 means
// runtime.GOMAXPROCS(0).
func NewWorkers(n int) *Workers {
	w, _ := NewWorkersKernel(n, KernelAuto)
	return w
}

// NewWorkersKernel is NewWorkers with an explicit kernel; it returns
// ErrUnsupported if the kernel cannot run here.
func NewWorkersKernel(n int, k Kernel) (*Workers, error) {
	impl, ok := implFor(k)
	if !ok {
		return nil, ErrUnsupported
	}
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	w := &Workers{MinFlops: DefaultMinFlops, ctx: newContext(impl)}
	w.helpers = make([]helper, n-1)
	for i := range w.helpers {
		h := helper{ctx: newContext(impl), jobs: make(chan job), done: make(chan struct{}, 1)}
		w.helpers[i] = h
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for j := range h.jobs {
				h.ctx.gemm(j.transA, j.transB, j.m, j.n, j.k, j.alpha, j.a, j.lda, j.b, j.ldb, j.beta, j.c, j.ldc)
				h.done <- struct{}{}
			}
		}()
	}
	return w, nil
}

// Close stops the helper goroutines and waits for them to exit. Later calls
// to Sgemm run serially. Close is idempotent.
func (w *Workers) Close() {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	w.closed = true
	for _, h := range w.helpers {
		close(h.jobs)
	}
	w.wg.Wait()
}

// Sgemm is the package-level Sgemm, split across the Workers' goroutines
// when the product is at least MinFlops: by rows of C when there are enough,
// else by columns. It does not allocate.
func (w *Workers) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if w == nil {
		Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	w.mu.Lock()
	defer w.mu.Unlock()
	parts := len(w.helpers) + 1
	mr, nr := w.ctx.k.mr, w.ctx.k.nr
	flops := 2 * m * n * k
	if w.closed || parts == 1 || flops < w.MinFlops || alpha == 0 || (m < 2*mr && n < 2*nr) {
		w.ctx.gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	j := job{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta, a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc}
	byRows := m >= 2*mr
	total, unit := n, nr
	if byRows {
		total, unit = m, mr
	}
	units := (total + unit - 1) / unit
	parts = min(parts, units)
	// Part 0 runs on the caller; parts 1.. go to helpers.
	var first job
	sent := 0
	start := 0
	for p := 0; p < parts; p++ {
		end := min(total, (units*(p+1)/parts)*unit)
		sub := j
		if byRows {
			sub.m = end - start
			if transA {
				sub.a = a[start:]
			} else {
				sub.a = a[start*lda:]
			}
			sub.c = c[start*ldc:]
		} else {
			sub.n = end - start
			if transB {
				sub.b = b[start*ldb:]
			} else {
				sub.b = b[start:]
			}
			sub.c = c[start:]
		}
		if p == 0 {
			first = sub
		} else {
			w.helpers[p-1].jobs <- sub
			sent++
		}
		start = end
	}
	w.ctx.gemm(first.transA, first.transB, first.m, first.n, first.k, first.alpha, first.a, first.lda, first.b, first.ldb, first.beta, first.c, first.ldc)
	for i := 0; i < sent; i++ {
		<-w.helpers[i].done
	}
}
