//go:build linux

package main

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// ptyRun is the real binary running in a pseudo-terminal.
type ptyRun struct {
	cmd  *exec.Cmd
	ptmx *os.File // the terminal's master side: what the user types and sees
	tty  *os.File // the terminal's slave side, kept to read its settings
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{} // closed once the output is drained (the program exited)
	exit chan error
}

// startInPTY runs bin with args in a new 100x30 pseudo-terminal.
func startInPTY(t *testing.T, bin string, args ...string) *ptyRun {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ptmx.Close(); tty.Close() })
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 30, Cols: 100}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.Env = append(os.Environ(), "TERM=xterm-256color")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &ptyRun{cmd: cmd, ptmx: ptmx, tty: tty, done: make(chan struct{}), exit: make(chan error, 1)}
	go func() {
		defer close(r.done)
		buf := make([]byte, 32<<10)
		for {
			n, err := ptmx.Read(buf)
			r.mu.Lock()
			from := r.out.Len()
			r.out.Write(buf[:n])
			r.answer(ptmx, r.out.Bytes(), from)
			r.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() { r.exit <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return r
}

// answer replies to the queries in the output from offset from on (out is
// all of it) as a terminal emulator would: the background colour (OSC 11)
// and the cursor position (DSR). Bubble Tea asks both when the program
// starts, and waits for the answers.
func (r *ptyRun) answer(ptmx *os.File, out []byte, from int) {
	for q, a := range map[string]string{"\x1b]11;?": "\x1b]11;rgb:0000/0000/0000\x1b\\", "\x1b[6n": "\x1b[1;1R"} {
		// A query may straddle two reads; one wholly before from was
		// answered already.
		n := bytes.Count(out[max(from-len(q)+1, 0):], []byte(q))
		for range n {
			_, _ = ptmx.WriteString(a)
		}
	}
}

// drain returns all the output once the program has exited: closing the
// terminal's last slave descriptor lets the reader reach the end.
func (r *ptyRun) drain() string {
	r.tty.Close()
	<-r.done
	return r.output()
}

func (r *ptyRun) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out.String()
}

// waitOutput waits until the output contains want.
func (r *ptyRun) waitOutput(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(r.output(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("%q never showed up; output:\n%q", want, tailString(r.output()))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// wait waits for the program to exit and returns its exit status (-1
// after hang, when it had to be killed) and how long it took.
func (r *ptyRun) wait(hang time.Duration) (code int, took time.Duration) {
	start := time.Now()
	select {
	case err := <-r.exit:
		took = time.Since(start)
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0, took
		case errors.As(err, &ee):
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				// Killed before the program installed its handler (a
				// shell reports this status as 128 plus the signal too).
				return 128 + int(ws.Signal()), took
			}
			return ee.ExitCode(), took
		}
		return -2, took
	case <-time.After(hang):
		_ = r.cmd.Process.Kill()
		<-r.exit
		return -1, time.Since(start)
	}
}

// cooked reports whether the terminal is back in its normal line mode
// (canonical input with echo), as it was before the program made it raw.
func (r *ptyRun) cooked(t *testing.T) bool {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(r.tty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return tio.Lflag&unix.ICANON != 0 && tio.Lflag&unix.ECHO != 0
}

func tailString(s string) string {
	if len(s) > 2000 {
		return s[len(s)-2000:]
	}
	return s
}

// hangLimit is how long a signalled program may take before it counts as
// hung. It is a deadlock guard on a loaded machine, not a speed target:
// the time each trial took is logged.
const hangLimit = 20 * time.Second

// testSignalsEndTheTUI runs the real binary's dashboard in a pseudo-terminal
// and stops it with SIGINT, SIGTERM and SIGHUP, signalReps times each at
// random moments while it trains: every trial must exit with 128 plus the
// signal's number, the terminal restored (alternate screen left, cursor
// shown, line mode back). Before the fix, 5 of 20 SIGINT and 3 of 20
// SIGTERM trials hung, and SIGHUP killed the program with the terminal
// left raw, in the alternate screen, the cursor hidden.
func testSignalsEndTheTUI(t *testing.T, bin string) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		var hung int
		var worst time.Duration
		for i := 0; i < signalReps; i++ {
			r := startInPTY(t, bin, "--limit", "640", "--epochs", "1000")
			r.waitOutput(t, "train   ")                                 // the dashboard's progress bar of a training phase
			time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond) // somewhere in training
			if err := r.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			code, took := r.wait(hangLimit)
			worst = max(worst, took)
			if code == -1 {
				hung++
				t.Errorf("%v trial %d: hung; output:\n%q", sig, i+1, tailString(r.output()))
				continue
			}
			if code != 128+int(sig) {
				t.Errorf("%v trial %d: exit status %d, want %d; output:\n%q", sig, i+1, code, 128+int(sig), tailString(r.output()))
			}
			if !r.cooked(t) {
				t.Errorf("%v trial %d: the terminal was left in raw mode", sig, i+1)
			}
			out := r.drain()
			if last := strings.LastIndex(out, "\x1b[?1049l"); last < 0 || strings.LastIndex(out, "\x1b[?1049h") > last {
				t.Errorf("%v trial %d: the alternate screen was not left", sig, i+1)
			}
			if strings.LastIndex(out, "\x1b[?25h") < strings.LastIndex(out, "\x1b[?25l") {
				t.Errorf("%v trial %d: the cursor was left hidden", sig, i+1)
			}
			if !strings.Contains(out, "stopped by "+sig.String()) {
				t.Errorf("%v trial %d: no line saying which signal stopped it:\n%q", sig, i+1, tailString(out))
			}
		}
		t.Logf("%v: %d trials, %d hung, slowest exit %v", sig, signalReps, hung, worst.Round(time.Millisecond))
	}
}

