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
	"github.com/mnist-tui/mnist-tui/engine/runs"
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

// ErrNoControl is what the pause and evaluate keys report when no run is
// shown.
var ErrNoControl = errors.New("no training run attached")

// eventsMsg carries every event that was waiting on the stream, oldest
// first.
type eventsMsg []runs.Event

// runOverMsg says the stream was closed: the list is closed.
type runOverMsg struct{}

// listenMsg says a frame interval has passed: wait for events again.
type listenMsg struct{}

// predictionsMsg carries an evaluation of the test set on a snapshot.
type predictionsMsg struct {
	preds *engine.Predictions
	from  string
	// id and gen are the run and attempt evaluated: predictions of a run
	// no longer shown, or since restarted, are dropped.
	id  runs.ID
	gen int
}

// savedMsg reports a checkpoint written by the save key (err nil) or not.
type savedMsg struct {
	path string
	err  error
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
	run := newRunState(nil)
	if o.Events == nil && o.Bursts == nil {
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

// Init starts listening for events.
func (m Model) Init() tea.Cmd { return m.listen() }

// listen waits for the next events from Bursts or Events.
func (m Model) listen() tea.Cmd {
	if m.o.Bursts != nil {
		return waitBurst(m.o.Bursts)
	}
	return waitEvents(m.o.Events)
}

// waitBurst waits for a burst of events and returns it as one eventsMsg
// (runOverMsg once the channel is closed).
func waitBurst(ch <-chan []runs.Event) tea.Cmd {
	return func() tea.Msg {
		for {
			b, ok := <-ch
			if !ok {
				return runOverMsg{}
			}
			if len(b) > 0 {
				return eventsMsg(b)
			}
		}
	}
}

// waitEvents waits for an event, then takes every other event already
// waiting, and returns them as one eventsMsg (runOverMsg once the channel
// is closed and drained).
func waitEvents(ch <-chan runs.Event) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		r, ok := <-ch
		if !ok {
			return runOverMsg{}
		}
		batch := eventsMsg{r}
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

// Update handles a message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.Width = msg.Width
		m.resize()
		return m, nil
	case eventsMsg:
		preds := false
		for _, e := range msg {
			preds = m.event(e) || preds
		}
		cmd := m.broadcast(msg)
		next := tea.Tick(frameInterval, func(time.Time) tea.Msg { return listenMsg{} })
		if preds {
			m.run.evaluating = false
		}
		return m, tea.Batch(cmd, next)
	case listenMsg:
		return m, m.listen()
	case runOverMsg:
		m.run.over = true
		return m, m.broadcast(msg)
	case predictionsMsg:
		m.run.evaluating = false
		if m.run.done || msg.id != m.run.id || msg.gen != m.run.gen {
			// The final predictions won the race, or the snapshot is of
			// a run since restarted or no longer shown.
			return m, nil
		}
		m.run.setPreds(msg.preds, msg.from)
		return m, m.broadcast(msg)
	case errMsg:
		if msg.fromRun {
			m.run.err = msg.err
			return m, nil
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

// event folds one event of the stream into the state of the run shown,
// and reports whether it brought predictions. The run shown is the one
// whose attempt started last (the one training, in a queue); until one
// starts, the first run added. A greater Gen of the run shown starts its
// state over (a restart): nothing is inferred from counters.
func (m *Model) event(e runs.Event) bool {
	r := m.run
	switch e.Kind {
	case runs.KindAdded:
		if r.info == nil || (r.id == 0) {
			r.reset(e.Info, e.Gen)
			r.state = runs.StateQueued
		}
		return false
	case runs.KindRemoved:
		if e.Run == r.id {
			r.reset(nil, 0)
			r.state = 0
		}
		return false
	case runs.KindStart:
		if e.Run != r.id || e.Gen != r.gen || r.started || r.done {
			r.reset(e.Info, e.Gen)
		}
		r.info, r.state = e.Info, runs.StateRunning
		return false
	}
	if e.Run != r.id || e.Gen < r.gen {
		return false // another run's, or a stale attempt's
	}
	if e.Gen > r.gen {
		r.reset(r.info, e.Gen)
	}
	switch e.Kind {
	case runs.KindState:
		r.state = e.State
		if e.State == runs.StateFailed {
			r.err = e.Err
		} else if e.State == runs.StateQueued || e.State == runs.StateRunning {
			r.err = nil
		}
	case runs.KindReport:
		return r.apply(e.Report)
	}
	return false
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

// shown reports whether a run is shown whose controls the keys can use.
func (m Model) shown() bool { return m.o.Access.List != nil && m.run.id != 0 }

// denied returns the note for a control the viewer may not use, or "".
func (m Model) denied(k runs.ActionKind) string {
	if m.o.Access.Allowed(k) {
		return ""
	}
	return (&runs.DeniedError{Action: k, Reason: m.o.Access.Reason}).Error()
}

// togglePause pauses or resumes the run, or says why it cannot.
func (m *Model) togglePause() {
	a, id := m.o.Access, m.run.id
	paused := m.run.state == runs.StatePaused
	switch {
	case m.denied(runs.ActPause) != "":
		m.note = m.denied(runs.ActPause)
	case !m.shown():
		m.note = "pause is not available: " + ErrNoControl.Error()
	case m.run.done || m.run.over || m.run.state.Finished():
		m.note = "training is over"
	case paused:
		if err := a.Resume(id); err != nil {
			m.note, m.noteErr = err.Error(), true
			return
		}
		m.run.state = runs.StateRunning
		m.note = "training resumed"
	default:
		if err := a.Pause(id); err != nil {
			m.note, m.noteErr = err.Error(), true
			return
		}
		m.run.state = runs.StatePaused
		m.note = "training paused after the current batch (p resumes)"
	}
}

// startSave writes a checkpoint of the run to its spec's save path in the
// background (the write is atomic: a failure keeps the previous file).
func (m Model) startSave() (tea.Model, tea.Cmd) {
	switch {
	case !m.shown() || !m.o.Access.Allowed(runs.ActSave):
		m.note = "saving is not available here"
		return m, nil
	case m.saving:
		m.note = "already saving"
		return m, nil
	}
	m.saving = true
	path := m.run.info.Spec.SavePath()
	m.note, m.noteErr = "saving to "+path+"…", false
	a, id := m.o.Access, m.run.id
	return m, func() tea.Msg {
		_, err := a.Save(id, path)
		return savedMsg{path: path, err: err}
	}
}

// canRestart reports whether this Model may restart the run.
func (m Model) canRestart() bool { return m.o.Access.Allowed(runs.ActRestart) }

// startRestart handles the restart key: the first press asks for
// confirmation (confirm false), the second restarts the run in the
// background.
func (m Model) startRestart(confirm bool) (tea.Model, tea.Cmd) {
	switch {
	case m.o.Access.List != nil && m.denied(runs.ActRestart) != "" && m.o.Access.Reason != "":
		m.note = m.o.Access.Reason
		return m, nil
	case !m.canRestart() || !m.shown():
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
	a, id := m.o.Access, m.run.id
	return m, func() tea.Msg { return restartedMsg{err: a.Restart(id)} }
}

// startEvaluate evaluates the test set on a snapshot of the current weights.
func (m Model) startEvaluate() (tea.Model, tea.Cmd) {
	switch {
	case !m.shown():
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
	ctx, a, id, gen := m.ctx, m.o.Access, m.run.id, m.run.gen
	eval := func() tea.Msg {
		p, err := a.Evaluate(ctx, id)
		if err != nil {
			return errMsg{err: fmt.Errorf("tui: evaluate test set: %w", err)}
		}
		if p == nil {
			return errMsg{err: errors.New("tui: evaluate test set: no predictions")}
		}
		return predictionsMsg{preds: p, from: from, id: id, gen: gen}
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
	restart := m.canRestart()
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
	case r.over || r.id == 0:
		s = m.st.dim.Render("no run")
	case r.state == runs.StatePaused:
		s = m.st.warn.Render("‖ paused")
	case r.state == runs.StateStopped:
		s = m.st.warn.Render("■ stopped")
	case r.state == runs.StateQueued:
		s = m.st.dim.Render("queued")
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
