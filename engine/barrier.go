package engine

import (
	"sync"
	"sync/atomic"
	"time"
)

// barrier is where the parts of a pass meet (layer.sync). A part that
// arrives first spins for the others for up to barrierSpin, then parks:
// on a quiet machine the others arrive within microseconds and spinning
// saves the wake-up, but on a loaded one the part it waits for may not
// be running at all (its thread shares a core with this one), and
// spinning would only take that core from it.
type barrier struct {
	_        [cacheLine]byte // arrived has a cache line of its own
	arrived  atomic.Int32    // arrivals since the last reset
	sleepers atomic.Int32    // parts parked in wait
	_        [cacheLine - 8]byte
	mu       sync.Mutex
	cond     *sync.Cond
}

// barrierSpin is how long a part spins at a barrier before it parks.
const barrierSpin = 100 * time.Microsecond

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
	if spin(reached, barrierSpin, true) {
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
