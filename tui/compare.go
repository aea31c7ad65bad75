package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
	"github.com/mnist-tui/mnist-tui/tui/charts"
)

// The comparison of several runs on the dashboard: overlaid charts and the
// runs table.

// markEvery is how many columns apart a run's marker is drawn along its
// line in Braille charts without colour.
const markEvery = 8

// runSeries builds one chart series per run, in the list's order, from
// pick (nil Y: the run has nothing to show yet). Each run has its colour
// and marker; without colour, Braille lines carry their markers too.
func (d *dashboard) runSeries(pick func(st *runState) (x, y []float64), marker bool) []charts.Series {
	out := make([]charts.Series, 0, d.set.len())
	for i, id := range d.set.ids {
		st := d.set.states[id]
		x, y := pick(st)
		s := charts.Series{Name: d.set.label(id), X: x, Y: y, Style: d.st.runStyle(i), Glyph: runMarker(i), Marker: marker}
		if !marker && !d.st.colour {
			s.MarkEvery, s.MarkFrom = markEvery, (i*3)%markEvery
		}
		out = append(out, s)
	}
	return out
}

// selectedLast returns s with the selected run's series moved to the end,
// so that it is drawn over the others.
func (d *dashboard) selectedLast(s []charts.Series) []charts.Series {
	i := d.set.index(d.set.sel)
	if i < 0 || i >= len(s) {
		return s
	}
	out := make([]charts.Series, 0, len(s))
	out = append(out, s[:i]...)
	out = append(out, s[i+1:]...)
	return append(out, s[i])
}

// compareCharts draws the charts of every run overlaid, on one x axis in
// epochs (runs of other batch sizes, data sizes or schedules line up on
// it): training loss per batch (smoothed as the s key says) and
// validation accuracy per epoch on one row; with room for two rows,
// training loss and accuracy per batch, then validation loss and accuracy
// per epoch.
func (d *dashboard) compareCharts(l layout) string {
	alpha := smoothings()[d.smooth]
	left := (d.w - 1) / 2
	right := d.w - 1 - left
	epochs := 2
	for _, id := range d.set.ids {
		st := d.set.states[id]
		epochs = max(epochs, st.cfg.Epochs, st.last.Epoch)
	}
	smoothName := "raw"
	if alpha > 0 {
		smoothName = fmt.Sprintf("EMA %.2f", alpha)
	}
	batches := func(ys func(st *runState) []float64) []charts.Series {
		return d.runSeries(func(st *runState) ([]float64, []float64) {
			y := ys(st)
			if alpha > 0 {
				y = charts.EMA(y, alpha)
			}
			return st.batchX, y
		}, false)
	}
	perEpoch := func(loss bool) []charts.Series {
		return d.runSeries(func(st *runState) (x, y []float64) {
			for _, r := range st.rows {
				if r.phase != engine.PhaseVal {
					continue
				}
				x = append(x, float64(r.epoch))
				if loss {
					y = append(y, r.loss)
				} else {
					y = append(y, r.acc)
				}
			}
			return x, y
		}, true)
	}
	chart := func(w int, s []charts.Series, acc bool, empty string) charts.Chart {
		c := charts.Chart{Width: w, Height: l.chartH - 1, Series: d.selectedLast(s), ASCII: d.ascii,
			XFixed: true, XMin: 1, XMax: float64(epochs), XLabel: "epoch",
			Axis: d.st.axis, Label: d.st.label, Empty: empty}
		if acc {
			c.YFixed, c.YMin, c.YMax = true, 0, 1
		}
		return c
	}
	titled := func(title string, w int, c charts.Chart) string {
		return ansi.Truncate(d.st.bold.Render(title), w, "…") + "\n" + c.Render()
	}
	const noBatch, noEpoch = "no training batch yet", "no finished epoch yet"
	loss := batches(func(st *runState) []float64 { return st.batchLoss })
	valAcc := perEpoch(false)
	// One legend for every chart: the runs are drawn alike in each; then
	// what only the selected run shows.
	test, lr := d.selectedExtras(loss)
	legend := d.st.label.Render("runs  ") + charts.Legend(d.ascii, valAcc...)
	if extras := nonEmpty(test, lr); len(extras) > 0 {
		legend += d.st.label.Render("   "+d.set.label(d.set.sel)+": ") + charts.Legend(d.ascii, extras...)
	}
	legend = ansi.Truncate(legend, d.w, "…")
	lossC := chart(left, loss, false, noBatch)
	lossC.Series = append(lossC.Series, nonEmpty(lr)...)
	valAccC := chart(right, valAcc, true, noEpoch)
	valAccC.Series = append(valAccC.Series, nonEmpty(test)...)
	valAccT := "val accuracy"
	if test.Y != nil {
		valAccT = "val · test accuracy"
	}
	if l.chartRows == 1 {
		return legend + "\n" + joinCols(
			titled("train loss · "+smoothName, left, lossC),
			titled(valAccT, right, valAccC))
	}
	acc := batches(func(st *runState) []float64 { return st.batchAcc })
	valLoss := perEpoch(true)
	return legend + "\n" + joinCols(
		titled("train loss · "+smoothName, left, lossC),
		titled("train accuracy · "+smoothName, right, chart(right, acc, true, noBatch))) + "\n" +
		joinCols(
			titled("val loss", left, chart(left, valLoss, false, noEpoch)),
			titled(valAccT, right, valAccC))
}

