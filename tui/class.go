package tui

import (
	"fmt"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/mnist-tui/mnist-tui/engine/runs"
)

// Classroom is a Model's link to the classroom it is part of (an SSH
// server's sessions, see tui/serve): whether training waits for the
// teacher (the lobby), who is connected, and the screen of the teacher
// the students follow. Options.Class sets it; without one (locally) there
// is no lobby, no notice line and no follow mode.
//
// A Model calls its methods from Update: none may block for long.
type Classroom interface {
	// Changed receives a value whenever the classroom changes (State
	// then tells something new); it is closed when the viewer has left
	// the classroom (its session ended).
	Changed() <-chan struct{}
	// State returns the classroom as it is now, as this viewer sees it.
	State() ClassState
	// Start ends the lobby: training starts, for everyone. Only a
	// teacher may; the error says why not.
	Start() error
	// Share tells the classroom what this teacher's screen shows now;
	// acted says the teacher pressed a key or clicked just before:
	// students follow the teacher who acted last. A student's share is
	// ignored.
	Share(s Screen, acted bool)
}

// ClassState is a classroom as one viewer sees it.
type ClassState struct {
	// Lobby says training waits for a teacher to start it (serve
	// --wait-for-teacher).
	Lobby bool
	// Teacher says this viewer is a teacher (an admin key): one who may
	// start training, and whose screen students follow.
	Teacher bool
	// Connected counts the sessions, Teachers the teachers among them.
	Connected, Teachers int
	// Members lists who is connected, in the order they came; teachers
	// get it, students get nil.
	Members []Member
	// Screen is the screen of the teacher the students follow: the one
	// who acted last. It is zero while no teacher has shared one.
	Screen Screen
}

// Member is someone connected to a classroom.
type Member struct {
	// User is the SSH user name, Key names the user's key: its comment
	// in the keys file, else its SHA256 fingerprint.
	User, Key string
	// Teacher says the key is an admin key.
	Teacher bool
}

// Screen is what a viewer's screen shows, as far as another viewer's can
// show the same: the view, the run shown, and the view's own part (the
// browser's digit, filters and drawing mode, the confusion matrix's cell,
// the dashboard's smoothing, the gallery's filter and page, the replay's
// digit, step and autoplay, the canvas's drawing, the run the gradients
// compare; a view adds its part by implementing sharedView). A teacher's
// Model shares its Screen with the classroom (Classroom.Share); a
// student's Model that follows the teacher applies it. Nothing of the
// run's data is in it: every viewer has that from the stream. It is a
// comparable value, safe to hand between goroutines; the zero Screen
// shows nothing.
type Screen struct {
	view viewKind
	run  runs.ID
	part any // the view's screenPart, nil when it has none
}

// IsZero reports whether s is the zero Screen.
func (s Screen) IsZero() bool { return s == Screen{} }

// String describes s, for logs and test failures.
func (s Screen) String() string {
	if s.IsZero() {
		return "no screen"
	}
	return fmt.Sprintf("view %d, run %d, %+v", s.view, s.run, s.part)
}

// sharedView is implemented by views whose state follow mode carries from
// the teacher's screen to the students'. screenPart returns the view's
// part of a Screen: a small comparable value (a struct of numbers and
// booleans, or an array: the canvas's drawing) of what it shows, never
// its data; applyPart shows a part that a view of the same kind made, and
// may return a command (the replay's autoplay ticks) whose results come
// back to the view. A view that does not implement it (the setup form) is
// not followed: a student stays where they are while the teacher is on it.
type sharedView interface {
	screenPart() any
	applyPart(p any) tea.Cmd
}

// classMsg says the classroom changed (see Classroom.Changed).
type classMsg struct{}

// classOverMsg says the viewer has left the classroom.
type classOverMsg struct{}

// startedMsg reports how the teacher's start in the lobby went.
type startedMsg struct{ err error }

// waitClass waits for the next change of the classroom.
func waitClass(ch <-chan struct{}) tea.Cmd {
	return func() tea.Msg {
		if _, ok := <-ch; !ok {
			return classOverMsg{}
		}
		return classMsg{}
	}
}

