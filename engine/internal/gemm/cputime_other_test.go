//go:build !linux

package gemm

func threadCPU() int64 { return -1 }
