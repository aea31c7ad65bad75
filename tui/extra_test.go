package tui

import (
	"errors"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
)

// The engine's trainer is what a list trains with by default.
var _ runs.Trainer = (*engine.Trainer)(nil)

func TestNoColourMeansNoEscapes(t *testing.T) {
	m := finished(t, &testTrainer{}, 120, 40)
	for range m.(Model).views {
		if v := m.View(); strings.Contains(v, "\x1b") {
			t.Fatalf("%s view has escape sequences with the Ascii profile:\n%q", active(m).title(), v)
		}
		m, _ = press(m, "tab")
	}
}

func TestFullHelp(t *testing.T) {
	m := finished(t, nil, 120, 40)
	short := m.View()
	if strings.Contains(short, "jump to index") {
		t.Fatal("short help already shows the browser's full keys")
	}
	m, _ = press(m, "tab", "?")
	v := m.View()
	checkFrame(t, v, 120, 40)
	for _, want := range []string{"jump to index", "misclassified only", "shading/colour", "previous view", "pause/resume"} {
		if !strings.Contains(v, want) {
			t.Errorf("full help lacks %q:\n%s", want, v)
		}
	}
	m, _ = press(m, "?")
	if v := m.View(); strings.Contains(v, "jump to index") {
		t.Errorf("? should close the full help:\n%s", v)
	}
}

func TestHistoryBurstThenLive(t *testing.T) {
	// A late joiner gets the whole history at once, then live reports; the
	// charts must cover all of it.
	rs := fakeRun(testConfig(), nil)
	m := tea.Model(sized(newTest(t, nil), 120, 40))
	m = feed(m, rs[:1200])
	for _, r := range rs[1200:1300] {
		m = feed(m, []engine.Report{r})
	}
	mm := m.(Model)
	want := 0
	for _, r := range rs[:1300] {
		if r.Kind == engine.KindBatch && r.Phase == engine.PhaseTrain {
			want++
		}
	}
	if got := len(mm.run.batchLoss); got != want {
		t.Errorf("chart history has %d training batches, want %d", got, want)
	}
	if v := m.View(); !strings.Contains(v, "step "+group(rs[1299].RunStep)+"/2,346") {
		t.Errorf("run progress not shown:\n%s", v)
	}
}

// TestPausedStateFromStream: another viewer's pause reaches the model as
// a state event (no polling) and shows; so does the resume.
func TestPausedStateFromStream(t *testing.T) {
	m := tea.Model(sized(newTest(t, nil), 80, 24))
	m = feed(m, upTo(fakeRun(testConfig(), nil), 50))
	m, _ = m.Update(eventsMsg{{Run: 1, Gen: 1, Kind: runs.KindState, State: runs.StatePaused}})
	if v := m.View(); !strings.Contains(v, "‖ paused") {
		t.Errorf("paused state not shown:\n%s", v)
	}
	m, _ = m.Update(eventsMsg{{Run: 1, Gen: 1, Kind: runs.KindState, State: runs.StateRunning}})
	if v := m.View(); strings.Contains(v, "‖ paused") {
		t.Errorf("resumed run still shown paused:\n%s", v)
	}
	m, _ = m.Update(eventsMsg{{Run: 1, Gen: 1, Kind: runs.KindState, State: runs.StateFailed, Err: errors.New("engine: loss is NaN")}})
	if v := m.View(); !strings.Contains(v, "error: engine: loss is NaN") || !strings.Contains(v, "failed") {
		t.Errorf("failure not shown:\n%s", v)
	}
}

func TestNoteKeepsStatusLine(t *testing.T) {
	m, _ := press(finished(t, nil, 80, 24), "tab", "d")
	v := m.View()
	checkFrame(t, v, 80, 24)
	if !strings.Contains(v, "no colour") || !strings.Contains(v, "filter: all digits") {
		t.Errorf("note or status line missing:\n%s", v)
	}
}

func TestMinimumSizeShowsEverything(t *testing.T) {
	m := finished(t, nil, MinWidth, MinHeight)
	v := m.View()
	checkFrame(t, v, MinWidth, MinHeight)
	for _, want := range []string{"loss  ─x val", "accuracy  ─x val", "epoch  phase", "seed 7", "test 10,000"} {
		if !strings.Contains(v, want) {
			t.Errorf("dashboard at the minimum size lacks %q:\n%s", want, v)
		}
	}
	m, _ = press(m, "tab", "tab")
	v = m.View()
	checkFrame(t, v, MinWidth, MinHeight)
	for _, want := range []string{"acc", "9    ▒ 1  ▒ 1", "0.824"} {
		if !strings.Contains(v, want) {
			t.Errorf("confusion matrix at the minimum size lacks %q:\n%s", want, v)
		}
	}
}
