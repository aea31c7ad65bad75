package tui

import tea "github.com/charmbracelet/bubbletea"

// mouse handles a mouse event in screen coordinates: a click on the tab bar
// chooses a tab, the wheel over it steps through the tabs, and events over
// the body go to the active view in its own coordinates (see view for the
// capture of drags).
func (m Model) mouse(ev tea.MouseEvent) (tea.Model, tea.Cmd) {
	if m.width < MinWidth || m.height < MinHeight || len(m.views) == 0 {
		return m, nil
	}
	press := ev.Action == tea.MouseActionPress
	if press {
		// A press is an action like a key: it ends notes and a pending
		// restart confirmation.
		m.note, m.noteErr, m.confirmRestart = "", false, false
	}
	if m.capture >= 0 && !press {
		id := m.capture
		if ev.Action == tea.MouseActionRelease {
			m.capture = -1
		}
		return m, m.tell(id, m.toView(ev))
	}
	m.capture = -1
	switch {
	case ev.Y == 0 && press:
		if step := (mouseMsg(ev)).wheel(); step != 0 {
			return m, m.activate((m.active + step + len(m.views)) % len(m.views))
		}
		if ev.Button == tea.MouseButtonLeft {
			if i, ok := m.tabs.at(ev.X); ok {
				return m, m.activate(i)
			}
		}
	case ev.Y == 1 && m.lay.runsBar && press:
		if step := (mouseMsg(ev)).wheel(); step != 0 {
			m.set.step(step)
			return m, m.picked()
		}
		if id, ok := m.bar.at(ev.X); ok && ev.Button == tea.MouseButtonLeft {
			m.set.pick(id)
			return m, m.picked()
		}
	case m.lay.body.contains(ev.X, ev.Y) && press:
		if !ev.IsWheel() {
			m.capture = viewID(m.active)
		}
		return m, m.tell(viewID(m.active), m.toView(ev))
	}
	return m, nil
}

// toView translates ev into the coordinates of the views' rectangle.
func (m Model) toView(ev tea.MouseEvent) mouseMsg {
	ev.X -= m.lay.body.x
	ev.Y -= m.lay.body.y
	return mouseMsg(ev)
}
