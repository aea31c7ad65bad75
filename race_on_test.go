//go:build race

package main

// raceOn says the race detector is on: tests that only repeat in the race
// run what the normal run already checks, at many times the cost, skip.
const raceOn = true
