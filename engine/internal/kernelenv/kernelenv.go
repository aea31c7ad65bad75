package kernelenv

import (
	"fmt"
	"os"
	"strings"
)

// Var is the environment variable's name.
const Var = "MNIST_TUI_KERNEL"

// Names lists the values the kernel packages understand besides "auto".
var Names = [...]string{"generic", "avx2", "avx512", "neon"}

// Get returns the requested kernel's name, lower-cased: "" when Var is
// unset, empty or "auto", one of Names, or an error naming a value that is
// none of them.
func Get() (string, error) {
	v := strings.ToLower(strings.TrimSpace(os.Getenv(Var)))
	if v == "" || v == "auto" {
		return "", nil
	}
	for _, n := range Names {
		if v == n {
			return v, nil
		}
	}
	return "", fmt.Errorf("%s=%s: not a kernel (auto, %s)", Var, os.Getenv(Var), strings.Join(Names[:], ", "))
}

// Unavailable is the error for a known kernel name this CPU or build
// cannot run.
func Unavailable(name string) error {
	return fmt.Errorf("%s=%s: this CPU or build cannot run it", Var, name)
}
