package tui

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/progress"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
	"github.com/mnist-tui/mnist-tui/tui/charts"
)

// smoothings are the EMA factors the s key cycles through (0: off).
func smoothings() []float64 { return []float64{0.9, 0.97, 0.99, 0, 0.6} }

// dashboard shows the run while it trains: header, progress bars, charts and
// the epoch table. With several runs in the list it compares them: the
// charts overlay every run, each in its colour and with its marker, under
// a legend naming what sets each apart, and a runs table takes the epoch
// table's place (beside it, when the terminal is wide); the header and
// the bars are the selected run's.
type dashboard struct {
	set *runSet
	run *runState // set.shown
	st  *styles
	km  keyMap

	phaseBar, runBar progress.Model
	ascii            bool
	smooth           int // index into smoothings

	w, h int
	// view caches the drawn dashboard, drawn for viewKey: only the run's
	// data, the size and the chart settings change what it shows. cache,
	// when set, shares drawings with other Models of the same run.
	view    string
	viewKey cacheKey
	cache   *Cache
}

func newDashboard(set *runSet, st *styles, km keyMap, ascii bool, cache *Cache) *dashboard {
	// Solid fills: a gradient converts a colour per cell, a third of a
	// frame's time in the ANSI 256 profile.
	bar := func(colour string) progress.Model {
		p := progress.New(progress.WithSolidFill(colour), progress.WithColorProfile(st.r.ColorProfile()))
		p.PercentageStyle = st.dim
		return p
	}
	return &dashboard{
		set: set, run: set.shown, st: st, km: km, ascii: ascii, cache: cache,
		phaseBar: bar("#7571F9"),
		runBar:   bar("#2EAD6A"),
	}
}

func (d *dashboard) title() string { return "Dashboard" }

func (d *dashboard) typing() bool { return false }

func (d *dashboard) keys() ([]key.Binding, [][]key.Binding) {
	if d.set.len() > 1 {
		return []key.Binding{d.km.PickRun, d.km.Smooth, d.km.Charts}, [][]key.Binding{{d.km.Smooth, d.km.Charts, d.km.ClickRun}}
	}
	return []key.Binding{d.km.Smooth, d.km.Charts}, [][]key.Binding{{d.km.Smooth, d.km.Charts}}
}

func (d *dashboard) kind() viewKind { return kindDashboard }

func (d *dashboard) init() tea.Cmd { return nil }

func (d *dashboard) setRect(r rect) { d.w, d.h = r.w, r.h }

func (d *dashboard) update(msg tea.Msg) (view, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, d.km.Smooth):
			d.smooth = (d.smooth + 1) % len(smoothings())
		case key.Matches(msg, d.km.Charts):
			d.ascii = !d.ascii
		}
	case mouseMsg:
		// A click on a row of the runs table shows that run.
		if id, ok := d.runAt(msg); ok {
			return d, pickRun(id)
		}
	}
	return d, nil
}

// layout decides the heights of the dashboard's parts.
type layout struct {
	tableRows int // table rows shown (without its header)
	chartRows int // 0, 1 (per-batch charts, validation overlaid) or 2 (plus per-epoch charts)
	chartH    int // lines of each chart row, title included
}

// Chart heights: the least for a row of charts, and the most before the
// table gets the extra lines.
const (
	minChartH = 6
	maxChartH = 30
)

func (d *dashboard) layout(headerLines int) layout {
	var l layout
	avail := d.h - headerLines - 1 - 2 - 1 // header, gap, two bars, gap
	rows := len(d.tableRows())
	if d.set.len() > 1 {
		// The runs table, and the legend line above the charts.
		rows = d.set.len()
		avail--
	}
	l.tableRows = min(rows, 6)
	left := avail - (l.tableRows + 1)
	if left < minChartH {
		// Short terminals: shrink the table (to two rows) before dropping
		// the charts.
		l.tableRows = max(min(rows, 2), min(l.tableRows, avail-1-minChartH))
		left = avail - (l.tableRows + 1)
	}
	switch {
	case left >= 2*9:
		l.chartRows, l.chartH = 2, left/2
	case left >= minChartH:
		l.chartRows, l.chartH = 1, left
	default:
		l.chartRows = 0
		l.tableRows = max(0, min(rows, avail-1))
	}
	if l.chartRows > 0 && l.chartH > maxChartH {
		// Very tall terminals: give the table the rest.
		extra := (l.chartH - maxChartH) * l.chartRows
		l.chartH = maxChartH
		l.tableRows = min(rows, l.tableRows+extra)
	}
	return l
}

