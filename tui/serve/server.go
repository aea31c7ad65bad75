package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	"github.com/charmbracelet/wish/ratelimiter"
	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/time/rate"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
)

// errShuttingDown and errFull are why add refuses a session.
var (
	errShuttingDown = errors.New("shutting down")
	errFull         = errors.New("server full")
)

// Server is the classroom SSH server: a list of training runs, watched by
// many viewers, each with their own dashboard. Build it with New, run it
// with Serve (or use Run, which does both).
type Server struct {
	opts     Options
	list     *runs.List
	newModel ModelFunc
	log      *log.Logger

	open   bool
	users  keySet // may watch
	admins keySet // may watch and pause
	hostFP string
	srv    *ssh.Server

	sessCtx    context.Context // cancelled at hard shutdown: kills programs
	sessCancel context.CancelFunc
	handlers   sync.WaitGroup // session handlers past the guard

	conns *conns   // open TCP connections
	ptys  sync.Map // ssh.Session -> ptyState, until its handler takes it

	room *room // the classroom: the lobby, who is connected, whom to follow

	mu       sync.Mutex
	viewers  map[*viewer]struct{}
	shutting bool
}

// New checks o, reads the key files and the host key (generating it if it
// is missing), and returns a server ready to Serve. Every problem a user
// can cause is reported here, before anything listens: no authentication
// source (ErrNoAuth), a bad authorized_keys line (ErrAuthorizedKeys, naming
// file and line), a corrupt host key (ErrHostKey).
//
// list holds the runs served: build it runs.Held, so that Serve decides
// when training starts (at once, with Options.Wait when the first viewer
// connects, with Options.WaitForTeacher when a teacher starts it from the
// lobby); Serve closes it when it shuts down. newModel builds each
// session's model; the server's plain log (connections, refusals, epochs,
// who paused or restarted what) goes to logw.
func New(o Options, list *runs.List, newModel ModelFunc, logw io.Writer) (*Server, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if list == nil || newModel == nil {
		return nil, errors.New("serve: New needs a list of runs and a ModelFunc")
	}
	if logw == nil {
		logw = io.Discard
	}
	if !o.Open && o.AuthorizedKeys == "" && o.AdminKeys == "" {
		return nil, fmt.Errorf("serve: %w: refusing to start: give --authorized-keys FILE (and/or --admin-keys FILE) to let those keys in, or --open to let anyone in", ErrNoAuth)
	}
	s := &Server{
		opts:     o,
		list:     list,
		newModel: newModel,
		log:      log.New(logw, "", log.LstdFlags),
		open:     o.Open,
		users:    keySet{},
		admins:   keySet{},
		viewers:  map[*viewer]struct{}{},
	}
	var err error
	if o.AuthorizedKeys != "" {
		if s.users, err = loadAuthorizedKeys(o.AuthorizedKeys); err != nil {
			return nil, err
		}
	}
	if o.AdminKeys != "" {
		if s.admins, err = loadAuthorizedKeys(o.AdminKeys); err != nil {
			return nil, err
		}
	}
	signer, created, err := loadOrCreateHostKey(o.HostKey)
	if err != nil {
		return nil, err
	}
	s.hostFP = fingerprint(signer.PublicKey())
	s.room = newRoom(list, s.logf, o.WaitForTeacher)
	if created {
		s.logf("generated host key %s (%s)", o.HostKey, s.hostFP)
	}

	s.conns = &conns{max: s.maxConns(), maxPending: o.MaxSessions + 16, timeout: o.HandshakeTimeout, logf: s.logf}
	limiter := ratelimiter.NewRateLimiter(rate.Limit(o.Rate), o.Burst, 4096)
	sopts := []ssh.Option{
		wish.WithAddress(o.Addr),
		func(srv *ssh.Server) error { srv.AddHostKey(signer); return nil },
		wish.WithPublicKeyAuth(s.allowKey),
		// Keyboard-interactive comes after public keys: with --open it lets
		// clients without a key in; otherwise it is how a refused client
		// is told, in one line, how to get in.
		wish.WithKeyboardInteractiveAuth(s.keyboardInteractive),
		wish.WithIdleTimeout(o.IdleTimeout),
		wish.WithMaxTimeout(o.MaxSessionTime),
		wish.WithSubsystem("default", func(sess ssh.Session) {
			s.logf("refused %s: subsystem %s", who(sess), quote(sess.Subsystem()))
			refuse(sess, msgSubsystem)
		}),
		// Middlewares run last to first: clamp terminal sizes, log,
		// rate-limit, refuse commands, require a PTY, admit (session cap,
		// state), then Bubble Tea.
		wish.WithMiddleware(
			s.runProgram,
			s.guard,
			s.requirePTY,
			s.noCommands,
			s.rateLimit(limiter),
			s.logSessions,
			s.clampSizes,
		),
		func(srv *ssh.Server) error {
			// Only session channels; port forwarding (direct-tcpip) and any
			// other channel type is rejected with a message. Forwarding
			// requests (tcpip-forward) have no handler and are refused.
			srv.ChannelHandlers = map[string]ssh.ChannelHandler{
				"session": ssh.DefaultSessionHandler,
				"default": rejectChannel,
			}
			srv.SessionRequestCallback = s.notePty
			srv.ConnCallback = func(ctx ssh.Context, c net.Conn) net.Conn {
				tc := s.conns.admit(c)
				if tc == nil {
					return nil // the server closes it
				}
				ctx.SetValue(connKey{}, tc)
				return tc
			}
			srv.ConnectionFailedCallback = func(c net.Conn, err error) {
				s.logf("connection from %s failed: %s", c.RemoteAddr(), quote(err.Error()))
			}
			return nil
		},
	}
	if s.srv, err = wish.NewServer(sopts...); err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	s.sessCtx, s.sessCancel = context.WithCancel(context.Background())
	return s, nil
}

