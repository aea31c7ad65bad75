package tui

import (
	"context"
	"errors"
	"io"
	"math"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
	"github.com/mnist-tui/mnist-tui/mnist"
)

// testDigits is how many test digits the tests browse.
const testDigits = 300

// embedded loads the embedded test set once for all tests.
var embedded = sync.OnceValues(func() (*mnist.Set, error) {
	test, err := mnist.EmbeddedTest()
	if err != nil {
		return nil, err
	}
	return test.Limit(testDigits), nil
})

func testSet(tb testing.TB) *mnist.Set {
	tb.Helper()
	s, err := embedded()
	if err != nil {
		tb.Fatalf("mnist.EmbeddedTest: %v", err)
	}
	return s
}

// renderer returns a renderer with a fixed colour profile.
func renderer(p termenv.Profile) *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(p)
	return r
}

// testConfig is the notebook's recipe with a fixed seed.
func testConfig() engine.Config {
	c := engine.DefaultConfig()
	c.Seed = 7
	return c
}

// fakeSizes are the notebook's split sizes.
var fakeSizes = [3]int{40000, 20000, 10000}

// fakeRun generates the reports of a whole made-up run of the notebook's
// schedule (epoch 1 validates only, later epochs train then validate, then
// the test set), with a smooth loss curve and times derived from fixed
// throughputs: no clock, no training. preds is attached to the final report.
func fakeRun(cfg engine.Config, preds *engine.Predictions) []engine.Report {
	steps := func(n int) int { return (n + cfg.Batch - 1) / cfg.Batch }
	type phase struct {
		epoch int
		ph    engine.Phase
		total int
		rate  float64
	}
	var sched []phase
	for e := 1; e <= cfg.Epochs; e++ {
		if e > 1 {
			sched = append(sched, phase{e, engine.PhaseTrain, fakeSizes[0], 1600})
		}
		sched = append(sched, phase{e, engine.PhaseVal, fakeSizes[1], 4000})
	}
	sched = append(sched, phase{0, engine.PhaseTest, fakeSizes[2], 4000})
	runSteps := 0
	for _, p := range sched {
		runSteps += steps(p.total)
	}
	var out []engine.Report
	runStep, trained := 0, 0
	// quality is how far training got: loss falls from 2.3 towards 0.3.
	quality := func() float64 { return 1 - math.Exp(-float64(trained)/180) }
	for _, p := range sched {
		n := steps(p.total)
		var sumLoss, sumAcc float64
		for s := 1; s <= n; s++ {
			bs := min(cfg.Batch, p.total-(s-1)*cfg.Batch)
			if p.ph == engine.PhaseTrain {
				trained++
			}
			q := quality()
			wiggle := 0.15 * math.Sin(float64(runStep)*1.7) * (1 - 0.5*q)
			loss := 2.3 - 2.0*q + wiggle
			acc := math.Min(0.1+0.8*q+wiggle/4, 1)
			sumLoss += loss * float64(bs)
			sumAcc += acc * float64(bs)
			samples := min(s*cfg.Batch, p.total)
			runStep++
			out = append(out, engine.Report{
				Kind: engine.KindBatch, Phase: p.ph, Epoch: p.epoch, Epochs: cfg.Epochs,
				Step: s, Steps: n, Samples: samples, Total: p.total, RunStep: runStep, RunSteps: runSteps,
				Loss: sumLoss / float64(samples), Acc: sumAcc / float64(samples),
				BatchLoss: loss, BatchAcc: acc, SamplesPerSec: p.rate,
				Elapsed: time.Duration(float64(samples) / p.rate * float64(time.Second)),
			})
			if p.ph == engine.PhaseTrain && (s-1)%runs.GradNormsEvery == 0 {
				out[len(out)-1].GradNorms = fakeGradNorms(cfg, q)
			}
		}
		end := out[len(out)-1]
		end.Kind = engine.KindPhaseEnd
		out = append(out, end)
	}
	done := out[len(out)-1]
	done.Kind, done.Predictions = engine.KindDone, preds
	return append(out, done)
}

// fakeGradNorms are made-up gradient norms through time at training
// quality q: the plain RNN's fall by a factor e every row toward the
// first (every 2 rows as it learns), a gated cell's by a factor e over 20
// rows.
func fakeGradNorms(cfg engine.Config, q float64) []float32 {
	scale := 1 + q
	if cfg.Cell != engine.RNN {
		scale = 20
	}
	out := make([]float32, cfg.Steps)
	for t := range out {
		out[t] = float32(0.5 * (1 - 0.6*q) * math.Exp(-float64(cfg.Steps-1-t)/scale))
	}
	return out
}

