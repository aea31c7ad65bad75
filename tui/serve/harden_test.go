package serve

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/tui"
)

// TestHostileTerminalSizeIsClamped: a client that announces a huge PTY,
// then huge and zero window changes, is drawn at most at the largest size
// allowed (and at least 1x1).
func TestHostileTerminalSizeIsClamped(t *testing.T) {
	k := newKeys(t)
	stats := &probeStats{}
	ts := startServer(t, k.options(), noRun, probeModels(stats))
	c, err := dial(t, ts.addr, k.user)
	if err != nil {
		t.Fatal(err)
	}
	tm := openTerminal(t, c, 1<<31-1, 1<<31-1)
	defer tm.close()
	want := fmt.Sprintf("size=%dx%d", tui.MaxWidth, tui.MaxHeight)
	tm.waitFor(t, want)
	if err := tm.sess.WindowChange(0, 0); err != nil {
		t.Fatal(err)
	}
	seen := func(size string) func() bool {
		return func() bool { _, ok := stats.sizes.Load(size); return ok }
	}
	waitUntil(t, "the model is resized to 1x1", seen("1x1"))
	if err := tm.sess.WindowChange(1<<31-1, 7); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the model is resized to 7 columns", seen(fmt.Sprintf("7x%d", tui.MaxHeight)))
	stats.sizes.Range(func(k, _ any) bool {
		var w, h int
		fmt.Sscanf(k.(string), "%dx%d", &w, &h)
		if w > tui.MaxWidth || h > tui.MaxHeight || w < 1 || h < 1 {
			t.Errorf("the model saw size %s", k)
		}
		return true
	})
	if l := ts.log.String(); !strings.Contains(l, "2147483647x2147483647") {
		t.Errorf("the log does not show the size the client asked for:\n%s", l)
	}
}

// TestSessionEndsWhenChannelCloses: a client that closes its session
// channel but keeps the connection open leaves no session behind.
func TestSessionEndsWhenChannelCloses(t *testing.T) {
	k := newKeys(t)
	ts := startServer(t, k.options(), noRun, probeModels(&probeStats{}))
	c, err := dial(t, ts.addr, k.user)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tm := openTerminalKeep(t, c, 80, 24, true)
	tm.waitFor(t, "MNIST CLASSROOM PROBE")
	tm.sess.Close()
	waitUntil(t, "the session is gone", func() bool { return ts.Sessions() == 0 })
}

// TestHandshakeTimeout: a TCP connection that never speaks SSH is closed
// after the handshake timeout, and the log says so.
func TestHandshakeTimeout(t *testing.T) {
	k := newKeys(t)
	o := k.options()
	o.HandshakeTimeout = 100 * time.Millisecond
	ts := startServer(t, o, noRun, probeModels(&probeStats{}))
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !closedByServer(c) {
		t.Fatal("a silent connection outlived the handshake timeout")
	}
	waitUntil(t, "the drop is logged", func() bool { return strings.Contains(ts.log.String(), "handshake timeout") })
	// A real client, slower than nothing but quicker than the timeout,
	// keeps its session past it.
	cl, err := dial(t, ts.addr, k.user)
	if err != nil {
		t.Fatal(err)
	}
	tm := openTerminal(t, cl, 80, 24)
	defer tm.close()
	tm.waitFor(t, "MNIST CLASSROOM PROBE")
	time.Sleep(3 * o.HandshakeTimeout) // the timeout must not fire on it
	if err := tm.sess.WindowChange(30, 90); err != nil {
		t.Fatal(err)
	}
	tm.waitFor(t, "size=90x30")
}

