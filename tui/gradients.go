package tui

import (
	"fmt"
	"math"
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
// many decades below the largest is drawn as nothing. At the start of
// training the norms at the first rows are 1e-8 to 1e-6 of the last row's
// (the notebook's RNN and the LSTM alike); eight decades show them.
const gradDecades = 8

// gradCol is one column of the heatmap: the mean over the samples pooled
// in it of the log10 of the gradient norm at each row (a geometric mean:
// the heatmap is on a log scale), and where its first and last samples
// were taken.
type gradCol struct {
	logs []float64
	// from and to are the first and last samples' epoch and batch.
	from, to [2]int
	// n is how many samples it pools.
	n int
}

// log10s returns the log10 of every value (of at least 1e-30).
func log10s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = math.Log10(math.Max(float64(x), 1e-30))
	}
	return out
}

// merge pools b into a.
func (a *gradCol) merge(b gradCol) {
	for t := range a.logs {
		a.logs[t] = (a.logs[t]*float64(a.n) + b.logs[t]*float64(b.n)) / float64(a.n+b.n)
	}
	a.n += b.n
	a.to = b.to
}

// gradRun is one run's gradient norms through time.
type gradRun struct {
	id      runs.ID
	gen     int
	spec    runs.Spec
	cols    []gradCol
	pool    int     // samples a column pools now
	acc     gradCol // the column being pooled (acc.n samples so far)
	samples int
	// first and latest are the first and the newest sample.
	first, latest []float32
}

// add pools one sample into the run's columns.
func (g *gradRun) add(r engine.Report) {
	if g.pool == 0 {
		g.pool = 1
	}
	s := gradCol{logs: log10s(r.GradNorms), from: [2]int{r.Epoch, r.Step}, to: [2]int{r.Epoch, r.Step}, n: 1}
	if g.acc.n == 0 {
		g.acc = s
	} else if len(s.logs) == len(g.acc.logs) {
		g.acc.merge(s)
	}
	g.samples++
	if g.first == nil {
		g.first = r.GradNorms
	}
	g.latest = r.GradNorms
	if g.acc.n < g.pool {
		return
	}
	g.cols = append(g.cols, g.acc)
	g.acc = gradCol{}
	if len(g.cols) == maxGradCols {
		half := g.cols[:0]
		for i := 0; i+1 < len(g.cols); i += 2 {
			a := g.cols[i]
			a.merge(g.cols[i+1])
			half = append(half, a)
		}
		clear(g.cols[len(half):])
		g.cols = half
		g.pool *= 2
	}
}

// columns returns the run's columns, the partly pooled one included.
func (g *gradRun) columns() []gradCol {
	if g.acc.n == 0 {
		return g.cols
	}
	return append(g.cols[:len(g.cols):len(g.cols)], g.acc)
}

// gradients shows the norm of dL/dh_t for every row t while runs train
// (Report.GradNorms, sampled every runs.GradNormsEvery training batches):
// a heatmap over training (x, by default on a log scale of the batches, so
// that the first batches, where the gradient vanishes toward the first
// rows, are as wide as the rest) and rows (y), and the latest profile, for
// the run shown and, with several runs, another one beside it (in the
// list's order), so that one run's profile shows against another's (the
// plain RNN's against an LSTM's). < and > pick the run shown, as
// everywhere; left and right pick the one it is compared with.
type gradients struct {
	set *runSet
	st  *styles
	km  keyMap

	runs map[runs.ID]*gradRun
	// other is the run compared with the run shown, as picked (0: the
	// default, see partner).
	other  runs.ID
	linear bool // a linear training axis instead of the log one
	seen   int  // counts changes, for the cache

	width, height int
	view          string
	viewKey       gradientsKey
}

// gradientsKey is what the gradients' drawing depends on.
type gradientsKey struct {
	seen, w, h, changes int
	sel, other          runs.ID
}

func newGradients(set *runSet, st *styles, km keyMap) *gradients {
	return &gradients{set: set, st: st, km: km, runs: map[runs.ID]*gradRun{}}
}

func (g *gradients) title() string  { return "Gradients" }
func (g *gradients) kind() viewKind { return kindGradients }
func (g *gradients) typing() bool   { return false }
func (g *gradients) init() tea.Cmd  { return nil }
func (g *gradients) setRect(r rect) { g.width, g.height = r.w, r.h }

// showsOneRun: with several runs the root draws the runs bar above, which
// says which run is shown (the one < and > pick).
func (g *gradients) showsOneRun() bool { return true }

func (g *gradients) keys() ([]key.Binding, [][]key.Binding) {
	k := g.km
	if g.set.len() < 2 {
		return []key.Binding{k.Axis}, [][]key.Binding{{k.Axis}}
	}
	return []key.Binding{k.OtherPrev, k.OtherNext, k.Axis}, [][]key.Binding{{k.OtherPrev, k.OtherNext, k.Axis}}
}

