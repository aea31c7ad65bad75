package tui

import (
	"context"
	"strconv"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
	"github.com/mnist-tui/mnist-tui/mnist/preprocess"
)

// twoRuns is a list training an RNN (run 1) and an LSTM (run 2) at once,
// each trainer's snapshot its own fixed weights, and the events a Model
// sees of them: both started (the LSTM last, so it is shown), each with the
// test predictions of its weights (and fakeRun's gradient norms).
type twoRuns struct {
	access   runs.Access
	nets     map[runs.ID]*engine.Model
	cfgs     map[runs.ID]engine.Config
	events   []runs.Event
	trainers map[engine.Cell]*testTrainer
}

func newTwoRuns(t *testing.T) *twoRuns {
	t.Helper()
	test := testSet(t)
	tw := &twoRuns{nets: map[runs.ID]*engine.Model{}, cfgs: map[runs.ID]engine.Config{}, trainers: map[engine.Cell]*testTrainer{}}
	for i, cell := range []engine.Cell{engine.RNN, engine.LSTM} {
		id := runs.ID(i + 1)
		cfg := testConfig()
		cfg.Cell = cell
		tw.cfgs[id], tw.nets[id] = cfg, testModel(t, cfg)
		tw.trainers[cell] = &testTrainer{model: tw.nets[id]}
	}
	list := runs.NewList(runs.WithParallel(2), runs.WithSource("", test, test),
		runs.WithTrainerFunc(func(p runs.Prepared, _ engine.Reporter) (runs.Trainer, error) {
			return tw.trainers[p.Info.Spec.Cell], nil
		}))
	t.Cleanup(list.Close)
	owner := runs.Access{List: list, Caps: runs.AllCaps()}
	for _, cell := range []engine.Cell{engine.RNN, engine.LSTM} {
		spec := runs.DefaultSpec()
		spec.Cell, spec.Seed = cell, 7
		if _, err := owner.Add(spec); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "both runs train", func() bool {
		rs := list.Runs()
		return len(rs) == 2 && rs[0].State == runs.StateRunning && rs[1].State == runs.StateRunning
	})
	tw.access = runs.Access{List: list, Actor: runs.Actor{User: "test"}}

	for _, id := range []runs.ID{1, 2} {
		info := fakeInfo(tw.cfgs[id], test)
		info.ID = id
		tw.events = append(tw.events, runs.Event{Run: id, Gen: 1, Kind: runs.KindAdded, Info: info, Index: int(id) - 1})
	}
	for _, id := range []runs.ID{1, 2} {
		info := tw.events[id-1].Info
		preds, err := tw.nets[id].Evaluate(context.Background(), test, nil)
		if err != nil {
			t.Fatal(err)
		}
		tw.events = append(tw.events,
			runs.Event{Run: id, Gen: 1, Kind: runs.KindState, State: runs.StateRunning},
			runs.Event{Run: id, Gen: 1, Kind: runs.KindStart, Info: info})
		tw.events = append(tw.events, runEvents(id, fakeRun(tw.cfgs[id], preds), 1)...)
	}
	return tw
}

// model is a Model at w x h that has seen both runs.
func (tw *twoRuns) model(t *testing.T, w, h int, class Classroom, follow bool) tea.Model {
	t.Helper()
	ch := make(chan runs.Event)
	t.Cleanup(func() { close(ch) })
	a := tw.access
	if class != nil {
		a.Actor = studentActor
		if class.State().Teacher {
			a.Actor = teacherActor
		}
	}
	m := tea.Model(New(Options{Renderer: renderer(termenv.Ascii), Access: a, Events: ch, Class: class, Follow: follow}))
	m, _ = m.Update(eventsMsg(tw.events))
	quietWeights(m)
	return sized(m, w, h)
}

// prediction is the replay's "row N/28: predicts D (.ddd)" on m's screen.
func prediction(t *testing.T, m tea.Model) []string {
	t.Helper()
	got := predLine.FindStringSubmatch(ansi.Strip(m.View()))
	if got == nil {
		t.Fatalf("no prediction line on the replay:\n%s", m.View())
	}
	return got
}

