package tui

import (
	"slices"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
)

// runSet is every run of the list as the views know it: each run's state
// (built from its events), the list's order and queue, and the run
// selected, which the views that show one run (header and bars, browser,
// confusion matrix) show. The root model owns it; views read it.
//
// The selected run's state lives in shown, a pointer that never changes:
// views hold it. Selecting another run moves that run's state into shown
// and the old one's out (see selectRun), so a view that keeps what it
// built from shown (the browser's filtered digits, the matrix's counts)
// learns of the change from predsGen, which only grows.
type runSet struct {
	shown *runState
	// ids lists the runs in the list's order; states holds each one's
	// state (states[sel] is shown).
	ids    []runs.ID
	states map[runs.ID]*runState
	// queue lists the queued runs in starting order.
	queue []runs.ID
	// sel is the selected run (0: none yet). follow says the selection
	// moves to each run that starts (until a viewer picks a run that is
	// not training).
	sel    runs.ID
	follow bool
	// labels name each run (in ids' order) by what sets it apart
	// (runs.Labels); differ lists the settings that differ between runs.
	labels []string
	differ []string
	// over is set once the list is closed.
	over bool
	// changes counts the changes of the list (runs added or removed).
	changes int
}

func newRunSet() *runSet {
	return &runSet{shown: newRunState(nil), states: map[runs.ID]*runState{}, follow: true}
}

// len is how many runs the list holds.
func (s *runSet) len() int { return len(s.ids) }

// get returns run id's state, nil if the list has no such run.
func (s *runSet) get(id runs.ID) *runState { return s.states[id] }

// index returns run id's place in the list, -1 if absent.
func (s *runSet) index(id runs.ID) int { return slices.Index(s.ids, id) }

// at returns the state of the run at index i of the list.
func (s *runSet) at(i int) *runState { return s.states[s.ids[i]] }

// label names run id by what sets it apart from the others.
func (s *runSet) label(id runs.ID) string {
	if i := s.index(id); i >= 0 && i < len(s.labels) {
		return s.labels[i]
	}
	return ""
}

// queued returns run id's place in the queue, from 1 (0: not queued).
func (s *runSet) queued(id runs.ID) int { return slices.Index(s.queue, id) + 1 }

// selectRun makes run id the one shown (0: none): the state of the run
// shown so far moves out of shown, id's moves in, and predsGen grows so
// that views rebuild what they built from the old run's predictions.
func (s *runSet) selectRun(id runs.ID) {
	if id == s.sel {
		return
	}
	gen := s.shown.predsGen + 1
	if old, ok := s.states[s.sel]; ok && old == s.shown {
		kept := new(runState)
		*kept = *s.shown
		s.states[s.sel] = kept
	}
	next := newRunState(nil)
	next.over = s.over
	if st, ok := s.states[id]; ok {
		next = st
		s.states[id] = s.shown
	} else {
		id = 0
	}
	*s.shown = *next
	s.shown.predsGen = gen
	s.sel = id
}

// pick selects run id because a viewer chose it: the selection then stays
// on it, unless it is the run training (then it follows the queue again).
func (s *runSet) pick(id runs.ID) {
	st := s.get(id)
	if st == nil {
		return
	}
	s.follow = st.state.Active()
	s.selectRun(id)
}

// step selects the run by (+1: next, -1: previous) places from the
// selected one in the list's order, wrapping around.
func (s *runSet) step(by int) {
	n := len(s.ids)
	if n == 0 {
		return
	}
	i := max(s.index(s.sel), 0)
	s.pick(s.ids[((i+by)%n+n)%n])
}

// relabel names the runs again after the list changed.
func (s *runSet) relabel() {
	specs := make([]runs.Spec, len(s.ids))
	for i, id := range s.ids {
		if info := s.states[id].info; info != nil {
			specs[i] = info.Spec
		}
	}
	s.changes++
	s.labels, s.differ = nil, nil
	if len(specs) > 0 {
		s.labels, s.differ = runs.Labels(specs), runs.Differ(specs)
	}
}

// fallback selects the run to show when none is: the one training, else
// the first of the list.
func (s *runSet) fallback() {
	for _, id := range s.ids {
		if s.states[id].state.Active() {
			s.selectRun(id)
			return
		}
	}
	if len(s.ids) > 0 {
		s.selectRun(s.ids[0])
	}
}

// event folds one event of the stream into the runs' states. A greater Gen
// of a run starts its state over (a restart); a smaller one is stale.
// Nothing is inferred from counters.
func (s *runSet) event(e runs.Event) {
	switch e.Kind {
	case runs.KindAdded:
		if s.states[e.Run] != nil {
			return
		}
		st := newRunState(nil)
		st.reset(e.Info, e.Gen)
		st.state, st.over = runs.StateQueued, s.over
		s.states[e.Run] = st
		s.ids = slices.Insert(s.ids, min(max(e.Index, 0), len(s.ids)), e.Run)
		s.relabel()
		if s.sel == 0 {
			s.selectRun(e.Run)
		}
		return
	case runs.KindRemoved:
		if s.states[e.Run] == nil {
			return
		}
		if s.sel == e.Run {
			s.selectRun(0)
			s.follow = true
		}
		delete(s.states, e.Run)
		s.ids = slices.DeleteFunc(s.ids, func(id runs.ID) bool { return id == e.Run })
		s.relabel()
		if s.sel == 0 {
			s.fallback()
		}
		return
	case runs.KindQueue:
		s.queue = e.Queue
		return
	}
	st := s.states[e.Run]
	if st == nil || e.Gen < st.gen {
		return // an unknown run's, or a stale attempt's
	}
	if e.Kind == runs.KindStart {
		if e.Gen != st.gen || st.started || st.done {
			st.reset(e.Info, e.Gen)
		}
		st.info, st.state = e.Info, runs.StateRunning
		if s.follow {
			s.selectRun(e.Run)
		}
		return
	}
	if e.Gen > st.gen {
		st.reset(st.info, e.Gen)
	}
	switch e.Kind {
	case runs.KindState:
		st.state = e.State
		if e.State == runs.StateFailed {
			st.err = e.Err
		} else if e.State == runs.StateQueued || e.State == runs.StateRunning {
			st.err = nil
		}
	case runs.KindReport:
		if st.apply(e.Report) && e.Report.Kind == engine.KindDone {
			st.evaluating = false // the final predictions are here
		}
	case runs.KindAction:
		st.action(e.Action)
	}
}

// close marks every run over: the list is closed.
func (s *runSet) close() {
	s.over = true
	s.shown.over = true
	for _, st := range s.states {
		st.over = true
	}
}

// fingerprint identifies everything the set shows beyond the selected
// run's own data: every run's data and state, the queue, the selection,
// for drawings shared between models (see Cache).
func (s *runSet) fingerprint() uint64 {
	h := uint64(fnvOffset)
	for _, id := range s.ids {
		st := s.states[id]
		h = mix(mix(mix(mix(h, uint64(id)), st.version), uint64(st.applied)), uint64(st.state))
		if st.err != nil {
			h = mix(h, 1)
		}
	}
	for _, id := range s.queue {
		h = mix(h, uint64(id))
	}
	return mix(mix(h, uint64(s.sel)), uint64(len(s.ids)))
}