// seat is a Model's place in a classroom: the classroom as last seen,
// the lobby, the notice line, and follow mode. Without a classroom (room
// nil) it does nothing.
type seat struct {
	room  Classroom
	state ClassState
	lobby *lobby
	// following says the screen follows the teacher's; pending says the
	// teacher's screen is to be applied (it changed, or following just
	// began); applied is this Model's screen right after it last applied
	// it, so that a screen that drifted from it (new predictions
	// refiltered the browser) is set right again.
	following, pending bool
	applied            Screen
	// toggled is set by the follow key within an Update, so that turning
	// follow mode on is not taken for navigation of one's own.
	toggled bool
	// shared is what this teacher last shared.
	shared Screen
	// notice is the status line's news: the last change of the runs (an
	// action someone took, a run's end) or of the classroom (the lobby's
	// end), said until the next change. It is built from the stream's
	// events alone (noticeEvents), so a late joiner, whose stream replays
	// the history, sees the notice of the state things are in ("paused by
	// the teacher").
	notice string
}

// newSeat returns the seat of a Model of o.
func newSeat(o Options, set *runSet, st *styles, km keyMap) seat {
	s := seat{room: o.Class}
	if s.room == nil {
		return s
	}
	s.state = s.room.State()
	s.lobby = newLobby(set, st, km)
	s.following = o.Follow && !s.state.Teacher
	s.pending = s.following
	return s
}

// listen waits for the classroom's next change (nil without one).
func (s seat) listen() tea.Cmd {
	if s.room == nil {
		return nil
	}
	return waitClass(s.room.Changed())
}

// inLobby reports whether the Model shows the lobby: training waits for
// the teacher.
func (m Model) inLobby() bool { return m.seat.room != nil && m.seat.state.Lobby }

// activeView is the view on screen: the lobby, or the active tab's view.
func (m Model) activeView() view {
	if m.inLobby() {
		return m.seat.lobby
	}
	return m.views[m.active]
}

// classChanged takes in the classroom's new state: the lobby ends, the
// teacher's screen moves.
func (m Model) classChanged() (tea.Model, tea.Cmd) {
	old := m.seat.state
	m.seat.state = m.seat.room.State()
	if old.Lobby && !m.seat.state.Lobby {
		by := "the teacher"
		if m.seat.state.Teacher {
			by = "a teacher"
		}
		m.seat.notice = "training started by " + by
		m.seat.pending = m.seat.following
	}
	if m.seat.state.Screen != old.Screen {
		m.seat.pending = m.seat.following
	}
	return m, m.seat.listen()
}

// toggleFollow turns follow mode on or off, or says why it is not there.
func (m Model) toggleFollow() (tea.Model, tea.Cmd) {
	switch {
	case m.seat.room == nil:
		m.note = "follow mode is for a classroom (mnist-tui serve): here there is no teacher to follow"
	case m.seat.state.Teacher:
		m.note = "you are a teacher: students who press f follow the teacher who acted last"
	case m.seat.following:
		m.seat.following, m.seat.pending = false, false
		m.note = "you browse on your own now (f follows the teacher again)"
	default:
		m.seat.following, m.seat.pending, m.seat.toggled = true, true, true
		if m.seat.state.Screen.IsZero() {
			m.note = "no teacher has shared a screen yet: yours follows once one does"
		}
	}
	return m, nil
}

// screen is the Screen this Model shows.
func (m Model) screen() Screen {
	v := m.views[m.active]
	s := Screen{view: v.kind(), run: m.set.sel}
	if sv, ok := v.(sharedView); ok {
		s.part = sv.screenPart()
	}
	return s
}

// applyScreen shows s as far as this Model can: its run (when this Model
// has it), its view (when follow mode carries it) and the view's part.
func (m *Model) applyScreen(s Screen) tea.Cmd {
	var cmds []tea.Cmd
	if s.run != 0 && s.run != m.set.sel && m.set.get(s.run) != nil {
		m.set.pick(s.run)
		cmds = append(cmds, m.picked())
	}
	for i, v := range m.views {
		sv, ok := v.(sharedView)
		if !ok || v.kind() != s.view {
			continue
		}
		cmds = append(cmds, m.activate(i))
		if s.part != nil {
			cmds = append(cmds, route(viewID(i), sv.applyPart(s.part)))
		}
		break
	}
	return tea.Batch(cmds...)
}

