package kernelenv

import (
	"strings"
	"testing"
)

func TestGet(t *testing.T) {
	for _, c := range []struct {
		v    string
		want Kernel
		err  string
	}{
		{"", Auto, ""}, {"auto", Auto, ""}, {" AUTO ", Auto, ""},
		{"avx2", AVX2, ""}, {"AVX512", AVX512, ""}, {"generic", Generic, ""}, {"neon", NEON, ""},
		{"sse", Auto, "MNIST_TUI_KERNEL=sse: not a kernel (auto, generic, avx2, avx512, neon)"},
	} {
		t.Setenv(Var, c.v)
		got, err := Get()
		if got != c.want || (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s=%q: Get() = %q, %v; want %q, error containing %q", Var, c.v, got, err, c.want, c.err)
		}
	}
}
