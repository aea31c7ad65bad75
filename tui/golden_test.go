package tui

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
)

// program runs the model in a real Bubble Tea program at w x h with the
// given reports already queued (the channel closed when closeAfter), waits
// until the screen shows ready, types keys, quits, and returns the final
// model.
func program(t *testing.T, r *lipgloss.Renderer, w, h int, rs []engine.Report, closeAfter bool, ready string, keys ...string) Model {
	t.Helper()
	return programOf(t, r, w, h, rs, nil, closeAfter, ready, keys...)
}

// programOf is program with more events after the reports.
func programOf(t *testing.T, r *lipgloss.Renderer, w, h int, rs []engine.Report, more []runs.Event, closeAfter bool, ready string, keys ...string) Model {
	t.Helper()
	evs := append(startEvents(fakeInfo(testConfig(), testSet(t)), 1), reportEvents(rs, 1)...)
	evs = append(evs, more...)
	ch := make(chan runs.Event, len(evs))
	for _, e := range evs {
		ch <- e
	}
	if closeAfter {
		close(ch)
	} else {
		t.Cleanup(func() { close(ch) })
	}
	// The views that run the model themselves take a snapshot of the
	// weights of the list's run 1: fixed weights.
	tl := newTestList(t, &testTrainer{model: testModel(t, testConfig())}, runs.Caps{}, "")
	m := New(Options{Renderer: r, Events: ch, Access: tl.access})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(ready)) },
		teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
	for _, k := range keys {
		tm.Send(keyMsg(k))
	}
	tm.Send(keyMsg("q"))
	return tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(Model)
}

// screen is program's final frame.
func screen(t *testing.T, r *lipgloss.Renderer, w, h int, rs []engine.Report, closeAfter bool, ready string, keys ...string) string {
	t.Helper()
	return program(t, r, w, h, rs, closeAfter, ready, keys...).View()
}

// body is the active view's part of m's frame: the lines between the tab
// bar and the footer.
func body(m Model) string {
	lines := strings.Split(m.View(), "\n")
	r := m.lay.body
	return strings.Join(lines[r.y:r.y+r.h], "\n")
}

// goldenSizes are the terminal sizes every view is drawn at.
var goldenSizes = []struct {
	name string
	w, h int
}{{"80x24", 80, 24}, {"120x40", 120, 40}, {"200x60", 200, 60}}

// runStates are the moments of a run every view is drawn at.
func runStates(t *testing.T) []struct {
	name       string
	rs         []engine.Report
	more       []runs.Event
	closeAfter bool
	ready      string
} {
	return []struct {
		name       string
		rs         []engine.Report
		more       []runs.Event
		closeAfter bool
		ready      string
	}{
		{"training", upTo(fakeRun(testConfig(), nil), 1500), liveEvents(t), false, "1,500/2,346"},
		{"done", fakeRun(testConfig(), fakePreds(testSet(t))), nil, true, "done"},
	}
}

// liveEvents are what a run's stream adds while it trains (after 874
// training batches at 1,500 steps): the pace set to 10 batches a second,
// the learning rate doubled after batch 300, and live evaluations of a
// 100-digit sample, the newest with its predictions.
func liveEvents(t *testing.T) []runs.Event {
	test := testSet(t)
	live := fakeLivePreds(test, 100)
	evs := []runs.Event{
		{Run: 1, Gen: 1, Kind: runs.KindAction, Action: &runs.Action{Kind: runs.ActPace, Value: 10}},
		{Run: 1, Gen: 1, Kind: runs.KindAction, Action: &runs.Action{Kind: runs.ActLR, Value: 0.002, Prev: 0.001,
			At: engine.Position{Epoch: 2, Phase: engine.PhaseTrain, Trained: 300}}},
	}
	for i, x := range []int{100, 400, 700, 874} {
		e := evalEvent(live, x, 1)
		e.Report.Acc = 0.3 + 0.15*float64(i)
		if x != 874 {
			e.Report.Predictions = nil // as the history keeps them
		}
		evs = append(evs, e)
	}
	return evs
}

