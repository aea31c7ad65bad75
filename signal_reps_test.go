//go:build !long

package main

// signalReps is how many times the signal tests try each signal; the long
// build tag tries many more.
const signalReps = 1
