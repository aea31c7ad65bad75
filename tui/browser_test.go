package tui

import (
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/mnist-tui/mnist-tui/engine/runs"
)

// onBrowser is a finished run showing the browser.
func onBrowser(t *testing.T) tea.Model {
	t.Helper()
	m, _ := press(finished(t, nil, 120, 40), "tab")
	if active(m).title() != "Predictions" {
		t.Fatalf("tab led to %q", active(m).title())
	}
	return m
}

func shown(m tea.Model) int { return active(m).(*browser).current() }

func TestBrowserNavigation(t *testing.T) {
	m := onBrowser(t)
	n := testSet(t).Len()
	steps := []struct {
		keys []string
		want int
	}{
		{nil, 0},
		{[]string{"l"}, 1},
		{[]string{"right", "right"}, 3},
		{[]string{"h"}, 2},
		{[]string{"left", "left", "left"}, 0}, // stops at the first
		{[]string{"G"}, n - 1},
		{[]string{"l"}, n - 1}, // stops at the last
		{[]string{"g"}, 0},
		{[]string{"a", "1", "2", "7", "enter"}, 127},
		{[]string{"a", "4", "backspace", "5", "esc"}, 127}, // cancelled
		{[]string{"a", "9", "9", "9", "9", "enter"}, 127},  // out of range
	}
	for _, s := range steps {
		m, _ = press(m, s.keys...)
		if got := shown(m); got != s.want {
			t.Fatalf("after %v: digit %d, want %d", s.keys, got, s.want)
		}
	}
	if v := m.View(); !strings.Contains(v, `no digit "9999"`) {
		t.Errorf("out-of-range jump not explained:\n%s", v)
	}
	m, _ = press(m, "a", "3", "enter")
	v := m.View()
	if !strings.Contains(v, "digit     3 of 300") {
		t.Errorf("info panel does not show digit 3:\n%s", v)
	}
	p := fakePreds(testSet(t))
	if want := fmt.Sprintf("target    %d", p.Labels[3]); !strings.Contains(v, want) {
		t.Errorf("info panel lacks %q:\n%s", want, v)
	}
	if !strings.Contains(v, "✗ wrong") { // digit 3 is misclassified by fakePreds
		t.Errorf("digit 3 should be marked wrong:\n%s", v)
	}
	m, _ = press(m, "a", "0", "enter")
	if v := m.View(); !strings.Contains(v, "✓ correct") {
		t.Errorf("digit 0 should be marked correct:\n%s", v)
	}
}

func TestBrowserRandomIsSeeded(t *testing.T) {
	walk := func() []int {
		m := onBrowser(t)
		var got []int
		for range 5 {
			m, _ = press(m, "r")
			got = append(got, shown(m))
		}
		return got
	}
	a, b := walk(), walk()
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("random walks differ with the same seed: %v vs %v", a, b)
	}
	distinct := map[int]bool{}
	for _, i := range a {
		distinct[i] = true
	}
	if len(distinct) < 3 {
		t.Errorf("random walk %v barely moves", a)
	}
}

func TestBrowserFilters(t *testing.T) {
	p := fakePreds(testSet(t))
	count := func(f filter) int {
		n := 0
		for i := range p.Labels {
			if f.match(p.Labels, p.Pred, i) {
				n++
			}
		}
		return n
	}
	m := onBrowser(t)
	check := func(desc string, f filter) {
		t.Helper()
		b := active(m).(*browser)
		if b.f != f {
			t.Fatalf("%s: filter %+v, want %+v", desc, b.f, f)
		}
		if len(b.matches) != count(f) || len(b.matches) == 0 {
			t.Fatalf("%s: %d matches, want %d (> 0)", desc, len(b.matches), count(f))
		}
		for _, i := range b.matches {
			if !f.match(p.Labels, p.Pred, i) {
				t.Fatalf("%s: digit %d does not pass %+v", desc, i, f)
			}
		}
		if i := b.current(); !f.match(p.Labels, p.Pred, i) {
			t.Fatalf("%s: shows digit %d which does not pass", desc, i)
		}
		want := fmt.Sprintf("filter: %s · %d match", f, count(f))
		if v := m.View(); !strings.Contains(v, want) {
			t.Fatalf("%s: status lacks %q:\n%s", desc, want, v)
		}
	}
	m, _ = press(m, "m")
	check("m", filter{truth: -1, pred: -1, wrong: true})
	m, _ = press(m, "l", "l")
	check("m then next", filter{truth: -1, pred: -1, wrong: true})
	m, _ = press(m, "7")
	check("m 7", filter{truth: 7, pred: -1, wrong: true})
	m, _ = press(m, "m")
	check("7", filter{truth: 7, pred: -1})
	m, _ = press(m, "G")
	if i := shown(m); p.Labels[i] != 7 {
		t.Fatalf("last of class 7 is a %d", p.Labels[i])
	}
	m, _ = press(m, "2")
	check("2", filter{truth: 2, pred: -1})
	m, _ = press(m, "c")
	check("clear", noFilter())
	m, _ = press(m, "4", "esc")
	check("esc clears", noFilter())

	// A filter nothing passes says so.
	b := active(m).(*browser)
	b.setFilter(filter{truth: 1, pred: 1, wrong: true})
	if v := m.View(); !strings.Contains(v, "No digit matches") || !strings.Contains(v, "0 match") {
		t.Errorf("empty filter not explained:\n%s", v)
	}
}

