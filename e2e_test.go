package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// tmuxTerm is a real terminal: a tmux server on its own socket running the
// built binary in a pane of a fixed size.
type tmuxTerm struct {
	t      *testing.T
	socket string
	target string // the session keys go to and screens come from ("e2e" if empty)
}

// pane is the session screens and keys are about.
func (m *tmuxTerm) pane() string {
	if m.target == "" {
		return "e2e"
	}
	return m.target
}

func (m *tmuxTerm) tmux(args ...string) (string, error) {
	out, err := exec.Command("tmux", append([]string{"-L", m.socket}, args...)...).CombinedOutput()
	return string(out), err
}

// screen returns the pane's visible text.
func (m *tmuxTerm) screen() string {
	out, err := m.tmux("capture-pane", "-p", "-t", m.pane())
	if err != nil {
		m.t.Fatalf("capture-pane: %v: %s", err, out)
	}
	return out
}

// waitFor polls the screen until re matches, failing after timeout.
func (m *tmuxTerm) waitFor(re *regexp.Regexp, timeout time.Duration) string {
	m.t.Helper()
	return m.waitUntil(fmt.Sprintf("%q", re), re.MatchString, timeout)
}

// waitUntil polls the screen until ok holds for it, failing after timeout
// with what, the condition.
func (m *tmuxTerm) waitUntil(what string, ok func(screen string) bool, timeout time.Duration) string {
	m.t.Helper()
	deadline := time.Now().Add(timeout)
	var s string
	for time.Now().Before(deadline) {
		s = m.screen()
		if ok(s) {
			return s
		}
		time.Sleep(200 * time.Millisecond)
	}
	m.t.Fatalf("after %v the screen has no %s:\n%s", timeout, what, s)
	return ""
}

// waitSettled is waitUntil for a screen that also stays the same over
// two polls: a frame tmux has taken in whole, not one it was still
// reading from the program (its new top lines above the old bars).
func (m *tmuxTerm) waitSettled(what string, ok func(screen string) bool, timeout time.Duration) string {
	m.t.Helper()
	prev := ""
	return m.waitUntil(what+" (settled)", func(s string) bool {
		same := s == prev
		prev = s
		return same && ok(s)
	}, timeout)
}

func (m *tmuxTerm) keys(keys ...string) {
	if out, err := m.tmux(append([]string{"send-keys", "-t", m.pane()}, keys...)...); err != nil {
		m.t.Fatalf("send-keys: %v: %s", err, out)
	}
}

// e2eBinary skips the test with -short (the race run uses it) and
// otherwise builds the binary for it.
func e2eBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary; runs without -short (the race run uses -short)")
	}
	return buildBinary(t)
}

