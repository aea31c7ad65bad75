//go:build arm64 && !purego

package vecf32

//go:generate python3 gen_kernels_arm64.py

// The NEON kernels need only the base ASIMD (Advanced SIMD) instruction set,
// which every arm64 CPU Go runs on has: Go's own runtime uses it
// unconditionally, so there is no feature to test.

// tanhNEON is the NEON Tanh kernel; len(src) must equal len(dst).
//
//go:noescape
func tanhNEON(dst, src []float32)

// tanhGradNEON is the NEON TanhGrad kernel; all lengths must be equal.
//
//go:noescape
func tanhGradNEON(dz, g, h []float32)

// addToNEON is the NEON AddTo kernel; all lengths must be equal.
//
//go:noescape
func addToNEON(dst, a []float32)

// add3ToNEON is the NEON Add3To kernel; all lengths must be equal.
//
//go:noescape
func add3ToNEON(dst, a, b []float32)

func bestFuncs() Funcs { return Funcs{kind: KernelNEON} }

func asmFuncs(k Kernel) (Funcs, bool) {
	if k == KernelNEON {
		return Funcs{kind: k}, true
	}
	return Funcs{}, false
}

// tanhAsm runs the Tanh kernel k and reports true, or reports false if k is
// not an assembly kernel.
func tanhAsm(k Kernel, dst, src []float32) bool {
	if k != KernelNEON {
		return false
	}
	tanhNEON(dst, src)
	return true
}

// tanhGradAsm is tanhAsm for TanhGrad.
func tanhGradAsm(k Kernel, dz, g, h []float32) bool {
	if k != KernelNEON {
		return false
	}
	tanhGradNEON(dz, g, h)
	return true
}

// addToAsm is tanhAsm for AddTo.
func addToAsm(k Kernel, dst, a []float32) bool {
	if k != KernelNEON {
		return false
	}
	addToNEON(dst, a)
	return true
}

// add3ToAsm is tanhAsm for Add3To.
func add3ToAsm(k Kernel, dst, a, b []float32) bool {
	if k != KernelNEON {
		return false
	}
	add3ToNEON(dst, a, b)
	return true
}
