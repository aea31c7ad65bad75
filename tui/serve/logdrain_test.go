package serve

import (
	"context"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
)

// slowLog is a log writer whose lines about a run's epochs wait until gate
// is closed, then take lineTime each, as a stalled and then slow terminal
// or disk would.
type slowLog struct {
	syncBuffer
	gate     chan struct{}
	lineTime time.Duration
}

func (l *slowLog) Write(p []byte) (int, error) {
	if strings.Contains(string(p), " epoch ") {
		<-l.gate
		time.Sleep(l.lineTime)
	}
	return l.syncBuffer.Write(p)
}

// TestLogKeepsEveryEventOfAShutdown stops the server while the log is far
// behind a real run (more events pending than a subscription buffers):
// Serve must still log every epoch the run reported and its stop before it
// returns. The log stalls until the server is told to stop, so that how
// far behind it is does not depend on how fast this machine trains (under
// the race detector a slow machine trained slower than a log of 25 ms a
// line wrote).
func TestLogKeepsEveryEventOfAShutdown(t *testing.T) {
	k := newKeys(t)
	c := engine.DefaultConfig()
	c.Epochs = 1000
	var tr atomic.Pointer[engine.Trainer]
	list := testListOf(t, testSpec(), trainerStart(c, smallData(t, 256), &tr, nil))
	logw := &slowLog{gate: make(chan struct{}), lineTime: 25 * time.Millisecond}
	// Released on every way out, so that a failure before the shutdown
	// does not leave Serve's log goroutine stalled for good.
	release := sync.OnceFunc(func() { close(logw.gate) })
	defer release()
	s, err := New(k.options(), list, tuiModels(), logw)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()

	phaseEnds := func() int {
		n := 0
		for _, e := range list.Hub().History() {
			if e.Kind == runs.KindReport && e.Report.Kind == engine.KindPhaseEnd {
				n++
			}
		}
		return n
	}
	// Shut down once 30 phases (with their batches, more events than a
	// subscription buffers) wait for the log: it takes about 0.75 s to
	// catch up, within shutdownGrace.
	waitUntil(t, "the log falls 30 phases behind", func() bool {
		return phaseEnds() >= 30
	})
	cancel()
	release()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Serve did not return")
	}
	want := phaseEnds()
	log := logw.String()
	if got := strings.Count(log, " epoch "); got != want {
		t.Errorf("log has %d epoch lines, the run reported %d phases:\n%s", got, want, log)
	}
	if !strings.Contains(log, "training stopped: run 1") {
		t.Errorf("log misses the run's stop:\n%s", log)
	}
}
