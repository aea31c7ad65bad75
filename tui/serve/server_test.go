package serve

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/muesli/termenv"
	gossh "golang.org/x/crypto/ssh"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
)

func TestDashboardArrivesAndResizes(t *testing.T) {
	k := newKeys(t)
	stats := &probeStats{}
	ts := startServer(t, k.options(), noRun, probeModels(stats))
	c, err := dial(t, ts.addr, k.user)
	if err != nil {
		t.Fatal(err)
	}
	tm := openTerminal(t, c, 80, 24)
	defer tm.close()
	tm.waitFor(t, "MNIST CLASSROOM PROBE")
	tm.waitFor(t, "size=80x24")
	tm.waitFor(t, fmt.Sprintf("profile=%d", termenv.ANSI256)) // from TERM=xterm-256color
	if err := tm.sess.WindowChange(40, 120); err != nil {
		t.Fatal(err)
	}
	tm.waitFor(t, "size=120x40")
	tm.send(t, "x")
	tm.waitFor(t, "key=x")
	tm.send(t, "q")
	tm.waitEOF(t)
	if !strings.Contains(ts.log.String(), "key="+gossh.FingerprintSHA256(k.user.PublicKey())) {
		t.Errorf("log does not show the key's fingerprint:\n%s", ts.log)
	}
}

func TestUnknownKeyIsRefused(t *testing.T) {
	k := newKeys(t)
	ts := startServer(t, k.options(), noRun, probeModels(&probeStats{}))
	if c, err := dial(t, ts.addr, k.stranger); err == nil {
		c.Close()
		t.Fatal("a key in neither file got in")
	}
	if c, err := dial(t, ts.addr, nil); err == nil {
		c.Close()
		t.Fatal("a client without a key got in without --open")
	}
	for _, s := range []gossh.Signer{k.user, k.admin} {
		c, err := dial(t, ts.addr, s)
		if err != nil {
			t.Fatalf("an authorized key was refused: %v", err)
		}
		c.Close()
	}
}

func TestOpenLetsAnyoneIn(t *testing.T) {
	k := newKeys(t)
	o := k.options()
	o.Open, o.AuthorizedKeys = true, ""
	stats := &probeStats{}
	ts := startServer(t, o, noRun, probeModels(stats))
	waitUntil(t, "the log warns about --open", func() bool { return strings.Contains(ts.log.String(), "WARNING: --open") })
	for _, s := range []gossh.Signer{k.stranger, nil} {
		c, err := dial(t, ts.addr, s)
		if err != nil {
			t.Fatalf("--open refused a client: %v", err)
		}
		tm := openTerminal(t, c, 80, 24)
		tm.waitFor(t, "admin=false")
		tm.close()
	}
}

func TestNoAuthRefusesToStart(t *testing.T) {
	k := newKeys(t)
	o := k.options()
	o.AuthorizedKeys, o.AdminKeys, o.Open = "", "", false
	_, err := New(o, testList(t, noRun), probeModels(&probeStats{}), nil)
	if !errors.Is(err, ErrNoAuth) || !strings.Contains(err.Error(), "--open") {
		t.Fatalf("got %v, want ErrNoAuth saying how to fix it", err)
	}
}

// refusedOutput runs one session with the given setup and returns what the
// client got on stdout and stderr.
func refusedOutput(t *testing.T, addr string, signer gossh.Signer, setup func(*gossh.Session) error) string {
	t.Helper()
	c, err := dial(t, addr, signer)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	out := &syncBuffer{}
	sess.Stdout, sess.Stderr = out, out
	if err := setup(sess); err != nil {
		return "request refused: " + err.Error()
	}
	err = sess.Wait()
	var exit *gossh.ExitError
	if !errors.As(err, &exit) || exit.ExitStatus() == 0 {
		t.Errorf("session ended with %v, want a non-zero exit status", err)
	}
	return out.String()
}

