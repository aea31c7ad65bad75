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

// Validate reports the first invalid field of c, wrapped around ErrConfig.
func (c Config) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("engine: %w: "+format, append([]any{ErrConfig}, a...)...)
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
	}
	return nil
}
