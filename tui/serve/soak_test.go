package serve

import (
	"io"
	"math/rand/v2"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/mnist-tui/mnist-tui/engine"
)

// soakOptions size a soak run.
type soakOptions struct {
	clients  int           // concurrent clients
	duration time.Duration // how long they keep connecting
	extreme  bool          // every size extreme
}

// soakSize returns a terminal size: random, often extreme (0, 1, the
// largest a client can send), as a hostile or broken client would.
func soakSize(rng *rand.Rand, extreme bool) (w, h int) {
	pick := func(normal int) int {
		switch r := rng.IntN(6); {
		case extreme || r == 0:
			return []int{0, 1, 1<<31 - 1, 1 << 20, 65535}[rng.IntN(5)]
		default:
			return 1 + rng.IntN(normal)
		}
	}
	return pick(300), pick(100)
}

// soakClient connects again and again until stop: a PTY of a random size,
// window changes, keys, sometimes a client that stops reading, then an
// abrupt or a polite end. It counts the sessions it had.
func soakClient(t *testing.T, addr string, signer gossh.Signer, seed uint64, o soakOptions, stop <-chan struct{}, sessions *atomic.Int64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	for {
		select {
		case <-stop:
			return
		default:
		}
		c, err := dial(t, addr, signer)
		if err != nil {
			continue // refused (full, rate, evicted): try again
		}
		sess, err := c.NewSession()
		if err != nil {
			c.Close()
			continue
		}
		w, h := soakSize(rng, o.extreme)
		if err := sess.RequestPty("xterm-256color", h, w, gossh.TerminalModes{}); err != nil {
			c.Close()
			continue
		}
		stdin, _ := sess.StdinPipe()
		stdout, _ := sess.StdoutPipe()
		stalled := rng.IntN(5) == 0 // never reads: the server's writes block
		if !stalled {
			go io.Copy(io.Discard, stdout)
		}
		if err := sess.Shell(); err != nil {
			c.Close()
			continue
		}
		sessions.Add(1)
		for range rng.IntN(20) {
			switch rng.IntN(3) {
			case 0:
				w, h := soakSize(rng, o.extreme)
				_ = sess.WindowChange(h, w)
			case 1:
				_, _ = io.WriteString(stdin, []string{"\t", "l", "e", "\x1b[B", "m", "d"}[rng.IntN(6)])
			case 2:
				time.Sleep(time.Duration(rng.IntN(30)) * time.Millisecond)
			}
		}
		switch rng.IntN(3) {
		case 0:
			c.Conn.Close() // the network goes away
		case 1:
			sess.Close() // the session ends, the connection stays a moment
			c.Close()
		default:
			_, _ = io.WriteString(stdin, "q")
			c.Close()
		}
	}
}

// heapInUse returns the heap in use after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// soak serves the real dashboard of a real training run to o.clients
// clients connecting, resizing and dropping for o.duration, then checks
// that sessions, connections, goroutines and memory are back where they
// started, and that the server shuts down within its deadline.
func soak(t *testing.T, o soakOptions) {
	k := newKeys(t)
	opts := k.options()
	opts.MaxSessions = o.clients
	opts.Burst = 1 << 20 // every client from 127.0.0.1
	opts.ShutdownTimeout = time.Second
	c := engine.DefaultConfig()
	c.Epochs = 1 << 20 // trains throughout
	d := smallData(t, 256)
	var tr atomic.Pointer[engine.Trainer]
	ts := startServer(t, opts, trainerStart(c, d, &tr, nil), tuiModels())

	// The starting level: one session came and went.
	cl, err := dial(t, ts.addr, k.user)
	if err != nil {
		t.Fatal(err)
	}
	tm := openTerminal(t, cl, 80, 24)
	tm.waitFor(t, "model RNN")
	tm.close()
	waitUntil(t, "the first session is gone", func() bool { return ts.Sessions() == 0 })
	goroutines, heap := runtime.NumGoroutine(), heapInUse()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var sessions atomic.Int64
	for i := range o.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			soakClient(t, ts.addr, k.user, uint64(i), o, stop, &sessions)
		}()
	}
	var peakHeap uint64
	var peakSessions int
	deadline := time.Now().Add(o.duration)
	for time.Now().Before(deadline) {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		peakHeap = max(peakHeap, m.HeapInuse)
		peakSessions = max(peakSessions, ts.Sessions())
		time.Sleep(50 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	waitUntil(t, "every session is gone", func() bool { return ts.Sessions() == 0 })
	waitUntil(t, "every connection is closed", func() bool { open, _ := ts.conns.counts(); return open == 0 })
	waitGoroutines(t, goroutines)
	var after uint64
	waitUntil(t, "the heap is back to its starting level", func() bool {
		after = heapInUse()
		return after <= heap+16<<20
	})
	t.Logf("%d clients for %v: %d sessions (at most %d at once), heap %.1f MB at the start, %.1f MB at the peak, %.1f MB after; %d goroutines at the start",
		o.clients, o.duration, sessions.Load(), peakSessions, float64(heap)/1e6, float64(peakHeap)/1e6, float64(after)/1e6, goroutines)
	if sessions.Load() == 0 {
		t.Fatal("no session got in")
	}
	if r, ok := ts.last(); !ok || r.RunStep == 0 {
		t.Error("training made no progress during the soak")
	}
	start := time.Now()
	if err := ts.stop(t); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if took := time.Since(start); took > opts.ShutdownTimeout+shutdownGrace+5*time.Second {
		t.Errorf("shutdown took %v", took) // a deadlock guard, with room for a loaded machine
	}
}

// TestSoakShort is the soak's short variant, for the normal suite (and
// -race -short): a few clients for a couple of seconds.
func TestSoakShort(t *testing.T) {
	soak(t, soakOptions{clients: 6, duration: 2 * time.Second})
}

// TestSoakExtremeShort: every size extreme.
func TestSoakExtremeShort(t *testing.T) {
	soak(t, soakOptions{clients: 4, duration: time.Second, extreme: true})
}

// waitGoroutines waits until at most n goroutines run, failing with the
// goroutines' stacks.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			var b strings.Builder
			_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
			t.Fatalf("%d goroutines, want at most %d as at the start:\n%s", runtime.NumGoroutine(), n, b.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