// TestAdminGetsIntoAFullRoom: with every seat taken, an admin still gets
// in (and is not rate-limited); a student is told the room is full.
func TestAdminGetsIntoAFullRoom(t *testing.T) {
	k := newKeys(t)
	o := k.options()
	o.MaxSessions = 1
	o.Rate, o.Burst = 1e-6, 2
	ts := startServer(t, o, noRun, probeModels(&probeStats{}))
	c, err := dial(t, ts.addr, k.user)
	if err != nil {
		t.Fatal(err)
	}
	tm := openTerminal(t, c, 80, 24)
	defer tm.close()
	tm.waitFor(t, "admin=false")
	for i := 0; i < 3; i++ { // past the burst too
		ca, err := dial(t, ts.addr, k.admin)
		if err != nil {
			t.Fatal(err)
		}
		ta := openTerminal(t, ca, 80, 24)
		ta.waitFor(t, "admin=true")
		ta.close()
		ta.waitEOF(t)
	}
	got := refusedOutput(t, ts.addr, k.user, func(s *gossh.Session) error {
		if err := s.RequestPty("xterm", 24, 80, nil); err != nil {
			return err
		}
		return s.Shell()
	})
	if !strings.Contains(got, "server full") && !strings.Contains(got, msgRate) {
		t.Fatalf("a student in a full room got %q", got)
	}
}

// logLines returns the log's lines, checking that each starts with the
// logger's date prefix: nothing a client sends can start a line.
func logLines(t *testing.T, log string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(log, "\n"), "\n")
	for _, l := range lines {
		if _, err := time.Parse("2006/01/02 15:04:05", l[:min(len(l), 19)]); err != nil {
			t.Errorf("a log line does not start with a date (forged?): %q", l)
		}
	}
	return lines
}

// TestLogInjection: user names, TERM and environment variables with
// newlines and escape sequences are escaped in the log.
func TestLogInjection(t *testing.T) {
	k := newKeys(t)
	ts := startServer(t, k.options(), noRun, probeModels(&probeStats{}))
	const forged = "\n2026/01/01 00:00:00 session user=\"root\" admin=true\x1b[2K"
	for _, signer := range []gossh.Signer{k.user, k.stranger} {
		cfg := &gossh.ClientConfig{User: "eve" + forged, HostKeyCallback: gossh.InsecureIgnoreHostKey(),
			Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)}, Timeout: waitLimit}
		c, err := gossh.Dial("tcp", ts.addr, cfg)
		if err != nil {
			continue // the stranger is refused, and logged
		}
		sess, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		_ = sess.Setenv("LANG", "C"+forged)
		if err := sess.RequestPty("xterm"+forged, 24, 80, nil); err != nil {
			t.Fatal(err)
		}
		_ = sess.Start("ls" + forged) // an exec, refused and logged
		_ = sess.Wait()
		c.Close()
	}
	waitUntil(t, "both clients are logged", func() bool {
		l := ts.log.String()
		return strings.Contains(l, "exec ") && strings.Contains(l, "refused key")
	})
	for _, l := range logLines(t, ts.log.String()) {
		if strings.ContainsRune(l, '\x1b') {
			t.Errorf("an escape sequence reached the log: %q", l)
		}
	}
	if !strings.Contains(ts.log.String(), `\n2026/01/01`) {
		t.Errorf("the client's strings are not shown escaped:\n%s", ts.log)
	}
}

// TestRefusalsAreLogged: rate limit, server full, unknown key (with its
// fingerprint) and no PTY each leave a line in the log.
func TestRefusalsAreLogged(t *testing.T) {
	k := newKeys(t)
	o := k.options()
	o.MaxSessions = 1
	o.Rate, o.Burst = 1e-6, 4
	ts := startServer(t, o, noRun, probeModels(&probeStats{}))
	c, err := dial(t, ts.addr, k.user)
	if err != nil {
		t.Fatal(err)
	}
	tm := openTerminal(t, c, 80, 24)
	defer tm.close()
	tm.waitFor(t, "MNIST CLASSROOM PROBE")
	withPTY := func(s *gossh.Session) error {
		if err := s.RequestPty("xterm", 24, 80, nil); err != nil {
			return err
		}
		return s.Shell()
	}
	refusedOutput(t, ts.addr, k.user, withPTY)                                           // full
	refusedOutput(t, ts.addr, k.user, func(s *gossh.Session) error { return s.Shell() }) // no PTY
	refusedOutput(t, ts.addr, k.user, withPTY)                                           // full
	refusedOutput(t, ts.addr, k.user, withPTY)                                           // rate limit
	if c, err := dial(t, ts.addr, k.stranger); err == nil {
		c.Close()
		t.Fatal("a stranger got in")
	}
	l := ts.log.String()
	for _, want := range []string{"server full", "no PTY", "rate limit", "refused key ssh-ed25519 " + fingerprint(k.stranger.PublicKey())} {
		if !strings.Contains(l, want) {
			t.Errorf("the log has no %q:\n%s", want, l)
		}
	}
}