func (g *gradients) update(msg tea.Msg) (view, tea.Cmd) {
	switch msg := msg.(type) {
	case eventsMsg:
		for _, e := range msg {
			g.event(e)
		}
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, g.km.OtherPrev):
			g.pickOther(-1)
		case key.Matches(msg, g.km.OtherNext):
			g.pickOther(1)
		case key.Matches(msg, g.km.Axis):
			g.linear = !g.linear
		}
		g.seen++
	}
	return g, nil
}

// event folds one event into the runs' norms.
func (g *gradients) event(e runs.Event) {
	switch e.Kind {
	case runs.KindRemoved:
		delete(g.runs, e.Run)
	case runs.KindStart:
		g.runOf(e.Run, e.Gen) // a restart starts over
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
		gr = &gradRun{id: id, gen: gen}
		g.runs[id] = gr
	}
	return gr
}

// partner is the run compared with the run shown: the one picked, else
// the next in the list (the one before when the run shown is the last);
// 0 with fewer than two runs.
func (g *gradients) partner() runs.ID {
	sel, n := g.set.sel, g.set.len()
	if n < 2 || sel == 0 {
		return 0
	}
	if g.other != sel && g.set.get(g.other) != nil {
		return g.other
	}
	i := g.set.index(sel)
	if i+1 < n {
		return g.set.ids[i+1]
	}
	return g.set.ids[i-1]
}

// pickOther moves the run compared with the run shown by places in the
// list's order, passing over the run shown, wrapping around.
func (g *gradients) pickOther(by int) {
	other, n := g.partner(), g.set.len()
	if other == 0 {
		return
	}
	i := g.set.index(other)
	for {
		i = ((i+by)%n + n) % n
		if id := g.set.ids[i]; id != g.set.sel {
			g.other = id
			return
		}
	}
}

// two reports whether two runs are shown side by side.
func (g *gradients) two() bool { return g.partner() != 0 && g.width >= 2*gradPanelMin+2 }

// shownPair is the runs the panels show, in the list's order: the run
// shown and the one compared with it (when they fit side by side).
func (g *gradients) shownPair() []*gradRun {
	sel := g.set.sel
	if sel == 0 {
		return nil
	}
	of := func(id runs.ID) *gradRun {
		if gr := g.runs[id]; gr != nil {
			return gr
		}
		return &gradRun{id: id}
	}
	if !g.two() {
		return []*gradRun{of(sel)}
	}
	other := g.partner()
	if g.set.index(other) < g.set.index(sel) {
		return []*gradRun{of(other), of(sel)}
	}
	return []*gradRun{of(sel), of(other)}
}

// View draws the panels; it is redrawn only when something it shows
// changed.
func (g *gradients) View() string {
	k := gradientsKey{g.seen, g.width, g.height, g.set.changes, g.set.sel, g.partner()}
	if g.view == "" || k != g.viewKey {
		g.view, g.viewKey = g.draw(), k
	}
	return g.view
}

// gradPanelMin is the least width of a run's panel.
const gradPanelMin = 38

