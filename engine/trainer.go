package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/mnist-tui/mnist-tui/engine/internal/vecf32"
	"github.com/mnist-tui/mnist-tui/mnist"
)

// ErrNonFinite marks a run stopped by a NaN or infinite loss, in training,
// validation or test; ErrNonFiniteState one stopped by a NaN or infinite
// weight or optimizer moment after an update.
var (
	ErrNonFinite      = errors.New("loss is not finite")
	ErrNonFiniteState = errors.New("weights or optimizer state not finite")
)

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

// WithResume continues the run saved in ck: its weights, its Adam state and
// its place in the schedule (epochs 1..ck.Epoch and ck.Batch training
// batches of the next are skipped, the loader's per-epoch shuffles staying
// those of an uninterrupted run). ck must hold optimizer state and be shaped
// like the Trainer's Config; NewTrainer checks both.
func WithResume(ck *Checkpoint) Option { return func(t *Trainer) { t.resume = ck } }

// WithPace starts the run at a pace of pace training batches per second
// (0: full speed, the default; see Trainer.SetPace). NewTrainer refuses a
// pace CheckPace refuses.
func WithPace(pace float64) Option { return func(t *Trainer) { t.gate.pace = pace } }

// WithEpochHook installs f, called on the training goroutine after every
// epoch's validation pass with the epoch's number (a checkpoint taken then
// records it as completed). An error from f stops the run with that error.
func WithEpochHook(f func(epoch int) error) Option { return func(t *Trainer) { t.epochHook = f } }

// WithAutosave saves a checkpoint to path (atomically, see Trainer.Save)
// after every epoch, after any hook installed before it; a failed save
// stops the run with its error.
func WithAutosave(path string) Option {
	return func(t *Trainer) {
		prev := t.epochHook
		t.epochHook = func(epoch int) error {
			if prev != nil {
				if err := prev(epoch); err != nil {
					return err
				}
			}
			return t.Save(path)
		}
	}
}

// WithGradNorms records the gradient norms through time (Report.GradNorms)
// on every k-th training batch of each epoch (its first, then every k-th);
// k <= 0 records none, the default. Recording costs about one pass over the
// carried gradient per step of a sampled batch (BenchmarkGradNorms).
func WithGradNorms(k int) Option { return func(t *Trainer) { t.normsEvery = k } }

// Trainer runs the notebook's schedule on the fused model: with Epochs = E,
// epoch 1 only validates the untrained net, epochs 2..E train then validate,
// and then the test set is evaluated. Run it once, in its own goroutine; the
// other methods are safe to call from any goroutine meanwhile.
type Trainer struct {
	cfg    Config
	data   Data
	report Reporter
	start  *Params

	resume     *Checkpoint
	epochHook  func(epoch int) error
	skip       int // training batches to skip in the first epoch run
	normsEvery int // record GradNorms every normsEvery-th training batch

	params, grads *Params
	adam          *Adam
	train         map[int]*net
	eval          *evaluator

	mu      sync.Mutex // guards params and Adam during updates, and pos
	started bool
	// gate holds every batch while paused and paces training batches.
	gate *gate
	// live evaluates a sample of the test set during training (nil: off).
	live *liveEval
	// pos is where training is, updated with every report.
	pos Position

	runSteps int

	// Progress for checkpoints, guarded by mu: epochs completed, training
	// batches done in the next one, and the latest scores.
	doneEpochs, doneBatches int
	val, test               *Score
}

