package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/mnist-tui/mnist-tui/engine"
)

// Minimum terminal size; below it the model only says so.
const (
	MinWidth  = 60
	MinHeight = 20
)

// frameInterval is the shortest time between two batches of reports, which
// bounds how often charts are redrawn while training (about 15 fps).
const frameInterval = 66 * time.Millisecond

// maxDrain caps how many reports one message carries.
const maxDrain = 1 << 14

// ErrNoControl is what the pause and evaluate keys report without a Control.
var ErrNoControl = errors.New("no training run attached")

// reportsMsg carries every report that was waiting on the channel, oldest
// first.
type reportsMsg []engine.Report

// runOverMsg says the report channel was closed: the run is over.
type runOverMsg struct{}

// listenMsg says a frame interval has passed: wait for reports again.
type listenMsg struct{}

// pollMsg asks to look at the run's paused state again: while paused no
// reports arrive to redraw the screen, and another viewer may have paused.
type pollMsg struct{}

// pollInterval is how often the paused state is looked at.
const pollInterval = 500 * time.Millisecond

// poll schedules the next pollMsg.
func poll() tea.Cmd {
	return tea.Tick(pollInterval, func(time.Time) tea.Msg { return pollMsg{} })
}

// predictionsMsg carries an evaluation of the test set on a snapshot.
type predictionsMsg struct {
	preds *engine.Predictions
	from  string
	// runs is runState.runs when the evaluation started: predictions of
	// a run that has since been restarted are dropped.
	runs int
}

// savedMsg reports a checkpoint written by the save key (err nil) or not.
type savedMsg struct {
	path string
	err  error
}

// Saver is a Control that can also write a checkpoint of the run (the
// engine's Trainer is one). The save key calls Save from a tea.Cmd.
type Saver interface {
	Save(path string) error
}

// Restarter is a Control that can also start the run over from scratch
// (the classroom server's admin sessions have one). The restart key asks
// for confirmation (a second press), then calls Restart from a tea.Cmd.
// The new run's reports then come on the same channel as the old run's:
// the Model sees a new run begin (see runState.restarts) and starts its
// charts, table and predictions over.
type Restarter interface {
	Restart() error
}

// restartedMsg reports how a restart asked for with the restart key went.
type restartedMsg struct{ err error }

// Notes the restart key shows.
const (
	noteRestartConfirm = "press R again to restart the run from scratch (any other key cancels)"
	noteRestartNA      = "restart is not available here"
	noteRestarting     = "restarting the run…"
	noteRestarted      = "run restarted from scratch"
)

// errMsg carries a failure: of the run (fromRun: the error channel is then
// watched again) or of an evaluation.
type errMsg struct {
	err     error
	fromRun bool
}

// openCellMsg asks for the browser filtered to the digits of class truth
// predicted as pred.
type openCellMsg struct{ truth, pred int }

// view is one screen of the app. Views are pointers owned by the root, which
// hands them every data message and the active one its keys; new views (a
// digit replay, a drawing canvas, a setup form) only need to implement this
// and be added to the list in New.
type view interface {
	// title names the view in the tab bar.
	title() string
	// update handles a message; key messages reach only the active view.
	update(msg tea.Msg) (view, tea.Cmd)
	// View draws the view in the size last given to setSize.
	View() string
	// setSize gives the view its drawing area (the terminal minus the tab
	// bar and the footer).
	setSize(w, h int)
	// keys lists the view's own bindings for the help: a short line and
	// the full help's columns.
	keys() ([]key.Binding, [][]key.Binding)
	// typing reports whether the view is reading text, so that single-key
	// shortcuts must go to it instead of the root.
	typing() bool
}

// exactView is implemented by views whose View is already exactly the size
// given to setSize (fitted): the root then does not measure it again.
type exactView interface {
	exactSize() bool
}

