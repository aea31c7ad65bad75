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

// TestProgressParks: a part waiting for a step passes only once every part
// has reported it, by spinning or, past barrierSpin, parked and woken by
// the report.
func TestProgressParks(t *testing.T) {
	pr := newProgress(2)
	for round := 0; round < 2; round++ {
		pr.reset(28)
		pr.reached(0, 0)
		passed := make(chan struct{})
		go func() {
			pr.await(10)
			close(passed)
		}()
		if round == 0 {
			deadline := time.Now().Add(time.Minute)
			for pr.sleepers.Load() == 0 {
				if time.Now().After(deadline) {
					t.Fatal("the waiting part never parked")
				}
				runtime.Gosched()
			}
		}
		pr.reached(1, 11) // not far enough
		select {
		case <-passed:
			t.Fatalf("round %d: passed before part 1 reached step 10", round)
		case <-time.After(5 * time.Millisecond):
		}
		pr.reached(1, 10)
		select {
		case <-passed:
		case <-time.After(time.Minute):
			t.Fatalf("round %d: the waiting part was not released", round)
		}
	}
}