// key is what the drawing depends on: the selected run's data, and with
// several runs every run's (runSet.fingerprint).
func (d *dashboard) key() cacheKey {
	k := cacheKey{
		version: d.run.version, applied: d.run.applied, over: d.run.over,
		w: d.w, h: d.h, profile: d.st.r.ColorProfile(), ascii: d.ascii, smooth: d.smooth,
	}
	if d.set.len() > 1 {
		k.runs = d.set.fingerprint()
	}
	return k
}

// View draws the dashboard, or returns the drawing of the same data at the
// same size and settings: this Model's last one, or another Model's from
// the shared cache.
func (d *dashboard) View() string {
	k := d.key()
	if d.view != "" && k == d.viewKey {
		return d.view
	}
	if d.cache != nil {
		d.view = d.cache.get(k, d.draw)
	} else {
		d.view = d.draw()
	}
	d.viewKey = k
	return d.view
}

// draw draws the dashboard.
func (d *dashboard) draw() string {
	header := d.header()
	l := d.layout(strings.Count(header, "\n") + 1)
	parts := []string{header, "", d.bars(), ""}
	if d.set.len() > 1 {
		if l.chartRows > 0 {
			parts = append(parts, d.compareCharts(l))
		}
		parts = append(parts, d.tables(l.tableRows))
		return fit(strings.Join(parts, "\n"), d.w, d.h)
	}
	if l.chartRows > 0 {
		parts = append(parts, d.drawCharts(l))
	}
	parts = append(parts, d.table(l.tableRows))
	return fit(strings.Join(parts, "\n"), d.w, d.h)
}

// exactSize reports that View is fitted to the size given to setSize, so
// the root need not measure it (a shared drawing is fitted once for all).
func (d *dashboard) exactSize() bool { return true }

// header shows the model, the data and the hyperparameters, and where
// the run started from.
func (d *dashboard) header() string {
	c, s := d.run.cfg, d.run.sizes
	lbl, val := d.st.label.Render, d.st.bold.Render
	if d.run.info == nil {
		return lbl("no run yet")
	}
	model := fmt.Sprintf("%s %d→%d→%d", c.Cell.Title(), c.Inputs, c.Hidden, c.Classes)
	sep := lbl(" · ")
	lines := wrapItems([]string{
		lbl("model ") + val(model),
		val(group(c.Params())) + lbl(" params"),
		lbl("train ") + val(group(s[0])),
		lbl("val ") + val(group(s[1])),
		lbl("test ") + val(group(s[2])),
	}, sep, d.w)
	lines = append(lines, wrapItems([]string{
		lbl("batch ") + val(fmt.Sprint(c.Batch)),
		d.lrItem(lbl, val),
		lbl("pace ") + val(runs.FormatPace(d.run.pace)),
		lbl("epochs ") + val(fmt.Sprint(c.Epochs)),
		lbl("seed ") + val(fmt.Sprint(c.Seed)),
		lbl("data ") + val(d.run.info.Data.Name),
		lbl(d.run.info.Data.Rule()),
	}, sep, d.w)...)
	if ck := d.run.info.Checkpoint; ck != nil {
		lines = append(lines, wrapItems(checkpointItems(ck, lbl, val), sep, d.w)...)
	}
	return strings.Join(lines, "\n")
}

