package engine

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/mnist-tui/mnist-tui/engine/internal/gemm"
	"github.com/mnist-tui/mnist-tui/engine/internal/vecf32"
)

// TestKernelEnv runs this test binary again with MNIST_TUI_KERNEL set
// (the kernel packages read it once, at start) and checks that both
// kernel packages run what it names, and that CheckKernels refuses a name
// that is no kernel.
func TestKernelEnv(t *testing.T) {
	if os.Getenv("MNIST_TUI_KERNEL_CHILD") == "1" {
		fmt.Printf("kernels: %v %v %v\n", gemm.Best(), vecf32.Best(), CheckKernels())
		return
	}
	if raceEnabled {
		t.Skip("starts test binaries, slow under -race, and has no concurrency to check")
	}
	for _, c := range []struct{ env, want string }{
		{"generic", "kernels: generic generic <nil>"},
		{"GENERIC", "kernels: generic generic <nil>"},
		{"sse", "MNIST_TUI_KERNEL=sse: not a kernel"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestKernelEnv$", "-test.count", "1")
		cmd.Env = append(os.Environ(), "MNIST_TUI_KERNEL_CHILD=1", "MNIST_TUI_KERNEL="+c.env)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("MNIST_TUI_KERNEL=%s: %v\n%s", c.env, err, out)
		}
		if !strings.Contains(string(out), c.want) {
			t.Errorf("MNIST_TUI_KERNEL=%s: output %q lacks %q", c.env, out, c.want)
		}
	}
}
