package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/mnist-tui/mnist-tui/mnist"
)

// Position is where a run's training is: what a snapshot of its weights,
// an evaluation or a control action is labelled with.
type Position struct {
	// Epoch is the schedule's epoch under way (1-based; 0 before the
	// first and in the test phase), Phase the phase under way ("" before
	// the first report).
	Epoch int
	Phase Phase
	// Trained counts the training batches done in this Run (the x of the
	// per-batch charts): weights at Trained have had that many updates.
	Trained int
	// RunStep counts the batches of every phase done (Report.RunStep).
	RunStep int
}

// LiveSeed seeds the order BalancedOrder gives the test digits for the
// live evaluations: every run, restart and viewer sees the same digits.
const LiveSeed = 0x6c697665 // "live"

// Defaults of the live evaluation.
const (
	// DefaultLiveSample is how many test digits a live evaluation covers
	// at most: 2,000 evaluate in about 25 ms on two cores here, so within
	// the budget the predictions refresh about every 0.3 s of training at
	// full speed, and after every batch or every few at slow paces, with
	// 200 digits of each class for the confusion matrix.
	DefaultLiveSample = 2000
	// DefaultLiveBudget is the share of training time live evaluations
	// may take: 8%, leaving room under 10% for what they cost training
	// besides their own time (caches refilled after them).
	DefaultLiveBudget = 0.08
)

// LiveEval configures the live evaluation of WithLiveEval.
type LiveEval struct {
	// Sample is how many test digits each evaluation covers: the whole
	// test set when it holds no more, else the first Sample digits of
	// BalancedOrder(test labels, LiveSeed) (a fixed, seeded,
	// class-balanced sample), evaluated in set order.
	Sample int
	// Budget is the most of the training time the evaluations may take
	// (0.1: a tenth), in (0, 1].
	Budget float64
}

// WithLiveEval evaluates a sample of the test set (see LiveEval) during
// training, on the training goroutine between two training batches, and
// reports its predictions (KindEval reports). Evaluations are spaced so
// that they take at most l.Budget of the training time: a token bucket
// earns l.Budget of every training batch's time (its pace wait included,
// pauses left out) up to the cost of one evaluation, and an evaluation
// runs once it holds that cost (measured, the first one estimated from
// the training batches). At full speed that is every Sample/Budget digits'
// worth of evaluation time; at slow paces, after every batch or every few.
// A batch let through a pause by Step is always followed by an
// evaluation (outside the budget: the run is paused).
func WithLiveEval(l LiveEval) Option {
	return func(t *Trainer) {
		if l.Sample > 0 && l.Budget > 0 {
			t.live = &liveEval{cfg: l}
		}
	}
}

// BalancedOrder returns every index of labels in an order whose every
// prefix is as class-balanced as the classes allow: round after round, one
// digit of each class that has digits left, classes in order, each class's
// digits shuffled with a PCG seeded from seed. The first n indexes are a
// class-balanced sample of n digits.
func BalancedOrder(labels []uint8, seed uint64) []int {
	var byClass [mnist.Classes][]int
	for i, l := range labels {
		if int(l) < mnist.Classes {
			byClass[l] = append(byClass[l], i)
		}
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x62616c616e6365))
	for c := range byClass {
		rng.Shuffle(len(byClass[c]), func(i, j int) { byClass[c][i], byClass[c][j] = byClass[c][j], byClass[c][i] })
	}
	out := make([]int, 0, len(labels))
	for round := 0; len(out) < len(labels); round++ {
		added := false
		for c := range byClass {
			if round < len(byClass[c]) {
				out = append(out, byClass[c][round])
				added = true
			}
		}
		if !added {
			break // labels outside 0..9
		}
	}
	return out
}

// LiveSample returns the test digits a live evaluation of at most n digits
// covers, ascending: nil for the whole set (it holds n or fewer), else the
// first n of BalancedOrder(test.Labels, LiveSeed).
func LiveSample(test *mnist.Set, n int) []int {
	if test == nil || n <= 0 || test.Len() <= n {
		return nil
	}
	idx := slices.Clone(BalancedOrder(test.Labels, LiveSeed)[:n])
	slices.Sort(idx)
	return idx
}

