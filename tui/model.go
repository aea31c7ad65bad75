package tui

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/mnist-tui/mnist-tui/engine/runs"
	"github.com/mnist-tui/mnist-tui/tui/digit"
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

// evaluatedMsg says an evaluation of run id asked for with the evaluate
// key is over: its predictions reach every viewer through the stream.
type evaluatedMsg struct{ id runs.ID }

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

// errMsg carries the failure of an evaluation of run id (a run's failure
// comes as a state event).
type errMsg struct {
	err error
	id  runs.ID
}

// pickedMsg tells every view that another run is shown (< and >, a click
// on the runs table or the runs bar, the teacher's run in follow mode):
// the views that run the model themselves take its weights.
type pickedMsg struct{}

// pickRunMsg asks the root to show run id in the views that show one run
// (a click on the runs table or the runs bar).
type pickRunMsg struct{ id runs.ID }

// pickRun is the command of a pickRunMsg.
func pickRun(id runs.ID) tea.Cmd { return func() tea.Msg { return pickRunMsg{id: id} } }

// Model is the root Bubble Tea model: a tab bar over a list of views
// (dashboard, prediction browser, confusion matrix, gallery, replay,
// canvas, gradients, setup form), the shared state of the runs they read
// (every run's, and the run shown's), and the global keys. It keeps the
// view contract (see view):
// it routes messages, lays out the screen in Update and hands the mouse to
// the view under it. Build it with New.
type Model struct {
	o    Options
	ctx  context.Context
	st   *styles
	km   keyMap
	help help.Model
	spin spinner.Model
	// set holds every run's state; run is the selected run's (set.shown),
	// the one the views that show a single run show.
	set *runSet
	run *runState

	views  []view
	active int
	tabs   tabBar
	// bar is the runs bar (several runs, over the views of one run).
	bar *runsBar
	// lay is the screen's layout, computed in Update.
	lay screenLayout
	// capture is the view that got the last mouse press, while the button
	// is held (-1: none): the drag and the release go to it.
	capture viewID

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

	// seat is the Model's place in a classroom (Options.Class): the
	// lobby, the notices, follow mode (class.go).
	seat seat
}

// frameMemo holds the last frame and what it was drawn from.
type frameMemo struct {
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
	km.setMouse(!o.NoMouse)
	h := help.New()
	h.Styles = st.helpStyles()
	set := newRunSet()
	if o.Events == nil && o.Bursts == nil {
		set.close()
	}
	run := set.shown
	m := Model{
		o: o, ctx: ctx, st: st, km: km, help: h, set: set, run: run, frame: &frameMemo{},
		spin:    spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(st.accent)),
		tabs:    tabBar{st: st},
		bar:     &runsBar{},
		capture: -1,
	}
	w := newWeights(ctx, o.Access, run)
	m.views = []view{
		newDashboard(set, st, km, o.ASCII, o.Cache),
		newBrowser(run, st, km, o.Renderer, w),
		newConfusion(run, st, km),
		newGallery(run, st, km, o.Renderer),
		newReplay(ctx, run, st, km, w, digit.NewPainter(o.Renderer)),
		newCanvas(run, st, km, w, digit.NewPainter(o.Renderer)),
		newGradients(set, st, km),
		newSetup(set, st, km, o.Access),
	}
	m.seat = newSeat(o, set, st, km)
	return m
}

// Init starts listening for events, and every view's own commands.
func (m Model) Init() tea.Cmd {
	cmds := []tea.Cmd{m.listen(), m.seat.listen()}
	for i, v := range m.views {
		cmds = append(cmds, route(viewID(i), v.init()))
	}
	if m.o.Setup != nil {
		spec := *m.o.Setup
		cmds = append(cmds, show(kindSetup, openSetupMsg{spec: &spec, back: kindDashboard, quit: true}))
	}
	return tea.Batch(cmds...)
}

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

// Update handles a message, then lays the screen out again (see layout).
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	pre := m.beforeClass(msg)
	next, cmd := m.handle(msg)
	nm := next.(Model)
	if c := nm.afterClass(msg, pre); c != nil {
		cmd = tea.Batch(cmd, c)
	}
	nm.layout()
	return nm, cmd
}