// selectedExtras are what the overlaid charts show of the selected run
// alone, drawn over every run in its colour: its test accuracy during
// training (live evaluations, e and the final one; for the validation
// accuracy chart) and its learning-rate changes (on its curve of loss,
// the selected run's series of the loss chart's). A series without
// points has no Y.
func (d *dashboard) selectedExtras(loss []charts.Series) (test, lr charts.Series) {
	st, i := d.run, d.set.index(d.set.sel)
	if i < 0 || i >= len(loss) {
		return test, lr
	}
	if s, ok := d.testAccSeries(st, st.batchX); ok {
		test = s
		test.Style, test.Glyph, test.MarkEvery = d.st.runStyle(i), testGlyph, markEvery
	}
	if s, ok := d.lrSeries(st, st.batchX, loss[i].Y); ok {
		lr = s
	}
	return test, lr
}

// testGlyph draws the selected run's test accuracy on the overlaid
// charts: no run's marker (runMarkers), unlike the one-run charts' +.
const testGlyph = '•'

// nonEmpty returns the series of s that have points.
func nonEmpty(s ...charts.Series) []charts.Series {
	out := make([]charts.Series, 0, len(s))
	for _, x := range s {
		if len(x.Y) > 0 {
			out = append(out, x)
		}
	}
	return out
}

// tables draws the runs table, and beside it the selected run's epoch
// table when the terminal is wide enough for both: n rows each at most.
func (d *dashboard) tables(n int) string {
	lines, _ := d.runsTable(n)
	block := strings.Join(lines, "\n")
	const gap = 4
	if w := maxWidth(lines); d.w >= w+gap+epochTableW {
		block = hjoin(fit(block, w, n+1), strings.Repeat(" ", gap), d.table(n))
	}
	return block
}

// epochTableW is the width of the epoch table (see table).
const epochTableW = 48

// maxWidth is the widest of lines.
func maxWidth(lines []string) int {
	w := 0
	for _, l := range lines {
		w = max(w, width(l))
	}
	return w
}

// runsFirst is the index of the first run the runs table shows when it has
// room for n rows: the window keeps the selected run in view.
func (d *dashboard) runsFirst(n int) int {
	sel := max(d.set.index(d.set.sel), 0)
	if n <= 0 || sel < n {
		return 0
	}
	return min(sel-n+1, max(d.set.len()-n, 0))
}

