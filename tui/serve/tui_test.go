package serve

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	gossh "golang.org/x/crypto/ssh"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
	"github.com/mnist-tui/mnist-tui/mnist"
)

// embedded parses the embedded MNIST once for all tests (seconds under
// -race); the sets are read-only.
var embedded = sync.OnceValues(func() (engine.Data, error) {
	train, test, err := mnist.Embedded()
	if err != nil {
		return engine.Data{}, err
	}
	tr, val, err := mnist.Split(train, 40000, 0)
	if err != nil {
		return engine.Data{}, err
	}
	return engine.Data{Train: tr, Val: val, Test: test}, nil
})

// smallData returns n digits of each split of the embedded MNIST.
func smallData(t testing.TB, n int) engine.Data {
	t.Helper()
	d, err := embedded()
	if err != nil {
		t.Fatal(err)
	}
	return engine.Data{Train: d.Train.Limit(n), Val: d.Val.Limit(n), Test: d.Test.Limit(n)}
}

// trainerStart is a TrainerFunc building a real engine.Trainer of c on d,
// which it also stores in got, counting its evaluations in evals.
func trainerStart(c engine.Config, d engine.Data, got *atomic.Pointer[engine.Trainer], evals *atomic.Int64) runs.TrainerFunc {
	return func(_ runs.Prepared, report engine.Reporter) (runs.Trainer, error) {
		tr, err := engine.NewTrainer(c, d, engine.WithReporter(report))
		if err != nil {
			return nil, err
		}
		got.Store(tr)
		return countingTrainer{tr, evals}, nil
	}
}

// countingTrainer counts the evaluations its trainer runs.
type countingTrainer struct {
	*engine.Trainer
	evals *atomic.Int64
}

func (c countingTrainer) Evaluate(ctx context.Context) (*engine.Predictions, error) {
	if c.evals != nil {
		c.evals.Add(1)
	}
	return c.Trainer.Evaluate(ctx)
}

// TestRealTUIAndTrainer serves the real dashboard of a real (small)
// training run: training waits for the first viewer (--wait), a viewer
// without an admin key cannot pause while the teacher can, a window change
// reaches the dashboard, anyone may evaluate, and a late joiner's first
// screen shows where the run is.
func TestRealTUIAndTrainer(t *testing.T) {
	k := newKeys(t)
	o := k.options()
	o.Wait = true
	c := engine.DefaultConfig()
	c.Epochs = 1000 // far more than the test lets it run
	d := smallData(t, 256)
	var tr atomic.Pointer[engine.Trainer]
	var evals atomic.Int64
	ts := startServer(t, o, trainerStart(c, d, &tr, &evals), tuiModels())

	waitUntil(t, "the server logs that it waits", func() bool { return strings.Contains(ts.log.String(), "first viewer") })
	if tr.Load() != nil || len(ts.reports()) != 0 {
		t.Fatal("training started before anyone connected, despite Wait")
	}

	cv, err := dial(t, ts.addr, k.user)
	if err != nil {
		t.Fatal(err)
	}
	viewer := openTerminal(t, cv, 100, 30)
	defer viewer.close()
	viewer.waitFor(t, "[Dashboard]")
	viewer.waitFor(t, "model RNN")
	waitUntil(t, "training starts with the first viewer", func() bool { return len(ts.reports()) > 0 })

	viewer.send(t, "p")
	viewer.waitFor(t, ReadOnlyReason)
	if tr.Load().Paused() {
		t.Fatal("a viewer without an admin key paused the run")
	}

	ca, err := dial(t, ts.addr, k.admin)
	if err != nil {
		t.Fatal(err)
	}
	admin := openTerminal(t, ca, 100, 30)
	defer admin.close()
	admin.waitFor(t, "model RNN")
	admin.send(t, "p")
	waitUntil(t, "the admin's pause takes", func() bool { return tr.Load().Paused() })
	admin.waitFor(t, "paused")

	viewer.send(t, "e")
	waitUntil(t, "the viewer's evaluation runs", func() bool { return evals.Load() > 0 })

	if err := viewer.sess.WindowChange(15, 50); err != nil {
		t.Fatal(err)
	}
	viewer.waitFor(t, "Terminal too small")
	viewer.waitFor(t, "50x15")

	// The run is paused, so where it stands is stable: a late joiner must
	// show it on its first screens.
	last, ok := ts.last()
	if !ok {
		t.Fatal("no report in the hub")
	}
	cl, err := dial(t, ts.addr, k.user)
	if err != nil {
		t.Fatal(err)
	}
	late := openTerminal(t, cl, 100, 30)
	defer late.close()
	late.waitFor(t, fmt.Sprintf("epoch %d/%d", last.Epoch, last.Epochs))

	admin.send(t, "p")
	waitUntil(t, "the admin's resume takes", func() bool { return !tr.Load().Paused() })

	if err := ts.stop(t); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if !strings.Contains(ts.log.String(), "training started") || !strings.Contains(ts.log.String(), "training stopped") {
		t.Errorf("log misses the run's start or stop:\n%s", ts.log)
	}
}

