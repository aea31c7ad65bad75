package tui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
)

// afterRestart runs the restart command (nil: none) and returns the model
// after its message.
func afterRestart(t *testing.T, m tea.Model, cmd tea.Cmd) tea.Model {
	t.Helper()
	if cmd == nil {
		t.Fatal("the second R started no restart")
	}
	msg := cmd()
	if _, ok := msg.(restartedMsg); !ok {
		t.Fatalf("restart command returned %T, want restartedMsg", msg)
	}
	m, _ = m.Update(msg)
	return m
}

// TestRestartKeyConfirms: a first R only asks, any other key cancels, a
// second R restarts the run through the list (a new trainer is built) and
// says so; a failure is shown as an error; the help lists the key only
// where restarting is possible.
func TestRestartKeyConfirms(t *testing.T) {
	tl := newTestList(t, &testTrainer{}, runs.AllCaps(), "")
	m := feed(sized(model(t, renderer(termenv.Ascii), testConfig(), testSet(t), tl.access), 120, 40), upTo(fakeRun(testConfig(), nil), 400))

	m, cmd := press(m, "R")
	if cmd != nil || tl.count() != 1 {
		t.Fatal("a single R restarted the run")
	}
	if v := m.View(); !strings.Contains(v, "press R again to restart the run from scratch") {
		t.Fatalf("first R does not ask for confirmation:\n%s", v)
	}
	m, _ = press(m, "tab")
	m, cmd = press(m, "R")
	if cmd != nil || tl.count() != 1 {
		t.Fatal("R, another key, R restarted the run")
	}
	m, cmd = press(m, "R")
	if v := m.View(); !strings.Contains(v, "restarting the run") {
		t.Errorf("no sign of the restart under way:\n%s", v)
	}
	m = afterRestart(t, m, cmd)
	if tl.count() != 2 {
		t.Fatalf("R R: %d trainers built, want 2", tl.count())
	}
	if st, _ := tl.list.Run(1); st.Gen != 2 {
		t.Fatalf("after R R the run is at attempt %d, want 2", st.Gen)
	}
	if v := m.View(); !strings.Contains(v, "run restarted from scratch") {
		t.Errorf("restart not confirmed:\n%s", v)
	}
	m, _ = press(m, "?")
	if v := m.View(); !strings.Contains(v, "restart run") {
		t.Errorf("full help of a restarter lacks the restart key:\n%s", v)
	}

	tl.list.Close()
	m, _ = press(m, "R")
	m, cmd = press(m, "R")
	m = afterRestart(t, m, cmd)
	if v := m.View(); !strings.Contains(v, "error: restart failed: runs: restart: the list of runs is closed") {
		t.Errorf("restart failure not shown:\n%s", v)
	}
}

// TestRestartNotAvailable: without a list, or without the capability, R
// says why and never restarts, and the help does not offer it.
func TestRestartNotAvailable(t *testing.T) {
	m, cmd := press(sized(newTest(t, nil), 120, 40), "R", "R")
	if cmd != nil {
		t.Fatal("R R without a list returned a command")
	}
	if v := m.View(); !strings.Contains(v, noteRestartNA) {
		t.Errorf("missing restart not explained:\n%s", v)
	}
	m, _ = press(m, "?")
	if v := m.View(); strings.Contains(v, "restart run") || !strings.Contains(v, "pause/resume") {
		t.Errorf("full help offers a restart it cannot do:\n%s", v)
	}

	reason := "only the teacher can restart"
	tl := newTestList(t, &testTrainer{}, runs.Caps{}, reason)
	m = model(t, renderer(termenv.Ascii), testConfig(), testSet(t), tl.access)
	m, cmd = press(sized(m, 120, 40), "R", "R")
	if cmd != nil || tl.count() != 1 {
		t.Fatal("a read-only viewer restarted the run")
	}
	if v := m.View(); !strings.Contains(v, reason) {
		t.Errorf("read-only reason not shown:\n%s", v)
	}
}

