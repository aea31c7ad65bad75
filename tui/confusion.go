package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// confusion shows the 10x10 confusion matrix of the test predictions; a
// chosen cell opens the browser on exactly those digits.
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

func (c *confusion) setSize(w, h int) { c.w, c.h = w, h }

func (c *confusion) keys() ([]key.Binding, [][]key.Binding) {
	k := c.km
	return []key.Binding{k.Up, k.Down, k.Left, k.Right, k.Open},
		[][]key.Binding{{k.Up, k.Down, k.Left, k.Right, k.Open}}
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
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		return c, nil
	}
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
		if c.run.preds == nil {
			return c, nil
		}
		t, p := c.row, c.col
		return c, func() tea.Msg { return openCellMsg{truth: t, pred: p} }
	}
	return c, nil
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

func (c *confusion) draw() string {
	p := c.run.preds
	if p == nil {
		return "\n  " + c.st.bold.Render("No test predictions yet.") +
			"\n\n  The matrix appears when training ends, or press e to evaluate a snapshot now."
	}
	// Cell, row label and accuracy column widths: roomy from 76 columns,
	// compact below (down to the 60-column minimum).
	cw, lw, aw, accName, trueName := 6, 6, 9, "accuracy", "true"
	if c.w < 76 {
		cw, lw, aw, accName, trueName = 5, 3, 7, "acc", "t\\p"
	}
	lbl := c.st.label.Render
	var b strings.Builder
	total, right := 0, 0
	for t := range 10 {
		for q := range 10 {
			total += c.counts[t][q]
			if t == q {
				right += c.counts[t][q]
			}
		}
	}
	title := wrapItems([]string{
		c.st.bold.Render("Confusion matrix"),
		lbl(fmt.Sprintf("%s digits, accuracy %.4f", group(total), ratio(right, total))),
		lbl("rows: true digit, columns: predicted"),
	}, lbl(" · "), c.w)
	b.WriteString(strings.Join(title, "\n") + "\n\n")
	b.WriteString(lbl(fmt.Sprintf("%-*s", lw, trueName)))
	for q := range 10 {
		b.WriteString(lbl(fmt.Sprintf("%*d", cw, q)))
	}
	b.WriteString(lbl(fmt.Sprintf("%*s", aw, accName)) + "\n")
	for t := range 10 {
		n := 0
		for q := range 10 {
			n += c.counts[t][q]
		}
		b.WriteString(lbl(fmt.Sprintf("%-*d", lw, t)))
		for q := range 10 {
			v := c.counts[t][q]
			cell := fmt.Sprintf(" %*d", cw-1, v)
			st := c.st.offDiag
			switch {
			case t == q:
				st = c.st.diag
			case v == 0:
				st = c.st.zero
			}
			if t == c.row && q == c.col {
				// Brackets keep the selection visible without colour.
				st, cell = c.st.selected, fmt.Sprintf("[%*d]", cw-2, v)
			}
			b.WriteString(st.Render(cell))
		}
		acc := ratio(c.counts[t][t], n)
		b.WriteString(fmt.Sprintf("%*.3f", aw, acc) + "\n")
	}
	v := c.counts[c.row][c.col]
	what := "correct"
	if c.row != c.col {
		what = "confused"
	}
	sel := wrapItems([]string{
		c.st.accent.Render(fmt.Sprintf("true %d predicted as %d: %s digits (%s)", c.row, c.col, group(v), what)),
		lbl("enter browses them"),
	}, lbl(" · "), c.w)
	b.WriteString("\n" + strings.Join(sel, "\n"))
	return b.String()
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