func TestBrowserModes(t *testing.T) {
	// Without colour the mode key explains and keeps shading.
	m := onBrowser(t)
	m, _ = press(m, "d")
	if v := m.View(); !strings.Contains(v, "no colour") || !strings.Contains(v, "shading ·") {
		t.Errorf("d without colour:\n%s", v)
	}
	// With colour the browser starts in half blocks and d toggles.
	c := model(t, renderer(termenv.ANSI256), testConfig(), testSet(t), runs.Access{})
	cm := feed(sized(c, 120, 40), fakeRun(testConfig(), fakePreds(testSet(t))))
	cm, _ = press(cm, "tab")
	if v := cm.View(); !strings.Contains(v, "▀") || !strings.Contains(ansi.Strip(v), "colour ·") {
		t.Errorf("colour terminal should start with half blocks")
	}
	cm, _ = press(cm, "d")
	if v := cm.View(); strings.Contains(v, "▀") || !strings.Contains(v, "@") {
		t.Errorf("d should switch to ASCII shading")
	}
}

func TestBrowserDigitFitsTerminal(t *testing.T) {
	// The framed digit grows with the terminal: 14 lines at 80x24, 28 at
	// 100x34 and 120x40, 42 at 200x60.
	for _, s := range []struct{ w, h, lines int }{{80, 24, 14}, {100, 34, 28}, {120, 40, 28}, {200, 60, 42}} {
		m := sized(onBrowser(t), s.w, s.h)
		v := m.View()
		checkFrame(t, v, s.w, s.h)
		got := 0
		for _, l := range strings.Split(v, "\n") {
			if strings.HasPrefix(l, " │") {
				got++
			}
		}
		if got != s.lines {
			t.Errorf("%dx%d: %d digit lines, want %d:\n%s", s.w, s.h, got, s.lines, v)
		}
	}
}

func TestConfusionOpensBrowser(t *testing.T) {
	p := fakePreds(testSet(t))
	counts := cellCounts(p)
	m, _ := press(finished(t, nil, 120, 40), "tab", "tab")
	if active(m).title() != "Confusion" {
		t.Fatalf("on %q", active(m).title())
	}
	v := m.View()
	if !strings.Contains(v, fmt.Sprintf("[%d]", counts[0][0])) {
		t.Errorf("cell (0,0) not selected:\n%s", v)
	}
	// Find a confused cell and walk to it.
	ti, pi := confusedCell(counts)
	keys := []string{}
	for range ti {
		keys = append(keys, "j")
	}
	for range pi {
		keys = append(keys, "l")
	}
	m, _ = press(m, keys...)
	want := fmt.Sprintf("true %d predicted as %d: %d digits (confused)", ti, pi, counts[ti][pi])
	if v := m.View(); !strings.Contains(v, want) {
		t.Fatalf("selection line lacks %q:\n%s", want, v)
	}
	m, cmd := press(m, "enter")
	msgs := runCmd(cmd)
	if len(msgs) != 1 {
		t.Fatalf("enter gave %d messages, want 1", len(msgs))
	}
	m, _ = m.Update(msgs[0])
	b, ok := active(m).(*browser)
	if !ok {
		t.Fatalf("enter led to %q, want the browser", active(m).title())
	}
	if b.f != (filter{truth: ti, pred: pi}) || len(b.matches) != counts[ti][pi] {
		t.Fatalf("browser filter %+v with %d matches, want true %d pred %d with %d", b.f, len(b.matches), ti, pi, counts[ti][pi])
	}
	for _, i := range b.matches {
		if int(p.Labels[i]) != ti || int(p.Pred[i]) != pi {
			t.Fatalf("digit %d is %d predicted %d", i, p.Labels[i], p.Pred[i])
		}
	}
	if v := m.View(); !strings.Contains(v, fmt.Sprintf("filter: target %d, predicted %d", ti, pi)) {
		t.Errorf("status does not name the cell:\n%s", v)
	}
	// Per-class accuracy of class 0.
	acc := float64(counts[0][0])
	n := 0
	for _, c := range counts[0] {
		n += c
	}
	m, _ = press(m, "tab")
	if v := m.View(); !strings.Contains(v, fmt.Sprintf("%9.3f", acc/float64(n))) {
		t.Errorf("class 0 accuracy %.3f missing:\n%s", acc/float64(n), v)
	}
}
