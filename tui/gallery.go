package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/mnist"
	"github.com/mnist-tui/mnist-tui/tui/digit"
)

// gallery shows a grid of test digits, as many as fit, each with its
// predicted label (green when right, red when wrong), from the newest
// predictions: it changes as the network learns. The digits come in a
// fixed, class-balanced order (engine.BalancedOrder with engine.LiveSeed),
// whose beginning is the live evaluations' sample, so the same digits stay
// in the same places from the first live evaluation to the final
// predictions. Keys show only the misclassified digits or one class, page
// through the rest, open a digit's replay (v or enter) and open it in the
// browser (o or a click).
type gallery struct {
	run     *runState
	st      *styles
	km      keyMap
	painter *digit.Painter

	colour bool   // half blocks instead of ASCII shading
	f      filter // truth and wrong; pred unused
	// order is the test set's digits in gallery order, for orderOf.
	order   []int
	orderOf *mnist.Set
	// shown are the entries of the predictions passing f, in gallery
	// order, built for gen and shownF.
	shown  []int
	gen    int
	shownF filter
	built  bool
	// first is the position in shown of the first digit drawn; sel that of
	// the selected one, selAt its test index (kept across new predictions).
	first, sel, selAt int

	w, h int
	view string
	key  galleryKey
}

// galleryKey is everything the gallery's drawing depends on.
type galleryKey struct {
	gen, first, sel, w, h int
	f                     filter
	colour                bool
}

func newGallery(run *runState, st *styles, km keyMap, r *lipgloss.Renderer) *gallery {
	p := digit.NewPainter(r)
	return &gallery{run: run, st: st, km: km, painter: p, colour: p.Colour(), f: noFilter(), selAt: -1}
}

func (g *gallery) title() string { return "Gallery" }

func (g *gallery) typing() bool { return false }

func (g *gallery) kind() viewKind { return kindGallery }

func (g *gallery) init() tea.Cmd { return nil }

// showsOneRun: with several runs, the root draws the runs bar above.
func (g *gallery) showsOneRun() bool { return true }

func (g *gallery) setRect(r rect) { g.w, g.h = r.w, r.h }

func (g *gallery) keys() ([]key.Binding, [][]key.Binding) {
	k := g.km
	return []key.Binding{k.Replay, k.OpenDigit, k.Wrong, k.Class, k.PageDown, k.Mode},
		[][]key.Binding{{k.Left, k.Right, k.Up, k.Down, k.Replay, k.OpenDigit, k.PageDown, k.PageUp}, {k.Wrong, k.Class, k.Clear, k.Mode}, {k.ClickGallery, k.WheelGallery}}
}

// Parts of the gallery's drawing: a cell is a mini digit over its caption.
const (
	galleryCellW = digit.MiniWidth
	galleryCellH = digit.MiniLines + 1
	galleryGapX  = 2
)

// galleryLayout is where the gallery's parts go: drawing and the mouse use
// the same one.
type galleryLayout struct {
	head  []string // the lines above the grid
	cells grid
}

// layout lays the gallery out in its rectangle.
func (g *gallery) layout() galleryLayout {
	g.sync()
	l := galleryLayout{head: g.head()}
	top := len(l.head) + 1
	l.cells = fitGrid(rect{x: 0, y: top, w: g.w, h: g.h - top}, galleryCellW, galleryCellH, galleryGapX, 0, 0)
	return l
}

// sync rebuilds the digits shown when the predictions or the filter
// changed, keeping the selected digit selected when it is still shown.
func (g *gallery) sync() {
	if g.built && g.gen == g.run.predsGen && g.shownF == g.f {
		return
	}
	g.built, g.gen, g.shownF = true, g.run.predsGen, g.f
	g.shown = g.shown[:0]
	p := g.run.preds
	if p == nil {
		g.first, g.sel, g.selAt = 0, 0, -1
		return
	}
	if g.orderOf != g.run.test || g.order == nil {
		g.orderOf = g.run.test
		if g.run.test != nil {
			g.order = engine.BalancedOrder(g.run.test.Labels, engine.LiveSeed)
		} else {
			g.order = nil
		}
	}
	n := predsLen(g.run)
	add := func(k int) {
		if k < n && g.f.match(p.Labels, p.Pred, k) {
			g.shown = append(g.shown, k)
		}
	}
	if g.order == nil {
		for k := range n {
			add(k)
		}
	} else {
		for _, i := range g.order {
			if k, ok := p.Entry(i); ok {
				add(k)
			}
		}
	}
	g.sel = min(g.sel, max(len(g.shown)-1, 0))
	if g.selAt >= 0 {
		for pos, k := range g.shown {
			if p.SetIndex(k) == g.selAt {
				g.sel = pos
				break
			}
		}
	}
	g.first = min(g.first, g.sel)
}

