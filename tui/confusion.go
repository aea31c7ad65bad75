package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// confusion shows the 10x10 confusion matrix of the test predictions as a
// heatmap (see heat); a chosen cell opens the browser on exactly those
// digits. It follows the predictions live.
type confusion struct {
	run *runState
	st  *styles
	km  keyMap

	counts [10][10]int // [true][predicted]
	gen    int         // run.predsGen counts were built for
	row    int         // selected true class
	col    int         // selected predicted class

	w, h int
	// view caches the drawing for key.
	view string
	key  [5]int
}

func newConfusion(run *runState, st *styles, km keyMap) *confusion {
	return &confusion{run: run, st: st, km: km}
}

func (c *confusion) title() string { return "Confusion" }

func (c *confusion) typing() bool { return false }

func (c *confusion) kind() viewKind { return kindConfusion }

func (c *confusion) init() tea.Cmd { return nil }

// showsOneRun: with several runs, the root draws the runs bar above.
func (c *confusion) showsOneRun() bool { return true }

func (c *confusion) setRect(r rect) { c.w, c.h = r.w, r.h }

func (c *confusion) keys() ([]key.Binding, [][]key.Binding) {
	k := c.km
	return []key.Binding{k.Open, k.Up, k.Down, k.Left, k.Right},
		[][]key.Binding{{k.Up, k.Down, k.Left, k.Right, k.Open}, {k.ClickCell, k.WheelCell}}
}

// sync recounts when the predictions changed.
func (c *confusion) sync() {
	if c.gen == c.run.predsGen {
		return
	}
	c.gen = c.run.predsGen
	c.counts = [10][10]int{}
	if p := c.run.preds; p != nil {
		for i := range min(len(p.Labels), len(p.Pred)) {
			t, q := int(p.Labels[i]), int(p.Pred[i])
			if t < 10 && q < 10 {
				c.counts[t][q]++
			}
		}
	}
}

func (c *confusion) update(msg tea.Msg) (view, tea.Cmd) {
	switch msg := msg.(type) {
	case mouseMsg:
		return c, c.mouse(msg)
	case tea.KeyMsg:
		return c, c.press(msg)
	}
	return c, nil
}

// press moves the selection or opens the selected cell.
func (c *confusion) press(km tea.KeyMsg) tea.Cmd {
	c.sync()
	switch {
	case key.Matches(km, c.km.Up):
		c.row = (c.row + 9) % 10
	case key.Matches(km, c.km.Down):
		c.row = (c.row + 1) % 10
	case key.Matches(km, c.km.Left):
		c.col = (c.col + 9) % 10
	case key.Matches(km, c.km.Right):
		c.col = (c.col + 1) % 10
	case key.Matches(km, c.km.Open):
		return c.open()
	}
	return nil
}

// mouse opens a clicked cell; the wheel moves the selection up and down.
func (c *confusion) mouse(m mouseMsg) tea.Cmd {
	c.sync()
	if step := m.wheel(); step != 0 {
		c.row = (c.row + step + 10) % 10
		return nil
	}
	if !m.click() {
		return nil
	}
	if i, ok := c.layout().cells.at(m.X, m.Y); ok {
		c.row, c.col = i/10, i%10
		return c.open()
	}
	return nil
}

// open is the command that shows the browser on the selected cell's
// digits (nothing before there are predictions).
func (c *confusion) open() tea.Cmd {
	if c.run.preds == nil {
		return nil
	}
	return show(kindBrowser, browseMsg{f: filter{truth: c.row, pred: c.col}, index: -1})
}

// View draws the matrix; it is redrawn only when something it shows changed.
func (c *confusion) View() string {
	c.sync()
	k := [5]int{c.gen, c.row, c.col, c.w, c.h}
	if c.view == "" || k != c.key {
		c.view, c.key = c.draw(), k
	}
	return c.view
}

// confusionLayout is where the matrix's parts go: draw and the mouse use
// the same one.
type confusionLayout struct {
	title []string // the title's lines
	// Widths of a cell, of the row labels and of the accuracy column;
	// cells are ch lines tall (2: a share of the row under each count).
	cw, lw, aw, ch    int
	accName, trueName string
	cells             grid // the 10 x 10 counts, [true][predicted]
}

