package tui

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
	"github.com/mnist-tui/mnist-tui/mnist/preprocess"
)

// inside is a Model at w x h that has seen a whole run of cfg whose test
// predictions are those of the fixed weights testModel(cfg), which the
// views that run the model themselves snapshot; the weights' cooldown
// sends nothing (coolMsg is sent by hand), so that every command can be
// run at once. It returns the model, the weights and the trainer.
func inside(t *testing.T, cfg engine.Config, w, h int) (tea.Model, *engine.Model, *testTrainer) {
	t.Helper()
	net := testModel(t, cfg)
	preds, err := net.Evaluate(context.Background(), testSet(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := &testTrainer{model: net}
	a := newTestList(t, tr, runs.Caps{}, "").access
	m := model(t, renderer(termenv.Ascii), cfg, testSet(t), a)
	quietWeights(m)
	return feed(sized(m, w, h), fakeRun(cfg, preds)), net, tr
}

// quietWeights makes the weights' cooldown command send nothing.
func quietWeights(m tea.Model) {
	for _, v := range m.(Model).views {
		if b, ok := v.(*browser); ok {
			b.weights.after = func(time.Duration) tea.Cmd { return nil }
		}
	}
}

// deliver runs cmd and hands every message it brings to m (and those
// their handling brings), as the program would.
func deliver(m tea.Model, cmd tea.Cmd) tea.Model {
	for _, msg := range run(cmd) {
		var next tea.Cmd
		m, next = m.Update(msg)
		m = deliver(m, next)
	}
	return m
}

// hit presses keys one by one, delivering what each brings.
func hit(m tea.Model, ks ...string) tea.Model {
	for _, k := range ks {
		var cmd tea.Cmd
		m, cmd = m.Update(keyMsg(k))
		m = deliver(m, cmd)
	}
	return m
}

// goTo makes the view of kind active.
func goTo(t *testing.T, m tea.Model, k viewKind) tea.Model {
	t.Helper()
	m, cmd := m.Update(showMsg{kind: k})
	m = deliver(m, cmd)
	if active(m).kind() != k {
		t.Fatalf("show(%d) left %s active", k, active(m).title())
	}
	return m
}

// viewOf returns the view of kind k and its ID.
func viewOf(m tea.Model, k viewKind) (view, viewID) {
	for i, v := range m.(Model).views {
		if v.kind() == k {
			return v, viewID(i)
		}
	}
	return nil, -1
}

// repeat is n copies of k.
func repeat(k string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = k
	}
	return out
}

// predLine matches the replay's "row 14/28: predicts 3 (.412)".
var predLine = regexp.MustCompile(`row (\d+)/(\d+): predicts (\d) \((\.\d{3}|1\.00)\)`)

// classBars reads the probabilities the replay's bars show, by class.
func classBars(t *testing.T, screen string) [10]string {
	t.Helper()
	var out [10]string
	re := regexp.MustCompile(`(\d) [█▉▊▋▌▍▎▏·]+ (\.\d{3}|1\.00)`)
	n := 0
	for _, l := range strings.Split(ansi.Strip(screen), "\n") {
		if m := re.FindStringSubmatch(l); m != nil {
			c, _ := strconv.Atoi(m[1])
			out[c] = m[2]
			n++
		}
	}
	if n != 10 {
		t.Fatalf("found %d class bars, want 10:\n%s", n, screen)
	}
	return out
}

// TestReplayFromBrowser opens the replay of a digit from the browser: at
// row 28 it shows exactly the browser's prediction and probability (the
// predictions come from the same weights), at row 14 the trace's, which
// differ; its bars are the trace's probabilities; esc goes back.
func TestReplayFromBrowser(t *testing.T) {
	for _, cell := range engine.Cells {
		t.Run(cell.String(), func(t *testing.T) {
			cfg := testConfig()
			cfg.Cell = cell
			m, net, _ := inside(t, cfg, 120, 40)
			set := testSet(t)
			// A digit whose prediction after row 14 is not its last.
			i := -1
			var tr *engine.Trace
			for j := range set.Len() {
				var err error
				if tr, err = net.Trace(set.Image(j)); err != nil {
					t.Fatal(err)
				}
				if tr.Pred(13) != tr.Pred(27) {
					i = j
					break
				}
			}
			if i < 0 {
				t.Fatal("no digit changes its mind between rows 14 and 28")
			}
			m = hit(m, "tab")
			m = hit(m, append([]string{"a"}, append(strings.Split(strconv.Itoa(i), ""), "enter")...)...)
			b := active(m).(*browser)
			pred := int(b.run.preds.Pred[i])
			m = hit(m, "v")
			if active(m).kind() != kindReplay {
				t.Fatalf("v opened %s", active(m).title())
			}
			s := m.View()
			if !strings.Contains(s, "test digit "+group(i)) {
				t.Fatalf("the replay does not name test digit %d:\n%s", i, s)
			}
			got := predLine.FindStringSubmatch(s)
			if got == nil || got[1] != "28" || got[3] != strconv.Itoa(pred) || got[4] != probText(float64(b.run.preds.Probs[i][pred])) {
				t.Fatalf("row 28 shows %q, the browser predicts %d (%s):\n%s", got, pred, probText(float64(b.run.preds.Probs[i][pred])), s)
			}
			m = hit(m, append([]string{"g"}, repeat("right", 13)...)...)
			s = m.View()
			got = predLine.FindStringSubmatch(s)
			if got == nil || got[1] != "14" || got[3] != strconv.Itoa(tr.Pred(13)) {
				t.Fatalf("row 14 shows %q, the trace predicts %d:\n%s", got, tr.Pred(13), s)
			}
			for c, p := range classBars(t, s) {
				if want := probText(float64(tr.Probs[13][c])); p != want {
					t.Errorf("row 14 class %d: bar says %s, trace %s", c, p, want)
				}
			}
			if cell == engine.LSTM && (!strings.Contains(s, "forget") || !strings.Contains(s, "c cell state")) {
				t.Errorf("the LSTM's replay lacks its gates or cell state:\n%s", s)
			}
			m = hit(m, "esc")
			if active(m).kind() != kindBrowser {
				t.Errorf("esc went to %s, not back to the browser", active(m).title())
			}
		})
	}
}

// TestReplayAutoplay: space plays from row 1 one row per tick of its
// speed, stops at the last row, ignores the ticks of an earlier play;
// + and - change the speed; left and right stop it.
func TestReplayAutoplay(t *testing.T) {
	m, _, _ := inside(t, testConfig(), 120, 40)
	m = goTo(t, m, kindReplay)
	v, id := viewOf(m, kindReplay)
	r := v.(*replay)
	if r.step != 28 {
		t.Fatalf("the replay opens at row %d, want 28", r.step)
	}
	m, cmd := m.Update(keyMsg(" "))
	if !r.playing || r.step != 1 || cmd == nil {
		t.Fatalf("space at row 28: playing %t at row %d (cmd %v)", r.playing, r.step, cmd != nil)
	}
	if !strings.Contains(m.View(), "▶ playing 4 rows/s") {
		t.Errorf("no sign of playing:\n%s", m.View())
	}
	stale := playTickMsg{r.ticks - 1}
	m, _ = m.Update(viewMsg{id: id, msg: stale})
	if r.step != 1 {
		t.Fatalf("a stale tick moved the replay to row %d", r.step)
	}
	for want := 2; want <= 28; want++ {
		m, _ = m.Update(viewMsg{id: id, msg: playTickMsg{r.ticks}})
		if r.step != want {
			t.Fatalf("tick %d: row %d", want-1, r.step)
		}
	}
	if r.playing {
		t.Error("still playing at the last row")
	}
	// + and - are the run's pace, everywhere; up and down the replay's
	// speed.
	m = hit(m, "+")
	if r.speedRate() != 4 {
		t.Errorf("+ changed the replay's speed to %d", r.speedRate())
	}
	m = hit(m, "up", "up", "k", "up")
	if r.speedRate() != 16 {
		t.Errorf("speed %d after four ups, want the fastest, 16", r.speedRate())
	}
	m = hit(m, "down")
	m, _ = m.Update(keyMsg(" "))
	_ = hit(m, "left")
	if r.playing || r.step != 1 {
		t.Errorf("left while playing: playing %t at row %d", r.playing, r.step)
	}
}

// TestGoldenReplayGated draws the LSTM's replay (gates, cell state) and
// the GRU's (gates) at row 14 of test digit 3 at every golden size.
func TestGoldenReplayGated(t *testing.T) {
	for _, cell := range []engine.Cell{engine.LSTM, engine.GRU} {
		for _, s := range goldenSizes {
			t.Run(fmt.Sprintf("%s-%s", cell, s.name), func(t *testing.T) {
				cfg := testConfig()
				cfg.Cell = cell
				m, _, _ := inside(t, cfg, s.w, s.h)
				m = hit(m, "tab", "a", "3", "enter", "v", "g")
				m = hit(m, repeat("right", 13)...)
				b := body(m.(Model))
				checkFrame(t, b, s.w, m.(Model).lay.body.h)
				golden.RequireEqual(t, []byte(b))
			})
		}
	}
}

// canvasCell is the screen cell of canvas pixel x, y (its first cell).
func canvasCell(m tea.Model, x, y int) (int, int) {
	v, _ := viewOf(m, kindCanvas)
	c := v.(*canvas)
	l := c.layout()
	k := max(int(l.size), 1)
	body := m.(Model).lay.body
	return body.x + l.x + x*k, body.y + l.y + y*k/2
}

// mouse sends a mouse event at screen cell x, y.
func mouse(m tea.Model, x, y int, b tea.MouseButton, a tea.MouseAction) tea.Model {
	m, cmd := m.Update(tea.MouseMsg{X: x, Y: y, Button: b, Action: a})
	return deliver(m, cmd)
}

// drawn is the canvas view.
func drawn(m tea.Model) *canvas {
	v, _ := viewOf(m, kindCanvas)
	return v.(*canvas)
}

// TestCanvasDrawing draws a vertical stroke down pixel column 14, rows 4
// to 23, with a mouse drag and again with the keyboard: both give the same
// drawing, whose bounding box and centre of mass are worked out by hand
// from the brush, before and after MNIST's preprocessing, and whose
// prediction is the weights' for the preprocessed digit. A right drag
// erases, c clears, t shows the preprocessed digit, v replays it.
func TestCanvasDrawing(t *testing.T) {
	for _, size := range []struct{ w, h int }{{120, 40}, {80, 24}} {
		t.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(t *testing.T) {
			m, net, _ := inside(t, testConfig(), size.w, size.h)
			m = goTo(t, m, kindCanvas)
			if s := m.View(); !strings.Contains(s, "prediction: none yet: draw a digit") {
				t.Fatalf("empty canvas:\n%s", s)
			}
			x, y0 := canvasCell(m, 14, 4)
			_, y1 := canvasCell(m, 14, 23)
			m = mouse(m, x, y0, tea.MouseButtonLeft, tea.MouseActionPress)
			for y := y0 + 1; y <= y1; y++ {
				m = mouse(m, x, y, tea.MouseButtonLeft, tea.MouseActionMotion)
			}
			m = mouse(m, x, y1, tea.MouseButtonLeft, tea.MouseActionRelease)
			byMouse := append([]float32(nil), drawn(m).px...)
			checkStroke(t, byMouse)
			checkPrediction(t, m, net)

			m = hit(m, "c")
			if s := m.View(); !strings.Contains(s, "none yet") {
				t.Fatalf("c did not clear the canvas:\n%s", s)
			}
			// The cursor starts at (14, 14): up ten rows, then paint and
			// go down twenty times.
			m = hit(m, repeat("up", 10)...)
			for range 20 {
				m = hit(m, " ", "down")
			}
			byKeys := drawn(m).px
			if size.h == 40 {
				for i := range byKeys {
					if math.Abs(float64(byKeys[i]-byMouse[i])) > 1e-6 {
						t.Fatalf("pixel (%d, %d): keys %v, mouse %v", i%28, i/28, byKeys[i], byMouse[i])
					}
				}
			} else {
				checkStroke(t, byKeys)
			}
			checkPrediction(t, m, net)

			// A right drag across the middle erases.
			ex, ey := canvasCell(m, 10, 14)
			m = mouse(m, ex, ey, tea.MouseButtonRight, tea.MouseActionPress)
			fx, _ := canvasCell(m, 18, 14)
			m = mouse(m, fx, ey, tea.MouseButtonRight, tea.MouseActionMotion)
			m = mouse(m, fx, ey, tea.MouseButtonRight, tea.MouseActionRelease)
			if v := drawn(m).px[14*28+14]; v > 0.01 {
				t.Errorf("the right drag left %v at (14, 14)", v)
			}
			checkPrediction(t, m, net)

			m = hit(m, "t")
			if !strings.Contains(m.View(), "preprocessed") {
				t.Errorf("t shows no preprocessed digit:\n%s", m.View())
			}
			m = hit(m, "v")
			if active(m).kind() != kindReplay || !strings.Contains(m.View(), "your drawing") {
				t.Fatalf("v did not replay the drawing:\n%s", m.View())
			}
			r, _ := viewOf(m, kindReplay)
			pre, err := preprocess.Normalize(drawn(m).px)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := r.(*replay).src.px, preprocess.Pixels(pre); string(got) != string(want) {
				t.Error("the replay is not of the preprocessed drawing")
			}
		})
	}
}