// lrItem is the header's learning rate: the rate now, and how many times
// it was changed during training.
func (d *dashboard) lrItem(lbl, val func(...string) string) string {
	item := lbl("Adam lr ") + val(fmtLR(d.run.lr))
	switch n := len(d.run.lrMarks); {
	case n == 1:
		item += lbl(fmt.Sprintf(" (was %s)", fmtLR(d.run.lrMarks[0].from)))
	case n > 1:
		item += lbl(fmt.Sprintf(" (%d changes, from %s)", n, fmtLR(d.run.lrMarks[0].from)))
	}
	return item
}

// testAccSeries is the test accuracy of st's evaluations made during
// training (live, asked for with e, and the final one) at the training
// batch each followed: at batch n on the per-batch charts (xs nil), or
// at xs[n-1] (the batch's place in epochs, st.batchX) on the overlaid
// charts, which leave out the evaluations before the first batch.
func (d *dashboard) testAccSeries(st *runState, xs []float64) (charts.Series, bool) {
	x, y := make([]float64, 0, len(st.evals)), make([]float64, 0, len(st.evals))
	for _, e := range st.evals {
		switch {
		case xs == nil:
			x = append(x, float64(e.x))
		case e.x >= 1 && e.x <= len(xs):
			x = append(x, xs[e.x-1])
		default:
			continue
		}
		y = append(y, e.acc)
	}
	if len(x) == 0 {
		return charts.Series{}, false
	}
	return charts.Series{Name: "test", X: x, Y: y, Style: d.st.test, Glyph: '+'}, true
}

// lrSeries marks each of st's learning-rate changes on a loss chart, at
// the batch it took effect after, on the curve ys there (at x = the
// batch's index, or xs[index] when xs is given): glyphs alone, with no
// line between them.
func (d *dashboard) lrSeries(st *runState, xs, ys []float64) (charts.Series, bool) {
	var x, y []float64
	for _, m := range st.lrMarks {
		if len(ys) == 0 || (xs != nil && len(xs) < len(ys)) {
			break
		}
		i := min(max(m.x-1, 0), len(ys)-1)
		at := float64(i)
		if xs != nil {
			at = xs[i]
		}
		x, y = append(x, at, at), append(y, ys[i], math.NaN())
	}
	if len(x) == 0 {
		return charts.Series{}, false
	}
	return charts.Series{Name: "lr change", X: x, Y: y, Style: d.st.lrMark, Glyph: '◆', Marker: true}, true
}

// checkpointItems describe the checkpoint a run started from: its file,
// its saved epoch and accuracies.
func checkpointItems(ck *runs.CheckpointInfo, lbl, val func(...string) string) []string {
	how := "loaded "
	if ck.Resume {
		how = "resumed "
	}
	items := []string{lbl(how) + val(ck.Path), lbl("saved after epoch ") + val(fmt.Sprint(ck.Epoch))}
	if ck.Val != nil {
		items = append(items, lbl("val acc ")+val(fmt.Sprintf("%.4f", ck.Val.Acc)))
	}
	if ck.Test != nil {
		items = append(items, lbl("test acc ")+val(fmt.Sprintf("%.4f", ck.Test.Acc)))
	}
	return items
}