// TestInsideSeveralRuns: with two runs, the replay, the canvas and the
// browser's saliency run the weights of the run shown, and < and > move
// them to the other run's at once (no cooldown between runs); the runs bar
// is over them; the gradients view puts the RNN's profile beside the
// LSTM's and marks the run shown.
func TestInsideSeveralRuns(t *testing.T) {
	tw := newTwoRuns(t)
	m := tw.model(t, 120, 40, nil, false)
	if m.(Model).set.sel != 2 {
		t.Fatalf("run %d shown, want the LSTM (2), which started last", m.(Model).set.sel)
	}
	const i = 17
	px := testSet(t).Image(i)
	wantPred := func(id runs.ID) string {
		tr, err := tw.nets[id].Trace(px)
		if err != nil {
			t.Fatal(err)
		}
		p := tr.Pred(27)
		return strconv.Itoa(p) + " " + probText(float64(tr.Probs[27][p]))
	}
	if wantPred(1) == wantPred(2) {
		t.Fatalf("digit %d: the RNN and the LSTM predict the same, %s: pick another digit", i, wantPred(1))
	}
	m = hit(m, "tab", "a", "1", "7", "enter", "v")
	if active(m).kind() != kindReplay {
		t.Fatalf("v opened %s", active(m).title())
	}
	for _, c := range []struct {
		key  string
		id   runs.ID
		cell string
	}{{"", 2, "LSTM"}, {"<", 1, "RNN"}, {">", 2, "LSTM"}} {
		if c.key != "" {
			m = hit(m, c.key)
		}
		s := m.View()
		got := prediction(t, m)
		if got[1] != "28" || got[3]+" "+got[4] != wantPred(c.id) {
			t.Errorf("run %d shown: row 28 predicts %s %s, its weights %s", c.id, got[3], got[4], wantPred(c.id))
		}
		if !strings.Contains(s, "test digit "+strconv.Itoa(i)) || !strings.Contains(s, c.cell+", final weights") {
			t.Errorf("run %d shown: the replay does not read digit %d with the %s's weights:\n%s", c.id, i, c.cell, s)
		}
		if lines := strings.Split(s, "\n"); !strings.HasPrefix(lines[1], "run ") || !strings.Contains(lines[1], "["+strconv.Itoa(int(c.id))+" ") {
			t.Errorf("run %d shown: no runs bar naming it over the replay:\n%s", c.id, s)
		}
	}

	// The canvas classifies a stroke with the run shown's weights.
	m = goTo(t, m, kindCanvas)
	m = hit(m, repeat("up", 8)...)
	for range 14 {
		m = hit(m, " ", "down")
	}
	for _, c := range []struct {
		key string
		id  runs.ID
	}{{"", 2}, {"<", 1}} {
		if c.key != "" {
			m = hit(m, c.key)
		}
		checkPrediction(t, m, tw.nets[c.id])
	}

	// The browser's saliency map is the run shown's.
	m = goTo(t, m, kindBrowser)
	m = hit(m, "s")
	b := active(m).(*browser)
	k := b.current()
	for _, c := range []struct {
		key string
		id  runs.ID
	}{{"", 1}, {">", 2}} {
		if c.key != "" {
			m = hit(m, c.key)
			k = b.current()
		}
		want, err := saliencyMap(tw.nets[c.id], testSet(t).Image(b.testIndex(k)), int(b.run.preds.Pred[k]))
		if err != nil {
			t.Fatal(err)
		}
		if len(b.sal) != len(want) {
			t.Fatalf("run %d: saliency of %d pixels", c.id, len(b.sal))
		}
		for p := range want {
			if b.sal[p] != want[p] {
				t.Fatalf("run %d shown: the saliency map is not its weights' (pixel %d: %v, want %v)", c.id, p, b.sal[p], want[p])
			}
		}
	}

	// The gradients: the RNN beside the LSTM, in the list's order, the
	// run shown marked; < marks the other.
	m = goTo(t, m, kindGradients)
	for _, c := range []struct {
		key   string
		shown string
	}{{"", "samples · shown"}, {"<", "samples · shown"}} {
		if c.key != "" {
			m = hit(m, c.key)
		}
		s := body(m.(Model))
		title := strings.Split(s, "\n")[1]
		rnn, lstm := strings.Index(title, "run 1 * RNN"), strings.Index(title, "run 2 o LSTM")
		shown := strings.Index(title, c.shown)
		if c.key == "" && shown < lstm || c.key == "<" && shown > lstm || rnn < 0 || lstm < rnn || strings.Count(title, "shown") != 1 {
			t.Errorf("after %q the panels are %q, want the RNN beside the LSTM, the run shown marked", c.key, title)
		}
	}
	if f := m.(Model).lay.footer; !strings.Contains(f, "compare with") {
		t.Errorf("with two runs the gradients' hints lack the run compared:\n%s", f)
	}
}

