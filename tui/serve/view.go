package serve

import (
	tea "github.com/charmbracelet/bubbletea"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/mnist"
	"github.com/mnist-tui/mnist-tui/tui"
)

// ViewInfo is what every session's dashboard needs to know about the run
// beyond its reports: the same for all viewers.
type ViewInfo struct {
	// Config is the run's configuration, shown in the header.
	Config engine.Config
	// Sizes are the train, validation and test set sizes.
	Sizes [3]int
	// Test holds the test digits the prediction browser draws (nil: none).
	Test *mnist.Set
	// ASCII starts the charts in plain characters instead of Braille.
	ASCII bool
}

// TUI returns the ModelFunc that gives every session its own tui.Model,
// drawn with the session's renderer, fed by its own subscription, and
// controlled with the session's rights.
func TUI(v ViewInfo) ModelFunc {
	return func(s Session) tea.Model {
		return tui.New(tui.Options{
			Context:        s.Context,
			Renderer:       s.Renderer,
			Config:         v.Config,
			Sizes:          v.Sizes,
			Test:           v.Test,
			Reports:        s.Reports,
			Control:        s.Control,
			ReadOnlyReason: s.ReadOnlyReason,
			Errs:           s.Errs,
			ASCII:          v.ASCII,
		})
	}
}