// tinyRunToTheEnd serves the real TUI of a tiny real run (200 digits of
// each split, 2 epochs) and returns the server and a viewer's 100x30
// terminal once the run is done. The terminal closes with the test.
func tinyRunToTheEnd(t *testing.T, k *keys) (*testServer, *terminal) {
	t.Helper()
	c := engine.DefaultConfig()
	c.Epochs = 2
	d := smallData(t, 200)
	var tr atomic.Pointer[engine.Trainer]
	ts := startServer(t, k.options(), trainerStart(c, d, &tr, nil), tuiModels())
	cv, err := dial(t, ts.addr, k.user)
	if err != nil {
		t.Fatal(err)
	}
	term := openTerminal(t, cv, 100, 30)
	t.Cleanup(term.close)
	term.waitFor(t, "done")
	return ts, term
}

// TestRealRunToTheEnd runs a tiny schedule to its end under one viewer:
// the epochs reach the server's log and the dashboard says the run is
// done.
func TestRealRunToTheEnd(t *testing.T) {
	ts, _ := tinyRunToTheEnd(t, newKeys(t))
	waitUntil(t, "the log shows the end of the run", func() bool {
		l := ts.log.String()
		return strings.Contains(l, "epoch 2/2 val") && strings.Contains(l, "run 1 done: test loss")
	})
}

