package tui

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
)

// frameBudget is the most a 120x40 frame may take to draw.
const frameBudget = 5 * time.Millisecond

// benchModel is a model at 120x40 that has seen a whole run of the
// notebook's schedule (3 epochs: 1,250 training batches, 2,346 batches in
// all) and its test predictions, in the ANSI 256 colour profile.
func benchModel(b *testing.B) tea.Model {
	b.Helper()
	return benchModelOf(b, fakeRun(testConfig(), fakePreds(testSet(b))))
}

// benchModelOf is a model at 120x40 in the ANSI 256 profile that has seen
// the start of a run and rs.
func benchModelOf(b *testing.B, rs []engine.Report) tea.Model {
	b.Helper()
	m := model(b, renderer(termenv.ANSI256), testConfig(), testSet(b), runs.Access{})
	return feed(sized(m, 120, 40), rs)
}

// BenchmarkView120x40 times drawing one 120x40 frame after a full run.
// "dashboard-redraw" is the costly case: a batch of the last validation
// arrived while the run goes on, so every chart is redrawn from the whole
// history; "dashboard-cached" is a frame after a key that changed nothing
// drawn in the charts; "browser-redraw" steps to the
// next or previous digit (in colour) before each frame, the others redraw
// nothing but the frame around the view. The metric budget-% is ns/op as a
// percentage of the 5 ms budget.
func BenchmarkView120x40(b *testing.B) {
	// The run up to epoch 3's validation, and that validation's next
	// batches.
	before := upTo(fakeRun(testConfig(), nil), 2000)
	val := before[len(before)-1]
	flip := 0
	cases := []struct {
		name  string
		tabs  int
		every func(m tea.Model) tea.Model
	}{
		{"dashboard-redraw", 0, func(m tea.Model) tea.Model {
			val.RunStep++
			return feed(m, []engine.Report{val})
		}},
		{"dashboard-cached", 0, nil},
		{"browser-cached", 1, nil},
		{"browser-redraw", 1, func(m tea.Model) tea.Model {
			flip ^= 1
			m, _ = press(m, []string{"h", "l"}[flip])
			return m
		}},
		{"confusion", 2, nil},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			m := benchModel(b)
			if c.name == "dashboard-redraw" {
				m = benchModelOf(b, before)
			}
			for range c.tabs {
				m, _ = press(m, "tab")
			}
			_ = m.View()
			b.ResetTimer()
			for b.Loop() {
				if c.every != nil {
					m = c.every(m)
				}
				if len(m.View()) == 0 {
					b.Fatal("empty view")
				}
			}
			perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(100*perOp/float64(frameBudget.Nanoseconds()), "budget-%")
		})
	}
}

// BenchmarkLayout times what the root does in every Update to lay the
// screen out (the tab bar with its hit rectangles, the footer when its
// key changed, the views' rectangles), and a mouse press's hit test on
// the confusion matrix, at 120x40 after a full run.
func BenchmarkLayout(b *testing.B) {
	for _, tabs := range []int{0, 1, 2} {
		m := benchModel(b)
		for range tabs {
			m, _ = press(m, "tab")
		}
		mm := m.(Model)
		b.Run(mm.views[mm.active].title(), func(b *testing.B) {
			for b.Loop() {
				mm.layout()
			}
		})
	}
	b.Run("click-cell", func(b *testing.B) {
		m := benchModel(b)
		m, _ = press(m, "tab", "tab")
		c := m.(Model).views[2].(*confusion)
		for b.Loop() {
			if _, ok := c.layout().cells.at(20, 8); !ok {
				b.Fatal("no cell at 20,8")
			}
		}
	})
}

// BenchmarkViewers50 times one refresh of 50 viewers of one run at 120x40
// (ANSI 256): each gets the same new report and draws its frame. "shared"
// gives them one Cache, as the SSH server does; "alone" draws each
// dashboard separately. ns/op is the whole refresh; us/viewer per viewer.
func BenchmarkViewers50(b *testing.B) {
	for _, shared := range []bool{false, true} {
		name := "alone"
		if shared {
			name = "shared"
		}
		b.Run(name, func(b *testing.B) {
			s := testSet(b)
			var cache *Cache
			if shared {
				cache = NewCache(0)
			}
			run := fakeRun(testConfig(), fakePreds(s))
			hist, rest := run[:2000], run[2000:]
			ms := make([]tea.Model, 50)
			for i := range ms {
				m := New(Options{Renderer: renderer(termenv.ANSI256), Events: make(chan runs.Event), Cache: cache})
				mm, _ := m.Update(eventsMsg(startEvents(fakeInfo(testConfig(), s), 1)))
				ms[i] = feed(sized(mm, 120, 40), hist)
				_ = ms[i].View()
			}
			i := 0
			b.ResetTimer()
			for b.Loop() {
				r := rest[i%200]
				r.RunStep += 1000 * (i / 200) // new data every time
				i++
				for k, m := range ms {
					ms[k] = feed(m, []engine.Report{r})
					if len(ms[k].View()) == 0 {
						b.Fatal("empty view")
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/50, "us/viewer")
		})
	}
}

// spin keeps n goroutines busy until stop is closed, standing in for a
// trainer saturating the cores the way a parallel GEMM does: the workers
// compute about a millisecond each, meet at a barrier, and start again.
func spin(n int, stop <-chan struct{}, wg *sync.WaitGroup) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		var sink atomic.Uint64
		for {
			select {
			case <-stop:
				return
			default:
			}
			var op sync.WaitGroup
			for w := range n {
				op.Add(1)
				go func() {
					defer op.Done()
					x := uint64(w)
					for i := 0; i < 400_000; i++ {
						x = x*6364136223846793005 + 1442695040888963407
					}
					sink.Add(x)
				}()
			}
			op.Wait()
		}
	}()
}

