package serve

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
	"github.com/mnist-tui/mnist-tui/mnist"
	"github.com/mnist-tui/mnist-tui/tui"
)

// waitLimit bounds every wait for something to show up on a screen. It is
// a deadlock guard, not a speed requirement.
const waitLimit = 20 * time.Second

// keys are the client keys of a test: a viewer, an admin and a stranger.
type keys struct {
	user, admin, stranger gossh.Signer
	dir                   string
	authorized, admins    string // files
}

func newSigner(t testing.TB) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newKeys(t testing.TB) *keys {
	t.Helper()
	k := &keys{user: newSigner(t), admin: newSigner(t), stranger: newSigner(t), dir: t.TempDir()}
	k.authorized = filepath.Join(k.dir, "authorized_keys")
	k.admins = filepath.Join(k.dir, "admin_keys")
	write := func(path string, ss ...gossh.Signer) {
		var b bytes.Buffer
		b.WriteString("# comment line\n\n")
		for _, s := range ss {
			b.Write(gossh.MarshalAuthorizedKey(s.PublicKey()))
		}
		if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(k.authorized, k.user)
	write(k.admins, k.admin)
	return k
}

// testOptions are Options for a test server on a free local port.
func (k *keys) options() Options {
	o := DefaultOptions()
	o.Addr = "127.0.0.1:0"
	o.AuthorizedKeys = k.authorized
	o.AdminKeys = k.admins
	o.HostKey = filepath.Join(k.dir, "host", "host_ed25519")
	o.FPS = 30
	return o
}

// testServer is a running Server of a list of one run (the notebook's
// spec on a few embedded digits) whose trainers a test's TrainerFunc
// builds.
type testServer struct {
	*Server
	addr   string
	cancel context.CancelFunc
	done   chan error
	log    *syncBuffer

	mu     sync.Mutex
	report engine.Reporter // the newest trainer's
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// testSource is the data every test list trains on: 300 digits of each
// embedded split (the TrainerFuncs of real-training tests bring their own).
var testSource = sync.OnceValues(func() (*mnist.Set, error) {
	test, err := mnist.EmbeddedTest()
	if err != nil {
		return nil, err
	}
	return test.Limit(300), nil
})

// testSpec is the run of a test list: the notebook's on 64 digits.
func testSpec() runs.Spec {
	spec := runs.DefaultSpec()
	spec.Limit = 64
	return spec
}

// testList returns a held list of one run (ID 1) of testSpec built by tf.
func testList(t testing.TB, tf runs.TrainerFunc) *runs.List {
	t.Helper()
	return testListOf(t, testSpec(), tf)
}

// testListOf is testList for a run of spec.
func testListOf(t testing.TB, spec runs.Spec, tf runs.TrainerFunc) *runs.List {
	t.Helper()
	src, err := testSource()
	if err != nil {
		t.Fatal(err)
	}
	l := runs.NewList(runs.Held(), runs.WithSource("", src, src), runs.WithTrainerFunc(tf))
	t.Cleanup(l.Close)
	if _, err := (runs.Access{List: l, Caps: runs.AllCaps()}).Add(spec); err != nil {
		t.Fatal(err)
	}
	return l
}

// startServer starts a server for o serving a list of one run trained by
// tf, and stops it when the test ends.
func startServer(t testing.TB, o Options, tf runs.TrainerFunc, newModel ModelFunc) *testServer {
	t.Helper()
	return startServerOf(t, o, testSpec(), tf, newModel)
}

// startServerOf is startServer for a run of spec.
func startServerOf(t testing.TB, o Options, spec runs.Spec, tf runs.TrainerFunc, newModel ModelFunc) *testServer {
	t.Helper()
	logb := &syncBuffer{}
	ts := &testServer{log: logb}
	list := testListOf(t, spec, func(p runs.Prepared, report engine.Reporter) (runs.Trainer, error) {
		ts.mu.Lock()
		ts.report = report
		ts.mu.Unlock()
		return tf(p, report)
	})
	s, err := New(o, list, newModel, logb)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts.Server, ts.addr, ts.cancel, ts.done = s, ln.Addr().String(), cancel, make(chan error, 1)
	go func() { ts.done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() { ts.stop(t) })
	return ts
}

// stop shuts the server down and waits for Serve to return.
func (ts *testServer) stop(t testing.TB) error {
	t.Helper()
	ts.cancel()
	select {
	case err, ok := <-ts.done:
		if ok {
			close(ts.done)
		}
		return err
	case <-time.After(waitLimit):
		t.Fatalf("server did not stop; log:\n%s", ts.log)
		return nil
	}
}

// publish sends r as the newest trainer's report (waiting for the run to
// start), as training would.
func (ts *testServer) publish(t testing.TB, r engine.Report) {
	t.Helper()
	var report engine.Reporter
	waitUntil(t, "the run starts", func() bool {
		ts.mu.Lock()
		defer ts.mu.Unlock()
		report = ts.report
		return report != nil
	})
	report(r)
}

// reports returns the reports in the list's history, in order.
func (ts *testServer) reports() []engine.Report {
	var out []engine.Report
	for _, e := range ts.List().Hub().History() {
		if e.Kind == runs.KindReport {
			out = append(out, e.Report)
		}
	}
	return out
}

// last returns the newest training progress report in the history (not
// an evaluation's).
func (ts *testServer) last() (engine.Report, bool) {
	rs := ts.reports()
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].Kind != engine.KindEval {
			return rs[i], true
		}
	}
	return engine.Report{}, false
}

