package tui

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
)

// relayLast hands the list's newest event to m, as its stream would.
func relayLast(t *testing.T, m tea.Model, tl *testList) (tea.Model, runs.Event) {
	t.Helper()
	e, ok := tl.list.Hub().Last()
	if !ok {
		t.Fatal("the list published nothing")
	}
	m, _ = m.Update(eventsMsg{e})
	return m, e
}

// relayNewest hands the list's n newest events to m.
func relayNewest(m tea.Model, tl *testList, n int) tea.Model {
	h := tl.list.Hub().History()
	m, _ = m.Update(eventsMsg(h[len(h)-n:]))
	return m
}

// TestPaceStepAndLRKeys: + and - move the run's pace along the ladder, n
// trains one batch while paused, ] and [ double and halve the learning
// rate; each acts on the run for every viewer (an action in the stream)
// and the header and status line show what the stream says.
func TestPaceStepAndLRKeys(t *testing.T) {
	c := &testTrainer{}
	tl := newTestList(t, c, runs.AllCaps(), "")
	m := model(t, renderer(termenv.Ascii), testConfig(), testSet(t), tl.access)
	m = feed(sized(m, 120, 40), upTo(fakeRun(testConfig(), nil), 400))
	if v := m.View(); !strings.Contains(v, "· full speed") || !strings.Contains(v, "pace full speed") {
		t.Fatalf("no pace shown:\n%s", v)
	}
	m, _ = press(m, "-")
	m, e := relayLast(t, m, tl)
	if _, pace, _ := c.controls(); pace != 200 || e.Action == nil || e.Action.Kind != runs.ActPace || e.Action.Value != 200 {
		t.Fatalf("-: trainer pace %g, event %+v", pace, e.Action)
	}
	m, _ = press(m, "-", "-")
	m = relayNewest(m, tl, 2)
	v := m.View()
	if !strings.Contains(v, "● train, epoch 2/3 · 10 batches/s") || !strings.Contains(v, "pace 10 batches/s") {
		t.Errorf("pace 10 not in the status line and header:\n%s", v)
	}
	m, _ = press(m, "+")
	m, _ = relayLast(t, m, tl)
	if v := m.View(); !strings.Contains(v, "· 50 batches/s") || !strings.Contains(v, "pace 50 batches/s for everyone") {
		t.Errorf("+ did not show pace 50:\n%s", v)
	}

	m, _ = press(m, "n")
	if v := m.View(); !strings.Contains(v, "press p first") {
		t.Errorf("n while running not explained:\n%s", v)
	}
	m, _ = press(m, "p", "n", "n")
	if steps, _, _ := c.controls(); steps != 2 {
		t.Fatalf("p n n: %d steps, want 2", steps)
	}
	if v := m.View(); !strings.Contains(v, "‖ paused · 50 batches/s") || !strings.Contains(v, "one batch") {
		t.Errorf("paused stepping not shown:\n%s", v)
	}

	m, _ = press(m, "]")
	m, e = relayLast(t, m, tl)
	if _, _, lr := c.controls(); lr != 0.002 || e.Action.Kind != runs.ActLR || e.Action.At.Trained != 37 {
		t.Fatalf("]: trainer lr %g, event %+v", lr, e.Action)
	}
	v = m.View()
	if !strings.Contains(v, "Adam lr 0.002 (was 0.001)") || !strings.Contains(v, "learning rate 0.002 (was 0.001)") {
		t.Errorf("] not shown:\n%s", v)
	}
	if marks := m.(Model).run.lrMarks; len(marks) != 1 || marks[0].x != 37 {
		t.Errorf("lr marks %+v, want one after batch 37", marks)
	}
	m, _ = press(m, "[", "[")
	m = relayNewest(m, tl, 2)
	if v := m.View(); !strings.Contains(v, "Adam lr 0.0005 (3 changes, from 0.001)") {
		t.Errorf("[ [ not shown:\n%s", v)
	}
}