// Model is the root Bubble Tea model: a tab bar over a list of views
// (dashboard, prediction browser, confusion matrix), the shared run state
// they read, and the global keys. Build it with New.
type Model struct {
	o    Options
	ctx  context.Context
	st   *styles
	km   keyMap
	help help.Model
	spin spinner.Model
	run  *runState

	views  []view
	active int

	width, height int
	// note is a one-line message shown until the next key; noteErr styles
	// it as an error.
	note    string
	saving  bool // a save key's write is under way
	noteErr bool
	// confirmRestart is set by a first press of the restart key and
	// cleared by any key; restarting while a restart is under way.
	confirmRestart bool
	restarting     bool
	// pollStopped is set once the run is over and the paused state is no
	// longer polled; a restarted run polls again.
	pollStopped bool

	// frame remembers the parts of the last frame drawn, so that a frame
	// whose parts did not change costs next to nothing.
	frame *frameMemo
}

// frameMemo holds the last frame and what it was drawn from.
type frameMemo struct {
	footerKey  string
	footer     string
	tabsKey    string
	tabs       string
	body       string // the view's drawing, as View returned it
	bodyW      int
	bodyH      int
	fitted     string // body fitted to bodyW x bodyH
	out        string // the whole frame
	outParts   [3]string
	outPartsOK bool
}

var _ tea.Model = Model{}

// New builds the root model for o.
func New(o Options) Model {
	if o.Renderer == nil {
		o.Renderer = lipgloss.DefaultRenderer()
	}
	ctx := o.Context
	if ctx == nil {
		ctx = context.Background()
	}
	st := newStyles(o.Renderer)
	km := newKeyMap()
	h := help.New()
	h.Styles = st.helpStyles()
	run := newRunState(o.Config, o.Sizes, o.Test)
	if o.Reports == nil && o.Bursts == nil {
		run.over = true
	}
	m := Model{
		o: o, ctx: ctx, st: st, km: km, help: h, run: run, frame: &frameMemo{},
		spin: spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(st.accent)),
	}
	m.views = []view{
		newDashboard(run, st, km, o.ASCII, o.Cache),
		newBrowser(run, st, km, o.Renderer),
		newConfusion(run, st, km),
	}
	return m
}

// Init starts listening for reports and errors, and watching the paused
// state when there is a Control.
func (m Model) Init() tea.Cmd {
	cmds := []tea.Cmd{m.listen(), waitErr(m.o.Errs)}
	if m.o.Control != nil && !m.run.over {
		cmds = append(cmds, poll())
	}
	return tea.Batch(cmds...)
}

// listen waits for the next reports from Bursts or Reports.
func (m Model) listen() tea.Cmd {
	if m.o.Bursts != nil {
		return waitBurst(m.o.Bursts)
	}
	return waitReports(m.o.Reports)
}

// waitBurst waits for a burst of reports and returns it as one reportsMsg
// (runOverMsg once the channel is closed).
func waitBurst(ch <-chan []engine.Report) tea.Cmd {
	return func() tea.Msg {
		for {
			b, ok := <-ch
			if !ok {
				return runOverMsg{}
			}
			if len(b) > 0 {
				return reportsMsg(b)
			}
		}
	}
}

// waitReports waits for a report, then takes every other report already
// waiting, and returns them as one reportsMsg (runOverMsg once the channel
// is closed and drained).
func waitReports(ch <-chan engine.Report) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		r, ok := <-ch
		if !ok {
			return runOverMsg{}
		}
		batch := reportsMsg{r}
		for len(batch) < maxDrain {
			select {
			case r, ok := <-ch:
				if !ok {
					return batch
				}
				batch = append(batch, r)
			default:
				return batch
			}
		}
		return batch
	}
}

// waitErr waits for the run's failure.
func waitErr(ch <-chan error) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		err, ok := <-ch
		if !ok || err == nil {
			return nil
		}
		return errMsg{err: err, fromRun: true}
	}
}

