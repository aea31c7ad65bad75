package runs

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mnist-tui/mnist-tui/engine"
)

// waitLimit bounds every wait of these tests: a deadlock guard, not a
// speed requirement.
const waitLimit = 60 * time.Second

// shared parses the embedded MNIST once for every list of the tests.
var shared = &sources{}

// testList is a list sharing the parsed data, closed when the test ends.
func testList(t *testing.T, opts ...Option) (*List, Access) {
	t.Helper()
	l := NewList(opts...)
	l.data = shared
	t.Cleanup(l.Close)
	return l, Access{List: l, Caps: AllCaps(), Actor: Actor{User: "test"}}
}

// tiny is a spec of real training on 64 digits of each split.
func tiny(cell engine.Cell, epochs int) Spec {
	s := DefaultSpec()
	s.Cell, s.Limit, s.Epochs = cell, 64, epochs
	return s
}

// drain reads s until the list closes.
func drain(s *Subscription) []Event {
	var out []Event
	for e := range s.Events() {
		out = append(out, e)
	}
	return out
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestQueueOneAfterAnother queues two real runs: the second starts only
// once the first has ended, both finish, every report names its run, each
// run's explicit start comes before its reports and describes it, and the
// states and the queue are in the stream and in Runs.
func TestQueueOneAfterAnother(t *testing.T) {
	l, a := testList(t, Held())
	sub := l.Subscribe()
	defer sub.Close()
	id1, err := a.Add(tiny(engine.RNN, 2))
	if err != nil {
		t.Fatal(err)
	}
	id2, err := a.Add(tiny(engine.GRU, 2))
	if err != nil {
		t.Fatal(err)
	}
	if id1 != 1 || id2 != 2 {
		t.Fatalf("IDs %d, %d; want 1, 2", id1, id2)
	}
	if q := l.Queue(); fmt.Sprint(q) != "[1 2]" {
		t.Fatalf("queue before Release: %v", q)
	}
	l.Release()
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, st := range l.Runs() {
		if st.State != StateDone || st.Gen != 1 {
			t.Errorf("run %d: %v gen %d, want done gen 1", st.ID, st.State, st.Gen)
		}
	}
	l.Close()
	evs := drain(sub)
	var order []string
	started := map[ID]bool{}
	lastReport := map[ID]int{}
	for i, e := range evs {
		switch e.Kind {
		case KindState:
			order = append(order, fmt.Sprintf("%d:%v", e.Run, e.State))
		case KindStart:
			started[e.Run] = true
			if e.Info == nil || e.Info.ID != e.Run || e.Info.Data.Train != 64 || e.Info.Data.Source != 60000 ||
				e.Info.Data.SplitTrain != 40000 || e.Info.Data.Name != "embedded MNIST" || e.Info.Test.Len() != 64 {
				t.Fatalf("start of run %d describes %+v", e.Run, e.Info)
			}
			if e.Run == 2 && lastReport[1] == 0 {
				t.Fatal("run 2 started before run 1 reported")
			}
		case KindReport:
			if e.Run != 1 && e.Run != 2 || e.Gen != 1 {
				t.Fatalf("report %d names run %d gen %d", i, e.Run, e.Gen)
			}
			if !started[e.Run] {
				t.Fatalf("report of run %d before its start", e.Run)
			}
			if e.Run == 1 && started[2] {
				t.Fatal("run 1 reported after run 2 started: they overlapped")
			}
			lastReport[e.Run] = i
		}
	}
	want := "[1:queued 2:queued 1:running 1:done 2:running 2:done]"
	if fmt.Sprint(order) != want {
		t.Errorf("states %v, want %s", order, want)
	}
	if lastReport[1] == 0 || lastReport[2] == 0 {
		t.Error("a run reported nothing")
	}
}

// TestRestartFromSpec restarts a training run: it keeps its ID, its next
// attempt (Gen 2) begins with a new start and counts its batches from
// one, the old attempt's events but its addition and the actions taken on
// it are gone from the history, and a finished run restarts too.
func TestRestartFromSpec(t *testing.T) {
	l, a := testList(t)
	id, err := a.Add(tiny(engine.RNN, 1000))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the run reports", func() bool { e, _ := l.Hub().Last(); return e.Kind == KindReport && e.Report.RunStep > 3 })
	if err := a.Restart(id); err != nil {
		t.Fatal(err)
	}
	st, _ := l.Run(id)
	if st.Gen != 2 || !st.State.Active() {
		t.Fatalf("after restart: %+v", st)
	}
	waitFor(t, "the new attempt reports", func() bool { e, _ := l.Hub().Last(); return e.Kind == KindReport && e.Gen == 2 })
	first := true
	for _, e := range l.Hub().History() {
		if e.Run == id && e.Gen < 2 && e.Kind != KindAdded && e.Kind != KindAction {
			t.Fatalf("the old attempt's %v is still in the history", e.Kind)
		}
		if e.Kind == KindReport && first {
			first = false
			if e.Report.RunStep != 1 {
				t.Fatalf("the new attempt's first report is run step %d", e.Report.RunStep)
			}
		}
	}
	var acts []ActionKind
	for _, e := range l.Hub().History() {
		if e.Kind == KindAction {
			acts = append(acts, e.Action.Kind)
			if e.Action.Actor.User != "test" {
				t.Errorf("action by %v", e.Action.Actor)
			}
		}
	}
	if fmt.Sprint(acts) != "[add restart]" {
		t.Errorf("actions in the history %v, want the add (the old attempt's) and the restart", acts)
	}
	if err := a.Stop(id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the run stops", func() bool { st, _ := l.Run(id); return st.State == StateStopped })

	// A finished run restarts.
	id2, err := a.Add(tiny(engine.LSTM, 2))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the second run ends", func() bool { st, _ := l.Run(id2); return st.State == StateDone })
	if err := a.Restart(id2); err != nil {
		t.Fatal(err)
	}
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st, _ := l.Run(id2); st.State != StateDone || st.Gen != 2 {
		t.Fatalf("restarted finished run: %+v", st)
	}
}

// TestRestartsReachASlowSubscriber sets a run's pace and learning rate and
// restarts it, twice, while a subscriber (as the server's log) has read
// nothing: the older attempts are gone from the history by the time it
// reads, but every action reaches it, with who took it, in order.
func TestRestartsReachASlowSubscriber(t *testing.T) {
	l, a := testList(t)
	sub := l.Subscribe()
	defer sub.Close()
	id, err := a.Add(tiny(engine.RNN, 1000))
	if err != nil {
		t.Fatal(err)
	}
	watch := l.Subscribe() // to act once each attempt trains
	defer watch.Close()
	for gen, user := range []string{"first", "second"} {
		for e := range watch.Events() {
			if e.Run == id && e.Gen == gen+1 && e.Kind == KindReport {
				break
			}
		}
		by := a
		by.Actor = Actor{User: user}
		if err := by.SetPace(id, 50); err != nil {
			t.Fatal(err)
		}
		if err := by.SetLR(id, 0.001); err != nil {
			t.Fatal(err)
		}
		if err := by.Restart(id); err != nil {
			t.Fatal(err)
		}
	}
	for e := range watch.Events() {
		if e.Run == id && e.Gen == 3 && e.Kind == KindReport {
			break
		}
	}
	// A removal (Replace) drops the run's events but for its actions.
	third := a
	third.Actor = Actor{User: "third"}
	if err := third.SetPace(id, 50); err != nil {
		t.Fatal(err)
	}
	next, err := third.Replace(id, tiny(engine.RNN, 1000))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Stop(next); err != nil {
		t.Fatal(err)
	}
	var who []string
	for e := range sub.Events() {
		if e.Kind == KindAction {
			who = append(who, fmt.Sprintf("%s %s@%d/%d", e.Action.Kind, e.Action.Actor.User, e.Run, e.Gen))
		}
		if e.Kind == KindState && e.State == StateStopped && e.Run == next {
			break
		}
	}
	if want := "[add test@1/1 pace first@1/1 lr first@1/1 restart first@1/2 pace second@1/2 lr second@1/2 restart second@1/3 pace third@1/3 replace third@2/1 stop test@2/1]"; fmt.Sprint(who) != want {
		t.Fatalf("the slow subscriber saw the actions %v, want %s", who, want)
	}
}

// TestCapabilities: an Access without a capability refuses with the
// reason and changes nothing; evaluating needs none.
func TestCapabilities(t *testing.T) {
	l, owner := testList(t, Held())
	id, err := owner.Add(tiny(engine.RNN, 2))
	if err != nil {
		t.Fatal(err)
	}
	viewer := Access{List: l, Actor: Actor{User: "student"}, Reason: "only the teacher may"}
	for _, f := range []func() error{
		func() error { return viewer.Pause(id) },
		func() error { return viewer.Resume(id) },
		func() error { return viewer.Restart(id) },
		func() error { return viewer.Stop(id) },
		func() error { _, err := viewer.Add(tiny(engine.RNN, 2)); return err },
		func() error { _, err := viewer.Replace(id, tiny(engine.RNN, 2)); return err },
		func() error { _, err := viewer.Save(id, ""); return err },
	} {
		err := f()
		var de *DeniedError
		if !errors.Is(err, ErrNotAllowed) || !errors.As(err, &de) || err.Error() != "only the teacher may" {
			t.Errorf("viewer's control: %v", err)
		}
	}
	if viewer.Allowed(ActPause) || !viewer.Allowed(ActEvaluate) || !owner.Allowed(ActRestart) {
		t.Error("Allowed disagrees with the capabilities")
	}
	if _, err := viewer.Evaluate(context.Background(), id); !errors.Is(err, ErrNotStarted) {
		t.Errorf("evaluating a queued run: %v, want ErrNotStarted", err)
	}
	if len(l.Runs()) != 1 || l.Runs()[0].Gen != 1 {
		t.Error("a refused control changed the list")
	}
	if err := (Access{}).Pause(1); err == nil {
		t.Error("the zero Access paused")
	}
}

// TestEvaluationsShared evaluates a real run's snapshot from many viewers
// at once: while no report comes in they share one evaluation; a new
// report makes the next call evaluate again.
func TestEvaluationsShared(t *testing.T) {
	l, a := testList(t)
	s := tiny(engine.RNN, 1000)
	s.Limit = 300
	id, err := a.Add(s)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "training starts", func() bool { e, _ := l.Hub().Last(); return e.Kind == KindReport })
	if err := a.Pause(id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the pause takes", func() bool {
		r, _ := l.findLockedForTest(id)
		return r.trainer != nil && r.trainer.Paused()
	})
	time.Sleep(50 * time.Millisecond) // a batch under way publishes its report
	r, _ := l.findLockedForTest(id)
	var wg sync.WaitGroup
	preds := make([]*engine.Predictions, 8)
	for i := range preds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := (Access{List: l}).Evaluate(context.Background(), id)
			if err != nil {
				t.Error(err)
			}
			preds[i] = p
		}()
	}
	wg.Wait()
	if n := r.evals.Load(); n != 1 {
		t.Fatalf("8 concurrent calls ran %d evaluations, want 1", n)
	}
	for _, p := range preds {
		if p == nil || p != preds[0] || p.Len() != 300 {
			t.Fatal("calls got different or wrong predictions")
		}
	}
	if err := a.Resume(id); err != nil {
		t.Fatal(err)
	}
	n := r.reports.Load()
	waitFor(t, "a new report", func() bool { return r.reports.Load() > n })
	if _, err := a.Evaluate(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if n := r.evals.Load(); n != 2 {
		t.Fatalf("after a new report: %d evaluations, want 2", n)
	}
}

