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
	_        [cacheLine]byte // arrived has a cache line of its own
	arrived  atomic.Int32    // arrivals since the last reset
	sleepers atomic.Int32    // parts parked in wait
	_        [cacheLine - 8]byte
	mu       sync.Mutex
	cond     *sync.Cond
}

// barrierSpin is how long a part spins at a barrier (or the caller of a
// relay for its helper) before it parks.
const barrierSpin = 1000 * time.Microsecond

func newBarrier() *barrier {
	b := &barrier{}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// reset starts a pass: no part has arrived.
func (b *barrier) reset() { b.arrived.Store(0) }

// await is one arrival; it returns once target arrivals (counted since
// reset) have been made.
func (b *barrier) await(target int32) {
	if b.arrived.Add(1) >= target {
		// The last arrival wakes the parked parts. sleepers is raised
		// before a part checks arrived (under mu), so either that part
		// sees this arrival or this sees it parked.
		if b.sleepers.Load() > 0 {
			b.mu.Lock()
			b.cond.Broadcast()
			b.mu.Unlock()
		}
		return
	}
	reached := func() bool { return b.arrived.Load() >= target }
	if spin(reached, barrierSpin) {
		return
	}
	b.mu.Lock()
	b.sleepers.Add(1)
	for !reached() {
		b.cond.Wait()
	}
	b.sleepers.Add(-1)
	b.mu.Unlock()
}
