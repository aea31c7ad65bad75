package engine

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// TestRelayCallerLeavesTheHelpersCPU puts run's caller on the CPU where the
// relay's helper finished its last job and checks that the caller's part
// runs on another CPU, its thread given back the affinity it had.
func TestRelayCallerLeavesTheHelpersCPU(t *testing.T) {
	var home unix.CPUSet
	if err := unix.SchedGetaffinity(0, &home); err != nil {
		t.Fatal(err)
	}
	if home.Count() < 2 {
		t.Skip("needs two CPUs to run on")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := newRelay()
	tried, missed := 0, 0
	for range 20 {
		r.run(func() {}, func() {}) // the helper is awake and says where
		h := int(r.at.Load())
		if h < 0 {
			t.Fatal("the helper did not record its CPU")
		}
		// Onto h, then free to run anywhere again: the thread stays
		// there until something moves it.
		var one unix.CPUSet
		one.Set(h)
		if err := unix.SchedSetaffinity(0, &one); err != nil {
			t.Fatal(err)
		}
		if err := unix.SchedSetaffinity(0, &home); err != nil {
			t.Fatal(err)
		}
		if r.state.Load() != relayIdle {
			continue // the helper exited (a loaded machine): no test
		}
		tried++
		mine := -1
		r.run(func() {}, func() { mine = currentCPU() })
		if mine == h {
			missed++
		}
		var after unix.CPUSet
		if err := unix.SchedGetaffinity(0, &after); err != nil {
			t.Fatal(err)
		}
		if after != home {
			t.Fatalf("affinity after run %v, before %v", after, home)
		}
	}
	// A helper that exits between the check and run, or the kernel moving
	// the caller back at once, may rarely make a miss.
	if tried < 10 || missed > 2 {
		t.Fatalf("the caller's part ran on the helper's CPU in %d of %d runs", missed, tried)
	}
	t.Logf("%d of %d runs on the helper's CPU", missed, tried)
}