func (g *gradients) draw() string {
	lbl := g.st.label.Render
	every := "every training batch"
	if runs.GradNormsEvery > 1 {
		every = "every " + ordinal(runs.GradNormsEvery) + " training batch"
	}
	head := g.st.bold.Render("Gradients through time") + lbl(" · |dL/dh_t| at each row t, "+every)
	pair := g.shownPair()
	have := false
	for _, gr := range pair {
		have = have || gr.samples > 0
	}
	if !have {
		msg := "No gradient norms yet: they come with the training batches (epoch 2 on)."
		if len(pair) == 0 {
			msg = "No run."
		}
		return fit(head+"\n\n"+g.st.dim.Render(msg), g.width, g.height)
	}
	axis := "log"
	if g.linear {
		axis = "linear"
	}
	legend := lbl(fmt.Sprintf("%d decades a column: @ its largest row, blank 1e-%d of it · %s batch axis (x)", gradDecades, gradDecades, axis))
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

// profileW is the latest profile's bar width.
const profileW = 10

// panelGeometry is how many rows of T a line of a w x h panel folds (one
// a row, or several to fit h-4 lines: the title, the ratio, the axis and
// its labels take the others) and how wide its heatmap is (the row
// labels, the profile and its value take the rest).
func panelGeometry(T, w, h int) (fold, mapW int) {
	lines := max(h-4, 1)
	return max(1, (T+lines-1)/lines), max(w-4-2-profileW-9, 4)
}

// panel draws one run's heatmap and latest profile in w x h cells.
func (g *gradients) panel(gr *gradRun, w, h int) string {
	lbl := g.st.label.Render
	cols := gr.columns()
	title := g.st.bold.Render(g.set.label(gr.id)) + lbl(fmt.Sprintf(" · %s samples", group(gr.samples)))
	if i := g.set.index(gr.id); g.set.len() > 1 && i >= 0 {
		// The run's number, marker and colour, as in the runs bar; the
		// run shown says so.
		name := fmt.Sprintf("run %d %c %s", gr.id, runMarker(i), g.set.label(gr.id))
		title = g.st.runStyle(i).Bold(true).Render(name) + lbl(fmt.Sprintf(" · %s samples", group(gr.samples)))
		if gr.id == g.set.sel {
			title += lbl(" · shown")
		}
	}
	if len(cols) == 0 {
		return title + "\n" + g.st.dim.Render("no gradient norms yet")
	}
	T := len(cols[0].logs)
	ratio := func(v []float32) float64 { return float64(v[0]) / math.Max(float64(v[T-1]), 1e-30) }
	sub := lbl(fmt.Sprintf("row 1/%d: %.0e first, %.0e now", T, ratio(gr.first), ratio(gr.latest)))
	fold, mapW := panelGeometry(T, w, h)
	lines := (T + fold - 1) / fold
	x := resampleCols(cols, mapW, fold, !g.linear)
	latest := log10s(gr.latest)
	top := maxOf(latest)
	out := []string{title, sub}
	for l := range lines {
		t0, t1 := l*fold, min((l+1)*fold, T)
		levels := make([]int, len(x))
		for i, c := range x {
			levels[i] = gradLevel(c[l], maxOf(c))
		}
		p := meanOf(latest[t0:t1])
		bar := hbar(1+(p-top)/gradDecades, profileW)
		rowName := strconv.Itoa(t0 + 1)
		if fold > 1 {
			rowName = strconv.Itoa(t1)
		}
		out = append(out, lbl(fmt.Sprintf("%3s ", rowName))+g.st.heat.rampLine(levels)+"  "+
			g.st.accent.Render(bar)+g.st.barEmpty.Render(strings.Repeat("·", profileW-width(bar)))+fmt.Sprintf(" %.1e", math.Pow(10, p)))
	}
	first, last := cols[0], cols[len(cols)-1]
	from := fmt.Sprintf("%d/%d", first.from[0], first.from[1])
	to := fmt.Sprintf("%d/%d", last.to[0], last.to[1])
	name := "batches →"
	if !g.linear {
		name = "log batches →"
	}
	out = append(out,
		lbl("    "+from+strings.Repeat(" ", max(len(x)-len(from)-len(to), 1))+to),
		lbl("    "+fitWidth(name, len(x))+"  latest"))
	return strings.Join(out, "\n")
}

// resampleCols maps the columns onto at most w screen columns, folding
// fold rows into one (by the mean of their logs). On the linear axis each
// screen column is the mean of the columns it covers (or each column is
// repeated up to four times when there are few); on the log axis screen
// column s shows the columns whose samples' middle falls in the s-th
// equal stretch of log(1 + sample), the one before it where none does.
func resampleCols(cols []gradCol, w, fold int, logAxis bool) [][]float64 {
	n := len(cols)
	if n == 0 || w <= 0 {
		return nil
	}
	T := len(cols[0].logs)
	lines := (T + fold - 1) / fold
	foldCol := func(c gradCol) []float64 {
		out := make([]float64, lines)
		for l := range out {
			out[l] = meanOf(c.logs[l*fold : min((l+1)*fold, T)])
		}
		return out
	}
	mean := func(cs []gradCol) []float64 {
		sum := make([]float64, lines)
		for _, c := range cs {
			for l, v := range foldCol(c) {
				sum[l] += v / float64(len(cs))
			}
		}
		return sum
	}
	if logAxis {
		samples := 0
		mids := make([]float64, n)
		for i, c := range cols {
			mids[i] = float64(samples) + float64(c.n)/2
			samples += c.n
		}
		span := math.Log1p(float64(samples))
		width := min(w, 4*n)
		out := make([][]float64, width)
		a := 0
		for s := range out {
			b := a
			for b < n && math.Log1p(mids[b])/span*float64(width) < float64(s+1) {
				b++
			}
			switch {
			case b > a:
				out[s] = mean(cols[a:b])
			case s > 0:
				out[s] = out[s-1]
			default:
				out[s] = foldCol(cols[0])
			}
			a = b
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
		out[i] = mean(cols[a:b])
	}
	return out
}

// gradLevel is the ramp level of log10 value v against the column's
// largest m, on a log scale of gradDecades decades.
func gradLevel(v, m float64) int { return rampLevel(1 + (v-m)/gradDecades) }

func maxOf(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = math.Max(m, x)
	}
	return m
}

func meanOf(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(max(len(v), 1))
}

// The gradients view is a view.
var _ view = (*gradients)(nil)
