//go:build !(amd64 || arm64) || purego

package gemm

func bestImpl() kernelImpl { return genericImpl() }

func asmImpl(Kernel) (kernelImpl, bool) { return kernelImpl{}, false }
