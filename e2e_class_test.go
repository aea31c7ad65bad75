package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for a process writing while the
// test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// needTools skips the test (or, in CI, fails it) unless every tool is on
// the PATH.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is needed for this end-to-end test (.ci/run installs it)", tool)
			}
			t.Skipf("%s not installed", tool)
		}
	}
}

// sshKey generates an ed25519 key pair at path (path.pub) with comment.
func sshKey(t *testing.T, path, comment string) {
	t.Helper()
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
}

// TestEndToEndClassroom runs the real server, `mnist-tui serve
// --authorized-keys K --admin-keys A --wait-for-teacher`, and a teacher
// and a student connecting with OpenSSH in tmux: the student sees the
// lobby and nothing trains; the teacher sees who is connected and starts
// training with enter; the student's dashboard then shows the run; with f
// the student's browser shows the digit the teacher moved to.
func TestEndToEndClassroom(t *testing.T) {
	t.Parallel() // mostly waits on processes and terminals: overlaps the others
	if testing.Short() {
		t.Skip("builds and runs the binary; runs without -short (the race run uses -short)")
	}
	needTools(t, "tmux", "ssh", "ssh-keygen")
	bin := buildBinary(t)
	dir := t.TempDir()
	for _, k := range []struct{ name, comment string }{{"teacher", "ann@school"}, {"student", "bob@laptop"}} {
		sshKey(t, filepath.Join(dir, k.name), k.comment)
	}
	copyFile := func(from, to string) {
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	keysK, keysA := filepath.Join(dir, "K"), filepath.Join(dir, "A")
	copyFile(filepath.Join(dir, "student.pub"), keysK)
	copyFile(filepath.Join(dir, "teacher.pub"), keysA)

	logb := &lockedBuffer{}
	srv := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--authorized-keys", keysK, "--admin-keys", keysA,
		"--wait-for-teacher", "--host-key", filepath.Join(dir, "host", "key"), "--limit", "640", "--epochs", "2")
	srv.Stdout, srv.Stderr = logb, logb
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	t.Cleanup(func() {
		_ = srv.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = srv.Process.Kill()
			<-exited
			t.Errorf("the server did not stop on SIGTERM; log:\n%s", logb)
		}
	})
	listening := regexp.MustCompile(`listening on 127\.0\.0\.1:(\d+)`)
	var port string
	deadline := time.Now().Add(60 * time.Second)
	for port == "" {
		if m := listening.FindStringSubmatch(logb.String()); m != nil {
			port = m[1]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server never listened; log:\n%s", logb)
		}
		time.Sleep(50 * time.Millisecond)
	}
	ssh := func(key, user string) string {
		return fmt.Sprintf("ssh -F /dev/null -tt -p %s -i %s -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=%s -o LogLevel=ERROR %s@127.0.0.1",
			port, filepath.Join(dir, key), filepath.Join(dir, "known_hosts"), user)
	}

	student := startTmux(t, "classroom", 100, 34, ssh("student", "bob"))
	s := student.waitFor(regexp.MustCompile(`Waiting for the teacher`), 30*time.Second)
	for _, want := range []string{"[Lobby]", "Training starts when the teacher presses enter", "model RNN 28→128→10", "train 640", "connected 1 (0 teachers, 1 student)"} {
		if !strings.Contains(s, want) {
			t.Errorf("the student's lobby lacks %q:\n%s", want, s)
		}
	}
	if out, err := student.tmux("new-session", "-d", "-s", "teacher", "-x", "100", "-y", "34", ssh("teacher", "ann")); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	teacher := &tmuxTerm{t: t, socket: student.socket, target: "teacher"}
	s = teacher.waitFor(regexp.MustCompile(`student\s+bob\s+bob@laptop \(SHA256:`), 30*time.Second)
	for _, want := range []string{"press enter to start training for everyone", "Who is connected", "teacher  ann  ann@school"} {
		if !strings.Contains(s, want) {
			t.Errorf("the teacher's lobby lacks %q:\n%s", want, s)
		}
	}
	student.waitFor(regexp.MustCompile(`connected 2 \(1 teacher, 1 student\)`), 30*time.Second)
	t.Logf("the student's lobby:\n%s", student.screen())
	if log := logb.String(); strings.Contains(log, "training started") || strings.Contains(log, "epoch 1/2") {
		t.Fatalf("training started in the lobby; log:\n%s", log)
	}

	teacher.keys("Enter")
	student.waitFor(regexp.MustCompile(`training started by the teacher|training done`), 30*time.Second)
	s = student.waitFor(regexp.MustCompile(`test accuracy \d\.\d{4}`), 120*time.Second)
	if !strings.Contains(s, "[Dashboard]") || strings.Contains(s, "Waiting for the teacher") {
		t.Errorf("the student's dashboard does not show the run:\n%s", s)
	}
	if log := logb.String(); !strings.Contains(log, `training started by the teacher user="ann"`) {
		t.Errorf("the log does not say the teacher started training:\n%s", log)
	}

	student.keys("f")
	student.waitFor(regexp.MustCompile(`following the teacher`), 10*time.Second)
	teacher.waitFor(regexp.MustCompile(`test accuracy`), 30*time.Second)
	teacher.keys("Tab")
	teacher.waitFor(regexp.MustCompile(`\[Predictions\]`), 10*time.Second)
	teacher.keys("l", "l", "l")
	teacher.waitFor(regexp.MustCompile(`digit\s+3 of 640`), 10*time.Second)
	s = student.waitFor(regexp.MustCompile(`digit\s+3 of 640`), 10*time.Second)
	if !strings.Contains(s, "[Predictions]") || !strings.Contains(s, "following the teacher") {
		t.Errorf("the student does not follow the teacher to the browser:\n%s", s)
	}
	t.Logf("the student following the teacher:\n%s", s)
	student.keys("q")
	student.waitExit(10 * time.Second)
	teacher.keys("q")
	teacher.waitExit(10 * time.Second)
}