// head is the lines above the grid: where the predictions come from, the
// filter and what is shown, the selected digit.
func (g *gallery) head() []string {
	lbl := g.st.label.Render
	p := g.run.preds
	title := []string{g.st.bold.Render("Gallery")}
	if p == nil {
		return wrapItems(title, lbl(" · "), g.w)
	}
	for _, part := range labelParts(g.run.predsFrom) {
		title = append(title, g.st.dim.Render(part))
	}
	lines := wrapItems(title, lbl(" · "), g.w)
	right := 0
	for _, k := range g.shown {
		if p.Labels[k] == p.Pred[k] {
			right++
		}
	}
	items := []string{
		g.st.accent.Render("filter: " + g.f.String()),
		g.st.good.Render(fmt.Sprintf("✓ %s right", group(right))) + lbl(" ") + g.st.bad.Render(fmt.Sprintf("✗ %s wrong", group(len(g.shown)-right))),
		lbl(fmt.Sprintf("accuracy %.4f", p.Acc)),
	}
	if k, ok := g.selected(); ok {
		t, pr := p.Labels[k], p.Pred[k]
		items = append(items, lbl(fmt.Sprintf("selected: digit %s, true %d, predicted %d (%.2f)", group(p.SetIndex(k)), t, pr, p.Probs[k][pr])))
	}
	return append(lines, wrapItems(items, lbl(" · "), g.w)...)
}

// selected is the entry of the selected digit.
func (g *gallery) selected() (int, bool) {
	if g.sel < 0 || g.sel >= len(g.shown) {
		return 0, false
	}
	return g.shown[g.sel], true
}

func (g *gallery) update(msg tea.Msg) (view, tea.Cmd) {
	switch msg := msg.(type) {
	case mouseMsg:
		return g, g.mouse(msg)
	case tea.KeyMsg:
		return g, g.press(msg)
	}
	return g, nil
}

// press handles the gallery's keys.
func (g *gallery) press(km tea.KeyMsg) tea.Cmd {
	l := g.layout()
	per, cols := max(l.cells.n(), 1), max(l.cells.cols, 1)
	move := func(d int) {
		if len(g.shown) > 0 {
			g.sel = min(max(g.sel+d, 0), len(g.shown)-1)
		}
	}
	switch {
	case key.Matches(km, g.km.Left):
		move(-1)
	case key.Matches(km, g.km.Right):
		move(1)
	case key.Matches(km, g.km.Up):
		move(-cols)
	case key.Matches(km, g.km.Down):
		move(cols)
	case key.Matches(km, g.km.PageDown):
		if g.first+per < len(g.shown) {
			g.first += per
			g.sel = g.first
		}
	case key.Matches(km, g.km.PageUp):
		g.first = max(g.first-per, 0)
		g.sel = g.first
	case key.Matches(km, g.km.OpenDigit):
		return g.open()
	case key.Matches(km, g.km.Replay):
		if k, ok := g.selected(); ok {
			return show(kindReplay, testReplay(g.run, g.run.preds.SetIndex(k), kindGallery))
		}
		return nil
	case key.Matches(km, g.km.Wrong):
		g.f.wrong = !g.f.wrong
		g.first, g.sel, g.selAt = 0, 0, -1
	case key.Matches(km, g.km.Class):
		d := int(km.Runes[0] - '0')
		if g.f.truth == d {
			g.f.truth = -1
		} else {
			g.f.truth = d
		}
		g.first, g.sel, g.selAt = 0, 0, -1
	case key.Matches(km, g.km.Clear):
		g.f = noFilter()
		g.first, g.sel, g.selAt = 0, 0, -1
	case key.Matches(km, g.km.Mode):
		if !g.painter.Colour() {
			return func() tea.Msg { return noteMsg{text: "this terminal shows no colour: ASCII shading only"} }
		}
		g.colour = !g.colour
	}
	g.settle(per)
	return nil
}