// checkStroke holds a drawn vertical stroke down column 14 against the
// brush, worked out by hand: a dab at (14.5, r+0.5) inks its pixel fully,
// the pixels beside it (at distance 1) to 1.8-1 = 0.8, nothing two pixels
// away; so the box is columns 13-15 and, one row past each end, rows 3-24
// (Rect{13, 3, 16, 25}), with the centre of mass at (14, 13.5) by
// symmetry. Preprocessed, the 3x22 box becomes round(3*20/22) = 3 columns
// by 20 rows, centred at column 1 and row 9.5: placed at (round(12.5),
// round(4)) = (13, 4), its box Rect{13, 4, 16, 24} and its centre of mass
// (14, 13.5). Compact, a line is two rows and the stroke's dabs run
// from y = 5.0 to 23.0 (between rows): the pixels of rows 3 and 24 are
// 1.5 from its ends, so 0.3, the same box, and the centre of mass is
// again halfway, at 14.0 in the image's continuous coordinates, 13.5 in
// pixel indexes.
func checkStroke(t *testing.T, px []float32) {
	t.Helper()
	want := preprocess.Rect{X0: 13, Y0: 3, X1: 16, Y1: 25}
	wantY := 13.5
	b, ok := preprocess.Bounds(px, 28, 28)
	if !ok || b != want {
		t.Fatalf("stroke's box %+v, want %+v", b, want)
	}
	if px[10*28+14] != 1 || math.Abs(float64(px[10*28+13])-0.8) > 1e-6 || px[10*28+12] != 0 {
		t.Errorf("row 10, columns 12-14: %v %v %v, want 0 0.8 1", px[10*28+12], px[10*28+13], px[10*28+14])
	}
	x, y, _ := preprocess.CentreOfMass(px, 28, 28)
	if math.Abs(x-14) > 1e-6 || math.Abs(y-wantY) > 1e-6 {
		t.Errorf("stroke's centre of mass (%v, %v), want (14, %v)", x, y, wantY)
	}
	pre, err := preprocess.Normalize(px)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := preprocess.Bounds(pre, 28, 28); b != (preprocess.Rect{X0: 13, Y0: 4, X1: 16, Y1: 24}) {
		t.Errorf("preprocessed box %+v, want {13 4 16 24}", b)
	}
	if x, y, _ := preprocess.CentreOfMass(pre, 28, 28); math.Abs(x-14) > 1e-6 || math.Abs(y-13.5) > 0.5 {
		t.Errorf("preprocessed centre of mass (%v, %v), want (14, 13.5)", x, y)
	}
}

