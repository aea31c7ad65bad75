package serve

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/tui"
)

// commentKeys writes k's keys files again with a comment on each key, as
// ssh-keygen writes them.
func commentKeys(t *testing.T, k *keys) {
	t.Helper()
	write := func(path string, s gossh.Signer, comment string) {
		line := bytes.TrimSpace(gossh.MarshalAuthorizedKey(s.PublicKey()))
		if err := os.WriteFile(path, append(line, []byte(" "+comment+"\n")...), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(k.authorized, k.user, "bob@laptop")
	write(k.admins, k.admin, "ann@school")
}

// connect opens a 100x30 terminal on ts with signer's key, closed when
// the test ends.
func connect(t *testing.T, ts *testServer, signer gossh.Signer) *terminal {
	t.Helper()
	c, err := dial(t, ts.addr, signer)
	if err != nil {
		t.Fatal(err)
	}
	tm := openTerminal(t, c, 100, 30)
	t.Cleanup(tm.close)
	return tm
}

// TestWaitForTeacher serves a real run with --wait-for-teacher: nothing
// trains (no batch report) while a student and then the teacher are
// connected; both see the lobby (the student its count and settings, the
// teacher who is connected, by key comment and fingerprint); a student's
// enter starts nothing; the teacher's enter starts training for everyone,
// the student's dashboard shows it with the notice, and the log names the
// teacher. A student joining later sees no lobby.
func TestWaitForTeacher(t *testing.T) {
	k := newKeys(t)
	commentKeys(t, k)
	o := k.options()
	o.WaitForTeacher = true
	c := engine.DefaultConfig()
	c.Epochs = 1000 // far more than the test lets it run
	var tr atomic.Pointer[engine.Trainer]
	ts := startServer(t, o, trainerStart(c, smallData(t, 256), &tr, nil), tuiModels())
	waitUntil(t, "the server logs that it waits", func() bool {
		return strings.Contains(ts.log.String(), "training starts when a teacher presses enter in the lobby")
	})

	student := connect(t, ts, k.user)
	for _, want := range []string{"Waiting for the teacher", "Training starts when the teacher presses enter", "model RNN 28→128→10", "connected 1 (0 teachers, 1 student)"} {
		student.waitFor(t, want)
	}
	student.send(t, "\r")
	student.waitFor(t, "training starts when the teacher presses enter")

	teacher := connect(t, ts, k.admin)
	for _, want := range []string{"press enter to start training for everyone", "Who is connected", "bob@laptop (" + fingerprint(k.user.PublicKey()) + ")", "ann@school"} {
		teacher.waitFor(t, want)
	}
	student.waitFor(t, "connected 2 (1 teacher, 1 student)")
	// Everyone is in and the screens have settled: still nothing trains.
	if n := len(ts.reports()); n != 0 || tr.Load() != nil {
		t.Fatalf("training started in the lobby: %d reports", n)
	}

	teacher.send(t, "\r")
	waitUntil(t, "training starts with the teacher's enter", func() bool { return len(ts.reports()) > 0 })
	student.waitFor(t, "training started by the teacher")
	student.waitFor(t, "[Dashboard]")
	teacher.waitFor(t, "[Dashboard]")
	if log := ts.log.String(); !strings.Contains(log, `training started by the teacher user="student"`) || !strings.Contains(log, fingerprint(k.admin.PublicKey())) {
		t.Errorf("the log does not name the teacher who started training:\n%s", log)
	}

	late := connect(t, ts, k.user)
	late.waitFor(t, "[Dashboard]")
	if strings.Contains(late.screen(), "Waiting for the teacher") {
		t.Errorf("a student joining after the start saw the lobby:\n%s", tail(late.screen()))
	}
}

// TestTeacherPauseNotice: the teacher's pause reaches a student's status
// line as "paused by the teacher", and a late joiner's; the log records
// the pause with the teacher's user and key; a teacher who disconnects
// leaves the run paused, and the log says so.
func TestTeacherPauseNotice(t *testing.T) {
	k := newKeys(t)
	c := engine.DefaultConfig()
	c.Epochs = 1000
	var tr atomic.Pointer[engine.Trainer]
	ts := startServer(t, k.options(), trainerStart(c, smallData(t, 256), &tr, nil), tuiModels())
	student, teacher, _ := classroom(t, ts, k, 100, 30)
	waitUntil(t, "training runs", func() bool { return len(ts.reports()) > 0 })

	teacher.send(t, "p")
	waitUntil(t, "the teacher's pause takes", func() bool { return tr.Load().Paused() })
	student.waitFor(t, "paused by the teacher")
	teacher.waitFor(t, "paused by you")
	adminKey := fingerprint(k.admin.PublicKey())
	if log := ts.log.String(); !regexp.MustCompile(`pause by user="student" key=` + regexp.QuoteMeta(adminKey) + ` addr=\S+ \(run 1\)`).MatchString(log) {
		t.Errorf("the log does not record the pause with the teacher's key %s:\n%s", adminKey, log)
	}

	late := connect(t, ts, k.user)
	late.waitFor(t, "paused by the teacher")

	teacher.close()
	waitUntil(t, "the log says the teacher left the run paused", func() bool {
		return strings.Contains(ts.log.String(), "left while run 1 is paused: it stays paused until a teacher resumes it")
	})
	if !tr.Load().Paused() {
		t.Error("the teacher's leaving resumed the run")
	}
	if !strings.Contains(ts.log.String(), "teacher user=\"student\"") || !strings.Contains(ts.log.String(), adminKey) {
		t.Errorf("the log of the teacher's leaving does not name them:\n%s", ts.log)
	}
}

// TestFollowTheTeacher serves a tiny real run to its end with --follow: a
// student's screen follows the teacher's to the predictions and the digit
// the teacher moves to, and says so; the student's own key leaves follow
// mode (the teacher's moves then move them no more); f follows again. With
// a second teacher, students follow the one who acted last.
func TestFollowTheTeacher(t *testing.T) {
	k := newKeys(t)
	o := k.options()
	o.Follow = true
	c := engine.DefaultConfig()
	c.Epochs = 2
	var tr atomic.Pointer[engine.Trainer]
	ts := startServer(t, o, trainerStart(c, smallData(t, 200), &tr, nil), tuiModels())
	student, teacher, _ := classroom(t, ts, k, 100, 30)
	teacher.waitFor(t, "done")
	student.waitFor(t, "done")
	student.waitFor(t, "following the teacher")

	teacher.send(t, "\t")
	teacher.waitFor(t, "[Predictions]")
	student.waitFor(t, "[Predictions]")
	teacher.send(t, "lll")
	teacher.waitFor(t, "digit     3 of 64")
	student.waitFor(t, "digit     3 of 64")

	// The student's own key: digit 2, follow mode left.
	student.send(t, "h")
	student.waitFor(t, "digit     2 of 64")
	student.waitFor(t, "you browse on your own now")
	teacher.send(t, "ll")
	teacher.waitFor(t, "digit     5 of 64")
	waitUntil(t, "the room has the teacher's digit 5", func() bool {
		ts.room.mu.Lock()
		defer ts.room.mu.Unlock()
		return strings.Contains(ts.room.screen.String(), "index:5")
	})
	student.clear()
	student.send(t, "l")
	student.waitFor(t, "digit     3 of 64") // from its own 2, not the teacher's 5
	if strings.Contains(student.screen(), "following the teacher") {
		t.Errorf("the student still follows after an own key:\n%s", tail(student.screen()))
	}

	// f follows again: the teacher's digit 5.
	student.send(t, "f")
	student.waitFor(t, "digit     5 of 64")
	student.waitFor(t, "following the teacher")

	// A second teacher acts: the students follow them.
	second := connect(t, ts, k.admin)
	second.waitFor(t, "[Dashboard]")
	second.send(t, "\t\t")
	second.waitFor(t, "[Confusion]")
	student.waitFor(t, "[Confusion]")
	teacher.send(t, "l")
	teacher.waitFor(t, "digit     6 of 64")
	student.waitFor(t, "digit     6 of 64")
}

// TestRoomLeaders: the room's leader is the teacher who acted last (the
// first to share, before any acted); when it leaves, the teacher who acted
// last before it leads; students' shares count for nothing; names a
// client chose are made printable; a student cannot start training.
func TestRoomLeaders(t *testing.T) {
	r := newRoom(testList(t, noRun), t.Logf, true)
	stu := r.join("bob\x1b[31m", "", "SHA256:s", "bob", false)
	a := r.join("ann", "ann@school", "SHA256:a", "ann", true)
	b := r.join("cy", "", "SHA256:b", "cy", true)
	if err := stu.Start(); err == nil {
		t.Error("a student started training")
	}
	st := a.State()
	if !st.Lobby || st.Connected != 3 || st.Teachers != 2 || len(st.Members) != 3 {
		t.Fatalf("a teacher's state %+v", st)
	}
	if got := st.Members[0].User; got != "bob?[31m" {
		t.Errorf("a user name with an escape is shown as %q", got)
	}
	if got := st.Members[1].Key; got != "ann@school (SHA256:a)" {
		t.Errorf("a key with a comment is shown as %q", got)
	}
	if s := stu.State(); s.Members != nil || s.Teacher {
		t.Errorf("a student's state shows the roster or a teacher: %+v", s)
	}

	leader := func() *member {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.leader
	}
	a.Share(tui.Screen{}, false)
	if leader() != a {
		t.Fatal("the first teacher to share does not lead")
	}
	b.Share(tui.Screen{}, false)
	if leader() != a {
		t.Fatal("a teacher who did not act took the lead")
	}
	b.Share(tui.Screen{}, true)
	if leader() != b {
		t.Fatal("the teacher who acted last does not lead")
	}
	stu.Share(tui.Screen{}, true)
	if leader() != b {
		t.Fatal("a student's share took the lead")
	}
	a.Share(tui.Screen{}, true)
	b.Share(tui.Screen{}, true)
	r.leave(b)
	if leader() != a {
		t.Fatal("after the leader left, the teacher who acted last before it does not lead")
	}
	if _, ok := <-b.Changed(); ok {
		// drain a pending wake-up; the channel must then be closed
		if _, ok := <-b.Changed(); ok {
			t.Error("a member's channel stays open after it left")
		}
	}
	if err := a.Start(); err != nil || a.State().Lobby {
		t.Fatalf("the teacher's start: %v, lobby %t", err, a.State().Lobby)
	}
	if err := a.Start(); err != nil {
		t.Fatalf("a second start: %v", err)
	}
}