// wrapItems joins items with sep into as few lines of at most w cells as
// it can without splitting an item.
func wrapItems(items []string, sep string, w int) []string {
	var lines []string
	cur, curW, sepW := "", 0, width(sep)
	for _, it := range items {
		iw := width(it)
		switch {
		case cur == "":
			cur, curW = it, iw
		case curW+sepW+iw <= w:
			cur, curW = cur+sep+it, curW+sepW+iw
		default:
			lines = append(lines, cur)
			cur, curW = it, iw
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}

// bars draws the phase and whole-run progress bars, each on one line with
// its numbers.
func (d *dashboard) bars() string {
	run, r := d.run, d.run.last
	var phaseText, runText string
	switch {
	case !run.started:
		phaseText = "waiting for the first report"
		runText = ""
	default:
		ep := fmt.Sprintf("epoch %d/%d", r.Epoch, r.Epochs)
		if r.Phase == engine.PhaseTest {
			ep = "test set"
		}
		phaseText = fmt.Sprintf("%-5s %s  %s/%s  %s/s  %s",
			r.Phase, ep, group(r.Samples), group(r.Total), group(int(r.SamplesPerSec+0.5)), clock(r.Elapsed))
		if eta, ok := run.phaseETA(); ok {
			phaseText += "  ETA " + clock(eta)
		}
		runText = fmt.Sprintf("run   step %s/%s  %s", group(r.RunStep), group(r.RunSteps), clock(run.elapsed()))
		if eta, ok := run.runETA(); ok {
			runText += "  ETA " + clock(eta)
		}
		if run.done {
			runText = fmt.Sprintf("run   done in %s", clock(run.elapsed()))
			if run.hasTest {
				runText += fmt.Sprintf("  test accuracy %.4f  loss %.4f", run.testAcc, run.testLoss)
			}
		}
	}
	return d.barLine(d.phaseBar, run.phaseFraction(), phaseText) + "\n" +
		d.barLine(d.runBar, run.runFraction(), runText)
}

// barLine puts text on the left and a bar filling the rest of the width.
func (d *dashboard) barLine(p progress.Model, f float64, text string) string {
	textW := min(width(text), d.w-12)
	text = ansi.Truncate(text, textW, "…")
	p.Width = max(d.w-textW-2, 10)
	return d.st.dim.Render(text) + "  " + p.ViewAs(f)
}

// drawCharts draws one or two rows of two charts.
func (d *dashboard) drawCharts(l layout) string {
	alpha := smoothings()[d.smooth]
	left := (d.w - 1) / 2
	right := d.w - 1 - left
	smoothName := "EMA off"
	if alpha > 0 {
		smoothName = fmt.Sprintf("EMA %.2f", alpha)
	}
	rawGlyph := '.'
	batchSeries := func(ys []float64) []charts.Series {
		s := []charts.Series{{Name: "raw", Y: ys, Style: d.st.raw, Glyph: rawGlyph}}
		if alpha > 0 {
			s = append(s, charts.Series{Name: smoothName, Y: charts.EMA(ys, alpha), Style: d.st.smooth, Glyph: '*'})
		} else {
			s[0].Name, s[0].Style, s[0].Glyph = "raw, "+smoothName, d.st.smooth, '*'
		}
		return s
	}
	lossS, accS := batchSeries(d.run.batchLoss), batchSeries(d.run.batchAcc)
	if s, ok := d.testAccSeries(d.run, nil); ok {
		accS = append(accS, s)
	}
	if s, ok := d.lrSeries(d.run, nil, lossS[len(lossS)-1].Y); ok {
		lossS = append(lossS, s)
	}
	lossName, accName := "train loss", "train accuracy"
	if l.chartRows == 1 {
		// No room for the per-epoch charts: show validation on these, at
		// the batch each validation followed, so that training and
		// validation can still be compared.
		var vx, vl, va []float64
		for _, r := range d.run.rows {
			if r.phase == engine.PhaseVal {
				vx, vl, va = append(vx, float64(r.batches)), append(vl, r.loss), append(va, r.acc)
			}
		}
		val := func(y []float64) charts.Series {
			return charts.Series{Name: "val", X: vx, Y: y, Style: d.st.val, Glyph: 'x', Marker: true}
		}
		lossS, accS = append(lossS, val(vl)), append(accS, val(va))
		lossName, accName = "loss", "accuracy"
	}
	lossT := d.chartTitle(lossName, left, legendOrder(lossS))
	accT := d.chartTitle(accName, right, legendOrder(accS))
	lossC := charts.Chart{Width: left, Height: l.chartH - 1, Series: lossS, ASCII: d.ascii,
		XLabel: "batch", Axis: d.st.axis, Label: d.st.label, Empty: "no training batch yet"}
	accC := lossC
	accC.Width, accC.Series, accC.YFixed, accC.YMin, accC.YMax = right, accS, true, 0, 1
	rows := []string{joinCols(lossT+"\n"+lossC.Render(), accT+"\n"+accC.Render())}

	if l.chartRows > 1 {
		var tx, tl, ta, vx, vl, va []float64
		for _, r := range d.run.rows {
			switch r.phase {
			case engine.PhaseTrain:
				tx, tl, ta = append(tx, float64(r.epoch)), append(tl, r.loss), append(ta, r.acc)
			case engine.PhaseVal:
				vx, vl, va = append(vx, float64(r.epoch)), append(vl, r.loss), append(va, r.acc)
			}
		}
		pair := func(ty, vy []float64) []charts.Series {
			return []charts.Series{
				{Name: "train", X: tx, Y: ty, Style: d.st.train, Glyph: 'o', Marker: true},
				{Name: "val", X: vx, Y: vy, Style: d.st.val, Glyph: 'x', Marker: true},
			}
		}
		ls, as := pair(tl, vl), pair(ta, va)
		epochs := float64(max(d.run.cfg.Epochs, 2))
		el := charts.Chart{Width: left, Height: l.chartH - 1, Series: ls, ASCII: d.ascii,
			XFixed: true, XMin: 1, XMax: epochs, XLabel: "epoch", Axis: d.st.axis, Label: d.st.label,
			Empty: "no finished epoch yet"}
		ea := el
		ea.Width, ea.Series, ea.YFixed, ea.YMin, ea.YMax = right, as, true, 0, 1
		rows = append(rows, joinCols(
			d.chartTitle("loss per epoch", left, ls)+"\n"+el.Render(),
			d.chartTitle("accuracy per epoch", right, as)+"\n"+ea.Render()))
	}
	return strings.Join(rows, "\n")
}

// legendOrder lists series for a legend that may be cut: the last drawn
// (validation, the smoothed curve) first.
func legendOrder(s []charts.Series) []charts.Series {
	out := make([]charts.Series, len(s))
	for i, x := range s {
		out[len(s)-1-i] = x
	}
	return out
}

// chartTitle is a chart's title with its legend, cut to w cells.
func (d *dashboard) chartTitle(title string, w int, s []charts.Series) string {
	t := d.st.bold.Render(title) + "  " + charts.Legend(d.ascii, s...)
	return ansi.Truncate(t, w, "…")
}

// joinCols puts two blocks side by side with one space between.
func joinCols(a, b string) string {
	return hjoin(a, " ", b)
}

// tableRows lists the finished phases and the running one.
func (d *dashboard) tableRows() []phaseRow {
	rows := d.run.rows
	if d.run.running() {
		r := d.run.last
		rows = append(rows[:len(rows):len(rows)], phaseRow{epoch: r.Epoch, phase: r.Phase, loss: r.Loss, acc: r.Acc, elapsed: r.Elapsed})
	}
	return rows
}

// table draws the notebook's epoch table, its newest n rows.
func (d *dashboard) table(n int) string {
	rows := d.tableRows()
	if n < len(rows) {
		rows = rows[len(rows)-n:]
	}
	var b strings.Builder
	b.WriteString(d.st.label.Render(fmt.Sprintf("%-6s %-6s %8s %9s %8s", "epoch", "phase", "loss", "accuracy", "time")))
	for _, r := range rows {
		ep := fmt.Sprint(r.epoch)
		if r.phase == engine.PhaseTest {
			ep = "-"
		}
		line := fmt.Sprintf("%-6s %-6s %8.4f %9.4f %8s", ep, r.phase, r.loss, r.acc, clock(r.elapsed))
		if !r.finished {
			line = d.st.dim.Render(line + "  running")
		}
		b.WriteString("\n" + line)
	}
	return b.String()
}

// clock formats a duration as m:ss or h:mm:ss.
func clock(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	if s < 0 {
		s = 0
	}
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// group formats n with thousands separators.
func group(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
