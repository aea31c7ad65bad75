package serve

import (
	"strings"
	"testing"

	"github.com/mnist-tui/mnist-tui/engine"
)

// TestSetupFormOverSSH serves the real TUI to a viewer and an admin, each
// a golang.org/x/crypto/ssh client with a PTY: the viewer's N is refused
// with the read-only reason and opens nothing; the admin's N opens the
// setup form (cell, hidden size, learning rate), and submitting it (the
// keys of all its lines sent at once, as a link coalesces them) adds the
// run to the served list; the viewer's dashboard then compares both runs,
// and the log says who added it.
func TestSetupFormOverSSH(t *testing.T) {
	k := newKeys(t)
	ts := startServer(t, k.options(), noRun, tuiModels())
	viewer, admin, adminUser := classroom(t, ts, k, 100, 30)

	viewer.send(t, "N")
	viewer.waitFor(t, ReadOnlyReason)
	if strings.Contains(viewer.screen(), "hidden size") {
		t.Fatal("a viewer's N opened the form")
	}

	admin.send(t, "N")
	for _, want := range []string{"cell", "hidden size", "learning rate", "pre-filled from run 1 (RNN)"} {
		admin.waitFor(t, want)
	}
	admin.send(t, "\x1b[C") // right: the cell becomes an LSTM
	admin.waitFor(t, "LSTM")
	// Enter on the eight settings and on "joins the comparison", at once.
	admin.send(t, strings.Repeat("\r", 9))
	waitUntil(t, "the admin's run is in the list", func() bool { return len(ts.List().Runs()) == 2 })
	got := ts.List().Runs()[1].Info.Spec
	if got.Cell != engine.LSTM || got.Hidden != 128 || got.Limit != 64 {
		t.Errorf("the form's run is %+v, want the served run's settings with an LSTM", got)
	}
	admin.waitFor(t, "run 2 added to the comparison")
	viewer.waitFor(t, "queued 1st") // the runs table, on the viewer's dashboard
	want := `add by user="` + adminUser + `" key=` + fingerprint(k.admin.PublicKey())
	waitUntil(t, "the log says who added the run", func() bool { return strings.Contains(ts.log.String(), want) })
	if n := len(ts.List().Runs()); n != 2 {
		t.Errorf("%d runs: the viewer's N added one", n)
	}
}
