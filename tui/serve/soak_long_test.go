//go:build long

package serve

import (
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
		ts := startServer(t, k.options(), trainerStart(c, d, &tr), TUI(viewInfo(c, d)))
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
		if r, ok := ts.Hub().Last(); ok {
			steps = r.RunStep
		}
		tm.close()
		t.Logf("terminal %dx%d: heap %.0f MB at the start, peak %.0f MB; %d training batches in the time", size[0], size[1], float64(start)/1e6, float64(peak)/1e6, steps)
		if err := ts.stop(t); err != nil {
			t.Fatal(err)
		}
	}
}
