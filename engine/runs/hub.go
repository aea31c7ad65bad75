package runs

import (
	"math"
	"sort"
	"sync"
	"time"
)

// DefaultHistoryLimit is how many events a Hub keeps before it starts
// thinning old batch reports. A default run sends about 2,400 reports, so
// thinning only happens for long schedules or many runs.
const DefaultHistoryLimit = 100_000

// entry is one event of the history with its sequence number.
type entry struct {
	seq uint64
	e   Event
}

// Hub fans the events of a List (every run's reports and the list's
// changes) out to many viewers. A List owns one; viewers reach it through
// List.Subscribe.
//
// It keeps the history, so that a viewer who joins late first gets every
// event since the start (its charts begin at step one, for every run),
// then the new ones as they come. Publishing never blocks: it appends to
// the history and wakes the subscribers. Each subscriber has its own cursor
// into the shared history and its own goroutine that hands events to its
// channel, so a slow or stalled viewer only ever falls behind itself; it
// never delays the trainers or the other viewers, and costs no memory
// beyond the shared history.
//
// When the history grows past its limit, every other batch report is
// dropped from it (every other event is always kept); a subscriber whose
// cursor pointed at a dropped event skips to the next kept one, so a
// far-behind subscriber sees a coalesced stream.
//
// A run started over (List's restart) or removed has its older events
// dropped from the history (dropRun), and events of an older attempt are
// refused from then on: a late joiner sees each run as it is now. A
// restarted or removed run's control actions stay (its KindAction events:
// restarts, pauses, paces, learning rates, a few bytes each and made by
// hand): a subscriber that was behind, such as the server's log, still
// learns of every action and who took it, however quickly a restart or a
// removal followed. A viewer folds an older attempt's actions into that
// attempt's state, which the next attempt's first event starts over, and
// ignores those of a run it does not know (a removed one's).
//
// Test predictions (a report's Predictions: the live evaluations, the
// evaluations viewers ask for, the final ones) are kept for each run's
// newest such report only: when a report with predictions is published,
// the run's previous one stays in the history with its numbers (its
// accuracy point on the charts) but without its Predictions. So the
// history holds at most one set of predictions per run (about 42 bytes a
// digit: 420 KB for the 10,000 test digits) plus a report of about 200
// bytes per evaluation, however long the run; a subscriber that is
// behind may still hold older ones it has taken, until it reads them.
//
// The zero Hub is not usable; call NewHub.
type Hub struct {
	mu      sync.Mutex
	entries []entry
	next    uint64        // sequence number of the next event
	notify  chan struct{} // closed and replaced on every change
	closed  bool          // the list is closed: subscribers close once drained
	limit   int
	thinned int // how many batch reports thinning has dropped
	// minGen is, per run, the oldest attempt whose events are kept.
	minGen map[ID]int
	// preds is, per run, the sequence number of its newest event that
	// holds predictions.
	preds map[ID]uint64
	// cuts are where the bursts of the current wake-up time end, per
	// subscription interval.
	cuts map[time.Duration]cutMark
}

// NewHub returns an empty, open Hub.
func NewHub() *Hub {
	return &Hub{notify: make(chan struct{}), limit: DefaultHistoryLimit, minGen: map[ID]int{}, preds: map[ID]uint64{}}
}

// wakeLocked wakes every waiting subscriber. h.mu must be held.
func (h *Hub) wakeLocked() {
	close(h.notify)
	h.notify = make(chan struct{})
}

// publish appends e to the history and hands it to every subscriber. It
// never blocks for longer than a short critical section, whatever the
// subscribers do. Events published after close, and events of a run's
// attempt older than its newest dropRun, are dropped; publish reports
// whether e was kept.
func (h *Hub) publish(e Event) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || (e.Run != 0 && !e.Kind.listLevel() && e.Gen < h.minGen[e.Run]) {
		return false
	}
	if e.Kind == KindReport && e.Report.Predictions != nil {
		if prev, ok := h.preds[e.Run]; ok {
			h.stripLocked(prev)
		}
		h.preds[e.Run] = h.next
	}
	h.entries = append(h.entries, entry{seq: h.next, e: e})
	h.next++
	if len(h.entries) > h.limit {
		h.thinLocked()
	}
	h.wakeLocked()
	return true
}

// stripLocked drops the predictions of the event numbered seq, if it is
// still in the history. h.mu must be held.
func (h *Hub) stripLocked(seq uint64) {
	i := sort.Search(len(h.entries), func(i int) bool { return h.entries[i].seq >= seq })
	if i < len(h.entries) && h.entries[i].seq == seq {
		h.entries[i].e.Report.Predictions = nil
	}
}

// dropRun removes run id's events of attempts older than gen from the
// history (its KindAdded event and its actions stay) and refuses
// such events from then on. gen = removedGen drops every event of the run
// but its actions, KindAdded included.
func (h *Hub) dropRun(id ID, gen int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.minGen[id] = gen
	delete(h.preds, id) // an older attempt's
	kept := h.entries[:0]
	for _, en := range h.entries {
		e := en.e
		stays := e.Kind == KindAction || e.Kind == KindRemoved || (e.Kind == KindAdded && gen != removedGen)
		if e.Run == id && e.Gen < gen && !stays {
			continue
		}
		kept = append(kept, en)
	}
	clear(h.entries[len(kept):])
	h.entries = kept
	h.wakeLocked()
}

