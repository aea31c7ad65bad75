package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/mnist-tui/mnist-tui/engine/runs"
)

// screenLayout is where everything is on the screen: the tab bar on the
// first line, the active view's rectangle, the footer (a note line, then
// the hint line or the full help) at the bottom. Model.layout computes it
// in Update; View only draws what it says.
type screenLayout struct {
	tabs      string // the tab bar, drawn (and the runs bar under it)
	runsBar   bool   // the runs bar is on the second line
	footerKey string // what footer was drawn from
	footer    string
	footerH   int
	body      rect // every view's rectangle
}

// layout lays the screen out for the current size, state and active view,
// and gives every view its rectangle when that changed.
func (m *Model) layout() {
	if m.width <= 0 || m.height <= 0 {
		return
	}
	status := m.status()
	titles := make([]string, len(m.views))
	for i, v := range m.views {
		titles[i] = v.title()
	}
	active := m.active
	if m.inLobby() {
		// The lobby is the one tab until training starts.
		titles, active = []string{m.seat.lobby.title()}, 0
		m.seat.lobby.setClass(m.seat.state, m.seat.following)
	}
	m.tabs.layout(titles, active, m.width, width(status))
	m.lay.tabs = m.tabs.render(active, m.width, status)
	top := 1
	v, ok := m.activeView().(oneRunView)
	m.lay.runsBar = ok && v.showsOneRun() && m.set.len() > 1
	if m.lay.runsBar {
		m.bar.layout(m.st, m.set, m.width)
		m.lay.tabs += "\n" + m.bar.drawn
		top = 2
	}
	if k := m.footerKey(); k != m.lay.footerKey || m.lay.footer == "" {
		m.lay.footerKey, m.lay.footer = k, m.footer()
		m.lay.footerH = lipgloss.Height(m.lay.footer)
	}
	body := rect{x: 0, y: top, w: m.width, h: max(m.height-top-m.lay.footerH, 1)}
	if body != m.lay.body {
		m.lay.body = body
		for _, v := range m.views {
			v.setRect(body)
		}
		if m.seat.lobby != nil {
			m.seat.lobby.setRect(body)
		}
	}
}

// footer is a classroom's status lines (follow mode, the notice), the
// note or error line, if any, and the hint line or the full help.
func (m Model) footer() string {
	var lines []string
	for _, l := range m.classLines() {
		lines = append(lines, m.line(m.st.accent, l))
	}
	switch {
	case m.run.err != nil:
		lines = append(lines, m.line(m.st.errLine, "error: "+m.run.err.Error()))
	case m.note != "" && m.noteErr:
		lines = append(lines, m.line(m.st.errLine, "error: "+m.note))
	case m.note != "":
		lines = append(lines, m.line(m.st.note, m.note))
	}
	if !m.help.ShowAll {
		return strings.Join(append(lines, m.hintLine()), "\n")
	}
	_, full := m.activeView().keys()
	global := m.km.globalFull(m.canRestart(), m.set.len() > 1)
	switch {
	case m.inLobby():
		global = []key.Binding{m.km.Help, m.km.CloseHelp, m.km.Quit}
	case m.seat.room != nil && !m.seat.state.Teacher:
		global = append(global, m.km.Follow)
	}
	cols := append(append([][]key.Binding{}, full...), global)
	for _, l := range strings.Split(m.fullHelp(cols), "\n") {
		lines = append(lines, ansi.Truncate(l, m.width, "…"))
	}
	return strings.Join(lines, "\n")
}

// fullHelp draws the help's columns side by side, in as many bands, one
// under the other, as the width needs.
func (m Model) fullHelp(cols [][]key.Binding) string {
	const gap = "    "
	var bands []string
	var band []string
	bandW := 0
	flush := func() {
		if len(band) > 0 {
			bands = append(bands, hjoin(band...))
			band, bandW = nil, 0
		}
	}
	for _, col := range cols {
		c := m.help.FullHelpView([][]key.Binding{col})
		if c == "" {
			continue // every binding disabled
		}
		w := lipgloss.Width(c)
		if len(band) > 0 && bandW+len(gap)+w > m.width {
			flush()
		}
		if len(band) > 0 {
			band = append(band, gap)
			bandW += len(gap)
		}
		band = append(band, c)
		bandW += w
	}
	flush()
	return strings.Join(bands, "\n")
}

// hintLine is the one-line help: the active view's keys, then tab, pause,
// evaluate, pace and learning rate, then "? help" and "q quit", which
// always stay. When the line is too long the others go first: learning
// rate, pace, evaluate, pause, the view's keys from its last, and tab
// last. While the view captures the keyboard only its own keys and ctrl+c
// (the one global key that then works) are shown; in a classroom's lobby,
// its keys, help and quit.
func (m Model) hintLine() string {
	v := m.activeView()
	short, _ := v.keys()
	var optional, always []key.Binding
	var drop []int // indexes into optional, in the order they go
	n := len(short)
	switch {
	case m.inLobby() || v.typing():
		optional, always = short, []key.Binding{m.km.ForceQuit}
		if m.inLobby() {
			// Only the lobby's keys work there, and help and quit.
			always = []key.Binding{m.km.Help, m.km.Quit}
		}
		for i := n - 1; i >= 0; i-- {
			drop = append(drop, i)
		}
	default:
		optional = append(append(make([]key.Binding, 0, n+5), short...), m.km.Next, m.km.Pause, m.km.Eval, m.km.PaceHelp, m.km.LRHelp)
		always = []key.Binding{m.km.Help, m.km.Quit}
		drop = append(drop, n+4, n+3, n+2, n+1)
		for i := n - 1; i >= 0; i-- {
			drop = append(drop, i)
		}
		drop = append(drop, n)
	}
	h := m.help
	h.Width = 0 // measured here instead
	keep := make([]bool, len(optional))
	for i := range keep {
		keep[i] = true
	}
	for dropped := 0; ; dropped++ {
		shown := make([]key.Binding, 0, len(optional)+len(always))
		for i, b := range optional {
			if keep[i] {
				shown = append(shown, b)
			}
		}
		line := h.ShortHelpView(append(shown, always...))
		if width(line) <= m.width || dropped == len(drop) {
			return ansi.Truncate(line, m.width, "…")
		}
		keep[drop[dropped]] = false
	}
}

