package engine

import (
	"errors"
	"fmt"
)

// ErrConfig marks an invalid Config; test with errors.Is.
var ErrConfig = errors.New("invalid configuration")

// Config holds the hyperparameters of a run. The zero value is not valid;
// start from DefaultConfig.
type Config struct {
	// Cell is the recurrent cell: "rnn" (tanh Elman RNN, the notebook's),
	// "lstm" or "gru", each with PyTorch's math, gate order and init.
	Cell string
	// Inputs is the number of features per time step (28 pixels a row),
	// Steps the number of time steps (28 rows), Classes the output size.
	Inputs, Steps, Classes int
	// Hidden is the recurrent state's size.
	Hidden int
	// Batch is the mini-batch size.
	Batch int
	// Epochs is the schedule's length; epoch 1 only validates.
	Epochs int
	// LR is Adam's learning rate.
	LR float64
	// Seed seeds the initial weights, the split and the shuffling.
	Seed uint64
}

// DefaultConfig returns the notebook's recipe.
func DefaultConfig() Config {
	return Config{Cell: "rnn", Inputs: 28, Steps: 28, Classes: 10, Hidden: 128, Batch: 64, Epochs: 3, LR: 0.001}
}

// Params reports the number of trainable parameters of the model c describes.
func (c Config) Params() int {
	g := c.gates()
	return g*c.Hidden*c.Inputs + g*c.Hidden*c.Hidden + 2*g*c.Hidden + c.Classes*c.Hidden + c.Classes
}

// gates is how many stacked gate blocks the cell's weights hold.
func (c Config) gates() int {
	switch c.Cell {
	case "lstm":
		return 4
	case "gru":
		return 3
	}
	return 1
}

// Limits of a Config, the same for training and for checkpoints (a
// checkpoint records these sizes, and loading one refuses what Validate
// refuses), so that every run that can start can also be saved and loaded
// again.
const (
	// MaxBatch is the largest batch size.
	MaxBatch = 1 << 12
	// MaxHidden is the largest hidden size.
	MaxHidden = 1 << 12
	// MaxSteps is the most time steps (rows a digit is read in).
	MaxSteps = 1 << 12
)

// FieldError is an invalid Config field, named as its command-line flag
// ("batch", "hidden", ...); it wraps ErrConfig.
type FieldError struct {
	Field  string
	Value  any
	Reason string
}

// Error returns "engine: invalid configuration: <field> <value>: <reason>".
func (e *FieldError) Error() string {
	return fmt.Sprintf("engine: %v: %s %v: %s", ErrConfig, e.Field, e.Value, e.Reason)
}

// Unwrap returns ErrConfig.
func (e *FieldError) Unwrap() error { return ErrConfig }

// MemoryEstimate is an upper bound, in bytes, of what a run of c holds at
// once: weights, gradients, Adam's moments and the copies taken for
// snapshots and checkpoints, plus the compiled graphs' buffers (the saved
// states and gradients of each step of a batch, for three batch sizes) and
// a fixed allowance of 256 MB for the data and the runtime. The default
// recipe's is 0.27 GB (it peaks at 0.15 GB); TestMemoryEstimateBounds
// checks it against a run.
func (c Config) MemoryEstimate() int64 {
	p := int64(c.Params())
	gh := int64(c.gates()) * int64(c.Hidden)
	perNet := int64(c.Steps)*int64(c.Batch)*(gh*4+int64(c.Inputs)) + 2*gh*int64(c.Hidden) + int64(c.Batch)*int64(c.Classes)*4
	return 4*(8*p+3*perNet) + 256<<20
}

// CheckMemory refuses c when its MemoryEstimate exceeds total bytes (the
// machine's memory; 0: unknown, no check), as a FieldError naming the
// hidden size or the batch size, whichever weighs more.
func (c Config) CheckMemory(total int64) error {
	need := c.MemoryEstimate()
	if total <= 0 || need <= total {
		return nil
	}
	field, value := "hidden", any(c.Hidden)
	small := c
	small.Batch = 1
	if need-small.MemoryEstimate() > small.MemoryEstimate() {
		field, value = "batch", any(c.Batch)
	}
	return &FieldError{Field: field, Value: value, Reason: fmt.Sprintf(
		"a %s with %d hidden units and batches of %d needs about %.1f GB, more than this machine's %.1f GB",
		c.Cell, c.Hidden, c.Batch, float64(need)/1e9, float64(total)/1e9)}
}

// Validate reports the first invalid field of c, wrapped around ErrConfig.
// Sizes beyond MaxBatch, MaxHidden and MaxSteps are FieldErrors.
func (c Config) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("engine: %w: "+format, append([]any{ErrConfig}, a...)...)
	}
	limit := func(field string, v, max int) error {
		return &FieldError{Field: field, Value: v, Reason: fmt.Sprintf("more than %d, the most a run (and its checkpoint) may have", max)}
	}
	switch {
	case c.Cell != "rnn" && c.Cell != "lstm" && c.Cell != "gru":
		return bad("cell %q is not one of: rnn, lstm, gru", c.Cell)
	case c.Inputs <= 0 || c.Steps <= 0 || c.Classes <= 1:
		return bad("shape %dx%d with %d classes", c.Steps, c.Inputs, c.Classes)
	case c.Hidden <= 0:
		return bad("hidden size %d must be positive", c.Hidden)
	case c.Batch <= 0:
		return bad("batch size %d must be positive", c.Batch)
	case c.Epochs < 0:
		return bad("epochs %d must not be negative", c.Epochs)
	case !(c.LR > 0) || c.LR > 10:
		return bad("learning rate %g must be in (0, 10]", c.LR)
	case c.Batch > MaxBatch:
		return limit("batch", c.Batch, MaxBatch)
	case c.Hidden > MaxHidden:
		return limit("hidden", c.Hidden, MaxHidden)
	case c.Steps > MaxSteps:
		return limit("steps", c.Steps, MaxSteps)
	}
	return nil
}
