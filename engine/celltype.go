package engine

import (
	"errors"
	"fmt"
	"strings"
)

// Cell is the kind of recurrent cell a model uses. The zero Cell is not a
// cell: Config.Validate refuses it.
type Cell uint8

// The recurrent cells, each with PyTorch's math, gate order and
// initialisation.
const (
	// RNN is the notebook's tanh Elman RNN (nn.RNN).
	RNN Cell = iota + 1
	// LSTM is nn.LSTM: input, forget, cell and output gates.
	LSTM
	// GRU is nn.GRU: reset, update and new gates.
	GRU
)

// Cells lists every cell, in the order flags and forms offer them.
var Cells = [...]Cell{RNN, LSTM, GRU}

// ErrCell marks a name that is not a cell; test with errors.Is.
var ErrCell = errors.New("not a cell")

// cellNames are the cells' names in flags, file names and checkpoint
// metadata.
var cellNames = [...]string{RNN: "rnn", LSTM: "lstm", GRU: "gru"}

// String returns the cell's name as flags and checkpoints write it: "rnn",
// "lstm" or "gru" ("cell(N)" for an invalid Cell).
func (c Cell) String() string {
	if c.Valid() {
		return cellNames[c]
	}
	return fmt.Sprintf("cell(%d)", uint8(c))
}

// Title returns the cell's name as headers and legends show it: "RNN",
// "LSTM" or "GRU".
func (c Cell) Title() string { return strings.ToUpper(c.String()) }

// Valid reports whether c is one of the cells.
func (c Cell) Valid() bool { return c >= RNN && c <= GRU }

// Gates is how many stacked gate blocks the cell's weights hold: 1 for the
// RNN, 4 for the LSTM, 3 for the GRU.
func (c Cell) Gates() int {
	switch c {
	case LSTM:
		return 4
	case GRU:
		return 3
	}
	return 1
}

// ParseCell returns the cell named s ("rnn", "lstm" or "gru", in any case).
// Any other name is an error wrapping ErrCell.
func ParseCell(s string) (Cell, error) {
	for _, c := range Cells {
		if strings.EqualFold(s, c.String()) {
			return c, nil
		}
	}
	return 0, fmt.Errorf("engine: %w: %q is not rnn, lstm or gru", ErrCell, s)
}

// MarshalText implements encoding.TextMarshaler with String's name.
func (c Cell) MarshalText() ([]byte, error) {
	if !c.Valid() {
		return nil, fmt.Errorf("engine: %w: %d", ErrCell, uint8(c))
	}
	return []byte(c.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseCell.
func (c *Cell) UnmarshalText(b []byte) error {
	v, err := ParseCell(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}