// handle handles a message.
func (m Model) handle(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = min(max(msg.Width, 0), MaxWidth), min(max(msg.Height, 0), MaxHeight)
		m.help.Width = m.width
		return m, nil
	case eventsMsg:
		before := m.mark()
		for _, e := range msg {
			m.set.event(e)
		}
		m.noticeEvents(msg, before)
		cmd := m.broadcast(msg)
		next := after(m.ctx, frameInterval, func() tea.Msg { return listenMsg{} })
		return m, tea.Batch(cmd, next)
	case listenMsg:
		return m, m.listen()
	case runOverMsg:
		m.set.close()
		return m, m.broadcast(msg)
	case evaluatedMsg:
		if st := m.set.get(msg.id); st != nil {
			st.evaluating = false
		}
		return m, nil
	case errMsg:
		// An evaluation failed: say so until the next key; the run goes on.
		if st := m.set.get(msg.id); st != nil {
			st.evaluating = false
		}
		m.note, m.noteErr = msg.err.Error(), true
		return m, nil
	case pickRunMsg:
		m.set.pick(msg.id)
		return m, m.picked()
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
	case viewMsg:
		return m.fromView(msg)
	case showMsg:
		return m.show(msg)
	case noteMsg:
		m.note, m.noteErr = msg.text, msg.err
		return m, nil
	case spinner.TickMsg:
		if !m.run.evaluating || msg.ID != m.spin.ID() {
			return m, nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case classMsg:
		return m.classChanged()
	case classOverMsg:
		return m, nil
	case startedMsg:
		return m.started(msg)
	case tea.MouseMsg:
		if m.inLobby() {
			return m, nil
		}
		return m.mouse(tea.MouseEvent(msg))
	case tea.KeyMsg:
		return m.keys(msg)
	}
	return m, m.tell(viewID(m.active), msg)
}

// tell hands msg to view id and routes the view's commands back to it.
func (m Model) tell(id viewID, msg tea.Msg) tea.Cmd {
	v, cmd := m.views[id].update(msg)
	m.views[id] = v
	return route(id, cmd)
}

// broadcast hands a data message to every view.
func (m Model) broadcast(msg tea.Msg) tea.Cmd {
	cmds := make([]tea.Cmd, 0, len(m.views))
	for i := range m.views {
		cmds = append(cmds, m.tell(viewID(i), msg))
	}
	return tea.Batch(cmds...)
}

// fromView handles the result of a view's command: a request for the root,
// or a message for the view that started the command.
func (m Model) fromView(msg viewMsg) (tea.Model, tea.Cmd) {
	switch inner := msg.msg.(type) {
	case showMsg, noteMsg, pickRunMsg:
		return m.handle(inner)
	}
	if msg.id < 0 || int(msg.id) >= len(m.views) {
		return m, nil
	}
	return m, m.tell(msg.id, msg.msg)
}

// show makes the view of msg's kind active and hands it msg's message.
func (m Model) show(msg showMsg) (tea.Model, tea.Cmd) {
	for i, v := range m.views {
		if v.kind() != msg.kind {
			continue
		}
		cmd := m.activate(i)
		if msg.msg != nil {
			cmd = tea.Batch(cmd, m.tell(viewID(i), msg.msg))
		}
		return m, cmd
	}
	return m, nil
}

// activate makes view i the active one, telling both views.
func (m *Model) activate(i int) tea.Cmd {
	if i == m.active {
		return nil
	}
	old := m.active
	m.active = i
	m.capture = -1
	return tea.Batch(m.tell(viewID(old), hiddenMsg{}), m.tell(viewID(i), shownMsg{}))
}