// Update handles a message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = min(max(msg.Width, 0), MaxWidth), min(max(msg.Height, 0), MaxHeight)
		m.help.Width = m.width
		m.resize()
		return m, nil
	case reportsMsg:
		var preds, restarted bool
		for _, r := range msg {
			if m.run.restarts(r) {
				m.run.reset()
				restarted = true
			}
			preds = m.run.apply(r) || preds
		}
		cmd := m.broadcast(msg)
		if restarted && m.pollStopped {
			m.pollStopped = false
			cmd = tea.Batch(cmd, poll())
		}
		next := tea.Tick(frameInterval, func(time.Time) tea.Msg { return listenMsg{} })
		if preds {
			m.run.evaluating = false
		}
		return m, tea.Batch(cmd, next)
	case listenMsg:
		return m, m.listen()
	case pollMsg:
		// Nothing to change: the next frame reads Control.Paused.
		if m.run.done || m.run.over {
			m.pollStopped = true
			return m, nil
		}
		return m, poll()
	case runOverMsg:
		m.run.over = true
		return m, m.broadcast(msg)
	case predictionsMsg:
		m.run.evaluating = false
		if m.run.done || msg.runs != m.run.runs {
			// The final predictions won the race, or the snapshot is of
			// a run since restarted.
			return m, nil
		}
		m.run.setPreds(msg.preds, msg.from)
		return m, m.broadcast(msg)
	case errMsg:
		if msg.fromRun {
			m.run.err = msg.err
			return m, waitErr(m.o.Errs)
		}
		// An evaluation failed: say so until the next key; the run goes on.
		m.run.evaluating = false
		m.note, m.noteErr = msg.err.Error(), true
		return m, nil
	case savedMsg:
		m.saving = false
		if msg.err != nil {
			m.note, m.noteErr = fmt.Sprintf("save to %s failed: %v", msg.path, msg.err), true
		} else {
			m.note, m.noteErr = "saved checkpoint to "+msg.path, false
		}
		return m, nil
	case restartedMsg:
		m.restarting = false
		if msg.err != nil {
			m.note, m.noteErr = "restart failed: "+msg.err.Error(), true
		} else {
			m.note, m.noteErr = noteRestarted, false
		}
		return m, nil
	case openCellMsg:
		for i, v := range m.views {
			if b, ok := v.(*browser); ok {
				b.openCell(msg.truth, msg.pred)
				m.active = i
				m.resize()
			}
		}
		return m, nil
	case spinner.TickMsg:
		if !m.run.evaluating {
			return m, nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case tea.KeyMsg:
		return m.key(msg)
	}
	v, cmd := m.views[m.active].update(msg)
	m.views[m.active] = v
	return m, cmd
}

// broadcast hands a data message to every view.
func (m Model) broadcast(msg tea.Msg) tea.Cmd {
	cmds := make([]tea.Cmd, 0, len(m.views))
	for i, v := range m.views {
		nv, cmd := v.update(msg)
		m.views[i] = nv
		cmds = append(cmds, cmd)
	}
	return tea.Batch(cmds...)
}

// key handles a key press: the root's keys first, unless the active view is
// reading text.
func (m Model) key(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	m.note, m.noteErr = "", false
	confirm := m.confirmRestart
	m.confirmRestart = false
	if msg.String() == "ctrl+c" {
		return m, tea.Quit
	}
	active := m.views[m.active]
	if !active.typing() {
		switch {
		case key.Matches(msg, m.km.Quit):
			return m, tea.Quit
		case key.Matches(msg, m.km.Next):
			m.active = (m.active + 1) % len(m.views)
			m.resize()
			return m, nil
		case key.Matches(msg, m.km.Prev):
			m.active = (m.active + len(m.views) - 1) % len(m.views)
			m.resize()
			return m, nil
		case key.Matches(msg, m.km.Help):
			m.help.ShowAll = !m.help.ShowAll
			m.resize()
			return m, nil
		case key.Matches(msg, m.km.Pause):
			m.togglePause()
			return m, nil
		case key.Matches(msg, m.km.Eval):
			return m.startEvaluate()
		case key.Matches(msg, m.km.Save):
			return m.startSave()
		case key.Matches(msg, m.km.Restart):
			return m.startRestart(confirm)
		}
	}
	v, cmd := active.update(msg)
	m.views[m.active] = v
	return m, cmd
}

