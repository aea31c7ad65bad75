package serve

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
)

// trackedRun is a real trainer whose Run closes ended when it returns.
type trackedRun struct {
	*engine.Trainer
	ended chan struct{}
}

func (r trackedRun) Run(ctx context.Context) error {
	defer close(r.ended)
	return r.Trainer.Run(ctx)
}

// built records every run a TrainerFunc built. Run number hold (counting
// from 1; 0: none) stops in its reporter after its batch of run step 2,
// closing held, until release is closed: the test can look at the new
// run's first reports before it races on.
type built struct {
	mu      sync.Mutex
	all     []trackedRun
	hold    int
	held    chan struct{}
	release chan struct{}
	once    sync.Once
}

// holdRun makes run n stop after its second batch until rs.free. The
// caller frees it in a cleanup registered after the server's, so that a
// failing test lets the run go before the server waits for it (cleanups
// run last first).
func (rs *built) holdRun(n int) {
	rs.hold, rs.held, rs.release = n, make(chan struct{}), make(chan struct{})
}

// waitHeld waits until the held run stands.
func (rs *built) waitHeld(t *testing.T) {
	t.Helper()
	select {
	case <-rs.held:
	case <-time.After(waitLimit):
		t.Fatal("the new run never reached its second batch")
	}
}

// free lets a held run go on.
func (rs *built) free() { rs.once.Do(func() { close(rs.release) }) }

// start is a TrainerFunc building a real trainer of c on d.
func (rs *built) start(c engine.Config, d engine.Data) runs.TrainerFunc {
	return func(_ runs.Prepared, report engine.Reporter) (runs.Trainer, error) {
		rs.mu.Lock()
		n := len(rs.all) + 1
		rs.mu.Unlock()
		if n == rs.hold {
			pub := report
			report = func(r engine.Report) {
				pub(r)
				if r.Kind == engine.KindBatch && r.RunStep == 2 {
					close(rs.held)
					<-rs.release
				}
			}
		}
		tr, err := engine.NewTrainer(c, d, engine.WithReporter(report))
		if err != nil {
			return nil, err
		}
		rs.mu.Lock()
		defer rs.mu.Unlock()
		r := trackedRun{Trainer: tr, ended: make(chan struct{})}
		rs.all = append(rs.all, r)
		return r, nil
	}
}

func (rs *built) n() int {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return len(rs.all)
}

func (rs *built) get(i int) trackedRun {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.all[i]
}

// ended reports whether run i's Run has returned.
func (rs *built) ended(i int) bool {
	select {
	case <-rs.get(i).ended:
		return true
	default:
		return false
	}
}

// clear forgets the terminal's output so far.
func (tm *terminal) clear() {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	tm.out.Reset()
	tm.stripped.Reset()
	tm.strippedTo = 0
	tm.answered = 0
}

// checkOneRun fails unless h is the history of a single run from its
// start: batches numbered 1, 2, 3, ... without a repeat.
func checkOneRun(t *testing.T, h []engine.Report) {
	t.Helper()
	if len(h) == 0 {
		t.Fatal("empty history")
	}
	step := 0
	for i, r := range h {
		if r.Kind != engine.KindBatch {
			continue
		}
		if r.RunStep != step+1 {
			t.Fatalf("history report %d has run step %d after %d: not one run from its start", i, r.RunStep, step)
		}
		step = r.RunStep
	}
}