// TestGradientsPartner: with three runs, the gradients compare the run
// shown with the next one in the list (the one before for the last), left
// and right pick another, never the run shown; a single run has one panel
// and no such keys.
func TestGradientsPartner(t *testing.T) {
	m := comparison(t, nil, 120, 40, 0, true)
	for i, cfg := range []engine.Config{testConfig(), testConfig(), testConfig()} {
		cfg.Cell = engine.Cells[i]
		var evs eventsMsg
		for _, r := range gradReports(cfg, 20) {
			evs = append(evs, runs.Event{Run: runs.ID(i + 1), Gen: 1, Kind: runs.KindReport, Report: r})
		}
		m, _ = m.Update(evs)
	}
	m = goTo(t, m, kindGradients)
	g := active(m).(*gradients)
	pair := func() []runs.ID {
		var ids []runs.ID
		for _, gr := range g.shownPair() {
			ids = append(ids, gr.id)
		}
		return ids
	}
	for _, c := range []struct {
		keys []string
		want []runs.ID
	}{
		{nil, []runs.ID{2, 3}},           // run 2 shown, the next compared
		{[]string{"l"}, []runs.ID{1, 2}}, // past 3 (and 2, the run shown) to 1
		{[]string{"right"}, []runs.ID{2, 3}},
		{[]string{"h", "h"}, []runs.ID{2, 3}},
		{[]string{">"}, []runs.ID{2, 3}}, // run 3 shown, still beside 2
		{[]string{">"}, []runs.ID{1, 3}}, // run 1 shown, beside 3 as picked
	} {
		m = hit(m, c.keys...)
		if got := pair(); len(got) != 2 || got[0] != c.want[0] || got[1] != c.want[1] {
			t.Errorf("after %v (run %d shown): panels %v, want %v", c.keys, m.(Model).set.sel, got, c.want)
		}
	}
	one := goTo(t, feed(sized(newTest(t, nil), 120, 40), gradReports(testConfig(), 20)), kindGradients)
	if n := len(active(one).(*gradients).shownPair()); n != 1 {
		t.Errorf("one run: %d panels", n)
	}
	if f := one.(Model).lay.footer; strings.Contains(f, "compare with") {
		t.Errorf("one run: the hints offer another run: %s", f)
	}
}

