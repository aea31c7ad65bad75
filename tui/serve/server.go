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
)

// errShuttingDown and errFull are why add refuses a session.
var (
	errShuttingDown = errors.New("shutting down")
	errFull         = errors.New("server full")
)

// Server is the classroom SSH server: one shared training run, watched by
// many viewers, each with their own dashboard. Build it with New, run it
// with Serve (or use Run, which does both).
type Server struct {
	opts     Options
	start    StartFunc
	newModel ModelFunc
	log      *log.Logger

	hub    *Hub
	shared *shared
	open   bool
	users  keySet // may watch
	admins keySet // may watch and pause
	hostFP string
	srv    *ssh.Server

	runCtx     context.Context // cancelled at shutdown: stops training
	runCancel  context.CancelFunc
	sessCtx    context.Context // cancelled at hard shutdown: kills programs
	sessCancel context.CancelFunc
	runWG      sync.WaitGroup // the training goroutine and restarts under way
	handlers   sync.WaitGroup // session handlers past the guard
	restartMu  sync.Mutex     // serialises restarts

	conns *conns   // open TCP connections
	ptys  sync.Map // ssh.Session -> ptyState, until its handler takes it

	mu       sync.Mutex
	viewers  map[*viewer]struct{}
	shutting bool
	started  bool
	err      error      // the run's failure
	cur      *runHandle // the current run, once started
}

// runHandle is one run of the StartFunc's: restart cancels it and waits for
// its goroutine to end.
type runHandle struct {
	cancel context.CancelFunc
	done   chan struct{} // closed when the run has ended (or failed to start)
}

