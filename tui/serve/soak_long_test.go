//go:build long

package serve

import (
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mnist-tui/mnist-tui/engine"
)

// TestSoakLong: fifty clients connecting, resizing and dropping for a
// minute (go test -tags long -race -run TestSoakLong ./tui/serve).
func TestSoakLong(t *testing.T) {
	soak(t, soakOptions{clients: 50, duration: time.Minute})
}

// TestSoakExtremeLong: twenty clients, every size extreme, for half a
// minute.
func TestSoakExtremeLong(t *testing.T) {
	soak(t, soakOptions{clients: 20, duration: 30 * time.Second, extreme: true})
}

// TestHostileSizeMemory measures the server's heap while one client that
// announced a huge terminal watches the real dashboard of a real run for
// ten seconds, against a client at 80x24 (go test -tags long -run
// TestHostileSizeMemory -v ./tui/serve). It stops early past 3 GB.
func TestHostileSizeMemory(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {20000, 5000}, {1<<31 - 1, 1<<31 - 1}} {
		k := newKeys(t)
		c := engine.DefaultConfig()
		c.Epochs = 1 << 20
		d := smallData(t, 1024)
		var tr atomic.Pointer[engine.Trainer]
		ts := startServer(t, k.options(), trainerStart(c, d, &tr, nil), tuiModels())
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		start := m.HeapInuse
		cl, err := dial(t, ts.addr, k.user)
		if err != nil {
			t.Fatal(err)
		}
		tm := openTerminal(t, cl, size[0], size[1])
		peak := start
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) && peak < 3<<30 {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			time.Sleep(20 * time.Millisecond)
		}
		steps := 0
		if r, ok := ts.last(); ok {
			steps = r.RunStep
		}
		tm.close()
		t.Logf("terminal %dx%d: heap %.0f MB at the start, peak %.0f MB; %d training batches in the time", size[0], size[1], float64(start)/1e6, float64(peak)/1e6, steps)
		if err := ts.stop(t); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSilentPileMeasure: silent TCP connections pile up (a thousand,
// never speaking SSH) while real clients connect; it logs how long each
// real client took to get its dashboard, or that it was locked out (go
// test -tags long -run TestSilentPileMeasure -v ./tui/serve).
func TestSilentPileMeasure(t *testing.T) {
	k := newKeys(t)
	ts := startServer(t, k.options(), noRun, probeModels(&probeStats{}))
	var silent []net.Conn
	defer func() {
		for _, c := range silent {
			c.Close()
		}
	}()
	var took []time.Duration
	locked := 0
	for round := 0; round < 10; round++ {
		for range 100 {
			c, err := net.Dial("tcp", ts.addr)
			if err != nil {
				t.Fatal(err)
			}
			silent = append(silent, c)
		}
		start := time.Now()
		c, err := dial(t, ts.addr, k.user)
		if err != nil {
			locked++
			t.Logf("after %d silent connections: locked out (%v)", len(silent), err)
			continue
		}
		tm := openTerminal(t, c, 80, 24)
		tm.waitFor(t, "MNIST CLASSROOM PROBE")
		took = append(took, time.Since(start))
		tm.close()
	}
	t.Logf("%d real clients got in (times %v), %d locked out, with up to %d silent connections", len(took), took, locked, len(silent))
	if locked > 0 {
		t.Errorf("%d real clients were locked out", locked)
	}
}
