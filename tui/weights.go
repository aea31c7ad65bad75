package tui

import (
	"context"
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
)

// weightsEvery is the least time between two snapshots of the weights: a
// view that runs the model itself shows weights at most this old while
// the run trains.
const weightsEvery = time.Second

// weights are the latest weights of the run shown, for the views that run
// the model themselves (the replay, the canvas, the browser's saliency):
// a snapshot taken through the Access (a copy of the weights: running it
// never races with training), taken again when the run has moved on, at
// most once every weightsEvery, and only when a view that is shown asks
// (so that viewers who do not look at those views cost the trainer
// nothing). The root makes one and hands it to those views.
type weights struct {
	a   runs.Access
	run *runState

	model *engine.Model
	// id, gen, batches and done say what the snapshot is of: the run,
	// its attempt, how many training batches it had done and whether it
	// had ended.
	id      runs.ID
	gen     int
	batches int
	done    bool
	// version counts the snapshots taken, for the views' caches.
	version int
	// cooling is set for weightsEvery after a snapshot (see coolMsg).
	cooling bool
	// err is the last snapshot's failure.
	err error
	// after is the command that sends a coolMsg after a while.
	after func(time.Duration) tea.Cmd
}

// coolMsg ends the wait after a snapshot of the weights.
type coolMsg struct{}

func newWeights(ctx context.Context, a runs.Access, run *runState) *weights {
	return &weights{a: a, run: run, after: func(d time.Duration) tea.Cmd {
		return after(ctx, d, func() tea.Msg { return coolMsg{} })
	}}
}

// stale reports whether the run shown has moved on since the snapshot.
func (w *weights) stale() bool {
	r := w.run
	if r.id == 0 {
		return w.model != nil
	}
	return w.model == nil || w.id != r.id || w.gen != r.gen || w.batches != len(r.batchLoss) || w.done != r.done
}

// current returns the weights of the run shown, taking a new snapshot
// first when the run has moved on and the last one is old enough; the
// command (nil if none) ends the wait after a snapshot and must be
// returned to the root by the view (its coolMsg goes to that view, which
// hands it to cool).
func (w *weights) current() (*engine.Model, tea.Cmd) {
	other := w.run.id != w.id || w.run.gen != w.gen
	if other {
		w.model = nil // another run, or restarted: never show old weights
	}
	// The cooldown spaces the snapshots of a run that trains; another
	// run shown (< and >) or a restart is taken at once.
	if w.cooling && !other || !w.stale() {
		return w.model, nil
	}
	if w.a.List == nil || w.run.id == 0 {
		w.err = fmt.Errorf("no run attached")
		return w.model, nil
	}
	r := w.run
	m, err := w.a.Snapshot(r.id)
	var cmd tea.Cmd
	if !w.cooling {
		w.cooling = true
		cmd = w.after(weightsEvery)
	}
	if err != nil || m == nil {
		if err == nil {
			err = fmt.Errorf("the run has no weights")
		}
		// Tried for this run: the next try waits for the cooldown.
		w.err, w.id, w.gen = err, r.id, r.gen
		return w.model, cmd
	}
	w.model, w.err = m, nil
	w.id, w.gen, w.batches, w.done = r.id, r.gen, len(r.batchLoss), r.done
	w.version++
	return w.model, cmd
}

// cool ends the wait after a snapshot.
func (w *weights) cool() { w.cooling = false }

// follow handles, for a view that runs the model, the messages that keep
// its weights fresh: shownMsg and hiddenMsg (which set *active), the
// data events, another run shown, and the end of a cooldown; sync brings the view up to date
// and runs only while the view is shown. ok is false for other messages.
func (w *weights) follow(msg tea.Msg, active *bool, sync func() tea.Cmd) (cmd tea.Cmd, ok bool) {
	switch msg.(type) {
	case shownMsg:
		*active = true
	case hiddenMsg:
		*active = false
		return nil, true
	case coolMsg:
		w.cool()
	case eventsMsg, pickedMsg:
	default:
		return nil, false
	}
	if !*active {
		return nil, true
	}
	return sync(), true
}

// describe says where the weights come from, for a view's header.
func (w *weights) describe() string {
	switch {
	case w.model == nil && w.err != nil:
		return "no weights: " + w.err.Error()
	case w.model == nil:
		return "no weights yet"
	case w.done:
		return "final weights"
	case w.batches == 0:
		return "weights before training"
	}
	return fmt.Sprintf("weights after %s training batches", group(w.batches))
}
