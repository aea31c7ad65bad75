package runs

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/mnist-tui/mnist-tui/engine"
)

// pausedFromStart builds the default trainer already paused, so that a
// test controls every training batch from the first.
func pausedFromStart(p Prepared, report engine.Reporter) (Trainer, error) {
	tr, err := NewTrainer(p, report)
	if err == nil {
		tr.Pause()
	}
	return tr, err
}

// trainBatches counts the training batch reports of evs.
func trainBatches(evs []Event) int {
	n := 0
	for _, e := range evs {
		if e.Kind == KindReport && e.Report.Kind == engine.KindBatch && e.Report.Phase == engine.PhaseTrain {
			n++
		}
	}
	return n
}

// actions returns the actions of kind k in evs.
func actions(evs []Event, k ActionKind) []*Action {
	var out []*Action
	for _, e := range evs {
		if e.Kind == KindAction && e.Action.Kind == k {
			out = append(out, e.Action)
		}
	}
	return out
}

// evals counts the reports with predictions of evs.
func evals(evs []Event) int {
	n := 0
	for _, e := range evs {
		if e.Kind == KindReport && e.Report.Kind == engine.KindEval {
			n++
		}
	}
	return n
}

// TestStepPaceAndLR drives a real run paused from its start: each step
// trains exactly one batch, followed by a live evaluation for every
// viewer; the learning rate doubles with the batch it took effect after
// in the stream and in the checkpoint; the pace moves along the ladder;
// controls that cannot apply say why.
func TestStepPaceAndLR(t *testing.T) {
	l, a := testList(t, WithTrainerFunc(pausedFromStart))
	s := tiny(engine.RNN, 2)
	s.Limit, s.Pace = 640, 10
	id, err := a.Add(s)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the run starts", func() bool { st, _ := l.Run(id); return st.State == StateRunning && l.trainerForTest(id) != nil })
	if err := a.Step(id); !errors.Is(err, ErrNotPaused) {
		t.Fatalf("step of a run the list sees running: %v, want ErrNotPaused", err)
	}
	if err := a.Pause(id); err != nil {
		t.Fatal(err)
	}
	for step := 1; step <= 2; step++ {
		if err := a.Step(id); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the step's evaluation", func() bool { return evals(l.Hub().History()) == step })
		if n := trainBatches(l.Hub().History()); n != step {
			t.Fatalf("%d steps trained %d batches", step, n)
		}
	}
	lr, err := a.ScaleLR(id, 2)
	if err != nil || lr != 2*s.LR {
		t.Fatalf("ScaleLR(2) = %g, %v; want %g", lr, err, 2*s.LR)
	}
	pace, err := a.ShiftPace(id, true)
	if err != nil || pace != 50 {
		t.Fatalf("ShiftPace from 10 = %g, %v; want 50", pace, err)
	}
	if st, _ := l.Run(id); st.LR != lr || st.Pace != 50 {
		t.Fatalf("status says lr %g pace %g", st.LR, st.Pace)
	}
	h := l.Hub().History()
	steps, lrs, paces := actions(h, ActStep), actions(h, ActLR), actions(h, ActPace)
	if len(steps) != 2 || steps[0].At.Trained != 0 || steps[1].At.Trained != 1 {
		t.Fatalf("step actions: %+v", steps)
	}
	if len(lrs) != 1 || lrs[0].Value != lr || lrs[0].Prev != s.LR || lrs[0].At.Trained != 2 || lrs[0].At.Epoch != 2 || lrs[0].Actor.User != "test" {
		t.Fatalf("lr actions: %+v", lrs)
	}
	if len(paces) != 1 || paces[0].Value != 50 || paces[0].Prev != 10 || paces[0].Detail != "pace 50 batches/s" {
		t.Fatalf("pace actions: %+v", paces)
	}
	path := filepath.Join(t.TempDir(), "lr.safetensors")
	if _, err := a.Save(id, path); err != nil {
		t.Fatal(err)
	}
	ck, err := engine.LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if ck.Config.LR != lr || ck.Adam.LR != lr {
		t.Fatalf("checkpoint saved lr %g (Adam %g), want %g", ck.Config.LR, ck.Adam.LR, lr)
	}
	// Bad values keep the setting.
	var fe *FieldError
	if _, err := a.ScaleLR(id, 1e5); !errors.As(err, &fe) || fe.Field != "lr" {
		t.Errorf("lr beyond 10: %v", err)
	}
	if err := a.SetPace(id, 5000); !errors.As(err, &fe) || fe.Field != "pace" {
		t.Errorf("pace 5000: %v", err)
	}
	if err := a.SetPace(id, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ShiftPace(id, true); !errors.Is(err, ErrPaceLimit) {
		t.Errorf("faster than full speed: %v", err)
	}
	if st, _ := l.Run(id); st.LR != lr || st.Pace != 0 {
		t.Fatalf("after refusals: lr %g pace %g", st.LR, st.Pace)
	}
	if err := a.Resume(id); err != nil {
		t.Fatal(err)
	}
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := a.Step(id); !errors.Is(err, ErrNotRunning) {
		t.Errorf("step of a finished run: %v", err)
	}
	if _, err := a.ScaleLR(id, 2); !errors.Is(err, ErrNotRunning) {
		t.Errorf("lr of a finished run: %v", err)
	}
	// Only the newest predictions stay in the history: the final ones.
	withPreds := 0
	for _, e := range l.Hub().History() {
		if e.Report.Predictions != nil {
			withPreds++
			if e.Report.Kind != engine.KindDone {
				t.Errorf("predictions kept on a %v report", e.Report.Kind)
			}
		}
	}
	if withPreds != 1 {
		t.Errorf("%d reports in the history hold predictions, want 1", withPreds)
	}
}

// TestEvaluatePublishes: an evaluation asked for reaches every viewer as
// a report, labelled with where the weights were.
func TestEvaluatePublishes(t *testing.T) {
	l, a := testList(t, WithTrainerFunc(pausedFromStart))
	id, err := a.Add(tiny(engine.RNN, 3))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the run starts", func() bool { return l.trainerForTest(id) != nil })
	if err := a.Pause(id); err != nil {
		t.Fatal(err)
	}
	if err := a.Step(id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the step's evaluation", func() bool { return evals(l.Hub().History()) == 1 })
	p, err := (Access{List: l}).Evaluate(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := l.Hub().Last()
	if e.Kind != KindReport || e.Report.Kind != engine.KindEval || e.Report.Predictions != p || e.Run != id {
		t.Fatalf("last event %+v, want the evaluation's report", e)
	}
	if r := e.Report; r.Trained != 1 || p.At.Trained != 1 || r.Epoch != 2 || r.Samples != 64 || r.Acc != p.Acc {
		t.Fatalf("evaluation report %+v at %+v", r, p.At)
	}
	if p.Index != nil {
		t.Error("an evaluation asked for covers a sample")
	}
	seq := l.Hub().Seq()
	if q, err := a.Evaluate(context.Background(), id); err != nil || q != p || l.Hub().Seq() != seq {
		t.Errorf("a second evaluation of the same weights ran or was published again (%v)", err)
	}
}

// TestNewControlsNeedPause: pace, step and lr are refused without the
// Pause capability, with the reason.
func TestNewControlsNeedPause(t *testing.T) {
	l, owner := testList(t, Held())
	id, err := owner.Add(tiny(engine.RNN, 2))
	if err != nil {
		t.Fatal(err)
	}
	viewer := Access{List: l, Caps: Caps{Save: true, StartRuns: true}, Reason: "only the teacher may"}
	for _, f := range []func() error{
		func() error { return viewer.SetPace(id, 2) },
		func() error { _, err := viewer.ShiftPace(id, false); return err },
		func() error { return viewer.Step(id) },
		func() error { return viewer.SetLR(id, 0.01) },
		func() error { _, err := viewer.ScaleLR(id, 2); return err },
	} {
		var de *DeniedError
		if err := f(); !errors.As(err, &de) || err.Error() != "only the teacher may" {
			t.Errorf("viewer's control: %v", err)
		}
	}
	for _, k := range []ActionKind{ActPace, ActStep, ActLR} {
		if viewer.Allowed(k) || !owner.Allowed(k) {
			t.Errorf("Allowed(%v) disagrees with the capabilities", k)
		}
	}
	if _, err := owner.ShiftPace(id, true); !errors.Is(err, ErrNotRunning) {
		t.Errorf("pace of a queued run: %v, want ErrNotRunning", err)
	}
}

func TestShiftPace(t *testing.T) {
	for _, c := range []struct {
		from   float64
		faster bool
		want   float64
		err    bool
	}{
		{0, false, 200, false}, {200, false, 50, false}, {0.5, true, 2, false}, {200, true, 0, false},
		{5, true, 10, false}, {5, false, 2, false}, {0, true, 0, true}, {0.5, false, 0, true},
	} {
		got, err := ShiftPace(c.from, c.faster)
		if got != c.want && !c.err || (err != nil) != c.err {
			t.Errorf("ShiftPace(%g, faster %t) = %g, %v", c.from, c.faster, got, err)
		}
	}
	for p, want := range map[float64]string{0: "full speed", 1: "1 batch/s", 0.5: "0.5 batches/s", 200: "200 batches/s"} {
		if got := FormatPace(p); got != want {
			t.Errorf("FormatPace(%g) = %q, want %q", p, got, want)
		}
	}
}

// TestHubKeepsNewestPredictions: each run's newest report with
// predictions keeps them; older ones keep their numbers only.
func TestHubKeepsNewestPredictions(t *testing.T) {
	h := NewHub()
	eval := func(run ID, acc float64) Event {
		return Event{Run: run, Gen: 1, Kind: KindReport, Report: engine.Report{Kind: engine.KindEval, Acc: acc,
			Predictions: &engine.Predictions{Acc: acc, Labels: make([]uint8, 10)}}}
	}
	for i := 0; i < 50; i++ {
		h.publish(eval(1, float64(i)))
		h.publish(batch(2, i))
		h.publish(eval(2, float64(i)))
	}
	kept := map[ID]int{}
	points := map[ID]int{}
	for _, e := range h.History() {
		if e.Report.Kind != engine.KindEval {
			continue
		}
		points[e.Run]++
		if p := e.Report.Predictions; p != nil {
			kept[e.Run]++
			if p.Acc != 49 {
				t.Errorf("run %d keeps the predictions of accuracy %g, not the newest", e.Run, p.Acc)
			}
		}
	}
	if kept[1] != 1 || kept[2] != 1 || points[1] != 50 || points[2] != 50 {
		t.Errorf("kept predictions %v, accuracy points %v; want one each and 50 each", kept, points)
	}
	h.dropRun(1, 2)
	h.publish(eval(1, 99))
	h.publish(Event{Run: 1, Gen: 2, Kind: KindReport, Report: engine.Report{Kind: engine.KindEval, Predictions: &engine.Predictions{Acc: 7}}})
	n := 0
	for _, e := range h.History() {
		if e.Run == 1 && e.Report.Predictions != nil {
			n++
		}
	}
	if n != 1 {
		t.Errorf("after a restart run 1 keeps %d predictions, want 1", n)
	}
	h.close()
}

// trainerForTest returns run id's trainer under the lock.
func (l *List) trainerForTest(id ID) Trainer {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, err := l.findLocked(id)
	if err != nil {
		return nil
	}
	return r.trainer
}