// layout lays the matrix out for its size: cells widen and gain a second
// line when there is room (compact below 76 columns, down to the
// 60-column minimum).
func (c *confusion) layout() confusionLayout {
	total, right := c.totals()
	lbl := c.st.label.Render
	l := confusionLayout{cw: 6, lw: 6, aw: 9, ch: 1, accName: "accuracy", trueName: "true"}
	if c.w < 76 {
		l.cw, l.lw, l.aw, l.accName, l.trueName = 5, 3, 7, "acc", "t\\p"
	}
	l.cw = max(l.cw, min((c.w-l.lw-l.aw)/14, 12))
	items := []string{
		c.st.bold.Render("Confusion matrix"),
		lbl(fmt.Sprintf("%s digits, accuracy %.4f", group(total), ratio(right, total))),
		lbl("rows: true digit, columns: predicted"),
	}
	for _, part := range labelParts(c.run.predsFrom) {
		items = append(items, c.st.dim.Render(part))
	}
	l.title = wrapItems(items, lbl(" · "), c.w)
	top := len(l.title) + 2 // a blank line, the column labels
	if c.h >= top+2*10+3 {
		l.ch = 2
	}
	l.cells = grid{x: l.lw, y: top, cols: 10, rows: 10, cw: l.cw, ch: l.ch}
	return l
}

// totals are how many digits the matrix counts and how many are right.
func (c *confusion) totals() (total, right int) {
	for t := range 10 {
		for q := range 10 {
			total += c.counts[t][q]
			if t == q {
				right += c.counts[t][q]
			}
		}
	}
	return total, right
}

func (c *confusion) draw() string {
	p := c.run.preds
	if p == nil {
		return "\n  " + c.st.bold.Render("No test predictions yet.") +
			"\n\n  The matrix appears with the first live evaluation, once training starts;" +
			"\n  e evaluates the whole test set on a snapshot now."
	}
	l := c.layout()
	h := c.heat()
	cw := l.cw
	lbl := c.st.label.Render
	var b strings.Builder
	b.WriteString(strings.Join(l.title, "\n") + "\n\n")
	b.WriteString(lbl(fmt.Sprintf("%-*s", l.lw, l.trueName)))
	for q := range 10 {
		b.WriteString(lbl(fmt.Sprintf("%*d", cw, q)))
	}
	b.WriteString(lbl(fmt.Sprintf("%*s", l.aw, l.accName)) + "\n")
	for t := range 10 {
		n := 0
		for q := range 10 {
			n += c.counts[t][q]
		}
		var share strings.Builder
		b.WriteString(lbl(fmt.Sprintf("%-*d", l.lw, t)))
		share.WriteString(strings.Repeat(" ", l.lw))
		for q := range 10 {
			v := c.counts[t][q]
			cell := fmt.Sprintf(" %*d", cw-1, v)
			pct := ""
			switch {
			case v == n && v > 0:
				pct = "100%"
			case v > 0:
				pct = fmt.Sprintf("%.1f%%", 100*ratio(v, n))
			}
			under := fmt.Sprintf(" %*s", cw-1, pct)
			st, glyph := h.style(t == q, v)
			if glyph != "" {
				cell = shaded(glyph, fmt.Sprint(v), cw)
			}
			if t == c.row && q == c.col {
				// Brackets keep the selection visible without colour.
				st, cell = c.st.selected, fmt.Sprintf("%*s", cw, fmt.Sprintf("[%d]", v))
				under = fmt.Sprintf("%*s", cw, "["+pct+"]")
			}
			b.WriteString(st.Render(cell))
			share.WriteString(st.Render(under))
		}
		acc := ratio(c.counts[t][t], n)
		b.WriteString(fmt.Sprintf("%*.3f", l.aw, acc) + "\n")
		if l.ch == 2 {
			b.WriteString(share.String() + "\n")
		}
	}
	v := c.counts[c.row][c.col]
	what := "correct"
	if c.row != c.col {
		what = "confused"
	}
	how := "enter browses them"
	if c.km.ClickCell.Enabled() {
		how = "enter or a click browses them"
	}
	sel := wrapItems([]string{
		c.st.accent.Render(fmt.Sprintf("true %d predicted as %d: %s digits (%s)", c.row, c.col, group(v), what)),
		lbl(how),
	}, lbl(" · "), c.w)
	b.WriteString("\n" + strings.Join(sel, "\n"))
	b.WriteString("\n" + strings.Join(wrapItems(h.legend(), lbl("  "), c.w), "\n"))
	return b.String()
}

