//go:build arm64 && !purego

package vecf32

import "testing"

// TestNEONIsChosen checks that arm64 builds run the NEON kernels in the
// package-level functions.
func TestNEONIsChosen(t *testing.T) {
	if Best() != KernelNEON || !available(KernelNEON) {
		t.Fatalf("Best() = %v, available(neon) = %v; want the NEON kernels on arm64", Best(), available(KernelNEON))
	}
}
