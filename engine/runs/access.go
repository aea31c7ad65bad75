package runs

import (
	"context"
	"errors"
	"fmt"

	"github.com/mnist-tui/mnist-tui/engine"
)

// ErrNotAllowed marks a control refused for a missing capability; the
// error is a *DeniedError carrying the reason to show.
var ErrNotAllowed = errors.New("not allowed")

// Caps are what a viewer may do to the runs. Watching, evaluating
// snapshots and taking snapshots need no capability.
type Caps struct {
	// Pause: pause and resume runs (later also pace, single steps and the
	// live learning rate).
	Pause bool
	// Save: write checkpoints of runs.
	Save bool
	// StartRuns: add, replace, restart and stop runs.
	StartRuns bool
}

// AllCaps returns every capability: the local terminal's, the command
// line's, a teacher's.
func AllCaps() Caps { return Caps{Pause: true, Save: true, StartRuns: true} }

// allows reports whether c permits an action of kind k.
func (c Caps) allows(k ActionKind) bool {
	switch k {
	case ActPause, ActResume:
		return c.Pause
	case ActSave:
		return c.Save
	case ActRestart, ActAdd, ActReplace, ActStop:
		return c.StartRuns
	}
	return true
}

// DeniedError is a control refused for a missing capability. It wraps
// ErrNotAllowed; its message is the Access's Reason, meant for the viewer.
type DeniedError struct {
	// Action is what was refused.
	Action ActionKind
	// Reason says why, as the viewer is told.
	Reason string
}

// Error returns the reason, or a plain refusal naming the action.
func (e *DeniedError) Error() string {
	if e.Reason != "" {
		return e.Reason
	}
	return fmt.Sprintf("%s is not available here", e.Action)
}

// Unwrap returns ErrNotAllowed.
func (e *DeniedError) Unwrap() error { return ErrNotAllowed }

// Access is one viewer's handle on a List: the list, what the viewer may
// do to it, who the viewer is. Its controls check the capability first
// (refusing with a *DeniedError naming Reason), act, and publish what was
// done as a KindAction event naming the Actor. It is a small value: copy
// it freely. The zero Access has no list: every control fails.
type Access struct {
	List *List
	Caps Caps
	// Actor is who acts, for the events and the server's log.
	Actor Actor
	// Reason is what a viewer lacking a capability is told ("only the
	// teacher can pause or restart the run"); empty for a plain refusal.
	Reason string
}

// Allowed reports whether the viewer may take actions of kind k.
func (a Access) Allowed(k ActionKind) bool { return a.List != nil && a.Caps.allows(k) }

// check refuses k unless allowed.
func (a Access) check(k ActionKind) error {
	if a.List == nil {
		return fmt.Errorf("runs: %s: no list of runs", k)
	}
	if !a.Caps.allows(k) {
		return &DeniedError{Action: k, Reason: a.Reason}
	}
	return nil
}

// Add queues a run of spec at the end of the list (it starts when its
// turn comes) and returns its ID. The spec is validated, its checkpoint
// read and its data set parsed first (this may take a second): a bad one
// is refused with the error (a *FieldError for a bad field).
func (a Access) Add(spec Spec) (ID, error) {
	if err := a.check(ActAdd); err != nil {
		return 0, err
	}
	return a.List.add(spec, a.Actor)
}

// Replace puts a new run of spec in run id's place (stopping and removing
// id) and returns the new run's ID once it has started, or at once if it
// waits behind a run that trains.
func (a Access) Replace(id ID, spec Spec) (ID, error) {
	if err := a.check(ActReplace); err != nil {
		return 0, err
	}
	return a.List.replace(id, spec, a.Actor)
}

// Restart starts run id's spec over: the same ID with the next Gen, its
// history cleared, first in the queue; the attempt under way is stopped
// first. It returns once the new attempt has started (nil, or the error
// that kept it from starting), or at once if it waits behind another run.
// A finished run may be restarted too.
func (a Access) Restart(id ID) error {
	if err := a.check(ActRestart); err != nil {
		return err
	}
	return a.List.restart(id, a.Actor)
}

// Stop cancels run id (queued or training); it ends as StateStopped.
func (a Access) Stop(id ID) error {
	if err := a.check(ActStop); err != nil {
		return err
	}
	return a.List.stop(id, a.Actor)
}

// Pause holds run id's training before its next batch.
func (a Access) Pause(id ID) error {
	if err := a.check(ActPause); err != nil {
		return err
	}
	return a.List.setPaused(id, true, a.Actor)
}

// Resume lets a paused run go on.
func (a Access) Resume(id ID) error {
	if err := a.check(ActResume); err != nil {
		return err
	}
	return a.List.setPaused(id, false, a.Actor)
}

// Evaluate evaluates a snapshot of run id's current weights (or its final
// weights) on its test set, without disturbing training. Viewers asking at
// once share one evaluation, and while the run has not moved since the
// last one they get its result; the Predictions are shared, read-only.
// Before the run starts it fails with ErrNotStarted.
func (a Access) Evaluate(ctx context.Context, id ID) (*engine.Predictions, error) {
	if err := a.check(ActEvaluate); err != nil {
		return nil, err
	}
	return a.List.evaluate(ctx, id)
}

// Snapshot returns a copy of run id's current weights (its final ones once
// it has ended), for drawing predictions of one's own.
func (a Access) Snapshot(id ID) (*engine.Model, error) {
	if err := a.check(ActEvaluate); err != nil {
		return nil, err
	}
	return a.List.snapshot(id)
}

// Save writes a checkpoint of run id to path (the spec's SavePath when
// empty), atomically, and returns the path written.
func (a Access) Save(id ID, path string) (string, error) {
	if err := a.check(ActSave); err != nil {
		return "", err
	}
	return a.List.save(id, path, a.Actor)
}