// checkPrediction: the canvas shows the weights' prediction for its
// preprocessed drawing.
func checkPrediction(t *testing.T, m tea.Model, net *engine.Model) {
	t.Helper()
	pre, err := preprocess.Normalize(drawn(m).px)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := net.Trace(preprocess.Pixels(pre))
	if err != nil {
		t.Fatal(err)
	}
	p := tr.Pred(27)
	want := fmt.Sprintf("prediction %d (%s)", p, probText(float64(tr.Probs[27][p])))
	if s := m.View(); !strings.Contains(s, want) {
		t.Errorf("the canvas does not show %q:\n%s", want, s)
	}
}

// TestCanvasGolden draws the stroke of TestCanvasDrawing and a dab beside
// it with the preprocessed digit shown, at every golden size.
func TestCanvasGolden(t *testing.T) {
	for _, s := range goldenSizes {
		t.Run(s.name, func(t *testing.T) {
			m, _, _ := inside(t, testConfig(), s.w, s.h)
			m = goTo(t, m, kindCanvas)
			m = hit(m, repeat("up", 10)...)
			for range 20 {
				m = hit(m, " ", "down")
			}
			m = hit(m, "right", "right", "right", " ", "t")
			b := body(m.(Model))
			checkFrame(t, b, s.w, m.(Model).lay.body.h)
			golden.RequireEqual(t, []byte(b))
		})
	}
}

