//go:build long && !race && unix

package tui

import (
	"context"
	"io"
	"sort"
	"syscall"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"

	"github.com/mnist-tui/mnist-tui/engine"
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

// localRun trains c on d, under the real dashboard at 120x40 in the ANSI
// 256 profile when ui is set (a Bubble Tea program as Run drives it, its
// output discarded), and returns the training phase's samples/s and the
// CPU time the process used for the whole run.
func localRun(t *testing.T, c engine.Config, d engine.Data, ui bool) (rate, cpu float64) {
	t.Helper()
	cpu0 := cpuTime(t)
	ch := make(chan engine.Report, 1<<14)
	tr, err := engine.NewTrainer(c, d, engine.WithReporter(func(r engine.Report) {
		if r.Kind == engine.KindPhaseEnd && r.Phase == engine.PhaseTrain {
			rate = r.SamplesPerSec
		}
		select {
		case ch <- r:
		default:
			t.Error("report channel full")
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	var p *tea.Program
	done := make(chan error, 1)
	in, inw := io.Pipe()
	defer inw.Close()
	if ui {
		m := New(Options{Renderer: renderer(termenv.ANSI256), Config: c,
			Sizes: [3]int{d.Train.Len(), d.Val.Len(), d.Test.Len()}, Test: d.Test, Reports: ch, Control: tr})
		opts := append(ProgramOptions(), tea.WithInput(in), tea.WithOutput(io.Discard), tea.WithoutSignals(), tea.WithAltScreen())
		p = tea.NewProgram(m, opts...)
		go func() {
			_, err := p.Run()
			done <- err
		}()
		p.Send(tea.WindowSizeMsg{Width: 120, Height: 40})
	}
	err = tr.Run(context.Background())
	close(ch)
	if err != nil {
		t.Fatal(err)
	}
	cpu = (cpuTime(t) - cpu0).Seconds()
	if p != nil {
		p.Quit()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	return rate, cpu
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
