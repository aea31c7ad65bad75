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

// addNEON is the NEON Add kernel; all lengths must be equal.
//
//go:noescape
func addNEON(dst, a []float32)

// addToNEON is the NEON AddTo kernel; all lengths must be equal.
//
//go:noescape
func addToNEON(dst, a, b []float32)

// lstmCellNEON is the NEON LSTMCell kernel; all lengths must be equal.
//
//go:noescape
func lstmCellNEON(gi, gf, gg, gout, bi, bf, bg, bo, cprev, c, tc, h []float32)

// lstmCellGradNEON is the NEON LSTMCellGrad kernel; all lengths must be
// equal.
//
//go:noescape
func lstmCellGradNEON(zi, zf, zg, zo, dc, gi, gf, gg, gout, tc, cprev, dh []float32)

// gruCellNEON is the NEON GRUCell kernel; all lengths must be equal.
//
//go:noescape
func gruCellNEON(r, z, n, hr, hz, hn, br, bz, bxn, bhn, hprev, h []float32)

// gruCellGradNEON is the NEON GRUCellGrad kernel; all lengths must be equal.
//
//go:noescape
func gruCellGradNEON(hr, hz, hnr, xn, dh, r, z, n, hn, hprev []float32)

// dotNEON is the NEON Dot kernel; the lengths must be equal.
//
//go:noescape
func dotNEON(a, b []float32) float32

func bestFuncs() funcs { return funcs{kind: KernelNEON} }

func asmFuncs(k Kernel) (funcs, bool) {
	if k == KernelNEON {
		return funcs{kind: k}, true
	}
	return funcs{}, false
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

// addAsm is tanhAsm for Add.
func addAsm(k Kernel, dst, a []float32) bool {
	if k != KernelNEON {
		return false
	}
	addNEON(dst, a)
	return true
}

// addToAsm is tanhAsm for AddTo.
func addToAsm(k Kernel, dst, a, b []float32) bool {
	if k != KernelNEON {
		return false
	}
	addToNEON(dst, a, b)
	return true
}

// gateAsm runs the gate kernel g of k over rows >= 1 rows, the NEON
// kernels a row a call, and reports true, or reports false if k is not an
// assembly kernel.
func gateAsm(k Kernel, g gate, H, rows int, st *gateStrides, s *gateRows) bool {
	if k != KernelNEON {
		return false
	}
	n := rowKernels{lstmCellNEON, lstmCellGradNEON, gruCellNEON, gruCellGradNEON}
	n.run(g, H, rows, st, s)
	return true
}

// dotAsm runs the Dot kernel k, or reports false if k is not an assembly
// kernel.
func dotAsm(k Kernel, a, b []float32) (float32, bool) {
	if k != KernelNEON {
		return 0, false
	}
	return dotNEON(a, b), true
}

// adamAsm reports false: AdamStep has no NEON kernel (its generic form is a
// few percent of a step there).
func adamAsm(Kernel, []float32, []float32, []float32, []float32, *AdamConsts) bool { return false }
