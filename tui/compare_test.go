package tui

import (
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
)

// runEvents wraps reports as run id's events of attempt gen.
func runEvents(id runs.ID, rs []engine.Report, gen int) []runs.Event {
	out := make([]runs.Event, len(rs))
	for i, r := range rs {
		out[i] = runs.Event{Run: id, Gen: gen, Kind: runs.KindReport, Report: r}
	}
	return out
}

// lstmRun is a made-up LSTM run of batches of 128 whose curves lie well
// apart from fakeRun's RNN: another batch size, so other steps, a loss
// falling lower and an accuracy staying lower (made up, not consistent).
func lstmRun(preds *engine.Predictions) (engine.Config, []engine.Report) {
	c := testConfig()
	c.Cell, c.Batch = engine.LSTM, 128
	rs := fakeRun(c, preds)
	for i := range rs {
		r := &rs[i]
		r.BatchLoss, r.Loss = r.BatchLoss*0.5, r.Loss*0.5
		r.BatchAcc, r.Acc = r.BatchAcc*0.6, r.Acc*0.6
	}
	return c, rs
}

// otherPreds are predictions unlike fakePreds': every fifth digit wrong.
func otherPreds(t testing.TB) *engine.Predictions {
	p := fakePreds(testSet(t))
	for i := range p.Pred {
		p.Pred[i] = p.Labels[i]
		if i%5 == 0 {
			p.Pred[i] = (p.Labels[i] + 1) % 10
		}
	}
	p.Acc = 0.8
	return p
}

// comparison is a model of two runs (1: RNN, done; 2: LSTM, done or
// upTo its run step) and optionally a third queued one (GRU), at w x h.
func comparison(t testing.TB, r *termenv.Profile, w, h, lstmUpTo int, third bool) tea.Model {
	t.Helper()
	p := termenv.Ascii
	if r != nil {
		p = *r
	}
	a := fakeInfo(testConfig(), testSet(t))
	lc, lrs := lstmRun(otherPreds(t))
	b := fakeInfo(lc, testSet(t))
	b.ID = 2
	evs := []runs.Event{
		{Run: 1, Gen: 1, Kind: runs.KindAdded, Info: a, Index: 0},
		{Run: 1, Gen: 1, Kind: runs.KindState, State: runs.StateQueued},
		{Run: 2, Gen: 1, Kind: runs.KindAdded, Info: b, Index: 1},
		{Run: 2, Gen: 1, Kind: runs.KindState, State: runs.StateQueued},
	}
	if third {
		gc := testConfig()
		gc.Cell = engine.GRU
		c := fakeInfo(gc, testSet(t))
		c.ID = 3
		evs = append(evs, runs.Event{Run: 3, Gen: 1, Kind: runs.KindAdded, Info: c, Index: 2},
			runs.Event{Run: 3, Gen: 1, Kind: runs.KindState, State: runs.StateQueued})
	}
	queue := []runs.ID{2}
	if third {
		queue = append(queue, 3)
	}
	evs = append(evs, runs.Event{Kind: runs.KindQueue, Queue: queue},
		runs.Event{Run: 1, Gen: 1, Kind: runs.KindState, State: runs.StateRunning},
		runs.Event{Run: 1, Gen: 1, Kind: runs.KindStart, Info: a})
	evs = append(evs, runEvents(1, fakeRun(testConfig(), fakePreds(testSet(t))), 1)...)
	evs = append(evs, runs.Event{Run: 1, Gen: 1, Kind: runs.KindState, State: runs.StateDone})
	queue = queue[1:]
	evs = append(evs, runs.Event{Kind: runs.KindQueue, Queue: queue},
		runs.Event{Run: 2, Gen: 1, Kind: runs.KindState, State: runs.StateRunning},
		runs.Event{Run: 2, Gen: 1, Kind: runs.KindStart, Info: b})
	if lstmUpTo > 0 {
		lrs = upTo(lrs, lstmUpTo)
	}
	evs = append(evs, runEvents(2, lrs, 1)...)
	if lstmUpTo <= 0 {
		evs = append(evs, runs.Event{Run: 2, Gen: 1, Kind: runs.KindState, State: runs.StateDone})
	}
	m := sized(New(Options{Renderer: renderer(p), Events: make(chan runs.Event)}), w, h)
	m, _ = m.Update(eventsMsg(evs))
	return m
}

