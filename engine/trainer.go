package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/mnist-tui/mnist-tui/mnist"
)

// ErrNonFinite marks a training run stopped by a NaN or infinite loss.
var ErrNonFinite = errors.New("loss is not finite")

// Data are the three splits a run uses.
type Data struct {
	Train, Val, Test *mnist.Set
}

// Option adjusts a Trainer at construction.
type Option func(*Trainer)

// WithReporter installs r to receive every report; see Reporter for the
// contract. Without it reports are dropped.
func WithReporter(r Reporter) Option { return func(t *Trainer) { t.report = r } }

// WithParams starts the run from a copy of p instead of the seeded
// initialisation.
func WithParams(p *Params) Option { return func(t *Trainer) { t.start = p } }

// Trainer runs the notebook's schedule on the fused model: with Epochs = E,
// epoch 1 only validates the untrained net, epochs 2..E train then validate,
// and then the test set is evaluated. Run it once, in its own goroutine; the
// other methods are safe to call from any goroutine meanwhile.
type Trainer struct {
	cfg    Config
	data   Data
	report Reporter
	start  *Params

	params, grads *Params
	adam          *Adam
	train         map[int]*net
	eval          *evaluator

	mu     sync.Mutex    // guards params during updates, and pause
	pause  chan struct{} // non-nil while paused; closed by Resume
	runned bool

	runStep, runSteps int
}

// NewTrainer validates c and the data, and builds and compiles every graph
// the run will need.
func NewTrainer(c Config, d Data, opts ...Option) (*Trainer, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	for _, s := range []struct {
		name string
		set  *mnist.Set
		need bool
	}{{"train", d.Train, c.Epochs > 1}, {"validation", d.Val, c.Epochs > 0}, {"test", d.Test, true}} {
		if s.need && (s.set == nil || s.set.Len() == 0) {
			return nil, fmt.Errorf("engine: %w: the %s set is empty", ErrConfig, s.name)
		}
	}
	t := &Trainer{cfg: c, data: d, report: func(Report) {}, train: map[int]*net{}}
	for _, o := range opts {
		o(t)
	}
	t.params, t.grads, t.adam = NewParams(c), NewParams(c), NewAdam(c)
	if c.Epochs > 1 {
		for _, n := range batchSizes(c.Batch, d.Train.Len()) {
			nt, err := newNet(c, n, workers(), t.params, t.grads)
			if err != nil {
				return nil, err
			}
			t.train[n] = nt
		}
	}
	var err error
	if t.eval, err = newEvaluator(c, t.params, lens(d.Val, d.Test)...); err != nil {
		return nil, err
	}
	// Values are written only now that every graph is compiled.
	if t.start != nil {
		t.params.CopyFrom(t.start)
	} else {
		t.params.CopyFrom(InitParams(c))
	}
	trainBatches := 0
	if c.Epochs > 1 {
		trainBatches = ceilDiv(d.Train.Len(), c.Batch)
	}
	valBatches := 0
	if c.Epochs > 0 {
		valBatches = ceilDiv(d.Val.Len(), c.Batch)
	}
	t.runSteps = c.Epochs*valBatches + max(c.Epochs-1, 0)*trainBatches + ceilDiv(d.Test.Len(), c.Batch)
	return t, nil
}

func lens(sets ...*mnist.Set) []int {
	var out []int
	for _, s := range sets {
		if s != nil {
			out = append(out, s.Len())
		}
	}
	return out
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// Config returns the run's configuration.
func (t *Trainer) Config() Config { return t.cfg }

// Pause holds training before its next batch until Resume.
func (t *Trainer) Pause() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pause == nil {
		t.pause = make(chan struct{})
	}
}

// Resume lets a paused run go on.
func (t *Trainer) Resume() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pause != nil {
		close(t.pause)
		t.pause = nil
	}
}

// Paused reports whether the run is paused.
func (t *Trainer) Paused() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pause != nil
}

// Snapshot returns a copy of the current weights, taken between two
// optimiser steps.
func (t *Trainer) Snapshot() *Model {
	t.mu.Lock()
	defer t.mu.Unlock()
	return &Model{Config: t.cfg, Params: t.params.Clone()}
}