// as is an Access to the served list for an admin called user.
func (ts *testServer) as(user string) runs.Access {
	return runs.Access{List: ts.List(), Caps: runs.AllCaps(), Actor: runs.Actor{User: user}}
}

// noRun is a TrainerFunc for tests that publish reports themselves: its
// run just waits for the end.
func noRun(runs.Prepared, engine.Reporter) (runs.Trainer, error) { return idleRun{}, nil }

// idleRun is a runs.Trainer that trains nothing.
type idleRun struct{}

func (idleRun) Run(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
func (idleRun) Pause()                        {}
func (idleRun) Resume()                       {}
func (idleRun) Paused() bool                  { return false }
func (idleRun) Step() error                   { return engine.ErrNotPaused }
func (idleRun) SetPace(float64) error         { return nil }
func (idleRun) SetLR(float64) (engine.Position, error) {
	return engine.Position{}, nil
}
func (idleRun) Position() engine.Position { return engine.Position{} }
func (idleRun) Evaluate(context.Context) (*engine.Predictions, error) {
	return nil, errors.New("nothing to evaluate")
}
func (idleRun) Snapshot() *engine.Model        { return nil }
func (idleRun) Checkpoint() *engine.Checkpoint { return nil }
func (idleRun) Save(string) error              { return errors.New("nothing to save") }

// tuiModels is the real dashboard for every session, as main builds it
// (in its classroom).
func tuiModels() ModelFunc {
	cache := tui.NewCache(0)
	return func(s Session) tea.Model {
		return tui.New(tui.Options{Context: s.Context, Renderer: s.Renderer, Access: s.Access, Bursts: s.Bursts(), Cache: cache, NoMouse: !s.Mouse, Class: s.Class, Follow: s.Follow})
	}
}

// classroom connects a viewer (k.user) and an admin (k.admin) to ts, each
// with a PTY of w x h, waits until both dashboards show the run, and
// closes both when the test ends. It returns the admin's SSH user name.
func classroom(t *testing.T, ts *testServer, k *keys, w, h int) (viewer, admin *terminal, adminUser string) {
	t.Helper()
	cv, err := dial(t, ts.addr, k.user)
	if err != nil {
		t.Fatal(err)
	}
	viewer = openTerminal(t, cv, w, h)
	t.Cleanup(viewer.close)
	ca, err := dial(t, ts.addr, k.admin)
	if err != nil {
		t.Fatal(err)
	}
	admin = openTerminal(t, ca, w, h)
	t.Cleanup(admin.close)
	viewer.waitFor(t, "model RNN")
	admin.waitFor(t, "model RNN")
	return viewer, admin, ca.User()
}

// dial connects to ts with signer (nil: no key, keyboard-interactive).
func dial(t testing.TB, addr string, signer gossh.Signer) (*gossh.Client, error) {
	t.Helper()
	cfg := &gossh.ClientConfig{
		User:            "student",
		HostKeyCallback: gossh.InsecureIgnoreHostKey(),
		Timeout:         waitLimit,
	}
	if signer != nil {
		cfg.Auth = []gossh.AuthMethod{gossh.PublicKeys(signer)}
	} else {
		cfg.Auth = []gossh.AuthMethod{gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) { return nil, nil })}
	}
	return gossh.Dial("tcp", addr, cfg)
}

