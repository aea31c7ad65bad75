package tui

import (
	"context"
	"errors"
	"fmt"
	"io"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/mnist-tui/mnist-tui/engine/runs"
)

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
	// Access is this viewer's handle on the runs: the keys act on the run
	// shown through it (pause, evaluate, save, restart), each refused with
	// the Access's reason when its capability is missing.
	Access runs.Access
	// Events streams the list's events (a runs.Subscription's Events): the
	// history of every run first, then every change; closed when the list
	// is. Nil (and no Bursts) means no run.
	Events <-chan runs.Event
	// Bursts, when set, is read instead of Events: each receive is a run
	// of events to show at once, oldest first (a Subscription's Bursts).
	// The model draws once per burst; with Events it takes whatever events
	// are waiting, which may split what was sent at once.
	Bursts <-chan []runs.Event
	// ASCII starts the charts in plain characters instead of Braille.
	ASCII bool
	// Cache, when set, shares drawings with the other Models watching the
	// same list, such as the SSH sessions. Nil: the Model draws everything
	// itself.
	Cache *Cache
	// Setup, when set, opens the setup form at once, filled with this
	// spec: nothing trains until it is submitted (the run it describes is
	// added through Access), and leaving it (esc) quits (--setup).
	Setup *runs.Spec
	// NoMouse leaves the mouse to the terminal (text selection) instead of
	// the app: Run does not turn mouse reporting on, and the help does not
	// list the mouse. An SSH server decides for its sessions (see
	// MouseOption).
	NoMouse bool
	// Class, when set, is the classroom the Model is part of (an SSH
	// session's): it shows the lobby while training waits for the
	// teacher, a status line of notices (what the teacher did), and
	// follows the teacher's screen in follow mode (f). Nil: none.
	Class Classroom
	// Follow starts a student's Model in follow mode (serve --follow).
	Follow bool
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
// Run returns; the caller must then close the list of runs (or cancel what
// its trainers run under). Run returns nil
// when the user quits or ctx is cancelled, and an error wrapping the Bubble
// Tea failure otherwise.
func Run(ctx context.Context, o Options, in io.Reader, out io.Writer) error {
	if o.Context == nil {
		o.Context = ctx
	}
	opts := append(ProgramOptions(), tea.WithContext(ctx), tea.WithAltScreen(), tea.WithoutSignalHandler())
	if !o.NoMouse {
		opts = append(opts, MouseOption())
	}
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

// MouseOption is the Bubble Tea option that gives a Model the mouse: clicks,
// wheel turns, and motion while a button is held (drags), reported in SGR
// encoding, which has no column limit. Run adds it unless Options.NoMouse;
// an SSH server adds it to its sessions' programs.
func MouseOption() tea.ProgramOption { return tea.WithMouseCellMotion() }

// ProgramOptions are the Bubble Tea options every program running a Model
// should use (Run does; an SSH server should too). 120 frames a second
// halves the time a key press waits for the next frame; frames whose
// content did not change cost nothing.
func ProgramOptions() []tea.ProgramOption {
	return []tea.ProgramOption{tea.WithFPS(120)}
}
