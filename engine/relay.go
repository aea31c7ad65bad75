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
// several hand-offs. The caller likewise spins for the helper to finish
// before it blocks. Both yield their CPU to the operating system while
// they spin (see spin): gorgonia's machine runs every training step on a
// new goroutine while the caller's thread, locked, waits, so each step
// wakes a thread or two that may land on a spinner's CPU, and a spinner
// that held it until its time slice ended stalled the step for
// milliseconds (one step in twenty, before). A helper with no work for
// linger exits, so no goroutine outlives its use by more than that.
//
// Such a woken thread also often lands on the helper's CPU while the other
// CPU idles, and then both parts of the pass ran on one CPU to its end: the
// kernel moved neither for hundreds of microseconds (on a 2-vCPU virtual
// machine one RNN training pass in five or six began so and took 1.75
// times as long). So the caller, finding itself on the CPU where the
// helper finished its last job, moves to another (apart). The caller
// moves, not the helper: the helper then stays alone on its CPU, and the
// threads gorgonia's machine wakes every step keep theirs (a helper that
// moved shared its new CPU with them, which then waited for its yields,
// and evaluation steps took 5-10% longer).
type relay struct {
	state atomic.Int32
	job   func()
	done  chan struct{}
	at    atomic.Int32 // the CPU the helper finished its last job on, or -1
}

const (
	relayOff    = iota // no helper goroutine
	relayIdle          // the helper spins, waiting for a job
	relayPosted        // a job is posted or running

	// linger is how long the helper spins for the next job before it
	// exits.
	linger = 1000 * time.Microsecond
)

func newRelay() *relay {
	r := &relay{done: make(chan struct{}, 1)}
	r.at.Store(-1)
	return r
}

// run runs job on the helper and mine on the calling goroutine, and waits
// for both. Calls must not overlap.
func (r *relay) run(job, mine func()) {
	r.job = job
	awake := r.state.CompareAndSwap(relayIdle, relayPosted)
	if !awake {
		r.state.Store(relayPosted)
		go r.loop()
	}
	if awake {
		r.apart()
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
		r.at.Store(int32(currentCPU()))
		r.state.Store(relayIdle)
		r.done <- struct{}{}
		if !spin(func() bool { return r.state.Load() != relayIdle }, linger) && r.state.CompareAndSwap(relayIdle, relayOff) {
			return
		}
	}
}

// apart moves the calling goroutine's thread off the CPU where the helper
// finished its last job, if it is there (about 60 microseconds, mostly
// waking the idle vCPU, against hundreds lost when both parts share one).
// The goroutine keeps its thread meanwhile, so that no other goroutine
// runs on it between leaveCPU's two changes of its affinity; if the second
// failed, it keeps it for good, and the thread ends with the goroutine.
func (r *relay) apart() {
	c := currentCPU()
	if c < 0 || int32(c) != r.at.Load() {
		return
	}
	runtime.LockOSThread()
	if leaveCPU(c) {
		runtime.UnlockOSThread()
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