// liveEval is the state of a Trainer's live evaluation. It is used on the
// training goroutine only.
type liveEval struct {
	cfg   LiveEval
	set   *mnist.Set // the digits evaluated (the sample, or the test set)
	index []int      // their test indexes (nil: the whole test set)

	credit   time.Duration // evaluation time earned and not spent
	est      time.Duration // what the next evaluation will cost
	measured bool          // est comes from an evaluation

	// The training batch under way: when its wait started, when the gate
	// released it, the time it was held paused.
	start, released time.Time
	paused          time.Duration
}

// prepare picks the digits evaluated from the test set; it returns their
// count, for compiling the graphs.
func (l *liveEval) prepare(test *mnist.Set) (int, error) {
	l.index = LiveSample(test, l.cfg.Sample)
	if l.index == nil {
		l.set = test
		return test.Len(), nil
	}
	imgs := make([]uint8, 0, len(l.index)*mnist.Pixels)
	labels := make([]uint8, 0, len(l.index))
	for _, i := range l.index {
		imgs = append(imgs, test.Image(i)...)
		labels = append(labels, test.Labels[i])
	}
	s, err := mnist.NewSet("live sample", imgs, len(l.index), labels)
	if err != nil {
		return 0, fmt.Errorf("engine: live sample: %w", err)
	}
	l.set = s
	return s.Len(), nil
}

// earn books the training batch that just ended: the budget's share of
// its time, pace wait included and pauses left out, up to one
// evaluation's cost. Before any evaluation the cost is estimated as a
// forward pass over the sample costing a third of a training pass over
// as many digits (the FLOPs' ratio), timed on this batch.
func (l *liveEval) earn(batch int) {
	ran := time.Since(l.start) - l.paused
	if !l.measured {
		compute := time.Since(l.released)
		l.est = time.Duration(float64(compute) * float64(l.set.Len()) / float64(max(batch, 1)) / 3)
	}
	l.credit = min(l.credit+time.Duration(float64(ran)*l.cfg.Budget), l.est)
}

// due reports whether an evaluation should run now; stepped says the batch
// was a single step.
func (l *liveEval) due(stepped bool) bool { return stepped || l.credit >= l.est }

// spend books an evaluation that took d (outside the budget when
// stepped).
func (l *liveEval) spend(d time.Duration, stepped bool) {
	if !stepped {
		l.credit -= d
	}
	if l.measured {
		l.est = (l.est + d) / 2
	} else {
		l.est, l.measured = d, true
	}
}

// liveWait wraps the training batches' wait for the live evaluation's
// bookkeeping.
func (t *Trainer) liveWait(w waitFunc) waitFunc {
	if t.live == nil {
		return w
	}
	return func() (time.Duration, error) {
		l := t.live
		l.start = time.Now()
		d, err := w()
		l.released, l.paused = time.Now(), d
		return d, err
	}
}

// afterBatch runs a live evaluation after a training batch when it is due
// and reports it (KindEval): the weights are not being written between
// two batches on the training goroutine, so they are evaluated in place
// on the evaluation graphs, with both cores, like a validation pass.
func (t *Trainer) afterBatch(ctx context.Context, epoch int, phase Report) error {
	l := t.live
	if l == nil {
		return nil
	}
	stepped := t.gate.lastStepped()
	l.earn(t.cfg.Batch)
	if !l.due(stepped) {
		return nil
	}
	start := time.Now()
	pr, _, err := t.eval.pass(ctx, l.set, PhaseTest, func(Report) {}, nil)
	if err != nil {
		return fmt.Errorf("engine: live evaluation: %w", err)
	}
	d := time.Since(start)
	l.spend(d, stepped)
	pr.Index = l.index
	t.mu.Lock()
	pr.At = t.pos
	t.mu.Unlock()
	r := Report{Kind: KindEval, Phase: phase.Phase, Step: phase.Step, Steps: phase.Steps,
		Samples: pr.Len(), Total: t.data.Test.Len(), Loss: pr.Loss, Acc: pr.Acc,
		Elapsed: d, Predictions: pr}
	if d > 0 {
		r.SamplesPerSec = float64(pr.Len()) / d.Seconds()
	}
	t.emit(r, epoch)
	return nil
}
