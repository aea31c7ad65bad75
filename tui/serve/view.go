package serve

import (
	tea "github.com/charmbracelet/bubbletea"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/mnist"
	"github.com/mnist-tui/mnist-tui/tui"
)

// The TUI's restart key finds an admin session's Restarter.
var _ tui.Restarter = Restarter(nil)

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
// drawn with the session's renderer, fed by its own subscription in bursts,
// and controlled with the session's rights. The models share one
// tui.Cache: every session is handed the same bursts at the same moments,
// so a dashboard drawn for one viewer serves every viewer with the same
// terminal size and colour profile.
func TUI(v ViewInfo) ModelFunc {
	cache := tui.NewCache(0)
	return func(s Session) tea.Model {
		return tui.New(tui.Options{
			Context:        s.Context,
			Renderer:       s.Renderer,
			Config:         v.Config,
			Sizes:          v.Sizes,
			Test:           v.Test,
			Reports:        s.Reports,
			Bursts:         s.Bursts(),
			Cache:          cache,
			Control:        s.Control,
			ReadOnlyReason: s.ReadOnlyReason,
			Errs:           s.Errs,
			ASCII:          v.ASCII,
			NoMouse:        !s.Mouse,
		})
	}
}
