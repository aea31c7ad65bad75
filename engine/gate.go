package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrNotPaused is Step's error on a run that is not paused.
var ErrNotPaused = errors.New("training is not paused")

// MinPace and MaxPace bound a pace other than full speed, in training
// batches per second.
const (
	MinPace = 0.1
	MaxPace = 1000
)

// CheckPace returns an error wrapping ErrConfig unless pace is 0 (full
// speed) or in [MinPace, MaxPace] training batches per second.
func CheckPace(pace float64) error {
	if pace == 0 || pace >= MinPace && pace <= MaxPace {
		return nil
	}
	return fmt.Errorf("engine: %w: pace %g must be 0 (full speed) or in [%g, %g] batches per second", ErrConfig, pace, float64(MinPace), float64(MaxPace))
}

// gate is what every batch of a run waits on before it starts: a pause
// holds every batch (of any phase) until resumed, Step lets one training
// batch through a pause (the evaluation batches before it run through
// too), and a pace spaces training batches so that at most pace of them
// start per second. Evaluation batches are never paced.
type gate struct {
	mu      sync.Mutex
	paused  bool
	steps   int           // training batches Step let through, not yet started
	pace    float64       // training batches per second; 0: full speed
	last    time.Time     // when the last paced training batch started
	stepped bool          // the last training batch released was a step's
	held    time.Duration // paused time, summed over finished waits
	changed chan struct{} // closed and replaced on every change
}

func newGate(pace float64) *gate { return &gate{pace: pace, changed: make(chan struct{})} }

// changedLocked wakes the waiter. g.mu must be held.
func (g *gate) changedLocked() {
	close(g.changed)
	g.changed = make(chan struct{})
}

func (g *gate) setPaused(p bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.paused == p {
		return
	}
	g.paused = p
	g.steps = 0
	g.changedLocked()
}

func (g *gate) isPaused() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.paused
}

// step lets one more training batch through the pause.
func (g *gate) step() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.paused {
		return fmt.Errorf("engine: step: %w", ErrNotPaused)
	}
	g.steps++
	g.changedLocked()
	return nil
}

func (g *gate) setPace(p float64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pace = p
	g.changedLocked()
}

// lastStepped reports whether the last training batch released was let
// through by a step.
func (g *gate) lastStepped() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stepped
}

// pausedTotal is the time waits have spent paused, over finished waits.
func (g *gate) pausedTotal() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.held
}

// wait blocks until the next batch may start: a training batch (train)
// or an evaluation batch. It returns how long it was held by a pause
// (the time a pace made it wait is not counted: the run goes on, slowly),
// or ctx's error once ctx is done.
func (g *gate) wait(ctx context.Context, train bool) (paused time.Duration, err error) {
	for {
		if err := ctx.Err(); err != nil {
			return paused, err
		}
		g.mu.Lock()
		ch := g.changed
		var until time.Time // zero: wait for a change
		switch {
		case g.paused && g.steps > 0 && train:
			g.steps--
			g.stepped = true
			g.last = time.Now()
			g.mu.Unlock()
			return paused, nil
		case g.paused && g.steps > 0:
			// A step is pending: evaluation runs on to its training batch.
			g.mu.Unlock()
			return paused, nil
		case g.paused:
			start := time.Now()
			g.mu.Unlock()
			select {
			case <-ch:
			case <-ctx.Done():
			}
			d := time.Since(start)
			paused += d
			g.mu.Lock()
			g.held += d
			g.mu.Unlock()
			continue
		case !train:
			g.mu.Unlock()
			return paused, nil
		case g.pace <= 0:
			g.stepped = false
			g.mu.Unlock()
			return paused, nil
		default:
			now := time.Now()
			interval := time.Duration(float64(time.Second) / g.pace)
			next := g.last.Add(interval)
			if g.last.IsZero() || !now.Before(next) {
				// On time: keep the rhythm; late by more than a batch (a
				// slow batch, a pause, a faster pace): start it from now.
				if g.last.IsZero() || now.Sub(next) > interval {
					next = now
				}
				g.last, g.stepped = next, false
				g.mu.Unlock()
				return paused, nil
			}
			until = next
			g.mu.Unlock()
		}
		t := time.NewTimer(time.Until(until))
		select {
		case <-t.C:
		case <-ch:
		case <-ctx.Done():
		}
		t.Stop()
	}
}
