package engine

import (
	"sync/atomic"
	"time"
)

// relay runs part of a pass on a helper goroutine that lingers, spinning,
// for a short while after each job, so that the next hand-off of the same
// training step finds it awake: waking a parked thread costs tens of
// microseconds on a virtual machine, whose idle vCPU halts, and a step has
// several hand-offs. The caller likewise spins for the helper to finish
// before it blocks. Both yield their CPU to the operating system while
// they spin (see spin): gorgonia's machine runs every training step on a
// new goroutine while the caller's thread, locked, waits, so each step
// wakes a thread or two that may land on a spinner's CPU, and a spinner
// that held it until its time slice ended stalled the step for
// milliseconds (one step in twenty, before). A helper with no work for
// linger exits, so no goroutine outlives its use by more than that.
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
	// still wait in this goroutine's run queue), and only for a while: on
	// a loaded machine it may not be running, and the wait below frees
	// this thread's core for it.
	if awake {
		spin(func() bool { return len(r.done) > 0 }, barrierSpin)
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
		if !spin(func() bool { return r.state.Load() != relayIdle }, linger) && r.state.CompareAndSwap(relayIdle, relayOff) {
			return
		}
	}
}

// yieldEvery is how often a spinning goroutine yields its thread's CPU to
// the operating system (osYield).
const yieldEvery = 20 * time.Microsecond

// spin polls cond until it holds (true) or until limit has passed
// (false), yielding the CPU every yieldEvery. It never yields to Go's
// scheduler (runtime.Gosched): that puts the goroutine on the global run
// queue, from where the other worker's P may take it, leaving two workers
// on one P while the other P's thread sleeps (waking it costs the pass
// tens of microseconds to milliseconds on a virtual machine).
func spin(cond func() bool, limit time.Duration) bool {
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
		if el > limit {
			return false
		}
		if el > next {
			osYield()
			next = el + yieldEvery
		}
	}
}