// maxConns is how many TCP connections may be open at once, handshakes
// included: enough for a full room reconnecting, few enough that a flood of
// half-open connections cannot exhaust the server (and those are evicted
// for new ones, see conns).
func (s *Server) maxConns() int { return 2*s.opts.MaxSessions + 16 }

// rejectChannel rejects every channel type but sessions.
func rejectChannel(_ *ssh.Server, _ *gossh.ServerConn, ch gossh.NewChannel, _ ssh.Context) {
	_ = ch.Reject(gossh.Prohibited, "mnist-tui: port forwarding and "+ch.ChannelType()+" channels are not allowed")
}

// noCommands refuses exec requests (ssh host some-command).
func (s *Server) noCommands(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		if sess.RawCommand() != "" {
			s.logf("refused %s: exec %s", who(sess), quote(sess.RawCommand()))
			refuse(sess, msgExec)
			return
		}
		next(sess)
	}
}

// logf writes one line to the server's log.
func (s *Server) logf(format string, a ...any) { s.log.Printf(format, a...) }

// HostKeyFingerprint returns the SHA256 fingerprint of the server's host
// key, as ssh shows it to clients.
func (s *Server) HostKeyFingerprint() string { return s.hostFP }

// List returns the runs the server serves.
func (s *Server) List() *runs.List { return s.list }

// Sessions reports how many sessions have a dashboard.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.viewers)
}

// add admits v, returning how many sessions there are with it; when it is
// refused, n is -1 while shutting down and the session count when full.
// Admins are never refused because the room is full.
func (s *Server) add(v *viewer) (n int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutting {
		return -1, errShuttingDown
	}
	if !v.admin && len(s.viewers) >= s.opts.MaxSessions {
		return len(s.viewers), fmt.Errorf("%w (%d sessions)", errFull, len(s.viewers))
	}
	s.viewers[v] = struct{}{}
	s.handlers.Add(1)
	return len(s.viewers), nil
}

// remove forgets v once its session is over.
func (s *Server) remove(v *viewer) {
	s.mu.Lock()
	delete(s.viewers, v)
	n := len(s.viewers)
	s.mu.Unlock()
	s.logf("session ended %s (%d/%d)", who(v.sess), n, s.opts.MaxSessions)
	s.handlers.Done()
}

// setProgram records v's program so shutdown can quit it; it reports false
// when the server is already shutting down.
func (s *Server) setProgram(v *viewer, p *tea.Program) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutting {
		return false
	}
	v.prog = p
	return true
}

// closing reports whether the server is shutting down.
func (s *Server) closing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shutting
}

// logEvents writes the runs' starts, phase ends, ends and failures, and
// every control action with who took it, to the log.
func (s *Server) logEvents(sub *runs.Subscription) {
	for e := range sub.Events() {
		switch e.Kind {
		case runs.KindStart:
			s.logf("training started: run %d (%s)", e.Run, describe(e.Info))
		case runs.KindState:
			switch e.State {
			case runs.StateFailed:
				s.logf("training failed: run %d: %v", e.Run, e.Err)
			case runs.StateStopped:
				s.logf("training stopped: run %d", e.Run)
			}
		case runs.KindAction:
			if d := e.Action.Detail; d != "" {
				s.logf("%s by %s (run %d): %s", e.Action.Kind, e.Action.Actor, e.Run, d)
			} else {
				s.logf("%s by %s (run %d)", e.Action.Kind, e.Action.Actor, e.Run)
			}
		case runs.KindReport:
			r := e.Report
			switch {
			case r.Kind == engine.KindPhaseEnd && r.Phase != engine.PhaseTest:
				s.logf("run %d epoch %d/%d %s: loss %.4f acc %.4f (%d samples, %.0f samples/s, %s)",
					e.Run, r.Epoch, r.Epochs, r.Phase, r.Loss, r.Acc, r.Total, r.SamplesPerSec, r.Elapsed.Round(time.Millisecond))
			case r.Kind == engine.KindDone:
				s.logf("run %d done: test loss %.4f acc %.4f (%d samples, %.0f samples/s, %s)",
					e.Run, r.Loss, r.Acc, r.Total, r.SamplesPerSec, r.Elapsed.Round(time.Millisecond))
			}
		}
	}
}

