package serve

import (
	"container/list"
	"net"
	"sync"
	"time"

	"github.com/charmbracelet/ssh"

	"github.com/mnist-tui/mnist-tui/tui"
)

// sizedSession is a session whose terminal sizes are clamped (clampSize):
// the PTY request's, and every window change's, forwarded on a channel of
// its own that never blocks the session's request loop. It never asks the
// SSH library for the PTY again (see ptyState).
type sizedSession struct {
	ssh.Session
	pty   ssh.Pty    // as requested, its window clamped
	asked ssh.Window // the window the client asked for, for the log
	winch chan ssh.Window
}

// Pty returns the session's PTY with its window size clamped, and the
// channel of clamped window changes, closed when the client closes the
// session.
func (s sizedSession) Pty() (ssh.Pty, <-chan ssh.Window, bool) {
	return s.pty, s.winch, true
}

// ptyState is a session's PTY as the SSH library had it when the client
// asked for a shell or a command. It is read then, on the session's
// request goroutine (SessionRequestCallback), because the library writes
// the window size of every window change on that goroutine without a
// lock: reading it from the session's handler, as ssh.Session.Pty does, is
// a data race.
type ptyState struct {
	pty   ssh.Pty
	winch <-chan ssh.Window
	ok    bool
}

// notePty is the server's SessionRequestCallback: it records the PTY of
// sessions that will run the middleware chain, and accepts every request
// (the middlewares refuse what they refuse, with a message).
func (s *Server) notePty(sess ssh.Session, request string) bool {
	if request == "shell" || request == "exec" {
		pty, winch, ok := sess.Pty()
		s.ptys.Store(sess, ptyState{pty: pty, winch: winch, ok: ok})
	}
	return true
}

// clampSizes is the outermost middleware: it hands the rest of the chain a
// sizedSession. It reads the session's window changes until the client
// closes the session, whether or not anything else still wants them: the
// SSH library's request loop blocks on each window change until it is
// read, and a loop blocked so, after a session was refused or ended,
// would stay blocked for good. Only the newest change waits for a reader.
func (s *Server) clampSizes(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		v, _ := s.ptys.LoadAndDelete(sess)
		st, _ := v.(ptyState)
		if !st.ok {
			next(sess) // no PTY: the library never writes one
			return
		}
		fwd := make(chan ssh.Window, 1)
		go func() {
			defer close(fwd)
			for win := range st.winch {
				win.Width, win.Height = clampSize(win.Width, win.Height)
				select {
				case fwd <- win:
					continue
				default:
				}
				select { // replace the change no one has read yet
				case <-fwd:
				default:
				}
				fwd <- win
			}
		}()
		pty := st.pty
		pty.Window.Width, pty.Window.Height = clampSize(pty.Window.Width, pty.Window.Height)
		next(sizedSession{Session: sess, pty: pty, asked: st.pty.Window, winch: fwd})
	}
}

// clampSize bounds a terminal size a client announces (in a PTY request or
// a window change) to what the dashboard is ever drawn at, so that a
// hostile size costs no more than the largest allowed one: at most
// tui.MaxWidth x tui.MaxHeight, at least 1x1.
func clampSize(w, h int) (int, int) {
	return min(max(w, 1), tui.MaxWidth), min(max(h, 1), tui.MaxHeight)
}

// conns tracks the server's open TCP connections: how many there are, and
// which of them have no admitted session yet (their SSH handshake and
// authentication are under way, or they were refused, or they sit idle). Such pending connections are closed
// when they are older than the handshake timeout, and, when the server is
// at its connection cap or has too many pending, the oldest pending one
// makes room for a new connection: silent connections piling up can delay
// a real client by one handshake, never lock it out. Connections with a
// session are never evicted.
type conns struct {
	max, maxPending int
	timeout         time.Duration
	logf            func(format string, a ...any)

	mu      sync.Mutex
	open    int
	pending list.List // of *trackedConn, oldest first
}