// New checks o, reads the key files and the host key (generating it if it
// is missing), and returns a server ready to Serve. Every problem a user
// can cause is reported here, before anything listens: no authentication
// source (ErrNoAuth), a bad authorized_keys line (ErrAuthorizedKeys, naming
// file and line), a corrupt host key (ErrHostKey).
//
// start builds the shared run; newModel builds each session's model; the
// server's plain log (connections, refusals, epochs) goes to logw.
func New(o Options, start StartFunc, newModel ModelFunc, logw io.Writer) (*Server, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if start == nil || newModel == nil {
		return nil, errors.New("serve: New needs a StartFunc and a ModelFunc")
	}
	if logw == nil {
		logw = io.Discard
	}
	if !o.Open && o.AuthorizedKeys == "" && o.AdminKeys == "" {
		return nil, fmt.Errorf("serve: %w: refusing to start: give --authorized-keys FILE (and/or --admin-keys FILE) to let those keys in, or --open to let anyone in", ErrNoAuth)
	}
	s := &Server{
		opts:     o,
		start:    start,
		newModel: newModel,
		log:      log.New(logw, "", log.LstdFlags),
		hub:      NewHub(),
		open:     o.Open,
		users:    keySet{},
		admins:   keySet{},
		viewers:  map[*viewer]struct{}{},
	}
	s.shared = newShared(s.hub)
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
	s.runCtx, s.runCancel = context.WithCancel(context.Background())
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

// Hub returns the hub that fans the run's reports out.
func (s *Server) Hub() *Hub { return s.hub }

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
	close(v.errs) // ends the model's wait for a failure
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

// runErr returns the run's failure, if any.
func (s *Server) runErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// fail records the run's failure and tells every session.
func (s *Server) fail(err error) {
	s.logf("training failed: %v", err)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
	for v := range s.viewers {
		select {
		case v.errs <- err:
		default:
		}
	}
}

// startRun starts the shared training run, once.
func (s *Server) startRun() {
	s.mu.Lock()
	if s.started || s.shutting {
		s.mu.Unlock()
		return
	}
	s.started = true
	s.mu.Unlock()
	_ = s.launch() // a failure reaches the sessions through fail
}

// launch builds a run with the StartFunc and runs it in its own goroutine,
// under a context of its own that a restart cancels (as does shutdown). A
// failure to build it is reported to every session and returned.
//
// The Hub is not closed when a run ends (or fails): sessions keep their
// subscriptions, so that a restart reaches every viewer; shutdown closes it.
func (s *Server) launch() error {
	ctx, cancel := context.WithCancel(s.runCtx)
	h := &runHandle{cancel: cancel, done: make(chan struct{})}
	s.mu.Lock()
	if s.shutting {
		s.mu.Unlock()
		cancel()
		return fmt.Errorf("serve: start training: %w", errShuttingDown)
	}
	s.cur = h
	s.runWG.Add(1)
	s.mu.Unlock()

	r, err := s.start(s.hub.Publish)
	if err == nil && r == nil {
		err = errors.New("StartFunc returned no run")
	}
	if err != nil {
		err = fmt.Errorf("serve: start training: %w", err)
		s.fail(err)
		cancel()
		close(h.done)
		s.runWG.Done()
		return err
	}
	s.shared.set(r)
	s.logf("training started")
	go func() {
		defer s.runWG.Done()
		defer close(h.done)
		defer cancel()
		err := r.Run(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.fail(fmt.Errorf("serve: training: %w", err))
		case err != nil:
			s.logf("training stopped: %v", err)
		}
	}()
	return nil
}

// restart starts the shared run over from scratch for an admin (who names
// them in the log): it stops the current run and waits for its goroutine
// to end, clears the Hub's history (every session's stream goes on with
// the new run's reports), and builds and starts a new run with the
// StartFunc. Restarts are serialised; during shutdown restart does nothing
// and says so.
func (s *Server) restart(who string) error {
	s.restartMu.Lock()
	defer s.restartMu.Unlock()
	s.mu.Lock()
	if s.shutting {
		s.mu.Unlock()
		return fmt.Errorf("serve: restart: %w", errShuttingDown)
	}
	s.started = true // with Wait, a restart before the first viewer starts the run
	h := s.cur
	s.runWG.Add(1) // shutdown waits for the restart before closing the Hub
	s.mu.Unlock()
	defer s.runWG.Done()

	s.logf("restart by %s", who)
	if h != nil {
		h.cancel()
		<-h.done
	}
	s.shared.reset()
	s.hub.Reset()
	s.mu.Lock()
	s.err = nil
	s.mu.Unlock()
	return s.launch()
}

// logReports writes the run's phase ends and its end to the log.
func (s *Server) logReports(sub *Subscription) {
	for r := range sub.Reports() {
		switch {
		case r.Kind == engine.KindPhaseEnd && r.Phase != engine.PhaseTest:
			s.logf("epoch %d/%d %s: loss %.4f acc %.4f (%d samples, %.0f samples/s, %s)",
				r.Epoch, r.Epochs, r.Phase, r.Loss, r.Acc, r.Total, r.SamplesPerSec, r.Elapsed.Round(time.Millisecond))
		case r.Kind == engine.KindDone:
			s.logf("run done: test loss %.4f acc %.4f (%d samples, %.0f samples/s, %s)",
				r.Loss, r.Acc, r.Total, r.SamplesPerSec, r.Elapsed.Round(time.Millisecond))
		}
	}
}

// Serve accepts viewers on ln until ctx is cancelled, then shuts down
// gracefully: new sessions are refused, every session is asked to quit,
// training is stopped, and connections still open after
// Options.ShutdownTimeout are closed. It returns once every goroutine it
// started has ended. Unless Options.Wait is set, training starts at once.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.logf("listening on %s; host key %s", ln.Addr(), s.hostFP)
	if s.open {
		s.logf("WARNING: --open: anyone who can reach %s can watch", ln.Addr())
	}
	logSub := s.hub.Subscribe()
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		s.logReports(logSub)
	}()

	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(ln) }()
	if s.opts.Wait {
		s.logf("training starts when the first viewer connects")
	} else {
		s.startRun()
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
	logSub.Close()
	<-logDone
	if serveErr != nil && !errors.Is(serveErr, ssh.ErrServerClosed) {
		return fmt.Errorf("serve: %w", serveErr)
	}
	if err := s.runErr(); err != nil {
		return err
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

	s.runCancel()
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
		err = waitCtx(ctx, &s.handlers)
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
	for _, wg := range []*sync.WaitGroup{&quits, &s.handlers, &s.runWG} {
		if err := waitCtx(grace, wg); err != nil {
			s.logf("shutdown: sessions or training still running %v after the connections were closed; stopping without them", shutdownGrace)
			break
		}
	}
	s.hub.Close()
	s.logf("stopped")
}

// shutdownGrace bounds how long shutdown waits, after closing every
// connection, for the sessions' programs and the training goroutine to end.
const shutdownGrace = 2 * time.Second

// Run serves the classroom on o.Addr until ctx is cancelled: New, then
// Listen, then Serve. This is what `mnist-tui serve` calls.
func Run(ctx context.Context, o Options, start StartFunc, newModel ModelFunc, logw io.Writer) error {
	s, err := New(o, start, newModel, logw)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return s.Serve(ctx, ln)
}

// waitCtx waits for wg, or until ctx is done.
func waitCtx(ctx context.Context, wg *sync.WaitGroup) error {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
