package tui

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/mnist-tui/mnist-tui/engine/runs"
)

// click sends a left click at screen cell x, y (press and release).
func click(m tea.Model, x, y int) tea.Model {
	m, _ = m.Update(tea.MouseMsg{X: x, Y: y, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
	m, _ = m.Update(tea.MouseMsg{X: x, Y: y, Button: tea.MouseButtonLeft, Action: tea.MouseActionRelease})
	return m
}

// clickAndRun is click, then the commands the press returned are run and
// their messages given to the model (a click that navigates does so
// through a command).
func clickAndRun(t *testing.T, m tea.Model, x, y int) tea.Model {
	t.Helper()
	m, cmd := m.Update(tea.MouseMsg{X: x, Y: y, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
	for _, msg := range run(cmd) {
		m, _ = m.Update(msg)
	}
	m, _ = m.Update(tea.MouseMsg{X: x, Y: y, Button: tea.MouseButtonLeft, Action: tea.MouseActionRelease})
	return m
}

// plainLines is the frame without escape sequences, as lines of runes
// (every character the views draw is one cell wide).
func plainLines(m tea.Model) [][]rune {
	var out [][]rune
	for _, l := range strings.Split(ansi.Strip(m.View()), "\n") {
		out = append(out, []rune(l))
	}
	return out
}

// TestTabHitTesting clicks every tab where the tab bar draws its title,
// for the real views at two sizes and for ten views at two widths.
func TestTabHitTesting(t *testing.T) {
	cases := []struct {
		name string
		m    tea.Model
		w, h int
	}{
		{"views-80x24", finished(t, nil, 80, 24), 80, 24},
		{"views-200x60", finished(t, nil, 200, 60), 200, 60},
		{"ten-60x20", manyViews(t, 10), 60, 20},
		{"ten-120x40", manyViews(t, 10), 120, 40},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := sized(c.m, c.w, c.h)
			n := len(m.(Model).views)
			clicked := 0
			for round := 0; round < 2*n; round++ {
				tb := m.(Model).tabs
				bar := plainLines(m)[0]
				for i := tb.first; i < tb.end; i++ {
					sp := tb.spans[i]
					if got := string(bar[sp.x0+1 : sp.x1-1]); got != tb.titles[i] {
						t.Fatalf("tab %d drawn as %q at %d..%d, laid out as %q: %q", i, got, sp.x0, sp.x1, tb.titles[i], string(bar))
					}
					if i == m.(Model).active {
						continue
					}
					m = click(m, (sp.x0+sp.x1)/2, 0)
					if got := m.(Model).active; got != i {
						t.Fatalf("click on tab %d (%q) at column %d: active %d", i, tb.titles[i], (sp.x0+sp.x1)/2, got)
					}
					clicked++
					break
				}
			}
			if clicked < n-1 {
				t.Errorf("clicked %d tabs of %d", clicked, n)
			}
		})
	}
}

// TestConfusionCellHitTesting clicks every cell of the matrix where its
// count is drawn (found on the screen from the column and row labels) at
// two sizes: each click opens the browser on exactly that cell.
func TestConfusionCellHitTesting(t *testing.T) {
	p := fakePreds(testSet(t))
	counts := cellCounts(p)
	for _, s := range [][2]int{{80, 24}, {200, 60}} {
		t.Run(fmt.Sprintf("%dx%d", s[0], s[1]), func(t *testing.T) {
			m, _ := press(finished(t, nil, s[0], s[1]), "tab", "tab")
			lines := plainLines(m)
			header := regexp.MustCompile(`^(true|t\\p) +0 +1 +2`)
			hy := -1
			for y, l := range lines {
				if header.MatchString(string(l)) {
					hy = y
					break
				}
			}
			if hy < 0 {
				t.Fatalf("no column labels on the screen:\n%s", ansi.Strip(m.View()))
			}
			// Column q's label is drawn over the last cell of its counts.
			var colX [10]int
			for q := range 10 {
				colX[q] = strings.LastIndex(string(lines[hy][:strings.Index(string(lines[hy]), "acc")]), strconv.Itoa(q))
			}
			var rowY [10]int
			for tr := range 10 {
				for y := hy + 1; y < len(lines); y++ {
					if strings.HasPrefix(string(lines[y]), strconv.Itoa(tr)+" ") {
						rowY[tr] = y
						break
					}
				}
			}
			for tr := range 10 {
				for q := range 10 {
					m = clickAndRun(t, m, colX[q], rowY[tr])
					b, ok := active(m).(*browser)
					if !ok {
						t.Fatalf("click on cell %d,%d at %d,%d: on %q", tr, q, colX[q], rowY[tr], active(m).title())
					}
					if b.f != (filter{truth: tr, pred: q}) || len(b.matches) != counts[tr][q] {
						t.Fatalf("click on cell %d,%d: browser filter %+v with %d matches, want %d", tr, q, b.f, len(b.matches), counts[tr][q])
					}
					m, _ = m.Update(showMsg{kind: kindConfusion})
				}
			}
			// The row labels and the accuracy column are no cell.
			for _, x := range []int{0, colX[9] + 3} {
				m = clickAndRun(t, m, x, rowY[4])
				if active(m).title() != "Confusion" {
					t.Errorf("a click at %d,%d left the matrix", x, rowY[4])
				}
			}
		})
	}
}

// TestThumbnailHitTesting clicks the browser's thumbnails of the next
// digits (drawn from about 200x60 on) at two sizes: each click shows the
// digit whose caption is under the pointer.
func TestThumbnailHitTesting(t *testing.T) {
	caption := regexp.MustCompile(`(\d+) (\d)→(\d) [✓✗]`)
	for _, s := range [][2]int{{200, 60}, {240, 70}} {
		t.Run(fmt.Sprintf("%dx%d", s[0], s[1]), func(t *testing.T) {
			m, _ := press(finished(t, nil, s[0], s[1]), "tab", "m") // misclassified only
			b := active(m).(*browser)
			if g := b.layout().next; g.n() < 4 {
				t.Fatalf("%dx%d: %d thumbnails, want at least 4", s[0], s[1], g.n())
			}
			checked := 0
			for round := 0; round < 4; round++ {
				lines := plainLines(m)
				found := false
				for y, l := range lines {
					loc := caption.FindStringSubmatchIndex(string(l))
					if loc == nil {
						continue
					}
					want, _ := strconv.Atoi(string(l)[loc[2]:loc[3]])
					x := len([]rune(string(l)[:loc[0]]))
					// The caption is the bottom line of its thumbnail; click
					// on the digit above it too.
					for _, dy := range []int{0, -5} {
						pos := b.pos
						if got := shown(click(m, x+2, y+dy)); got != want {
							t.Fatalf("click at %d,%d on the thumbnail of digit %d shows digit %d", x+2, y+dy, want, got)
						}
						b.pos = pos // back, to click the other place
						checked++
					}
					found = true
					m, _ = press(m, "l") // the next round finds other thumbnails
					break
				}
				if !found {
					t.Fatalf("no thumbnail caption on the screen:\n%s", ansi.Strip(m.View()))
				}
			}
			if checked == 0 {
				t.Fatal("no thumbnail clicked")
			}
			// No thumbnails at 120x40: a click beside the panel does nothing.
			m = sized(m, 120, 40)
			before := shown(m)
			m = click(m, 110, 10)
			if shown(m) != before {
				t.Error("a click on the empty right of the browser at 120x40 changed the digit")
			}
		})
	}
}

// TestWheelStepsDigits turns the wheel over the browser and the matrix.
func TestWheelStepsDigits(t *testing.T) {
	m := onBrowser(t)
	wheel := func(b tea.MouseButton) {
		m, _ = m.Update(tea.MouseMsg{X: 20, Y: 10, Button: b, Action: tea.MouseActionPress})
	}
	for range 3 {
		wheel(tea.MouseButtonWheelDown)
	}
	wheel(tea.MouseButtonWheelUp)
	if got := shown(m); got != 2 {
		t.Errorf("three turns down, one up: digit %d, want 2", got)
	}
	for range 5 {
		wheel(tea.MouseButtonWheelUp)
	}
	if got := shown(m); got != 0 {
		t.Errorf("the wheel went past the first digit: %d", got)
	}
	m, _ = press(m, "tab")
	wheel(tea.MouseButtonWheelDown)
	wheel(tea.MouseButtonWheelDown)
	if c := active(m).(*confusion); c.row != 2 || c.col != 0 {
		t.Errorf("two turns down in the matrix: cell %d,%d, want 2,0", c.row, c.col)
	}
}

// TestHintLineKeepsHelpAndQuit: at every width from 60 to 200 columns the
// hint line of every view ends with "? help" and "q quit" and fits; while
// a view captures the keyboard it offers ctrl+c instead.
func TestHintLineKeepsHelpAndQuit(t *testing.T) {
	m := tea.Model(finished(t, nil, 60, 24))
	for range m.(Model).views {
		for w := 60; w <= 200; w++ {
			m = sized(m, w, 24)
			lines := strings.Split(ansi.Strip(m.View()), "\n")
			hint := lines[len(lines)-1]
			if !strings.HasSuffix(hint, "? help • q quit") || ansi.StringWidth(hint) > w {
				t.Fatalf("%s at %d columns: hint line %q", active(m).title(), w, hint)
			}
		}
		m, _ = press(m, "tab")
	}
	m, _ = press(m, "tab", "a")
	for w := 60; w <= 200; w += 10 {
		m = sized(m, w, 24)
		lines := strings.Split(ansi.Strip(m.View()), "\n")
		if hint := lines[len(lines)-1]; !strings.Contains(hint, "ctrl+c quit") || strings.Contains(hint, "q quit") {
			t.Fatalf("typing an index at %d columns: hint line %q", w, hint)
		}
	}
}

// TestEscClosesHelp: esc closes the full help, and only that (the
// browser's filter stays).
func TestEscClosesHelp(t *testing.T) {
	m, _ := press(onBrowser(t), "m", "?")
	if !strings.Contains(m.View(), "close help") {
		t.Fatalf("? did not open the full help:\n%s", m.View())
	}
	m, _ = press(m, "esc")
	if v := m.View(); strings.Contains(v, "jump to index") {
		t.Fatalf("esc did not close the help:\n%s", v)
	}
	if b := active(m).(*browser); !b.f.wrong {
		t.Error("the esc that closed the help also cleared the filter")
	}
	m, _ = press(m, "esc")
	if b := active(m).(*browser); b.f.wrong {
		t.Error("esc without the help no longer clears the filter")
	}
}

// TestBurstsInTheBrowser: keys that arrive together act one by one.
func TestBurstsInTheBrowser(t *testing.T) {
	m := onBrowser(t)
	m, _ = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("lll")})
	if got := shown(m); got != 3 {
		t.Fatalf("burst lll: digit %d, want 3", got)
	}
	m, _ = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("a12")})
	if b := active(m).(*browser); !b.jumping || b.input != "12" {
		t.Fatalf("burst a12: jumping %v with %q, want the prompt with 12", b.jumping, b.input)
	}
	m, _ = press(m, "enter")
	if got := shown(m); got != 12 {
		t.Fatalf("a12 enter: digit %d, want 12", got)
	}
	// A paste is a burst too.
	m, _ = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("hh"), Paste: true})
	if got := shown(m); got != 10 {
		t.Fatalf("pasted hh: digit %d, want 10", got)
	}
}