// keys handles a key message. A burst of runes (Bubble Tea v1 reports
// printable keys that arrive in one read as one KeyMsg: fast typing, a
// paste, an SSH client or link coalescing keys; such a KeyMsg is named by
// all its runes, "lll", so no binding matched it and the burst was lost)
// is split into single presses, handled one after another.
func (m Model) keys(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	if msg.Type != tea.KeyRunes || len(msg.Runes) <= 1 {
		return m.key(msg)
	}
	cmds := make([]tea.Cmd, 0, len(msg.Runes))
	for _, r := range msg.Runes {
		k := msg
		// A pasted rune is a press like a typed one (a paste's KeyMsg is
		// named "[text]", which no binding matches).
		k.Runes, k.Paste = []rune{r}, false
		next, cmd := m.key(k)
		m = next.(Model)
		cmds = append(cmds, cmd)
	}
	return m, tea.Batch(cmds...)
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
	if m.help.ShowAll && key.Matches(msg, m.km.CloseHelp) {
		m.help.ShowAll = false
		return m, nil
	}
	if m.inLobby() {
		return m.lobbyKey(msg)
	}
	active := m.views[m.active]
	if !active.typing() {
		switch {
		case key.Matches(msg, m.km.Quit):
			return m, tea.Quit
		case key.Matches(msg, m.km.Next):
			return m, m.activate((m.active + 1) % len(m.views))
		case key.Matches(msg, m.km.Prev):
			return m, m.activate((m.active + len(m.views) - 1) % len(m.views))
		case key.Matches(msg, m.km.Help):
			m.help.ShowAll = !m.help.ShowAll
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
		case key.Matches(msg, m.km.Faster), key.Matches(msg, m.km.Slower):
			m.shiftPace(key.Matches(msg, m.km.Faster))
			return m, nil
		case key.Matches(msg, m.km.Step):
			m.step()
			return m, nil
		case key.Matches(msg, m.km.LRUp), key.Matches(msg, m.km.LRDown):
			factor := 2.0
			if key.Matches(msg, m.km.LRDown) {
				factor = 0.5
			}
			m.scaleLR(factor)
			return m, nil
		case key.Matches(msg, m.km.NewRun):
			return m.openSetup()
		case key.Matches(msg, m.km.Follow):
			return m.toggleFollow()
		case key.Matches(msg, m.km.PrevRun, m.km.NextRun):
			if m.set.len() < 2 {
				m.note = "there is one run: N sets up another to compare"
				return m, nil
			}
			step := 1
			if key.Matches(msg, m.km.PrevRun) {
				step = -1
			}
			m.set.step(step)
			return m, m.picked()
		}
	}
	return m, m.tell(viewID(m.active), msg)
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

// control checks that a control of kind k (named what) may act on the run
// shown now; if not it says why in the note and returns false.
func (m *Model) control(k runs.ActionKind, what string) bool {
	switch {
	case m.denied(k) != "" && m.o.Access.List != nil:
		m.note = what + ": " + m.denied(k)
	case !m.shown():
		m.note = what + " is not available: " + ErrNoControl.Error()
	case m.run.done || m.run.over || m.run.state.Finished():
		m.note = "training is over"
	case m.run.state == runs.StateQueued:
		m.note = "the run has not started"
	default:
		return true
	}
	return false
}

// shiftPace moves the run's pace one rung faster or slower, for every
// viewer.
func (m *Model) shiftPace(faster bool) {
	if !m.control(runs.ActPace, "pace") {
		return
	}
	p, err := m.o.Access.ShiftPace(m.run.id, faster)
	if err != nil {
		m.note, m.noteErr = err.Error(), !errors.Is(err, runs.ErrPaceLimit)
		return
	}
	m.note = "pace " + runs.FormatPace(p) + " for everyone (+ faster, - slower)"
}

// step trains one batch of the paused run.
func (m *Model) step() {
	if !m.control(runs.ActStep, "one batch") {
		return
	}
	if m.run.state != runs.StatePaused {
		m.note = "n trains one batch while paused: press p first"
		return
	}
	if err := m.o.Access.Step(m.run.id); err != nil {
		m.note, m.noteErr = err.Error(), true
		return
	}
	m.note = "one batch (n again for another, p resumes)"
}

// scaleLR multiplies the run's learning rate by factor.
func (m *Model) scaleLR(factor float64) {
	if !m.control(runs.ActLR, "learning rate") {
		return
	}
	prev := m.run.lr
	lr, err := m.o.Access.ScaleLR(m.run.id, factor)
	if err != nil {
		m.note, m.noteErr = err.Error(), true
		return
	}
	m.note = fmt.Sprintf("learning rate %s (was %s) from the next batch on", fmtLR(lr), fmtLR(prev))
}

// fmtLR formats a learning rate.
func fmtLR(lr float64) string { return strconv.FormatFloat(lr, 'g', 4, 64) }

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

// picked is what picking another run to show starts: the views hear of
// it (pickedMsg), and its evaluation's spinner goes on when one is under
// way (the spinner stops ticking while the run it spins for is not
// shown).
func (m Model) picked() tea.Cmd {
	cmd := m.broadcast(pickedMsg{})
	if m.run.evaluating {
		return tea.Batch(cmd, m.spin.Tick)
	}
	return cmd
}

// openSetup opens the setup form of a new run, pre-filled from the run
// shown, or says why this viewer may not.
func (m Model) openSetup() (tea.Model, tea.Cmd) {
	switch {
	case m.o.Access.List == nil:
		m.note = noteNoRuns
		return m, nil
	case !m.o.Access.Allowed(runs.ActAdd):
		m.note = m.denied(runs.ActAdd)
		return m, nil
	}
	return m, show(kindSetup, openSetupMsg{back: m.views[m.active].kind()})
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

// startEvaluate evaluates the test set on a snapshot of the current weights
// for every viewer: the predictions come back through the stream.
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
	ctx, a, id := m.ctx, m.o.Access, m.run.id
	eval := func() tea.Msg {
		p, err := a.Evaluate(ctx, id)
		if err != nil {
			return errMsg{err: fmt.Errorf("tui: evaluate test set: %w", err), id: id}
		}
		if p == nil {
			return errMsg{err: errors.New("tui: evaluate test set: no predictions"), id: id}
		}
		return evaluatedMsg{id: id}
	}
	return m, tea.Batch(eval, m.spin.Tick)
}