// settle keeps the selection on the page drawn, and remembers which digit
// it is.
func (g *gallery) settle(per int) {
	g.sync()
	if g.sel < g.first {
		g.first = g.sel - g.sel%per
	}
	if g.sel >= g.first+per {
		g.first = g.sel - g.sel%per
	}
	g.selAt = -1
	if k, ok := g.selected(); ok {
		g.selAt = g.run.preds.SetIndex(k)
	}
}

// mouse opens a clicked digit in the browser; the wheel pages.
func (g *gallery) mouse(m mouseMsg) tea.Cmd {
	l := g.layout()
	per := max(l.cells.n(), 1)
	if step := m.wheel(); step != 0 {
		g.first = min(max(g.first+step*per, 0), max(len(g.shown)-1, 0))
		g.first -= g.first % per
		g.sel = g.first
		g.settle(per)
		return nil
	}
	if !m.click() {
		return nil
	}
	if i, ok := l.cells.at(m.X, m.Y); ok && g.first+i < len(g.shown) {
		g.sel = g.first + i
		g.settle(per)
		return g.open()
	}
	return nil
}

// open shows the selected digit in the browser, with the gallery's filter.
func (g *gallery) open() tea.Cmd {
	k, ok := g.selected()
	if !ok {
		return nil
	}
	f := filter{truth: g.f.truth, pred: -1, wrong: g.f.wrong}
	return show(kindBrowser, browseMsg{f: f, index: g.run.preds.SetIndex(k)})
}

// View draws the gallery; it is redrawn only when something it shows
// changed.
func (g *gallery) View() string {
	g.sync()
	k := galleryKey{g.gen, g.first, g.sel, g.w, g.h, g.f, g.colour}
	if g.view == "" || k != g.key {
		g.view, g.key = g.draw(), k
	}
	return g.view
}

func (g *gallery) draw() string {
	p := g.run.preds
	if p == nil {
		msg := []string{g.st.bold.Render("No test predictions yet."), "",
			"The gallery fills with the first live evaluation once training starts:",
			"test digits with their predicted labels, green when right, red when wrong,",
			"changing as the network learns. e evaluates the whole test set now."}
		return fit(g.st.r.NewStyle().Padding(1, 2).Render(strings.Join(msg, "\n")), g.w, g.h)
	}
	l := g.layout()
	var b strings.Builder
	b.WriteString(strings.Join(l.head, "\n") + "\n")
	if len(g.shown) == 0 {
		b.WriteString("\n" + g.st.dim.Render("No digit matches "+g.f.String()+".  c clears the filters."))
		return fit(b.String(), g.w, g.h)
	}
	cells := make([]string, 0, l.cells.n())
	for i := range l.cells.n() {
		pos := g.first + i
		if pos >= len(g.shown) {
			break
		}
		cells = append(cells, g.cell(g.shown[pos], pos == g.sel))
	}
	for r := 0; r*l.cells.cols < len(cells); r++ {
		row := make([]string, 0, 2*l.cells.cols)
		for c := 0; c < l.cells.cols && r*l.cells.cols+c < len(cells); c++ {
			if c > 0 {
				row = append(row, strings.Repeat(" ", l.cells.gx))
			}
			row = append(row, cells[r*l.cells.cols+c])
		}
		b.WriteString("\n" + hjoin(row...))
	}
	return fit(b.String(), g.w, g.h)
}

// cell draws entry k: its digit over its caption, the predicted label in
// green when right and red when wrong (with the true label), in brackets
// when selected.
func (g *gallery) cell(k int, selected bool) string {
	p := g.run.preds
	var px []uint8
	if g.run.test != nil {
		px = g.run.test.Image(p.SetIndex(k))
	}
	var lines []string
	if g.colour {
		lines = g.painter.MiniBlocks(px)
	} else {
		lines = digit.Mini(px)
	}
	t, pr := p.Labels[k], p.Pred[k]
	st, caption := g.st.good, fmt.Sprintf("✓ %d", pr)
	if t != pr {
		st, caption = g.st.bad, fmt.Sprintf("✗ %d, is %d", pr, t)
	}
	if selected {
		st, caption = g.st.selected, "["+caption+"]"
	}
	lines = append(lines, st.Render(caption)+strings.Repeat(" ", max(galleryCellW-width(caption), 0)))
	return strings.Join(lines, "\n")
}