// thinLocked drops every other batch report from the history, keeping
// every other event and the newest one. h.mu must be held.
func (h *Hub) thinLocked() {
	kept := h.entries[:0]
	odd := false
	last := len(h.entries) - 1
	for i, e := range h.entries {
		if e.e.isBatch() && i != last {
			odd = !odd
			if !odd {
				h.thinned++
				continue
			}
		}
		kept = append(kept, e)
	}
	// Clear the tail so dropped events (and their Predictions) can be freed.
	clear(h.entries[len(kept):])
	h.entries = kept
}

// close marks the list as closed: no more events are accepted, and every
// subscriber's channel is closed once it has delivered the whole history.
func (h *Hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		h.wakeLocked()
	}
}

// Len reports how many events the history holds.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.entries)
}

// Seq reports how many events have been published since the Hub was made;
// it changes exactly when an event is published.
func (h *Hub) Seq() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.next
}

// Last returns the newest event, if any.
func (h *Hub) Last() (Event, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.entries) == 0 {
		return Event{}, false
	}
	return h.entries[len(h.entries)-1].e, true
}

// History returns a copy of the history.
func (h *Hub) History() []Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Event, len(h.entries))
	for i, e := range h.entries {
		out[i] = e.e
	}
	return out
}

// take returns the events whose sequence numbers are in [cursor, cut), up
// to max of them, with the sequence number of the last one; pending says
// whether events at or after cursor exist beyond those. When there are
// none at all, wait is the channel closed on the next change and closed
// whether the list is closed.
func (h *Hub) take(cursor, cut uint64, max int) (rs []Event, last uint64, pending bool, wait <-chan struct{}, closed bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	i := sort.Search(len(h.entries), func(i int) bool { return h.entries[i].seq >= cursor })
	j := i
	for j < len(h.entries) && j-i < max && h.entries[j].seq < cut {
		j++
	}
	if j > i {
		rs = make([]Event, j-i)
		for k, e := range h.entries[i:j] {
			rs[k] = e.e
		}
		last = h.entries[j-1].seq
	}
	return rs, last, j < len(h.entries), h.notify, h.closed
}

// cutAt returns where the bursts of the subscriptions woken every interval
// end at the wake-up time at: the first subscription to ask fixes it to
// the events published so far, and every other one gets the same, so
// that all viewers are shown the same events (and can share drawings).
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

// SubscriptionBuffer is the size of each subscription's Events channel.
const SubscriptionBuffer = 64

// maxBurst caps how many events one burst carries (a long history is
// replayed in several).
const maxBurst = 4096

// Subscription is one viewer's stream of a Hub's events, read either event
// by event (Events) or in bursts (Bursts): the first of the two called
// decides, and the other's channel then only closes at the end.
type Subscription struct {
	h        *Hub
	interval time.Duration
	c        chan Event
	b        chan []Event
	stop     chan struct{}
	done     chan struct{}
	start    sync.Once
	once     sync.Once
}

// Subscribe returns a new subscription whose channel first replays the
// history, then streams new events, and is closed after the last event
// once the Hub is closed. Call Close on it when done.
func (h *Hub) Subscribe() *Subscription { return h.SubscribeEvery(0) }

// SubscribeEvery is Subscribe for a viewer that wants to wake up at most
// once per interval: once caught up, the subscription waits for new
// events and hands them over in bursts at the next multiple of interval
// (of the wall clock), so that every subscription of the same interval
// wakes up at the same moments with the same events. The history is
// replayed at once, and no event is ever dropped (but thinned batch
// reports); an event waits at most interval.
func (h *Hub) SubscribeEvery(interval time.Duration) *Subscription {
	return &Subscription{
		h:        h,
		interval: interval,
		c:        make(chan Event, SubscriptionBuffer),
		b:        make(chan []Event),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
}

// run starts the subscription's goroutine, in bursts mode or not, unless
// it has started.
func (s *Subscription) run(bursts bool) {
	s.start.Do(func() { go s.pump(bursts) })
}

// pump hands events from the history over, in order, until the Hub is
// closed and drained or s is closed.
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
			// The list is closed: hand the rest over without waiting.
			cut = math.MaxUint64
			continue
		case pending && s.interval <= 0:
			continue
		case pending:
			// Newer events wait beyond the cut: next wake-up.
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

// send hands rs over as one burst or event by event; it reports whether
// s is still open.
func (s *Subscription) send(rs []Event, bursts bool) bool {
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

// Events returns the subscription's channel of single events.
func (s *Subscription) Events() <-chan Event {
	s.run(false)
	return s.c
}

// Bursts returns the subscription's channel of bursts: every event of one
// wake-up in one slice, oldest first (a long history comes in several).
// The slices are the receiver's.
func (s *Subscription) Bursts() <-chan []Event {
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
