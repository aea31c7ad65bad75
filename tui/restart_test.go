package tui

import (
	"errors"
	"strings"
	"sync"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"

	"github.com/mnist-tui/mnist-tui/engine"
)

// restartControl is a testControl that can also restart, counting the
// restarts and failing with err.
type restartControl struct {
	testControl
	rmu      sync.Mutex
	restarts int
	err      error
}

func (c *restartControl) Restart() error {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	c.restarts++
	return c.err
}

func (c *restartControl) count() int {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	return c.restarts
}

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
// second R restarts and says so; a failure is shown as an error; the help
// lists the key only where restarting is possible.
func TestRestartKeyConfirms(t *testing.T) {
	c := &restartControl{}
	m := feed(sized(newTest(t, c), 120, 40), upTo(fakeRun(testConfig(), nil), 400))

	m, cmd := press(m, "R")
	if cmd != nil || c.count() != 0 {
		t.Fatal("a single R restarted the run")
	}
	if v := m.View(); !strings.Contains(v, "press R again to restart the run from scratch") {
		t.Fatalf("first R does not ask for confirmation:\n%s", v)
	}
	m, _ = press(m, "tab")
	m, cmd = press(m, "R")
	if cmd != nil || c.count() != 0 {
		t.Fatal("R, another key, R restarted the run")
	}
	m, cmd = press(m, "R")
	if v := m.View(); !strings.Contains(v, "restarting the run") {
		t.Errorf("no sign of the restart under way:\n%s", v)
	}
	m = afterRestart(t, m, cmd)
	if c.count() != 1 {
		t.Fatalf("R R: %d restarts, want 1", c.count())
	}
	if v := m.View(); !strings.Contains(v, "run restarted from scratch") {
		t.Errorf("restart not confirmed:\n%s", v)
	}
	m, _ = press(m, "?")
	if v := m.View(); !strings.Contains(v, "restart run") {
		t.Errorf("full help of a restarter lacks the restart key:\n%s", v)
	}

	c.err = errors.New("serve: restart: shutting down")
	m, _ = press(m, "R")
	m, cmd = press(m, "R")
	m = afterRestart(t, m, cmd)
	if v := m.View(); !strings.Contains(v, "error: restart failed: serve: restart: shutting down") {
		t.Errorf("restart failure not shown:\n%s", v)
	}
}

// TestRestartNotAvailable: without a Restarter, or read-only, R says why
// and never restarts, and the help does not offer it.
func TestRestartNotAvailable(t *testing.T) {
	m, cmd := press(sized(newTest(t, &testControl{}), 120, 40), "R", "R")
	if cmd != nil {
		t.Fatal("R R without a Restarter returned a command")
	}
	if v := m.View(); !strings.Contains(v, noteRestartNA) {
		t.Errorf("missing restart not explained:\n%s", v)
	}
	m, _ = press(m, "?")
	if v := m.View(); strings.Contains(v, "restart run") || !strings.Contains(v, "pause/resume") {
		t.Errorf("full help offers a restart it cannot do:\n%s", v)
	}

	ro := &restartControl{}
	reason := "only the teacher can restart"
	m = New(Options{Renderer: renderer(termenv.Ascii), Config: testConfig(), Reports: make(chan engine.Report), Control: ro, ReadOnlyReason: reason})
	m, cmd = press(sized(m, 120, 40), "R", "R")
	if cmd != nil || ro.count() != 0 {
		t.Fatal("a read-only viewer restarted the run")
	}
	if v := m.View(); !strings.Contains(v, reason) {
		t.Errorf("read-only reason not shown:\n%s", v)
	}
}

// TestNewRunStartsOver feeds a run, then, on the same stream, a new run
// from its first report: the model must start over (table, charts,
// predictions), exactly as a model that only saw the new run.
func TestNewRunStartsOver(t *testing.T) {
	preds := fakePreds(testSet(t))
	run := fakeRun(testConfig(), preds)
	firstEnd := 0
	for run[firstEnd].Kind != engine.KindPhaseEnd {
		firstEnd++
	}
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
			c := &restartControl{testControl: testControl{preds: preds}}
			m := feed(sized(newTest(t, c), 120, 40), tc.old)
			m, cmd := press(m, "e") // an evaluation of the old run, answered late
			var late tea.Msg
			var msgs []tea.Msg
			if cmd != nil {
				msgs = runEval(cmd)
			}
			for _, msg := range msgs {
				if _, ok := msg.(predictionsMsg); ok {
					late = msg
				}
			}
			m = feed(m, tc.next)
			if late != nil {
				m, _ = m.Update(late)
			}
			m, _ = press(m, "?", "?") // clears the evaluate key's note
			fresh := feed(sized(newTest(t, c), 120, 40), tc.next)
			got, want := m.(Model).run, fresh.(Model).run
			if got.version != want.version || got.applied != want.applied {
				t.Errorf("restarted state differs from a fresh one: version %x/%x, applied %d/%d", got.version, want.version, got.applied, want.applied)
			}
			if len(got.rows) != len(want.rows) || len(got.batchLoss) != len(want.batchLoss) || got.done || got.preds != nil {
				t.Errorf("restarted state keeps the old run: %d rows (want %d), %d batches (want %d), done %v, preds %v",
					len(got.rows), len(want.rows), len(got.batchLoss), len(want.batchLoss), got.done, got.preds != nil)
			}
			for range m.(Model).views {
				if g, w := m.View(), fresh.View(); g != w {
					t.Errorf("view %s after a restart differs from a fresh model's:\n%s\nwant:\n%s", active(m).title(), g, w)
				}
				m, _ = press(m, "tab")
				fresh, _ = press(fresh, "tab")
			}
		})
	}

	// Within one run nothing starts over: feeding a run in pieces is
	// feeding it at once.
	m := tea.Model(newTest(t, nil))
	for i := 0; i < len(run); i += 97 {
		m = feed(m, run[i:min(i+97, len(run))])
	}
	whole := feed(newTest(t, nil), run)
	if g, w := m.(Model).run, whole.(Model).run; g.runs != 0 || g.version != w.version || len(g.rows) != len(w.rows) {
		t.Errorf("a run fed in pieces was taken for %d restarts", g.runs)
	}
}

// TestRestartPollsAgain: polling the paused state stops when a run is
// done and starts again with a new run on the same stream.
func TestRestartPollsAgain(t *testing.T) {
	run := fakeRun(testConfig(), nil)
	m := feed(sized(newTest(t, &restartControl{}), 80, 24), run)
	m, cmd := m.Update(pollMsg{})
	if cmd != nil {
		t.Fatal("poll should stop once the run is done")
	}
	m, cmd = m.Update(reportsMsg(run[:2]))
	var polls int
	for _, c := range cmd().(tea.BatchMsg) {
		if c == nil {
			continue
		}
		if _, ok := c().(pollMsg); ok {
			polls++
		}
	}
	if polls != 1 {
		t.Fatalf("a new run armed %d polls, want 1", polls)
	}
	if _, cmd = m.Update(pollMsg{}); cmd == nil {
		t.Error("poll should re-arm while the new run goes on")
	}
}
