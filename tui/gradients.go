package tui

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
)

// maxGradCols bounds how many columns of gradient norms a run keeps: when
// full, neighbouring columns are merged in pairs and each new column pools
// twice as many samples, so the heatmap always covers the whole run in
// bounded memory.
const maxGradCols = 512

// gradDecades is the range the heatmap and the profile show: a value this
// many decades below the largest is drawn as nothing.
const gradDecades = 4

// gradCol is one column of the heatmap: the mean gradient norms per row of
// the samples pooled in it, and where the last of them was taken.
type gradCol struct {
	norms []float64
	// from and to are the first and last samples' epoch and batch.
	from, to [2]int
}

// gradRun is one run's gradient norms through time.
type gradRun struct {
	id      runs.ID
	gen     int
	spec    runs.Spec
	cols    []gradCol
	pool    int // samples a column pools now
	acc     gradCol
	accN    int
	samples int
	latest  []float32
}

// add pools one sample into the run's columns.
func (g *gradRun) add(r engine.Report) {
	if g.pool == 0 {
		g.pool = 1
	}
	if g.acc.norms == nil {
		g.acc.norms = make([]float64, len(r.GradNorms))
		g.acc.from = [2]int{r.Epoch, r.Step}
	}
	for t, v := range r.GradNorms {
		if t < len(g.acc.norms) {
			g.acc.norms[t] += float64(v)
		}
	}
	g.accN++
	g.acc.to = [2]int{r.Epoch, r.Step}
	g.samples++
	g.latest = r.GradNorms
	if g.accN < g.pool {
		return
	}
	for t := range g.acc.norms {
		g.acc.norms[t] /= float64(g.accN)
	}
	g.cols = append(g.cols, g.acc)
	g.acc, g.accN = gradCol{}, 0
	if len(g.cols) == maxGradCols {
		half := g.cols[:0]
		for i := 0; i+1 < len(g.cols); i += 2 {
			a, b := g.cols[i], g.cols[i+1]
			for t := range a.norms {
				a.norms[t] = (a.norms[t] + b.norms[t]) / 2
			}
			a.to = b.to
			half = append(half, a)
		}
		clear(g.cols[len(half):])
		g.cols = half
		g.pool *= 2
	}
}

// columns returns the run's columns, the partly pooled one included.
func (g *gradRun) columns() []gradCol {
	if g.accN == 0 {
		return g.cols
	}
	c := gradCol{norms: make([]float64, len(g.acc.norms)), from: g.acc.from, to: g.acc.to}
	for t, v := range g.acc.norms {
		c.norms[t] = v / float64(g.accN)
	}
	return append(g.cols[:len(g.cols):len(g.cols)], c)
}

// gradients shows the norm of dL/dh_t for every row t while runs train
// (Report.GradNorms, sampled every runs.GradNormsEvery training batches):
// a heatmap over training (x) and rows (y) and the latest profile, for the
// run chosen and the next one beside it, so that the plain RNN's vanishing
// gradient toward the first rows shows against an LSTM's.
type gradients struct {
	run *runState
	st  *styles
	km  keyMap

	runs   map[runs.ID]*gradRun
	order  []runs.ID // by ID
	labels map[runs.ID]string
	sel    int  // index into order of the left panel
	chosen bool // the user chose; else the run shown is followed
	seen   int  // counts changes, for the cache

	width, height int
	view          string
	viewKey       [4]int
}

func newGradients(run *runState, st *styles, km keyMap) *gradients {
	return &gradients{run: run, st: st, km: km, runs: map[runs.ID]*gradRun{}, labels: map[runs.ID]string{}}
}

func (g *gradients) title() string  { return "Gradients" }
func (g *gradients) kind() viewKind { return kindGradients }
func (g *gradients) typing() bool   { return false }
func (g *gradients) init() tea.Cmd  { return nil }
func (g *gradients) setRect(r rect) { g.width, g.height = r.w, r.h }

func (g *gradients) keys() ([]key.Binding, [][]key.Binding) {
	prev := key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/h", "previous run"))
	next := key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→/l", "next run"))
	return []key.Binding{prev, next}, [][]key.Binding{{prev, next}}
}

func (g *gradients) update(msg tea.Msg) (view, tea.Cmd) {
	switch msg := msg.(type) {
	case eventsMsg:
		for _, e := range msg {
			g.event(e)
		}
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, g.km.Left):
			g.sel, g.chosen = max(g.sel-1, 0), true
		case key.Matches(msg, g.km.Right):
			g.sel, g.chosen = min(g.sel+1, max(len(g.order)-1, 0)), true
		}
		g.seen++
	}
	return g, nil
}

