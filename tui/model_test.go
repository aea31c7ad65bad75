package tui

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
)

// newTest builds a model on a live (never closed) event stream, showing
// run 1 of a list training with c (nil: no list, the keys have nothing to
// act on).
func newTest(t *testing.T, c *testTrainer) tea.Model {
	t.Helper()
	var a runs.Access
	if c != nil {
		a = newTestList(t, c, runs.AllCaps(), "").access
	}
	return model(t, renderer(termenv.Ascii), testConfig(), testSet(t), a)
}

// finished is a model that has seen a whole run, sized w x h.
func finished(t *testing.T, c *testTrainer, w, h int) tea.Model {
	t.Helper()
	m := newTest(t, c)
	return feed(sized(m, w, h), fakeRun(testConfig(), fakePreds(testSet(t))))
}

// checkFrame fails unless view is exactly h lines of exactly w cells.
func checkFrame(t *testing.T, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != h {
		t.Fatalf("%dx%d: view has %d lines:\n%s", w, h, len(lines), view)
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n > w {
			t.Fatalf("%dx%d: line %d is %d cells wide: %q", w, h, i, n, l)
		}
	}
}

func active(m tea.Model) view {
	mm := m.(Model)
	return mm.views[mm.active]
}

func TestTooSmall(t *testing.T) {
	m := sized(newTest(t, nil), 50, 15)
	v := m.View()
	if !strings.Contains(v, "Terminal too small") || !strings.Contains(v, "need 60x20") {
		t.Fatalf("50x15 should say the terminal is too small, got:\n%s", v)
	}
	if strings.Contains(v, "Dashboard") {
		t.Errorf("50x15 should draw nothing but the message, got:\n%s", v)
	}
	m = sized(m, MinWidth, MinHeight)
	v = m.View()
	if strings.Contains(v, "too small") || !strings.Contains(v, "model RNN") {
		t.Errorf("%dx%d should draw the dashboard, got:\n%s", MinWidth, MinHeight, v)
	}
	if v := sized(m, 1, 1).View(); ansi.StringWidth(v) > 1 || strings.Count(v, "\n") > 0 {
		t.Errorf("1x1 view overflows: %q", v)
	}
}

func TestResizeAnyTime(t *testing.T) {
	rs := fakeRun(testConfig(), fakePreds(testSet(t)))
	m := tea.Model(newTest(t, nil))
	sizes := [][2]int{{80, 24}, {120, 40}, {61, 20}, {200, 60}, {100, 30}}
	for i, chunk := range [][]engine.Report{rs[:10], rs[10:700], rs[700:1500], rs[1500:]} {
		m = feed(m, chunk)
		for _, s := range sizes {
			m = sized(m, s[0], s[1])
			for range m.(Model).views {
				checkFrame(t, m.View(), s[0], s[1])
				m, _ = press(m, "tab")
			}
		}
		_ = i
	}
}

// TestHugeTerminalIsClamped: a terminal announcing a huge size gets every
// view drawn at MaxWidth x MaxHeight at most, whatever it asked for.
func TestHugeTerminalIsClamped(t *testing.T) {
	m := finished(t, nil, 3000, 1000) // big enough to tell, small enough to draw unclamped
	for range m.(Model).views {
		checkFrame(t, m.View(), MaxWidth, MaxHeight)
		m, _ = press(m, "tab")
	}
	m = sized(m, -5, 5000)
	if v := m.View(); strings.Count(v, "\n") >= MaxHeight {
		t.Errorf("a negative width and a huge height drew %d lines", strings.Count(v, "\n")+1)
	}
}

func TestTabsCycle(t *testing.T) {
	m := tea.Model(sized(newTest(t, nil), 80, 24))
	views := m.(Model).views
	for i := range views {
		m, _ = press(m, "tab")
		want := views[(i+1)%len(views)].title()
		if got := active(m).title(); got != want {
			t.Fatalf("after tab: view %q, want %q", got, want)
		}
	}
	m, _ = press(m, "shift+tab")
	if got, want := active(m).title(), views[len(views)-1].title(); got != want {
		t.Errorf("shift+tab from the first view: %q, want %q", got, want)
	}
}

