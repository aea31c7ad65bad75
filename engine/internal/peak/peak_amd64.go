//go:build amd64 && !purego

package peak

import "golang.org/x/sys/cpu"

// fmaAVX2 runs n iterations of 12 independent VFMADD231PS on ymm registers.
//
//go:noescape
func fmaAVX2(n int)

// fmaAVX512 runs n iterations of 24 independent VFMADD231PS on zmm
// registers.
//
//go:noescape
func fmaAVX512(n int)

func flopsPerIter(isa ISA) int {
	hasAVX2 := cpu.X86.HasAVX2 && cpu.X86.HasFMA
	switch {
	case isa == AVX2 && hasAVX2:
		return 12 * 8 * 2
	case isa == AVX512 && hasAVX2 && cpu.X86.HasAVX512F:
		return 24 * 16 * 2
	}
	return 0
}

func fma(isa ISA, n int) {
	if isa == AVX512 {
		fmaAVX512(n)
		return
	}
	fmaAVX2(n)
}
