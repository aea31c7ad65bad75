// Package engine is the model and its training: the notebook's recurrent
// network built on gorgonia, a trainer that runs the notebook's schedule in
// its own goroutine, and plain-value reports of its progress. It imports
// nothing from the terminal UI libraries.
package engine