func TestQuitKeys(t *testing.T) {
	for _, k := range []string{"q", "ctrl+c"} {
		_, cmd := press(sized(newTest(t, nil), 80, 24), k)
		if cmd == nil {
			t.Fatalf("%s: no command", k)
		}
		if _, ok := cmd().(tea.QuitMsg); !ok {
			t.Errorf("%s: command does not quit", k)
		}
	}
	// While typing an index, q is not a digit and is ignored, but ctrl+c quits.
	m := finished(t, nil, 80, 24)
	m, _ = press(m, "tab", "a")
	if _, cmd := press(m, "q"); cmd != nil {
		t.Errorf("q while typing an index should not quit")
	}
	if _, cmd := press(m, "ctrl+c"); cmd == nil {
		t.Errorf("ctrl+c while typing an index should quit")
	}
}

func TestPauseKey(t *testing.T) {
	c := &testTrainer{}
	m := feed(sized(newTest(t, c), 80, 24), upTo(fakeRun(testConfig(), nil), 400))
	m, _ = press(m, "p")
	if p, _, _ := c.counts(); p != 1 || !c.Paused() {
		t.Fatalf("p: %d pauses, paused %v; want 1, true", p, c.Paused())
	}
	if v := m.View(); !strings.Contains(v, "paused") {
		t.Errorf("paused run not shown:\n%s", v)
	}
	m, _ = press(m, "p")
	if _, r, _ := c.counts(); r != 1 || c.Paused() {
		t.Errorf("second p: %d resumes, paused %v; want 1, false", r, c.Paused())
	}
	if v := m.View(); strings.Contains(v, "‖ paused") || !strings.Contains(v, "resumed") {
		t.Errorf("resumed run still shown paused:\n%s", v)
	}

	ro := &testTrainer{}
	tl := newTestList(t, ro, runs.Caps{}, "only the teacher can pause")
	m = model(t, renderer(termenv.Ascii), testConfig(), nil, tl.access)
	m, _ = press(sized(m, 80, 24), "p")
	if p, _, _ := ro.counts(); p != 0 {
		t.Errorf("read-only viewer paused the run")
	}
	if v := m.View(); !strings.Contains(v, "only the teacher can pause") {
		t.Errorf("read-only reason not shown:\n%s", v)
	}

	m, _ = press(sized(newTest(t, nil), 80, 24), "p")
	if v := m.View(); !strings.Contains(v, "pause is not available") {
		t.Errorf("missing control not explained:\n%s", v)
	}
}

// runCmd runs cmd and any batch it returns, and returns every message that
// is not a tick of the spinner or the frame timer.
func runCmd(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	var out []tea.Msg
	switch msg := cmd().(type) {
	case tea.BatchMsg:
		for _, c := range msg {
			out = append(out, runCmd(c)...)
		}
	case nil:
	default:
		if _, tick := msg.(interface{ spinnerTick() }); !tick {
			out = append(out, msg)
		}
	}
	return out
}

func TestEvaluateKey(t *testing.T) {
	preds := fakePreds(testSet(t))
	preds.At = engine.Position{Epoch: 2, Phase: engine.PhaseTrain, Trained: 37}
	c := &testTrainer{preds: preds}
	tl := newTestList(t, c, runs.AllCaps(), "")
	m := feed(sized(model(t, renderer(termenv.Ascii), testConfig(), testSet(t), tl.access), 120, 40), upTo(fakeRun(testConfig(), nil), 900))
	m, _ = press(m, "tab")
	if v := m.View(); !strings.Contains(v, "No test predictions yet") {
		t.Fatalf("browser before evaluation:\n%s", v)
	}
	m, cmd := press(m, "e")
	if v := m.View(); !strings.Contains(v, "evaluating test set") || !strings.Contains(v, "Evaluating the test set on a snapshot") {
		t.Errorf("no sign of the evaluation running:\n%s", m.View())
	}
	for _, msg := range runEval(cmd) {
		m, _ = m.Update(msg)
	}
	if _, _, evals := c.counts(); evals != 1 {
		t.Fatalf("e: %d evaluations", evals)
	}
	if v := m.View(); strings.Contains(v, "evaluating test set") {
		t.Errorf("still evaluating once the evaluation is over:\n%s", v)
	}
	// The predictions reach every viewer through the stream.
	e, _ := tl.list.Hub().Last()
	if e.Kind != runs.KindReport || e.Report.Kind != engine.KindEval || e.Report.Predictions != preds {
		t.Fatalf("the evaluation was not published: %+v", e)
	}
	m, _ = m.Update(eventsMsg{e})
	v := m.View()
	if !strings.Contains(v, "target") || !strings.Contains(v, "live · epoch 2/3, after batch 37 · all 300 test digits") {
		t.Errorf("browser after evaluation:\n%s", v)
	}

	c2 := &testTrainer{err: errors.New("boom")}
	m2, cmd := press(feed(sized(newTest(t, c2), 80, 24), upTo(fakeRun(testConfig(), nil), 10)), "e")
	for _, msg := range runEval(cmd) {
		m2, _ = m2.Update(msg)
	}
	if v := m2.View(); !strings.Contains(v, "tui: evaluate test set: runs: evaluate: boom") {
		t.Errorf("evaluation error not shown:\n%s", v)
	}

	m3, _ := press(sized(newTest(t, nil), 80, 24), "e")
	if v := m3.View(); !strings.Contains(v, "evaluation is not available") {
		t.Errorf("missing control not explained:\n%s", v)
	}
}