// TestControlsRefusedWithReason: a viewer without the pause capability
// is told the reason for +, -, n, ] and [, and nothing reaches the run.
func TestControlsRefusedWithReason(t *testing.T) {
	c := &testTrainer{}
	tl := newTestList(t, c, runs.Caps{}, "only the teacher can do that")
	m := model(t, renderer(termenv.Ascii), testConfig(), testSet(t), tl.access)
	m = feed(sized(m, 120, 40), upTo(fakeRun(testConfig(), nil), 400))
	seq := tl.list.Hub().Seq()
	for _, k := range []string{"+", "-", "n", "]", "["} {
		m, _ = press(m, k)
		if v := m.View(); !strings.Contains(v, "only the teacher can do that") {
			t.Errorf("%s: reason not shown:\n%s", k, v)
		}
	}
	if steps, pace, lr := c.controls(); steps != 0 || pace != 0 || lr != 0 || tl.list.Hub().Seq() != seq {
		t.Errorf("refused controls acted: steps %d pace %g lr %g", steps, pace, lr)
	}
	m, _ = press(sized(newTest(t, nil), 80, 24), "+")
	if v := m.View(); !strings.Contains(v, "pace is not available") {
		t.Errorf("missing control not explained:\n%s", v)
	}
}

// onGallery is a model mid-training with live predictions of a 100-digit
// sample of the 300 test digits, showing the gallery at w x h.
func onGallery(t *testing.T, w, h int) (tea.Model, *engine.Predictions) {
	t.Helper()
	live := fakeLivePreds(testSet(t), 100)
	m := feed(sized(newTest(t, nil), w, h), upTo(fakeRun(testConfig(), nil), 1500))
	m, _ = m.Update(eventsMsg{evalEvent(live, 874, 1)})
	for active(m).kind() != kindGallery {
		m, _ = press(m, "tab")
	}
	return m, live
}

// galleryCaptions lists the captions of the gallery's cells, in order.
func galleryCaptions(v string) []string {
	var out []string
	for _, l := range strings.Split(v, "\n") {
		for _, f := range strings.Split(l, "  ") {
			f = strings.Trim(strings.TrimSpace(f), "[]")
			if strings.HasPrefix(f, "✓ ") || strings.HasPrefix(f, "✗ ") {
				out = append(out, f)
			}
		}
	}
	return out
}