// percentile returns the p-th percentile (0-100) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p / 100)
	return s[i]
}

// BenchmarkKeyLatency measures how long a key press takes to show.
//
// "update-view" times Update with the key plus the View that shows it, in
// the caller's goroutine. "program" runs a real Bubble Tea program (input
// from a pipe, output scanned for the change) on the browser and times from
// writing the key to the frame that shows the next digit reaching the
// output, which includes Bubble Tea's 60 fps frame pacing. The "-loaded"
// variants keep GOMAXPROCS goroutines spinning meanwhile, like a trainer
// saturating the cores. p50-ms and p99-ms are the latency percentiles; the
// target is p99 under 50 ms.
func BenchmarkKeyLatency(b *testing.B) {
	for _, loaded := range []bool{false, true} {
		suffix := ""
		if loaded {
			suffix = "-loaded"
		}
		b.Run("update-view"+suffix, func(b *testing.B) {
			m := benchModel(b)
			m, _ = press(m, "tab")
			stop, wg := make(chan struct{}), &sync.WaitGroup{}
			if loaded {
				spin(runtime.NumCPU(), stop, wg)
			}
			var lat []time.Duration
			i := 0
			for b.Loop() {
				k, want := "l", "match · 2/"
				if i%2 == 1 {
					k, want = "h", "match · 1/"
				}
				i++
				t0 := time.Now()
				m, _ = m.Update(keyMsg(k))
				if !strings.Contains(m.View(), want) {
					b.Fatalf("view does not show %q after %s", want, k)
				}
				lat = append(lat, time.Since(t0))
			}
			close(stop)
			wg.Wait()
			report(b, lat)
		})
		b.Run("program"+suffix, func(b *testing.B) {
			benchProgram(b, loaded)
		})
	}
}

func report(b *testing.B, lat []time.Duration) {
	b.ReportMetric(float64(percentile(lat, 50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(lat, 99).Microseconds())/1000, "p99-ms")
}

// watcher is an io.Writer that signals when the output contains want.
type watcher struct {
	mu   sync.Mutex
	want []byte
	seen chan struct{}
}

func (w *watcher) expect(want string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.want = []byte(want)
}

func (w *watcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.want != nil && bytes.Contains(p, w.want) {
		w.want = nil
		w.seen <- struct{}{}
	}
	return len(p), nil
}

func benchProgram(b *testing.B, loaded bool) {
	m := benchModel(b)
	m, _ = press(m, "tab")
	pr, pw := io.Pipe()
	w := &watcher{seen: make(chan struct{}, 1)}
	opts := append(ProgramOptions(), tea.WithInput(pr), tea.WithOutput(w), tea.WithoutSignals())
	p := tea.NewProgram(m, opts...)
	done := make(chan error, 1)
	var started atomic.Bool
	go func() {
		started.Store(true)
		_, err := p.Run()
		done <- err
	}()
	w.expect("match · 1/")
	p.Send(tea.WindowSizeMsg{Width: 120, Height: 40})
	select {
	case <-w.seen:
	case <-time.After(10 * time.Second):
		b.Fatal("the program never drew the browser")
	}
	stop, wg := make(chan struct{}), &sync.WaitGroup{}
	if loaded {
		spin(runtime.NumCPU(), stop, wg)
	}
	var lat []time.Duration
	i := 0
	rng := rand.New(rand.NewPCG(1, 2))
	for b.Loop() {
		k, want := "l", "match · 2/"
		if i%2 == 1 {
			k, want = "h", "match · 1/"
		}
		i++
		// Press at a random moment of Bubble Tea's frame period, as a
		// person would, not right after the last frame was written.
		b.StopTimer()
		time.Sleep(time.Duration(rng.Int64N(int64(17 * time.Millisecond))))
		b.StartTimer()
		w.expect(want)
		t0 := time.Now()
		if _, err := io.WriteString(pw, k); err != nil {
			b.Fatal(err)
		}
		select {
		case <-w.seen:
		case <-time.After(10 * time.Second):
			b.Fatalf("key %s never showed", k)
		}
		lat = append(lat, time.Since(t0))
	}
	close(stop)
	wg.Wait()
	p.Quit()
	pw.Close()
	if err := <-done; err != nil {
		b.Fatal(fmt.Errorf("program: %w", err))
	}
	report(b, lat)
}
