package engine

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"testing"
	"time"
)

// waitLimit bounds every wait of these tests: a deadlock guard, not a
// speed requirement.
const waitLimit = 60 * time.Second

// recorder collects a trainer's reports and lets a test wait for one.
type recorder struct {
	mu      sync.Mutex
	reports []Report
	changed chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) add(rep Report) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reports = append(r.reports, rep)
	close(r.changed)
	r.changed = make(chan struct{})
}

// waitFor waits until cond holds for the reports so far.
func (r *recorder) waitFor(t *testing.T, what string, cond func([]Report) bool) []Report {
	t.Helper()
	deadline := time.After(waitLimit)
	for {
		r.mu.Lock()
		rs, ch := slices.Clone(r.reports), r.changed
		r.mu.Unlock()
		if cond(rs) {
			return rs
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("timed out waiting until %s (%d reports)", what, len(rs))
		}
	}
}

func (r *recorder) all() []Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reports)
}

// count counts the reports of kind k (and phase ph unless empty).
func count(rs []Report, k Kind, ph Phase) int {
	n := 0
	for _, r := range rs {
		if r.Kind == k && (ph == "" || r.Phase == ph) {
			n++
		}
	}
	return n
}

// TestPaceSpacesTrainingBatches trains 10 batches at 10 batches a second:
// the 10th starts at least 0.9 s after the first, and the training
// phase's time (pace included) says so; validation is not paced.
func TestPaceSpacesTrainingBatches(t *testing.T) {
	c := DefaultConfig()
	c.Epochs = 2
	rec := newRecorder()
	tr, err := NewTrainer(c, smallData(t, 640), WithPace(10), WithReporter(rec.add))
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	rs := rec.all()
	if n := count(rs, KindBatch, PhaseTrain); n != 10 {
		t.Fatalf("%d training batches, want 10", n)
	}
	for _, r := range rs {
		if r.Kind == KindPhaseEnd && r.Phase == PhaseTrain && r.Elapsed < 900*time.Millisecond {
			t.Errorf("10 training batches at pace 10 took %v, want at least 0.9 s", r.Elapsed)
		}
	}
}

func TestPaceIsChecked(t *testing.T) {
	for _, p := range []float64{-1, 0.01, 5000, math.NaN()} {
		if _, err := NewTrainer(DefaultConfig(), smallData(t, 64), WithPace(p)); !errors.Is(err, ErrConfig) {
			t.Errorf("pace %v: NewTrainer = %v, want ErrConfig", p, err)
		}
		tr, err := NewTrainer(DefaultConfig(), smallData(t, 64))
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.SetPace(p); !errors.Is(err, ErrConfig) {
			t.Errorf("SetPace(%v) = %v, want ErrConfig", p, err)
		}
	}
}

// TestStepTrainsOneBatch pauses a run before it starts: a step lets the
// first epoch's validation run through and then exactly one training
// batch, followed by a live evaluation of that batch's weights; a second
// step one more; Resume lets the rest go.
func TestStepTrainsOneBatch(t *testing.T) {
	c := DefaultConfig()
	c.Epochs = 2
	rec := newRecorder()
	tr, err := NewTrainer(c, smallData(t, quickSize(640)), WithReporter(rec.add), WithLiveEval(LiveEval{Sample: 100, Budget: 0.1}))
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Step(); !errors.Is(err, ErrNotPaused) {
		t.Fatalf("Step on a running trainer = %v, want ErrNotPaused", err)
	}
	tr.Pause()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- tr.Run(ctx) }()
	for step := 1; step <= 2; step++ {
		if err := tr.Step(); err != nil {
			t.Fatal(err)
		}
		rs := rec.waitFor(t, "the step's evaluation", func(rs []Report) bool { return count(rs, KindEval, "") == step })
		if n := count(rs, KindBatch, PhaseTrain); n != step {
			t.Fatalf("after %d steps %d training batches ran", step, n)
		}
		last := rs[len(rs)-1]
		if last.Kind != KindEval || last.Trained != step || last.Predictions.At.Trained != step {
			t.Fatalf("step %d ends with %+v, want the evaluation of %d trained batches", step, last, step)
		}
		if p := tr.Position(); p.Trained != step || p.Epoch != 2 || p.Phase != PhaseTrain {
			t.Fatalf("position after step %d: %+v", step, p)
		}
	}
	// Nothing else runs while paused: a third batch would take a few
	// milliseconds (this can only miss a failure, never make one up).
	time.Sleep(200 * time.Millisecond)
	if n := count(rec.all(), KindBatch, PhaseTrain); n != 2 {
		t.Fatalf("%d training batches while paused after two steps", n)
	}
	tr.Resume()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := count(rec.all(), KindBatch, PhaseTrain); n != ceilDiv(quickSize(640), 64) {
		t.Fatalf("%d training batches in all", n)
	}
}

