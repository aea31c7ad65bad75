package engine

import (
	"runtime"
	"sync/atomic"
	"time"
)

// relay runs part of a pass on a helper goroutine that lingers, spinning,
// for a short while after each job, so that the next hand-off of the same
// training step finds it awake: waking a parked thread costs tens of
// microseconds on a virtual machine, whose idle vCPU halts, and a step has
// several hand-offs. The caller likewise spins briefly for the helper to
// finish before it blocks. A helper with no work for linger exits, so no
// goroutine outlives its use by more than that.
type relay struct {
	state atomic.Int32
	job   func()
	done  chan struct{}
}

const (
	relayOff    = iota // no helper goroutine
	relayIdle          // the helper spins, waiting for a job
	relayPosted        // a job is posted or running

	// linger is how long the helper spins for the next job, and the caller
	// for the helper to finish, before giving up the CPU.
	linger = 300 * time.Microsecond
)

func newRelay() *relay { return &relay{done: make(chan struct{}, 1)} }

// run runs job on the helper and mine on the calling goroutine, and waits
// for both. Calls must not overlap.
func (r *relay) run(job, mine func()) {
	r.job = job
	awake := r.state.CompareAndSwap(relayIdle, relayPosted)
	if !awake {
		r.state.Store(relayPosted)
		go r.loop()
	}
	mine()
	// Spin only for a helper that is running elsewhere: a new one may
	// still wait in this goroutine's run queue.
	if awake {
		spinUntil(func() bool { return len(r.done) > 0 })
	}
	<-r.done
}

// loop is the helper: it runs the posted job, then spins for the next one
// until linger passes without work.
func (r *relay) loop() {
	for {
		r.job()
		r.job = nil
		r.state.Store(relayIdle)
		r.done <- struct{}{}
		if !spinUntil(func() bool { return r.state.Load() != relayIdle }) && r.state.CompareAndSwap(relayIdle, relayOff) {
			return
		}
	}
}

// spinUntil polls cond for up to linger and reports whether it held. It
// yields now and then, so that goroutines queued behind it run.
func spinUntil(cond func() bool) bool {
	start := time.Now()
	for i := 0; ; i++ {
		if cond() {
			return true
		}
		if i%64 == 63 {
			if time.Since(start) > linger {
				return false
			}
			runtime.Gosched()
		}
	}
}
