//go:build (!amd64 && !arm64) || purego

package vecf32

func bestFuncs() Funcs { return genericFuncs() }

func asmFuncs(Kernel) (Funcs, bool) { return Funcs{}, false }

func tanhAsm(Kernel, []float32, []float32) bool { return false }

func tanhGradAsm(Kernel, []float32, []float32, []float32) bool { return false }

func addToAsm(Kernel, []float32, []float32) bool { return false }

func add3ToAsm(Kernel, []float32, []float32, []float32) bool { return false }