// TestGalleryLive: the gallery shows as many sample digits as fit, each
// with its predicted label, in the fixed class-balanced order; new
// predictions change the labels in place; m keeps the misclassified,
// a digit keeps one class; enter and a click open the digit in the
// browser; the final predictions keep the same digits first.
func TestGalleryLive(t *testing.T) {
	m, live := onGallery(t, 120, 40)
	g := active(m).(*gallery)
	v := m.View()
	caps := galleryCaptions(v)
	if n := g.layout().cells.n(); n < 20 || len(caps) != n {
		t.Fatalf("%d captions for %d cells at 120x40:\n%s", len(caps), n, v)
	}
	if !strings.Contains(v, "live · epoch 2/3, after batch 874") || !strings.Contains(v, "100 of 300 test digits · a fixed, seeded, class-balanced sample") {
		t.Errorf("the predictions' origin is not shown:\n%s", v)
	}
	order := engine.BalancedOrder(testSet(t).Labels, engine.LiveSeed)
	for pos, k := range g.shown[:len(caps)] {
		if live.SetIndex(k) != order[pos] {
			t.Fatalf("cell %d shows digit %d, want %d (the balanced order)", pos, live.SetIndex(k), order[pos])
		}
		want := "✓ " + string(rune('0'+live.Pred[k]))
		if live.Pred[k] != live.Labels[k] {
			want = "✗ " + string(rune('0'+live.Pred[k])) + ", is " + string(rune('0'+live.Labels[k]))
		}
		if caps[pos] != want {
			t.Fatalf("cell %d captioned %q, want %q", pos, caps[pos], want)
		}
	}
	// Newer predictions: every digit right now; same digits, new labels.
	better := *live
	better.Pred = slices.Clone(live.Labels)
	m, _ = m.Update(eventsMsg{evalEvent(&better, 900, 1)})
	if now := galleryCaptions(m.View()); slices.Equal(now, caps) || strings.Contains(strings.Join(now, ""), "✗") {
		t.Errorf("labels did not change with the predictions: %v", now)
	}
	m, _ = m.Update(eventsMsg{evalEvent(live, 920, 1)})

	m, _ = press(m, "m")
	for _, c := range galleryCaptions(m.View()) {
		if !strings.HasPrefix(c, "✗") {
			t.Fatalf("misclassified only shows %q", c)
		}
	}
	m, _ = press(m, "m", "7")
	g = active(m).(*gallery)
	for _, k := range g.shown {
		if live.Labels[k] != 7 {
			t.Fatalf("class 7 shows a %d", live.Labels[k])
		}
	}
	m, _ = press(m, "c", "right", "right")
	g = active(m).(*gallery)
	want := live.SetIndex(g.shown[2])
	m, cmd := press(m, "o")
	m = runShow(t, m, cmd)
	if active(m).kind() != kindBrowser || active(m).(*browser).testIndex(shown(m)) != want {
		t.Fatalf("o opened %q at entry %d, want the browser at digit %d", active(m).title(), shown(m), want)
	}
	// v and enter open the selected digit's replay; esc comes back.
	for _, k := range []string{"v", "enter"} {
		for active(m).kind() != kindGallery {
			m, _ = press(m, "tab")
		}
		m, cmd = press(m, k)
		m = runShow(t, m, cmd)
		r, ok := active(m).(*replay)
		if !ok || !r.opened || r.src.index != want || r.src.from != kindGallery {
			t.Fatalf("%s opened %q, want the replay of digit %d from the gallery", k, active(m).title(), want)
		}
		if !strings.Contains(m.View(), "test digit "+group(want)) {
			t.Errorf("the replay of %s does not name digit %d:\n%s", k, want, m.View())
		}
		m, cmd = press(m, "esc")
		m = runShow(t, m, cmd)
		if active(m).kind() != kindGallery {
			t.Fatalf("esc in the replay went to %q, want the gallery", active(m).title())
		}
	}
	// A click on the fifth cell.
	g = active(m).(*gallery)
	l := g.layout()
	cell := l.cells.cell(4)
	want = live.SetIndex(g.shown[g.first+4])
	mm := m.(Model)
	r := mm.lay.body
	m, cmd = m.Update(tea.MouseMsg{X: r.x + cell.x + 3, Y: r.y + cell.y + 2, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft})
	m = runShow(t, m, cmd)
	if active(m).kind() != kindBrowser || active(m).(*browser).testIndex(shown(m)) != want {
		t.Fatalf("a click opened %q at entry %d, want the browser at digit %d", active(m).title(), shown(m), want)
	}

	// The final predictions cover every digit: the same ones come first.
	m, _ = onGallery(t, 120, 40)
	first := galleryCaptions(m.View())
	m = feed(m, fakeRun(testConfig(), fakePreds(testSet(t)))[1500:])
	m.View()
	g = active(m).(*gallery)
	if m.(Model).run.preds.Index != nil || len(first) == 0 {
		t.Fatal("no final predictions")
	}
	for pos := range first {
		if g.run.preds.SetIndex(g.shown[pos]) != order[pos] {
			t.Fatalf("with the final predictions cell %d shows another digit", pos)
		}
	}
}

// runShow runs cmd and hands its messages (navigation) back to m.
func runShow(t *testing.T, m tea.Model, cmd tea.Cmd) tea.Model {
	t.Helper()
	for _, msg := range runCmd(cmd) {
		m, _ = m.Update(msg)
	}
	return m
}

