//go:build race

package gemm

// raceEnabled: under the race detector sync.Pool drops items at random, so
// pooled calls may allocate.
const raceEnabled = true
