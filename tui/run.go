package tui

import (
	"fmt"
	"math"
	"time"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
	"github.com/mnist-tui/mnist-tui/mnist"
)

// phaseRow is one line of the epoch table: a finished (or running) phase.
type phaseRow struct {
	epoch    int
	phase    engine.Phase
	loss     float64
	acc      float64
	elapsed  time.Duration
	finished bool
	// batches is how many training batches the run had done when the
	// phase ended: where the phase sits on the per-batch charts.
	batches int
	// rate is the phase's throughput, samples a second.
	rate float64
}

// runState is everything the views know about the run they show, built
// from its description (runs.Info) and its events. The root model owns it;
// views read it.
type runState struct {
	// info describes the run (nil before the stream names one); id and
	// gen are its ID and attempt, state its state in the list.
	info  *runs.Info
	id    runs.ID
	gen   int
	state runs.State

	cfg   engine.Config
	sizes [3]int
	test  *mnist.Set

	// Per training batch, in order, across epochs; batchX is where each
	// batch sits in the schedule, in epochs (batch 16 of 32 of epoch 2 is
	// at 1.5): runs of other batch sizes or sizes line up on it.
	batchLoss, batchAcc, batchX []float64
	// Finished phases, in order.
	rows []phaseRow
	// last is the newest report; started tells whether there is one.
	last    engine.Report
	started bool
	// doneElapsed sums the finished phases' times.
	doneElapsed time.Duration
	// done is set by KindDone, over when the report channel closed.
	done, over bool
	// testLoss and testAcc hold the test phase's result once done.
	testLoss, testAcc float64
	hasTest           bool

	// preds are the test predictions being browsed (the newest of the
	// stream: live, asked for with e, or final), predsFrom says where they
	// came from; predsGen counts replacements so views can rebuild.
	preds     *engine.Predictions
	predsFrom string
	predsGen  int

	// pace and lr are the run's pace (training batches per second, 0 for
	// full speed) and learning rate now: its spec's, then as actions set
	// them. lrMarks are the learning-rate changes, evals the test
	// accuracies evaluated during training, in stream order.
	pace, lr float64
	lrMarks  []lrMark
	evals    []evalPoint

	// evaluating is set while a test-set evaluation started from the UI
	// runs.
	evaluating bool

	// err is the run's or an evaluation's failure, shown until replaced.
	err error

	// version fingerprints everything above that comes from the
	// configuration and the reports (FNV-1a, chained over every report
	// applied), and applied counts the reports: two states with the same
	// version and count show the same run, so their drawings can be
	// shared (see Cache).
	version uint64
	applied int
}

// FNV-1a, 64 bits.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// mix folds v into the fingerprint h.
func mix(h, v uint64) uint64 {
	for i := 0; i < 8; i++ {
		h ^= v & 0xff
		h *= fnvPrime
		v >>= 8
	}
	return h
}

// newRunState returns the state of the run info describes (nil: none yet)
// before any report.
func newRunState(info *runs.Info) *runState {
	s := &runState{info: info}
	h := uint64(fnvOffset)
	if info != nil {
		s.id, s.gen, s.cfg, s.test = info.ID, 1, info.Config, info.Test
		s.pace, s.lr = info.Spec.Pace, info.Config.LR
		s.sizes = [3]int{info.Data.Train, info.Data.Val, info.Data.Test}
		for _, b := range fmt.Sprintf("%d\x00%#v\x00%#v", info.ID, info.Config, info.Data) {
			h = mix(h, uint64(b))
		}
		if c := info.Checkpoint; c != nil {
			for _, b := range fmt.Sprintf("%s\x00%t\x00%d", c.Path, c.Resume, c.Epoch) {
				h = mix(h, uint64(b))
			}
		}
	}
	s.version = h
	return s
}