func TestRefusals(t *testing.T) {
	k := newKeys(t)
	ts := startServer(t, k.options(), noRun, probeModels(&probeStats{}))
	for _, tc := range []struct {
		name  string
		setup func(*gossh.Session) error
		want  string
	}{
		{"no pty", func(s *gossh.Session) error { return s.Shell() }, msgNoPTY},
		{"exec", func(s *gossh.Session) error { return s.Start("cat /etc/passwd") }, msgExec},
		{"exec with pty", func(s *gossh.Session) error {
			if err := s.RequestPty("xterm", 24, 80, nil); err != nil {
				return err
			}
			return s.Start("ls")
		}, msgExec},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := refusedOutput(t, ts.addr, k.user, tc.setup)
			if !strings.Contains(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			if n := strings.Count(strings.TrimSpace(got), "\n"); n > 0 {
				t.Errorf("message spans %d lines: %q", n+1, got)
			}
		})
	}
	t.Run("subsystem", func(t *testing.T) {
		c, err := dial(t, ts.addr, k.user)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		sess, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		stderr, err := sess.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := sess.RequestSubsystem("sftp"); err != nil {
			t.Fatalf("subsystem request: %v", err)
		}
		got, _ := io.ReadAll(stderr)
		if strings.TrimSpace(string(got)) != msgSubsystem {
			t.Fatalf("got %q, want %q", got, msgSubsystem)
		}
	})
	t.Run("port forwarding", func(t *testing.T) {
		c, err := dial(t, ts.addr, k.user)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if conn, err := c.Dial("tcp", "127.0.0.1:22"); err == nil {
			conn.Close()
			t.Fatal("local port forwarding was allowed")
		} else if !strings.Contains(err.Error(), "not allowed") {
			t.Errorf("refusal %q does not say why", err)
		}
		if ln, err := c.Listen("tcp", "127.0.0.1:0"); err == nil {
			ln.Close()
			t.Fatal("remote port forwarding was allowed")
		}
	})
}

func TestServerFull(t *testing.T) {
	k := newKeys(t)
	o := k.options()
	o.MaxSessions = 2
	ts := startServer(t, o, noRun, probeModels(&probeStats{}))
	for i := 0; i < 2; i++ {
		c, err := dial(t, ts.addr, k.user)
		if err != nil {
			t.Fatal(err)
		}
		tm := openTerminal(t, c, 80, 24)
		defer tm.close()
		tm.waitFor(t, "MNIST CLASSROOM PROBE")
	}
	got := refusedOutput(t, ts.addr, k.user, func(s *gossh.Session) error {
		if err := s.RequestPty("xterm", 24, 80, nil); err != nil {
			return err
		}
		return s.Shell()
	})
	if !strings.Contains(got, "server full (2 sessions)") {
		t.Fatalf("third session got %q, want the server-full message", got)
	}
}

func TestRateLimit(t *testing.T) {
	k := newKeys(t)
	o := k.options()
	o.Rate, o.Burst = 1e-6, 2 // no refill within the test
	ts := startServer(t, o, noRun, probeModels(&probeStats{}))
	noPTY := func(s *gossh.Session) error { return s.Shell() }
	for i := 0; i < 2; i++ {
		if got := refusedOutput(t, ts.addr, k.user, noPTY); strings.Contains(got, "rate limit") {
			t.Fatalf("session %d within the burst was rate-limited", i+1)
		}
	}
	if got := refusedOutput(t, ts.addr, k.user, noPTY); !strings.Contains(got, msgRate) {
		t.Fatalf("session past the burst got %q, want the rate-limit message", got)
	}
}

func TestLateJoinerGetsHistory(t *testing.T) {
	k := newKeys(t)
	stats := &probeStats{}
	ts := startServer(t, k.options(), noRun, probeModels(stats))
	for i := 0; i < 300; i++ {
		ts.publish(t, batch(2, i))
	}
	ts.publish(t, phaseEnd(2))
	c, err := dial(t, ts.addr, k.user)
	if err != nil {
		t.Fatal(err)
	}
	tm := openTerminal(t, c, 80, 24)
	defer tm.close()
	tm.waitFor(t, "reports=301 epoch=2")
	ts.publish(t, batch(3, 0))
	tm.waitFor(t, "reports=302 epoch=3")
}