// buildBinary returns the program compiled once for all the tests of this
// run (TestMain removes it), the first caller building it.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin, err := testBinary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// testBinary builds the program into binDir, once.
var testBinary = sync.OnceValues(func() (string, error) {
	bin := filepath.Join(binDir, "mnist-tui")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// binDir is where testBinary builds, made and removed by TestMain.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mnist-tui-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// paneFlags returns tmux formats of the pane, such as its mouse modes.
func (m *tmuxTerm) paneFlags(target, format string) string {
	m.t.Helper()
	out, err := m.tmux("display-message", "-p", "-t", target, format)
	if err != nil {
		m.t.Fatalf("display-message: %v: %s", err, out)
	}
	return strings.TrimSpace(out)
}

// mouse sends raw SGR mouse sequences to the pane, as a terminal whose
// mouse the application asked for would (send-keys -l passes the bytes to
// the application; coordinates count from 1).
func (m *tmuxTerm) mouse(seqs ...string) {
	m.t.Helper()
	m.keys(append([]string{"-l"}, strings.Join(seqs, ""))...)
}

// click is a left button press and release at column x, row y (from 0).
func click(x, y int) string {
	return fmt.Sprintf("\x1b[<0;%d;%dM\x1b[<0;%d;%dm", x+1, y+1, x+1, y+1)
}

// wheel is a turn of the wheel (down, or up) at column x, row y (from 0).
func wheel(down bool, x, y int) string {
	b := 64
	if down {
		b = 65
	}
	return fmt.Sprintf("\x1b[<%d;%d;%dM", b, x+1, y+1)
}

// chartHeight is how many lines the dashboard's "train loss" chart takes,
// its title to its x axis (0: no such chart on the screen).
func chartHeight(screen string) int {
	lines := strings.Split(screen, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "train loss") {
			for j := i + 1; j < len(lines); j++ {
				if strings.Contains(lines[j], "└") {
					return j - i
				}
			}
		}
	}
	return 0
}

// column is the rune offset of s in line, -1 if absent.
func column(line, s string) int {
	i := strings.Index(line, s)
	if i < 0 {
		return -1
	}
	return len([]rune(line[:i]))
}

// TestEndToEndInTerminal runs the real binary in a real terminal (tmux) on
// 2,000 real digits of each split, waits for training to finish, and then
// uses it as a person would: the dashboard's charts grow with the
// terminal, a click on the Confusion tab shows the matrix, a click on a
// cell opens the browser on its digits, the wheel and a burst of keys step
// through them, "a" and digits typed at once jump; a digit's replay shows
// its predictions after rows 14 and 28 (replayDigits); strokes drawn on the
// canvas with the mouse and the keys are classified (drawOnCanvas).
// --no-mouse leaves the mouse to the terminal.
func TestEndToEndInTerminal(t *testing.T) {
	t.Parallel() // mostly waits on processes and terminals: overlaps the others
	bin := e2eBinary(t)
	m := startTmux(t, "e2e", 120, 40, bin+" --limit 2000 --epochs 2 --seed 3")
	m.waitFor(regexp.MustCompile(`model RNN 28→128→10`), 30*time.Second)
	// The app asked the terminal for button-event mouse reports in SGR.
	if got := m.paneFlags("e2e", "#{mouse_button_flag}#{mouse_sgr_flag}"); got != "11" {
		t.Errorf("mouse modes (button, sgr) = %q, want 11", got)
	}
	s := m.waitFor(regexp.MustCompile(`test accuracy \d\.\d{4}`), 180*time.Second)
	if !strings.Contains(s, "2      val") {
		t.Errorf("the epoch table lacks epoch 2's validation row:\n%s", s)
	}

	// A bigger terminal gets taller charts.
	h120 := chartHeight(s)
	if h120 == 0 {
		t.Fatalf("no train loss chart at 120x40:\n%s", s)
	}
	if out, err := m.tmux("resize-window", "-t", "e2e", "-x", "200", "-y", "60"); err != nil {
		t.Fatalf("resize-window: %v: %s", err, out)
	}
	// It uses the room: half as tall again at least (not just the few
	// lines a capped height would give).
	big := m.waitUntil(fmt.Sprintf("train loss chart half as tall again as its %d lines at 120x40", h120),
		func(s string) bool { return 2*chartHeight(s) >= 3*h120 }, 10*time.Second)
	t.Logf("train loss chart: %d lines at 120x40, %d at 200x60", h120, chartHeight(big))
	if out, err := m.tmux("resize-window", "-t", "e2e", "-x", "120", "-y", "40"); err != nil {
		t.Fatalf("resize-window: %v: %s", err, out)
	}
	s = m.waitFor(regexp.MustCompile(`test accuracy`), 10*time.Second)

	// A click on the Confusion tab.
	bar := strings.Split(s, "\n")[0]
	x := column(bar, "Confusion")
	if x < 0 {
		t.Fatalf("no Confusion tab in the tab bar %q", bar)
	}
	m.mouse(click(x+2, 0))
	s = m.waitFor(regexp.MustCompile(`Confusion matrix`), 10*time.Second)

	// A click on the diagonal cell with the most digits, found on the
	// screen from the column labels and the row labels.
	lines := strings.Split(s, "\n")
	hy := -1
	for y, l := range lines {
		if strings.HasPrefix(l, "true ") {
			hy = y
			break
		}
	}
	if hy < 0 {
		t.Fatalf("no column labels:\n%s", s)
	}
	best, bestN, bestY := -1, -1, -1
	for y := hy + 1; y < len(lines); y++ {
		f := strings.Fields(lines[y])
		if len(f) < 12 || len(f[0]) != 1 || f[0][0] < '0' || f[0][0] > '9' {
			continue
		}
		d := int(f[0][0] - '0')
		cell := strings.Trim(f[1+d], "[]")
		var n int
		if _, err := fmt.Sscan(cell, &n); err == nil && n > bestN {
			best, bestN, bestY = d, n, y
		}
	}
	if best < 0 || bestN < 6 {
		t.Fatalf("no diagonal cell with six digits or more:\n%s", s)
	}
	cx := strings.LastIndex(lines[hy][:strings.Index(lines[hy], "acc")], fmt.Sprint(best))
	m.mouse(click(cx, bestY))
	count := regexp.MustCompile(fmt.Sprintf(`filter: target %d, predicted %d · %d match · 1/%d`, best, best, bestN, bestN))
	s = m.waitFor(count, 10*time.Second)
	if !regexp.MustCompile(fmt.Sprintf(`target\s+%d\s`, best)).MatchString(s) {
		t.Errorf("the browser does not show a digit of class %d:\n%s", best, s)
	}

	// The wheel and a burst of keys step through the cell's digits.
	m.mouse(wheel(true, 20, 10))
	m.waitFor(regexp.MustCompile(fmt.Sprintf(`match · 2/%d`, bestN)), 10*time.Second)
	m.keys("-l", "lll")
	m.waitFor(regexp.MustCompile(fmt.Sprintf(`match · 5/%d`, bestN)), 10*time.Second)
	m.mouse(wheel(false, 20, 10))
	m.waitFor(regexp.MustCompile(fmt.Sprintf(`match · 4/%d`, bestN)), 10*time.Second)
	// "a" and digits at once open the jump prompt with the digits.
	m.keys("c")
	m.waitFor(regexp.MustCompile(`filter: all digits · 2,000 match · \d`), 10*time.Second)
	m.keys("-l", "a123")
	m.waitFor(regexp.MustCompile(`go to digit \(0-1999\): 123`), 10*time.Second)
	m.keys("Enter")
	m.waitFor(regexp.MustCompile(`digit\s+123 of 2,000`), 10*time.Second)

	replayDigits(t, m)
	drawOnCanvas(t, m)

	m.keys("q")
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := m.tmux("has-session", "-t", "e2e"); err != nil {
			break // the program exited: the pane and session are gone
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := m.tmux("has-session", "-t", "e2e"); err == nil {
		t.Fatalf("the program did not exit after q:\n%s", m.screen())
	}

	// --no-mouse: the terminal keeps the mouse (no training: --epochs 0).
	cmd := fmt.Sprintf("%s --no-mouse --limit 640 --epochs 0", bin)
	if out, err := m.tmux("new-session", "-d", "-s", "plain", "-x", "100", "-y", "30", cmd); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	m.target = "plain"
	m.waitFor(regexp.MustCompile(`test accuracy`), 60*time.Second)
	if got := m.paneFlags("plain", "#{mouse_any_flag}"); got != "0" {
		t.Errorf("with --no-mouse the app turned mouse reporting on (any flag %q)", got)
	}
	m.keys("q")
}

// replayLine is the replay's "row 14/28: predicts 3 (.412)".
var replayLine = regexp.MustCompile(`row (\d+)/28: predicts (\d) \((\.\d{3}|1\.00)\)`)

// replayBars are the replay's probability bars, "3 ███··· .412".
var replayBars = regexp.MustCompile(`(\d) [█▉▊▋▌▍▎▏·]+ (\.\d{3}|1\.00)`)

// replayed reads a replay screen: the row, the prediction shown, its
// probability, and the bars' probabilities by class.
func replayed(t *testing.T, s string) (row, pred int, p string, bars [10]string) {
	t.Helper()
	mm := replayLine.FindStringSubmatch(s)
	if mm == nil {
		t.Fatalf("no replay line:\n%s", s)
	}
	fmt.Sscan(mm[1], &row)
	fmt.Sscan(mm[2], &pred)
	n := 0
	for _, l := range strings.Split(s, "\n") {
		if b := replayBars.FindStringSubmatch(l); b != nil {
			var c int
			fmt.Sscan(b[1], &c)
			bars[c] = b[2]
			n++
		}
	}
	if n != 10 {
		t.Fatalf("%d probability bars on the replay:\n%s", n, s)
	}
	return row, pred, mm[3], bars
}

// replayDigits opens the replay of digits from the browser (from the one
// shown on), steps to rows 14 and 28, and reads both screens: the
// probabilities differ, the prediction each shows is the most probable of
// its bars, the one at row 28 is the browser's; it goes on until a digit's
// predictions at rows 14 and 28 differ, and so are shown differently.
func replayDigits(t *testing.T, m *tmuxTerm) {
	t.Helper()
	predicted := regexp.MustCompile(`predicted (\d)`)
	index := regexp.MustCompile(`digit\s+(\d+) of 2,000`)
	for tries := 0; tries < 20; tries++ {
		s := m.screen()
		bp := predicted.FindStringSubmatch(s)
		di := index.FindStringSubmatch(s)
		if bp == nil || di == nil {
			t.Fatalf("the browser shows no digit and prediction:\n%s", s)
		}
		m.keys("v")
		s28 := m.waitSettled("row 28 of digit "+di[1], regexp.MustCompile(`test digit `+di[1]+`(?s).*row 28/28: predicts`).MatchString, 10*time.Second)
		_, p28, prob28, bars28 := replayed(t, s28)
		if fmt.Sprint(p28) != bp[1] {
			t.Fatalf("row 28 predicts %d, the browser %s:\n%s", p28, bp[1], s28)
		}
		m.keys("g")
		for range 13 {
			m.keys("Right")
		}
		s14 := m.waitSettled("row 14", regexp.MustCompile(`row 14/28: predicts`).MatchString, 10*time.Second)
		_, p14, prob14, bars14 := replayed(t, s14)
		if bars14 == bars28 {
			t.Fatalf("digit %s: the same probabilities after rows 14 and 28:\n%s", di[1], s14)
		}
		for _, c := range []struct {
			pred int
			p    string
			bars [10]string
		}{{p14, prob14, bars14}, {p28, prob28, bars28}} {
			best := 0
			for k, v := range c.bars {
				if v > c.bars[best] { // same width: the text orders as the number
					best = k
				}
			}
			if c.bars[c.pred] != c.bars[best] || c.bars[c.pred] != c.p {
				t.Fatalf("digit %s: predicts %d (%s) but the bars are %v", di[1], c.pred, c.p, c.bars)
			}
		}
		t.Logf("digit %s: after row 14 predicts %d (%s), after row 28 %d (%s)", di[1], p14, prob14, p28, prob28)
		if p14 != p28 {
			m.keys("Escape")
			m.waitFor(regexp.MustCompile(`filter: all digits`), 10*time.Second)
			return
		}
		m.keys("Escape", "l")
		m.waitUntil("the next digit", func(s string) bool {
			d := index.FindStringSubmatch(s)
			return d != nil && d[1] != di[1]
		}, 10*time.Second)
	}
	t.Fatal("no digit among 20 changes its prediction between rows 14 and 28")
}

// drawOnCanvas draws a vertical stroke on the canvas with SGR mouse
// sequences (a press, motion with the left button held, the release), then
// another with the keys, and waits for a prediction of each.
func drawOnCanvas(t *testing.T, m *tmuxTerm) {
	t.Helper()
	bar := strings.Split(m.screen(), "\n")[0]
	x := column(bar, "Canvas")
	if x < 0 {
		t.Fatalf("no Canvas tab in %q", bar)
	}
	m.mouse(click(x+2, 0))
	s := m.waitFor(regexp.MustCompile(`prediction: none yet`), 10*time.Second)
	// The drawing's frame: its top-left corner on the line after the
	// title; at 120x40 a pixel is two cells wide and a line tall.
	top := -1
	for y, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "┌") {
			top = y
			break
		}
	}
	if top < 0 {
		t.Fatalf("no canvas frame:\n%s", s)
	}
	px, py := func(x int) int { return 1 + 2*x }, func(y int) int { return top + 1 + y }
	seq := []string{fmt.Sprintf("\x1b[<0;%d;%dM", px(14)+1, py(4)+1)}
	for y := 5; y <= 23; y++ {
		seq = append(seq, fmt.Sprintf("\x1b[<32;%d;%dM", px(14)+1, py(y)+1))
	}
	seq = append(seq, fmt.Sprintf("\x1b[<0;%d;%dm", px(14)+1, py(23)+1))
	m.mouse(seq...)
	pred := regexp.MustCompile(`prediction (\d) \((\.\d{3}|1\.00)\)`)
	s = m.waitFor(pred, 10*time.Second)
	t.Logf("the stroke drawn with the mouse: %s", pred.FindString(s))

	m.keys("c")
	m.waitFor(regexp.MustCompile(`prediction: none yet`), 10*time.Second)
	// The cursor starts at (14, 14): to (10, 4), then paint down.
	var ks []string
	for range 4 {
		ks = append(ks, "Left")
	}
	for range 10 {
		ks = append(ks, "Up")
	}
	for range 20 {
		ks = append(ks, "Space", "Down")
	}
	m.keys(ks...)
	s = m.waitFor(pred, 10*time.Second)
	t.Logf("the stroke drawn with the keys: %s", pred.FindString(s))
}

