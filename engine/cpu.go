package engine

import (
	"errors"
	"fmt"

	"github.com/mnist-tui/mnist-tui/engine/internal/gemm"
	"github.com/mnist-tui/mnist-tui/engine/internal/vecf32"
)

// CheckKernels reports a MNIST_TUI_KERNEL value that could not be
// honoured: an unknown name, or kernels this CPU or build cannot run (the
// best ones run instead). The variable makes training run slower kernels
// than the best this CPU has: MNIST_TUI_KERNEL=avx2 on an AVX-512 machine
// runs the AVX2 kernels an AVX2-only CPU (AMD Zen 3) would, so their
// figures can be measured there; "generic" runs the portable Go kernels;
// unset or "auto" runs the best. It is read once, when the program
// starts. Programs check it before they train, so that a figure is never
// labelled with kernels that did not run.
func CheckKernels() error {
	for _, err := range []error{gemm.Override(), vecf32.Override()} {
		if err != nil {
			return fmt.Errorf("engine: %w", errors.Unwrap(err)) // both read the same variable
		}
	}
	return nil
}