// fingerprint folds r into the state's version.
func (s *runState) fingerprint(r engine.Report) {
	h := s.version
	for i := 0; i < len(r.Phase); i++ {
		h = mix(h, uint64(r.Phase[i]))
	}
	for _, v := range [...]int{int(r.Kind), r.Epoch, r.Epochs, r.Step, r.Steps, r.Samples, r.Total, r.RunStep, r.RunSteps, r.Trained, int(r.Elapsed)} {
		h = mix(h, uint64(v))
	}
	for _, f := range [...]float64{r.Loss, r.Acc, r.BatchLoss, r.BatchAcc, r.SamplesPerSec} {
		h = mix(h, math.Float64bits(f))
	}
	if p := r.Predictions; p != nil {
		h = mix(mix(mix(h, math.Float64bits(p.Loss)), math.Float64bits(p.Acc)), uint64(p.Len()))
	}
	s.version = h
	s.applied++
}

// reset starts the state over for attempt gen of the run info describes
// (a restart, or another run to show): it is then the state of a Model
// that has seen no report of it (its drawings are shared with such Models
// again), except that the views are told the predictions changed and an
// evaluation under way goes on (its result is dropped as stale).
func (s *runState) reset(info *runs.Info, gen int) {
	predsGen, evaluating, state := s.predsGen, s.evaluating, s.state
	*s = *newRunState(info)
	s.gen, s.state = gen, state
	s.predsGen, s.evaluating = predsGen+1, evaluating
	if gen > 1 {
		s.version = mix(s.version, uint64(gen))
	}
}

// apply folds one report into the state. It reports whether it brought
// predictions.
func (s *runState) apply(r engine.Report) bool {
	if r.Kind == engine.KindEval {
		return s.applyEval(r)
	}
	s.fingerprint(r)
	s.last, s.started = r, true
	switch r.Kind {
	case engine.KindBatch:
		if r.Phase == engine.PhaseTrain {
			s.batchLoss = append(s.batchLoss, r.BatchLoss)
			s.batchAcc = append(s.batchAcc, r.BatchAcc)
			x := float64(r.Epoch - 1)
			if r.Steps > 0 {
				x += float64(r.Step) / float64(r.Steps)
			}
			s.batchX = append(s.batchX, x)
		}
	case engine.KindPhaseEnd:
		s.rows = append(s.rows, phaseRow{epoch: r.Epoch, phase: r.Phase, loss: r.Loss, acc: r.Acc, elapsed: r.Elapsed, finished: true, batches: len(s.batchLoss), rate: r.SamplesPerSec})
		s.doneElapsed += r.Elapsed
		if r.Phase == engine.PhaseTest {
			s.testLoss, s.testAcc, s.hasTest = r.Loss, r.Acc, true
		}
	case engine.KindDone:
		s.done = true
		if r.Predictions != nil {
			s.testLoss, s.testAcc, s.hasTest = r.Predictions.Loss, r.Predictions.Acc, true
			s.evals = append(s.evals, evalPoint{x: len(s.batchLoss), acc: r.Predictions.Acc, all: true})
			s.setPreds(r.Predictions, "final test predictions")
			return true
		}
	}
	return false
}

// lrMark is a learning-rate change: after x training batches, from one
// rate to another.
type lrMark struct {
	x        int
	from, to float64
}

// evalPoint is a test accuracy evaluated after x training batches, on
// all the test digits or a sample.
type evalPoint struct {
	x   int
	acc float64
	all bool
}

// applyEval folds an evaluation made during training into the state (it
// leaves the progress, last, alone): an accuracy point, and its
// predictions when the history still holds them.
func (s *runState) applyEval(r engine.Report) bool {
	s.fingerprint(r)
	s.evals = append(s.evals, evalPoint{x: r.Trained, acc: r.Acc, all: r.Samples >= r.Total})
	if r.Predictions == nil || s.done {
		return false
	}
	s.setPreds(r.Predictions, evalLabel(r))
	return true
}

// evalLabel says where an evaluation's predictions come from (the live
// evaluations' and those asked for with e alike: the weights while they
// train): "live · epoch 2/3, after batch 37 · 2,000 of 10,000 test digits
// · a fixed, seeded, class-balanced sample", or "... · all 10,000 test
// digits".
func evalLabel(r engine.Report) string {
	at := fmt.Sprintf("epoch %d/%d, after batch %s", r.Epoch, r.Epochs, group(r.Trained))
	if r.Trained == 0 {
		at = "before training"
	}
	if r.Samples < r.Total {
		return fmt.Sprintf("live · %s · %s of %s test digits · a fixed, seeded, class-balanced sample", at, group(r.Samples), group(r.Total))
	}
	return fmt.Sprintf("live · %s · all %s test digits", at, group(r.Total))
}