// TestBrowserSaliency: s draws the saliency map of the digit shown for its
// predicted class over it, and says so; it follows the digit.
func TestBrowserSaliency(t *testing.T) {
	m, net, _ := inside(t, testConfig(), 120, 40)
	m = hit(m, "tab", "a", "5", "enter")
	before := m.View()
	m = hit(m, "s")
	b := active(m).(*browser)
	pred := int(b.run.preds.Pred[5])
	want, err := saliencyMap(net, testSet(t).Image(5), pred)
	if err != nil {
		t.Fatal(err)
	}
	if b.salFor != 5 || len(b.sal) != len(want) {
		t.Fatalf("saliency of digit %d (%d values)", b.salFor, len(b.sal))
	}
	for i := range want {
		if b.sal[i] != want[i] {
			t.Fatalf("saliency pixel %d: %v, want %v", i, b.sal[i], want[i])
		}
	}
	s := m.View()
	// (█ is also the bars')
	if !strings.ContainsAny(s, "░▒▓") || strings.ContainsAny(before, "░▒▓") {
		t.Errorf("the saliency map is not drawn (or was before s):\n%s", s)
	}
	if !strings.Contains(s, "saliency: more ink here raises "+strconv.Itoa(pred)) {
		t.Errorf("the panel does not explain the map:\n%s", s)
	}
	m = hit(m, "l")
	if b.salFor != 6 {
		t.Errorf("the map did not follow to digit 6 (%d)", b.salFor)
	}
	m = hit(m, "s")
	if s := m.View(); strings.ContainsAny(s, "░▒▓") {
		t.Errorf("s again leaves the map drawn:\n%s", s)
	}
}