// chartArea is the part of a dashboard's body from the legend line to the
// last chart's x labels.
func chartArea(t *testing.T, m tea.Model) string {
	t.Helper()
	lines := strings.Split(body(m.(Model)), "\n")
	first, last := -1, -1
	for i, l := range lines {
		if first < 0 && strings.HasPrefix(l, "runs  ") {
			first = i
		}
		if strings.Contains(l, "epoch") && strings.HasPrefix(strings.TrimSpace(l), "1 ") {
			last = i
		}
	}
	if first < 0 || last < first {
		t.Fatalf("no chart area (legend %d, x labels %d):\n%s", first, last, body(m.(Model)))
	}
	return strings.Join(lines[first:last+1], "\n")
}

// TestTwoRunsOverlaid draws two runs' charts on one dashboard (the chart
// area is a golden, in Braille and in plain characters, at 80x24 and
// 120x40): one legend names both runs by what differs, each run is drawn
// with its own marker (colour is checked apart), on one epoch axis.
func TestTwoRunsOverlaid(t *testing.T) {
	for _, s := range []struct {
		name string
		w, h int
	}{{"80x24", 80, 24}, {"120x40", 120, 40}} {
		for _, plain := range []bool{false, true} {
			name := s.name + "-braille"
			if plain {
				name = s.name + "-plain"
			}
			t.Run(name, func(t *testing.T) {
				m := comparison(t, nil, s.w, s.h, 0, false)
				if plain {
					m, _ = press(m, "b")
				}
				area := chartArea(t, m)
				legend := strings.SplitN(area, "\n", 2)[0]
				if !strings.Contains(legend, "* RNN") || !strings.Contains(legend, "o LSTM") {
					t.Errorf("legend %q does not name both runs with their markers", legend)
				}
				// Without colour each run's marker is on its curves.
				plot := area[len(legend):]
				for _, mk := range []string{"*", "o"} {
					if strings.Count(plot, mk) < 2 {
						t.Errorf("run marker %q appears %d times in the charts", mk, strings.Count(plot, mk))
					}
				}
				golden.RequireEqual(t, []byte(area))
			})
		}
	}
}

// TestRunColours: with colour, each run is drawn in its own colour, the
// same in the legend, the charts and the runs table; a single run keeps
// the dashboard's own colours.
func TestRunColours(t *testing.T) {
	p := termenv.ANSI256
	m := comparison(t, &p, 120, 40, 0, false)
	v := m.View()
	for i, name := range []string{"RNN", "LSTM"} {
		c := runColours()[i]
		if !styledAs(v, name, "38;5;"+string(c)) {
			t.Errorf("run %d (%s) is not drawn in colour %s", i+1, name, c)
		}
	}
	if runColours()[0] == runColours()[1] {
		t.Fatal("the first two runs share a colour")
	}
	if got := len(runColours()); got < 8 {
		t.Errorf("%d run colours, want 8", got)
	}
	if len(runMarkers) < runs.DefaultCapacity {
		t.Errorf("%d markers for a list of %d runs", len(runMarkers), runs.DefaultCapacity)
	}
	seen := map[rune]bool{}
	for i := range runs.DefaultCapacity {
		if seen[runMarker(i)] {
			t.Errorf("marker %q repeats within a full list", runMarker(i))
		}
		seen[runMarker(i)] = true
	}
}

// TestRunsTable: the table lists every run with what sets it apart, its
// state (a queued run with its place in the queue), best validation
// accuracy, test accuracy, time and training samples a second, the
// selected run marked; it fits 80x24 with three runs and the charts.
func TestRunsTable(t *testing.T) {
	m := comparison(t, nil, 80, 24, 700, true)
	v := m.View()
	checkFrame(t, v, 80, 24)
	b := body(m.(Model))
	lines := strings.Split(b, "\n")
	row := func(prefix string) string {
		for _, l := range lines {
			if strings.HasPrefix(strings.TrimLeft(l, "› "), prefix) {
				return l
			}
		}
		t.Fatalf("no table row starting %q:\n%s", prefix, b)
		return ""
	}
	head := row("run  cell")
	for _, col := range []string{"cell", "batch", "state", "val best", "test", "time", "train/s"} {
		if !strings.Contains(head, col) {
			t.Errorf("table header %q lacks %q", head, col)
		}
	}
	st := m.(Model).set
	r1 := st.get(1)
	best, _ := r1.bestVal()
	rate, _ := r1.trainRate()
	done := row("1 *")
	for _, want := range []string{"RNN", "64", "done", fmt.Sprintf("%.4f", best), fmt.Sprintf("%.4f", r1.testAcc), clock(r1.elapsed()), group(int(rate + 0.5))} {
		if !strings.Contains(done, want) {
			t.Errorf("done run's row %q lacks %q", done, want)
		}
	}
	running := row("2 o")
	if last := st.get(2).last; !strings.Contains(running, "LSTM") || !strings.Contains(running, "128") || !strings.Contains(running, fmt.Sprintf("train %d/3", last.Epoch)) || !strings.HasPrefix(running, "›") {
		t.Errorf("training run's row %q: want LSTM, batch 128, train %d/3, selected", running, last.Epoch)
	}
	if queued := row("3 +"); !strings.Contains(queued, "GRU") || !strings.Contains(queued, "queued 1st") || !strings.Contains(queued, "   -") {
		t.Errorf("queued run's row %q: want GRU, queued 1st, no figures", queued)
	}
	if !strings.Contains(b, "train loss") || !strings.Contains(b, "val accuracy") {
		t.Errorf("no charts beside the table at 80x24:\n%s", b)
	}
	// At 120x40 the selected run's epoch table stands beside it.
	m = sized(m, 120, 40)
	if b := body(m.(Model)); !strings.Contains(b, "epoch  phase") {
		t.Errorf("no epoch table beside the runs table at 120x40:\n%s", b)
	}
}

