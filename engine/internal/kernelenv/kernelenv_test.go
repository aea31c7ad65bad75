package kernelenv

import (
	"strings"
	"testing"
)

func TestGet(t *testing.T) {
	for _, c := range []struct{ v, want, err string }{
		{"", "", ""}, {"auto", "", ""}, {" AUTO ", "", ""},
		{"avx2", "avx2", ""}, {"AVX512", "avx512", ""}, {"generic", "generic", ""}, {"neon", "neon", ""},
		{"sse", "", "MNIST_TUI_KERNEL=sse: not a kernel"},
	} {
		t.Setenv(Var, c.v)
		got, err := Get()
		if got != c.want || (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s=%q: Get() = %q, %v; want %q, error containing %q", Var, c.v, got, err, c.want, c.err)
		}
	}
}
