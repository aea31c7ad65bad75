//go:build amd64 && !purego

package vecf32

import "golang.org/x/sys/cpu"

// Feature flags read once from the CPU; they never change after start-up.
var (
	hasAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	hasAVX512 = cpu.X86.HasAVX512F && hasAVX2
)

// tanhAVX2 is the AVX2+FMA3 Tanh kernel; len(src) must equal len(dst).
//
//go:noescape
func tanhAVX2(dst, src []float32)

// tanhGradAVX2 is the AVX2 TanhGrad kernel; all lengths must be equal.
//
//go:noescape
func tanhGradAVX2(dz, g, h []float32)

// addToAVX2 is the AVX2 AddTo kernel; all lengths must be equal.
//
//go:noescape
func addToAVX2(dst, a []float32)

// add3ToAVX2 is the AVX2 Add3To kernel; all lengths must be equal.
//
//go:noescape
func add3ToAVX2(dst, a, b []float32)

// tanhAVX512 is the AVX-512F Tanh kernel; len(src) must equal len(dst).
//
//go:noescape
func tanhAVX512(dst, src []float32)

// tanhGradAVX512 is the AVX-512F TanhGrad kernel; all lengths must be equal.
//
//go:noescape
func tanhGradAVX512(dz, g, h []float32)

// addToAVX512 is the AVX-512F AddTo kernel; all lengths must be equal.
//
//go:noescape
func addToAVX512(dst, a []float32)

// add3ToAVX512 is the AVX-512F Add3To kernel; all lengths must be equal.
//
//go:noescape
func add3ToAVX512(dst, a, b []float32)

func bestFuncs() Funcs {
	if f, ok := asmFuncs(KernelAVX512); ok {
		return f
	}
	if f, ok := asmFuncs(KernelAVX2); ok {
		return f
	}
	return genericFuncs()
}

func asmFuncs(k Kernel) (Funcs, bool) {
	switch {
	case k == KernelAVX2 && hasAVX2, k == KernelAVX512 && hasAVX512:
		return Funcs{kind: k}, true
	}
	return Funcs{}, false
}

// tanhAsm runs the Tanh kernel k and reports true, or reports false if k is
// not an assembly kernel. Funcs only ever holds kernels the CPU supports.
func tanhAsm(k Kernel, dst, src []float32) bool {
	switch k {
	case KernelAVX512:
		tanhAVX512(dst, src)
	case KernelAVX2:
		tanhAVX2(dst, src)
	default:
		return false
	}
	return true
}

// tanhGradAsm is tanhAsm for TanhGrad.
func tanhGradAsm(k Kernel, dz, g, h []float32) bool {
	switch k {
	case KernelAVX512:
		tanhGradAVX512(dz, g, h)
	case KernelAVX2:
		tanhGradAVX2(dz, g, h)
	default:
		return false
	}
	return true
}

// addToAsm is tanhAsm for AddTo.
func addToAsm(k Kernel, dst, a []float32) bool {
	switch k {
	case KernelAVX512:
		addToAVX512(dst, a)
	case KernelAVX2:
		addToAVX2(dst, a)
	default:
		return false
	}
	return true
}

// add3ToAsm is tanhAsm for Add3To.
func add3ToAsm(k Kernel, dst, a, b []float32) bool {
	switch k {
	case KernelAVX512:
		add3ToAVX512(dst, a, b)
	case KernelAVX2:
		add3ToAVX2(dst, a, b)
	default:
		return false
	}
	return true
}