// TestPickARun: < and > choose the run shown, and so do a click on its
// row of the runs table and on the runs bar; the browser and the matrix
// show the chosen run's predictions, the header its settings.
func TestPickARun(t *testing.T) {
	m := comparison(t, nil, 100, 34, 0, false)
	mm := m.(Model)
	if mm.set.sel != 2 || !strings.Contains(m.View(), "model LSTM") {
		t.Fatalf("the run that started last (2) is not shown: selected %d", mm.set.sel)
	}
	m, _ = press(m, "<")
	if got := m.(Model).set.sel; got != 1 || !strings.Contains(m.View(), "model RNN") {
		t.Fatalf("< shows run %d, want 1", got)
	}
	m, _ = press(m, ">", ">")
	if got := m.(Model).set.sel; got != 1 {
		t.Fatalf("> > from run 1 of 2 shows run %d, want 1 (it wraps)", got)
	}
	// The browser and the matrix show the selected run's predictions.
	m, _ = press(m, "tab")
	rnn := body(m.(Model))
	if !strings.Contains(m.View(), "run [1 * RNN") {
		t.Fatalf("no runs bar over the browser:\n%s", m.View())
	}
	m, _ = press(m, ">")
	lstm := body(m.(Model))
	if rnn == lstm || !strings.Contains(lstm, "accuracy 0.8000") {
		t.Fatalf("the browser does not show run 2's predictions:\n%s", lstm)
	}
	m, _ = press(m, "tab")
	counts := active(m).(*confusion)
	counts.sync()
	if want := cellCounts(otherPreds(t)); counts.counts != want {
		t.Error("the matrix does not count run 2's predictions")
	}
	// A click on the runs bar: run 1.
	bar := strings.Split(m.View(), "\n")[1]
	x := column(bar, "1 * RNN")
	if x < 0 {
		t.Fatalf("no run 1 in the runs bar %q", bar)
	}
	m, _ = m.Update(tea.MouseMsg{X: x, Y: 1, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft})
	if got := m.(Model).set.sel; got != 1 {
		t.Fatalf("a click on run 1 in the runs bar shows run %d", got)
	}
	counts.sync()
	if want := cellCounts(fakePreds(testSet(t))); counts.counts != want {
		t.Error("after the click the matrix does not count run 1's predictions")
	}
	// A click on run 2's row of the dashboard's runs table.
	m, _ = press(m, "shift+tab", "shift+tab")
	lines := strings.Split(m.View(), "\n")
	y := -1
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimLeft(l, "› "), "2 o") {
			y = i
		}
	}
	if y < 0 {
		t.Fatalf("no row of run 2:\n%s", m.View())
	}
	m, cmd := m.Update(tea.MouseMsg{X: 4, Y: y, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft})
	for _, msg := range run(cmd) {
		m, _ = m.Update(msg)
	}
	if got := m.(Model).set.sel; got != 2 || !strings.Contains(m.View(), "model LSTM") {
		t.Fatalf("a click on run 2's row shows run %d", got)
	}
}

// column is the rune offset of s in line, -1 if absent.
func column(line, s string) int {
	i := strings.Index(line, s)
	if i < 0 {
		return -1
	}
	return len([]rune(line[:i]))
}