// togglePause pauses or resumes the run, or says why it cannot.
func (m *Model) togglePause() {
	c := m.o.Control
	switch {
	case m.o.ReadOnlyReason != "":
		m.note = m.o.ReadOnlyReason
	case c == nil:
		m.note = "pause is not available: " + ErrNoControl.Error()
	case m.run.done || m.run.over:
		m.note = "training is over"
	case c.Paused():
		c.Resume()
		m.note = "training resumed"
	default:
		c.Pause()
		m.note = "training paused after the current batch (p resumes)"
	}
}

// startSave writes a checkpoint of the run to Options.SavePath in the
// background (the write is atomic: a failure keeps the previous file).
func (m Model) startSave() (tea.Model, tea.Cmd) {
	sv, ok := m.o.Control.(Saver)
	switch {
	case !ok || m.o.SavePath == "" || m.o.ReadOnlyReason != "":
		m.note = "saving is not available here"
		return m, nil
	case m.saving:
		m.note = "already saving"
		return m, nil
	}
	m.saving = true
	m.note, m.noteErr = "saving to "+m.o.SavePath+"…", false
	path := m.o.SavePath
	return m, func() tea.Msg { return savedMsg{path: path, err: sv.Save(path)} }
}

// restarter returns the Control as a Restarter when this Model may restart
// the run.
func (m Model) restarter() (Restarter, bool) {
	rs, ok := m.o.Control.(Restarter)
	return rs, ok && m.o.ReadOnlyReason == ""
}

// startRestart handles the restart key: the first press asks for
// confirmation (confirm false), the second restarts the run in the
// background.
func (m Model) startRestart(confirm bool) (tea.Model, tea.Cmd) {
	rs, ok := m.restarter()
	switch {
	case m.o.ReadOnlyReason != "":
		m.note = m.o.ReadOnlyReason
		return m, nil
	case !ok:
		m.note = noteRestartNA
		return m, nil
	case m.restarting:
		m.note = "already restarting"
		return m, nil
	case !confirm:
		m.confirmRestart = true
		m.note = noteRestartConfirm
		return m, nil
	}
	m.restarting = true
	m.note = noteRestarting
	return m, func() tea.Msg { return restartedMsg{err: rs.Restart()} }
}

// startEvaluate evaluates the test set on a snapshot of the current weights.
func (m Model) startEvaluate() (tea.Model, tea.Cmd) {
	c := m.o.Control
	switch {
	case c == nil:
		m.note = "evaluation is not available: " + ErrNoControl.Error()
		return m, nil
	case m.run.done:
		m.note = "the final test predictions are already here"
		return m, nil
	case m.run.evaluating:
		m.note = "already evaluating"
		return m, nil
	}
	m.run.evaluating = true
	from := "snapshot before training"
	if r := m.run.last; m.run.started {
		from = fmt.Sprintf("snapshot at epoch %d/%d, %s step %d/%d", r.Epoch, r.Epochs, r.Phase, r.Step, r.Steps)
	}
	ctx, runs := m.ctx, m.run.runs
	eval := func() tea.Msg {
		p, err := c.Evaluate(ctx)
		if err != nil {
			return errMsg{err: fmt.Errorf("tui: evaluate test set: %w", err)}
		}
		if p == nil {
			return errMsg{err: errors.New("tui: evaluate test set: no predictions")}
		}
		return predictionsMsg{preds: p, from: from, runs: runs}
	}
	return m, tea.Batch(eval, m.spin.Tick)
}

// footer is the note or error line, if any, and the help.
func (m Model) footer() string {
	var lines []string
	switch {
	case m.run.err != nil:
		lines = append(lines, m.line(m.st.errLine, "error: "+m.run.err.Error()))
	case m.note != "" && m.noteErr:
		lines = append(lines, m.line(m.st.errLine, "error: "+m.note))
	case m.note != "":
		lines = append(lines, m.line(m.st.note, m.note))
	}
	short, full := m.views[m.active].keys()
	_, restart := m.restarter()
	hk := helpKeys{
		short: append(append([]key.Binding{}, short...), m.km.globalShort()...),
		full:  append(append([][]key.Binding{}, full...), m.km.globalFull(restart)),
	}
	for _, l := range strings.Split(m.help.View(hk), "\n") {
		lines = append(lines, ansi.Truncate(l, m.width, "…"))
	}
	return strings.Join(lines, "\n")
}