// TestStalledViewerStallsNothing has a viewer whose client stops reading:
// its SSH window fills up (2 MiB were pending when this was measured) and
// the server's writes to it block. Training
// (Publish) and another viewer must go on regardless, and nothing may
// leak once the stalled client goes away.
func TestStalledViewerStallsNothing(t *testing.T) {
	k := newKeys(t)
	o := k.options()
	o.Refresh, o.FPS = 0, 120 // as many big frames as possible
	probes := probeModels(&probeStats{})
	models := func(s Session) tea.Model {
		// The stalled viewer is the 200-column one (told by its size, not by
		// arrival order, which the two sessions' setup may swap).
		if s.Width == 200 {
			return &flood{probe: probes(s).(*probe)} // big frames
		}
		return probes(s)
	}
	ts := startServer(t, o, noRun, models)

	cs, err := dial(t, ts.addr, k.user)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	stalled, err := cs.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := stalled.RequestPty("xterm-256color", 60, 200, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	out, err := stalled.StdoutPipe() // never read: the window fills up
	if err != nil {
		t.Fatal(err)
	}
	_ = out
	if err := stalled.Shell(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the stalled viewer is in", func() bool { return ts.Sessions() == 1 })

	cg, err := dial(t, ts.addr, k.user)
	if err != nil {
		t.Fatal(err)
	}
	good := openTerminal(t, cg, 80, 24)
	defer good.close()
	good.waitFor(t, "MNIST CLASSROOM PROBE")

	const steps = 3000
	for i := 1; i <= steps; i++ {
		ts.publish(t, engine.Report{Kind: engine.KindBatch, Phase: engine.PhaseTrain, Epoch: 2, Epochs: 3,
			Step: i, Steps: steps, Samples: 64 * i, Total: 64 * steps, Loss: 2 / float64(i), Acc: 0.5})
		if i%10 == 0 {
			time.Sleep(10 * time.Millisecond) // let frames pile up
		}
	}
	good.waitFor(t, fmt.Sprintf("step=%d", steps))
	cs.Close()
	waitUntil(t, "the stalled session is gone", func() bool { return ts.Sessions() == 1 })
}

// flood is a probe whose every frame redraws a full 200x60 screen, to
// fill a stalled client's SSH window quickly.
type flood struct{ *probe }

func (f *flood) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := f.probe.Update(msg)
	return f, cmd
}

func (f *flood) View() string {
	line := strings.Repeat(fmt.Sprintf("%06d ", f.reports), 28)
	return strings.Repeat(line+"\n", 59)
}

// TestMouseOverSSH clicks and turns the wheel over SSH, with SGR mouse
// sequences written into a real client's PTY, on the real TUI of a real
// (tiny) run: the session turns mouse reporting on, a click on the
// Confusion tab shows the matrix, a click on a cell opens the browser on
// its digits, and the wheel steps through them; drags draw on the canvas
// (drawOverSSH). With NoMouse the session leaves the mouse alone.
func TestMouseOverSSH(t *testing.T) {
	k := newKeys(t)
	ts, term := tinyRunToTheEnd(t, k)
	if out := term.raw(); !strings.Contains(out, "\x1b[?1002h") || !strings.Contains(out, "\x1b[?1006h") {
		t.Fatalf("the session did not turn on button-event mouse reporting in SGR encoding: %q", tail(out))
	}
	// At 100 columns the tab bar is "mnist-tui [Dashboard] Predictions
	// Confusion ...": Confusion is at columns 36-44 (counting from 1).
	term.send(t, "\x1b[<0;40;1M\x1b[<0;40;1m")
	term.waitFor(t, "Confusion matrix")
	// At 100x30 the matrix's title takes two lines (the second says
	// where the predictions come from), then a blank line and the column
	// labels; each true class has two lines (its counts and their
	// shares), cells are 6 columns wide after 6 for the labels: cell (1,1)
	// is at columns 13-18 of line 8.
	term.send(t, "\x1b[<0;17;8M\x1b[<0;17;8m")
	term.waitFor(t, "filter: target 1, predicted 1")
	// The wheel steps through the digits (all of them: a tiny run's cell
	// may hold none). The browser has the run's test digits (the list's
	// data: fewer than the trainer's predictions here).
	n := ts.List().Runs()[0].Info.Test.Len()
	term.send(t, "c")
	term.waitFor(t, fmt.Sprintf("filter: all digits · %d match · 1/%d", n, n))
	term.send(t, "\x1b[<65;20;10M\x1b[<65;20;10M") // the wheel, down twice
	term.waitFor(t, fmt.Sprintf("match · 3/%d", n))
	drawOverSSH(t, term)

	o := k.options()
	o.NoMouse = true
	ts2 := startServer(t, o, noRun, tuiModels())
	cn, err := dial(t, ts2.addr, k.user)
	if err != nil {
		t.Fatal(err)
	}
	plain := openTerminal(t, cn, 100, 30)
	defer plain.close()
	plain.waitFor(t, "model RNN")
	plain.send(t, "?")
	plain.waitFor(t, "close help")
	if out := plain.raw(); strings.Contains(out, "\x1b[?1002h") || strings.Contains(out, "\x1b[?1006h") || strings.Contains(plain.screen(), "click tab") {
		t.Fatalf("with NoMouse the session turned the mouse on or offers clicks: %q", tail(out))
	}
}
