package serve

import (
	"context"
	"fmt"
	"runtime/debug"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	bm "github.com/charmbracelet/wish/bubbletea"
	"github.com/charmbracelet/wish/ratelimiter"

	"github.com/mnist-tui/mnist-tui/engine/runs"
	"github.com/mnist-tui/mnist-tui/tui"
)

// ReadOnlyReason is what a viewer without an admin key is told when they
// try to pause, resume, pace, step, retune (the learning rate) or restart
// a run, or to set one up (N).
const ReadOnlyReason = "only the teacher (an admin key) can control or start runs"

// Session is what the server hands a ModelFunc to build one viewer's model.
type Session struct {
	// Context is cancelled when the session ends; evaluations the session
	// starts should use it.
	Context context.Context
	// Renderer is the session's own Lip Gloss renderer (its client's colour
	// profile).
	Renderer *lipgloss.Renderer
	// Access is the session's handle on the runs: admins may pause,
	// resume, pace, step and retune runs and start them (restart, add,
	// replace); other viewers watch and evaluate (for everyone), and are
	// refused with ReadOnlyReason. Its Actor names
	// the SSH user, key fingerprint and address.
	Access runs.Access
	// User is the SSH user name, Admin whether the key is an admin key.
	User  string
	Admin bool
	// Width and Height are the terminal's size at connection time.
	Width, Height int
	// Mouse says the session's program reports the mouse (Options.NoMouse
	// unset): tui.Options.NoMouse is its opposite.
	Mouse bool
	// Class is the session's place in the classroom, for tui.Options.Class:
	// the lobby (Options.WaitForTeacher), who is connected, the screen of
	// the teacher to follow. Follow says a student starts following the
	// teacher (Options.Follow); tui.Options.Follow takes it.
	Class  tui.Classroom
	Follow bool

	// sub is the session's subscription to the list, every Refresh.
	sub *runs.Subscription
}

// Events returns the list's stream for this session: the history of every
// run first, then every change, woken at most every Options.Refresh; it is
// closed when the server shuts down. A model reads either Events or
// Bursts: the first called decides. It returns nil for a Session not made
// by a Server.
func (s Session) Events() <-chan runs.Event {
	if s.sub == nil {
		return nil
	}
	return s.sub.Events()
}

// Bursts returns the list's stream as bursts: each receive is every event
// of one refresh, the same for every session (see
// runs.Hub.SubscribeEvery), so sessions can share drawings. It returns nil
// for a Session not made by a Server.
func (s Session) Bursts() <-chan []runs.Event {
	if s.sub == nil {
		return nil
	}
	return s.sub.Bursts()
}

// ModelFunc builds one session's model. It is called once per session, from
// that session's goroutine.
type ModelFunc func(s Session) tea.Model

// Messages shown to refused clients, one line each.
const (
	msgExec      = "mnist-tui: commands are not supported: connect without one (ssh -t host)"
	msgSubsystem = "mnist-tui: subsystems (sftp, ...) are not supported"
	msgShutdown  = "mnist-tui: the server is shutting down"
	msgPanic     = "mnist-tui: this session hit an internal error and was closed; the run goes on, reconnect to watch it"
	msgNoPTY     = "mnist-tui: needs a terminal: connect with plain ssh (or ssh -t host), without a command"
	msgRate      = "mnist-tui: too many new sessions from your address (rate limit); try again in a few seconds"
)

// msgFull is the message a client gets when the server is full.
func msgFull(n int) string {
	return fmt.Sprintf("mnist-tui: server full (%d sessions), try again later", n)
}

// sessionKey keys a session's state in its ssh.Context.
type sessionKey struct{}

// viewer is the server's state for one session.
type viewer struct {
	sess   ssh.Session
	admin  bool
	sub    *runs.Subscription
	member *member      // its place in the room
	prog   *tea.Program // set by programHandler, read by shutdown, under s.mu
}

// refuse prints msg on the client's stderr and ends the session with
// status 1.
func refuse(sess ssh.Session, msg string) {
	wish.Fatalln(sess, msg)
}

// guard is the middleware that admits a session (commands and PTY-less
// sessions were refused before it): it enforces the session cap, starts the
// run if it waits for a first viewer, sets up the session's state for
// programHandler, and tears it down after.
func (s *Server) guard(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		admin := s.admins.has(sess.PublicKey())
		who := fmt.Sprintf("%s admin=%t", who(sess), admin)
		v := &viewer{sess: sess, admin: admin}
		n, err := s.add(v)
		if err != nil {
			s.logf("refused %s: %v", who, err)
			if n < 0 {
				refuse(sess, msgShutdown)
			} else {
				refuse(sess, msgFull(s.opts.MaxSessions))
			}
			return
		}
		defer s.remove(v)
		markEstablished(sess.Context()) // no longer subject to the handshake timeout
		s.logf("session %s (%d/%d)", who, n, s.opts.MaxSessions)
		if !s.opts.WaitForTeacher {
			s.list.Release() // with Wait, the first viewer starts training
		}
		v.sub = s.list.SubscribeEvery(s.opts.Refresh)
		defer v.sub.Close()
		v.member = s.room.join(sess.User(), s.keyComment(sess.PublicKey()), fingerprint(sess.PublicKey()), who, admin)
		defer s.room.leave(v.member)
		sess.Context().SetValue(sessionKey{}, v)
		next(sess)
		if s.closing() {
			wish.Println(sess, msgShutdown+"\r")
		}
	}
}

