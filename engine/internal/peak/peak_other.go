//go:build !amd64 || purego

package peak

func flopsPerIter(ISA) int { return 0 }

func fma(ISA, int) {}