// TestAdminRestartsTheRun serves a real run to a viewer and an admin: the
// viewer's R is refused with the read-only reason and the run goes on; the
// admin's first R only asks, the second starts the run over: the old run
// has ended when the restart returns, the history is the new run's only,
// the viewer's dashboard goes on with it, a late joiner gets only the new
// run, and the log says who restarted.
func TestAdminRestartsTheRun(t *testing.T) {
	k := newKeys(t)
	c := engine.DefaultConfig()
	c.Epochs = 1000 // far more than the test lets it run
	d := smallData(t, 256)
	rs := &built{}
	rs.holdRun(2)
	ts := startServer(t, k.options(), rs.start(c, d), tuiModels())
	t.Cleanup(rs.free)

	viewer, admin, adminUser := classroom(t, ts, k, 100, 30)
	waitUntil(t, "the run reaches epoch 2", func() bool {
		r, ok := ts.last()
		return ok && r.Epoch >= 2
	})

	before, _ := ts.last()
	viewer.send(t, "R")
	viewer.waitFor(t, ReadOnlyReason)
	viewer.send(t, "R")
	waitUntil(t, "the run goes on after the viewer's R", func() bool {
		r, _ := ts.last()
		return r.RunStep > before.RunStep+2
	})
	if rs.n() != 1 || rs.ended(0) || strings.Contains(ts.log.String(), "restart by") {
		t.Fatalf("a viewer without an admin key restarted the run (%d runs)", rs.n())
	}

	// Restarting a paused run must end it too.
	admin.send(t, "p")
	waitUntil(t, "the admin's pause takes", func() bool { return rs.get(0).Paused() })
	admin.send(t, "R")
	admin.waitFor(t, "press R again to restart the run from scratch")
	if rs.n() != 1 {
		t.Fatal("a single R restarted the run")
	}
	old, _ := ts.last()
	viewer.clear()
	admin.send(t, "R")
	admin.waitFor(t, "run restarted from scratch")
	if rs.n() != 2 {
		t.Fatalf("%d runs after the restart, want 2", rs.n())
	}
	if !rs.ended(0) {
		t.Fatal("the restart returned while the old run was still running")
	}
	if old.Epoch < 2 {
		t.Fatalf("the old run was at epoch %d", old.Epoch)
	}
	if rs.get(1).Paused() {
		t.Error("the new run starts paused")
	}
	rs.waitHeld(t) // the new run stands after its second batch
	if h := ts.reports(); len(h) != 2 {
		t.Fatalf("history of %d reports, want the new run's 2", len(h))
	}
	checkOneRun(t, ts.reports())
	// The viewer's stream goes on with the new run: its status changes
	// from epoch 2 or later to epoch 1 (the tab bar's "● val, epoch
	// 1/1000" or the phase bar's "val   epoch 1/1000": under load the test's
	// screen may not have redrawn the tab bar yet).
	viewer.waitFor(t, "epoch 1/1000")

	// A late joiner is replayed the new run only.
	cl, err := dial(t, ts.addr, k.user)
	if err != nil {
		t.Fatal(err)
	}
	late := openTerminal(t, cl, 100, 30)
	defer late.close()
	late.waitFor(t, "● val, epoch 1/1000")
	late.waitFor(t, "no finished epoch yet")
	rs.free()
	waitUntil(t, "the new run goes on", func() bool {
		r, _ := ts.last()
		return r.RunStep > 4
	})
	checkOneRun(t, ts.reports())

	want := "restart by user=\"" + adminUser + "\" key=" + fingerprint(k.admin.PublicKey())
	waitUntil(t, "the log says who restarted", func() bool { return strings.Contains(ts.log.String(), want) })
	if err := ts.stop(t); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if !rs.ended(1) {
		t.Error("the new run outlived the server")
	}
}

// TestRestartAfterTheEnd restarts a run that has finished: the sessions'
// streams are still open, so the viewer watches the new run to its end.
func TestRestartAfterTheEnd(t *testing.T) {
	k := newKeys(t)
	c := engine.DefaultConfig()
	c.Epochs = 2
	d := smallData(t, 128)
	rs := &built{}
	rs.holdRun(2)
	ts := startServer(t, k.options(), rs.start(c, d), tuiModels())
	t.Cleanup(rs.free)
	viewer, admin, _ := classroom(t, ts, k, 100, 30)
	viewer.waitFor(t, "✓ done")
	admin.waitFor(t, "✓ done")

	viewer.clear()
	admin.send(t, "R")
	admin.waitFor(t, "press R again")
	admin.send(t, "R")
	admin.waitFor(t, "run restarted from scratch")
	rs.waitHeld(t)
	viewer.waitFor(t, "epoch 1/2") // tab bar or phase bar, whichever the screen redrew first
	rs.free()
	viewer.waitFor(t, "✓ done")
	if rs.n() != 2 || !rs.ended(0) {
		t.Fatalf("%d runs, first ended %v; want 2, true", rs.n(), rs.ended(0))
	}
	checkOneRun(t, ts.reports())
}

// gatedStart is a StartFunc of idle runs; from the call numbered failFrom
// (counting from 1) on it fails with errBoom, until ok is set; calls wait
// for gate first when it is not nil.
type gatedStart struct {
	mu    sync.Mutex
	calls int
	fail  int // the call that fails (0: none)
	gate  chan struct{}
	runs  []*endedRun
}

var errBoom = errors.New("no data for the run")