// TestSharedComparisons: models of the same runs sharing a Cache draw what
// an unshared model draws; another selection or other data of a run that
// is not the selected one is another drawing.
func TestSharedComparisons(t *testing.T) {
	cache := NewCache(0)
	build := func(c *Cache, lstmUpTo int, pick ...string) tea.Model {
		m := comparison(t, nil, 100, 30, lstmUpTo, false)
		mm := m.(Model)
		for _, v := range mm.views {
			if d, ok := v.(*dashboard); ok {
				d.cache = c
			}
		}
		m, _ = press(mm, pick...)
		return m
	}
	for _, c := range []struct {
		name     string
		lstmUpTo int
		pick     []string
	}{{"same", 0, nil}, {"same again", 0, nil}, {"other selection", 0, []string{"<"}}, {"other data of run 2", 900, []string{"<"}}} {
		want := build(nil, c.lstmUpTo, c.pick...).View()
		if got := build(cache, c.lstmUpTo, c.pick...).View(); got != want {
			t.Errorf("%s: the shared model draws another frame", c.name)
		}
	}
	if n := cache.Len(); n != 3 {
		t.Errorf("%d drawings for three distinct comparisons, want 3", n)
	}
}

// TestLocalRestartOfTheSelectedRun: R R restarts the run shown, not the
// one training: with the local terminal's capabilities, run 1 picked with
// < starts over (its next attempt) while run 2 keeps its own.
func TestLocalRestartOfTheSelectedRun(t *testing.T) {
	tl := newTestList(t, &testTrainer{}, runs.AllCaps(), "")
	spec := runs.DefaultSpec()
	spec.Cell = engine.LSTM
	if _, err := tl.access.Add(spec); err != nil {
		t.Fatal(err)
	}
	sub := tl.list.Subscribe()
	defer sub.Close()
	m := sized(New(Options{Renderer: renderer(termenv.Ascii), Access: runs.Access{List: tl.list, Caps: runs.AllCaps(), Actor: runs.Actor{User: "local"}}, Events: sub.Events()}), 100, 30)
	// Take what the stream holds: both runs added, run 1 training.
	waitUntil(t, "both runs are in the model", func() bool {
		select {
		case e := <-sub.Events():
			m, _ = m.Update(eventsMsg{e})
		default:
		}
		return m.(Model).set.len() == 2
	})
	if m.(Model).set.sel != 1 {
		t.Fatalf("run %d shown, want the training run 1", m.(Model).set.sel)
	}
	m, _ = press(m, ">")
	if m.(Model).set.sel != 2 {
		t.Fatal("> does not pick the queued run 2")
	}
	m, cmd := press(m, "R", "R")
	m = afterRestart(t, m, cmd)
	if st, _ := tl.list.Run(2); st.Gen != 2 {
		t.Errorf("run 2 is at attempt %d after R R, want 2", st.Gen)
	}
	if st, _ := tl.list.Run(1); st.Gen != 1 {
		t.Errorf("run 1 is at attempt %d after R R on run 2, want 1", st.Gen)
	}
	if v := m.View(); !strings.Contains(v, "run restarted from scratch") {
		t.Errorf("restart not confirmed:\n%s", v)
	}
}

// BenchmarkCompareView120x40 times drawing a 120x40 frame of a comparison
// of three runs (two done, the third training: the costly case, a new
// batch of the training run before each frame, so every chart of every
// run is drawn again from the whole history), and a frame that changed
// nothing. The metric budget-% is ns/op as a percentage of the 5 ms
// budget.
func BenchmarkCompareView120x40(b *testing.B) {
	for _, redraw := range []bool{true, false} {
		name := "cached"
		if redraw {
			name = "redraw"
		}
		b.Run(name, func(b *testing.B) {
			p := termenv.ANSI256
			m := comparison(b, &p, 120, 40, 0, true)
			gc := testConfig()
			gc.Cell = engine.GRU
			info := fakeInfo(gc, testSet(b))
			info.ID = 3
			next := upTo(fakeRun(gc, nil), 2000)
			evs := append([]runs.Event{{Run: 3, Gen: 1, Kind: runs.KindState, State: runs.StateRunning}, {Run: 3, Gen: 1, Kind: runs.KindStart, Info: info}}, runEvents(3, next, 1)...)
			m, _ = m.Update(eventsMsg(evs))
			last := next[len(next)-1]
			if !strings.Contains(ansi.Strip(m.View()), "model GRU") {
				b.Fatalf("run 3 not shown:\n%s", m.View())
			}
			b.ResetTimer()
			for b.Loop() {
				if redraw {
					last.RunStep++
					m, _ = m.Update(eventsMsg(runEvents(3, []engine.Report{last}, 1)))
				}
				if len(m.View()) == 0 {
					b.Fatal("empty view")
				}
			}
			perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(100*perOp/float64(frameBudget.Nanoseconds()), "budget-%")
		})
	}
}

