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

// addAVX2 is the AVX2 Add kernel; all lengths must be equal.
//
//go:noescape
func addAVX2(dst, a []float32)

// addToAVX2 is the AVX2 AddTo kernel; all lengths must be equal.
//
//go:noescape
func addToAVX2(dst, a, b []float32)

// tanhAVX512 is the AVX-512F Tanh kernel; len(src) must equal len(dst).
//
//go:noescape
func tanhAVX512(dst, src []float32)

// tanhGradAVX512 is the AVX-512F TanhGrad kernel; all lengths must be equal.
//
//go:noescape
func tanhGradAVX512(dz, g, h []float32)

// addAVX512 is the AVX-512F Add kernel; all lengths must be equal.
//
//go:noescape
func addAVX512(dst, a []float32)

// addToAVX512 is the AVX-512F AddTo kernel; all lengths must be equal.
//
//go:noescape
func addToAVX512(dst, a, b []float32)

func bestFuncs() funcs {
	if f, ok := asmFuncs(KernelAVX512); ok {
		return f
	}
	if f, ok := asmFuncs(KernelAVX2); ok {
		return f
	}
	return genericFuncs()
}

func asmFuncs(k Kernel) (funcs, bool) {
	switch {
	case k == KernelAVX2 && hasAVX2, k == KernelAVX512 && hasAVX512:
		return funcs{kind: k}, true
	}
	return funcs{}, false
}

// tanhAsm runs the Tanh kernel k and reports true, or reports false if k is
// not an assembly kernel. funcs only ever holds kernels the CPU supports.
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

// addAsm is tanhAsm for Add.
func addAsm(k Kernel, dst, a []float32) bool {
	switch k {
	case KernelAVX512:
		addAVX512(dst, a)
	case KernelAVX2:
		addAVX2(dst, a)
	default:
		return false
	}
	return true
}

// addToAsm is tanhAsm for AddTo.
func addToAsm(k Kernel, dst, a, b []float32) bool {
	switch k {
	case KernelAVX512:
		addToAVX512(dst, a, b)
	case KernelAVX2:
		addToAVX2(dst, a, b)
	default:
		return false
	}
	return true
}

// lstmCellAVX2 is the AVX2+FMA3 LSTMCell kernel (see gateRows).
//
//go:noescape
func lstmCellAVX2(H, rows int, st *gateStrides, s *gateRows)

// lstmCellGradAVX2 is the AVX2+FMA3 LSTMCellGrad kernel (see gateRows).
//
//go:noescape
func lstmCellGradAVX2(H, rows int, st *gateStrides, s *gateRows)

// gruCellAVX2 is the AVX2+FMA3 GRUCell kernel (see gateRows).
//
//go:noescape
func gruCellAVX2(H, rows int, st *gateStrides, s *gateRows)

// gruCellGradAVX2 is the AVX2+FMA3 GRUCellGrad kernel (see gateRows).
//
//go:noescape
func gruCellGradAVX2(H, rows int, st *gateStrides, s *gateRows)

// lstmCellAVX512 is the AVX-512F LSTMCell kernel (see gateRows).
//
//go:noescape
func lstmCellAVX512(H, rows int, st *gateStrides, s *gateRows)

// lstmCellGradAVX512 is the AVX-512F LSTMCellGrad kernel (see gateRows).
//
//go:noescape
func lstmCellGradAVX512(H, rows int, st *gateStrides, s *gateRows)

// gruCellAVX512 is the AVX-512F GRUCell kernel (see gateRows).
//
//go:noescape
func gruCellAVX512(H, rows int, st *gateStrides, s *gateRows)

// gruCellGradAVX512 is the AVX-512F GRUCellGrad kernel (see gateRows).
//
//go:noescape
func gruCellGradAVX512(H, rows int, st *gateStrides, s *gateRows)

// gateAsm runs the gate kernel g of k over rows >= 1 rows and reports
// true, or reports false if k is not an assembly kernel.
func gateAsm(k Kernel, g gate, H, rows int, st *gateStrides, s *gateRows) bool {
	switch k {
	case KernelAVX512:
		switch g {
		case lstmCell:
			lstmCellAVX512(H, rows, st, s)
		case lstmCellGrad:
			lstmCellGradAVX512(H, rows, st, s)
		case gruCell:
			gruCellAVX512(H, rows, st, s)
		case gruCellGrad:
			gruCellGradAVX512(H, rows, st, s)
		}
	case KernelAVX2:
		switch g {
		case lstmCell:
			lstmCellAVX2(H, rows, st, s)
		case lstmCellGrad:
			lstmCellGradAVX2(H, rows, st, s)
		case gruCell:
			gruCellAVX2(H, rows, st, s)
		case gruCellGrad:
			gruCellGradAVX2(H, rows, st, s)
		}
	default:
		return false
	}
	return true
}

// dotAVX2 is the AVX2+FMA3 Dot kernel; the lengths must be equal.
//
//go:noescape
func dotAVX2(a, b []float32) float32

// dotAVX512 is the AVX-512F Dot kernel; the lengths must be equal.
//
//go:noescape
func dotAVX512(a, b []float32) float32

// dotAsm runs the Dot kernel k, or reports false if k is not an assembly
// kernel.
func dotAsm(k Kernel, a, b []float32) (float32, bool) {
	switch k {
	case KernelAVX512:
		return dotAVX512(a, b), true
	case KernelAVX2:
		return dotAVX2(a, b), true
	}
	return 0, false
}

// adamAVX2 is the AVX2 AdamStep kernel; all lengths must be equal.
//
//go:noescape
func adamAVX2(w, m, v, g []float32, c *AdamConsts)

// adamAVX512 is the AVX-512F AdamStep kernel; all lengths must be equal.
//
//go:noescape
func adamAVX512(w, m, v, g []float32, c *AdamConsts)

// adamAsm is tanhAsm for AdamStep.
func adamAsm(k Kernel, w, m, v, g []float32, c *AdamConsts) bool {
	switch k {
	case KernelAVX512:
		adamAVX512(w, m, v, g, c)
	case KernelAVX2:
		adamAVX2(w, m, v, g, c)
	default:
		return false
	}
	return true
}
