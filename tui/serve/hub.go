package serve

import (
	"math"
	"sort"
	"sync"
	"time"

	"github.com/mnist-tui/mnist-tui/engine"
)

// DefaultHistoryLimit is how many reports a Hub keeps before it starts
// thinning old batch reports. A default run sends about 2,400 reports, so
// thinning only happens for long schedules.
const DefaultHistoryLimit = 100_000

// entry is one report of the history with its sequence number.
type entry struct {
	seq uint64
	r   engine.Report
}

// Hub fans the reports of one shared training run out to many viewers.
//
// It keeps the run's history, so that a viewer who joins late first gets
// every report since the start (its charts begin at step one), then the new
// ones as they come. Publish never blocks: it appends to the history and
// wakes the subscribers. Each subscriber has its own cursor into the shared
// history and its own goroutine that hands reports to its channel, so a slow
// or stalled viewer only ever falls behind itself; it never delays the
// trainer or the other viewers, and costs no memory beyond the shared
// history.
//
// When the history grows past its limit, every other batch report is
// dropped from it (phase-end and done reports are always kept); a
// subscriber whose cursor pointed at a dropped report skips to the next kept
// one, so a far-behind subscriber sees a coalesced stream.
//
// The zero Hub is not usable; call NewHub.
type Hub struct {
	mu      sync.Mutex
	entries []entry
	next    uint64        // sequence number of the next report
	notify  chan struct{} // closed and replaced on every change
	closed  bool          // the run is over: subscribers close once drained
	limit   int
	thinned int // how many batch reports thinning has dropped
	// cuts are where the bursts of the current wake-up time end, per
	// subscription interval.
	cuts map[time.Duration]cutMark
}

// NewHub returns an empty, open Hub.
func NewHub() *Hub {
	return &Hub{notify: make(chan struct{}), limit: DefaultHistoryLimit}
}

// wakeLocked wakes every waiting subscriber. h.mu must be held.
func (h *Hub) wakeLocked() {
	close(h.notify)
	h.notify = make(chan struct{})
}

// Publish appends r to the history and hands it to every subscriber. It is
// an engine.Reporter: it never blocks for longer than a short critical
// section, whatever the subscribers do. Reports published after Close are
// dropped.
func (h *Hub) Publish(r engine.Report) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.entries = append(h.entries, entry{seq: h.next, r: r})
	h.next++
	if len(h.entries) > h.limit {
		h.thinLocked()
	}
	h.wakeLocked()
}

// thinLocked drops every other batch report from the history, keeping
// phase-end and done reports and the newest report. h.mu must be held.
func (h *Hub) thinLocked() {
	kept := h.entries[:0]
	odd := false
	last := len(h.entries) - 1
	for i, e := range h.entries {
		if e.r.Kind == engine.KindBatch && i != last {
			odd = !odd
			if !odd {
				h.thinned++
				continue
			}
		}
		kept = append(kept, e)
	}
	// Clear the tail so dropped reports (and their Predictions) can be freed.
	clear(h.entries[len(kept):])
	h.entries = kept
}

// Close marks the run as over: no more reports are accepted, and every
// subscriber's channel is closed once it has delivered the whole history.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		h.wakeLocked()
	}
}

// Reset clears the history for a restarted run and reopens a closed Hub.
// Subscribers whose channel is still open go on with the new run's reports
// from its first one; subscribers already closed stay closed.
func (h *Hub) Reset() {
	h.mu.Lock()
	defer h.mu.Unlock()
	clear(h.entries)
	h.entries = h.entries[:0]
	h.closed = false
	h.thinned = 0
	h.wakeLocked()
}

// Len reports how many reports the history holds.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.entries)
}

// Seq reports how many reports have been published since the Hub was made
// (across Resets); it changes exactly when a report is published.
func (h *Hub) Seq() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.next
}

// Last returns the newest report of the current run, if any.
func (h *Hub) Last() (engine.Report, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.entries) == 0 {
		return engine.Report{}, false
	}
	return h.entries[len(h.entries)-1].r, true
}

// History returns a copy of the current run's history.
func (h *Hub) History() []engine.Report {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]engine.Report, len(h.entries))
	for i, e := range h.entries {
		out[i] = e.r
	}
	return out
}

// take returns the reports whose sequence numbers are in [cursor, cut), up
// to max of them, with the sequence number of the last one; pending says
// whether reports at or after cursor exist beyond those. When there are
// none at all, wait is the channel closed on the next change and closed
// whether the run is over.
func (h *Hub) take(cursor, cut uint64, max int) (rs []engine.Report, last uint64, pending bool, wait <-chan struct{}, closed bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	i := sort.Search(len(h.entries), func(i int) bool { return h.entries[i].seq >= cursor })
	j := i
	for j < len(h.entries) && j-i < max && h.entries[j].seq < cut {
		j++
	}
	if j > i {
		rs = make([]engine.Report, j-i)
		for k, e := range h.entries[i:j] {
			rs[k] = e.r
		}
		last = h.entries[j-1].seq
	}
	return rs, last, j < len(h.entries), h.notify, h.closed
}