// TestGoldenViews draws the body of every view (the screen without the tab
// bar and the footer, which TestGoldenTabBar and TestGoldenFooter check)
// at every golden size, while training and once done, in the Ascii
// profile: adding a view adds its own goldens and changes no other.
func TestGoldenViews(t *testing.T) {
	for _, st := range runStates(t) {
		for _, s := range goldenSizes {
			m := programOf(t, renderer(termenv.Ascii), s.w, s.h, st.rs, st.more, st.closeAfter, st.ready)
			for range m.views {
				v := m.views[m.active]
				t.Run(fmt.Sprintf("%s/%s-%s", st.name, v.title(), s.name), func(t *testing.T) {
					b := body(m)
					checkFrame(t, b, s.w, m.lay.body.h)
					golden.RequireEqual(t, []byte(b))
				})
				next, _ := m.Update(keyMsg("tab"))
				m = next.(Model)
			}
		}
	}
}

// TestGoldenTabBar draws the tab bar of every view at several widths, and
// the bar of many views at narrow widths.
func TestGoldenTabBar(t *testing.T) {
	var b strings.Builder
	m := tea.Model(finished(t, nil, 80, 24))
	for _, w := range []int{60, 80, 120, 200} {
		m = sized(m, w, 24)
		for range m.(Model).views {
			fmt.Fprintf(&b, "%3d %s|\n", w, m.(Model).lay.tabs)
			m, _ = press(m, "tab")
		}
	}
	// While training the status is longer: at 80 columns every tab still
	// shows, titles cut to five letters; at 60 the bar scrolls.
	m = feed(sized(newTest(t, nil), 80, 24), upTo(fakeRun(testConfig(), nil), 1500))
	for _, w := range []int{60, 80} {
		m = sized(m, w, 24)
		for range m.(Model).views {
			fmt.Fprintf(&b, "%3d %s|\n", w, m.(Model).lay.tabs)
			m, _ = press(m, "tab")
		}
	}
	many := manyViews(t, 10)
	for _, w := range []int{60, 80, 120} {
		many = sized(many, w, 24)
		fmt.Fprintf(&b, "%3d %s|\n", w, many.(Model).lay.tabs)
	}
	for range 9 {
		many, _ = press(many, "tab")
		fmt.Fprintf(&b, "%3d %s|\n", 120, many.(Model).lay.tabs)
	}
	many = sized(many, 60, 24)
	for range 10 {
		many, _ = press(many, "tab")
		fmt.Fprintf(&b, "%3d %s|\n", 60, many.(Model).lay.tabs)
	}
	golden.RequireEqual(t, []byte(b.String()))
}

// TestGoldenFooter draws every view's hint line at several widths and its
// full help at 120x40.
func TestGoldenFooter(t *testing.T) {
	var b strings.Builder
	m := tea.Model(finished(t, nil, 120, 40))
	for range m.(Model).views {
		for _, w := range []int{60, 80, 120, 200} {
			m = sized(m, w, 40)
			fmt.Fprintf(&b, "%s %3d %s|\n", active(m).title(), w, m.(Model).lay.footer)
		}
		for _, w := range []int{80, 120} {
			m = sized(m, w, 40)
			m, _ = press(m, "?")
			fmt.Fprintf(&b, "%s full help at %d:\n%s\n", active(m).title(), w, m.(Model).lay.footer)
			m, _ = press(m, "?")
		}
		m, _ = press(m, "tab")
	}
	golden.RequireEqual(t, []byte(b.String()))
}

func TestGoldenTooSmall(t *testing.T) {
	out := screen(t, renderer(termenv.Ascii), 50, 15, upTo(fakeRun(testConfig(), nil), 10), false, "too small")
	golden.RequireEqual(t, []byte(out))
}

// sgr matches an SGR escape sequence and captures its parameters.
var sgr = regexp.MustCompile(`\x1b\[([0-9;]*)m`)

