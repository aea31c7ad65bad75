// Package engine is the model and its training: the notebook's recurrent
// network built on gorgonia, a trainer that runs the notebook's schedule in
// its own goroutine, and plain-value reports of its progress. It imports
// nothing from the terminal UI libraries.
//
// A Trainer's controls are safe to call while it runs: Pause, Resume and
// Step (one training batch through a pause), SetPace (at most so many
// training batches a second; evaluation phases are never paced), SetLR
// (the learning rate from the next batch on), Snapshot and Evaluate (a
// copy of the weights, on graphs of its own). Every batch waits on one
// gate for the pause and the pace. WithLiveEval evaluates a fixed,
// class-balanced sample of the test set during training within a budget
// of the training time, on the training goroutine between two batches
// (so it needs no copy of the weights, never races with training and
// uses both cores as a validation pass does), and reports the
// predictions (KindEval), labelled with their Position.
package engine