// preClass is what the classroom needs to know of a message before the
// Model handles it.
type preClass struct {
	// input: a key press or a click (or wheel turn), the viewer's own.
	input bool
	// screen is the screen before an input, while following.
	screen Screen
}

// isInput reports whether msg is the viewer's own key press or mouse
// press.
func isInput(msg tea.Msg) bool {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		return true
	case tea.MouseMsg:
		return msg.Action == tea.MouseActionPress
	}
	return false
}

// isNavigation reports whether msg asks to show another view or run:
// while following, only the viewer's own keys and clicks send those.
func isNavigation(msg tea.Msg) bool {
	if v, ok := msg.(viewMsg); ok {
		msg = v.msg
	}
	switch msg.(type) {
	case showMsg, pickRunMsg:
		return true
	}
	return false
}

// beforeClass notes what afterClass needs of msg.
func (m Model) beforeClass(msg tea.Msg) preClass {
	if m.seat.room == nil {
		return preClass{}
	}
	p := preClass{input: isInput(msg)}
	if p.input && m.seat.following && !m.inLobby() {
		p.screen = m.screen()
	}
	return p
}

// afterClass does the classroom's part of an Update: a student's own
// navigation leaves follow mode; a teacher's screen is shared; a
// follower's screen takes the teacher's.
func (m *Model) afterClass(msg tea.Msg, p preClass) tea.Cmd {
	s := &m.seat
	toggled := s.toggled
	s.toggled = false
	if s.room == nil || m.inLobby() {
		return nil
	}
	// Own navigation: an own key or click that changed the screen or
	// began typing (a jump to an index), or a request for another view or
	// run (only an own key or click sends one).
	own := p.input && (m.screen() != p.screen || m.activeView().typing())
	if s.following && !toggled && (own || isNavigation(msg)) {
		s.following, s.pending = false, false
		m.note = "you browse on your own now (f follows the teacher again)"
	}
	if s.state.Teacher {
		if now := m.screen(); now != s.shared || p.input {
			s.room.Share(now, p.input)
			s.shared = now
		}
		return nil
	}
	if !s.following || s.state.Screen.IsZero() || !s.pending && m.screen() == s.applied {
		return nil
	}
	cmd := m.applyScreen(s.state.Screen)
	s.applied, s.pending = m.screen(), false
	return cmd
}

// lobbyKey handles a key in the lobby: a teacher's enter starts training;
// help, follow mode and quitting work; other keys wait for the teacher.
func (m Model) lobbyKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	switch {
	case key.Matches(msg, m.km.Quit):
		return m, tea.Quit
	case key.Matches(msg, m.km.Help):
		m.help.ShowAll = !m.help.ShowAll
	case key.Matches(msg, m.km.Follow):
		return m.toggleFollow()
	case key.Matches(msg, m.km.StartClass) && m.seat.state.Teacher:
		room := m.seat.room
		m.note = "starting training…"
		return m, func() tea.Msg { return startedMsg{err: room.Start()} }
	case key.Matches(msg, m.km.StartClass):
		m.note = "training starts when the teacher presses enter"
	case m.seat.state.Teacher:
		m.note = "nothing trains yet: press enter to start training for everyone"
	default:
		m.note = "waiting for the teacher: nothing trains yet"
	}
	return m, nil
}

// started takes the result of the teacher's start.
func (m Model) started(msg startedMsg) (tea.Model, tea.Cmd) {
	if msg.err != nil {
		m.note, m.noteErr = "start: "+msg.err.Error(), true
	} else if m.note == "starting training…" {
		m.note = ""
	}
	return m, nil
}

// classLines are the status lines of a classroom: follow mode and the
// notice, on one line when they fit, else on two; none when there is
// neither.
func (m Model) classLines() []string {
	s := m.seat
	if s.room == nil {
		return nil
	}
	var lines []string
	if s.following && !m.inLobby() {
		f := "following the teacher (f: on your own)"
		if s.state.Screen.IsZero() {
			f = "following the teacher, once one shares a screen"
		}
		lines = append(lines, f)
	}
	if s.notice != "" {
		lines = append(lines, s.notice)
	}
	if len(lines) == 2 && width(lines[0])+3+width(lines[1]) <= m.width {
		lines = []string{lines[0] + " · " + lines[1]}
	}
	return lines
}
