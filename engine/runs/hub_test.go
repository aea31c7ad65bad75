package runs

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mnist-tui/mnist-tui/engine"
)

// batch returns run 1's batch report of epoch e, step i.
func batch(e, i int) Event {
	return Event{Run: 1, Gen: 1, Kind: KindReport, Report: engine.Report{Kind: engine.KindBatch, Phase: engine.PhaseTrain, Epoch: e, Epochs: 3, Step: i, Steps: 100, Loss: 1 / float64(i+1)}}
}

// phaseEnd returns run 1's phase-end report of epoch e.
func phaseEnd(e int) Event {
	return Event{Run: 1, Gen: 1, Kind: KindReport, Report: engine.Report{Kind: engine.KindPhaseEnd, Phase: engine.PhaseVal, Epoch: e, Epochs: 3, Acc: 0.5}}
}

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// collect reads s until its channel is closed.
func collect(s *Subscription) []Event {
	var out []Event
	for r := range s.Events() {
		out = append(out, r)
	}
	return out
}

func TestHubReplaysHistoryThenStreams(t *testing.T) {
	h := NewHub()
	for i := 0; i < 10; i++ {
		h.publish(batch(2, i))
	}
	s := h.Subscribe()
	defer s.Close()
	for i := 0; i < 10; i++ {
		r := <-s.Events()
		if r.Report.Step != i {
			t.Fatalf("replay %d: step %d", i, r.Report.Step)
		}
	}
	h.publish(phaseEnd(2))
	if r := <-s.Events(); r.Report.Kind != engine.KindPhaseEnd {
		t.Fatalf("live report: got kind %v, want phase end", r.Kind)
	}
	h.close()
	if r, ok := <-s.Events(); ok {
		t.Fatalf("channel still open after Close: %+v", r)
	}
	if h.Len() != 11 {
		t.Fatalf("history holds %d reports, want 11", h.Len())
	}
}

func TestHubLateSubscriberAfterCloseGetsEverything(t *testing.T) {
	h := NewHub()
	for i := 0; i < 500; i++ {
		h.publish(batch(2, i))
	}
	h.publish(Event{Run: 1, Gen: 1, Kind: KindReport, Report: engine.Report{Kind: engine.KindDone}})
	h.close()
	h.publish(batch(3, 0)) // dropped: the run is over
	s := h.Subscribe()
	defer s.Close()
	got := collect(s)
	if len(got) != 501 || got[500].Report.Kind != engine.KindDone {
		t.Fatalf("late subscriber got %d reports (last %+v), want 500 batches and done", len(got), got[len(got)-1])
	}
}

// TestHubSlowSubscriberNeverBlocksPublish publishes far more reports than a
// subscription's buffer while one subscriber reads nothing: Publish must
// return every time, and the stalled subscriber still gets every report, in
// order, once it reads.
func TestHubSlowSubscriberNeverBlocksPublish(t *testing.T) {
	h := NewHub()
	stalled := h.Subscribe()
	defer stalled.Close()
	const n = 20 * SubscriptionBuffer
	for i := 0; i < n; i++ {
		h.publish(batch(2, i))
	}
	h.close()
	got := collect(stalled)
	if len(got) != n {
		t.Fatalf("stalled subscriber got %d reports, want %d", len(got), n)
	}
	for i, r := range got {
		if r.Report.Step != i {
			t.Fatalf("report %d has step %d: out of order", i, r.Report.Step)
		}
	}
}

// TestHubThinning keeps phase-end reports and thins batch reports once the
// history is over its limit; a subscriber behind the thinning skips ahead.
func TestHubThinning(t *testing.T) {
	h := NewHub()
	h.limit = 100
	var want int
	for e := 1; e <= 3; e++ {
		for i := 0; i < 100; i++ {
			h.publish(batch(e, i))
		}
		h.publish(phaseEnd(e))
		want++
	}
	if h.Len() > 100 {
		t.Fatalf("history holds %d reports, limit 100", h.Len())
	}
	if h.thinned == 0 {
		t.Fatal("nothing was thinned")
	}
	h.close()
	s := h.Subscribe()
	defer s.Close()
	got := collect(s)
	ends, lastStep, lastEpoch := 0, -1, 0
	for _, r := range got {
		if r.Report.Kind == engine.KindPhaseEnd {
			ends++
			continue
		}
		if r.Report.Epoch < lastEpoch || (r.Report.Epoch == lastEpoch && r.Report.Step <= lastStep) {
			t.Fatalf("out of order: epoch %d step %d after epoch %d step %d", r.Report.Epoch, r.Report.Step, lastEpoch, lastStep)
		}
		lastEpoch, lastStep = r.Report.Epoch, r.Report.Step
	}
	if ends != want {
		t.Fatalf("got %d phase ends, want %d (they must never be thinned)", ends, want)
	}
	if last := got[len(got)-1]; last.Report.Kind != engine.KindPhaseEnd || last.Report.Epoch != 3 {
		t.Fatalf("last report %+v, want epoch 3's phase end", last)
	}
}

