package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
	"github.com/mnist-tui/mnist-tui/mnist"
	"github.com/mnist-tui/mnist-tui/tui/headless"
)

// recordSource is the data set the recorder's tests train on: 300 test
// digits, parsed once (the embedded set's parse dominates a tiny run under
// the race detector).
var recordSource = sync.OnceValues(func() (*mnist.Set, error) {
	test, err := mnist.EmbeddedTest()
	if err != nil {
		return nil, err
	}
	return test.Limit(300), nil
})

// errDiskFull is what failingLines' writer fails with.
var errDiskFull = errors.New("disk full")

// failingLines is a metrics writer that fails on lines containing bad.
type failingLines struct {
	bytes.Buffer
	bad string
}

func (w *failingLines) Write(p []byte) (int, error) {
	if w.bad != "" && bytes.Contains(p, []byte(w.bad)) {
		return 0, errDiskFull
	}
	return w.Buffer.Write(p)
}

// pausedRun trains a run of two epochs on 128 of recordSource's digits
// with rec's trainers,
// paused from its start; it returns the list and the run's controls once
// the run's first training batch, let through with a step, is done.
func pausedRun(t *testing.T, rec *recorder) (*runs.List, runs.Access, runs.ID) {
	t.Helper()
	src, err := recordSource()
	if err != nil {
		t.Fatal(err)
	}
	list := runs.NewList(runs.WithSource("", src, src), runs.WithLive(engine.LiveEval{}), runs.WithTrainerFunc(func(p runs.Prepared, r engine.Reporter) (runs.Trainer, error) {
		tr, err := rec.trainerFunc(p, r)
		if err == nil {
			tr.Pause()
		}
		return tr, err
	}))
	t.Cleanup(list.Close)
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
	for !trainedOne(list) {
		if time.Now().After(deadline) {
			t.Fatal("the step never trained")
		}
		time.Sleep(time.Millisecond)
	}
	return list, a, id
}

// trainedOne reports whether the list's history holds the report of a
// training batch (the step's: its action may come before or after it).
func trainedOne(list *runs.List) bool {
	for _, e := range list.Hub().History() {
		if e.Kind == runs.KindReport && e.Report.Trained >= 1 {
			return true
		}
	}
	return false
}

// TestMetricsRecordChanges: the metrics printer, fed by each run's
// trainer (the recorder the TUI and headless runs print with), writes a
// line for each change of the learning rate and of the pace, where it
// took effect, between the phases' lines.
func TestMetricsRecordChanges(t *testing.T) {
	rec := &recorder{}
	var out, metrics bytes.Buffer
	rec.set(headless.New(&out, headless.WithMetrics(&metrics)))
	list, a, id := pausedRun(t, rec)
	if _, err := a.ScaleLR(id, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ShiftPace(id, false); err != nil { // full speed → 200
		t.Fatal(err)
	}
	if err := a.Resume(id); err != nil {
		t.Fatal(err)
	}
	if err := list.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := list.Err(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(metrics.String()), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d metrics lines, want the 4 phases and 2 changes:\n%s", len(lines), metrics.String())
	}
	if lines[1] != `{"event":"lr","epoch":2,"step":1,"lr":0.002,"previous":0.001}` {
		t.Errorf("the learning rate's line: %s", lines[1])
	}
	if lines[2] != `{"event":"pace","epoch":2,"step":1,"pace":200,"previous":0}` {
		t.Errorf("the pace's line: %s", lines[2])
	}
	if !strings.Contains(lines[0], `"phase":"val"`) || !strings.Contains(lines[3], `"phase":"train"`) {
		t.Errorf("the changes are not between epoch 1's validation and epoch 2's training:\n%s", metrics.String())
	}
}

// TestUnwritableChangeFailsTheRun: a change of the learning rate whose
// metrics line cannot be written fails the run with the write error, as a
// report's would, rather than training on unrecorded.
func TestUnwritableChangeFailsTheRun(t *testing.T) {
	rec := &recorder{}
	metrics := &failingLines{bad: `"event":"lr"`}
	rec.set(headless.New(&bytes.Buffer{}, headless.WithMetrics(metrics)))
	list, a, id := pausedRun(t, rec)
	if _, err := a.ScaleLR(id, 2); err != nil {
		t.Fatal(err)
	}
	if err := list.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, err := list.Run(id)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != runs.StateFailed || !errors.Is(st.Err, errDiskFull) || !errors.Is(list.Err(), errDiskFull) {
		t.Fatalf("after an unwritable change the run is %s (%v), the list's error %v", st.State, st.Err, list.Err())
	}
	if strings.Contains(metrics.String(), `"phase":"train"`) {
		t.Errorf("the run trained on after its change went unrecorded:\n%s", metrics.String())
	}
}