// action folds a control action on the run into the state: its pace and
// learning rate, the learning-rate marks.
func (s *runState) action(a *runs.Action) {
	switch a.Kind {
	case runs.ActPace:
		s.pace = a.Value
	case runs.ActLR:
		s.lr = a.Value
		s.lrMarks = append(s.lrMarks, lrMark{x: a.At.Trained, from: a.Prev, to: a.Value})
	default:
		return
	}
	h := mix(mix(mix(s.version, uint64(a.Kind)), math.Float64bits(a.Value)), uint64(a.At.Trained))
	s.version = h
}

// setPreds replaces the browsed predictions.
func (s *runState) setPreds(p *engine.Predictions, from string) {
	s.preds, s.predsFrom = p, from
	s.predsGen++
}

// running reports whether the newest report is a batch of a phase that has
// not ended yet.
func (s *runState) running() bool {
	return s.started && !s.done && !s.over && s.last.Kind == engine.KindBatch
}

// bestVal is the best validation accuracy of the finished epochs (ok
// false before the first).
func (s *runState) bestVal() (acc float64, ok bool) {
	for _, r := range s.rows {
		if r.phase == engine.PhaseVal && (!ok || r.acc > acc) {
			acc, ok = r.acc, true
		}
	}
	return acc, ok
}

// trainRate is the training throughput, samples a second: the running
// training phase's, else the last finished one's (ok false before any).
func (s *runState) trainRate() (rate float64, ok bool) {
	if s.running() && s.last.Phase == engine.PhaseTrain && s.last.SamplesPerSec > 0 {
		return s.last.SamplesPerSec, true
	}
	for i := len(s.rows) - 1; i >= 0; i-- {
		if s.rows[i].phase == engine.PhaseTrain {
			return s.rows[i].rate, true
		}
	}
	return 0, false
}

// elapsed is the run's time so far (finished phases plus the running one).
func (s *runState) elapsed() time.Duration {
	if s.running() {
		return s.doneElapsed + s.last.Elapsed
	}
	return s.doneElapsed
}

// phaseETA estimates the running phase's remaining time from its throughput.
func (s *runState) phaseETA() (time.Duration, bool) {
	r := s.last
	if !s.running() || r.SamplesPerSec <= 0 {
		return 0, false
	}
	left := float64(r.Total-r.Samples) / r.SamplesPerSec
	return time.Duration(left * float64(time.Second)), true
}

// runETA estimates the whole schedule's remaining time from the time per
// batch so far.
func (s *runState) runETA() (time.Duration, bool) {
	r := s.last
	if !s.running() || r.RunStep <= 0 || r.RunSteps <= r.RunStep {
		return 0, false
	}
	per := float64(s.elapsed()) / float64(r.RunStep)
	return time.Duration(per * float64(r.RunSteps-r.RunStep)), true
}

// runFraction is the schedule's progress in [0, 1].
func (s *runState) runFraction() float64 {
	if s.done {
		return 1
	}
	if s.last.RunSteps <= 0 {
		return 0
	}
	return clamp01(float64(s.last.RunStep) / float64(s.last.RunSteps))
}

// phaseFraction is the current phase's progress in [0, 1].
func (s *runState) phaseFraction() float64 {
	r := s.last
	if r.Kind == engine.KindPhaseEnd || s.done {
		return 1
	}
	if r.Total > 0 {
		return clamp01(float64(r.Samples) / float64(r.Total))
	}
	if r.Steps > 0 {
		return clamp01(float64(r.Step) / float64(r.Steps))
	}
	return 0
}

func clamp01(f float64) float64 {
	switch {
	case f < 0:
		return 0
	case f > 1:
		return 1
	}
	return f
}