// endedRun is an idle run that records its end.
type endedRun struct {
	idleRun
	ended chan struct{}
}

func (r *endedRun) Run(ctx context.Context) error {
	defer close(r.ended)
	return r.idleRun.Run(ctx)
}

func (g *gatedStart) start(runs.Prepared, engine.Reporter) (runs.Trainer, error) {
	g.mu.Lock()
	g.calls++
	n, gate := g.calls, g.gate
	g.mu.Unlock()
	if gate != nil {
		<-gate
	}
	if n == g.fail {
		return nil, errBoom
	}
	r := &endedRun{ended: make(chan struct{})}
	g.mu.Lock()
	g.runs = append(g.runs, r)
	g.mu.Unlock()
	return r, nil
}

func (g *gatedStart) count() (calls, runs int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls, len(g.runs)
}

// TestConcurrentRestarts has two admins restart at once: the restarts take
// turns, every old run has ended, one run is left; a failed start is
// reported and a later restart recovers from it; after shutdown a restart
// is refused.
func TestConcurrentRestarts(t *testing.T) {
	k := newKeys(t)
	g := &gatedStart{fail: 4}
	ts := startServer(t, k.options(), g.start, probeModels(&probeStats{}))
	waitUntil(t, "the run starts", func() bool { _, n := g.count(); return n == 1 })

	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = ts.as("admin " + itoa(i)).Restart(1)
		}()
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("restarts: %v, %v", errs[0], errs[1])
	}
	g.mu.Lock()
	if len(g.runs) != 3 {
		t.Fatalf("%d runs after two restarts, want 3", len(g.runs))
	}
	for i, r := range g.runs {
		select {
		case <-r.ended:
			if i == 2 {
				t.Error("the newest run has ended")
			}
		default:
			if i < 2 {
				t.Errorf("run %d still runs after a later restart", i)
			}
		}
	}
	g.mu.Unlock()

	// The fourth start fails: the failure is the run's, until a restart
	// that works.
	if err := ts.as("admin 3").Restart(1); !errors.Is(err, errBoom) {
		t.Fatalf("restart with a failing start: %v, want %v", err, errBoom)
	}
	if st, _ := ts.List().Run(1); st.State != runs.StateFailed || !errors.Is(st.Err, errBoom) {
		t.Fatalf("the failed start is not the run's failure: %+v", st)
	}
	if err := ts.as("admin 4").Restart(1); err != nil {
		t.Fatal(err)
	}
	if st, _ := ts.List().Run(1); st.Err != nil || ts.List().Err() != nil {
		t.Fatalf("a restart that worked kept the old failure: %+v", st)
	}

	if err := ts.stop(t); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if err := ts.as("too late").Restart(1); !errors.Is(err, runs.ErrClosed) {
		t.Fatalf("restart after shutdown: %v, want %v", err, runs.ErrClosed)
	}
	if calls, _ := g.count(); calls != 5 {
		t.Fatalf("%d starts, want 5", calls)
	}
	waitUntil(t, "the log shows the restarts", func() bool { return strings.Count(ts.log.String(), `restart by user="admin`) == 4 })
}

// TestShutdownDuringRestart shuts the server down while a restart waits
// for its new run to be built: shutdown waits for the restart, and the new
// run, started under a cancelled context, ends at once.
func TestShutdownDuringRestart(t *testing.T) {
	k := newKeys(t)
	g := &gatedStart{}
	ts := startServer(t, k.options(), g.start, probeModels(&probeStats{}))
	waitUntil(t, "the run starts", func() bool { _, n := g.count(); return n == 1 })
	gate := make(chan struct{})
	g.mu.Lock()
	g.gate = gate
	g.mu.Unlock()

	done := make(chan error, 1)
	go func() { done <- ts.as("admin").Restart(1) }()
	waitUntil(t, "the restart builds a new run", func() bool { calls, _ := g.count(); return calls == 2 })
	ts.cancel()
	waitUntil(t, "the shutdown begins", func() bool { return ts.closing() })
	select {
	case err := <-ts.done:
		t.Fatalf("Serve returned (%v) while a restart was under way", err)
	default:
	}
	close(gate)
	if err := <-done; err != nil {
		t.Fatalf("restart: %v", err)
	}
	if err := ts.stop(t); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, r := range g.runs {
		select {
		case <-r.ended:
		default:
			t.Errorf("run %d outlived the server", i)
		}
	}
}
