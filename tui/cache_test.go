package tui

import (
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
)

// TestCacheDrawsOncePerKey asks many goroutines for the same drawing at
// once: one draws, the others get its result; another key draws again.
func TestCacheDrawsOncePerKey(t *testing.T) {
	c := NewCache(4)
	var draws atomic.Int32
	release := make(chan struct{})
	draw := func() string {
		draws.Add(1)
		<-release
		return "drawing"
	}
	k := cacheKey{version: 1, applied: 1, w: 80, h: 24}
	var wg sync.WaitGroup
	got := make([]string, 16)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = c.get(k, draw)
		}()
	}
	// Let the first drawer start, then finish it.
	for draws.Load() == 0 {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if n := draws.Load(); n != 1 {
		t.Fatalf("16 concurrent gets drew %d times, want 1", n)
	}
	for i, s := range got {
		if s != "drawing" {
			t.Fatalf("get %d returned %q", i, s)
		}
	}
	k2 := k
	k2.w = 81
	if s := c.get(k2, func() string { return "other" }); s != "other" {
		t.Fatalf("another size got %q", s)
	}
	// The cache keeps at most its size.
	for i := range 10 {
		k2.version = uint64(100 + i)
		c.get(k2, func() string { return "x" })
	}
	if n := c.Len(); n != 4 {
		t.Fatalf("cache of size 4 holds %d drawings", n)
	}
}

// TestCachePanicLetsOthersDraw checks that a drawing that panics is not
// kept: the next get draws again.
func TestCachePanicLetsOthersDraw(t *testing.T) {
	c := NewCache(0)
	k := cacheKey{version: 2}
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the panic did not reach the caller")
			}
		}()
		c.get(k, func() string { panic("boom") })
	}()
	if s := c.get(k, func() string { return "fine" }); s != "fine" {
		t.Fatalf("after a panic, get returned %q", s)
	}
}

// TestSharedDashboards draws the dashboards of several models fed the same
// reports through one Cache: each frame is the one an unshared model draws,
// the dashboard is drawn once per distinct size and profile, and a model
// whose data differ does not get another's drawing.
func TestSharedDashboards(t *testing.T) {
	run := fakeRun(testConfig(), nil)
	cache := NewCache(0)
	info := fakeInfo(testConfig(), nil)
	build := func(p termenv.Profile, c *Cache) tea.Model {
		m, _ := New(Options{Renderer: renderer(p), Events: make(chan runs.Event), Cache: c}).Update(eventsMsg(startEvents(info, 1)))
		return m
	}
	alone := feed(sized(build(termenv.ANSI256, nil), 100, 30), upTo(run, 700)).View()
	for i := range 5 {
		m := feed(sized(build(termenv.ANSI256, cache), 100, 30), upTo(run, 700))
		if v := m.View(); v != alone {
			t.Fatalf("shared model %d draws a different frame", i)
		}
	}
	if n := cache.Len(); n != 1 {
		t.Fatalf("5 identical dashboards left %d drawings, want 1", n)
	}
	// Another profile, another size, other data: drawn anew, and right.
	checks := []struct {
		name string
		p    termenv.Profile
		w    int
		upTo int
	}{{"ascii profile", termenv.Ascii, 100, 700}, {"size", termenv.ANSI256, 90, 700}, {"data", termenv.ANSI256, 100, 701}}
	for i, c := range checks {
		want := feed(sized(build(c.p, nil), c.w, 30), upTo(run, c.upTo)).View()
		got := feed(sized(build(c.p, cache), c.w, 30), upTo(run, c.upTo)).View()
		if got != want {
			t.Errorf("%s: the shared model draws a different frame", c.name)
		}
		if n := cache.Len(); n != 2+i {
			t.Errorf("%s: %d drawings, want %d", c.name, n, 2+i)
		}
	}
	// The same count of different reports is different data.
	other := append([]engine.Report(nil), upTo(run, 700)...)
	other[len(other)-1].BatchLoss += 1
	want := feed(sized(build(termenv.ANSI256, nil), 100, 30), other).View()
	if got := feed(sized(build(termenv.ANSI256, cache), 100, 30), other).View(); got != want {
		t.Error("a model with other reports got another model's drawing")
	}
}

// TestBursts feeds a model through Options.Bursts: one burst is one
// message, the model shows what a model fed through Reports shows, and the
// end of the run once the channel closes.
func TestBursts(t *testing.T) {
	run := fakeRun(testConfig(), nil)
	ch := make(chan []runs.Event, 2)
	var m tea.Model = sized(New(Options{Renderer: renderer(termenv.Ascii), Bursts: ch}), 100, 30)
	first := append(startEvents(fakeInfo(testConfig(), nil), 1), reportEvents(upTo(run, 300), 1)...)
	second := reportEvents(run[len(upTo(run, 300)):len(upTo(run, 900))], 1)
	ch <- first
	ch <- second
	for _, want := range []int{len(first), len(second)} {
		msg := m.(Model).listen()()
		if rs, ok := msg.(eventsMsg); !ok || len(rs) != want {
			t.Fatalf("listen returned %T of %d events, want an eventsMsg of %d", msg, len(rs), want)
		}
		m, _ = m.Update(msg)
	}
	want := feed(sized(model(t, renderer(termenv.Ascii), testConfig(), nil, runs.Access{}), 100, 30), upTo(run, 900)).View()
	if got := m.View(); got != want {
		t.Fatalf("fed in bursts:\n%s\nwant:\n%s", got, want)
	}
	close(ch)
	msg := m.(Model).listen()()
	if _, ok := msg.(runOverMsg); !ok {
		t.Fatalf("after the channel closed, listen returned %T", msg)
	}
	m, _ = m.Update(msg)
	if !strings.Contains(m.View(), "stopped") {
		t.Fatalf("after the channel closed the tab bar does not say stopped:\n%s", m.View())
	}
}
