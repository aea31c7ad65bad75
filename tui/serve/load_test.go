//go:build long && !race && unix

package serve

import (
	"context"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
)

// gatedRun holds a real trainer's Run until gate is closed, so that every
// viewer can be connected before training starts.
type gatedRun struct {
	*engine.Trainer
	gate <-chan struct{}
}

func (g gatedRun) Run(ctx context.Context) error {
	select {
	case <-g.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.Trainer.Run(ctx)
}

// runDone returns a channel closed when l's stream has a run's done report.
func runDone(l *runs.List) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := l.Subscribe()
		defer s.Close()
		for e := range s.Events() {
			if e.Kind == runs.KindReport && e.Report.Kind == engine.KindDone {
				return
			}
		}
	}()
	return done
}

// trainRate returns the training phase's samples/s from a run's reports.
func trainRate(t testing.TB, rs []engine.Report) float64 {
	t.Helper()
	for _, r := range rs {
		if r.Kind == engine.KindPhaseEnd && r.Phase == engine.PhaseTrain {
			return r.SamplesPerSec
		}
	}
	t.Fatal("no training phase end in the history")
	return 0
}

// loadRun trains one small schedule behind a server with viewers sessions
// watching the real dashboard, and returns the training throughput and the
// heap growth per session (server and client sides both live in this
// process).
func loadRun(t *testing.T, viewers int, refresh time.Duration) (samplesPerSec, bytesPerSession, cpuSeconds float64) {
	k := newKeys(t)
	o := k.options()
	o.Refresh, o.FPS = refresh, DefaultOptions().FPS
	c := engine.DefaultConfig()
	c.Epochs = 2
	d := smallData(t, 30000)
	d.Val, d.Test = d.Val.Limit(1000), d.Test.Limit(1000)
	gate := make(chan struct{})
	var tr atomic.Pointer[engine.Trainer]
	start := func(p runs.Prepared, report engine.Reporter) (runs.Trainer, error) {
		if _, err := trainerStart(c, d, &tr, nil)(p, report); err != nil {
			return nil, err
		}
		return gatedRun{Trainer: tr.Load(), gate: gate}, nil
	}
	ts := startServer(t, o, start, tuiModels())

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tms := make([]*terminal, viewers)
	var wg sync.WaitGroup
	for i := range tms {
		c, err := dial(t, ts.addr, k.user)
		if err != nil {
			t.Fatalf("viewer %d: %v", i, err)
		}
		tms[i] = openTerminal(t, c, 120, 40)
		defer tms[i].close()
	}
	for _, tm := range tms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tm.waitFor(t, "model RNN")
		}()
	}
	wg.Wait()
	runtime.GC()
	runtime.ReadMemStats(&after)
	if viewers > 0 {
		bytesPerSession = float64(after.HeapAlloc-before.HeapAlloc) / float64(viewers)
	}

	cpu0 := cpuTime(t)
	close(gate)
	select {
	case <-runDone(ts.List()):
	case <-time.After(5 * time.Minute):
		t.Fatal("the run did not end")
	}
	cpuSeconds = (cpuTime(t) - cpu0).Seconds()
	// Every viewer got frames all along and still answers a key.
	for _, tm := range tms {
		tm.send(t, "?")
	}
	for _, tm := range tms {
		tm.waitFor(t, "braille/plain charts")
	}
	return trainRate(t, ts.reports()), bytesPerSession, cpuSeconds
}

// cpuTime returns the process's user+system CPU time.
func cpuTime(t testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// viewerCost streams synthetic training reports at about 100 a second (a
// real run's batch rate) for 3 s to viewers real dashboards, and returns
// the CPU the whole process used meanwhile, in cores, and the bytes each
// viewer received per second. Server and clients share the process, so
// this is an upper bound of the server's cost.
func viewerCost(t *testing.T, viewers int, refresh time.Duration) (cores, bytesPerSec float64) {
	k := newKeys(t)
	o := k.options()
	o.Refresh, o.FPS = refresh, DefaultOptions().FPS
	ts := startServer(t, o, noRun, tuiModels())
	tms := make([]*terminal, viewers)
	for i := range tms {
		cl, err := dial(t, ts.addr, k.user)
		if err != nil {
			t.Fatalf("viewer %d: %v", i, err)
		}
		tms[i] = openTerminal(t, cl, 120, 40)
		defer tms[i].close()
	}
	for _, tm := range tms {
		tm.waitFor(t, "model RNN")
	}
	outLen := func() (n int) {
		for _, tm := range tms {
			tm.mu.Lock()
			n += tm.out.Len()
			tm.mu.Unlock()
		}
		return n
	}
	const steps, period = 300, 10 * time.Millisecond
	bytes0, cpu0, wall0 := outLen(), cpuTime(t), time.Now()
	for i := 1; i <= steps; i++ {
		ts.publish(t, engine.Report{Kind: engine.KindBatch, Phase: engine.PhaseTrain, Epoch: 2, Epochs: 3,
			Step: i, Steps: steps, Samples: 64 * i, Total: 64 * steps, RunStep: i, RunSteps: 3 * steps,
			Loss: 2 / float64(i+1), Acc: 1 - 1/float64(i+1), BatchLoss: 2 / float64(i+1), BatchAcc: 0.5, SamplesPerSec: 6400})
		time.Sleep(period)
	}
	wall := time.Since(wall0)
	cores = float64(cpuTime(t)-cpu0) / float64(wall)
	if viewers > 0 {
		bytesPerSec = float64(outLen()-bytes0) / wall.Seconds() / float64(viewers)
	}
	return cores, bytesPerSec
}

// TestLoad50Viewers serves one run to 50 real dashboards over SSH. It
// checks that every session gets frames and answers a key, and reports
// figures: training throughput with and without the viewers, heap per
// session, and the CPU the viewers cost at several refresh intervals (about
// a minute: it runs with -tags long only). It
// asserts nothing about speed.
func TestLoad50Viewers(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: skipped with -short")
	}
	refresh := DefaultOptions().Refresh
	var ratios []float64
	for i := 0; i < 3; i++ {
		base, _, cpuBase := loadRun(t, 0, refresh)
		loaded, perSession, cpuLoaded := loadRun(t, 50, refresh)
		ratios = append(ratios, loaded/base)
		t.Logf("real run, refresh %v: training %.0f samples/s with no viewer, %.0f with 50 (ratio %.2f); whole run %.1f CPU-s vs %.1f; heap per session %.0f KiB (server + client)",
			refresh, base, loaded, loaded/base, cpuBase, cpuLoaded, perSession/1024)
	}
	sort.Float64s(ratios)
	t.Logf("median throughput ratio, 50 viewers / none: %.2f", ratios[1])
	idle, _ := viewerCost(t, 0, refresh)
	t.Logf("100 reports/s, no viewer: %.2f cores", idle)
	for _, r := range []time.Duration{100 * time.Millisecond, 250 * time.Millisecond, refresh, time.Second} {
		cores, bps := viewerCost(t, 50, r)
		t.Logf("100 reports/s, 50 viewers, refresh %v: %.2f cores (server + clients), %.1f KB/s per viewer", r, cores, bps/1e3)
	}
}