// TestBrowserKeepsItsDigit: new live predictions leave the browser on
// the digit it shows.
func TestBrowserKeepsItsDigit(t *testing.T) {
	m, live := onGallery(t, 120, 40)
	for active(m).kind() != kindBrowser {
		m, _ = press(m, "tab")
	}
	m, _ = press(m, "l", "l", "l")
	b := active(m).(*browser)
	at := b.testIndex(shown(m))
	m, _ = m.Update(eventsMsg{evalEvent(live, 900, 1)})
	if got := active(m).(*browser).testIndex(shown(m)); got != at {
		t.Errorf("new predictions moved the browser from digit %d to %d", at, got)
	}
	// The final ones cover every digit: still the same.
	m = feed(m, fakeRun(testConfig(), fakePreds(testSet(t)))[1500:])
	if got := active(m).(*browser).testIndex(shown(m)); got != at {
		t.Errorf("the final predictions moved the browser from digit %d to %d", at, got)
	}
	// A digit outside the sample: the next one in it.
	m2, _ := onGallery(t, 120, 40)
	for active(m2).kind() != kindBrowser {
		m2, _ = press(m2, "tab")
	}
	out := 0
	for _, ok := live.Entry(out); ok; _, ok = live.Entry(out) {
		out++
	}
	m2, _ = press(m2, append([]string{"a"}, append(strings.Split(strconv.Itoa(out), ""), "enter")...)...)
	v := m2.View()
	if !strings.Contains(v, "is not in the 100-digit sample evaluated") {
		t.Errorf("a digit outside the sample not explained:\n%s", v)
	}
	if got := active(m2).(*browser).testIndex(shown(m2)); got <= out {
		t.Errorf("jump to %d outside the sample shows %d, want the next one in it", out, got)
	}
}

// TestKeysDoNotClash: no key is bound twice among the global keys (the
// live controls, the runs' keys, the views' switching, follow mode), no
// view that is not capturing the keyboard binds a global key (the root
// would take it first), and no view binds one key to two of its own
// actions.
func TestKeysDoNotClash(t *testing.T) {
	km := newKeyMap()
	global := map[string]string{}
	for name, b := range map[string]key.Binding{
		"Quit": km.Quit, "Next": km.Next, "Prev": km.Prev, "Help": km.Help, "Pause": km.Pause,
		"Eval": km.Eval, "Save": km.Save, "Restart": km.Restart, "Faster": km.Faster, "Slower": km.Slower,
		"Step": km.Step, "LRUp": km.LRUp, "LRDown": km.LRDown, "NewRun": km.NewRun,
		"PrevRun": km.PrevRun, "NextRun": km.NextRun, "Follow": km.Follow,
	} {
		for _, k := range b.Keys() {
			if other, ok := global[k]; ok {
				t.Errorf("%q is bound to both %s and %s", k, name, other)
			}
			global[k] = name
		}
	}
	m := comparison(t, nil, 120, 40, 400, false).(Model) // several runs: every view's keys
	for _, v := range m.views {
		if v.typing() {
			continue
		}
		short, full := v.keys()
		all := slices.Concat(append(full, short)...)
		own := map[string]string{} // a key's action in this view
		for _, b := range all {
			if b.Help().Key == km.PickRun.Help().Key {
				continue // < and > together, for the hint line
			}
			for _, k := range b.Keys() {
				if g, ok := global[k]; ok && !strings.HasPrefix(k, mouseKey) && !strings.HasPrefix(k, helpKey) {
					t.Errorf("%s binds %q (%s), which is the global %s", v.title(), k, b.Help().Desc, g)
				}
				if d, ok := own[k]; ok && d != b.Help().Desc {
					t.Errorf("%s binds %q to both %q and %q", v.title(), k, d, b.Help().Desc)
				}
				own[k] = b.Help().Desc
			}
		}
	}
}