// TestWeightsRefresh: the views take a snapshot of the weights when shown,
// not again while the cooldown lasts nor once it is over if the run has
// not moved on, and again once it has.
func TestWeightsRefresh(t *testing.T) {
	tr := &testTrainer{model: testModel(t, testConfig())}
	a := newTestList(t, tr, runs.Caps{}, "").access
	m := model(t, renderer(termenv.Ascii), testConfig(), testSet(t), a)
	quietWeights(m)
	rs := fakeRun(testConfig(), nil)
	m = feed(sized(m, 120, 40), upTo(rs, 700))
	count := func() int {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		return tr.snapshots
	}
	base := count()
	m = goTo(t, m, kindCanvas)
	if count() != base+1 {
		t.Fatalf("%d snapshots when the canvas was shown, want 1", count()-base)
	}
	_, id := viewOf(m, kindCanvas)
	m = feed(m, rs[700:701])
	if count() != base+1 {
		t.Fatal("a snapshot during the cooldown")
	}
	m, _ = m.Update(viewMsg{id: id, msg: coolMsg{}})
	if count() != base+2 {
		t.Fatalf("%d snapshots after the cooldown with the run moved on, want 2", count()-base)
	}
	m, _ = m.Update(viewMsg{id: id, msg: coolMsg{}})
	if count() != base+2 {
		t.Fatal("a snapshot of a run that has not moved on")
	}
	m = goTo(t, m, kindDashboard)
	m = feed(m, rs[701:800])
	_, _ = m.Update(viewMsg{id: id, msg: coolMsg{}})
	if count() != base+2 {
		t.Fatal("a snapshot for a view that is not shown")
	}
}

// gradReports are n sampled training reports of cfg's fake norms, one a
// batch from epoch 2 step 1.
func gradReports(cfg engine.Config, n int) []engine.Report {
	out := make([]engine.Report, n)
	for i := range out {
		out[i] = engine.Report{Kind: engine.KindBatch, Phase: engine.PhaseTrain, Epoch: 2 + i/1000, Step: 1 + i%1000,
			GradNorms: fakeGradNorms(cfg, float64(i)/float64(n))}
	}
	return out
}