// terminal is a client session with a PTY, its output accumulated; it
// answers the terminal queries a real terminal emulator answers (DA1), as
// the server's renderer waits for them.
type terminal struct {
	client *gossh.Client
	sess   *gossh.Session
	stdin  io.WriteCloser

	mu       sync.Mutex
	out      bytes.Buffer
	answered int
	// stripped is out[:strippedTo] without escape sequences: screen strips
	// only what came since, line by line (no sequence spans a newline), so
	// waiting on a long session's output does not cost more and more.
	stripped   strings.Builder
	strippedTo int
	eof        chan struct{}
	keepOpen   bool
	mute       bool // never answer terminal queries
}

// openTerminal opens a shell session with a w x h PTY. When the server
// ends the session, the client closes its connection, as OpenSSH does.
func openTerminal(t testing.TB, c *gossh.Client, w, h int) *terminal {
	t.Helper()
	return openTerminalKeep(t, c, w, h, false)
}

// openTerminalKeep is openTerminal; with keepOpen the client keeps its
// connection open after the session ends.
func openTerminalKeep(t testing.TB, c *gossh.Client, w, h int, keepOpen bool) *terminal {
	t.Helper()
	return openTerminalWith(t, c, w, h, keepOpen, false)
}

// openTerminalWith is openTerminalKeep; with mute the terminal never
// answers queries, as a dumb terminal or a script would.
func openTerminalWith(t testing.TB, c *gossh.Client, w, h int, keepOpen, mute bool) *terminal {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", h, w, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	sess.Stderr = io.Discard
	tm := &terminal{client: c, sess: sess, stdin: stdin, eof: make(chan struct{}), keepOpen: keepOpen, mute: mute}
	go tm.read(stdout)
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	return tm
}

// read collects the output; when the server ends the session it closes
// the connection, as OpenSSH's client does.
func (tm *terminal) read(r io.Reader) {
	defer close(tm.eof)
	defer func() {
		if !tm.keepOpen {
			tm.client.Close()
		}
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			tm.mu.Lock()
			from := max(tm.out.Len()-2, 0) // a query may straddle two reads
			tm.out.Write(buf[:n])
			if !tm.mute && strings.Contains(string(tm.out.Bytes()[from:]), "\x1b[c") {
				q := strings.Count(tm.out.String(), "\x1b[c")
				for ; tm.answered < q; tm.answered++ {
					_, _ = io.WriteString(tm.stdin, "\x1b[?62;22c")
				}
			}
			tm.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// screen returns everything shown so far with the escape sequences removed.
func (tm *terminal) screen() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	b := tm.out.Bytes()
	if i := bytes.LastIndexByte(b[tm.strippedTo:], '\n'); i >= 0 {
		end := tm.strippedTo + i + 1
		tm.stripped.WriteString(ansi.Strip(string(b[tm.strippedTo:end])))
		tm.strippedTo = end
	}
	return tm.stripped.String() + ansi.Strip(string(b[tm.strippedTo:]))
}

// raw returns everything shown so far, escape sequences included.
func (tm *terminal) raw() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.out.String()
}

// waitFor waits until the stripped output contains want.
func (tm *terminal) waitFor(t testing.TB, want string) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !strings.Contains(tm.screen(), want) {
		select {
		case <-tm.eof:
			if strings.Contains(tm.screen(), want) {
				return
			}
			t.Fatalf("session ended before %q showed up; screen:\n%s", want, tail(tm.screen()))
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q never showed up; screen:\n%s", want, tail(tm.screen()))
		}
	}
}

