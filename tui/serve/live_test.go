package serve

import (
	"strings"
	"testing"

	"github.com/mnist-tui/mnist-tui/engine/runs"
)

// TestLiveClassroom serves a real run at 10 batches a second (64 digits:
// a batch an epoch, a live evaluation after each) to a student and a
// teacher over SSH with real clients: the live predictions reach both
// sessions' galleries without anyone pressing e; the student's +, n and ]
// are refused with the read-only message and change nothing; the
// teacher's + reaches the student's header.
func TestLiveClassroom(t *testing.T) {
	k := newKeys(t)
	spec := testSpec()
	spec.Epochs, spec.Pace = 1000, 10
	ts := startServerOf(t, k.options(), spec, runs.NewTrainer, tuiModels())

	cs, err := dial(t, ts.addr, k.user)
	if err != nil {
		t.Fatal(err)
	}
	student := openTerminal(t, cs, 120, 40)
	defer student.close()
	ca, err := dial(t, ts.addr, k.admin)
	if err != nil {
		t.Fatal(err)
	}
	teacher := openTerminal(t, ca, 120, 40)
	defer teacher.close()
	for _, term := range []*terminal{student, teacher} {
		term.waitFor(t, "· 10 batches/s")
		term.send(t, "\t\t\t") // the gallery
		term.waitFor(t, "Gallery · live · epoch")
		term.waitFor(t, "all 64 test digits")
		term.waitFor(t, "filter: all digits · ✓ ")
	}

	seq := ts.List().Hub().Seq()
	for _, c := range []struct{ key, what string }{{"+", "pace"}, {"n", "one batch"}, {"]", "learning rate"}} {
		student.send(t, c.key)
		student.waitFor(t, c.what+": "+ReadOnlyReason)
	}
	for _, e := range ts.List().Hub().History() {
		if e.Kind == runs.KindAction && e.Action.Kind != runs.ActAdd {
			t.Fatalf("the student's key acted: %+v", e.Action)
		}
	}
	if st := ts.List().Runs()[0]; st.Pace != 10 || st.LR != spec.LR {
		t.Fatalf("after the student's keys the run's pace is %g and lr %g", st.Pace, st.LR)
	}
	// Training goes on meanwhile (the refusals stopped nothing).
	waitUntil(t, "training goes on after the student's keys", func() bool { return ts.List().Hub().Seq() != seq })

	student.clear()
	teacher.send(t, "+")
	teacher.waitFor(t, "pace 50 batches/s for everyone")
	student.waitFor(t, "· 50 batches/s")
	if st := ts.List().Runs()[0]; st.Pace != 50 {
		t.Fatalf("after the teacher's + the pace is %g", st.Pace)
	}
	waitUntil(t, "the log names the teacher's change", func() bool {
		return strings.Contains(ts.log.String(), "pace by ") && strings.Contains(ts.log.String(), "(run 1): pace 50 batches/s")
	})
}
