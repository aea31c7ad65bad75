package engine

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrConfig marks an invalid Config; test with errors.Is.
var ErrConfig = errors.New("invalid configuration")

// Config holds the hyperparameters of a run. The zero value is not valid;
// start from DefaultConfig.
type Config struct {
	// Cell is the recurrent cell: RNN (the notebook's), LSTM or GRU.
	Cell Cell
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
	return Config{Cell: RNN, Inputs: 28, Steps: 28, Classes: 10, Hidden: 128, Batch: 64, Epochs: 3, LR: 0.001}
}

// Params reports the number of trainable parameters of the model c describes.
func (c Config) Params() int {
	g := c.gates()
	return g*c.Hidden*c.Inputs + g*c.Hidden*c.Hidden + 2*g*c.Hidden + c.Classes*c.Hidden + c.Classes
}

// gates is how many stacked gate blocks the cell's weights hold.
func (c Config) gates() int { return c.Cell.Gates() }

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

// FieldError is a bad value of one of a run's settings, named as its
// command-line flag: the one error type for a bad setting, whether it came
// from a flag, a form field, a checkpoint's metadata or a Config (the runs
// package's Spec validation returns it too). Its message is the same
// everywhere: `--batch 5000: must be at most 4096`. It wraps ErrConfig.
type FieldError struct {
	// Field is the setting's name, as its flag without dashes ("batch").
	Field string
	// Value is the value as text, empty for a missing one.
	Value string
	// Reason says what is wrong, for showing under a form's field.
	Reason string
}

// Error returns "--field value: reason" ("--field: reason" without a
// value).
func (e *FieldError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("--%s: %s", e.Field, e.Reason)
	}
	return fmt.Sprintf("--%s %s: %s", e.Field, e.Value, e.Reason)
}

// Unwrap returns ErrConfig.
func (e *FieldError) Unwrap() error { return ErrConfig }

// MemoryEstimate is an upper bound, in bytes, of what a run of c holds at
// once: weights, gradients, Adam's moments and the copies taken for
// snapshots and checkpoints, the weight gradients' groups of digits, plus the
// compiled graphs' buffers (the saved
// states and gradients of each step of a batch, for three batch sizes) and
// a fixed allowance of 256 MB for the data and the runtime. The default
// recipe's is 0.27 GB (it peaks at 0.15 GB); TestMemoryEstimateBounds
// checks it against a run.
func (c Config) MemoryEstimate() int64 {
	p := int64(c.Params())
	gh := int64(c.gates()) * int64(c.Hidden)
	perNet := int64(c.Steps)*int64(c.Batch)*(gh*4+int64(c.Inputs)) + 2*gh*int64(c.Hidden) + int64(c.Batch)*int64(c.Classes)*4
	// Each training graph (a full and a last, partial batch) keeps a
	// buffer of the layer's gradients for each group of digits.
	partials := 2 * int64(gradGroups(c.Batch))
	return 4*((8+partials)*p+3*perNet) + 256<<20
}

// CheckMemory refuses c when its MemoryEstimate exceeds total bytes (the
// machine's memory; 0: unknown, no check), as a FieldError naming the
// hidden size or the batch size, whichever weighs more.
func (c Config) CheckMemory(total int64) error {
	need := c.MemoryEstimate()
	if total <= 0 || need <= total {
		return nil
	}
	field, value := "hidden", c.Hidden
	small := c
	small.Batch = 1
	if need-small.MemoryEstimate() > small.MemoryEstimate() {
		field, value = "batch", c.Batch
	}
	return &FieldError{Field: field, Value: strconv.Itoa(value), Reason: fmt.Sprintf(
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
		return &FieldError{Field: field, Value: strconv.Itoa(v), Reason: fmt.Sprintf("must be at most %d", max)}
	}
	switch {
	case !c.Cell.Valid():
		return bad("cell %v is not one of: rnn, lstm, gru", c.Cell)
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
