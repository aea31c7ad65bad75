// Package peak measures the machine's floating-point peak: a loop of
// independent float32 fused multiply-adds in Go assembly (AVX2 on 8 lanes,
// AVX-512 on 16, with enough accumulators to cover the FMA latency on every
// port), timed by the calling thread's CPU time so that other jobs on the
// machine do not lower it. Benchmarks divide their GFLOP/s by it to report
// the fraction of peak they reach. It also reads the thread's and the
// process's CPU time for benchmarks that report work per CPU-second.
//
// Without the assembly (purego builds, other architectures) Available
// reports false and PerCore returns 0.
package peak
