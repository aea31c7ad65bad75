package tui

import (
	"bytes"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
)

// screen runs the model in a real Bubble Tea program at w x h with the given
// reports already queued (the channel closed when closeAfter), waits until
// the screen shows ready, types keys, quits, and returns the final frame.
func screen(t *testing.T, r *lipgloss.Renderer, w, h int, rs []engine.Report, closeAfter bool, ready string, keys ...string) string {
	t.Helper()
	evs := append(startEvents(fakeInfo(testConfig(), testSet(t)), 1), reportEvents(rs, 1)...)
	ch := make(chan runs.Event, len(evs))
	for _, e := range evs {
		ch <- e
	}
	if closeAfter {
		close(ch)
	} else {
		t.Cleanup(func() { close(ch) })
	}
	m := New(Options{Renderer: r, Events: ch})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(ready)) },
		teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
	for _, k := range keys {
		tm.Send(keyMsg(k))
	}
	tm.Send(keyMsg("q"))
	return tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).View()
}

var sizes = []struct {
	name string
	w, h int
}{{"80x24", 80, 24}, {"120x40", 120, 40}}

func TestGoldenDashboard(t *testing.T) {
	rs := upTo(fakeRun(testConfig(), nil), 1500)
	for _, s := range sizes {
		t.Run(s.name, func(t *testing.T) {
			out := screen(t, renderer(termenv.Ascii), s.w, s.h, rs, false, "1,500/2,346")
			golden.RequireEqual(t, []byte(out))
		})
	}
	t.Run("plain-120x40", func(t *testing.T) {
		out := screen(t, renderer(termenv.Ascii), 120, 40, rs, false, "1,500/2,346", "b")
		golden.RequireEqual(t, []byte(out))
	})
}

func TestGoldenBrowser(t *testing.T) {
	rs := fakeRun(testConfig(), fakePreds(testSet(t)))
	for _, s := range sizes {
		t.Run("shading-"+s.name, func(t *testing.T) {
			out := screen(t, renderer(termenv.Ascii), s.w, s.h, rs, true, "done", "tab", "a", "3", "enter")
			golden.RequireEqual(t, []byte(out))
		})
		t.Run("colour-"+s.name, func(t *testing.T) {
			out := screen(t, renderer(termenv.ANSI256), s.w, s.h, rs, true, "done", "tab", "a", "3", "enter")
			golden.RequireEqualEscape(t, []byte(out), true)
		})
	}
}

func TestGoldenConfusion(t *testing.T) {
	rs := fakeRun(testConfig(), fakePreds(testSet(t)))
	for _, s := range sizes {
		t.Run(s.name, func(t *testing.T) {
			out := screen(t, renderer(termenv.Ascii), s.w, s.h, rs, true, "done", "tab", "tab", "j", "j", "l", "l", "l")
			golden.RequireEqual(t, []byte(out))
		})
	}
}

func TestGoldenTooSmall(t *testing.T) {
	out := screen(t, renderer(termenv.Ascii), 50, 15, upTo(fakeRun(testConfig(), nil), 10), false, "too small")
	golden.RequireEqual(t, []byte(out))
}
