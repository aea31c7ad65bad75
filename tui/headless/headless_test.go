package headless

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
)

// schedule is a made-up two-epoch run's reports: batches and phase ends.
func schedule() []engine.Report {
	var rs []engine.Report
	phase := func(epoch int, ph engine.Phase, loss, acc float64, el time.Duration) {
		for s := 1; s <= 3; s++ {
			rs = append(rs, engine.Report{Kind: engine.KindBatch, Phase: ph, Epoch: epoch, Epochs: 2, Step: s, Steps: 3, Loss: loss, Acc: acc})
		}
		rs = append(rs, engine.Report{Kind: engine.KindPhaseEnd, Phase: ph, Epoch: epoch, Epochs: 2, Step: 3, Steps: 3,
			Loss: loss, Acc: acc, Elapsed: el, SamplesPerSec: 1234.4})
	}
	phase(1, engine.PhaseVal, 2.31924, 0.13, time.Second)
	phase(2, engine.PhaseTrain, 0.93, 0.69, 13900*time.Millisecond)
	phase(2, engine.PhaseVal, 0.5, 0.84, time.Second)
	phase(0, engine.PhaseTest, 0.27525, 0.92125, 1030*time.Millisecond)
	return rs
}

// scheduleLines are the notebook's lines of schedule().
const scheduleLines = `Epoch 1/2
----------
val Loss: 2.3192 Acc: 0.1300

Epoch 2/2
----------
train Loss: 0.9300 Acc: 0.6900
val Loss: 0.5000 Acc: 0.8400

test Loss: 0.2752 Acc: 0.9213
`

func TestNotebookLinesAndMetrics(t *testing.T) {
	var out, metrics bytes.Buffer
	p := New(&out, WithMetrics(&metrics))
	for _, r := range schedule() {
		p.Report(r)
	}
	want := scheduleLines
	if out.String() != want {
		t.Errorf("printed:\n%s\nwant:\n%s", out.String(), want)
	}
	lines := strings.Split(strings.TrimSpace(metrics.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d metrics lines, want 4:\n%s", len(lines), metrics.String())
	}
	if lines[1] != `{"epoch":2,"phase":"train","loss":0.93,"acc":0.69,"seconds":13.9,"samples_per_s":1234}` {
		t.Errorf("train metrics line %s", lines[1])
	}
	if lines[3] != `{"phase":"test","loss":0.2752,"acc":0.9213,"seconds":1.03,"samples_per_s":1234}` {
		t.Errorf("test metrics line %s", lines[3])
	}
	for _, l := range lines {
		var m Metric
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Errorf("%s: %v", l, err)
		}
	}
}

// TestMetricsAgreeWithPrintedLines checks that a metrics line holds the
// very figures printed for its phase, ties included: every accuracy of a
// 20,000-digit validation set (18,255 right prints 0.9127, which rounding
// v*1e4 made 0.9128) and losses around the test's 0.27525.
func TestMetricsAgreeWithPrintedLines(t *testing.T) {
	check := func(loss, acc float64) {
		t.Helper()
		var out, metrics bytes.Buffer
		p := New(&out, WithMetrics(&metrics))
		p.Report(engine.Report{Kind: engine.KindPhaseEnd, Phase: engine.PhaseTest, Loss: loss, Acc: acc})
		var m Metric
		if err := json.Unmarshal(metrics.Bytes(), &m); err != nil {
			t.Fatalf("loss %v acc %v: %v", loss, acc, err)
		}
		if want := fmt.Sprintf("test Loss: %.4f Acc: %.4f\n", m.Loss, m.Acc); out.String() != want {
			t.Fatalf("loss %v acc %v: printed %q, metrics line %s", loss, acc, out.String(), metrics.String())
		}
	}
	for right := 0; right <= 20000; right++ {
		check(0.27525, float64(right)/20000)
	}
	for i := 0; i < 1000; i++ {
		check(0.27+float64(i)*1e-5, 0.5)
	}
}