// testSignalsEndHeadless: the same for headless runs (stdout a terminal).
func testSignalsEndHeadless(t *testing.T, bin string) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		for i := 0; i < max(signalReps/2, 1); i++ {
			r := startInPTY(t, bin, "--headless", "--limit", "640", "--epochs", "1000")
			r.waitOutput(t, "Epoch 2/1000")
			if err := r.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if code, took := r.wait(hangLimit); code != 128+int(sig) {
				t.Errorf("%v trial %d: exit status %d after %v, want %d; output:\n%q", sig, i+1, code, took, 128+int(sig), tailString(r.output()))
			}
		}
	}
}

// testSignalWhileLoading: SIGINT while the data are still being read stops
// the program with 130.
func testSignalWhileLoading(t *testing.T, bin string) {
	for i := 0; i < max(signalReps/2, 1); i++ {
		r := startInPTY(t, bin, "--headless")
		time.Sleep(time.Duration(150+i*37%300) * time.Millisecond) // somewhere in loading (any moment must give 130)
		if err := r.cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		if code, took := r.wait(hangLimit); code != 130 {
			t.Errorf("trial %d: exit status %d after %v, want 130; output:\n%q", i+1, code, took, tailString(r.output()))
		}
	}
}

// testTUIPrintsTheRunsError: a run that fails (here: its --metrics file
// cannot be written, /dev/full) ends the TUI with exit status 1 and the
// error printed after the terminal was restored.
func testTUIPrintsTheRunsError(t *testing.T, bin string) {
	r := startInPTY(t, bin, "--limit", "640", "--epochs", "2", "--metrics", "/dev/full")
	r.waitOutput(t, "no space left on device") // the dashboard shows the failure
	if _, err := r.ptmx.WriteString("q"); err != nil {
		t.Fatal(err)
	}
	code, _ := r.wait(hangLimit)
	out := r.drain()
	if code != 1 {
		t.Fatalf("exit status %d, want 1; output:\n%q", code, tailString(out))
	}
	restored := strings.LastIndex(out, "\x1b[?1049l")
	msg := strings.LastIndex(out, "mnist-tui: headless: writing metrics")
	if restored < 0 || msg < restored {
		t.Fatalf("the error was not printed after the terminal was restored:\n%q", tailString(out))
	}
}

// TestSignals builds the binary once and runs the signal and exit-status
// trials in a pseudo-terminal.
func TestSignals(t *testing.T) {
	t.Parallel() // mostly waits on processes and terminals: overlaps the others
	if testing.Short() {
		t.Skip("builds and runs the binary; runs without -short")
	}
	if signal.Ignored(syscall.SIGHUP) {
		// Started under nohup: the programs under test would inherit the
		// ignored SIGHUP (and rightly keep ignoring it, see main's
		// signalContext). Catching it here gives them back the default
		// disposition, as a terminal's programs have it.
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGHUP)
		t.Cleanup(func() { signal.Stop(c) })
	}
	bin := buildBinary(t)
	t.Run("TUI", func(t *testing.T) { testSignalsEndTheTUI(t, bin) })
	t.Run("headless", func(t *testing.T) { testSignalsEndHeadless(t, bin) })
	t.Run("loading", func(t *testing.T) { testSignalWhileLoading(t, bin) })
	t.Run("run error", func(t *testing.T) { testTUIPrintsTheRunsError(t, bin) })
}