// startTmux starts a tmux server of its own running cmd in a pane of w x
// h, killed when the test ends; it skips (or, in CI, fails) without tmux.
func startTmux(t *testing.T, name string, w, h int, cmd string) *tmuxTerm {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("tmux is needed for the end-to-end test (.ci/run installs it)")
		}
		t.Skip("tmux not installed")
	}
	m := &tmuxTerm{t: t, socket: fmt.Sprintf("mnist-tui-e2e-%s-%d", name, os.Getpid())}
	t.Cleanup(func() { m.tmux("kill-server") })
	if out, err := m.tmux("new-session", "-d", "-s", "e2e", "-x", fmt.Sprint(w), "-y", fmt.Sprint(h), cmd); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	return m
}

// waitExit waits until the program in the pane has exited.
func (m *tmuxTerm) waitExit(timeout time.Duration) {
	m.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, err := m.tmux("has-session", "-t", m.pane()); err != nil {
			return // the program exited: the pane and session are gone
		}
		time.Sleep(100 * time.Millisecond)
	}
	m.t.Fatalf("the program did not exit:\n%s", m.screen())
}

// runsRow finds the runs table's row of the run numbered id (its marker
// after it) on the screen, "" if absent.
func runsRow(screen string, id int, marker string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.HasPrefix(strings.TrimLeft(l, "› "), fmt.Sprintf("%d %s ", id, marker)) {
			return l
		}
	}
	return ""
}