// TestHubDropRun: dropping a run's older attempts removes its events from
// the history (but its KindAdded, and other runs' events), refuses stale
// events from then on, and a subscriber goes on with the new attempt.
func TestHubDropRun(t *testing.T) {
	h := NewHub()
	s := h.Subscribe()
	defer s.Close()
	h.publish(Event{Run: 1, Gen: 1, Kind: KindAdded})
	h.publish(Event{Run: 2, Gen: 1, Kind: KindAdded})
	h.publish(batch(2, 7))
	h.publish(Event{Run: 2, Gen: 1, Kind: KindReport, Report: engine.Report{Kind: engine.KindBatch, Step: 70}})
	for range 4 {
		<-s.Events()
	}
	h.dropRun(1, 2)
	if h.Len() != 3 {
		t.Fatalf("history after dropRun holds %d, want run 1's KindAdded and run 2's two", h.Len())
	}
	if h.publish(batch(2, 8)) {
		t.Fatal("a stale attempt's report was kept")
	}
	h.publish(Event{Run: 1, Gen: 2, Kind: KindStart})
	if e := <-s.Events(); e.Kind != KindStart || e.Gen != 2 {
		t.Fatalf("after dropRun got %+v, want the new attempt's start", e)
	}
	late := h.Subscribe()
	defer late.Close()
	var kinds []string
	for range 4 {
		e := <-late.Events()
		kinds = append(kinds, fmt.Sprintf("%d/%d %v", e.Run, e.Gen, e.Kind))
	}
	if want := "[1/1 added 2/1 added 2/1 report 1/2 start]"; fmt.Sprint(kinds) != want {
		t.Fatalf("late subscriber replays %v, want %s", kinds, want)
	}
	h.publish(Event{Run: 2, Gen: 1, Kind: KindAction, Action: &Action{Kind: ActPace, Actor: Actor{User: "teacher"}}})
	h.dropRun(2, removedGen)
	h.publish(Event{Run: 2, Kind: KindRemoved})
	kinds = kinds[:0]
	for _, e := range h.History() {
		kinds = append(kinds, fmt.Sprintf("%d/%d %v", e.Run, e.Gen, e.Kind))
	}
	if want := "[1/1 added 1/2 start 2/1 action 2/0 removed]"; fmt.Sprint(kinds) != want {
		t.Fatalf("after removing run 2 the history is %v, want %s (its action kept)", kinds, want)
	}
}

// TestHubConcurrent publishes from one goroutine (as the trainer does)
// while subscribers come and go; run with -race.
func TestHubConcurrent(t *testing.T) {
	h := NewHub()
	const n = 2000
	var wg sync.WaitGroup
	counts := make([]int, 8)
	for k := range counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := h.Subscribe()
			defer s.Close()
			if k%2 == 1 {
				// Leave early: Close must not hang or leak.
				<-s.Events()
				return
			}
			counts[k] = len(collect(s))
		}()
	}
	for i := 0; i < n; i++ {
		h.publish(batch(2, i))
		if i%500 == 0 {
			_ = h.History()
			_, _ = h.Last()
		}
	}
	h.close()
	wg.Wait()
	for k := 0; k < len(counts); k += 2 {
		if counts[k] != n {
			t.Fatalf("subscriber %d got %d reports, want %d", k, counts[k], n)
		}
	}
}

func TestSubscriptionCloseIsIdempotent(t *testing.T) {
	h := NewHub()
	s := h.Subscribe()
	s.Close()
	s.Close()
	if _, ok := <-s.Events(); ok {
		t.Fatal("channel open after Close")
	}
}

func BenchmarkPublish(b *testing.B) {
	for _, subs := range []int{0, 50} {
		b.Run(map[int]string{0: "viewers=0", 50: "viewers=50"}[subs], func(b *testing.B) {
			h := NewHub()
			var wg sync.WaitGroup
			ss := make([]*Subscription, subs)
			for i := range ss {
				ss[i] = h.Subscribe()
				wg.Add(1)
				go func(s *Subscription) {
					defer wg.Done()
					for range s.Events() {
					}
				}(ss[i])
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				h.publish(batch(2, i))
			}
			b.StopTimer()
			h.close()
			wg.Wait()
			for _, s := range ss {
				s.Close()
			}
		})
	}
}