// fakePreds makes predictions for s: every seventh digit from the fourth on
// is misclassified, the rest right, with confident made-up probabilities.
func fakePreds(s *mnist.Set) *engine.Predictions {
	n := s.Len()
	p := &engine.Predictions{Labels: make([]uint8, n), Pred: make([]uint8, n), Probs: make([][10]float32, n)}
	right := 0
	for i := range n {
		t := s.Labels[i]
		q := t
		if i%7 == 3 {
			q = uint8((int(t) + i%9 + 1) % 10)
		}
		p.Labels[i], p.Pred[i] = t, q
		conf := float32(0.55 + 0.4*float64(i%5)/4)
		for c := range 10 {
			p.Probs[i][c] = (1 - conf) / 9
		}
		p.Probs[i][q] = conf
		if q == t {
			right++
		}
	}
	p.Acc = float64(right) / float64(n)
	p.Loss = 0.42
	return p
}

// fakeLivePreds makes a live evaluation's predictions of the n-digit
// sample of s: every fourth digit misclassified, the rest right.
func fakeLivePreds(s *mnist.Set, n int) *engine.Predictions {
	idx := engine.LiveSample(s, n)
	p := &engine.Predictions{Labels: make([]uint8, n), Pred: make([]uint8, n), Probs: make([][10]float32, n), Index: idx}
	right := 0
	for k, i := range idx {
		t := s.Labels[i]
		q := t
		if k%4 == 1 {
			q = (t + 3) % 10
		}
		p.Labels[k], p.Pred[k] = t, q
		for c := range 10 {
			p.Probs[k][c] = 0.05
		}
		p.Probs[k][q] = 0.55
		if q == t {
			right++
		}
	}
	p.Acc, p.Loss = float64(right)/float64(n), 0.9
	p.At = engine.Position{Epoch: 3, Phase: engine.PhaseTrain, Trained: 874}
	return p
}

// upTo returns the reports up to and including the first with RunStep at
// least step.
func upTo(rs []engine.Report, step int) []engine.Report {
	for i, r := range rs {
		if r.RunStep >= step {
			return rs[:i+1]
		}
	}
	return rs
}

// testTrainer is a runs.Trainer for the TUI's key tests: it trains
// nothing (the tests feed made-up reports), records pauses, resumes and
// evaluations, and returns fixed predictions.
type testTrainer struct {
	mu              sync.Mutex
	paused          bool
	pauses, resumes int
	evals           int
	preds           *engine.Predictions
	err             error
	// steps counts Step calls, pace and lr are the last set.
	steps    int
	pace, lr float64
	// model is what Snapshot returns (nil: no weights); snapshots
	// counts the calls.
	model     *engine.Model
	snapshots int
}

func (c *testTrainer) Step() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.paused {
		return engine.ErrNotPaused
	}
	c.steps++
	return nil
}

func (c *testTrainer) SetPace(p float64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pace = p
	return nil
}

func (c *testTrainer) SetLR(lr float64) (engine.Position, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lr = lr
	return engine.Position{Epoch: 2, Phase: engine.PhaseTrain, Trained: 37}, nil
}

func (c *testTrainer) Position() engine.Position { return engine.Position{} }

// controls returns the steps taken, the pace and the learning rate set.
func (c *testTrainer) controls() (steps int, pace, lr float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.steps, c.pace, c.lr
}

func (c *testTrainer) Run(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }

func (c *testTrainer) Pause() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.paused = true
	c.pauses++
}

func (c *testTrainer) Resume() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.paused = false
	c.resumes++
}

func (c *testTrainer) Paused() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.paused
}

func (c *testTrainer) Evaluate(ctx context.Context) (*engine.Predictions, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evals++
	return c.preds, c.err
}

func (c *testTrainer) counts() (pauses, resumes, evals int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pauses, c.resumes, c.evals
}

func (c *testTrainer) Snapshot() *engine.Model {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.snapshots++
	return c.model
}
func (c *testTrainer) Checkpoint() *engine.Checkpoint { return nil }
func (c *testTrainer) Save(string) error              { return errors.New("a test trainer saves nothing") }

// testList is a list of one run (ID 1, the notebook's spec on the test
// digits) training with tr, and an Access to it with caps and reason;
// starts counts the trainers built (restarts build more). The list is
// closed when the test ends.
type testList struct {
	list   *runs.List
	access runs.Access
	mu     sync.Mutex
	starts int
}

func newTestList(t *testing.T, tr *testTrainer, caps runs.Caps, reason string) *testList {
	t.Helper()
	tl := &testList{}
	test := testSet(t)
	tl.list = runs.NewList(runs.WithSource("", test, test), runs.WithTrainerFunc(func(runs.Prepared, engine.Reporter) (runs.Trainer, error) {
		tl.mu.Lock()
		defer tl.mu.Unlock()
		tl.starts++
		return tr, nil
	}))
	t.Cleanup(tl.list.Close)
	owner := runs.Access{List: tl.list, Caps: runs.AllCaps()}
	spec := runs.DefaultSpec()
	spec.Seed = 7
	if _, err := owner.Add(spec); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the test run starts", func() bool {
		e, ok := tl.list.Hub().Last()
		return ok && e.Kind == runs.KindStart
	})
	tl.access = runs.Access{List: tl.list, Caps: caps, Reason: reason, Actor: runs.Actor{User: "test"}}
	return tl
}

// count returns how many trainers were built.
func (tl *testList) count() int {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return tl.starts
}