// findLockedForTest returns run id under the lock.
func (l *List) findLockedForTest(id ID) (*run, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.findLocked(id)
}

// TestReplaceAndFull replaces a queued run (a new ID in its place, the old
// one's events gone), fills the list, and stops queued runs at Close.
func TestReplaceAndFull(t *testing.T) {
	l, a := testList(t, Held(), WithCapacity(2))
	id1, _ := a.Add(tiny(engine.RNN, 2))
	if _, err := a.Add(tiny(engine.RNN, 2)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Add(tiny(engine.RNN, 2)); !errors.Is(err, ErrFull) {
		t.Fatalf("a third run in a list of two: %v", err)
	}
	id3, err := a.Replace(id1, tiny(engine.LSTM, 2))
	if err != nil {
		t.Fatal(err)
	}
	runs := l.Runs()
	if id3 != 3 || len(runs) != 2 || runs[0].ID != 3 || runs[0].Info.Spec.Cell != engine.LSTM {
		t.Fatalf("after replace: %+v", runs)
	}
	if q := l.Queue(); fmt.Sprint(q) != "[3 2]" {
		t.Fatalf("queue %v, want the new run in the old one's turn", q)
	}
	for _, e := range l.Hub().History() {
		if e.Run == id1 && e.Kind != KindRemoved && e.Kind != KindAction {
			t.Fatalf("run %d's %v survived its removal (only its actions stay)", id1, e.Kind)
		}
	}
	if _, err := a.Add(Spec{}); !errors.Is(err, ErrSpec) && !errors.Is(err, ErrFull) {
		t.Fatalf("an invalid spec: %v", err)
	}
	l.Close()
	for _, st := range l.Runs() {
		if st.State != StateStopped {
			t.Errorf("run %d after Close: %v", st.ID, st.State)
		}
	}
	if _, err := a.Add(tiny(engine.RNN, 2)); !errors.Is(err, ErrClosed) {
		t.Errorf("Add after Close: %v", err)
	}
	if err := a.Restart(id3); !errors.Is(err, ErrClosed) {
		t.Errorf("Restart after Close: %v", err)
	}
}

// TestStartFailure: a trainer that cannot be built fails the run with the
// error; a restart that works clears it; the save at the end lands and is
// reported.
func TestStartFailure(t *testing.T) {
	boom := errors.New("boom")
	fail := true
	var mu sync.Mutex
	l, a := testList(t, WithTrainerFunc(func(p Prepared, report engine.Reporter) (Trainer, error) {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return nil, boom
		}
		return NewTrainer(p, report)
	}))
	s := tiny(engine.RNN, 2)
	s.Save = filepath.Join(t.TempDir(), "m.safetensors")
	id, err := a.Add(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st, _ := l.Run(id); st.State != StateFailed || !errors.Is(st.Err, boom) || !errors.Is(l.Err(), boom) {
		t.Fatalf("status %+v, list error %v", st, l.Err())
	}
	mu.Lock()
	fail = false
	mu.Unlock()
	if err := a.Restart(id); err != nil {
		t.Fatal(err)
	}
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, _ := l.Run(id)
	if st.State != StateDone || st.Err != nil || l.Err() != nil || st.Saved != s.Save {
		t.Fatalf("after a restart that works: %+v", st)
	}
	if ck, err := engine.LoadCheckpoint(s.Save); err != nil || ck.Test == nil {
		t.Fatalf("the end's checkpoint: %v", err)
	}
	path, err := a.Save(id, filepath.Join(t.TempDir(), "again.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := engine.LoadCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	if m, err := a.Snapshot(id); err != nil || m.Config.Cell != engine.RNN {
		t.Fatalf("snapshot of a finished run: %v", err)
	}
}

// TestStartFromCheckpoint: a run that loads a saved checkpoint with
// --epochs 0 only tests it, and its start event carries the file, its
// saved epoch and accuracies, and the split rule.
func TestStartFromCheckpoint(t *testing.T) {
	l, a := testList(t)
	s := tiny(engine.GRU, 2)
	s.Save = filepath.Join(t.TempDir(), "gru.safetensors")
	if _, err := a.Add(s); err != nil {
		t.Fatal(err)
	}
	if err := l.Wait(context.Background()); err != nil || l.Err() != nil {
		t.Fatal(err, l.Err())
	}
	load := DefaultSpec() // the cell comes from the file
	load.Load, load.Epochs, load.Limit = s.Save, 0, 64
	if _, err := a.Add(load); err == nil {
		t.Fatal("a spec whose cell disagrees with its checkpoint was queued")
	}
	load.Cell = engine.GRU
	id, err := a.Add(load)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Wait(context.Background()); err != nil || l.Err() != nil {
		t.Fatal(err, l.Err())
	}
	var start *Info
	var phases []engine.Phase
	for _, e := range l.Hub().History() {
		if e.Run != id {
			continue
		}
		switch {
		case e.Kind == KindStart:
			start = e.Info
		case e.Kind == KindReport && e.Report.Kind == engine.KindPhaseEnd:
			phases = append(phases, e.Report.Phase)
		}
	}
	ck := start.Checkpoint
	if ck == nil || ck.Path != s.Save || ck.Resume || ck.Epoch != 2 || ck.Val == nil || ck.Test == nil || ck.Test.Samples != 64 {
		t.Fatalf("start describes the checkpoint as %+v", ck)
	}
	if fmt.Sprint(phases) != "[test]" {
		t.Errorf("--epochs 0 ran %v, want the test set only", phases)
	}
	if r := start.Data.Rule(); r != "60,000 split 40,000/20,000 (2/3, seeded)" {
		t.Errorf("split rule %q", r)
	}
}
