package serve

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/mnist-tui/mnist-tui/engine"
)

// ErrNotStarted is returned by Evaluate before the training run has
// started (with --wait, until the first viewer connects).
var ErrNotStarted = errors.New("training has not started")

// ReadOnlyReason is what a viewer without an admin key is told when they
// try to pause, resume or restart the run.
const ReadOnlyReason = "only the teacher (an admin key) can pause or restart the run"

// Control is what a session may do to the shared run. It has the method set
// of tui.Control, so a Control can be handed to the TUI as is.
type Control interface {
	Pause()
	Resume()
	Paused() bool
	Evaluate(ctx context.Context) (*engine.Predictions, error)
}

// Trainer is the training run the server shares among its viewers; an
// *engine.Trainer is one. Run is called once, in its own goroutine, with a
// context that is cancelled when the server shuts down or an admin
// restarts the run (the server then waits for Run to return before it
// builds the next run). The other methods may be called from any goroutine
// at any time, including before Run.
type Trainer interface {
	Run(ctx context.Context) error
	Control
}

// StartFunc builds the shared training run. It is called when the server
// starts (or, with Options.Wait, when the first viewer connects), and again
// for every restart once the previous run has ended, with the reporter the
// run must report to. Each call must build a fresh run.
type StartFunc func(report engine.Reporter) (Trainer, error)

// shared is the run as the sessions see it: it may not exist yet, and its
// evaluations are shared. It implements Control with full rights.
type shared struct {
	hub *Hub

	mu  sync.Mutex
	run Trainer
	gen uint64 // counts resets: a restart makes last stale

	// eval serialises evaluations (one at a time on a 2-core machine);
	// last is reused while no report has been published since it ran.
	eval    chan struct{}
	lastSeq uint64
	lastGen uint64
	last    *engine.Predictions
	evals   atomic.Int64 // evaluations actually run
}

func newShared(hub *Hub) *shared {
	return &shared{hub: hub, eval: make(chan struct{}, 1)}
}

func (s *shared) set(r Trainer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.run = r
}

func (s *shared) get() Trainer {
	r, _ := s.getGen()
	return r
}

// getGen returns the run with the number of resets before it.
func (s *shared) getGen() (Trainer, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.run, s.gen
}

// reset forgets the run for a restart: until the new run is set, the
// controls do nothing and Evaluate says the run has not started; an
// evaluation of the old run is not reused.
func (s *shared) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.run = nil
	s.gen++
}

// Pause pauses the run, if it has started.
func (s *shared) Pause() {
	if r := s.get(); r != nil {
		r.Pause()
	}
}

// Resume resumes the run, if it has started.
func (s *shared) Resume() {
	if r := s.get(); r != nil {
		r.Resume()
	}
}

// Paused reports whether the run is paused.
func (s *shared) Paused() bool {
	if r := s.get(); r != nil {
		return r.Paused()
	}
	return false
}

// Evaluate evaluates a snapshot of the run's model on the test set. Calls
// from many sessions take turns, and a call made while the model has not
// moved since the previous evaluation (no report published since) returns
// the previous result: fifty students pressing the key cost one evaluation.
// The returned Predictions are shared and must not be modified.
func (s *shared) Evaluate(ctx context.Context) (*engine.Predictions, error) {
	r, gen := s.getGen()
	if r == nil {
		return nil, fmt.Errorf("serve: evaluate: %w", ErrNotStarted)
	}
	select {
	case s.eval <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.eval }()
	seq := s.hub.Seq()
	if s.last != nil && s.lastSeq == seq && s.lastGen == gen {
		return s.last, nil
	}
	s.evals.Add(1)
	p, err := r.Evaluate(ctx)
	if err != nil {
		return nil, err
	}
	s.last, s.lastSeq, s.lastGen = p, seq, gen
	return p, nil
}

// Restarter is implemented by the Control of admin sessions: Restart
// starts the shared run over from scratch (see tui.Restarter, which the
// TUI's restart key looks for). Other sessions' Controls do not have it.
type Restarter interface {
	Restart() error
}

var _ Restarter = adminControl{}

// adminControl is an admin session's Control: full rights over the run,
// restarting included.
type adminControl struct {
	*shared
	restart func() error
}

// Restart starts the shared run over; it returns once the new run has
// started (or failed to).
func (a adminControl) Restart() error { return a.restart() }

// readOnly is a Control for viewers without an admin key: pausing and
// resuming do nothing; the rest passes through.
type readOnly struct{ c Control }

// Pause does nothing: only admins may pause.
func (readOnly) Pause() {}

// Resume does nothing: only admins may resume.
func (readOnly) Resume() {}

// Paused reports whether the run is paused.
func (r readOnly) Paused() bool { return r.c.Paused() }

// Evaluate evaluates a snapshot; every viewer may.
func (r readOnly) Evaluate(ctx context.Context) (*engine.Predictions, error) {
	return r.c.Evaluate(ctx)
}