// runEval runs the evaluate command's batch, skipping the spinner's tick
// (which sleeps).
func runEval(cmd tea.Cmd) []tea.Msg {
	msg := cmd()
	batch, ok := msg.(tea.BatchMsg)
	if !ok {
		return []tea.Msg{msg}
	}
	return []tea.Msg{batch[0]()}
}

func TestRunErrorShown(t *testing.T) {
	m := feed(sized(newTest(t, nil), 80, 24), upTo(fakeRun(testConfig(), nil), 100))
	m, _ = m.Update(eventsMsg{{Run: 1, Gen: 1, Kind: runs.KindState, State: runs.StateFailed, Err: errors.New("engine: loss is NaN at epoch 2 step 17")}})
	v := m.View()
	if !strings.Contains(v, "error: engine: loss is NaN") || !strings.Contains(v, "failed") {
		t.Errorf("run error not shown:\n%s", v)
	}
	// An evaluation afterwards does not hide it.
	m, _ = m.Update(eventsMsg{evalEvent(fakePreds(testSet(t)), 40, 1)})
	if v := m.View(); !strings.Contains(v, "error: engine: loss is NaN") {
		t.Errorf("run error hidden by an evaluation:\n%s", v)
	}
	// A multi-line error stays on one line.
	m, _ = m.Update(eventsMsg{{Run: 1, Gen: 1, Kind: runs.KindState, State: runs.StateFailed, Err: errors.New("first\nsecond")}})
	v = m.View()
	checkFrame(t, v, 80, 24)
	if !strings.Contains(v, "error: first second") {
		t.Errorf("multi-line error not joined:\n%s", v)
	}
}

func TestStaysOpenWhenDone(t *testing.T) {
	ch := make(chan runs.Event, 4000)
	rs := append(startEvents(fakeInfo(testConfig(), testSet(t)), 1), reportEvents(fakeRun(testConfig(), fakePreds(testSet(t))), 1)...)
	for _, r := range rs {
		ch <- r
	}
	close(ch)
	m := tea.Model(sized(New(Options{Renderer: renderer(termenv.Ascii), Events: ch}), 80, 24))
	cmd := waitEvents(ch)
	msg := cmd()
	batch, ok := msg.(eventsMsg)
	if !ok || len(batch) != len(rs) {
		t.Fatalf("first wait: %T with %d reports, want all %d", msg, len(batch), len(rs))
	}
	m, cmd = m.Update(batch)
	if cmd == nil {
		t.Fatal("reports should re-arm the wait")
	}
	m, cmd = m.Update(listenMsg{})
	msg = cmd()
	if _, ok := msg.(runOverMsg); !ok {
		t.Fatalf("after draining a closed channel: %T, want runOverMsg", msg)
	}
	m, cmd = m.Update(msg)
	if cmd != nil {
		if _, quit := cmd().(tea.QuitMsg); quit {
			t.Fatal("the model quit by itself when the run ended")
		}
	}
	if v := m.View(); !strings.Contains(v, "done") || !strings.Contains(v, "test accuracy") {
		t.Errorf("finished run not shown:\n%s", v)
	}
}

func TestDashboardTable(t *testing.T) {
	m := finished(t, nil, 120, 40)
	v := m.View()
	for _, want := range []string{"epoch  phase", "1      val", "2      train", "3      val", "-      test", "21,514 params", "seed 7", "EMA 0.90"} {
		if !strings.Contains(v, want) {
			t.Errorf("dashboard lacks %q:\n%s", want, v)
		}
	}
	m, _ = press(m, "s")
	if v := m.View(); !strings.Contains(v, "EMA 0.97") {
		t.Errorf("s should change the smoothing:\n%s", v)
	}
	m, _ = press(m, "s", "s")
	if v := m.View(); !strings.Contains(v, "EMA off") {
		t.Errorf("smoothing should turn off:\n%s", v)
	}
	if strings.ContainsAny(m.View(), "*.") == false {
		t.Fatal("no chart drawn")
	}
	m, _ = press(m, "b")
	v = m.View()
	for _, r := range v {
		if r >= 0x2800 && r <= 0x28ff {
			t.Fatalf("plain-character charts still contain Braille:\n%s", v)
		}
	}
}

