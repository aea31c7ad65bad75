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
	// Pause: pause and resume runs, set their pace, step them one batch
	// at a time and change their learning rate while they train.
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
	case ActPause, ActResume, ActPace, ActStep, ActLR:
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

// SetPace sets run id's pace: at most pace training batches per second,
// 0 for full speed (see engine.Trainer.SetPace), for every viewer.
func (a Access) SetPace(id ID, pace float64) error {
	if err := a.check(ActPace); err != nil {
		return err
	}
	_, err := a.List.setPace(id, func(float64) (float64, error) { return pace, nil }, a.Actor)
	return err
}

// ShiftPace moves run id's pace one rung along Ladder, faster or slower,
// and returns the new pace. Past the ends it fails with ErrPaceLimit.
func (a Access) ShiftPace(id ID, faster bool) (float64, error) {
	if err := a.check(ActPace); err != nil {
		return 0, err
	}
	return a.List.setPace(id, func(p float64) (float64, error) { return ShiftPace(p, faster) }, a.Actor)
}

// Step lets one training batch of paused run id through (see
// engine.Trainer.Step); it fails with ErrNotPaused unless the run is
// paused.
func (a Access) Step(id ID) error {
	if err := a.check(ActStep); err != nil {
		return err
	}
	return a.List.step(id, a.Actor)
}

// SetLR sets run id's learning rate from its next training batch on; the
// rate must be in (0, MaxLR] (a *FieldError for "lr" otherwise).
func (a Access) SetLR(id ID, lr float64) error {
	if err := a.check(ActLR); err != nil {
		return err
	}
	_, err := a.List.setLR(id, func(float64) float64 { return lr }, a.Actor)
	return err
}

// ScaleLR multiplies run id's learning rate by factor (2 doubles it, 0.5
// halves it) and returns the new rate, which must stay in (0, MaxLR].
func (a Access) ScaleLR(id ID, factor float64) (float64, error) {
	if err := a.check(ActLR); err != nil {
		return 0, err
	}
	return a.List.setLR(id, func(lr float64) float64 { return lr * factor }, a.Actor)
}

// Evaluate evaluates a snapshot of run id's current weights (or its final
// weights) on its test set, without disturbing training, and publishes
// the predictions to every viewer (a KindReport of kind engine.KindEval,
// labelled with where the weights were) before returning them. Viewers
// asking at once share one evaluation, and while the run has not moved
// since the last one they get its result (published once); the
// Predictions are shared, read-only. Before the run starts it fails with
// ErrNotStarted.
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
