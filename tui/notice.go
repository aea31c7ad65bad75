package tui

import (
	"fmt"

	"github.com/mnist-tui/mnist-tui/engine/runs"
)

// noticeRule says what a viewer is told of an action of one kind; by is
// "the teacher", or "you" for the viewer's own actions.
type noticeRule func(a runs.Action, by string) string

// actionNotices is what viewers are told of each kind of action on a run:
// one entry per runs.ActionKind (a kind without an entry is not told).
// With several runs in the list, the notice names its run ("run 2: ...").
// The live controls' notices carry their Action.Detail, which says the new
// value ("pace 10 batches/s", "lr 0.001 → 0.002 after batch 37").
func actionNotices() map[runs.ActionKind]noticeRule {
	return map[runs.ActionKind]noticeRule{
		runs.ActPause:   says("paused by %s"),
		runs.ActResume:  says("resumed by %s"),
		runs.ActRestart: says("run restarted by %s"),
		runs.ActAdd:     says("new run added by %s"),
		runs.ActReplace: func(a runs.Action, by string) string {
			return fmt.Sprintf("new run set up by %s in place of %s", by, a.Detail)
		},
		runs.ActStop: says("run stopped by %s"),
		runs.ActSave: detailed("checkpoint saved by %s"),
		runs.ActPace: detailed("pace changed by %s"),
		runs.ActStep: says("one batch trained by %s"),
		runs.ActLR:   detailed("learning rate changed by %s"),
	}
}

// stateNotices is what viewers are told when a run reaches a state by
// itself (the states an action brings about are told by the action's
// notice).
func stateNotices() map[runs.State]string {
	return map[runs.State]string{
		runs.StateDone:   "training done: the final test predictions are in",
		runs.StateFailed: "training failed",
	}
}

// says is a rule of a fixed text naming who acted (format's one %s).
func says(format string) noticeRule {
	return func(_ runs.Action, by string) string { return fmt.Sprintf(format, by) }
}

// detailed is says followed by the action's Detail, when it has one.
func detailed(format string) noticeRule {
	return func(a runs.Action, by string) string {
		s := fmt.Sprintf(format, by)
		if a.Detail != "" {
			s += ": " + a.Detail
		}
		return s
	}
}

// shownMark is what the run shown had before a burst of events, to tell
// whether the burst took its data away.
type shownMark struct {
	id  runs.ID
	gen int
	had bool // charts or predictions
}

// mark notes what the run shown has now.
func (m Model) mark() shownMark {
	return shownMark{id: m.run.id, gen: m.run.gen, had: m.run.started || m.run.preds != nil}
}

// noticeEvents updates the classroom's notice (see seat) from a burst of events already folded
// into the runs' states (before is what the run shown had before it): the
// newest action or state with a notice wins, and a viewer whose view
// lost its data (the run shown restarted, replaced, or another shown in
// its place) is told why.
func (m *Model) noticeEvents(es eventsMsg, before shownMark) {
	if m.seat.room == nil {
		return
	}
	var rules map[runs.ActionKind]noticeRule
	var states map[runs.State]string
	told := false
	for _, e := range es {
		text := ""
		switch e.Kind {
		case runs.KindAction:
			if e.Action == nil || e.Action.Actor.Key == "" {
				continue // the server's own (the command line's runs): no one to tell of
			}
			if e.Run != 0 && m.set.get(e.Run) == nil {
				continue // a removed run's (the history keeps its actions)
			}
			if rules == nil {
				rules = actionNotices()
			}
			rule, ok := rules[e.Action.Kind]
			if !ok {
				continue
			}
			by := "the teacher"
			if e.Action.Actor == m.o.Access.Actor {
				by = "you"
			}
			text = rule(*e.Action, by)
		case runs.KindState:
			if states == nil {
				states = stateNotices()
			}
			text = states[e.State]
		}
		if text == "" {
			continue
		}
		if m.set.len() > 1 && e.Run != 0 {
			text = fmt.Sprintf("run %d: %s", e.Run, text)
		}
		m.seat.notice, told = text, true
	}
	why := m.lost(before)
	switch {
	case why == "":
	case told:
		m.seat.notice += " · " + why
	default:
		m.seat.notice = why
	}
}

// lost says how the active view lost the data of the run it showed
// before a burst of events ("" if it did not).
func (m Model) lost(before shownMark) string {
	if !before.had || (m.run.id == before.id && m.run.gen == before.gen) {
		return ""
	}
	v := m.views[m.active]
	one, _ := v.(oneRunView)
	preds := one != nil && one.showsOneRun()
	switch {
	case m.set.get(before.id) == nil:
		return fmt.Sprintf("run %d, which you were looking at, has left the list", before.id)
	case m.run.id != before.id:
		return fmt.Sprintf("now showing run %d, which has just started (< and > pick a run)", m.run.id)
	case v.kind() == kindGradients:
		return "its gradients start over"
	case v.kind() == kindReplay || v.kind() == kindCanvas:
		return "the weights are the new attempt's"
	case preds:
		return "your predictions were the old run's and are gone"
	case v.kind() == kindDashboard:
		return "its charts start over"
	}
	return ""
}
