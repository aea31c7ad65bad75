package tui

import (
	"context"
	"errors"
	"fmt"
	"io"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/mnist"
)

// Control is what the UI may ask of the training run. Its methods are called
// from the UI's goroutines and must not block for long, except Evaluate.
type Control interface {
	// Pause stops training after the current batch; Resume continues it;
	// Paused reports which of the two is in force.
	Pause()
	Resume()
	Paused() bool
	// Evaluate runs the test set on a snapshot of the current weights
	// without disturbing training and returns its predictions. It blocks;
	// the UI calls it from a tea.Cmd and shows a spinner meanwhile.
	Evaluate(ctx context.Context) (*engine.Predictions, error)
}

// MaxWidth and MaxHeight are the largest terminal size a Model lays itself
// out for: a bigger terminal gets a dashboard of this size (in its top-left
// corner). They bound what one drawing can cost, whatever size a terminal
// (or an SSH client) announces; the SSH server clamps sizes to them too.
const (
	MaxWidth  = 500
	MaxHeight = 200
)

// Options configure a Model.
type Options struct {
	// Context bounds evaluations started from the UI; nil means
	// context.Background (Run sets it to its own context).
	Context context.Context
	// Renderer builds every style: lipgloss.DefaultRenderer() locally, the
	// session's renderer over SSH. Nil means the default renderer.
	Renderer *lipgloss.Renderer
	// Config is the run's configuration, shown in the header.
	Config engine.Config
	// Sizes are the train, validation and test set sizes, for the header.
	Sizes [3]int
	// Test holds the test digits the browser draws; predictions index it.
	// Nil disables drawing (the browser then shows labels and bars only).
	Test *mnist.Set
	// Reports streams the run's reports; it may start with a burst of
	// history and is closed when the run is over. Nil means no run.
	Reports <-chan engine.Report
	// Control pauses and evaluates the run. Nil makes the pause and
	// evaluate keys say they are not available.
	Control Control
	// ReadOnlyReason, when set, refuses the pause key with this message
	// (Control is then still used to show the paused state and to evaluate).
	ReadOnlyReason string
	// Errs carries the run's failure (a NaN loss, ...), shown in the UI.
	// Optional.
	Errs <-chan error
	// ASCII starts the charts in plain characters instead of Braille.
	ASCII bool
	// SavePath is where the save key writes a checkpoint of the run, when
	// Control is also a Saver. Empty: the key says saving is not available.
	SavePath string
	// Bursts, when set, is read instead of Reports: each receive is a run
	// of reports to show at once, oldest first (a Hub subscription's
	// Bursts). The model draws once per burst; with Reports it takes
	// whatever reports are waiting, which may split what was sent at once.
	Bursts <-chan []engine.Report
	// Cache, when set, shares drawings with the other Models of the same
	// run (same Config and Sizes), such as the SSH sessions watching it.
	// Nil: the Model draws everything itself.
	Cache *Cache
}

// Run runs a Model for o on in and out (stdin and stdout when nil) in the
// alternate screen until the user quits or ctx is cancelled. Cancelling
// ctx ends it at once, with the terminal restored.
//
// Run installs no signal handler (Bubble Tea's is turned off): the caller
// handles SIGINT, SIGTERM and SIGHUP by cancelling ctx. Bubble Tea's
// handler and a context cancelled on the same signal both try to stop the
// program, and when the context wins, the handler blocks forever sending
// its message to an event loop that is gone, and Run with it.
//
// Quitting does not stop training by itself: the Model returns tea.Quit and
// Run returns; the caller must then cancel the context its trainer runs
// under (typically ctx itself: `defer cancel()` around Run). Run returns nil
// when the user quits or ctx is cancelled, and an error wrapping the Bubble
// Tea failure otherwise.
func Run(ctx context.Context, o Options, in io.Reader, out io.Writer) error {
	if o.Context == nil {
		o.Context = ctx
	}
	opts := append(ProgramOptions(), tea.WithContext(ctx), tea.WithAltScreen(), tea.WithoutSignalHandler())
	if in != nil {
		opts = append(opts, tea.WithInput(in))
	}
	if out != nil {
		opts = append(opts, tea.WithOutput(out))
	}
	_, err := tea.NewProgram(New(o), opts...).Run()
	if err != nil && !(errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil) {
		return fmt.Errorf("tui: %w", err)
	}
	return nil
}

// ProgramOptions are the Bubble Tea options every program running a Model
// should use (Run does; an SSH server should too). 120 frames a second
// halves the time a key press waits for the next frame; frames whose
// content did not change cost nothing.
func ProgramOptions() []tea.ProgramOption {
	return []tea.ProgramOption{tea.WithFPS(120)}
}
