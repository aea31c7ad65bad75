package kernelenv

import (
	"fmt"
	"os"
	"strings"
)

// Var is the environment variable's name.
const Var = "MNIST_TUI_KERNEL"

// Kernel names a kernel implementation; gemm and vecf32 share it.
type Kernel int

const (
	// Auto picks the fastest kernel the CPU supports.
	Auto Kernel = iota
	// Generic is the portable Go kernel.
	Generic
	// AVX2 is the AVX2+FMA3 assembly kernel, amd64 only.
	AVX2
	// AVX512 is the AVX-512F assembly kernel, amd64 only.
	AVX512
	// NEON is the NEON (ASIMD) assembly kernel, arm64 only.
	NEON
)

// String returns the kernel's name, as Var spells it.
func (k Kernel) String() string {
	switch k {
	case Auto:
		return "auto"
	case Generic:
		return "generic"
	case AVX2:
		return "avx2"
	case AVX512:
		return "avx512"
	case NEON:
		return "neon"
	}
	return fmt.Sprintf("Kernel(%d)", int(k))
}

// Get returns the kernel Var asks for: Auto when it is unset, empty or
// "auto" (in any case), or an error naming a value that is no kernel.
func Get() (Kernel, error) {
	v := strings.ToLower(strings.TrimSpace(os.Getenv(Var)))
	if v == "" {
		return Auto, nil
	}
	var names []string
	for k := Auto; k <= NEON; k++ {
		if v == k.String() {
			return k, nil
		}
		names = append(names, k.String())
	}
	return Auto, fmt.Errorf("%s=%s: not a kernel (%s)", Var, os.Getenv(Var), strings.Join(names, ", "))
}

// Unavailable is the error for a known kernel this CPU or build cannot
// run.
func Unavailable(k Kernel) error {
	return fmt.Errorf("%s=%s: this CPU or build cannot run it", Var, k)
}