// event folds one event into the runs' norms.
func (g *gradients) event(e runs.Event) {
	switch e.Kind {
	case runs.KindAdded:
		if e.Info != nil {
			g.runOf(e.Run, e.Gen).spec = e.Info.Spec
			g.relabel()
		}
	case runs.KindRemoved:
		delete(g.runs, e.Run)
		g.relabel()
	case runs.KindStart:
		if gr := g.runOf(e.Run, e.Gen); e.Info != nil {
			gr.spec = e.Info.Spec
		}
	case runs.KindReport:
		if e.Report.GradNorms == nil {
			return
		}
		gr := g.runOf(e.Run, e.Gen)
		if e.Gen < gr.gen {
			return // a stale attempt's
		}
		gr.add(e.Report)
	default:
		return
	}
	g.seen++
}

// runOf returns run id's norms for attempt gen, started over when gen is
// newer (a restart).
func (g *gradients) runOf(id runs.ID, gen int) *gradRun {
	gr := g.runs[id]
	if gr == nil || gen > gr.gen {
		old := gr
		gr = &gradRun{id: id, gen: gen}
		if old != nil {
			gr.spec = old.spec
		}
		g.runs[id] = gr
		g.relabel()
	}
	return gr
}

// relabel orders the runs and names each by what sets it apart.
func (g *gradients) relabel() {
	g.order = g.order[:0]
	for id := range g.runs {
		g.order = append(g.order, id)
	}
	sort.Slice(g.order, func(i, j int) bool { return g.order[i] < g.order[j] })
	specs := make([]runs.Spec, len(g.order))
	for i, id := range g.order {
		specs[i] = g.runs[id].spec
	}
	clear(g.labels)
	for i, l := range runs.Labels(specs) {
		g.labels[g.order[i]] = l
	}
	g.sel = min(g.sel, max(len(g.order)-1, 0))
}

// shownPair is the runs the panels show: the chosen one (or the run the
// other views show) and the next, or the one before it when it is last.
func (g *gradients) shownPair(two bool) []*gradRun {
	if len(g.order) == 0 {
		return nil
	}
	sel := g.sel
	if !g.chosen {
		for i, id := range g.order {
			if id == g.run.id {
				sel = i
			}
		}
	}
	if !two || len(g.order) == 1 {
		return []*gradRun{g.runs[g.order[sel]]}
	}
	first := min(sel, len(g.order)-2)
	return []*gradRun{g.runs[g.order[first]], g.runs[g.order[first+1]]}
}

// View draws the panels; it is redrawn only when something it shows
// changed.
func (g *gradients) View() string {
	k := [4]int{g.seen, g.width, g.height, int(g.run.id)}
	if g.view == "" || k != g.viewKey {
		g.view, g.viewKey = g.draw(), k
	}
	return g.view
}

// gradPanelMin is the least width of a run's panel.
const gradPanelMin = 38

func (g *gradients) draw() string {
	lbl := g.st.label.Render
	head := g.st.bold.Render("Gradients through time") + lbl(fmt.Sprintf(" · |dL/dh_t| for each row t, every %s training batch", ordinal(runs.GradNormsEvery)))
	pair := g.shownPair(g.width >= 2*gradPanelMin+2)
	have := false
	for _, gr := range pair {
		have = have || gr.samples > 0
	}
	if !have {
		msg := "No gradient norms yet: they come with the training batches (epoch 2 on)."
		if g.run.id == 0 {
			msg = "No run."
		}
		return fit(head+"\n\n"+g.st.dim.Render(msg), g.width, g.height)
	}
	legend := lbl("log scale per column: @ its largest row … blank under 1/6,000 · ←/→ runs")
	h := g.height - 2
	pw := g.width
	if len(pair) == 2 {
		pw = (g.width - 2) / 2
	}
	var panels []string
	for i, gr := range pair {
		if i > 0 {
			panels = append(panels, "  ")
		}
		panels = append(panels, fitWidth(g.panel(gr, pw, h), pw))
	}
	return fit(head+"\n"+hjoin(panels...)+"\n"+legend, g.width, g.height)
}

// ordinal names every k-th: "2nd", "4th".
func ordinal(k int) string {
	switch {
	case k == 1:
		return ""
	case k%10 == 2 && k%100 != 12:
		return strconv.Itoa(k) + "nd"
	case k%10 == 3 && k%100 != 13:
		return strconv.Itoa(k) + "rd"
	}
	return strconv.Itoa(k) + "th"
}

// profileW is the latest profile's bar width.
const profileW = 10

