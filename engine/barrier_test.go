package engine

import (
	"runtime"
	"testing"
	"time"
)

// TestBarrierParks checks both ways through a barrier: a part that waits
// longer than barrierSpin parks and is woken by the last arrival, and a
// later round (after reset) passes by spinning.
func TestBarrierParks(t *testing.T) {
	b := newBarrier()
	for round := 0; round < 3; round++ {
		b.reset()
		passed := make(chan struct{})
		go func() {
			b.await(2)
			close(passed)
		}()
		if round == 0 {
			// Arrive only once the first part has parked.
			deadline := time.Now().Add(time.Minute)
			for b.sleepers.Load() == 0 {
				if time.Now().After(deadline) {
					t.Fatal("the waiting part never parked")
				}
				runtime.Gosched()
			}
		}
		select {
		case <-passed:
			t.Fatalf("round %d: a part passed the barrier alone", round)
		default:
		}
		b.await(2)
		select {
		case <-passed:
		case <-time.After(time.Minute):
			t.Fatalf("round %d: the waiting part was not released", round)
		}
	}
	// A second meeting in the same pass counts on.
	b.reset()
	done := make(chan struct{})
	go func() {
		b.await(2)
		b.await(4)
		close(done)
	}()
	b.await(2)
	b.await(4)
	<-done
}