// TestSetLRScalesTheUpdate trains one batch on two identical trainers,
// one of them with its rate set ten times higher while paused: Adam's
// first step moves every weight by about the rate, so the weights move
// about ten times as far; the checkpoint records the new rate.
func TestSetLRScalesTheUpdate(t *testing.T) {
	c := DefaultConfig()
	c.Epochs = 2
	d := smallData(t, 128)
	moved := func(lr float64) float64 {
		tr, err := NewTrainer(c, d)
		if err != nil {
			t.Fatal(err)
		}
		before := tr.Snapshot().Params
		tr.Pause()
		if lr != c.LR {
			pos, err := tr.SetLR(lr)
			if err != nil || pos.Trained != 0 {
				t.Fatalf("SetLR = %+v, %v", pos, err)
			}
			if ck := tr.Checkpoint(); ck.Config.LR != lr || ck.Adam.LR != lr {
				t.Fatalf("checkpoint lr %g, Adam's %g; want %g", ck.Config.LR, ck.Adam.LR, lr)
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- tr.Run(ctx) }()
		if err := tr.Step(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(waitLimit)
		for tr.Position().Trained < 1 {
			if time.Now().After(deadline) {
				t.Fatal("the step never trained")
			}
			time.Sleep(time.Millisecond)
		}
		after := tr.Snapshot().Params
		cancel()
		<-done
		var sum float64
		n := 0
		for i, w := range after.slices() {
			for j := range w {
				sum += math.Abs(float64(w[j] - before.slices()[i][j]))
				n++
			}
		}
		return sum / float64(n)
	}
	base, fast := moved(c.LR), moved(10*c.LR)
	if r := fast / base; r < 8 || r > 12 {
		t.Errorf("mean weight change %.3g at lr %g and %.3g at %g: ratio %.2f, want about 10", base, c.LR, fast, 10*c.LR, r)
	}
	tr, err := NewTrainer(c, d)
	if err != nil {
		t.Fatal(err)
	}
	for _, lr := range []float64{0, -1, 11, math.NaN()} {
		if _, err := tr.SetLR(lr); !errors.Is(err, ErrConfig) {
			t.Errorf("SetLR(%v) = %v, want ErrConfig", lr, err)
		}
	}
}

func TestBalancedOrder(t *testing.T) {
	d, err := fullData()
	if err != nil {
		t.Fatal(err)
	}
	labels := d.Test.Labels
	order := BalancedOrder(labels, LiveSeed)
	if len(order) != len(labels) {
		t.Fatalf("%d indexes for %d labels", len(order), len(labels))
	}
	seen := make([]bool, len(labels))
	for _, i := range order {
		if seen[i] {
			t.Fatalf("index %d twice", i)
		}
		seen[i] = true
	}
	// The first 2,000: 200 of each class (every class has more).
	var per [10]int
	for _, i := range order[:2000] {
		per[labels[i]]++
	}
	for c, n := range per {
		if n != 200 {
			t.Errorf("class %d: %d of the first 2,000, want 200", c, n)
		}
	}
	if !slices.Equal(order, BalancedOrder(labels, LiveSeed)) {
		t.Error("the order is not reproducible")
	}
	if slices.Equal(order[:50], BalancedOrder(labels, 1)[:50]) {
		t.Error("another seed gives the same order")
	}
	// A class that runs out leaves the rounds to the others.
	small := []uint8{0, 1, 1, 1, 1}
	o := BalancedOrder(small, 3)
	if len(o) != 5 || small[o[0]] != 0 || small[o[1]] != 1 {
		t.Errorf("order of %v: %v", small, o)
	}
	s := LiveSample(d.Test, 2000)
	if len(s) != 2000 || !slices.IsSorted(s) {
		t.Fatalf("live sample: %d indexes, sorted %t", len(s), slices.IsSorted(s))
	}
	if LiveSample(d.Test.Limit(1500), 2000) != nil {
		t.Error("a test set smaller than the sample is not evaluated whole")
	}
}

// TestLiveEvaluation trains with the live evaluation on: its reports carry
// predictions of the class-balanced sample (indexes ascending, labelled
// with the weights' position), and by the bucket's own accounting they
// took at most the budget of the training time, give or take the last
// evaluation's overdraft.
func TestLiveEvaluation(t *testing.T) {
	c := DefaultConfig()
	c.Epochs = 2
	d, sample := smallData(t, 3200), 500
	if raceEnabled {
		d, sample = smallData(t, 640), 32
	}
	rec := newRecorder()
	tr, err := NewTrainer(c, d, WithReporter(rec.add), WithLiveEval(LiveEval{Sample: sample, Budget: 0.1}))
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	var evals []Report
	var train time.Duration
	trained := 0
	for _, r := range rec.all() {
		switch {
		case r.Kind == KindBatch && r.Phase == PhaseTrain:
			trained++
			if r.Trained != trained {
				t.Fatalf("batch report says %d trained, want %d", r.Trained, trained)
			}
		case r.Kind == KindEval:
			evals = append(evals, r)
			p := r.Predictions
			if p == nil || p.Len() != sample || len(p.Index) != sample || !slices.IsSorted(p.Index) {
				t.Fatalf("evaluation report without the sample's predictions: %+v", r)
			}
			if r.Trained != trained || p.At.Trained != trained || p.At.Epoch != 2 || r.Total != d.Test.Len() || r.Samples != sample {
				t.Fatalf("evaluation after %d batches labelled %+v, at %+v", trained, r, p.At)
			}
			for k, i := range p.Index {
				if p.Labels[k] != d.Test.Labels[i] {
					t.Fatalf("entry %d is not test digit %d", k, i)
				}
			}
		case r.Kind == KindPhaseEnd && r.Phase == PhaseTrain:
			train += r.Elapsed
		}
	}
	if len(evals) == 0 {
		t.Fatal("no live evaluation")
	}
	var spent, most time.Duration
	for _, r := range evals {
		spent += r.Elapsed
		most = max(most, r.Elapsed)
	}
	if limit := time.Duration(0.1*float64(train-spent)) + most; spent > limit {
		t.Errorf("%d evaluations took %v of %v of training, more than the budget allows (%v)", len(evals), spent, train-spent, limit)
	}
	t.Logf("%d evaluations of %d digits in %d batches: %v of %v (%.1f%%)", len(evals), sample, trained, spent, train-spent, 100*spent.Seconds()/(train-spent).Seconds())
}

// BenchmarkLiveEval measures what the live evaluation costs training at
// full speed: each iteration trains one epoch of 10,000 digits three
// times, without it, with it (the default sample of 2,000 of the 10,000
// test digits and the default budget), and without it again, and
// reports (medians over iterations): share-% the extra training time with
// it (against the mean of the two runs without), cpu-share-% the same in
// the process's CPU time, eval-% the evaluations' own time against the
// training's, noise-% how much the two runs without it differ, and how
// many evaluations ran per epoch.
func BenchmarkLiveEval(b *testing.B) {
	full, err := fullData()
	if err != nil {
		b.Fatal(err)
	}
	c := DefaultConfig()
	c.Epochs = 2
	d := Data{Train: full.Train.Limit(10000), Val: full.Val.Limit(64), Test: full.Test}
	trainTime := func(live bool) (train, evals time.Duration, cpu int64, n int) {
		var cpu0 int64
		opts := []Option{WithReporter(func(r Report) {
			switch {
			case r.Kind == KindBatch && r.Phase == PhaseTrain && r.Step == 1:
				cpu0 = processCPU()
			case r.Kind == KindPhaseEnd && r.Phase == PhaseTrain:
				train, cpu = r.Elapsed, processCPU()-cpu0
			case r.Kind == KindEval:
				evals += r.Elapsed
				n++
			}
		})}
		if live {
			opts = append(opts, WithLiveEval(LiveEval{Sample: DefaultLiveSample, Budget: DefaultLiveBudget}))
		}
		tr, err := NewTrainer(c, d, opts...)
		if err != nil {
			b.Fatal(err)
		}
		if err := tr.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
		return train, evals, cpu, n
	}
	median := func(v []float64) float64 {
		slices.Sort(v)
		return v[len(v)/2]
	}
	var shares, cpuShares, own, noise []float64
	var count int
	for i := 0; i < b.N; i++ {
		off1, _, cpu1, _ := trainTime(false)
		on, ev, cpuOn, n := trainTime(true)
		off2, _, cpu2, _ := trainTime(false)
		off := (off1.Seconds() + off2.Seconds()) / 2
		shares = append(shares, 100*(on.Seconds()-off)/off)
		if cpu1 > 0 {
			cpuOff := float64(cpu1+cpu2) / 2
			cpuShares = append(cpuShares, 100*(float64(cpuOn)-cpuOff)/cpuOff)
		}
		own = append(own, 100*ev.Seconds()/(on-ev).Seconds())
		noise = append(noise, 100*math.Abs(off2.Seconds()-off1.Seconds())/off)
		count += n
	}
	b.ReportMetric(median(shares), "share-%")
	if len(cpuShares) > 0 {
		b.ReportMetric(median(cpuShares), "cpu-share-%")
	}
	b.ReportMetric(median(own), "eval-%")
	b.ReportMetric(median(noise), "noise-%")
	b.ReportMetric(float64(count)/float64(b.N), "evals/epoch")
}

// TestLiveEvaluationKeepsGradNorms trains the same run twice with the
// gradient norms sampled every third batch, without and with live
// evaluations (after almost every batch): the evaluations change nothing
// of training (every batch's loss and sampled norms are the same, bit for
// bit), the norms stay on the batch reports of the same batches, and the
// evaluations' reports carry none.
func TestLiveEvaluationKeepsGradNorms(t *testing.T) {
	c := DefaultConfig()
	c.Epochs = 2
	d := smallData(t, quickSize(640))
	train := func(live bool) (batches, evals []Report) {
		opts := []Option{WithGradNorms(3), WithReporter(func(r Report) {
			switch {
			case r.Kind == KindBatch && r.Phase == PhaseTrain:
				batches = append(batches, r)
			case r.Kind == KindEval:
				evals = append(evals, r)
			}
		})}
		if live {
			opts = append(opts, WithLiveEval(LiveEval{Sample: 32, Budget: 1}))
		}
		tr, err := NewTrainer(c, d, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		return batches, evals
	}
	plain, none := train(false)
	withLive, evals := train(true)
	if len(none) != 0 || len(evals) == 0 {
		t.Fatalf("%d evaluations without the live evaluation, %d with it", len(none), len(evals))
	}
	if len(plain) != len(withLive) {
		t.Fatalf("%d training batches without the live evaluation, %d with it", len(plain), len(withLive))
	}
	for k := range plain {
		a, b := plain[k], withLive[k]
		if a.BatchLoss != b.BatchLoss || !slices.Equal(a.GradNorms, b.GradNorms) {
			t.Fatalf("batch %d: loss %v, norms %v without the live evaluation; %v, %v with it", k, a.BatchLoss, a.GradNorms, b.BatchLoss, b.GradNorms)
		}
		if (k%3 == 0) != (b.GradNorms != nil) {
			t.Errorf("batch %d: norms %v", k, b.GradNorms)
		}
	}
	for _, r := range evals {
		if r.GradNorms != nil {
			t.Fatalf("an evaluation's report carries gradient norms: %+v", r)
		}
	}
}
