//go:build !linux

package vecf32

func threadCPU() int64 { return -1 }
