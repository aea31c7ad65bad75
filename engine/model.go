package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"

	"github.com/mnist-tui/mnist-tui/mnist"
)

// Model is a set of weights with its configuration, ready to evaluate. A
// Model from Trainer.Snapshot is a copy: evaluating it never races with
// training.
type Model struct {
	Config Config
	Params *Params
	// At is where the weights were in their run (Trainer.Snapshot); the
	// predictions of Evaluate are labelled with it.
	At Position
}

// NewModel returns the initial model of c (PyTorch's initialisation, seeded
// with c.Seed).
func NewModel(c Config) (*Model, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &Model{Config: c, Params: InitParams(c)}, nil
}

// workers is how many goroutines share one batch's work.
func workers() int { return min(runtime.GOMAXPROCS(0), 2) }

// evaluator runs forward passes over a set in batches, on graphs built once
// per batch size.
type evaluator struct {
	c    Config
	p    *Params
	w    *weights // p as the nets' products read it, prepared once a pass
	nets map[int]*net
}

// newEvaluator compiles the evaluation graphs for every batch size needed by
// loaders of the given lengths. Graphs are all built before any runs.
func newEvaluator(c Config, p *Params, lengths ...int) (*evaluator, error) {
	e := &evaluator{c: c, p: p, nets: map[int]*net{}}
	e.w = newWeights(c, dims{I: c.Inputs, H: c.Hidden}, false)
	for _, n := range batchSizes(c.Batch, lengths...) {
		nt, err := newNetWith(c, n, workers(), p, nil, e.w)
		if err != nil {
			return nil, err
		}
		e.nets[n] = nt
	}
	return e, nil
}

// batchSizes lists the full batch size and the last partial batch's size of
// each length.
func batchSizes(batch int, lengths ...int) []int {
	seen := map[int]bool{}
	var out []int
	for _, n := range append([]int{batch}, lengths...) {
		if r := n % batch; n != batch && r != 0 {
			n = r
		} else {
			n = batch
		}
		if n > 0 && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// Evaluate runs the model over every digit of s and returns its predictions,
// average loss and accuracy. hook, if not nil, receives a KindBatch report
// after every batch (phase PhaseTest) and must not block.
func (m *Model) Evaluate(ctx context.Context, s *mnist.Set, hook Reporter) (*Predictions, error) {
	e, err := newEvaluator(m.Config, m.Params, s.Len())
	if err != nil {
		return nil, err
	}
	p, _, err := e.pass(ctx, s, PhaseTest, func(r Report) {
		if hook != nil {
			hook(r)
		}
	}, nil)
	if p != nil {
		p.At = m.At
	}
	if errors.Is(err, ErrNonFinite) {
		err = fmt.Errorf("engine: evaluate: %w", err)
	}
	return p, err
}

// pass evaluates s in order. tick is called after every batch with a
// KindBatch report (without run-wide fields); wait, if not nil, is called
// before every batch and may block (pausing; it returns how long) or fail.
// A batch whose loss is NaN or infinite stops the pass with ErrNonFinite,
// naming the phase and the batch (the caller adds the epoch).
func (e *evaluator) pass(ctx context.Context, s *mnist.Set, ph Phase, tick Reporter, wait waitFunc) (*Predictions, *phaseStats, error) {
	ld, err := mnist.NewLoader(s, e.c.Batch, false, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("engine: %s: %w", ph, err)
	}
	n := s.Len()
	pr := &Predictions{Labels: make([]uint8, n), Pred: make([]uint8, n), Probs: make([][10]float32, n)}
	stats := newPhaseStats(ph, ld.Batches(), n)
	// The weights do not change during the pass: prepare them once.
	e.w.prepare(e.p)
	e.w.fresh = true
	defer func() { e.w.fresh = false }()
	for k := 0; k < ld.Batches(); k++ {
		if err := ctx.Err(); err != nil {
			return nil, stats, err
		}
		if err := stats.wait(wait); err != nil {
			return nil, stats, err
		}
		nt := e.nets[batchLen(ld, k, e.c.Batch, n)]
		st := nt.st
		st.src, st.k = ld, k // filled by the parts
		got := st.d.B
		if err := nt.run(); err != nil {
			return nil, stats, fmt.Errorf("engine: %s batch %d: %w", ph, k+1, err)
		}
		if l := st.lossSum; math.IsNaN(l) || math.IsInf(l, 0) {
			return nil, stats, fmt.Errorf("%s batch %d of %d: %w (%v)", ph, k+1, ld.Batches(), ErrNonFinite, l)
		}
		base := k * e.c.Batch
		for b := 0; b < got; b++ {
			i := base + b
			pr.Labels[i] = uint8(st.y[b])
			row := st.probs[b*st.d.C : (b+1)*st.d.C]
			copy(pr.Probs[i][:], row)
			best := 0
			for j, v := range row {
				if v > row[best] {
					best = j
				}
			}
			pr.Pred[i] = uint8(best)
		}
		tick(stats.add(got, st.lossSum, st.correct))
	}
	pr.Loss, pr.Acc = stats.loss(), stats.acc()
	return pr, stats, nil
}

// batchLen is the number of digits in batch k of a loader over n digits.
func batchLen(ld *mnist.Loader, k, batch, n int) int {
	if k == ld.Batches()-1 && n%batch != 0 {
		return n % batch
	}
	return batch
}
