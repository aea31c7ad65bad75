//go:build !linux

package engine

func processCPU() int64 { return -1 }
