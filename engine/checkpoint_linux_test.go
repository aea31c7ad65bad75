//go:build linux

package engine

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// fsizeChildEnv, when set, makes TestSaveFullDiskKeepsPrevious the child
// process that saves under a file-size limit.
const fsizeChildEnv = "MNIST_TUI_TEST_FSIZE_CHILD"

// TestSaveFullDiskKeepsPrevious injects a failure midway through a real
// save: a child process lowers its file-size limit (RLIMIT_FSIZE, which
// makes write fail with EFBIG once the file reaches it, as a full disk
// does with ENOSPC) and saves a large checkpoint over an existing one. The
// save must fail with that error, and the previous checkpoint must be
// intact, with no temporary file left behind.
func TestSaveFullDiskKeepsPrevious(t *testing.T) {
	if path := os.Getenv(fsizeChildEnv); path != "" {
		const limit = 64 << 10
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: limit, Max: limit}); err != nil {
			t.Fatal(err)
		}
		c := DefaultConfig()
		c.Cell = LSTM
		ck := &Checkpoint{Config: c, Params: InitParams(c), Adam: NewAdam(c)}
		ck.Adam.Step = 1
		err := ck.WriteFile(path)
		if !errors.Is(err, syscall.EFBIG) {
			t.Fatalf("save under a %d-byte limit: %v, want EFBIG", limit, err)
		}
		t.Logf("CHILD-SAVE-FAILED: %v", err)
		return
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	old := tinyCheckpoint(GRU, true, 4)
	if err := old.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSaveFullDiskKeepsPrevious$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), fsizeChildEnv+"="+path)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "CHILD-SAVE-FAILED") {
		t.Fatalf("child: %v\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "CHILD-SAVE-FAILED") {
			t.Log(strings.TrimSpace(l))
		}
	}
	after, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(before, after) {
		t.Fatalf("the previous checkpoint changed (%v)", err)
	}
	if left := otherFiles(t, dir, "model.safetensors"); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
	if _, err := LoadCheckpoint(path); err != nil {
		t.Error(err)
	}
}
