package vecf32

import (
	"errors"
	"fmt"
)

//go:generate python3 gen_kernels.py

// Kernel names a kernel implementation.
type Kernel int

const (
	// KernelAuto picks the fastest kernel the CPU supports.
	KernelAuto Kernel = iota
	// KernelGeneric is the portable Go kernel.
	KernelGeneric
	// KernelAVX2 is the AVX2+FMA3 assembly kernel, amd64 only.
	KernelAVX2
	// KernelAVX512 is the AVX-512F assembly kernel, amd64 only.
	KernelAVX512
	// KernelNEON is the NEON (ASIMD) assembly kernel, arm64 only.
	KernelNEON
)

// String returns the kernel's name.
func (k Kernel) String() string {
	switch k {
	case KernelAuto:
		return "auto"
	case KernelGeneric:
		return "generic"
	case KernelAVX2:
		return "avx2"
	case KernelAVX512:
		return "avx512"
	case KernelNEON:
		return "neon"
	}
	return fmt.Sprintf("Kernel(%d)", int(k))
}

// ErrUnsupported reports that a kernel cannot run on this CPU or build.
var ErrUnsupported = errors.New("vecf32: kernel not supported on this CPU or build")

// Funcs is a set of kernels bound to one implementation; get one from For.
// The zero value runs the generic kernel. A Funcs is immutable and safe for
// concurrent use. Its methods dispatch with a switch rather than through
// function values, so slices passed to them do not escape.
type Funcs struct {
	kind Kernel // KernelGeneric or an assembly kernel; 0 means generic
}

func genericFuncs() Funcs { return Funcs{kind: KernelGeneric} }

// best is the Funcs KernelAuto resolves to; it is fixed at start-up from the
// CPU's features and never changes.
var best = bestFuncs()

// Best returns the kernel KernelAuto resolves to on this machine.
func Best() Kernel { return best.kind }

// Available reports whether kernel k can run here.
func Available(k Kernel) bool {
	_, ok := funcsFor(k)
	return ok
}

// For returns the kernels of implementation k (KernelAuto for the best
// available). It returns ErrUnsupported if k cannot run here.
func For(k Kernel) (Funcs, error) {
	f, ok := funcsFor(k)
	if !ok {
		return Funcs{}, fmt.Errorf("%w: %v", ErrUnsupported, k)
	}
	return f, nil
}

func funcsFor(k Kernel) (Funcs, bool) {
	switch k {
	case KernelAuto:
		return best, true
	case KernelGeneric:
		return genericFuncs(), true
	}
	return asmFuncs(k)
}

// Kernel returns the implementation f runs.
func (f Funcs) Kernel() Kernel {
	if f.kind == KernelAuto {
		return KernelGeneric
	}
	return f.kind
}

// Tanh sets dst[i] = tanh(src[i]) (dst and src may be the same slice). It
// panics if the lengths differ.
func (f Funcs) Tanh(dst, src []float32) {
	if len(dst) != len(src) {
		panicLen("Tanh", len(dst), len(src))
	}
	if !tanhAsm(f.kind, dst, src) {
		tanhGeneric(dst, src)
	}
}

// TanhGrad sets dz[i] = g[i] * (1 - h[i]*h[i]), the backward of h = tanh(z).
// It panics if the lengths differ.
func (f Funcs) TanhGrad(dz, g, h []float32) {
	if len(dz) != len(g) || len(dz) != len(h) {
		panicLen("TanhGrad", len(dz), len(g), len(h))
	}
	if !tanhGradAsm(f.kind, dz, g, h) {
		tanhGradGeneric(dz, g, h)
	}
}

// AddTo sets dst[i] += a[i]. It panics if the lengths differ.
func (f Funcs) AddTo(dst, a []float32) {
	if len(dst) != len(a) {
		panicLen("AddTo", len(dst), len(a))
	}
	if !addToAsm(f.kind, dst, a) {
		addToGeneric(dst, a)
	}
}

// Add3To sets dst[i] += a[i] + b[i] (rounded as dst[i] + (a[i] + b[i])). It
// panics if the lengths differ.
func (f Funcs) Add3To(dst, a, b []float32) {
	if len(dst) != len(a) || len(dst) != len(b) {
		panicLen("Add3To", len(dst), len(a), len(b))
	}
	if !add3ToAsm(f.kind, dst, a, b) {
		add3ToGeneric(dst, a, b)
	}
}

// Tanh sets dst[i] = tanh(src[i]) (dst and src may be the same slice) with
// the best kernel for this machine. It panics if the lengths differ.
func Tanh(dst, src []float32) { best.Tanh(dst, src) }

// TanhGrad sets dz[i] = g[i] * (1 - h[i]*h[i]) (the backward of h = tanh(z))
// with the best kernel for this machine. It panics if the lengths differ.
func TanhGrad(dz, g, h []float32) { best.TanhGrad(dz, g, h) }

// AddTo sets dst[i] += a[i] (for adding bias rows) with the best kernel for
// this machine. It panics if the lengths differ.
func AddTo(dst, a []float32) { best.AddTo(dst, a) }

// Add3To sets dst[i] += a[i] + b[i] with the best kernel for this machine.
// It panics if the lengths differ.
func Add3To(dst, a, b []float32) { best.Add3To(dst, a, b) }

func panicLen(fn string, n ...int) {
	panic(fmt.Sprintf("vecf32: %s: slice lengths differ: %v", fn, n))
}