// TestBurstsAndClicksThroughAProgram writes a burst of keys and SGR mouse
// sequences, each in one write, into a real Bubble Tea program's input:
// Bubble Tea hands "lll" to the model as one KeyMsg, and a click on a tab
// as a MouseMsg.
func TestBurstsAndClicksThroughAProgram(t *testing.T) {
	s := testSet(t)
	m := feed(model(t, renderer(termenv.Ascii), testConfig(), s, runs.Access{}), fakeRun(testConfig(), fakePreds(s)))
	pr, pw := io.Pipe()
	w := &watcher{seen: make(chan struct{}, 1)}
	p := tea.NewProgram(m, append(ProgramOptions(), tea.WithInput(pr), tea.WithOutput(w), tea.WithoutSignals(), MouseOption())...)
	done := make(chan error, 1)
	go func() {
		_, err := p.Run()
		done <- err
	}()
	// step does something, then waits for the screen to show want.
	step := func(what string, do func(), want string) {
		t.Helper()
		w.expect(want)
		do()
		select {
		case <-w.seen:
		case <-time.After(20 * time.Second):
			t.Fatalf("after %s the screen never showed %q", what, want)
		}
	}
	write := func(input string) func() {
		return func() {
			if _, err := io.WriteString(pw, input); err != nil {
				t.Error(err)
			}
		}
	}
	step("the window size", func() { p.Send(tea.WindowSizeMsg{Width: 120, Height: 40}) }, "[Dashboard]")
	// "Predictions" is at columns 23-33 of the tab bar: SGR coordinates
	// count from 1.
	step("a click", write("\x1b[<0;26;1M\x1b[<0;26;1m"), "[Predictions]")
	step("lll", write("lll"), "match · 4/300")
	step("a12 enter", write("a12\r"), "digit     12 of 300")
	step("a wheel turn", write("\x1b[<65;20;10M"), "match · 14/300")
	p.Quit()
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