// TestNewRunStartsOver feeds a run, then, on the same stream, the events
// of its next attempt (Gen 2, as a restart publishes them): the model must
// start over (table, charts, predictions), exactly as a model that only
// saw the new attempt; an evaluation of the old attempt answered late is
// dropped.
func TestNewRunStartsOver(t *testing.T) {
	preds := fakePreds(testSet(t))
	run := fakeRun(testConfig(), preds)
	firstEnd := 0
	for run[firstEnd].Kind != engine.KindPhaseEnd {
		firstEnd++
	}
	info := fakeInfo(testConfig(), testSet(t))
	restart := []runs.Event{
		{Run: 1, Gen: 2, Kind: runs.KindAction, Action: &runs.Action{Kind: runs.ActRestart}},
		{Run: 1, Gen: 2, Kind: runs.KindState, State: runs.StateQueued},
		{Run: 1, Gen: 2, Kind: runs.KindState, State: runs.StateRunning},
		{Run: 1, Gen: 2, Kind: runs.KindStart, Info: info},
	}
	tl := newTestList(t, &testTrainer{preds: preds}, runs.AllCaps(), "")
	for _, tc := range []struct {
		name string
		old  []engine.Report
		next []engine.Report
	}{
		{"mid-run", upTo(run, 900), upTo(run, 40)},
		{"after the end", run, upTo(run, 40)},
		{"after one batch", run[:1], run[:3]},
		{"at a phase end", run[:firstEnd+1], upTo(run, 2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := feed(sized(model(t, renderer(termenv.Ascii), testConfig(), testSet(t), tl.access), 120, 40), tc.old)
			m, cmd := press(m, "e") // an evaluation of the old attempt, answered late
			var late []runs.Event
			var done []tea.Msg
			if cmd != nil {
				done = runEval(cmd)
				if e, _ := tl.list.Hub().Last(); e.Kind == runs.KindReport && e.Report.Kind == engine.KindEval {
					late = append(late, e)
				}
			}
			m, _ = m.Update(eventsMsg(append(append([]runs.Event(nil), restart...), reportEvents(tc.next, 2)...)))
			m, _ = m.Update(eventsMsg(late))
			for _, msg := range done {
				m, _ = m.Update(msg)
			}
			m, _ = press(m, "?", "?") // clears the evaluate key's note
			fresh := New(Options{Renderer: renderer(termenv.Ascii), Access: tl.access, Events: make(chan runs.Event)})
			var f tea.Model = sized(fresh, 120, 40)
			f, _ = f.Update(eventsMsg(append(startEvents(info, 2), reportEvents(tc.next, 2)...)))
			got, want := m.(Model).run, f.(Model).run
			if got.version != want.version || got.applied != want.applied {
				t.Errorf("restarted state differs from a fresh one: version %x/%x, applied %d/%d", got.version, want.version, got.applied, want.applied)
			}
			if len(got.rows) != len(want.rows) || len(got.batchLoss) != len(want.batchLoss) || got.done || got.preds != nil {
				t.Errorf("restarted state keeps the old run: %d rows (want %d), %d batches (want %d), done %v, preds %v",
					len(got.rows), len(want.rows), len(got.batchLoss), len(want.batchLoss), got.done, got.preds != nil)
			}
			for range m.(Model).views {
				if g, w := m.View(), f.View(); g != w {
					t.Errorf("view %s after a restart differs from a fresh model's:\n%s\nwant:\n%s", active(m).title(), g, w)
				}
				m, _ = press(m, "tab")
				f, _ = press(f, "tab")
			}
		})
	}

	// Within one attempt nothing starts over: feeding a run in pieces is
	// feeding it at once.
	m := newTest(t, nil)
	for i := 0; i < len(run); i += 97 {
		m = feed(m, run[i:min(i+97, len(run))])
	}
	whole := feed(newTest(t, nil), run)
	if g, w := m.(Model).run, whole.(Model).run; g.gen != 1 || g.version != w.version || len(g.rows) != len(w.rows) {
		t.Errorf("a run fed in pieces was taken for a restart (gen %d)", g.gen)
	}
}

// TestQueuedRunsShowInTurn: with two runs in the list, the model shows the
// one whose attempt started last, and ignores the other's reports.
func TestQueuedRunsShowInTurn(t *testing.T) {
	a := fakeInfo(testConfig(), testSet(t))
	c2 := testConfig()
	c2.Cell = engine.LSTM
	b := fakeInfo(c2, testSet(t))
	b.ID = 2
	m := sized(New(Options{Renderer: renderer(termenv.Ascii), Events: make(chan runs.Event)}), 120, 40)
	evs := []runs.Event{
		{Run: 1, Gen: 1, Kind: runs.KindAdded, Info: a},
		{Run: 2, Gen: 1, Kind: runs.KindAdded, Info: b},
		{Run: 1, Gen: 1, Kind: runs.KindStart, Info: a},
	}
	m, _ = m.Update(eventsMsg(evs))
	m = feed(m, upTo(fakeRun(testConfig(), nil), 50))
	if v := m.View(); !strings.Contains(v, "model RNN") {
		t.Fatalf("run 1 not shown:\n%s", v)
	}
	m, _ = m.Update(eventsMsg{{Run: 2, Gen: 1, Kind: runs.KindStart, Info: b}})
	m = feed(m, upTo(fakeRun(testConfig(), nil), 80)) // run 1's: ignored now
	if v := m.View(); !strings.Contains(v, "model LSTM") || m.(Model).run.applied != 0 {
		t.Fatalf("run 2's start does not show run 2 alone (%d reports applied):\n%s", m.(Model).run.applied, v)
	}
}
