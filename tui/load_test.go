//go:build long && !race && unix

package tui

import (
	"bytes"
	"context"
	"io"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
	"github.com/mnist-tui/mnist-tui/mnist"
)

// localData is 30,000 training digits and 1,000 of each other split.
func localData(t *testing.T) engine.Data {
	t.Helper()
	train, test, err := mnist.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	tr, val, err := mnist.Split(train, 40000, 0)
	if err != nil {
		t.Fatal(err)
	}
	return engine.Data{Train: tr.Limit(30000), Val: val.Limit(1000), Test: test.Limit(1000)}
}

// localRun trains c on d as a list's run, under the real dashboard at
// 120x40 in the ANSI 256 profile when ui is set (a Bubble Tea program as
// Run drives it, watching the list, its output kept in a tail), and returns
// the training phase's samples/s and the CPU time the process used for the
// whole run. The list's live evaluations are off in both cases: what is
// measured is the dashboard's cost alone. With ui, the dashboard must have
// drawn the run's end (its test accuracy) before it is quit.
func localRun(t *testing.T, c engine.Config, d engine.Data, ui bool) (rate, cpu float64) {
	t.Helper()
	cpu0 := cpuTime(t)
	var trainRate atomic.Value
	tf := func(_ runs.Prepared, report engine.Reporter) (runs.Trainer, error) {
		return engine.NewTrainer(c, d, engine.WithReporter(func(r engine.Report) {
			if r.Kind == engine.KindPhaseEnd && r.Phase == engine.PhaseTrain {
				trainRate.Store(r.SamplesPerSec)
			}
			report(r)
		}))
	}
	l := runs.NewList(runs.Held(), runs.WithSource("", d.Train, d.Test), runs.WithTrainerFunc(tf), runs.WithLive(engine.LiveEval{}))
	defer l.Close()
	access := runs.Access{List: l, Caps: runs.AllCaps()}
	if _, err := access.Add(runs.DefaultSpec()); err != nil {
		t.Fatal(err)
	}
	var p *tea.Program
	var out tail
	done := make(chan error, 1)
	in, inw := io.Pipe()
	defer inw.Close()
	if ui {
		sub := l.Subscribe()
		defer sub.Close()
		m := New(Options{Renderer: renderer(termenv.ANSI256), Access: access, Events: sub.Events(), NoMouse: true})
		opts := append(ProgramOptions(), tea.WithInput(in), tea.WithOutput(&out), tea.WithoutSignals(), tea.WithAltScreen())
		p = tea.NewProgram(m, opts...)
		go func() {
			_, err := p.Run()
			done <- err
		}()
		p.Send(tea.WindowSizeMsg{Width: 120, Height: 40})
	}
	l.Release()
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	cpu = (cpuTime(t) - cpu0).Seconds()
	if p != nil {
		for deadline := time.Now().Add(10 * time.Second); !out.has("test accuracy"); {
			if time.Now().After(deadline) {
				t.Fatal("the dashboard never showed the run's test accuracy")
			}
			time.Sleep(10 * time.Millisecond)
		}
		p.Quit()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	r, ok := trainRate.Load().(float64)
	if !ok {
		t.Fatal("no training phase ended")
	}
	return r, cpu
}

// tail keeps the last 64 KiB written to it, safe for concurrent use: a
// program's output, checked for what it drew last.
type tail struct {
	mu sync.Mutex
	b  []byte
}

func (w *tail) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b = append(w.b, p...)
	if n := len(w.b) - 64<<10; n > 0 {
		w.b = append(w.b[:0], w.b[n:]...)
	}
	return len(p), nil
}

// has reports whether s is in what was kept.
func (w *tail) has(s string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.Contains(w.b, []byte(s))
}

// cpuTime returns the process's user+system CPU time.
func cpuTime(t testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestLoadLocalDashboard trains a small schedule (1,000 validation
// digits, then 30,000 training digits) alternately headless and under the
// dashboard, and reports the training throughput of each and their median
// ratio. It asserts nothing about speed; the target is at least 0.9. It
// takes about a minute: it runs with -tags long only.
func TestLoadLocalDashboard(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: skipped with -short")
	}
	c := engine.DefaultConfig()
	c.Epochs = 2
	d := localData(t)
	var ratios, extra []float64
	for i := 0; i < 5; i++ {
		base, cpuBase := localRun(t, c, d, false)
		ui, cpuUI := localRun(t, c, d, true)
		ratios, extra = append(ratios, ui/base), append(extra, cpuUI-cpuBase)
		t.Logf("training %.0f samples/s headless, %.0f under the dashboard (ratio %.2f); whole run %.2f CPU-s vs %.2f",
			base, ui, ui/base, cpuBase, cpuUI)
	}
	sort.Float64s(ratios)
	sort.Float64s(extra)
	t.Logf("median throughput ratio, dashboard / headless: %.2f; median CPU-s the dashboard added: %.2f",
		ratios[len(ratios)/2], extra[len(extra)/2])
}