// runsTable draws the table of runs, n rows at most (first is the index
// of the first run shown): each run's number and marker, the settings
// that set it apart, its state (queued runs with their place in the
// queue), best validation accuracy, test accuracy, time and training
// samples a second. The selected run is marked ›.
func (d *dashboard) runsTable(n int) (lines []string, first int) {
	fields := d.set.differ
	if len(fields) == 0 {
		fields = []string{"cell"}
	}
	head := append(append([]string{"run"}, fields...), "state", "val best", "test", "time", "train/s")
	right := make([]bool, len(head)) // numbers are aligned right
	for i, h := range head {
		switch h {
		case "cell", "data", "load", "resume", "state":
		default:
			right[i] = i > 0
		}
	}
	first = d.runsFirst(n)
	last := min(first+max(n, 0), d.set.len())
	rows := make([][]string, 0, last-first)
	for i := first; i < last; i++ {
		id := d.set.ids[i]
		st := d.set.states[id]
		row := []string{fmt.Sprintf("%d %c", id, runMarker(i))}
		for _, f := range fields {
			row = append(row, settingText(st.info, f))
		}
		val, test, rate := "-", "-", "-"
		if a, ok := st.bestVal(); ok {
			val = fmt.Sprintf("%.4f", a)
		}
		if st.hasTest {
			test = fmt.Sprintf("%.4f", st.testAcc)
		}
		if r, ok := st.trainRate(); ok {
			rate = group(int(r + 0.5))
		}
		elapsed := "-"
		if st.started {
			elapsed = clock(st.elapsed())
		}
		rows = append(rows, append(row, d.stateText(id, st), val, test, elapsed, rate))
	}
	widths := make([]int, len(head))
	for i, h := range head {
		widths[i] = width(h)
		for _, r := range rows {
			widths[i] = max(widths[i], width(r[i]))
		}
	}
	cell := func(i int, s string) string {
		if right[i] {
			return strings.Repeat(" ", widths[i]-width(s)) + s
		}
		return s + strings.Repeat(" ", widths[i]-width(s))
	}
	// rest joins the cells after the first, each after two spaces.
	rest := func(r []string) string {
		var b strings.Builder
		for i, s := range r[1:] {
			b.WriteString("  " + cell(i+1, s))
		}
		return strings.TrimRight(b.String(), " ")
	}
	lines = append(lines, d.st.label.Render("  "+cell(0, head[0])+rest(head)))
	for k, r := range rows {
		i := first + k
		id := d.set.ids[i]
		// The run's number and marker in its colour, the rest plain (the
		// selected run's in bold, marked ›).
		mark, text := "  ", rest(r)
		if id == d.set.sel {
			mark, text = "› ", d.st.bold.Render(text)
		}
		lines = append(lines, mark+d.st.runStyle(i).Render(cell(0, r[0]))+text)
	}
	return lines, first
}

// settingText is a run's setting name (a runs.Fields name) for the runs
// table.
func settingText(info *runs.Info, name string) string {
	if info == nil {
		return "-"
	}
	switch name {
	case "cell":
		return info.Spec.Cell.Title()
	case "data":
		return info.Spec.DataName()
	case "limit":
		if info.Spec.Limit == 0 {
			return "all"
		}
	}
	if v := runs.FormatField(info.Spec, name); v != "" {
		return v
	}
	return "-"
}

// stateText says where run id is: "queued 2nd", "train 2/3", "done", ...
func (d *dashboard) stateText(id runs.ID, st *runState) string {
	switch st.state {
	case runs.StateQueued:
		if q := d.set.queued(id); q > 0 {
			return "queued " + ordinal(q)
		}
		return "queued"
	case runs.StateRunning, runs.StatePaused:
		what := "starting"
		if st.started {
			what = fmt.Sprintf("%s %d/%d", st.last.Phase, st.last.Epoch, st.last.Epochs)
			if st.last.Phase == engine.PhaseTest {
				what = "test"
			}
		}
		if st.state == runs.StatePaused {
			return "paused " + what
		}
		return what
	case 0:
		return "-"
	}
	return st.state.String()
}

// ordinal writes n as 1st, 2nd, 3rd, 4th, ...
func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return fmt.Sprintf("%d%s", n, suffix)
}

// runAt returns the run whose row of the runs table is under a click.
func (d *dashboard) runAt(m mouseMsg) (runs.ID, bool) {
	if !m.click() || d.set.len() < 2 {
		return 0, false
	}
	header := d.header()
	hl := strings.Count(header, "\n") + 1
	l := d.layout(hl)
	top := hl + 1 + 2 + 1 + l.chartRows*l.chartH // the table's header line
	if l.chartRows > 0 {
		top++ // the legend
	}
	lines, first := d.runsTable(l.tableRows)
	row := m.Y - top - 1
	if row < 0 || row >= len(lines)-1 || m.X < 0 || m.X >= maxWidth(lines) {
		return 0, false
	}
	return d.set.ids[first+row], true
}