// describe sums a run up for the log.
func describe(info *runs.Info) string {
	if info == nil {
		return "?"
	}
	sp := info.Spec
	return fmt.Sprintf("%s, hidden %d, lr %g, batch %d, %d epochs, seed %d, %s", sp.Cell.Title(), sp.Hidden, sp.LR, sp.Batch, sp.Epochs, sp.Seed, info.Data.Name)
}

// Serve accepts viewers on ln until ctx is cancelled, then shuts down
// gracefully: new sessions are refused, every session is asked to quit,
// training is stopped, and connections still open after
// Options.ShutdownTimeout are closed. It returns once every goroutine it
// started has ended and the list is closed (or, at the latest,
// shutdownGrace after the connections were closed), with the runs'
// failures if any.
// Training starts at once, unless Options.Wait (with the first viewer) or
// Options.WaitForTeacher (when a teacher presses enter in the lobby) is
// set.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.logf("listening on %s; host key %s", ln.Addr(), s.hostFP)
	if s.open {
		s.logf("WARNING: --open: anyone who can reach %s can watch", ln.Addr())
	}
	logSub := s.list.Subscribe()
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		s.logEvents(logSub)
	}()

	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(ln) }()
	switch {
	case s.opts.WaitForTeacher:
		s.logf("training starts when a teacher presses enter in the lobby")
	case s.opts.Wait:
		s.logf("training starts when the first viewer connects")
	default:
		s.list.Release()
	}

	var serveErr error
	served := false
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
		served = true
	}
	s.shutdown()
	if !served {
		serveErr = <-errc
	}
	// The log's subscription ends by itself once the closed list's history
	// is delivered (the runs' stops included); it is cut off only if the
	// list did not close within shutdown's grace.
	select {
	case <-logDone:
	case <-time.After(shutdownGrace):
		s.logf("shutdown: the log's events still pending %v after shutdown; stopping without them", shutdownGrace)
	}
	logSub.Close()
	<-logDone
	if serveErr != nil && !errors.Is(serveErr, ssh.ErrServerClosed) {
		return fmt.Errorf("serve: %w", serveErr)
	}
	if err := s.list.Err(); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// shutdown stops everything Serve started.
func (s *Server) shutdown() {
	s.mu.Lock()
	s.shutting = true
	var progs []*tea.Program
	for v := range s.viewers {
		if v.prog != nil {
			progs = append(progs, v.prog)
		}
	}
	n := len(s.viewers)
	s.mu.Unlock()
	s.logf("shutting down (%d sessions)", n)

	// Closing the list stops training and ends every session's stream; it
	// returns once the runs have stopped (and saved), which is waited for
	// below, a bounded time.
	listClosed := make(chan struct{})
	go func() {
		defer close(listClosed)
		s.list.Close()
	}()
	s.conns.closePending()
	var quits sync.WaitGroup
	for _, p := range progs {
		quits.Add(1)
		go func() {
			defer quits.Done()
			p.Quit() // returns once the program took it or has ended
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err == nil {
		err = waitCtx(ctx, wgDone(&s.handlers))
	}
	if err != nil {
		s.logf("shutdown: %v; closing the remaining connections", err)
		s.sessCancel()
		_ = s.srv.Close()
	}
	s.sessCancel()
	// Every program is now killed and every connection closed: what is
	// left ends at once, or within a training batch. The wait is bounded
	// all the same, so that shutdown always completes.
	grace, cancelGrace := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancelGrace()
	for _, done := range []<-chan struct{}{wgDone(&quits), wgDone(&s.handlers), listClosed} {
		if err := waitCtx(grace, done); err != nil {
			s.logf("shutdown: sessions or training still running %v after the connections were closed; stopping without them", shutdownGrace)
			break
		}
	}
	s.logf("stopped")
}

// shutdownGrace bounds how long shutdown waits, after closing every
// connection, for the sessions' programs to end and the list to close (its
// runs stopped within a batch, and saved).
const shutdownGrace = 2 * time.Second

// Run serves the classroom on o.Addr until ctx is cancelled: New, then
// Listen, then Serve. This is what `mnist-tui serve` calls.
func Run(ctx context.Context, o Options, list *runs.List, newModel ModelFunc, logw io.Writer) error {
	s, err := New(o, list, newModel, logw)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return s.Serve(ctx, ln)
}

// waitCtx waits until done is closed, or ctx is done.
func waitCtx(ctx context.Context, done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wgDone returns a channel closed once wg's count is zero.
func wgDone(wg *sync.WaitGroup) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	return done
}
