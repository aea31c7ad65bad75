// Package kernelenv reads MNIST_TUI_KERNEL, the environment variable that
// makes the kernel packages (gemm, vecf32) run a slower instruction set
// than the best the CPU has: "avx2" on an AVX-512 machine measures what an
// AVX2-only CPU (AMD Zen 3) would run, on the same hardware. "generic"
// runs the portable Go kernels; "auto" or unset picks the best, the
// default. It also names the kernels (Kernel), one type for both packages.
//
// Each kernel package reads the variable once, when the program starts,
// and keeps its choice; a value it cannot honour (an unknown name, or an
// instruction set this CPU or build lacks) leaves it on its best kernel
// and is reported by its Override function, which the program checks
// before it trains (engine.CheckKernels).
package kernelenv