// TestSubscribeEveryLosesNothing checks that a throttled subscription
// still delivers every report, in order, history first.
func TestSubscribeEveryLosesNothing(t *testing.T) {
	h := NewHub()
	for i := 0; i < 100; i++ {
		h.publish(batch(2, i))
	}
	s := h.SubscribeEvery(5 * time.Millisecond)
	defer s.Close()
	for i := 100; i < 300; i++ {
		h.publish(batch(2, i))
		if i%50 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	h.publish(phaseEnd(2))
	h.close()
	got := collect(s)
	if len(got) != 301 {
		t.Fatalf("got %d reports, want 301", len(got))
	}
	for i, r := range got[:300] {
		if r.Report.Step != i {
			t.Fatalf("report %d has step %d", i, r.Report.Step)
		}
	}
	// Closing a throttled subscription while it waits must not hang.
	h2 := NewHub()
	s2 := h2.SubscribeEvery(time.Hour)
	h2.publish(batch(2, 0))
	<-s2.Events()
	h2.publish(batch(2, 1)) // now it sleeps for an hour
	s2.Close()
}

// TestCutsAreShared checks the wake-up cuts: every subscription asking for
// the same wake-up time gets the same cut, even when reports were
// published between the asks; a later time cuts later; a late ask for an
// older time gets the newest cut.
func TestCutsAreShared(t *testing.T) {
	h := NewHub()
	h.publish(batch(2, 0))
	t0 := time.Unix(1000, 0)
	first := h.cutAt(time.Second, t0)
	h.publish(batch(2, 1))
	if again := h.cutAt(time.Second, t0); again != first {
		t.Fatalf("same wake-up time: cut %d, then %d", first, again)
	}
	if other := h.cutAt(2*time.Second, t0); other != 2 {
		t.Fatalf("another interval's cut is %d, want 2 (it was not asked before)", other)
	}
	later := h.cutAt(time.Second, t0.Add(time.Second))
	if later != 2 {
		t.Fatalf("later cut %d, want 2", later)
	}
	if late := h.cutAt(time.Second, t0); late != later {
		t.Fatalf("late ask for an older time: cut %d, want the newest %d", late, later)
	}
}

// collectBursts reads s's bursts until the channel is closed.
func collectBursts(s *Subscription) [][]Event {
	var out [][]Event
	for b := range s.Bursts() {
		out = append(out, b)
	}
	return out
}

// TestBurstsLoseNothingAndAgree streams reports to two throttled
// subscriptions read in bursts: each gets every report once, in order,
// the history in its first burst; and after the history both are cut at
// the same reports (the bursts of one wake-up time are the same).
func TestBurstsLoseNothingAndAgree(t *testing.T) {
	h := NewHub()
	for i := 0; i < 100; i++ {
		h.publish(batch(2, i))
	}
	a, b := h.SubscribeEvery(20*time.Millisecond), h.SubscribeEvery(20*time.Millisecond)
	defer a.Close()
	defer b.Close()
	var got [2][][]Event
	var wg sync.WaitGroup
	for i, s := range []*Subscription{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = collectBursts(s)
		}()
	}
	for i := 100; i < 400; i++ {
		h.publish(batch(2, i))
		if i%5 == 0 {
			time.Sleep(2 * time.Millisecond)
		}
	}
	h.close()
	wg.Wait()
	ends := [2]map[int]bool{{}, {}}
	for k, bursts := range got {
		if len(bursts) == 0 || len(bursts[0]) < 100 {
			t.Fatalf("subscription %d: the first burst does not hold the history", k)
		}
		step := 0
		for _, burst := range bursts {
			for _, r := range burst {
				if r.Report.Step != step {
					t.Fatalf("subscription %d: report %d has step %d", k, step, r.Report.Step)
				}
				step++
			}
			ends[k][burst[len(burst)-1].Report.Step] = true
		}
		if step != 400 {
			t.Fatalf("subscription %d got %d reports, want 400", k, step)
		}
	}
	// Both subscriptions were read at once, so they woke at the same
	// times: most cuts must be shared (a scheduling hiccup may skip one).
	shared := 0
	for e := range ends[0] {
		if ends[1][e] {
			shared++
		}
	}
	if shared < len(ends[0])/2 {
		t.Errorf("only %d of %d burst ends shared: %v vs %v", shared, len(ends[0]), ends[0], ends[1])
	}
	// Reports reads a bursts subscription no more: its channel just closes.
	if _, ok := <-a.Events(); ok {
		t.Error("Reports of a subscription read in bursts delivered a report")
	}
}
