package vecf32

import (
	"fmt"

	"github.com/mnist-tui/mnist-tui/engine/internal/kernelenv"
)

//go:generate python3 gen_kernels.py

// Kernel names a kernel implementation (kernelenv's, shared with gemm).
type Kernel = kernelenv.Kernel

// The kernels.
const (
	// KernelAuto picks the fastest kernel the CPU supports.
	KernelAuto = kernelenv.Auto
	// KernelGeneric is the portable Go kernel.
	KernelGeneric = kernelenv.Generic
	// KernelAVX2 is the AVX2+FMA3 assembly kernel, amd64 only.
	KernelAVX2 = kernelenv.AVX2
	// KernelAVX512 is the AVX-512F assembly kernel, amd64 only.
	KernelAVX512 = kernelenv.AVX512
	// KernelNEON is the NEON (ASIMD) assembly kernel, arm64 only.
	KernelNEON = kernelenv.NEON
)

// funcs is a set of kernels bound to one implementation; the zero value
// runs the generic kernel. Its methods dispatch with a switch rather than
// through function values, so slices passed to them do not escape.
type funcs struct {
	kind Kernel // KernelGeneric or an assembly kernel; 0 means generic
}

func genericFuncs() funcs { return funcs{kind: KernelGeneric} }

// best is the funcs the package-level functions run: the CPU's best
// (bestFuncs), or the kernel MNIST_TUI_KERNEL names (package kernelenv);
// bestErr says why that could not be honoured. Both are fixed at start-up.
var best, bestErr = choose()

func choose() (funcs, error) {
	k, err := kernelenv.Get()
	switch {
	case err != nil || k == KernelAuto:
		return bestFuncs(), err
	case k == KernelGeneric:
		return genericFuncs(), nil
	}
	if f, ok := asmFuncs(k); ok {
		return f, nil
	}
	return bestFuncs(), kernelenv.Unavailable(k)
}

// Best returns the kernel the package-level functions run: the fastest
// this CPU supports unless MNIST_TUI_KERNEL asks for another.
func Best() Kernel { return best.Kernel() }

// Override reports a MNIST_TUI_KERNEL value that could not be honoured (an
// unknown name, or a kernel this CPU or build lacks: Best is then the
// CPU's best), or nil.
func Override() error {
	if bestErr != nil {
		return fmt.Errorf("vecf32: %w", bestErr)
	}
	return nil
}

// available reports whether kernel k can run here.
func available(k Kernel) bool {
	_, ok := funcsFor(k)
	return ok
}

func funcsFor(k Kernel) (funcs, bool) {
	switch k {
	case KernelAuto:
		return best, true
	case KernelGeneric:
		return genericFuncs(), true
	}
	return asmFuncs(k)
}

// Kernel returns the implementation f runs.
func (f funcs) Kernel() Kernel {
	if f.kind == KernelAuto {
		return KernelGeneric
	}
	return f.kind
}

// Tanh sets dst[i] = tanh(src[i]) (dst and src may be the same slice).
func (f funcs) Tanh(dst, src []float32) {
	if len(dst) != len(src) {
		panicLen("Tanh", len(dst), len(src))
	}
	if !tanhAsm(f.kind, dst, src) {
		tanhGeneric(dst, src)
	}
}

// TanhGrad sets dz[i] = g[i] * (1 - h[i]*h[i]), the backward of h = tanh(z).
func (f funcs) TanhGrad(dz, g, h []float32) {
	if len(dz) != len(g) || len(dz) != len(h) {
		panicLen("TanhGrad", len(dz), len(g), len(h))
	}
	if !tanhGradAsm(f.kind, dz, g, h) {
		tanhGradGeneric(dz, g, h)
	}
}

// Add sets dst[i] += s[i].
func (f funcs) Add(dst, s []float32) {
	if len(dst) != len(s) {
		panicLen("Add", len(dst), len(s))
	}
	if !addAsm(f.kind, dst, s) {
		addGeneric(dst, s)
	}
}

// AddTo sets dst[i] = s[i] + t[i].
func (f funcs) AddTo(dst, s, t []float32) {
	if len(dst) != len(s) || len(dst) != len(t) {
		panicLen("AddTo", len(dst), len(s), len(t))
	}
	if !addToAsm(f.kind, dst, s, t) {
		addToGeneric(dst, s, t)
	}
}

// Dot returns the sum of a[i]*b[i].
func (f funcs) Dot(a, b []float32) float32 {
	if len(a) != len(b) {
		panicLen("Dot", len(a), len(b))
	}
	if v, ok := dotAsm(f.kind, a, b); ok {
		return v
	}
	return dotGeneric(a, b)
}

// Dot returns the sum of a[i]*b[i] with the best kernel for this machine.
// Unlike the element-wise kernels it is a reduction whose rounding depends
// on the kernel (each sums in its own order, the assembly with fused
// multiply-adds); kernels agree to a few ulps of the sum of |a[i]*b[i]|. It
// panics if the lengths differ.
func Dot(a, b []float32) float32 { return best.Dot(a, b) }

// Tanh sets dst[i] = tanh(src[i]) (dst and src may be the same slice) with
// the best kernel for this machine. It panics if the lengths differ.
func Tanh(dst, src []float32) { best.Tanh(dst, src) }

// TanhGrad sets dz[i] = g[i] * (1 - h[i]*h[i]) (the backward of h = tanh(z))
// with the best kernel for this machine. It panics if the lengths differ.
func TanhGrad(dz, g, h []float32) { best.TanhGrad(dz, g, h) }

// Add sets dst[i] += s[i] (in place, as gonum's floats.Add) with the best
// kernel for this machine. It panics if the lengths differ.
func Add(dst, s []float32) { best.Add(dst, s) }

// AddTo sets dst[i] = s[i] + t[i] (as gonum's floats.AddTo) with the best
// kernel for this machine; dst may be s or t. It panics if the lengths
// differ.
func AddTo(dst, s, t []float32) { best.AddTo(dst, s, t) }

func panicLen(fn string, n ...int) {
	panic(fmt.Sprintf("vecf32: %s: slice lengths differ: %v", fn, n))
}
