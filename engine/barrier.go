package engine

import (
	"sync"
	"sync/atomic"
	"time"
)

// barrier is where the parts of a pass meet (layer.sync). A part that
// arrives first spins for the others for up to barrierSpin, yielding its
// CPU to the operating system as it goes (see spin), then parks: the
// others usually arrive within a few hundred microseconds (the balance
// of the split is not perfect) and waking a parked part costs tens of
// microseconds to milliseconds on a virtual machine, but on a loaded
// machine the part it waits for may not be running at all, and spinning
// longer would only take CPU time from it.
type barrier struct {
	_       [cacheLine]byte // arrived has a cache line of its own
	arrived atomic.Int32    // arrivals since the last reset
	_       [cacheLine - 4]byte
	parker
}

// parker is where the parts that waited past barrierSpin sleep until the
// condition they wait for holds.
type parker struct {
	sleepers atomic.Int32 // parts parked in wait
	mu       sync.Mutex
	cond     *sync.Cond
}

func (k *parker) init() { k.cond = sync.NewCond(&k.mu) }

// wait returns once done holds, spinning up to barrierSpin, then parked.
// Whoever makes done hold calls wake afterwards.
func (k *parker) wait(done func() bool) {
	if done() || spin(done, barrierSpin) {
		return
	}
	k.mu.Lock()
	k.sleepers.Add(1)
	for !done() {
		k.cond.Wait()
	}
	k.sleepers.Add(-1)
	k.mu.Unlock()
}

// wake wakes the parked parts so that they check their conditions again.
// sleepers is raised before a part checks its condition (under mu), so
// either that part sees the change made before wake or wake sees it
// parked.
func (k *parker) wake() {
	if k.sleepers.Load() > 0 {
		k.mu.Lock()
		k.cond.Broadcast()
		k.mu.Unlock()
	}
}

// barrierSpin is how long a part spins at a barrier (or the caller of a
// relay for its helper) before it parks.
const barrierSpin = 1000 * time.Microsecond

func newBarrier() *barrier {
	b := &barrier{}
	b.init()
	return b
}

// reset starts a pass: no part has arrived.
func (b *barrier) reset() { b.arrived.Store(0) }

// await is one arrival; it returns once target arrivals (counted since
// reset) have been made.
func (b *barrier) await(target int32) {
	if b.arrived.Add(1) >= target {
		b.wake() // the last arrival
		return
	}
	b.wait(func() bool { return b.arrived.Load() >= target })
}

// progress is how far down the steps each part of a backward pass has
// come: a step's weight gradients may start once every part has written
// its pre-activation gradients, while a slower part is still working on
// the steps below. A part that waits spins like a
// barrier's, then parks until the next report.
type progress struct {
	steps []paddedStep
	parker
}

// paddedStep is one part's lowest finished step, on a cache line of its
// own.
type paddedStep struct {
	t atomic.Int32
	_ [cacheLine - 4]byte
}

func newProgress(parts int) *progress {
	pr := &progress{steps: make([]paddedStep, parts)}
	pr.init()
	return pr
}

// reset starts a pass of T steps: no part has finished any.
func (pr *progress) reset(T int) {
	for i := range pr.steps {
		pr.steps[i].t.Store(int32(T))
	}
}

// reached reports that part p has finished step t (and every step above).
func (pr *progress) reached(p, t int) {
	pr.steps[p].t.Store(int32(t))
	pr.wake()
}

// await returns once every part has finished step t.
func (pr *progress) await(t int) {
	pr.wait(func() bool {
		for i := range pr.steps {
			if pr.steps[i].t.Load() > int32(t) {
				return false
			}
		}
		return true
	})
}