// TestEndToEndComparison runs the real binary in tmux with two runs queued
// from the command line (an RNN and an LSTM on 3,000 digits): both finish,
// one after the other, and the dashboard names both in its legend and in
// its runs table, with their figures; < picks the first run and R R
// restarts it, locally, until it finishes again.
func TestEndToEndComparison(t *testing.T) {
	t.Parallel() // mostly waits on processes and terminals: overlaps the others
	bin := e2eBinary(t)
	m := startTmux(t, "compare", 100, 34, fmt.Sprintf("%s --cell rnn,lstm --limit 3000", bin))
	done := regexp.MustCompile(`done\s+0\.\d{4}\s+0\.\d{4}\s+\d+:\d\d\s+[\d,]+`)
	both := func(s string) bool {
		return done.MatchString(runsRow(s, 1, "*")) && done.MatchString(runsRow(s, 2, "o"))
	}
	s := m.waitUntil("both runs done in the runs table", both, 240*time.Second)
	legend := ""
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "runs  ") {
			legend = l
		}
	}
	if !strings.Contains(legend, "* RNN") || !strings.Contains(legend, "o LSTM") {
		t.Errorf("the legend %q does not name both runs:\n%s", legend, s)
	}
	if !strings.Contains(runsRow(s, 1, "*"), "RNN") || !strings.Contains(runsRow(s, 2, "o"), "LSTM") {
		t.Errorf("the runs table does not name both runs:\n%s", s)
	}
	if !strings.Contains(s, "model LSTM") {
		t.Errorf("the dashboard does not show the run that trained last:\n%s", s)
	}
	t.Logf("after both runs:\n%s", s)

	// Pick run 1 and restart it from scratch.
	m.keys("<")
	m.waitFor(regexp.MustCompile(`model RNN`), 10*time.Second)
	m.keys("R")
	m.waitFor(regexp.MustCompile(`press R again`), 10*time.Second)
	m.keys("R")
	m.waitFor(regexp.MustCompile(`run restarted from scratch`), 30*time.Second)
	m.waitUntil("run 1 training again", func(s string) bool {
		return !done.MatchString(runsRow(s, 1, "*")) && done.MatchString(runsRow(s, 2, "o"))
	}, 30*time.Second)
	m.waitUntil("run 1 done again", both, 120*time.Second)
	m.keys("q")
	m.waitExit(10 * time.Second)
}