// TestRefusedClientIsToldHowToGetIn: a client whose keys are refused gets
// one line saying what to do, once, through keyboard-interactive (which
// OpenSSH prints), and is still refused.
func TestRefusedClientIsToldHowToGetIn(t *testing.T) {
	k := newKeys(t)
	ts := startServer(t, k.options(), noRun, probeModels(&probeStats{}))
	var told []string
	cfg := &gossh.ClientConfig{User: "student", HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: waitLimit,
		Auth: []gossh.AuthMethod{gossh.PublicKeys(k.stranger),
			gossh.RetryableAuthMethod(gossh.KeyboardInteractive(func(name, instruction string, q []string, _ []bool) ([]string, error) {
				told = append(told, instruction)
				return make([]string, len(q)), nil
			}), 3)}}
	c, err := gossh.Dial("tcp", ts.addr, cfg)
	if err == nil {
		c.Close()
		t.Fatal("a stranger got in")
	}
	if len(told) != 1 || told[0] != msgNeedKey {
		t.Fatalf("the client was told %q, want %q once", told, msgNeedKey)
	}
	if strings.Contains(msgNeedKey, "\n") {
		t.Error("the message spans lines")
	}
}

// writeKey writes a PEM private key file with mode.
func writeKey(t *testing.T, path string, key any, mode os.FileMode) {
	t.Helper()
	block, err := gossh.MarshalPrivateKey(key, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
}

// TestHostKeyChecks: a host key readable by group or others is refused as
// OpenSSH refuses it, and so is an RSA key under 2048 bits.
func TestHostKeyChecks(t *testing.T) {
	k := newKeys(t)
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	rsa2048, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		key  any
		mode os.FileMode
		want string // "" for accepted
	}{
		{"rsa 2048", rsa2048, 0o600, ""},
		{"rsa 1024", rsa1024, 0o600, "1024-bit RSA key is too weak"},
		{"group readable", rsa2048, 0o640, "too open"},
		{"world readable", rsa2048, 0o604, "too open"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := k.options()
			o.HostKey = filepath.Join(t.TempDir(), "key")
			writeKey(t, o.HostKey, tc.key, tc.mode)
			_, err := New(o, testList(t, noRun), probeModels(&probeStats{}), nil)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (!errors.Is(err, ErrHostKey) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), o.HostKey)):
				t.Fatalf("got %v, want ErrHostKey naming the file and saying %q", err, tc.want)
			}
		})
	}
}

// TestShutdownWithStalledClient: a client that stops reading while the
// real dashboard of a real run is drawn for it at the largest size (the
// server's writes to it block) does not hold shutdown past its deadline.
func TestShutdownWithStalledClient(t *testing.T) {
	k := newKeys(t)
	o := k.options()
	o.ShutdownTimeout = 200 * time.Millisecond
	c := engine.DefaultConfig()
	c.Epochs = 1 << 20
	d := smallData(t, 256)
	var tr atomic.Pointer[engine.Trainer]
	ts := startServer(t, o, trainerStart(c, d, &tr, nil), tuiModels())
	cl, err := dial(t, ts.addr, k.user)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	sess, err := cl.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", 1<<20, 1<<20, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := sess.StdoutPipe(); err != nil { // never read
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the session is admitted", func() bool { return ts.Sessions() == 1 })
	waitUntil(t, "training goes on", func() bool { r, _ := ts.last(); return r.RunStep > 50 })
	if err := ts.stop(t); err != nil { // fails the test if it does not return
		t.Fatalf("Serve: %v", err)
	}
}
