//go:build race

package engine

// raceEnabled shrinks training tests under the race detector, which slows
// the numeric kernels about twentyfold.
const raceEnabled = true