// line renders text on one line of the screen's width.
func (m Model) line(st lipgloss.Style, text string) string {
	text = strings.Join(strings.Fields(text), " ")
	return ansi.Truncate(st.Render(text), m.width, "…")
}

// footerKey is everything the footer depends on.
func (m Model) footerKey() string {
	var b strings.Builder
	if m.run.err != nil {
		b.WriteString(m.run.err.Error())
	}
	v := m.activeView()
	fmt.Fprintf(&b, "\x00%s\x00%t\x00%d\x00%t\x00%d\x00%t\x00%t\x00%s\x00%t", m.note, m.noteErr, m.width, m.help.ShowAll, m.active, v.typing(), m.set.len() > 1, strings.Join(m.classLines(), "\n"), m.inLobby())
	short, full := v.keys()
	add := func(k key.Binding) {
		h := k.Help()
		b.WriteString("\x00" + h.Key + "\x01" + h.Desc)
		if k.Enabled() {
			b.WriteString("\x01")
		}
	}
	for _, k := range short {
		add(k)
	}
	b.WriteString("\x02")
	for _, col := range full {
		for _, k := range col {
			add(k)
		}
		b.WriteString("\x03")
	}
	return b.String()
}

// View draws the screen as laid out by the last Update.
func (m Model) View() string {
	if m.width == 0 || m.height == 0 {
		return ""
	}
	if m.width < MinWidth || m.height < MinHeight {
		return tooSmall(m.width, m.height)
	}
	f := m.frame
	v, r := m.activeView(), m.lay.body
	// Views return their last drawing while nothing they show changed:
	// then the fitted body and the whole frame are the last ones too.
	if body := v.View(); body != f.body || r.w != f.bodyW || r.h != f.bodyH || f.fitted == "" {
		f.body, f.bodyW, f.bodyH = body, r.w, r.h
		if e, ok := v.(exactView); ok && e.exactSize() {
			f.fitted = body
		} else {
			f.fitted = fit(body, r.w, r.h)
		}
	}
	parts := [3]string{m.lay.tabs, f.fitted, m.lay.footer}
	if f.outPartsOK && parts == f.outParts {
		return f.out
	}
	var b strings.Builder
	b.Grow(len(parts[0]) + len(parts[1]) + len(parts[2]) + 2)
	b.WriteString(parts[0])
	b.WriteByte('\n')
	b.WriteString(parts[1])
	b.WriteByte('\n')
	b.WriteString(parts[2])
	f.out, f.outParts, f.outPartsOK = b.String(), parts, true
	return f.out
}

// tooSmall is the whole screen when the terminal is below the minimum.
func tooSmall(w, h int) string {
	lines := []string{
		"Terminal too small",
		fmt.Sprintf("%dx%d, need %dx%d", w, h, MinWidth, MinHeight),
		"(q quits)",
	}
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, w, "")
	}
	return strings.Join(lines[:min(len(lines), max(h, 1))], "\n")
}

// status says what the run is doing.
func (m Model) status() string {
	if m.inLobby() {
		return m.st.warn.Render("waiting for the teacher") + " "
	}
	var s string
	switch r := m.run; {
	case m.run.evaluating:
		s = m.spin.View() + m.st.accent.Render(" evaluating test set")
	case r.err != nil && !r.done:
		s = m.st.bad.Render("✗ failed")
	case r.done:
		s = m.st.good.Render("✓ done")
	case r.over && r.started:
		s = m.st.warn.Render("■ stopped")
	case r.over || r.id == 0:
		s = m.st.dim.Render("no run")
	case r.state == runs.StatePaused:
		s = m.st.warn.Render("‖ paused") + m.st.dim.Render(" · "+runs.FormatPace(r.pace))
	case r.state == runs.StateStopped:
		s = m.st.warn.Render("■ stopped")
	case r.state == runs.StateQueued:
		s = m.st.dim.Render("queued")
	case !r.started:
		s = m.st.dim.Render("waiting for the first batch")
	default:
		s = m.st.accent.Render(fmt.Sprintf("● %s, epoch %d/%d", r.last.Phase, r.last.Epoch, r.last.Epochs)) +
			m.st.dim.Render(" · "+runs.FormatPace(r.pace))
	}
	if m.set.len() > 1 && m.run.id != 0 {
		// Whose status, when several runs are compared.
		s = m.st.dim.Render(fmt.Sprintf("run %d ", m.run.id)) + s
	}
	return s + " "
}

// fit pads or cuts s to exactly h lines of exactly w cells.
func fit(s string, w, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	var b strings.Builder
	for i := 0; i < h; i++ {
		l := ""
		if i < len(lines) {
			l = lines[i]
		}
		n := width(l)
		if n > w {
			l = ansi.Truncate(l, w, "")
			n = width(l)
		}
		b.WriteString(l)
		b.WriteString(strings.Repeat(" ", w-n))
		if i < h-1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}