func TestPanicEndsOnlyThatSession(t *testing.T) {
	k := newKeys(t)
	ts := startServer(t, k.options(), noRun, probeModels(&probeStats{}))
	open := func() *terminal {
		c, err := dial(t, ts.addr, k.user)
		if err != nil {
			t.Fatal(err)
		}
		tm := openTerminal(t, c, 80, 24)
		tm.waitFor(t, "MNIST CLASSROOM PROBE")
		return tm
	}
	bad, good := open(), open()
	defer bad.close()
	defer good.close()
	bad.send(t, "!")
	bad.waitFor(t, "internal error")
	bad.waitEOF(t)
	if !strings.Contains(ts.log.String(), "panic in session") {
		t.Errorf("the panic is not in the log:\n%s", ts.log)
	}
	ts.publish(t, batch(2, 5))
	good.waitFor(t, "step=5")
	good.send(t, "z")
	good.waitFor(t, "key=z")
}

func TestDroppedClientLeavesNothingBehind(t *testing.T) {
	k := newKeys(t)
	ts := startServer(t, k.options(), noRun, probeModels(&probeStats{}))
	c, err := dial(t, ts.addr, k.user)
	if err != nil {
		t.Fatal(err)
	}
	tm := openTerminal(t, c, 80, 24)
	tm.waitFor(t, "MNIST CLASSROOM PROBE")
	// Drop the TCP connection without closing the session.
	c.Conn.Close()
	for i := 0; i < 1000; i++ {
		ts.publish(t, batch(2, i)) // must not block on the dead viewer
	}
	waitUntil(t, "the session is forgotten", func() bool { return ts.Sessions() == 0 })
	// goleak in TestMain checks that its goroutines are gone.
}