func TestProgressIsThrottledAndCleared(t *testing.T) {
	var out, prog bytes.Buffer
	p := New(&out, WithProgress(&prog, time.Second))
	now := time.Unix(0, 0)
	p.now = func() time.Time { return now }
	rs := schedule()
	// The first batch draws; the second, at the same instant, does not; the
	// phase's last batch always draws.
	p.Report(rs[0])
	n := prog.Len()
	if n == 0 || !strings.Contains(prog.String(), "val") {
		t.Fatalf("first batch drew %q", prog.String())
	}
	p.Report(rs[1])
	if prog.Len() != n {
		t.Errorf("a batch within the interval redrew: %q", prog.String()[n:])
	}
	p.Report(rs[2])
	if prog.Len() == n || !strings.Contains(prog.String(), "3/3") {
		t.Errorf("the last batch did not draw: %q", prog.String())
	}
	p.Report(rs[3]) // phase end clears the line before the epoch lines
	if !strings.HasSuffix(prog.String(), "\r") {
		t.Errorf("progress not cleared at the phase end: %q", prog.String())
	}
	if strings.Contains(out.String(), "\r") {
		t.Errorf("progress leaked into the notebook lines: %q", out.String())
	}
}

// errWriter fails every write.
type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteErrorsAreKept(t *testing.T) {
	p := New(errWriter{})
	for _, r := range schedule() {
		p.Report(r)
	}
	if err := p.Err(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Err() = %v, want the write error", err)
	}
	m := New(&bytes.Buffer{}, WithMetrics(errWriter{}))
	for _, r := range schedule() {
		m.Report(r)
	}
	if err := m.Err(); err == nil || !strings.Contains(err.Error(), "metrics") {
		t.Errorf("Err() = %v, want the metrics write error", err)
	}
}

// TestNonFiniteMetricIsAnErrorNotALine: a phase whose loss cannot be
// encoded in JSON (NaN) leaves no line in the metrics file, not even an
// empty one, and is reported.
func TestNonFiniteMetricIsAnErrorNotALine(t *testing.T) {
	var out, metrics bytes.Buffer
	p := New(&out, WithMetrics(&metrics))
	rs := schedule()
	for i := range rs {
		if rs[i].Kind == engine.KindPhaseEnd && rs[i].Phase == engine.PhaseTrain {
			rs[i].Loss = math.NaN()
		}
		p.Report(rs[i])
	}
	if p.Err() == nil || !strings.Contains(p.Err().Error(), "epoch 2 train") {
		t.Fatalf("Err = %v, want an encoding error naming epoch 2 train", p.Err())
	}
	for _, l := range strings.Split(strings.TrimSuffix(metrics.String(), "\n"), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Errorf("invalid metrics line %q: %v", l, err)
		}
	}
	if n := strings.Count(metrics.String(), "\n"); n != 3 {
		t.Errorf("%d metrics lines, want the 3 finite phases", n)
	}
}

// events wraps schedule() as the events of the runs of specs, one after
// another.
func events(specs ...runs.Spec) []runs.Event {
	var evs []runs.Event
	for i, s := range specs {
		id := runs.ID(i + 1)
		evs = append(evs, runs.Event{Run: id, Gen: 1, Kind: runs.KindAdded, Info: &runs.Info{ID: id, Spec: s}})
	}
	for i, s := range specs {
		id := runs.ID(i + 1)
		evs = append(evs, runs.Event{Run: id, Gen: 1, Kind: runs.KindStart, Info: &runs.Info{ID: id, Spec: s}})
		for _, r := range schedule() {
			evs = append(evs, runs.Event{Run: id, Gen: 1, Kind: runs.KindReport, Report: r})
		}
		evs = append(evs, runs.Event{Run: id, Gen: 1, Kind: runs.KindState, State: runs.StateDone})
	}
	return evs
}

// TestOneRunThroughEventsIsUnchanged: a single run's events print exactly
// what its reports print, lines and metrics, byte for byte.
func TestOneRunThroughEventsIsUnchanged(t *testing.T) {
	var out1, m1, out2, m2 bytes.Buffer
	p := New(&out1, WithMetrics(&m1))
	for _, r := range schedule() {
		p.Report(r)
	}
	q := New(&out2, WithMetrics(&m2), WithRuns(runs.Labels([]runs.Spec{runs.DefaultSpec()})))
	for _, e := range events(runs.DefaultSpec()) {
		q.Event(e)
	}
	if out1.String() != out2.String() || m1.String() != m2.String() {
		t.Fatalf("one run through events printed\n%s%s\nwant\n%s%s", out2.String(), m2.String(), out1.String(), m1.String())
	}
}