// shaded is a cell of cw columns, a space then text right-aligned after
// the shading glyph (with a space between them when there is room, and
// without the glyph when there is none).
func shaded(glyph, text string, cw int) string {
	s := glyph + " " + text
	if width(s) > cw-1 {
		s = glyph + text
	}
	if width(s) > cw-1 {
		s = text
	}
	return " " + strings.Repeat(" ", max(cw-1-width(s), 0)) + s
}

// heatLevels is how many shades a heatmap scale has for counts above zero.
const heatLevels = 4

// heatShades shade the cells when there is no colour: one character per
// level, from the faintest.
const heatShades = "░▒▓█"

// heatGlyph is level lv's shading character.
func heatGlyph(lv int) string { return string([]rune(heatShades)[lv]) }

// heat is the confusion matrix's colour scales: one for the diagonal
// (correct digits, greens) and one off it (confusions, reds), each from
// one digit to its largest count, in heatLevels shades; zeros are faint.
// Without colour (NO_COLOR, an ASCII profile) each cell starts with a
// shading character of its level instead, so the scale still reads.
type heat struct {
	st              *styles
	colour          bool
	maxDiag, maxOff int
	diag, off       [heatLevels]lipgloss.Style
}

// heat builds the scales for the counts shown.
func (c *confusion) heat() heat {
	h := heat{st: c.st, colour: c.st.r.ColorProfile() != termenv.Ascii}
	for t := range 10 {
		for q := range 10 {
			if t == q {
				h.maxDiag = max(h.maxDiag, c.counts[t][q])
			} else {
				h.maxOff = max(h.maxOff, c.counts[t][q])
			}
		}
	}
	// Background shades of the scales (ANSI 256), faintest first.
	heatDiag := [heatLevels]string{"22", "28", "34", "40"}
	heatOff := [heatLevels]string{"52", "88", "124", "160"}
	for i := range heatLevels {
		fg := lipgloss.Color("255")
		if i == heatLevels-1 {
			fg = lipgloss.Color("16")
		}
		h.diag[i] = c.st.r.NewStyle().Background(lipgloss.Color(heatDiag[i])).Foreground(fg).Bold(true)
		h.off[i] = c.st.r.NewStyle().Background(lipgloss.Color(heatOff[i])).Foreground(fg)
	}
	return h
}

// level is the shade (0 to heatLevels-1) of count v on a scale up to top
// (v > 0).
func level(v, top int) int {
	return min(max((v*heatLevels+top-1)/max(top, 1)-1, 0), heatLevels-1)
}

// style returns the style of a cell of count v, on the diagonal or off
// it, and the shading glyph put before its count without colour ("" with
// colour, and for zeros).
func (h heat) style(diag bool, v int) (lipgloss.Style, string) {
	if v == 0 {
		return h.st.zero, ""
	}
	top, scale, plain := h.maxOff, h.off, h.st.offDiag
	if diag {
		top, scale, plain = h.maxDiag, h.diag, h.st.diag
	}
	lv := level(v, top)
	if !h.colour {
		return plain, heatGlyph(lv)
	}
	return scale[lv], ""
}

// legend explains the scales: a swatch of each (shading characters
// without colour), the counts they span, zeros.
func (h heat) legend() []string {
	lbl := h.st.label.Render
	swatch := func(scale [heatLevels]lipgloss.Style) string {
		var b strings.Builder
		for i := range heatLevels {
			if h.colour {
				b.WriteString(scale[i].Render(" "))
			} else {
				b.WriteString(heatGlyph(i))
			}
		}
		return b.String()
	}
	return []string{
		lbl("scale: correct ") + swatch(h.diag) + lbl(fmt.Sprintf(" 1–%s", group(max(h.maxDiag, 1)))),
		lbl("confused ") + swatch(h.off) + lbl(fmt.Sprintf(" 1–%s", group(max(h.maxOff, 1)))),
		h.st.zero.Render("0") + lbl(" none"),
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