// TestComparisonFitsEverySize draws every view of a comparison of three
// runs (and the setup form open) from the minimum size up: each frame
// fits, the runs table shows the selected run, the runs bar heads the
// views of one run.
func TestComparisonFitsEverySize(t *testing.T) {
	for _, s := range []struct{ w, h int }{{MinWidth, MinHeight}, {80, 24}, {120, 40}, {200, 60}} {
		m := comparison(t, nil, s.w, s.h, 700, true)
		for range m.(Model).views {
			v := m.View()
			checkFrame(t, v, s.w, s.h)
			switch active(m).kind() {
			case kindDashboard:
				if !strings.Contains(v, "› 2 o") {
					t.Errorf("%dx%d: the runs table does not show the selected run:\n%s", s.w, s.h, v)
				}
			case kindBrowser, kindConfusion:
				if !strings.HasPrefix(strings.Split(v, "\n")[1], "run ") {
					t.Errorf("%dx%d: no runs bar over %s:\n%s", s.w, s.h, active(m).title(), v)
				}
			}
			m, _ = press(m, "tab")
		}
	}
}

// TestSelectedRunLiveOnOverlay: with several runs the overlaid charts
// show the selected run's test accuracy during training (its live
// evaluations, at the batch each followed) and its learning-rate changes,
// both named in the legend after the runs; picking the other run shows
// its own instead. The gallery, under the runs bar, shows the selected
// run's predictions: run 2's live ones, run 1's final ones.
func TestSelectedRunLiveOnOverlay(t *testing.T) {
	m := comparison(t, nil, 120, 40, 800, false) // run 2 (LSTM) training, epoch 3
	n := len(m.(Model).set.get(2).batchX)
	if n < 10 {
		t.Fatalf("run 2 has %d batches", n)
	}
	var evs []runs.Event
	for k, trained := range []int{n / 3, 2 * n / 3, n} {
		p := fakeLivePreds(testSet(t), 100)
		p.Acc = 0.3 + 0.2*float64(k)
		e := evalEvent(p, trained, 1)
		e.Run, e.Report.Acc = 2, p.Acc
		evs = append(evs, e)
	}
	evs = append(evs, runs.Event{Run: 2, Gen: 1, Kind: runs.KindAction, Action: &runs.Action{
		Kind: runs.ActLR, Value: 0.002, Prev: 0.001, At: engine.Position{Trained: n / 2}}})
	m, _ = m.Update(eventsMsg(evs))
	if m.(Model).set.sel != 2 {
		t.Fatalf("run %d shown, want 2 (training)", m.(Model).set.sel)
	}
	area := chartArea(t, m)
	legend := strings.Split(area, "\n")[0]
	for _, want := range []string{"* RNN, batch 64", "o LSTM, batch 128", "LSTM, batch 128: ", string(testGlyph) + " test", "◆ lr change"} {
		if !strings.Contains(legend, want) {
			t.Errorf("the legend %q lacks %q", legend, want)
		}
	}
	if !strings.Contains(area, "val · test accuracy") || strings.Count(area, string(testGlyph)) < 3 || strings.Count(area, "◆") < 2 {
		t.Errorf("run 2's test accuracy or lr change is not drawn:\n%s", area)
	}
	// Run 1: its final test accuracy, no learning-rate change.
	m, _ = press(m, "<")
	area = chartArea(t, m)
	legend = strings.Split(area, "\n")[0]
	if !strings.Contains(legend, "RNN, batch 64: ") || strings.Contains(area, "◆") || !strings.Contains(legend, "test") {
		t.Errorf("with run 1 shown, the legend %q or the charts do not show run 1's extras:\n%s", legend, area)
	}

	// The gallery follows the run shown, under the runs bar.
	for active(m).kind() != kindGallery {
		m, _ = press(m, "tab")
	}
	v := m.View()
	if !strings.Contains(strings.Split(v, "\n")[1], "run [1 * RNN") || !strings.Contains(v, "final test predictions") {
		t.Errorf("the gallery does not show run 1's final predictions under the runs bar:\n%s", v)
	}
	m, _ = press(m, ">")
	v = m.View()
	if !strings.Contains(strings.Split(v, "\n")[1], "[2 o LSTM") || !strings.Contains(v, fmt.Sprintf("after batch %d", n)) {
		t.Errorf("the gallery does not show run 2's live predictions:\n%s", v)
	}
}