// programHandler builds the session's Bubble Tea program around the model
// from the server's ModelFunc, under ctx (cancelling it kills the program).
func (s *Server) programHandler(ctx context.Context, sess ssh.Session) *tea.Program {
	v, ok := sess.Context().Value(sessionKey{}).(*viewer)
	if !ok {
		return nil
	}
	pty, _, _ := sess.Pty() // clamped by clampSizes
	access := runs.Access{
		List:   s.list,
		Actor:  runs.Actor{User: sess.User(), Key: fingerprint(sess.PublicKey()), Addr: sess.RemoteAddr().String()},
		Reason: ReadOnlyReason,
	}
	if v.admin {
		access.Caps = runs.Caps{Pause: true, StartRuns: true}
		access.Reason = ""
	}
	info := Session{
		Context:  sess.Context(),
		Renderer: sessionRenderer(sess),
		Access:   access,
		sub:      v.sub,
		User:     sess.User(),
		Admin:    v.admin,
		Width:    pty.Window.Width,
		Height:   pty.Window.Height,
		Mouse:    !s.opts.NoMouse,
		Class:    v.member,
		Follow:   s.opts.Follow && !v.admin,
	}
	m := &safeModel{
		build: func() tea.Model { return s.newModel(info) },
		onFail: func(r any, stack []byte) {
			s.logf("panic in session %s: %v\n%s", who(sess), r, stack)
		},
	}
	opts := append(bm.MakeOptions(sess),
		tea.WithFPS(s.opts.FPS),
		tea.WithAltScreen(),
		tea.WithoutSignalHandler(),
		tea.WithContext(ctx),
	)
	if info.Mouse {
		opts = append(opts, tui.MouseOption())
	}
	p := tea.NewProgram(m, opts...)
	m.quit = p.Quit
	if !s.setProgram(v, p) {
		return nil // shutting down
	}
	return p
}

// runProgram is the innermost middleware: it runs the session's Bubble Tea
// program (it stands in for wish's bubbletea middleware). Terminal sizes
// come clamped (see clampSizes). The program is killed, whatever it is
// doing, when the client goes away (its session channel or connection
// closes) or when shutdown closes every connection.
func (s *Server) runProgram(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		_, winch, ok := sess.Pty()
		if !ok {
			next(sess)
			return
		}
		ctx, cancel := context.WithCancel(s.sessCtx)
		defer cancel()
		stop := context.AfterFunc(sess.Context(), cancel)
		defer stop()
		p := s.programHandler(ctx, sess)
		if p == nil {
			next(sess)
			return
		}
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case win, ok := <-winch:
					if !ok {
						cancel() // the client closed the session
						return
					}
					p.Send(tea.WindowSizeMsg{Width: win.Width, Height: win.Height})
				}
			}
		}()
		if _, err := p.Run(); err != nil && ctx.Err() == nil {
			s.logf("session %s: %v", who(sess), err)
		}
		cancel()
		next(sess)
	}
}

// requirePTY refuses sessions without a terminal.
func (s *Server) requirePTY(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		if _, _, ok := sess.Pty(); !ok {
			s.logf("refused %s: no PTY", who(sess))
			refuse(sess, msgNoPTY)
			return
		}
		next(sess)
	}
}

// rateLimit refuses new sessions from an address past the limiter's rate;
// admins are never limited.
func (s *Server) rateLimit(l ratelimiter.RateLimiter) func(ssh.Handler) ssh.Handler {
	return func(next ssh.Handler) ssh.Handler {
		return func(sess ssh.Session) {
			if !s.admins.has(sess.PublicKey()) {
				if err := l.Allow(sess); err != nil {
					s.logf("refused %s: rate limit (%g new sessions a second after a burst of %d)", who(sess), s.opts.Rate, s.opts.Burst)
					refuse(sess, msgRate)
					return
				}
			}
			next(sess)
		}
	}
}

// safeModel wraps a session's model so that a panic in its construction,
// Init, Update or View ends that session only, with a message, instead of
// the whole server. (Bubble Tea itself recovers panics in commands.)
type safeModel struct {
	build  func() tea.Model
	inner  tea.Model
	failed bool
	onFail func(r any, stack []byte)
	// quit ends the program from outside the event loop (View cannot
	// return a command).
	quit func()
}

var _ tea.Model = (*safeModel)(nil)

// fail records a recovered panic and returns the command that ends the
// session.
func (m *safeModel) fail(r any) tea.Cmd {
	m.failed = true
	m.onFail(r, debug.Stack())
	return tea.Quit
}

// Init builds the inner model and runs its Init.
func (m *safeModel) Init() (cmd tea.Cmd) {
	defer func() {
		if r := recover(); r != nil {
			cmd = m.fail(r)
		}
	}()
	m.inner = m.build()
	return m.inner.Init()
}

// Update forwards msg to the inner model.
func (m *safeModel) Update(msg tea.Msg) (out tea.Model, cmd tea.Cmd) {
	if m.failed || m.inner == nil {
		return m, nil
	}
	defer func() {
		if r := recover(); r != nil {
			out, cmd = m, m.fail(r)
		}
	}()
	m.inner, cmd = m.inner.Update(msg)
	return m, cmd
}

// View renders the inner model, or the failure message.
func (m *safeModel) View() (view string) {
	if m.failed || m.inner == nil {
		if m.failed {
			return msgPanic + "\n"
		}
		return ""
	}
	defer func() {
		if r := recover(); r != nil {
			m.failed = true
			m.onFail(r, debug.Stack())
			if m.quit != nil {
				go m.quit()
			}
			view = msgPanic + "\n"
		}
	}()
	return m.inner.View()
}
