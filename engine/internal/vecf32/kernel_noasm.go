//go:build !(amd64 || arm64) || purego

package vecf32

func bestFuncs() funcs { return genericFuncs() }

func asmFuncs(Kernel) (funcs, bool) { return funcs{}, false }

func tanhAsm(Kernel, []float32, []float32) bool { return false }

func tanhGradAsm(Kernel, []float32, []float32, []float32) bool { return false }

func addAsm(Kernel, []float32, []float32) bool { return false }

func addToAsm(Kernel, []float32, []float32, []float32) bool { return false }

func gateAsm(Kernel, gate, int, int, *gateStrides, *gateRows) bool { return false }

func dotAsm(Kernel, []float32, []float32) (float32, bool) { return 0, false }

func adamAsm(Kernel, []float32, []float32, []float32, []float32, *AdamConsts) bool { return false }