// NewTrainer validates c and the data, and builds and compiles every graph
// the run will need.
//
// A configuration whose MemoryEstimate exceeds the machine's memory is
// refused (a FieldError) rather than left to die of a Go out-of-memory.
func NewTrainer(c Config, d Data, opts ...Option) (*Trainer, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := c.CheckMemory(MachineMemory()); err != nil {
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
	t := &Trainer{cfg: c, data: d, report: func(Report) {}, train: map[int]*net{}, gate: newGate(0)}
	for _, o := range opts {
		o(t)
	}
	if err := CheckPace(t.gate.pace); err != nil {
		return nil, err
	}
	if ck := t.resume; ck != nil {
		if ck.Adam == nil {
			return nil, fmt.Errorf("engine: %w: resuming needs the optimizer state, and the checkpoint has none", ErrConfig)
		}
		if err := (&Checkpoint{Config: c, Params: ck.Params, Adam: ck.Adam}).check(); err != nil {
			return nil, fmt.Errorf("engine: resume: %w", err)
		}
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
	evalLens := lens(d.Val, d.Test)
	if t.live != nil && c.Epochs > 1 {
		n, err := t.live.prepare(d.Test)
		if err != nil {
			return nil, err
		}
		evalLens = append(evalLens, n)
	} else {
		t.live = nil // nothing trains
	}
	var err error
	if t.eval, err = newEvaluator(c, t.params, evalLens...); err != nil {
		return nil, err
	}
	// Values are written only now that every graph is compiled.
	first := 0
	if ck := t.resume; ck != nil {
		t.params.CopyFrom(ck.Params)
		t.adam.M.CopyFrom(ck.Adam.M)
		t.adam.V.CopyFrom(ck.Adam.V)
		t.adam.Step = ck.Adam.Step
		t.adam.Beta1, t.adam.Beta2, t.adam.Eps = ck.Adam.Beta1, ck.Adam.Beta2, ck.Adam.Eps
		first, t.skip = ck.Epoch, ck.Batch
		t.doneEpochs, t.doneBatches, t.val = ck.Epoch, ck.Batch, ck.Val
	} else if t.start != nil {
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
	for e := first + 1; e <= c.Epochs; e++ {
		if e > 1 {
			t.runSteps += trainBatches
			if e == first+1 {
				t.runSteps -= min(t.skip, trainBatches)
			}
		}
		t.runSteps += valBatches
	}
	t.runSteps += ceilDiv(d.Test.Len(), c.Batch)
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

// Pause holds training before its next batch (of any phase) until Resume.
func (t *Trainer) Pause() { t.gate.setPaused(true) }

// Resume lets a paused run go on (steps not taken yet are forgotten).
func (t *Trainer) Resume() { t.gate.setPaused(false) }

// Paused reports whether the run is paused.
func (t *Trainer) Paused() bool { return t.gate.isPaused() }

// Step lets one training batch through the pause: the next one, after the
// evaluation batches before it (the rest of a validation pass) have run.
// Each call lets one more through. With the live evaluation on, the batch
// is followed by an evaluation. It fails with ErrNotPaused unless the run
// is paused.
func (t *Trainer) Step() error { return t.gate.step() }

// SetPace sets how many training batches start per second at most: 0 is
// full speed; otherwise it must be in [MinPace, MaxPace] (CheckPace).
// Evaluation phases always go at full speed. The pace changes at once,
// even for a batch already waiting.
func (t *Trainer) SetPace(pace float64) error {
	if err := CheckPace(pace); err != nil {
		return err
	}
	t.gate.setPace(pace)
	return nil
}

// SetLR sets Adam's learning rate, in (0, 10], from the next training
// batch on, and returns where training was when it took effect:
// batches up to Position.Trained used the old rate. Checkpoints record the
// new rate.
func (t *Trainer) SetLR(lr float64) (Position, error) {
	if !(lr > 0) || lr > 10 {
		return Position{}, fmt.Errorf("engine: %w: learning rate %g must be in (0, 10]", ErrConfig, lr)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.adam.LR = lr
	return t.pos, nil
}

// Position returns where training is now.
func (t *Trainer) Position() Position {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pos
}

// Snapshot returns a copy of the current weights, taken between two
// optimiser steps, labelled with where training was (Model.At).
func (t *Trainer) Snapshot() *Model {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.cfg
	c.LR = t.adam.LR
	return &Model{Config: c, Params: t.params.Clone(), At: t.pos}
}

// Evaluate runs the test set on a snapshot of the current weights, without
// disturbing training.
func (t *Trainer) Evaluate(ctx context.Context) (*Predictions, error) {
	return t.Snapshot().Evaluate(ctx, t.data.Test, nil)
}

// Run runs the whole schedule, reporting as it goes; the test predictions
// arrive with the KindDone report. Cancelling ctx stops it within one batch
// with ctx's error.
func (t *Trainer) Run(ctx context.Context) error {
	t.mu.Lock()
	if t.started {
		t.mu.Unlock()
		return errors.New("engine: a Trainer runs once")
	}
	t.started = true
	t.mu.Unlock()
	wait := func() (time.Duration, error) { return t.gate.wait(ctx, false) }
	trainWait := t.liveWait(func() (time.Duration, error) { return t.gate.wait(ctx, true) })
	t.mu.Lock()
	first := t.doneEpochs
	t.mu.Unlock()
	for epoch := first + 1; epoch <= t.cfg.Epochs; epoch++ {
		if epoch > 1 {
			if err := t.trainEpoch(ctx, epoch, trainWait); err != nil {
				return err
			}
		}
		pr, err := t.evalPhase(ctx, epoch, PhaseVal, t.data.Val, wait)
		if err != nil {
			return err
		}
		t.mu.Lock()
		t.doneEpochs, t.doneBatches = epoch, 0
		t.val = &Score{Loss: pr.Loss, Acc: pr.Acc, Samples: pr.Len()}
		t.mu.Unlock()
		if t.epochHook != nil {
			if err := t.epochHook(epoch); err != nil {
				return err
			}
		}
	}
	pr, err := t.evalPhase(ctx, 0, PhaseTest, t.data.Test, wait)
	if err != nil {
		return err
	}
	t.mu.Lock()
	t.test = &Score{Loss: pr.Loss, Acc: pr.Acc, Samples: pr.Len()}
	t.mu.Unlock()
	return nil
}

// Checkpoint returns a copy of the run's current state, taken between two
// optimiser steps: weights, Adam state, progress through the schedule and
// the latest validation and test scores. It is safe to call while Run runs.
func (t *Trainer) Checkpoint() *Checkpoint {
	t.mu.Lock()
	defer t.mu.Unlock()
	a := *t.adam
	a.M, a.V = t.adam.M.Clone(), t.adam.V.Clone()
	c := t.cfg
	c.LR = t.adam.LR // the rate now, as SetLR left it
	ck := &Checkpoint{Config: c, Params: t.params.Clone(), Adam: &a, Epoch: t.doneEpochs, Batch: t.doneBatches}
	if t.val != nil {
		v := *t.val
		ck.Val = &v
	}
	if t.test != nil {
		v := *t.test
		ck.Test = &v
	}
	return ck
}

// Save writes Checkpoint() to path atomically (see Checkpoint.WriteFile);
// the previous file at path survives any failure. It is safe to call while
// Run runs, e.g. from a "save now" key.
func (t *Trainer) Save(path string) error { return t.Checkpoint().WriteFile(path) }

// emit completes a phase report with the run-wide fields and sends it.
func (t *Trainer) emit(r Report, epoch int) {
	r.Epoch, r.Epochs = epoch, t.cfg.Epochs
	t.mu.Lock()
	if r.Kind == KindBatch {
		t.pos.RunStep++
	}
	t.pos.Epoch, t.pos.Phase = epoch, r.Phase
	r.RunStep, r.RunSteps, r.Trained = t.pos.RunStep, t.runSteps, t.pos.Trained
	t.mu.Unlock()
	t.report(r)
}

func (t *Trainer) evalPhase(ctx context.Context, epoch int, ph Phase, s *mnist.Set, wait waitFunc) (*Predictions, error) {
	pr, stats, err := t.eval.pass(ctx, s, ph, func(r Report) { t.emit(r, epoch) }, wait)
	switch {
	case errors.Is(err, ErrNonFinite) && ph == PhaseTest:
		return nil, fmt.Errorf("engine: %w", err)
	case errors.Is(err, ErrNonFinite):
		return nil, fmt.Errorf("engine: epoch %d %w", epoch, err)
	case err != nil:
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
	k0 := min(t.skip, ld.Batches())
	t.skip = 0
	if k0 == ld.Batches() {
		return nil // saved after this epoch's training, during its validation
	}
	stats := newPhaseStats(PhaseTrain, ld.Batches()-k0, max(n-k0*t.cfg.Batch, 0))
	for k := k0; k < ld.Batches(); k++ {
		if err := stats.wait(wait); err != nil {
			return err
		}
		nt := t.train[batchLen(ld, k, t.cfg.Batch, n)]
		st := nt.st
		st.src, st.k = ld, k // filled by the parts
		got := st.d.B
		sampled := t.normsEvery > 0 && k%t.normsEvery == 0
		st.lay.wantNorms = sampled
		if err := nt.run(); err != nil {
			return fmt.Errorf("engine: epoch %d batch %d: %w", epoch, k+1, err)
		}
		if l := st.lossSum; math.IsNaN(l) || math.IsInf(l, 0) {
			return fmt.Errorf("engine: epoch %d batch %d of %d: %w (%v)", epoch, k+1, ld.Batches(), ErrNonFinite, l)
		}
		t.mu.Lock()
		bad := t.adam.step(t.params, t.grads, st.lay.relay, true)
		t.doneBatches = k + 1
		t.pos.Trained++
		t.mu.Unlock()
		if bad >= 0 {
			return fmt.Errorf("engine: epoch %d batch %d of %d: %w (%s after the update)", epoch, k+1, ld.Batches(), ErrNonFiniteState,
				[]string{"weights", "Adam's first moments", "Adam's second moments"}[bad])
		}
		r := stats.add(got, st.lossSum, st.correct)
		if sampled {
			r.GradNorms = make([]float32, t.cfg.Steps)
			st.lay.gradNorms(r.GradNorms)
		}
		t.emit(r, epoch)
		// The live evaluation comes after the batch's report: its time is
		// neither in the batch's gradient norms nor they in its cost.
		if err := t.afterBatch(ctx, epoch, r); err != nil {
			return err
		}
	}
	t.emit(stats.report(KindPhaseEnd), epoch)
	return nil
}

// nonFinite returns the index of the first of ps holding a NaN or an
// infinity, or -1. It sums every value times zero with the machine's dot
// kernel: the sum is zero while every value is finite and NaN as soon as
// one is not (0 x ±Inf is NaN), exactly, at a few microseconds for the
// default model's weights and moments (a tenth of a percent of a step;
// the element loop took 2-3%).
func nonFinite(ps ...*Params) int { return nonFiniteShare(0, 1, ps...) }

// nonFiniteShare is nonFinite of share part of parts of every tensor.
func nonFiniteShare(part, parts int, ps ...*Params) int {
	var zeros [1024]float32
	for i, p := range ps {
		for _, s := range p.slices() {
			lo, hi := share(len(s), part, parts)
			s = s[lo:hi]
			for len(s) > 0 {
				n := min(len(s), len(zeros))
				if vecf32.Dot(s[:n], zeros[:n]) != 0 { // NaN
					return i
				}
				s = s[n:]
			}
		}
	}
	return -1
}