// TestFollowInside: a following student sees the teacher's replay (the
// digit, the step, the autoplay and its speed, the saliency map), the
// teacher's gallery (filter, selection), drawing on the canvas and its
// replay, and the gradients' axis; the student's own key in the replay
// leaves follow mode.
func TestFollowInside(t *testing.T) {
	tw := newTwoRuns(t)
	room := &testRoom{state: ClassState{Connected: 2, Teachers: 1}}
	teacher := tw.model(t, 120, 40, room.seatOf(true), false)
	student := tw.model(t, 100, 30, room.seatOf(false), true)

	// The replay of digit 17, at row 14.
	teacher = hit(teacher, "tab", "a", "1", "7", "enter", "v", "g")
	teacher = hit(teacher, repeat("right", 13)...)
	student = changed(student)
	if active(student).kind() != kindReplay {
		t.Fatalf("the student shows %s, the teacher the replay", active(student).title())
	}
	if got, want := prediction(t, student), prediction(t, teacher); got[0] != want[0] || got[1] != "14" {
		t.Errorf("the student's replay says %q, the teacher's %q", got[0], want[0])
	}
	if s := student.View(); !strings.Contains(s, "test digit 17") || !strings.Contains(s, "following the teacher") {
		t.Errorf("the student does not follow the teacher's digit 17:\n%s", s)
	}
	// Autoplay: the student plays too, at the teacher's speed, and shows
	// the teacher's row as the teacher's ticks move it.
	teacher = hit(teacher, "up", "s")
	teacher, cmd := teacher.Update(keyMsg(" "))
	student, scmd := student.Update(classMsg{})
	sr, _ := viewOf(student, kindReplay)
	r := sr.(*replay)
	if !r.playing || r.speedRate() != 8 || !r.saliency || r.sal == nil || r.step != 14 || scmd == nil {
		t.Errorf("the student's replay: playing %t at %d rows/s, saliency %t, row %d (a tick: %t); want the teacher's",
			r.playing, r.speedRate(), r.saliency && r.sal != nil, r.step, scmd != nil)
	}
	tv, tid := viewOf(teacher, kindReplay)
	for range 3 {
		if cmd == nil {
			t.Fatal("the teacher's replay does not tick")
		}
		teacher, cmd = teacher.Update(viewMsg{id: tid, msg: playTickMsg{tv.(*replay).ticks}})
	}
	student = changed(student)
	if r.step != 17 || tv.(*replay).step != 17 {
		t.Errorf("after three of the teacher's ticks the student is at row %d, the teacher at %d", r.step, tv.(*replay).step)
	}
	// The student's own tick, between the teacher's: the teacher's row
	// stays.
	student, _ = student.Update(viewMsg{id: tid, msg: playTickMsg{r.ticks}})
	if r.step != 17 {
		t.Errorf("the student's own tick took them to row %d, away from the teacher's 17", r.step)
	}
	teacher = hit(teacher, " ", "esc")

	// The gallery: the misclassified, the third digit selected.
	teacher = goTo(t, teacher, kindGallery)
	teacher = hit(teacher, "m", "right", "right")
	student = changed(student)
	tg, _ := viewOf(teacher, kindGallery)
	sg, _ := viewOf(student, kindGallery)
	if active(student).kind() != kindGallery || sg.(*gallery).f != tg.(*gallery).f {
		t.Fatalf("the student shows %s, filter %v; the teacher the gallery, filter %v", active(student).title(), sg.(*gallery).f, tg.(*gallery).f)
	}
	tk, _ := tg.(*gallery).selected()
	sk, ok := sg.(*gallery).selected()
	if !ok || sk != tk {
		t.Errorf("the student's gallery selects entry %d, the teacher's %d", sk, tk)
	}
	// The teacher replays it: so does the student.
	teacher = hit(teacher, "enter")
	student = changed(student)
	want := "test digit " + group(tg.(*gallery).run.preds.SetIndex(tk))
	if s := student.View(); active(student).kind() != kindReplay || !strings.Contains(s, want) {
		t.Errorf("the teacher replays %q from the gallery; the student:\n%s", want, s)
	}

	// The canvas: the teacher's stroke, the preprocessed digit shown, and
	// its replay.
	teacher = goTo(t, teacher, kindCanvas)
	teacher = hit(teacher, repeat("up", 8)...)
	for range 14 {
		teacher = hit(teacher, " ", "down")
	}
	teacher = hit(teacher, "t")
	student = changed(student)
	tc, _ := viewOf(teacher, kindCanvas)
	sc, _ := viewOf(student, kindCanvas)
	if active(student).kind() != kindCanvas || !sc.(*canvas).showPre {
		t.Fatalf("the student shows %s (preprocessed %t), the teacher the canvas with the preprocessed digit", active(student).title(), sc.(*canvas).showPre)
	}
	if got, want := preprocess.Pixels(sc.(*canvas).px), preprocess.Pixels(tc.(*canvas).px); string(got) != string(want) {
		t.Error("the student's drawing is not the teacher's")
	}
	checkPrediction(t, student, tw.nets[2])
	teacher = hit(teacher, "v")
	student = changed(student)
	if got, want := prediction(t, student), prediction(t, teacher); got[0] != want[0] || !strings.Contains(student.View(), "the teacher's drawing") {
		t.Errorf("the student's replay of the drawing says %q, the teacher's %q:\n%s", got[0], want[0], student.View())
	}

	// The gradients' axis.
	teacher = goTo(t, teacher, kindGradients)
	teacher = hit(teacher, "x")
	student = changed(student)
	if sgr, _ := viewOf(student, kindGradients); active(student).kind() != kindGradients || !sgr.(*gradients).linear {
		t.Errorf("the student shows %s, not the teacher's linear gradients", active(student).title())
	}

	// Back to the replay; the student's own step leaves follow mode.
	teacher = goTo(t, teacher, kindReplay)
	student = changed(student)
	before := r.step
	student = hit(student, "left")
	if f := footer(student); strings.Contains(f, "following the teacher") || r.step != before-1 {
		t.Errorf("the student's own left: row %d (from %d), footer %q", r.step, before, f)
	}
	teacher = hit(teacher, "g")
	student = changed(student)
	if r.step != before-1 {
		t.Errorf("the teacher moved a student who left follow mode, to row %d", r.step)
	}
}