func TestHostKeyPersists(t *testing.T) {
	k := newKeys(t)
	o := k.options()
	s1, err := New(o, testList(t, noRun), probeModels(&probeStats{}), nil)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(o.HostKey)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("host key mode %v, want 0600", fi.Mode().Perm())
	}
	s2, err := New(o, testList(t, noRun), probeModels(&probeStats{}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s1.HostKeyFingerprint() != s2.HostKeyFingerprint() {
		t.Fatalf("host key changed across restarts: %s then %s", s1.HostKeyFingerprint(), s2.HostKeyFingerprint())
	}
	// The client sees that key.
	ts := startServer(t, o, noRun, probeModels(&probeStats{}))
	var seen string
	cfg := &gossh.ClientConfig{User: "x", Auth: []gossh.AuthMethod{gossh.PublicKeys(k.user)},
		HostKeyCallback: func(_ string, _ net.Addr, key gossh.PublicKey) error {
			seen = gossh.FingerprintSHA256(key)
			return nil
		}}
	c, err := gossh.Dial("tcp", ts.addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if seen != s1.HostKeyFingerprint() {
		t.Fatalf("client saw host key %s, want %s", seen, s1.HostKeyFingerprint())
	}
}

func TestCorruptHostKeyIsAnError(t *testing.T) {
	k := newKeys(t)
	o := k.options()
	if err := os.MkdirAll(filepath.Dir(o.HostKey), 0o700); err != nil {
		t.Fatal(err)
	}
	garbage := []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n-----END OPENSSH PRIVATE KEY-----\n")
	if err := os.WriteFile(o.HostKey, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := New(o, testList(t, noRun), probeModels(&probeStats{}), nil)
	if !errors.Is(err, ErrHostKey) || !strings.Contains(err.Error(), o.HostKey) {
		t.Fatalf("got %v, want ErrHostKey naming %s", err, o.HostKey)
	}
	after, _ := os.ReadFile(o.HostKey)
	if !bytes.Equal(after, garbage) {
		t.Fatal("the corrupt host key file was replaced")
	}
}

func TestAuthorizedKeysErrors(t *testing.T) {
	k := newKeys(t)
	good, err := os.ReadFile(k.authorized)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(k.dir, "bad_keys")
	if err := os.WriteFile(bad, append(good, []byte("ssh-ed25519 AAAAnotbase64!!\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	line := strings.Count(string(good), "\n") + 1
	for _, tc := range []struct {
		name       string
		auth, adm  string
		wantInText string
	}{
		{"bad line", bad, "", bad + ":" + itoa(line) + ":"},
		{"bad admin line", k.authorized, bad, bad + ":" + itoa(line) + ":"},
		{"missing file", filepath.Join(k.dir, "nope"), "", filepath.Join(k.dir, "nope")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := k.options()
			o.AuthorizedKeys, o.AdminKeys = tc.auth, tc.adm
			_, err := New(o, testList(t, noRun), probeModels(&probeStats{}), nil)
			if !errors.Is(err, ErrAuthorizedKeys) || !strings.Contains(err.Error(), tc.wantInText) {
				t.Fatalf("got %v, want ErrAuthorizedKeys naming %q", err, tc.wantInText)
			}
		})
	}
}

func TestGracefulShutdown(t *testing.T) {
	k := newKeys(t)
	ts := startServer(t, k.options(), noRun, probeModels(&probeStats{}))
	var tms []*terminal
	for i := 0; i < 3; i++ {
		c, err := dial(t, ts.addr, k.user)
		if err != nil {
			t.Fatal(err)
		}
		tm := openTerminal(t, c, 80, 24)
		defer tm.close()
		tm.waitFor(t, "MNIST CLASSROOM PROBE")
		tms = append(tms, tm)
	}
	if err := ts.stop(t); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	for _, tm := range tms {
		tm.waitEOF(t)
		if !strings.Contains(tm.screen(), msgShutdown) {
			t.Errorf("a viewer was not told about the shutdown; screen:\n%s", tail(tm.screen()))
		}
	}
	if l := ts.log.String(); strings.Contains(l, "closing the remaining") || !strings.Contains(l, "stopped") {
		t.Errorf("shutdown was not graceful:\n%s", l)
	}
	if _, err := dial(t, ts.addr, k.user); err == nil {
		t.Error("the server still accepts connections after shutdown")
	}
}

// TestHardShutdown has a client that keeps its connection open after its
// session ends: shutdown closes it once the deadline has passed.
func TestHardShutdown(t *testing.T) {
	k := newKeys(t)
	o := k.options()
	o.ShutdownTimeout = 200 * time.Millisecond
	ts := startServer(t, o, noRun, probeModels(&probeStats{}))
	c, err := dial(t, ts.addr, k.user)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tm := openTerminalKeep(t, c, 80, 24, true)
	tm.waitFor(t, "MNIST CLASSROOM PROBE")
	if err := ts.stop(t); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	tm.waitEOF(t)
	if !strings.Contains(ts.log.String(), "closing the remaining connections") {
		t.Errorf("the stubborn connection was not closed by force:\n%s", ts.log)
	}
	if err := c.Wait(); err == nil {
		t.Error("client connection still open")
	}
}

func TestIdleTimeout(t *testing.T) {
	k := newKeys(t)
	o := k.options()
	o.IdleTimeout = 300 * time.Millisecond
	ts := startServer(t, o, noRun, probeModels(&probeStats{}))
	c, err := dial(t, ts.addr, k.user)
	if err != nil {
		t.Fatal(err)
	}
	tm := openTerminalKeep(t, c, 80, 24, true)
	defer tm.close()
	tm.waitFor(t, "MNIST CLASSROOM PROBE")
	// Nothing happens on the probe's screen: the connection goes idle.
	tm.waitEOF(t)
	if err := c.Wait(); err == nil {
		t.Error("idle connection still open")
	}
	waitUntil(t, "the session is forgotten", func() bool { return ts.Sessions() == 0 })
}

func TestMaxSessionTime(t *testing.T) {
	k := newKeys(t)
	o := k.options()
	o.MaxSessionTime = 500 * time.Millisecond
	ts := startServer(t, o, noRun, probeModels(&probeStats{}))
	c, err := dial(t, ts.addr, k.user)
	if err != nil {
		t.Fatal(err)
	}
	tm := openTerminalKeep(t, c, 80, 24, true)
	defer tm.close()
	tm.waitFor(t, "MNIST CLASSROOM PROBE")
	// Keep the session busy: it is closed anyway once too old.
	stop := make(chan struct{})
	busy := make(chan struct{})
	go func() {
		defer close(busy)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				ts.publish(t, batch(2, i))
			}
		}
	}()
	tm.waitEOF(t)
	close(stop)
	<-busy
	if !strings.Contains(tm.screen(), "step=") {
		t.Error("the busy session never drew a report")
	}
	waitUntil(t, "the session is forgotten", func() bool { return ts.Sessions() == 0 })
}

// TestStartFailureReachesViewers has a run that cannot be built: viewers
// see the error on their dashboard and Serve returns it at the end.
func TestStartFailureReachesViewers(t *testing.T) {
	k := newKeys(t)
	o := k.options()
	o.Wait = true
	boom := errors.New("no data for the run")
	start := func(runs.Prepared, engine.Reporter) (runs.Trainer, error) { return nil, boom }
	ts := startServer(t, o, start, tuiModels())
	c, err := dial(t, ts.addr, k.user)
	if err != nil {
		t.Fatal(err)
	}
	tm := openTerminal(t, c, 100, 30)
	defer tm.close()
	tm.waitFor(t, "no data for the run")
	if err := ts.stop(t); !errors.Is(err, boom) {
		t.Fatalf("Serve returned %v, want the start failure", err)
	}
}

// TestMuteTerminal connects a terminal that answers no query: the
// dashboard must still show up at once, and its first key must reach it.
func TestMuteTerminal(t *testing.T) {
	k := newKeys(t)
	ts := startServer(t, k.options(), noRun, probeModels(&probeStats{}))
	c, err := dial(t, ts.addr, k.user)
	if err != nil {
		t.Fatal(err)
	}
	tm := openTerminalWith(t, c, 80, 24, false, true)
	defer tm.close()
	tm.waitFor(t, "MNIST CLASSROOM PROBE")
	tm.send(t, "x")
	tm.waitFor(t, "key=x")
}

// TestConnectionCap opens raw TCP connections that never handshake, up
// to the cap and past it: the oldest make room for new ones, so a real
// client still gets in; connections with a session are never evicted.
func TestConnectionCap(t *testing.T) {
	k := newKeys(t)
	o := k.options()
	o.MaxSessions = 1
	ts := startServer(t, o, noRun, probeModels(&probeStats{}))
	c, err := dial(t, ts.addr, k.user)
	if err != nil {
		t.Fatal(err)
	}
	tm := openTerminal(t, c, 80, 24)
	defer tm.close()
	tm.waitFor(t, "MNIST CLASSROOM PROBE")
	max := ts.maxConns()
	silent := make([]net.Conn, 2*max)
	for i := range silent {
		c, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		silent[i] = c
	}
	waitUntil(t, "the cap is reached", func() bool { open, _ := ts.conns.counts(); return open == max })
	// The first silent connections were closed to make room.
	if !closedByServer(silent[0]) {
		t.Fatal("the oldest silent connection is still open")
	}
	// Evictions are logged (after the count: the log line may follow).
	waitUntil(t, "the eviction is logged", func() bool { return strings.Contains(ts.log.String(), "making room") })
	// The session is still there.
	if err := tm.sess.WindowChange(30, 90); err != nil {
		t.Fatal(err)
	}
	tm.waitFor(t, "size=90x30")
	c2, err := dial(t, ts.addr, k.user)
	if err != nil {
		t.Fatalf("a real client was locked out by silent connections: %v", err)
	}
	c2.Close()
}

// closedByServer reads c (the server's version line, then nothing) until
// the server closes it, reporting false if it is still open after
// waitLimit.
func closedByServer(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(waitLimit))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}
