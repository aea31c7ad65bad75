package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/mnist-tui/mnist-tui/mnist"
)

// fullData parses and splits the embedded MNIST once per test binary (it
// takes seconds under the race detector); the sets are only read.
var fullData = sync.OnceValues(func() (Data, error) {
	train, test, err := mnist.Embedded()
	if err != nil {
		return Data{}, err
	}
	tr, val, err := mnist.Split(train, 40000, 0)
	if err != nil {
		return Data{}, err
	}
	return Data{Train: tr, Val: val, Test: test}, nil
})

// smallData returns the seeded split of the embedded MNIST, limited to n
// digits of each split.
func smallData(t testing.TB, n int) Data {
	t.Helper()
	d, err := fullData()
	if err != nil {
		t.Fatal(err)
	}
	return Data{Train: d.Train.Limit(n), Val: d.Val.Limit(n), Test: d.Test.Limit(n)}
}

// quickSize is n, or a few batches under the race detector.
func quickSize(n int) int {
	if raceEnabled {
		return min(n, 256)
	}
	return n
}

func TestTrainerLearns(t *testing.T) {
	if raceEnabled {
		t.Skip("learning is checked without -race; the concurrency tests below run under it")
	}
	c := DefaultConfig()
	var ends []Report
	var done *Predictions
	tr, err := NewTrainer(c, smallData(t, 4000), WithReporter(func(r Report) {
		switch r.Kind {
		case KindPhaseEnd:
			ends = append(ends, r)
			t.Logf("%s epoch %d loss %.4f acc %.4f %.0f/s", r.Phase, r.Epoch, r.Loss, r.Acc, r.SamplesPerSec)
		case KindDone:
			done = r.Predictions
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if done == nil || done.Len() != 4000 {
		t.Fatalf("no test predictions for 4000 digits: %+v", done)
	}
	if done.Acc < 0.6 {
		t.Errorf("test accuracy %.3f after two epochs on 4,000 digits, want >= 0.6 (chance is 0.1)", done.Acc)
	}
}

func TestTrainerCancelStopsWithinABatch(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	batches := 0
	tr, err := NewTrainer(DefaultConfig(), smallData(t, quickSize(2000)), WithReporter(func(r Report) {
		if r.Kind == KindBatch {
			batches++
			if r.Phase == PhaseTrain && r.Step == 3 {
				cancel()
			}
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	err = tr.Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after cancel = %v, want context.Canceled", err)
	}
	// The validation batches of epoch 1, then 3 training batches; cancelling
	// during the third must stop before a fourth.
	if want := ceilDiv(quickSize(2000), 64) + 3; batches != want {
		t.Errorf("ran %d batches after cancelling at batch %d, want exactly %d", batches, want, want)
	}
}

func TestTrainerNaNLossStopsWithEpochAndBatch(t *testing.T) {
	c := DefaultConfig()
	c.Epochs = 2
	var tr *Trainer
	// Poison the weights after epoch 1's validation, so that the first
	// training batch's loss is NaN.
	tr, err := NewTrainer(c, smallData(t, quickSize(2000)), WithEpochHook(func(int) error {
		tr.params.Whh[0] = float32(math.NaN())
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	err = tr.Run(context.Background())
	if !errors.Is(err, ErrNonFinite) {
		t.Fatalf("Run = %v, want ErrNonFinite", err)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("epoch 2 batch 1 of %d", ceilDiv(quickSize(2000), 64))) {
		t.Errorf("error %q does not name the epoch and batch", err)
	}
}

// TestTrainerNaNInEvaluationStops: a NaN loss in validation or test stops
// the run naming the phase, the epoch and the batch, as in training; so
// does the evaluation of a snapshot.
func TestTrainerNaNInEvaluationStops(t *testing.T) {
	n := quickSize(2000)
	for _, tc := range []struct {
		epochs int
		want   string
	}{
		{1, fmt.Sprintf("engine: epoch 1 val batch 1 of %d: loss is not finite", ceilDiv(n, 64))},
		{0, fmt.Sprintf("engine: test batch 1 of %d: loss is not finite", ceilDiv(n, 64))},
	} {
		c := DefaultConfig()
		c.Epochs = tc.epochs
		tr, err := NewTrainer(c, smallData(t, n))
		if err != nil {
			t.Fatal(err)
		}
		tr.params.Wfc[0] = float32(math.Inf(1))
		err = tr.Run(context.Background())
		if !errors.Is(err, ErrNonFinite) || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("epochs %d: Run = %v, want %q", tc.epochs, err, tc.want)
		}
		if _, err := tr.Evaluate(context.Background()); !errors.Is(err, ErrNonFinite) {
			t.Errorf("epochs %d: Evaluate = %v, want ErrNonFinite", tc.epochs, err)
		}
	}
}

// TestTrainerNonFiniteOptimizerStateStops: an infinite Adam moment is
// caught after the update, naming the epoch and the batch.
func TestTrainerNonFiniteOptimizerStateStops(t *testing.T) {
	c := DefaultConfig()
	c.Epochs = 2
	var tr *Trainer
	tr, err := NewTrainer(c, smallData(t, quickSize(2000)), WithEpochHook(func(int) error {
		tr.adam.V.Whh[3] = float32(math.Inf(1))
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	err = tr.Run(context.Background())
	if !errors.Is(err, ErrNonFiniteState) || !strings.Contains(err.Error(), "epoch 2 batch 1 of") || !strings.Contains(err.Error(), "second moments") {
		t.Fatalf("Run = %v, want ErrNonFiniteState naming epoch 2 batch 1 and the moments", err)
	}
}

// TestNonFinite: a NaN or an infinity anywhere in any of the sets (first,
// middle, last value of each tensor, past the kernels' block and vector
// widths) is found in the right set; the largest finite values are not
// taken for one.
func TestNonFinite(t *testing.T) {
	c := DefaultConfig()
	c.Cell = LSTM
	sets := func() []*Params { a := NewAdam(c); return []*Params{InitParams(c), a.M, a.V} }
	for _, big := range []float32{math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32} {
		ps := sets()
		for _, p := range ps {
			for _, s := range p.slices() {
				s[len(s)-1] = big
			}
		}
		if i := nonFinite(ps...); i != -1 {
			t.Errorf("%g everywhere: set %d taken as non-finite", big, i)
		}
	}
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		for set := range 3 {
			for k := range 6 {
				n := len(sets()[set].slices()[k])
				for _, at := range []int{0, n / 2, n - 1} {
					ps := sets()
					ps[set].slices()[k][at] = bad
					if i := nonFinite(ps...); i != set {
						t.Errorf("%v at tensor %d index %d of %d in set %d: nonFinite = %d", bad, k, at, n, set, i)
					}
				}
			}
		}
	}
}

func TestTrainerPauseHoldsTraining(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	seen := make(chan Report, 1000)
	tr, err := NewTrainer(DefaultConfig(), smallData(t, quickSize(1000)), WithReporter(func(r Report) {
		seen <- r
	}))
	if err != nil {
		t.Fatal(err)
	}
	tr.Pause()
	if !tr.Paused() {
		t.Fatal("Paused() = false after Pause")
	}
	done := make(chan error, 1)
	go func() { done <- tr.Run(ctx) }()
	// While paused, a snapshot can still be evaluated.
	pr, err := tr.Evaluate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pr.Len() != quickSize(1000) {
		t.Fatalf("Evaluate gave %d predictions, want %d", pr.Len(), quickSize(1000))
	}
	select {
	case r := <-seen:
		t.Fatalf("a paused run reported %+v", r)
	case err := <-done:
		t.Fatalf("a paused run ended: %v", err)
	default:
	}
	tr.Resume()
	if tr.Paused() {
		t.Fatal("Paused() = true after Resume")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var last Report
	for len(seen) > 0 {
		last = <-seen
	}
	if last.Kind != KindDone || last.RunStep != last.RunSteps {
		t.Errorf("last report %v step %d/%d, want KindDone with RunStep == RunSteps", last.Kind, last.RunStep, last.RunSteps)
	}
}

func TestTrainerSnapshotMatchesFinalPredictions(t *testing.T) {
	var final *Predictions
	tr, err := NewTrainer(DefaultConfig(), smallData(t, quickSize(1000)), WithReporter(func(r Report) {
		if r.Kind == KindDone {
			final = r.Predictions
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	again, err := tr.Evaluate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i := range final.Pred {
		if final.Pred[i] != again.Pred[i] || final.Probs[i] != again.Probs[i] {
			t.Fatalf("digit %d: snapshot predicts %d %v, the run %d %v", i, again.Pred[i], again.Probs[i], final.Pred[i], final.Probs[i])
		}
	}
	if final.Acc != again.Acc {
		t.Errorf("accuracy %v vs %v", again.Acc, final.Acc)
	}
}

// TestTrainerGradNorms samples the gradients through time every third
// training batch: those reports (and only those) carry one finite positive
// norm per step in a slice of their own, and the untrained plain RNN's
// gradient vanishes toward the first rows. The values themselves are held
// against the primitive-op oracle in TestCellFastPathMatchesOracle.
func TestTrainerGradNorms(t *testing.T) {
	c := DefaultConfig()
	c.Epochs = 2
	var batches []Report
	tr, err := NewTrainer(c, smallData(t, quickSize(640)), WithGradNorms(3), WithReporter(func(r Report) {
		if r.Kind == KindBatch && r.Phase == PhaseTrain {
			batches = append(batches, r)
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(batches) == 0 {
		t.Fatal("no training batch reports")
	}
	for k, r := range batches {
		if k%3 != 0 {
			if r.GradNorms != nil {
				t.Errorf("batch %d: GradNorms %v on an unsampled batch", k, r.GradNorms)
			}
			continue
		}
		if len(r.GradNorms) != c.Steps {
			t.Fatalf("batch %d: %d grad norms, want %d", k, len(r.GradNorms), c.Steps)
		}
		for s, v := range r.GradNorms {
			if !(v > 0) || math.IsInf(float64(v), 0) {
				t.Fatalf("batch %d step %d: grad norm %v", k, s, v)
			}
		}
		if k > 0 && &r.GradNorms[0] == &batches[0].GradNorms[0] {
			t.Fatal("two reports share one GradNorms slice")
		}
	}
	first := batches[0].GradNorms
	if !(first[0] < first[c.Steps-1]/10) {
		t.Errorf("untrained RNN: |dL/dh_1| = %g, |dL/dh_28| = %g; want the gradient to vanish toward the first row", first[0], first[c.Steps-1])
	}
	t.Logf("first batch: %v", first)
}