// trackedConn is one connection known to conns.
type trackedConn struct {
	net.Conn
	c     *conns
	at    time.Time
	elem  *list.Element // in c.pending while pending; nil after
	timer *time.Timer
	once  sync.Once
	// out says it is no longer counted in c.open: closed, or evicted (an
	// evicted connection is counted out at once, under c.mu, so that
	// admissions racing with its Close do not evict more than needed).
	out bool
}

// admit registers a new connection, evicting the oldest pending ones when
// there is no room; it returns nil (refusing c) only when the connections
// with a session alone fill the cap.
func (cs *conns) admit(c net.Conn) *trackedConn {
	cs.mu.Lock()
	need := max(cs.open+1-cs.max, cs.pending.Len()+1-cs.maxPending, 0)
	if need > cs.pending.Len() {
		n := cs.open
		cs.mu.Unlock()
		cs.logf("refused connection from %s: %d connections open, all of them with a session", c.RemoteAddr(), n)
		return nil
	}
	var evict []*trackedConn
	for ; need > 0; need-- {
		old := cs.pending.Remove(cs.pending.Front()).(*trackedConn)
		old.elem, old.out = nil, true // no longer pending nor counted
		cs.open--
		evict = append(evict, old)
	}
	tc := &trackedConn{Conn: c, c: cs, at: time.Now()}
	tc.elem = cs.pending.PushBack(tc)
	cs.open++
	if cs.timeout > 0 {
		tc.timer = time.AfterFunc(cs.timeout, func() {
			if tc.isPending() {
				cs.logf("dropped connection from %s: handshake timeout (no session within %v)", tc.RemoteAddr(), cs.timeout)
				tc.Close()
			}
		})
	}
	cs.mu.Unlock()
	for _, old := range evict {
		cs.logf("dropped connection from %s: no session after %v, making room for %s", old.RemoteAddr(), time.Since(old.at).Round(time.Millisecond), c.RemoteAddr())
		old.Close()
	}
	return tc
}

// isPending reports whether tc has not opened a session yet.
func (tc *trackedConn) isPending() bool {
	tc.c.mu.Lock()
	defer tc.c.mu.Unlock()
	return tc.elem != nil
}

// established marks tc as having an admitted session: it is no longer subject
// to the handshake timeout or to eviction.
func (tc *trackedConn) established() {
	tc.c.mu.Lock()
	defer tc.c.mu.Unlock()
	if tc.elem != nil {
		tc.c.pending.Remove(tc.elem)
		tc.elem = nil
	}
}

// Close closes the connection and forgets it.
func (tc *trackedConn) Close() error {
	tc.once.Do(func() {
		tc.c.mu.Lock()
		if tc.timer != nil {
			tc.timer.Stop()
		}
		if tc.elem != nil {
			tc.c.pending.Remove(tc.elem)
			tc.elem = nil
		}
		if !tc.out {
			tc.out = true
			tc.c.open--
		}
		tc.c.mu.Unlock()
	})
	return tc.Conn.Close()
}

// closePending closes every connection that has no session yet (at
// shutdown: they would only hold it up).
func (cs *conns) closePending() {
	cs.mu.Lock()
	var all []*trackedConn
	for e := cs.pending.Front(); e != nil; e = e.Next() {
		all = append(all, e.Value.(*trackedConn))
	}
	cs.mu.Unlock()
	for _, tc := range all {
		tc.Close()
	}
}

// counts returns the open and pending connection counts.
func (cs *conns) counts() (open, pending int) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.open, cs.pending.Len()
}

// connKey keys a connection's *trackedConn in its ssh.Context.
type connKey struct{}

// markEstablished marks the connection of ctx as having an admitted
// session.
func markEstablished(ctx ssh.Context) {
	if tc, ok := ctx.Value(connKey{}).(*trackedConn); ok {
		tc.established()
	}
}