// waitEOF waits until the server ends the session.
func (tm *terminal) waitEOF(t testing.TB) {
	t.Helper()
	select {
	case <-tm.eof:
	case <-time.After(waitLimit):
		t.Fatalf("session did not end; screen:\n%s", tail(tm.screen()))
	}
}

func (tm *terminal) send(t testing.TB, s string) {
	t.Helper()
	if _, err := io.WriteString(tm.stdin, s); err != nil {
		t.Fatal(err)
	}
}

func (tm *terminal) close() {
	tm.sess.Close()
	tm.client.Close()
}

// tail returns the end of a long screen dump.
func tail(s string) string {
	if len(s) > 3000 {
		return "..." + s[len(s)-3000:]
	}
	return s
}

// probe is a small dashboard model for the server's own tests: it shows a
// header, how many reports it got, its size and the last key, and pauses
// the run with "p" the way the TUI does. Its counters are shared with the
// test.
type probe struct {
	s       Session
	reports int
	last    engine.Report
	w, h    int
	key     string
	note    string
	stats   *probeStats
}

// probeStats are what a probe saw, for tests to read.
type probeStats struct {
	models    atomic.Int32 // models built
	firstView atomic.Int32 // reports counted when the first non-empty view with a size was drawn
	sizes     sync.Map     // "WxH" seen
}

type eventMsg runs.Event

type eventsDoneMsg struct{}

func waitEvent(c <-chan runs.Event) tea.Cmd {
	return func() tea.Msg {
		e, ok := <-c
		if !ok {
			return eventsDoneMsg{}
		}
		return eventMsg(e)
	}
}

func probeModels(stats *probeStats) ModelFunc {
	return func(s Session) tea.Model {
		stats.models.Add(1)
		stats.firstView.Store(-1)
		return &probe{s: s, stats: stats, w: s.Width, h: s.Height}
	}
}

func (m *probe) Init() tea.Cmd { return waitEvent(m.s.Events()) }

// take counts e if it is a report.
func (m *probe) take(e runs.Event) {
	if e.Kind == runs.KindReport {
		m.reports++
		m.last = e.Report
	}
}

func (m *probe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case eventMsg:
		m.take(runs.Event(msg))
		// Drain the burst of history in one go, as a dashboard would.
		for {
			select {
			case e, ok := <-m.s.Events():
				if !ok {
					return m, nil
				}
				m.take(e)
				continue
			default:
			}
			break
		}
		return m, waitEvent(m.s.Events())
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
		m.stats.sizes.Store(fmt.Sprintf("%dx%d", m.w, m.h), true)
	case tea.KeyMsg:
		m.key = msg.String()
		switch m.key {
		case "q":
			return m, tea.Quit
		case "!":
			panic("probe: boom")
		case "p":
			st, _ := m.s.Access.List.Run(1)
			switch {
			case !m.s.Access.Allowed(runs.ActPause):
				m.note = m.s.Access.Reason
			case st.State == runs.StatePaused:
				_ = m.s.Access.Resume(1)
				m.note = "resumed"
			default:
				_ = m.s.Access.Pause(1)
				m.note = "paused"
			}
		}
	}
	return m, nil
}

func (m *probe) View() string {
	m.stats.firstView.CompareAndSwap(-1, int32(m.reports))
	return fmt.Sprintf("MNIST CLASSROOM PROBE\nreports=%d epoch=%d step=%d\nsize=%dx%d\nkey=%s\nnote=%s\nadmin=%t\nprofile=%d\n",
		m.reports, m.last.Epoch, m.last.Step, m.w, m.h, m.key, m.note, m.s.Admin, m.s.Renderer.ColorProfile())
}

// batch returns a batch report of epoch e, step i.
func batch(e, i int) engine.Report {
	return engine.Report{Kind: engine.KindBatch, Phase: engine.PhaseTrain, Epoch: e, Epochs: 3, Step: i, Steps: 100, Loss: 1 / float64(i+1)}
}

// phaseEnd returns the phase-end report of epoch e.
func phaseEnd(e int) engine.Report {
	return engine.Report{Kind: engine.KindPhaseEnd, Phase: engine.PhaseVal, Epoch: e, Epochs: 3, Acc: 0.5}
}

// waitUntil polls cond until it holds.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