// styledAs reports whether text appears somewhere in s in a style whose
// SGR parameters (every sequence since the last reset) include every one
// of want, such as "1" and "38;5;42" for bold green.
func styledAs(s, text string, want ...string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], text)
		if j < 0 {
			return false
		}
		j += i
		var params []string
		for _, m := range sgr.FindAllStringSubmatch(s[:j], -1) {
			if m[1] == "0" || m[1] == "" {
				params = params[:0]
			} else {
				params = append(params, m[1])
			}
		}
		all := ";" + strings.Join(params, ";") + ";"
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(all, ";"+w+";")
		}
		if ok {
			return true
		}
		i = j + len(text)
	}
}

// lineWith is the line of s that contains text, for failure messages.
func lineWith(s, text string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, text) {
			return l
		}
	}
	return "(not found)"
}

// TestColours checks the colours that carry meaning, in the ANSI 256
// profile: the active tab, the confusion matrix's diagonal, errors, zeros
// and selection, the browser's verdict and bars, the charts' series.
func TestColours(t *testing.T) {
	p := fakePreds(testSet(t))
	counts := cellCounts(p)
	m := sized(model(t, renderer(termenv.ANSI256), testConfig(), testSet(t), runs.Access{}), 120, 40)
	m = feed(m, fakeRun(testConfig(), p))
	checks := func(view string, cs []struct {
		what, text string
		sgr        []string
	}) {
		t.Helper()
		for _, c := range cs {
			if !styledAs(view, c.text, c.sgr...) {
				t.Errorf("%s: %q is not styled %v: %q", c.what, c.text, c.sgr, lineWith(view, c.text))
			}
		}
	}
	type check = struct {
		what, text string
		sgr        []string
	}
	purple, green, red, faint, yellow, blue := "38;5;141", "38;5;42", "38;5;203", "38;5;240", "38;5;214", "38;5;39"
	checks(m.View(), []check{
		{"active tab", "[Dashboard]", []string{"1", purple}},
		{"done", "✓ done", []string{"1", green}},
		{"validation legend", "─x val", []string{yellow}},
		{"training legend", "─o train", []string{blue}},
	})

	m, _ = press(m, "tab", "a", "3", "enter") // digit 3 is misclassified
	v := m.View()
	pr := int(p.Pred[3])
	checks(v, []check{
		{"verdict", "✗ wrong", []string{"1", red}},
		{"colour digit", "▀", []string{"48;5"}},
	})
	// The predicted class's bar is red when wrong, the others blue.
	bars := regexp.MustCompile(`(?m)^.*` + fmt.Sprint(pr) + ` \x1b\[[0-9;]*m█`).FindString(v)
	if !strings.Contains(bars, red) {
		t.Errorf("bar of the wrong prediction %d is not red: %q", pr, bars)
	}

	m, _ = press(m, "tab")
	v = m.View()
	ti, pi := confusedCell(counts)
	// The heatmap: the largest count of the diagonal in its brightest
	// green, a confusion on the red scale, zeros faint.
	top := 0
	for d := range 10 {
		if counts[d][d] > counts[top][top] {
			top = d
		}
	}
	checks(v, []check{
		{"selected cell", fmt.Sprintf("[%d]", counts[0][0]), []string{"7"}},
		{"diagonal", fmt.Sprintf(" %d", counts[top][top]), []string{"48;5;40"}},
		{"zero", " 0", []string{faint}},
	})
	reds := 0
	for _, bg := range []string{"48;5;52", "48;5;88", "48;5;124", "48;5;160"} {
		if styledAs(v, fmt.Sprintf(" %d", counts[ti][pi]), bg) {
			reds++
		}
	}
	if reds == 0 {
		t.Errorf("confused cell %d is not on the red scale: %q", counts[ti][pi], lineWith(v, fmt.Sprintf(" %d", counts[ti][pi])))
	}
	_ = red
}