// TestEndToEndSetup runs the real binary with --setup: the form comes
// first (cell, hidden size, learning rate, ...), nothing trains until it
// is submitted, and submitting it (an LSTM, enter on every line) starts
// training; esc on the form instead exits with status 0.
func TestEndToEndSetup(t *testing.T) {
	t.Parallel() // mostly waits on processes and terminals: overlaps the others
	bin := e2eBinary(t)
	m := startTmux(t, "setup", 80, 24, fmt.Sprintf("%s --setup --limit 640 --epochs 2", bin))
	s := m.waitFor(regexp.MustCompile(`learning rate`), 30*time.Second)
	for _, want := range []string{"cell", "hidden size", "learning rate", "limit", "640", "data set", "esc quits"} {
		if !strings.Contains(s, want) {
			t.Errorf("the form lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "model RNN") || !strings.Contains(s, "no run") {
		t.Errorf("something trains before the form is submitted:\n%s", s)
	}
	m.keys("Right")
	m.waitFor(regexp.MustCompile(`‹ LSTM ›`), 10*time.Second)
	m.keys("Enter", "Enter", "Enter", "Enter", "Enter", "Enter", "Enter", "Enter")
	s = m.waitFor(regexp.MustCompile(`test accuracy \d\.\d{4}`), 120*time.Second)
	if !strings.Contains(s, "model LSTM 28→128→10") || !strings.Contains(s, "epochs 2") {
		t.Errorf("the run trained is not the form's:\n%s", s)
	}
	m.keys("q")
	m.waitExit(10 * time.Second)

	// Leaving the form: a clean exit, status 0, nothing trained.
	status := filepath.Join(t.TempDir(), "status")
	m = startTmux(t, "setup-esc", 80, 24, fmt.Sprintf("sh -c '%s --setup; echo $? > %s'", bin, status))
	m.waitFor(regexp.MustCompile(`learning rate`), 30*time.Second)
	m.keys("Escape")
	m.waitExit(10 * time.Second)
	got, err := os.ReadFile(status)
	if err != nil || strings.TrimSpace(string(got)) != "0" {
		t.Errorf("esc on the --setup form: exit status %q (%v), want 0", got, err)
	}
}