// Evaluate runs the test set on a snapshot of the current weights, without
// disturbing training.
func (t *Trainer) Evaluate(ctx context.Context) (*Predictions, error) {
	return t.Snapshot().Evaluate(ctx, t.data.Test, nil)
}

// wait blocks while the run is paused.
func (t *Trainer) wait(ctx context.Context) (time.Duration, error) {
	t.mu.Lock()
	ch := t.pause
	t.mu.Unlock()
	if ch == nil {
		return 0, ctx.Err()
	}
	start := time.Now()
	select {
	case <-ch:
		return time.Since(start), nil
	case <-ctx.Done():
		return time.Since(start), ctx.Err()
	}
}

// Run runs the whole schedule, reporting as it goes; the test predictions
// arrive with the KindDone report. Cancelling ctx stops it within one batch
// with ctx's error.
func (t *Trainer) Run(ctx context.Context) error {
	t.mu.Lock()
	if t.runned {
		t.mu.Unlock()
		return errors.New("engine: a Trainer runs once")
	}
	t.runned = true
	t.mu.Unlock()
	wait := func() (time.Duration, error) { return t.wait(ctx) }
	for epoch := 1; epoch <= t.cfg.Epochs; epoch++ {
		if epoch > 1 {
			if err := t.trainEpoch(ctx, epoch, wait); err != nil {
				return err
			}
		}
		if _, err := t.evalPhase(ctx, epoch, PhaseVal, t.data.Val, wait); err != nil {
			return err
		}
	}
	_, err := t.evalPhase(ctx, 0, PhaseTest, t.data.Test, wait)
	return err
}

// emit completes a phase report with the run-wide fields and sends it.
func (t *Trainer) emit(r Report, epoch int) {
	r.Epoch, r.Epochs = epoch, t.cfg.Epochs
	if r.Kind == KindBatch {
		t.runStep++
	}
	r.RunStep, r.RunSteps = t.runStep, t.runSteps
	t.report(r)
}

func (t *Trainer) evalPhase(ctx context.Context, epoch int, ph Phase, s *mnist.Set, wait waitFunc) (*Predictions, error) {
	pr, stats, err := t.eval.pass(ctx, s, ph, func(r Report) { t.emit(r, epoch) }, wait)
	if err != nil {
		return nil, err
	}
	end := stats.report(KindPhaseEnd)
	t.emit(end, epoch)
	if ph == PhaseTest {
		end.Kind, end.Predictions = KindDone, pr
		t.emit(end, epoch)
	}
	return pr, nil
}

func (t *Trainer) trainEpoch(ctx context.Context, epoch int, wait waitFunc) error {
	n := t.data.Train.Len()
	ld, err := mnist.NewLoader(t.data.Train, t.cfg.Batch, true, t.cfg.Seed)
	if err != nil {
		return fmt.Errorf("engine: train: %w", err)
	}
	ld.Shuffle(epoch)
	stats := newPhaseStats(PhaseTrain, ld.Batches(), n)
	for k := 0; k < ld.Batches(); k++ {
		if err := stats.wait(wait); err != nil {
			return err
		}
		nt := t.train[batchLen(ld, k, t.cfg.Batch, n)]
		st := nt.st
		got := ld.Batch(k, st.x, st.y)
		if err := nt.run(); err != nil {
			return fmt.Errorf("engine: epoch %d batch %d: %w", epoch, k+1, err)
		}
		if l := st.lossSum; math.IsNaN(l) || math.IsInf(l, 0) {
			return fmt.Errorf("engine: epoch %d batch %d of %d: %w (%v)", epoch, k+1, ld.Batches(), ErrNonFinite, l)
		}
		t.mu.Lock()
		t.adam.Update(t.params, t.grads)
		t.mu.Unlock()
		t.emit(stats.add(got, st.lossSum, st.correct), epoch)
	}
	t.emit(stats.report(KindPhaseEnd), epoch)
	return nil
}