// TestGradientsBounded: the heatmap keeps at most maxGradCols columns
// however long the run, covering it from its first sample to its last,
// each column the mean of the samples it pools; a restart starts over.
func TestGradientsBounded(t *testing.T) {
	g := newGradients(newRunSet(), newStyles(renderer(termenv.Ascii)), newKeyMap())
	const n = 5000
	cfg := testConfig()
	evs := []runs.Event{{Run: 1, Gen: 1, Kind: runs.KindAdded, Info: fakeInfo(cfg, testSet(t))}}
	for _, r := range gradReports(cfg, n) {
		r.GradNorms = []float32{1, 2, 3}
		evs = append(evs, runs.Event{Run: 1, Gen: 1, Kind: runs.KindReport, Report: r})
	}
	g.update(eventsMsg(evs))
	gr := g.runs[1]
	cols := gr.columns()
	if len(gr.cols) > maxGradCols || len(cols) < maxGradCols/2 || gr.samples != n {
		t.Fatalf("%d columns (%d pooled each) of %d samples", len(gr.cols), gr.pool, gr.samples)
	}
	if cols[0].from != [2]int{2, 1} || cols[len(cols)-1].to != [2]int{2 + (n-1)/1000, 1 + (n-1)%1000} {
		t.Errorf("columns cover %v to %v", cols[0].from, cols[len(cols)-1].to)
	}
	for _, c := range cols {
		if math.Abs(c.logs[0]) > 1e-12 || math.Abs(c.logs[2]-math.Log10(3)) > 1e-12 {
			t.Fatalf("a column of constant norms holds the logs %v", c.logs)
		}
	}
	g.update(eventsMsg{{Run: 1, Gen: 2, Kind: runs.KindStart, Info: fakeInfo(cfg, testSet(t))}})
	if gr := g.runs[1]; gr.samples != 0 || len(gr.columns()) != 0 {
		t.Errorf("a restart kept %d samples", gr.samples)
	}
}

// TestGoldenGradientsCompare shows an RNN's and an LSTM's gradient norms
// side by side: the RNN's first rows are faint (its gradient vanishes
// toward them), the LSTM's are not.
func TestGoldenGradientsCompare(t *testing.T) {
	rnn, lstm := testConfig(), testConfig()
	lstm.Cell = engine.LSTM
	var evs []runs.Event
	for i, cfg := range []engine.Config{rnn, lstm} {
		info := fakeInfo(cfg, testSet(t))
		info.ID = runs.ID(i + 1)
		evs = append(evs, runs.Event{Run: info.ID, Gen: 1, Kind: runs.KindAdded, Info: info, Index: i})
		for _, r := range gradReports(cfg, 300) {
			evs = append(evs, runs.Event{Run: info.ID, Gen: 1, Kind: runs.KindReport, Report: r})
		}
	}
	for _, s := range goldenSizes[:2] {
		t.Run(s.name, func(t *testing.T) {
			m := tea.Model(New(Options{Renderer: renderer(termenv.Ascii)}))
			m = sized(m, s.w, s.h)
			m, _ = m.Update(eventsMsg(evs))
			m = goTo(t, m, kindGradients)
			b := body(m.(Model))
			checkFrame(t, b, s.w, m.(Model).lay.body.h)
			lines := strings.Split(b, "\n")
			if !strings.Contains(lines[1], "RNN") || !strings.Contains(lines[1], "LSTM") {
				t.Fatalf("the panels are not the RNN's and the LSTM's:\n%s", b)
			}
			// The first row's line of each panel: the RNN's heatmap is
			// faint, the LSTM's strong.
			g := active(m).(*gradients)
			pw, h := (s.w-2)/2, g.height-2
			for i, gr := range g.shownPair() {
				fold, mapW := panelGeometry(28, pw, h)
				n := len(resampleCols(gr.columns(), mapW, fold, true))
				row1 := []rune(strings.Split(g.panel(gr, pw, h), "\n")[2])
				heat := string(row1[4 : 4+n])
				if i == 0 && strings.ContainsAny(heat, "=+*#%@") || i == 1 && !strings.ContainsAny(heat, "#%@") {
					t.Errorf("%s's first row %q: the RNN's must be faint, the LSTM's strong", g.set.label(gr.id), heat)
				}
			}
			golden.RequireEqual(t, []byte(b))
		})
	}
}
