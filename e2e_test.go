package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// tmuxTerm is a real terminal: a tmux server on its own socket running the
// built binary in a pane of a fixed size.
type tmuxTerm struct {
	t      *testing.T
	socket string
}

func (m *tmuxTerm) tmux(args ...string) (string, error) {
	out, err := exec.Command("tmux", append([]string{"-L", m.socket}, args...)...).CombinedOutput()
	return string(out), err
}

// screen returns the pane's visible text.
func (m *tmuxTerm) screen() string {
	out, err := m.tmux("capture-pane", "-p", "-t", "e2e")
	if err != nil {
		m.t.Fatalf("capture-pane: %v: %s", err, out)
	}
	return out
}

// waitFor polls the screen until re matches, failing after timeout.
func (m *tmuxTerm) waitFor(re *regexp.Regexp, timeout time.Duration) string {
	m.t.Helper()
	deadline := time.Now().Add(timeout)
	var s string
	for time.Now().Before(deadline) {
		s = m.screen()
		if re.MatchString(s) {
			return s
		}
		time.Sleep(200 * time.Millisecond)
	}
	m.t.Fatalf("after %v the screen has no %q:\n%s", timeout, re, s)
	return ""
}

func (m *tmuxTerm) keys(keys ...string) {
	if out, err := m.tmux(append([]string{"send-keys", "-t", "e2e"}, keys...)...); err != nil {
		m.t.Fatalf("send-keys: %v: %s", err, out)
	}
}

// buildBinary compiles the program into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mnist-tui")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestEndToEndInTerminal runs the real binary in a real terminal (tmux) on
// a few hundred real digits, waits for training to finish, and steps into
// the prediction browser with the keyboard.
func TestEndToEndInTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; runs without -short (the race run uses -short)")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("tmux is needed for the end-to-end test (.ci/run installs it)")
		}
		t.Skip("tmux not installed")
	}
	bin := buildBinary(t)
	m := &tmuxTerm{t: t, socket: fmt.Sprintf("mnist-tui-e2e-%d", os.Getpid())}
	t.Cleanup(func() { m.tmux("kill-server") })
	cmd := fmt.Sprintf("%s --limit 640 --epochs 2 --seed 3", bin)
	if out, err := m.tmux("new-session", "-d", "-s", "e2e", "-x", "120", "-y", "40", cmd); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	m.waitFor(regexp.MustCompile(`model RNN 28→128→10`), 30*time.Second)
	s := m.waitFor(regexp.MustCompile(`test accuracy \d\.\d{4}`), 180*time.Second)
	if !strings.Contains(s, "2      val") {
		t.Errorf("the epoch table lacks epoch 2's validation row:\n%s", s)
	}
	m.keys("Tab")
	target := regexp.MustCompile(`target\s+(\d)`)
	predicted := regexp.MustCompile(`predicted\s+(\d)`)
	s = m.waitFor(predicted, 10*time.Second)
	if !target.MatchString(s) {
		t.Fatalf("the browser shows no target label:\n%s", s)
	}
	if !regexp.MustCompile(`digit\s+0 of 640`).MatchString(s) {
		t.Fatalf("the browser does not start at digit 0 of 640:\n%s", s)
	}
	m.keys("l")
	m.waitFor(regexp.MustCompile(`digit\s+1 of 640`), 10*time.Second)
	m.keys("q")
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := m.tmux("has-session", "-t", "e2e"); err != nil {
			return // the program exited: the pane and session are gone
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the program did not exit after q:\n%s", m.screen())
}