// TestSaveKeyWritesACheckpoint saves a real run's weights with the save
// key and reads the file back; without the capability or a run it says so.
func TestSaveKeyWritesACheckpoint(t *testing.T) {
	test := testSet(t)
	list := runs.NewList(runs.WithSource("", test, test))
	defer list.Close()
	owner := runs.Access{List: list, Caps: runs.AllCaps()}
	spec := runs.DefaultSpec()
	spec.Epochs, spec.Limit = 0, 64
	spec.Save = filepath.Join(t.TempDir(), "run.safetensors")
	if _, err := owner.Add(spec); err != nil {
		t.Fatal(err)
	}
	if err := list.Wait(context.Background()); err != nil || list.Err() != nil {
		t.Fatal(err, list.Err())
	}
	c := spec.Config()
	st, _ := list.Run(1)
	model := func(t *testing.T, a runs.Access) tea.Model {
		m, _ := New(Options{Renderer: renderer(termenv.Ascii), Access: a}).Update(eventsMsg(startEvents(st.Info, 1)))
		return m
	}
	m := model(t, owner)
	m2, cmd := press(sized(m, 80, 24), "w")
	if cmd == nil {
		t.Fatalf("w gave no command:\n%s", m2.View())
	}
	if v := m2.View(); !strings.Contains(v, "saving to") {
		t.Errorf("no saving note:\n%s", v)
	}
	m2, _ = m2.Update(cmd())
	if v := m2.View(); !strings.Contains(v, "saved checkpoint to") {
		t.Errorf("no success note:\n%s", v)
	}
	ck, err := engine.LoadCheckpoint(spec.Save)
	if err != nil {
		t.Fatalf("the saved file does not load: %v", err)
	}
	if ck.Config.Hidden != c.Hidden || ck.Config.Cell != c.Cell {
		t.Errorf("saved %+v, want hidden %d cell %s", ck.Config, c.Hidden, c.Cell)
	}

	// A directory in the way: the error is shown, nothing panics.
	if err := os.Remove(spec.Save); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(spec.Save, 0o755); err != nil {
		t.Fatal(err)
	}
	bm, cmd := press(sized(model(t, owner), 80, 24), "w")
	bm, _ = bm.Update(cmd())
	if v := bm.View(); !strings.Contains(v, "error: save to "+spec.Save) {
		t.Errorf("a failed save is not shown:\n%s", v)
	}

	// A viewer who may not save (an SSH student), or no list.
	for _, a := range []runs.Access{{List: list, Caps: runs.Caps{Pause: true}}, {}} {
		nm, cmd := press(sized(model(t, a), 80, 24), "w")
		if cmd != nil || !strings.Contains(nm.View(), "saving is not available") {
			t.Errorf("save without the capability: cmd %v, view:\n%s", cmd != nil, nm.View())
		}
	}
}

// TestHeaderNamesDataAndCheckpoint: the header names the data set, its
// split, and the checkpoint a run started from with its saved epoch and
// accuracies.
func TestHeaderNamesDataAndCheckpoint(t *testing.T) {
	info := fakeInfo(testConfig(), testSet(t))
	info.Data = runs.DataInfo{Name: "/data/fashion", Source: 12000, SplitTrain: 8000, SplitVal: 4000, Train: 8000, Val: 4000, Test: 2000}
	info.Checkpoint = &runs.CheckpointInfo{Path: "lstm.safetensors", Epoch: 3, Val: &engine.Score{Acc: 0.9682}, Test: &engine.Score{Acc: 0.9703}}
	m, _ := New(Options{Renderer: renderer(termenv.Ascii)}).Update(eventsMsg(startEvents(info, 1)))
	v := sized(m, 160, 40).View()
	for _, want := range []string{"data /data/fashion", "12,000 split 8,000/4,000 (2/3, seeded)", "train 8,000", "val 4,000",
		"loaded lstm.safetensors", "saved after epoch 3", "val acc 0.9682", "test acc 0.9703"} {
		if !strings.Contains(v, want) {
			t.Errorf("header lacks %q:\n%s", want, v)
		}
	}
}