// cutAt returns where the bursts of the subscriptions woken every interval
// end at the wake-up time at: the first subscription to ask fixes it to
// the reports published so far, and every other one gets the same, so
// that all viewers are shown the same reports (and can share drawings).
// A subscription asking late for an older wake-up time gets the newest
// cut.
func (h *Hub) cutAt(interval time.Duration, at time.Time) uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cuts == nil {
		h.cuts = make(map[time.Duration]cutMark)
	}
	c, ok := h.cuts[interval]
	if !ok || at.After(c.at) {
		c = cutMark{at: at, seq: h.next}
		h.cuts[interval] = c
	}
	return c.seq
}

// cutMark is the end of the bursts of one wake-up time.
type cutMark struct {
	at  time.Time
	seq uint64 // first sequence number not delivered
}

// SubscriptionBuffer is the size of each subscription's Reports channel.
const SubscriptionBuffer = 64

// maxBurst caps how many reports one burst carries (a long history is
// replayed in several).
const maxBurst = 4096

// Subscription is one viewer's stream of a Hub's reports, read either
// report by report (Reports) or in bursts (Bursts): the first of the two
// called decides, and the other's channel then only closes at the end.
type Subscription struct {
	h        *Hub
	interval time.Duration
	c        chan engine.Report
	b        chan []engine.Report
	stop     chan struct{}
	done     chan struct{}
	start    sync.Once
	once     sync.Once
}

// Subscribe returns a new subscription whose channel first replays the
// current run's history, then streams new reports, and is closed after the
// last report once the Hub is closed. Call Close on it when done.
func (h *Hub) Subscribe() *Subscription { return h.SubscribeEvery(0) }

// SubscribeEvery is Subscribe for a viewer that wants to wake up at most
// once per interval: once caught up, the subscription waits for new
// reports and hands them over in bursts at the next multiple of interval
// (of the wall clock), so that every subscription of the same interval
// wakes up at the same moments with the same reports. The history is
// replayed at once, and no report is ever dropped; a report waits at most
// interval.
func (h *Hub) SubscribeEvery(interval time.Duration) *Subscription {
	return &Subscription{
		h:        h,
		interval: interval,
		c:        make(chan engine.Report, SubscriptionBuffer),
		b:        make(chan []engine.Report),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
}

// run starts the subscription's goroutine, in bursts mode or not, unless
// it has started.
func (s *Subscription) run(bursts bool) {
	s.start.Do(func() { go s.pump(bursts) })
}

// pump hands reports from the history over, in order, until the run is
// over or s is closed.
func (s *Subscription) pump(bursts bool) {
	defer close(s.done)
	defer close(s.b)
	defer close(s.c)
	var cursor uint64
	cut := uint64(math.MaxUint64) // deliver up to here (excluded)
	most := SubscriptionBuffer
	if bursts {
		most = maxBurst
	}
	for {
		rs, last, pending, wait, closed := s.h.take(cursor, cut, most)
		if len(rs) > 0 {
			if !s.send(rs, bursts) {
				return
			}
			cursor = last + 1
			continue
		}
		switch {
		case pending && closed:
			// The run is over: hand the rest over without waiting.
			cut = math.MaxUint64
			continue
		case pending && s.interval <= 0:
			continue
		case pending:
			// Newer reports wait beyond the cut: next wake-up.
		case closed:
			return
		default:
			select {
			case <-wait:
			case <-s.stop:
				return
			}
			if s.interval <= 0 {
				continue
			}
		}
		at := time.Now().Truncate(s.interval).Add(s.interval)
		if !s.sleep(time.Until(at)) {
			return
		}
		cut = s.h.cutAt(s.interval, at)
	}
}

// send hands rs over as one burst or report by report; it reports whether
// s is still open.
func (s *Subscription) send(rs []engine.Report, bursts bool) bool {
	if bursts {
		select {
		case s.b <- rs:
			return true
		case <-s.stop:
			return false
		}
	}
	for _, r := range rs {
		select {
		case s.c <- r:
		case <-s.stop:
			return false
		}
	}
	return true
}

// sleep waits for d, or until s is closed; it reports whether s is still
// open.
func (s *Subscription) sleep(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.stop:
		return false
	}
}

// Reports returns the subscription's channel of single reports.
func (s *Subscription) Reports() <-chan engine.Report {
	s.run(false)
	return s.c
}

// Bursts returns the subscription's channel of bursts: every report of one
// wake-up in one slice, oldest first (a long history comes in several).
// The slices are the receiver's.
func (s *Subscription) Bursts() <-chan []engine.Report {
	s.run(true)
	return s.b
}

// Close ends the subscription: its goroutine stops and its channels are
// closed before Close returns. Close may be called more than once.
func (s *Subscription) Close() {
	s.once.Do(func() { close(s.stop) })
	s.start.Do(func() {
		close(s.c)
		close(s.b)
		close(s.done)
	})
	<-s.done
}
