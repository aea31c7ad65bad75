//go:build long

package main

// signalReps is how many times the signal tests try each signal.
const signalReps = 40
