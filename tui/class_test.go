package tui

import (
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
)

// testRoom is a classroom in memory for the Model's own tests: one state
// for everyone, the last teacher's share as the screen to follow. (The
// SSH server's room, with its members and leaders, is tested over SSH in
// tui/serve.)
type testRoom struct {
	mu      sync.Mutex
	state   ClassState
	starts  int
	shares  int
	acted   int
	waiters []chan struct{}
}

// seatOf returns the room as seen by a teacher or a student: a
// Classroom of its own, woken on every change.
func (r *testRoom) seatOf(teacher bool) *testSeat {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &testSeat{r: r, teacher: teacher, ch: make(chan struct{}, 1)}
	r.waiters = append(r.waiters, s.ch)
	return s
}

// change edits the state and wakes every seat.
func (r *testRoom) change(f func(*ClassState)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.state)
	for _, ch := range r.waiters {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

type testSeat struct {
	r       *testRoom
	teacher bool
	ch      chan struct{}
}

func (s *testSeat) Changed() <-chan struct{} { return s.ch }

func (s *testSeat) State() ClassState {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	st := s.r.state
	st.Teacher = s.teacher
	if !s.teacher {
		st.Members = nil
	}
	return st
}

func (s *testSeat) Start() error {
	if !s.teacher {
		return errors.New("not a teacher")
	}
	s.r.mu.Lock()
	s.r.starts++
	s.r.mu.Unlock()
	s.r.change(func(c *ClassState) { c.Lobby = false })
	return nil
}

func (s *testSeat) Share(sc Screen, acted bool) {
	if !s.teacher {
		return
	}
	s.r.mu.Lock()
	s.r.shares++
	if acted {
		s.r.acted++
	}
	s.r.mu.Unlock()
	s.r.change(func(c *ClassState) { c.Screen = sc })
}

// teacherActor and studentActor are who the test's viewers are.
var (
	teacherActor = runs.Actor{User: "ann", Key: "SHA256:teacher", Addr: "10.0.0.1:5000"}
	studentActor = runs.Actor{User: "bob", Key: "SHA256:student", Addr: "10.0.0.2:5000"}
)

// classModel builds a Model in the classroom seat, showing run 1 of the
// test config (started), at 120x40.
func classModel(t *testing.T, seat Classroom, actor runs.Actor, follow bool) tea.Model {
	t.Helper()
	ch := make(chan runs.Event)
	t.Cleanup(func() { close(ch) })
	m := New(Options{Renderer: renderer(termenv.Ascii), Access: runs.Access{Actor: actor}, Events: ch, Class: seat, Follow: follow})
	mm, _ := m.Update(eventsMsg(startEvents(fakeInfo(testConfig(), testSet(t)), 1)))
	return sized(mm, 120, 40)
}

// changed hands the model the classroom's change, as its Cmd would.
func changed(m tea.Model) tea.Model {
	m, _ = m.Update(classMsg{})
	return m
}

// action is run 1's event of an action of kind by actor.
func action(kind runs.ActionKind, by runs.Actor, gen int) runs.Event {
	return runs.Event{Run: 1, Gen: gen, Kind: runs.KindAction, Action: &runs.Action{Kind: kind, Actor: by}}
}

// footer is the model's footer as last laid out.
func footer(m tea.Model) string { return m.(Model).lay.footer }

// TestLobby: while the classroom waits for the teacher every viewer sees
// the lobby (the run's settings, how many are connected, "waiting for the
// teacher"), whatever key they press; a teacher also sees who is
// connected and starts training with enter; then the dashboard shows, with
// the notice that the teacher started it.
func TestLobby(t *testing.T) {
	room := &testRoom{state: ClassState{Lobby: true, Connected: 3, Teachers: 1, Members: []Member{
		{User: "ann", Key: "ann@laptop (SHA256:aaa)", Teacher: true},
		{User: "bob", Key: "SHA256:bbb"},
		{User: "cy", Key: "SHA256:ccc"},
	}}}
	student := classModel(t, room.seatOf(false), studentActor, false)
	teacher := classModel(t, room.seatOf(true), teacherActor, false)

	v := student.View()
	for _, want := range []string{"[Lobby]", "waiting for the teacher", "Waiting for the teacher", "Training starts when the teacher presses enter",
		"model RNN 28→128→10", "batch 64", "Adam lr 0.001", "epochs 3", "seed 7", "data embedded MNIST", "train 40,000",
		"connected 3 (1 teacher, 2 students)", "f makes your screen follow"} {
		if !strings.Contains(v, want) {
			t.Errorf("the student's lobby lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "Who is connected") || strings.Contains(v, "SHA256:bbb") || strings.Contains(v, "Dashboard") {
		t.Errorf("the student's lobby shows the roster or the tabs:\n%s", v)
	}
	for _, k := range []string{"tab", "p", "l", "enter"} {
		student, _ = press(student, k)
		if v := student.View(); !strings.Contains(v, "Waiting for the teacher") {
			t.Fatalf("after %q the student left the lobby:\n%s", k, v)
		}
	}
	if f := footer(student); !strings.Contains(f, "training starts when the teacher presses enter") || !strings.Contains(f, "? help") {
		t.Errorf("the student's enter in the lobby: footer %q", f)
	}
	student, _ = student.Update(tea.MouseMsg{X: 30, Y: 0, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft})
	if !student.(Model).inLobby() {
		t.Fatal("a click on the tab bar left the lobby")
	}
	// A second run: both runs' settings, each under its label.
	lstm := *fakeInfo(testConfig(), testSet(t))
	lstm.ID, lstm.Spec.Cell, lstm.Config.Cell = 2, engine.LSTM, engine.LSTM
	two, _ := student.Update(eventsMsg{{Run: 2, Gen: 1, Kind: runs.KindAdded, Info: &lstm, Index: 1}})
	v = two.View()
	if !regexp.MustCompile(`(?m)^ 1  RNN   model RNN 28→128→10 · `).MatchString(v) || !regexp.MustCompile(`(?m)^ 2  LSTM  model LSTM 28→128→10 · `).MatchString(v) {
		t.Errorf("the lobby of two runs does not list both with their labels:\n%s", v)
	}
	if strings.Contains(strings.Split(v, "\n")[0], "run 1") {
		t.Errorf("the lobby's tab bar names a run: %q", strings.Split(v, "\n")[0])
	}

	v = teacher.View()
	for _, want := range []string{"press enter to start training for everyone", "Who is connected", "teacher  ann  ann@laptop (SHA256:aaa)", "student  bob  SHA256:bbb", "student  cy   SHA256:ccc"} {
		if !strings.Contains(v, want) {
			t.Errorf("the teacher's lobby lacks %q:\n%s", want, v)
		}
	}
	if f := footer(teacher); !strings.Contains(f, "enter start training") {
		t.Errorf("the teacher's hint line %q does not offer enter", f)
	}
	teacher, cmd := press(teacher, "enter")
	if cmd == nil {
		t.Fatal("the teacher's enter started nothing")
	}
	teacher, _ = teacher.Update(cmd())
	if room.starts != 1 {
		t.Fatalf("the teacher's enter started training %d times, want 1", room.starts)
	}
	teacher, student = changed(teacher), changed(student)
	for _, m := range []tea.Model{teacher, student} {
		v := m.View()
		if strings.Contains(v, "Waiting for the teacher") || !strings.Contains(v, "[Dashboard]") {
			t.Errorf("the lobby did not end:\n%s", v)
		}
	}
	if f := footer(student); !strings.Contains(f, "training started by the teacher") {
		t.Errorf("the student's footer %q lacks the notice of the start", f)
	}
}

// TestNotices: each action of the teacher reaches a student's status line
// and stays there until the next change (keys do not clear it); the
// student's view that lost its data to a restart says why; the teacher
// sees their own as theirs; a late joiner, whose stream replays the
// history, sees the notice of the state things are in.
func TestNotices(t *testing.T) {
	room := &testRoom{state: ClassState{Connected: 2, Teachers: 1}}
	student := classModel(t, room.seatOf(false), studentActor, false)
	teacher := classModel(t, room.seatOf(true), teacherActor, false)
	preds := fakePreds(testSet(t))
	run := fakeRun(testConfig(), preds)
	history := append(startEvents(fakeInfo(testConfig(), testSet(t)), 1), reportEvents(run, 1)...)
	both := func(es ...runs.Event) {
		student, _ = student.Update(eventsMsg(es))
		teacher, _ = teacher.Update(eventsMsg(es))
		history = append(history, es...)
	}
	first := upTo(run, 300)
	both(reportEvents(first, 1)...)
	both(action(runs.ActAdd, runs.Actor{User: "command line"}, 1))
	if f := footer(student); strings.Contains(f, "added") {
		t.Errorf("the server's own run (the command line's) is told as the teacher's: %q", f)
	}
	both(action(runs.ActPause, teacherActor, 1), runs.Event{Run: 1, Gen: 1, Kind: runs.KindState, State: runs.StatePaused})
	if f := footer(student); !strings.Contains(f, "paused by the teacher") {
		t.Errorf("the student's footer %q lacks the pause", f)
	}
	if f := footer(teacher); !strings.Contains(f, "paused by you") {
		t.Errorf("the teacher's footer %q does not say the pause was theirs", f)
	}
	student, _ = press(student, "?")
	student, _ = press(student, "esc")
	if f := footer(student); !strings.Contains(f, "paused by the teacher") {
		t.Errorf("keys cleared the notice: %q", f)
	}
	late := classModel(t, room.seatOf(false), studentActor, false)
	late, _ = late.Update(eventsMsg(history))
	if f := footer(late); !strings.Contains(f, "paused by the teacher") {
		t.Errorf("a late joiner's footer %q lacks the pause", f)
	}

	both(action(runs.ActResume, teacherActor, 1), runs.Event{Run: 1, Gen: 1, Kind: runs.KindState, State: runs.StateRunning})
	if f := footer(student); !strings.Contains(f, "resumed by the teacher") || strings.Contains(f, "paused") {
		t.Errorf("the student's footer %q does not say the run resumed", f)
	}
	both(append(reportEvents(run[len(first):], 1), runs.Event{Run: 1, Gen: 1, Kind: runs.KindState, State: runs.StateDone})...)
	if f := footer(student); !strings.Contains(f, "training done") {
		t.Errorf("the end of the run is not told: %q", f)
	}

	// The student browses the predictions; the teacher restarts the run.
	student, _ = press(student, "tab")
	if v := student.View(); !strings.Contains(v, "final test predictions") {
		t.Fatalf("no predictions to browse:\n%s", v)
	}
	teacher, _ = press(teacher, "tab", "tab") // the confusion matrix... then back to the dashboard
	teacher, _ = press(teacher, "shift+tab", "shift+tab")
	both(action(runs.ActRestart, teacherActor, 2), runs.Event{Run: 1, Gen: 2, Kind: runs.KindState, State: runs.StateQueued},
		runs.Event{Run: 1, Gen: 2, Kind: runs.KindState, State: runs.StateRunning})
	f := footer(student)
	if !strings.Contains(f, "run restarted by the teacher") || !strings.Contains(f, "your predictions were the old run's and are gone") {
		t.Errorf("the student on the browser is not told why the predictions went: %q", f)
	}
	if f := footer(teacher); !strings.Contains(f, "run restarted by you") || !strings.Contains(f, "its charts start over") {
		t.Errorf("the teacher on the dashboard: %q", f)
	}

	// A removed run's actions stay in the history (for the server's log):
	// they tell no one, live or joining late.
	gone := action(runs.ActStop, teacherActor, 1)
	gone.Run = 7
	student, _ = student.Update(eventsMsg{gone})
	if f := footer(student); strings.Contains(f, "stopped") {
		t.Errorf("an action of a run the viewer does not know is told: %q", f)
	}

	// Without a classroom there is no notice line.
	local := feed(sized(model(t, renderer(termenv.Ascii), testConfig(), testSet(t), runs.Access{}), 120, 40), run)
	local, _ = local.Update(eventsMsg{action(runs.ActPause, teacherActor, 1)})
	if f := footer(local); strings.Contains(f, "paused") || strings.Contains(f, "done") {
		t.Errorf("a Model without a classroom shows notices: %q", f)
	}
}

// TestNoticeTable: every action kind the runs package publishes (from
// ActPause up to the first name it has not: new kinds show up here) but
// the evaluation has a notice, each naming who acted.
func TestNoticeTable(t *testing.T) {
	rules := actionNotices()
	for k := runs.ActPause; !strings.HasPrefix(k.String(), "action("); k++ {
		if k == runs.ActEvaluate {
			continue // not published: it changes nothing
		}
		rule, ok := rules[k]
		if !ok {
			t.Errorf("no notice for action %s: add its entry to actionNotices", k)
			continue
		}
		if got := rule(runs.Action{Kind: k, Detail: "run 1"}, "the teacher"); !strings.Contains(got, "the teacher") {
			t.Errorf("the notice of %s, %q, does not say who acted", k, got)
		}
	}
}

// digitLine finds the browser's "digit N of M" line.
var digitLine = regexp.MustCompile(`digit\s+(\d+) of`)

// shownDigit returns the test index the browser shows on screen.
func shownDigit(t testing.TB, m tea.Model) string {
	t.Helper()
	got := digitLine.FindStringSubmatch(ansi.Strip(m.View()))
	if got == nil {
		t.Fatalf("no digit on the screen:\n%s", m.View())
	}
	return got[1]
}

// TestFollowMode: f makes a student's screen follow the teacher's (view,
// digit, filter, cell) as the teacher moves, the status line says so, and
// the student's own navigation leaves follow mode (their own screen
// stays); f again follows once more. A teacher is never following, and
// without a classroom f says there is no teacher.
func TestFollowMode(t *testing.T) {
	room := &testRoom{state: ClassState{Connected: 2, Teachers: 1}}
	run := fakeRun(testConfig(), fakePreds(testSet(t)))
	teacher := feed(classModel(t, room.seatOf(true), teacherActor, false), run)
	student := feed(classModel(t, room.seatOf(false), studentActor, true), run)
	if room.shares == 0 {
		t.Fatal("the teacher's model shared no screen")
	}
	teacher, _ = press(teacher, "tab", "m", "l", "l", "l")
	if room.acted < 5 {
		t.Errorf("%d of the teacher's keys were shared as acts, want 5", room.acted)
	}
	student = changed(student)
	if got, want := shownDigit(t, student), shownDigit(t, teacher); got != want {
		t.Fatalf("the following student shows digit %s, the teacher %s", got, want)
	}
	v := student.View()
	if !strings.Contains(v, "[Predictions]") || !strings.Contains(v, "filter: misclassified") {
		t.Errorf("the student does not show the teacher's view and filter:\n%s", v)
	}
	if f := footer(student); !strings.Contains(f, "following the teacher") {
		t.Errorf("the status line %q does not say the student follows", f)
	}

	// The teacher opens a cell of the confusion matrix in the browser.
	teacher, cmd := press(teacher, "tab", "down", "right")
	student = changed(student)
	if v := student.View(); !strings.Contains(v, "[Confusion]") || !strings.Contains(v, "true 1 predicted as 1") {
		t.Errorf("the student does not show the teacher's cell:\n%s", v)
	}
	teacher, cmd = press(teacher, "enter")
	teacher, _ = teacher.Update(cmd())
	student = changed(student)
	if v := student.View(); !strings.Contains(v, "filter: target 1, predicted 1") {
		t.Errorf("the student does not browse the teacher's cell:\n%s", v)
	}
	want := shownDigit(t, teacher)
	if got := shownDigit(t, student); got != want {
		t.Errorf("the student shows digit %s, the teacher %s", got, want)
	}

	// The student's own key leaves follow mode; the teacher's moves no
	// longer move them.
	student, _ = press(student, "l")
	own := shownDigit(t, student)
	if own == want {
		t.Fatal("the student's l did not move")
	}
	if f := footer(student); strings.Contains(f, "following the teacher") || !strings.Contains(f, "on your own") {
		t.Errorf("after an own key the footer is %q", f)
	}
	teacher, _ = press(teacher, "l", "l")
	student = changed(student)
	if got := shownDigit(t, student); got != own {
		t.Errorf("the teacher moved a student who left follow mode: digit %s, want %s", got, own)
	}
	// f follows again, at once.
	student, _ = press(student, "f")
	if got, want := shownDigit(t, student), shownDigit(t, teacher); got != want {
		t.Errorf("f again: the student shows digit %s, the teacher %s", got, want)
	}
	// Keys that do not navigate keep following.
	student, _ = press(student, "?")
	student, _ = press(student, "esc")
	if f := footer(student); !strings.Contains(f, "following the teacher") {
		t.Errorf("help left follow mode: %q", f)
	}

	teacher, _ = press(teacher, "f")
	if f := footer(teacher); !strings.Contains(f, "you are a teacher") {
		t.Errorf("a teacher's f: %q", f)
	}
	local := sized(model(t, renderer(termenv.Ascii), testConfig(), testSet(t), runs.Access{}), 120, 40)
	local, _ = press(local, "f")
	if f := footer(local); !strings.Contains(f, "no teacher to follow") {
		t.Errorf("f without a classroom: %q", f)
	}
}

// BenchmarkFollowKey is what one key of the teacher in the browser costs:
// the teacher's Update (its screen shared) and View, then a following
// student's Update (the teacher's screen applied) and View, at 120x40;
// a room of n students costs the teacher's part once and the student's
// part n times.
func BenchmarkFollowKey(b *testing.B) {
	room := &testRoom{state: ClassState{Connected: 2, Teachers: 1}}
	run := fakeRun(testConfig(), fakePreds(testSet(b)))
	newModel := func(seat Classroom, actor runs.Actor, follow bool) tea.Model {
		m := tea.Model(New(Options{Renderer: renderer(termenv.ANSI256), Access: runs.Access{Actor: actor}, Class: seat, Follow: follow}))
		m, _ = m.Update(eventsMsg(append(startEvents(fakeInfo(testConfig(), testSet(b)), 1), reportEvents(run, 1)...)))
		return sized(m, 120, 40)
	}
	teacher := newModel(room.seatOf(true), teacherActor, false)
	student := newModel(room.seatOf(false), studentActor, true)
	teacher, _ = press(teacher, "tab")
	student = changed(student)
	keys := []tea.KeyMsg{keyMsg("l"), keyMsg("h")}
	var studentPart time.Duration
	b.ResetTimer()
	for i := range b.N {
		teacher, _ = teacher.Update(keys[i%2])
		_ = teacher.View()
		t0 := time.Now()
		student = changed(student)
		_ = student.View()
		studentPart += time.Since(t0)
	}
	b.StopTimer()
	b.ReportMetric(float64(studentPart.Nanoseconds())/float64(b.N), "student-ns/key")
	if got, want := shownDigit(b, student), shownDigit(b, teacher); got != want {
		b.Fatalf("the student shows digit %s, the teacher %s", got, want)
	}
}