// line renders text on one line of the screen's width.
func (m Model) line(st lipgloss.Style, text string) string {
	text = strings.Join(strings.Fields(text), " ")
	return ansi.Truncate(st.Render(text), m.width, "…")
}

// resize gives the active view the space between the tab bar and footer.
func (m *Model) resize() {
	h := m.height - 1 - lipgloss.Height(m.footer())
	for _, v := range m.views {
		v.setSize(m.width, max(h, 1))
	}
}

// View draws the screen.
func (m Model) View() string {
	if m.width == 0 || m.height == 0 {
		return ""
	}
	if m.width < MinWidth || m.height < MinHeight {
		return tooSmall(m.width, m.height)
	}
	f := m.frame
	if k := m.footerKey(); k != f.footerKey || f.footer == "" {
		f.footerKey, f.footer = k, m.footer()
	}
	footer := f.footer
	bodyH := m.height - 1 - lipgloss.Height(footer)
	if k := m.tabsKey(); k != f.tabsKey || f.tabs == "" {
		f.tabsKey, f.tabs = k, m.tabs()
	}
	// The footer's height changes with notes and errors: keep the view's
	// size in step so it never draws lines that would be cut.
	v := m.views[m.active]
	v.setSize(m.width, bodyH)
	// Views return their last drawing while nothing they show changed:
	// then the fitted body and the whole frame are the last ones too.
	if body := v.View(); body != f.body || m.width != f.bodyW || bodyH != f.bodyH || f.fitted == "" {
		f.body, f.bodyW, f.bodyH = body, m.width, bodyH
		if e, ok := v.(exactView); ok && e.exactSize() {
			f.fitted = body
		} else {
			f.fitted = fit(body, m.width, bodyH)
		}
	}
	parts := [3]string{f.tabs, f.fitted, footer}
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

// footerKey is everything the footer depends on.
func (m Model) footerKey() string {
	var b strings.Builder
	if m.run.err != nil {
		b.WriteString(m.run.err.Error())
	}
	fmt.Fprintf(&b, "\x00%s\x00%t\x00%d\x00%t\x00%d", m.note, m.noteErr, m.width, m.help.ShowAll, m.active)
	short, full := m.views[m.active].keys()
	add := func(k key.Binding) {
		h := k.Help()
		fmt.Fprintf(&b, "\x00%s\x01%s\x01%t", h.Key, h.Desc, k.Enabled())
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

// tabsKey is everything the tab bar depends on.
func (m Model) tabsKey() string {
	return fmt.Sprintf("%d\x00%d\x00%s", m.width, m.active, m.status())
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

// tabs draws the tab bar with the run's state on the right.
func (m Model) tabs() string {
	parts := []string{m.st.title.Render("mnist-tui") + " "}
	for i, v := range m.views {
		if i == m.active {
			parts = append(parts, m.st.tabOn.Render("["+v.title()+"]"))
		} else {
			parts = append(parts, m.st.tabOff.Render(" "+v.title()+" "))
		}
	}
	left := strings.Join(parts, "")
	right := m.status()
	gap := m.width - width(left) - width(right)
	if gap < 1 {
		return ansi.Truncate(left+" "+right, m.width, "…")
	}
	return left + strings.Repeat(" ", gap) + right
}

// status says what the run is doing.
func (m Model) status() string {
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
	case r.over:
		s = m.st.dim.Render("no run")
	case m.o.Control != nil && m.o.Control.Paused():
		s = m.st.warn.Render("‖ paused")
	case !r.started:
		s = m.st.dim.Render("waiting for the first batch")
	default:
		s = m.st.accent.Render(fmt.Sprintf("● %s, epoch %d/%d", r.last.Phase, r.last.Epoch, r.last.Epochs))
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