// waitUntil polls cond until it holds (a deadlock guard of 30 s).
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// fakeInfo describes a run of cfg on the notebook's split of MNIST, its
// test digits test, as the list's start event would.
func fakeInfo(cfg engine.Config, test *mnist.Set) *runs.Info {
	spec := runs.DefaultSpec()
	spec.Cell, spec.Hidden, spec.LR, spec.Batch, spec.Epochs, spec.Seed = cfg.Cell, cfg.Hidden, cfg.LR, cfg.Batch, cfg.Epochs, cfg.Seed
	return &runs.Info{ID: 1, Spec: spec, Config: cfg, Test: test, Data: runs.DataInfo{
		Name: "embedded MNIST", Source: 60000, SplitTrain: 40000, SplitVal: 20000,
		Train: fakeSizes[0], Val: fakeSizes[1], Test: fakeSizes[2],
	}}
}

// startEvents are the events that bring run 1 of info to its start, gen
// gen: added, queued, running, started.
func startEvents(info *runs.Info, gen int) []runs.Event {
	return []runs.Event{
		{Run: info.ID, Gen: gen, Kind: runs.KindAdded, Info: info},
		{Run: info.ID, Gen: gen, Kind: runs.KindState, State: runs.StateQueued},
		{Run: info.ID, Gen: gen, Kind: runs.KindState, State: runs.StateRunning},
		{Run: info.ID, Gen: gen, Kind: runs.KindStart, Info: info},
	}
}

// reportEvents wraps reports as run 1's events of attempt gen.
func reportEvents(rs []engine.Report, gen int) []runs.Event {
	out := make([]runs.Event, len(rs))
	for i, r := range rs {
		out[i] = runs.Event{Run: 1, Gen: gen, Kind: runs.KindReport, Report: r}
	}
	return out
}

// testModel is the notebook's model of cfg with its seeded initial
// weights at 2.5 times PyTorch's scale, so that its predictions change
// from row to row and digit to digit (no training: the same everywhere).
func testModel(tb testing.TB, cfg engine.Config) *engine.Model {
	tb.Helper()
	m, err := engine.NewModel(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	for _, s := range [][]float32{m.Params.Wih, m.Params.Whh, m.Params.Bih, m.Params.Bhh, m.Params.Wfc, m.Params.Bfc} {
		for i := range s {
			s[i] *= 2.5
		}
	}
	return m
}

// model builds a model on a live event stream (closed when the test
// ends), showing a started run of cfg with access a.
func model(t testing.TB, r *lipgloss.Renderer, cfg engine.Config, test *mnist.Set, a runs.Access) tea.Model {
	ch := make(chan runs.Event)
	t.Cleanup(func() { close(ch) })
	m := New(Options{Renderer: r, Access: a, Events: ch})
	mm, _ := m.Update(eventsMsg(startEvents(fakeInfo(cfg, test), 1)))
	return mm
}

// feed hands run 1's reports to a model directly, as the event Cmd would.
func feed(m tea.Model, rs []engine.Report) tea.Model {
	m, _ = m.Update(eventsMsg(reportEvents(rs, 1)))
	return m
}

// sized sends a window size.
func sized(m tea.Model, w, h int) tea.Model {
	m, _ = m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return m
}

// press sends keys, given as Bubble Tea key names or single runes.
func press(m tea.Model, keys ...string) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	for _, k := range keys {
		m, cmd = m.Update(keyMsg(k))
	}
	return m, cmd
}

func keyMsg(k string) tea.KeyMsg {
	switch k {
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "shift+tab":
		return tea.KeyMsg{Type: tea.KeyShiftTab}
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "left":
		return tea.KeyMsg{Type: tea.KeyLeft}
	case "right":
		return tea.KeyMsg{Type: tea.KeyRight}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "backspace":
		return tea.KeyMsg{Type: tea.KeyBackspace}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// evalEvent is run 1's report of an evaluation of p after trained
// training batches (all of p's digits; sampled when p.Index is set), of
// attempt gen.
func evalEvent(p *engine.Predictions, trained, gen int) runs.Event {
	total := p.Len()
	if p.Index != nil {
		total = testDigits
	}
	return runs.Event{Run: 1, Gen: gen, Kind: runs.KindReport, Report: engine.Report{Kind: engine.KindEval,
		Phase: engine.PhaseTrain, Epoch: 2, Epochs: 3, Trained: trained, Samples: p.Len(), Total: total,
		Loss: p.Loss, Acc: p.Acc, Predictions: p}}
}

// cellCounts is the confusion matrix of p, [true][predicted].
func cellCounts(p *engine.Predictions) [10][10]int {
	var counts [10][10]int
	for i := range p.Labels {
		counts[p.Labels[i]][p.Pred[i]]++
	}
	return counts
}

// confusedCell is the first off-diagonal cell with digits in it, row by
// row.
func confusedCell(counts [10][10]int) (truth, pred int) {
	for a := range 10 {
		for b := range 10 {
			if a != b && counts[a][b] > 0 {
				return a, b
			}
		}
	}
	return -1, -1
}
