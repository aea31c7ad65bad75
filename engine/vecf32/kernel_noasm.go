//go:build !amd64 || purego

package vecf32

func bestFuncs() Funcs { return genericFuncs() }

func asmFuncs(Kernel) (Funcs, bool) { return Funcs{}, false }
