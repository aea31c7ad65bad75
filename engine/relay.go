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

	// linger is how long the helper spins for the next job before it
	// exits.
	linger = 1000 * time.Microsecond
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
	// Spin only for a helper that is running elsewhere (a new one may
	// still wait in this goroutine's run queue), and only briefly: on a
	// loaded machine it may not be running, and the wait below frees this
	// thread's core for it.
	if awake {
		spin(func() bool { return len(r.done) > 0 }, barrierSpin, true)
	}
	<-r.done
}

// loop is the helper: it runs the posted job, then spins for the next one
// until linger passes without work. It spins without yielding: a
// goroutine that yields goes through the scheduler's global queue, from
// where the caller's thread may pick it up (running the next job on the
// caller's core, after the caller's own part) while this thread, finding
// no work, goes to sleep; waking it again costs the next hand-off tens of
// microseconds to milliseconds on a virtual machine.
func (r *relay) loop() {
	for {
		r.job()
		r.job = nil
		r.state.Store(relayIdle)
		r.done <- struct{}{}
		if !spin(func() bool { return r.state.Load() != relayIdle }, linger, false) && r.state.CompareAndSwap(relayIdle, relayOff) {
			return
		}
	}
}

// yieldEvery is how often a spinning caller yields, so that the helper it
// waits for runs even when it is queued behind it on the same thread.
const yieldEvery = 50 * time.Microsecond

// spin polls cond until it holds (true) or, if limit > 0, until limit has
// passed (false); with yield it yields every yieldEvery.
func spin(cond func() bool, limit time.Duration, yield bool) bool {
	var start time.Time
	next := yieldEvery
	for i := 0; ; i++ {
		if cond() {
			return true
		}
		if i%256 != 255 {
			continue
		}
		if i == 255 {
			start = time.Now()
			continue
		}
		el := time.Since(start)
		if limit > 0 && el > limit {
			return false
		}
		if yield && el > next {
			runtime.Gosched()
			next = el + yieldEvery
		}
	}
}