// panel draws one run's heatmap and latest profile in w x h cells.
func (g *gradients) panel(gr *gradRun, w, h int) string {
	lbl := g.st.label.Render
	cols := gr.columns()
	title := g.st.bold.Render(g.labels[gr.id])
	if len(cols) == 0 {
		return title + "\n" + g.st.dim.Render("no gradient norms yet")
	}
	T := len(cols[0].norms)
	latest := gr.latest
	ratio := float64(latest[0]) / math.Max(float64(latest[T-1]), 1e-30)
	title += lbl(fmt.Sprintf(" · %s samples · row 1 / row %d: %.1e", group(gr.samples), T, ratio))
	fold, mapW := panelGeometry(T, w, h)
	lines := (T + fold - 1) / fold
	x := resampleCols(cols, mapW, fold)
	out := []string{title}
	for l := range lines {
		t0, t1 := l*fold, min((l+1)*fold, T)
		levels := make([]int, len(x))
		for i, c := range x {
			levels[i] = gradLevel(c[l], maxOf(c))
		}
		var p float64
		for _, v := range latest[t0:t1] {
			p += float64(v) / float64(t1-t0)
		}
		bar := gradBar(p, maxOf32(latest), profileW)
		rowName := strconv.Itoa(t0 + 1)
		if fold > 1 {
			rowName = strconv.Itoa(t1)
		}
		out = append(out, lbl(fmt.Sprintf("%3s ", rowName))+g.st.heat.rampLine(levels)+"  "+
			g.st.accent.Render(bar)+g.st.barEmpty.Render(strings.Repeat("·", profileW-width(bar)))+fmt.Sprintf(" %.1e", p))
	}
	first, last := cols[0], cols[len(cols)-1]
	from := fmt.Sprintf("epoch %d batch %d", first.from[0], first.from[1])
	to := fmt.Sprintf("epoch %d batch %d", last.to[0], last.to[1])
	axis := "    " + from + strings.Repeat(" ", max(len(x)-len(from)-len(to), 1)) + to
	out = append(out, lbl(axis), lbl("    training →"+strings.Repeat(" ", max(len(x)-11, 1))+"  latest profile"))
	return strings.Join(out, "\n")
}

// panelGeometry is how many rows of T a line of a w x h panel folds (one
// a row, or several to fit h-3 lines: the title, the axis and its labels
// take the others) and how wide its heatmap is (the row labels, the
// profile and its value take the rest).
func panelGeometry(T, w, h int) (fold, mapW int) {
	lines := max(h-3, 1)
	return max(1, (T+lines-1)/lines), max(w-4-2-profileW-9, 4)
}

// resampleCols maps the columns onto at most w screen columns (means of
// the columns each covers, or each column repeated up to four times when
// there are few), folding fold rows into one by their mean.
func resampleCols(cols []gradCol, w, fold int) [][]float64 {
	n := len(cols)
	if n == 0 || w <= 0 {
		return nil
	}
	T := len(cols[0].norms)
	lines := (T + fold - 1) / fold
	foldCol := func(c gradCol) []float64 {
		out := make([]float64, lines)
		for l := range out {
			t0, t1 := l*fold, min((l+1)*fold, T)
			for _, v := range c.norms[t0:t1] {
				out[l] += v / float64(t1-t0)
			}
		}
		return out
	}
	if n <= w {
		rep := max(1, min(4, w/n))
		out := make([][]float64, 0, n*rep)
		for _, c := range cols {
			f := foldCol(c)
			for range rep {
				out = append(out, f)
			}
		}
		return out
	}
	out := make([][]float64, w)
	for i := range out {
		a, b := i*n/w, max((i+1)*n/w, i*n/w+1)
		sum := make([]float64, lines)
		for _, c := range cols[a:b] {
			for l, v := range foldCol(c) {
				sum[l] += v / float64(b-a)
			}
		}
		out[i] = sum
	}
	return out
}

// gradLevel is the ramp level of v against the column's largest m on a
// log scale of gradDecades decades.
func gradLevel(v, m float64) int {
	if !(v > 0) || !(m > 0) {
		return 0
	}
	f := 1 + math.Log10(v/m)/gradDecades
	return rampLevel(f)
}

// gradBar is the profile's bar of v against the largest m, on the same
// log scale.
func gradBar(v, m float64, w int) string {
	if !(v > 0) || !(m > 0) {
		return ""
	}
	return hbar(1+math.Log10(v/m)/gradDecades, w)
}

func maxOf(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = math.Max(m, x)
	}
	return m
}

func maxOf32(v []float32) float64 {
	m := 0.0
	for _, x := range v {
		m = math.Max(m, float64(x))
	}
	return m
}

// The gradients view is a view.
var _ view = (*gradients)(nil)