// TestSeveralRuns: each run's lines come under a heading naming it by what
// differs; metrics lines carry the run's index, its first one the run's
// settings.
func TestSeveralRuns(t *testing.T) {
	a, b := runs.DefaultSpec(), runs.DefaultSpec()
	b.Cell = engine.LSTM
	var out, metrics bytes.Buffer
	p := New(&out, WithMetrics(&metrics), WithRuns(runs.Labels([]runs.Spec{a, b})))
	for _, e := range events(a, b) {
		p.Event(e)
	}
	one := scheduleLines
	want := "Run 1/2: RNN\n============\n\n" + one + "\nRun 2/2: LSTM\n=============\n\n" + one
	if out.String() != want {
		t.Errorf("printed:\n%s\nwant:\n%s", out.String(), want)
	}
	lines := strings.Split(strings.TrimSpace(metrics.String()), "\n")
	if len(lines) != 8 {
		t.Fatalf("%d metrics lines, want 8", len(lines))
	}
	if lines[0] != `{"run":1,"epoch":1,"phase":"val","loss":2.3192,"acc":0.13,"seconds":1,"samples_per_s":1234,"settings":{"cell":"rnn","hidden":128,"lr":0.001,"batch":64,"epochs":3,"seed":0,"limit":0,"data":"embedded MNIST"}}` {
		t.Errorf("first line of run 1: %s", lines[0])
	}
	if lines[1] != `{"run":1,"epoch":2,"phase":"train","loss":0.93,"acc":0.69,"seconds":13.9,"samples_per_s":1234}` {
		t.Errorf("second line of run 1: %s", lines[1])
	}
	if !strings.HasPrefix(lines[4], `{"run":2,"epoch":1,`) || !strings.Contains(lines[4], `"settings":{"cell":"lstm"`) || strings.Contains(lines[5], "settings") {
		t.Errorf("run 2's lines: %s / %s", lines[4], lines[5])
	}
}

// TestLRChangeInMetrics trains a real run paused from its start: one
// step, the rate doubled, then the rest; the metrics file records the
// change between the phases, with the batch it came after, and the
// notebook's lines are unchanged by it.
func TestLRChangeInMetrics(t *testing.T) {
	list := runs.NewList(runs.WithTrainerFunc(func(p runs.Prepared, r engine.Reporter) (runs.Trainer, error) {
		tr, err := runs.NewTrainer(p, r)
		if err == nil {
			tr.Pause()
		}
		return tr, err
	}))
	defer list.Close()
	var out, metrics bytes.Buffer
	p := New(&out, WithMetrics(&metrics))
	sub := list.Subscribe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range sub.Events() {
			p.Event(e)
		}
	}()
	a := runs.Access{List: list, Caps: runs.AllCaps(), Actor: runs.Actor{User: "local"}}
	s := runs.DefaultSpec()
	s.Limit, s.Epochs = 128, 2
	id, err := a.Add(s)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if err := a.Pause(id); err == nil {
			break
		} else if !errors.Is(err, runs.ErrNotRunning) || time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	if err := a.Step(id); err != nil {
		t.Fatal(err)
	}
	// The step's batch is reported before or after the step's action.
	trained := func() bool {
		for _, e := range list.Hub().History() {
			if e.Kind == runs.KindReport && e.Report.Trained >= 1 {
				return true
			}
		}
		return false
	}
	for !trained() {
		if time.Now().After(deadline) {
			t.Fatal("the step never trained")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := a.ScaleLR(id, 2); err != nil {
		t.Fatal(err)
	}
	if err := a.Resume(id); err != nil {
		t.Fatal(err)
	}
	if err := list.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	list.Close()
	<-done
	sub.Close()
	lines := strings.Split(strings.TrimSpace(metrics.String()), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d metrics lines, want the 4 phases and the change:\n%s", len(lines), metrics.String())
	}
	if lines[1] != `{"event":"lr","epoch":2,"step":1,"lr":0.002,"previous":0.001,"by":"local"}` {
		t.Errorf("the change's line: %s", lines[1])
	}
	if !strings.Contains(lines[2], `"phase":"train"`) || strings.Count(out.String(), "Loss:") != 4 {
		t.Errorf("metrics:\n%s\nprinted:\n%s", metrics.String(), out.String())
	}
}
