package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mnist-tui/mnist-tui/engine"
)

// runArgs runs the command and returns its exit status and stderr.
func runArgs(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, nil, &out, &errb)
	return code, errb.String()
}

// TestFlagLimitsAreWhatCanBeSaved: sizes a checkpoint cannot record, runs
// the machine cannot hold and --save destinations that cannot be written
// are refused before training, with one line naming the flag and status 2.
func TestFlagLimitsAreWhatCanBeSaved(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target.safetensors")
	if err := os.WriteFile(target, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.safetensors")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--batch", "5000"}, "--batch 5000: must be at most 4096"},
		{[]string{"--hidden", "5000"}, "--hidden 5000: must be at most 4096"},
		{[]string{"--cell", "lstm", "--hidden", "4096", "--batch", "4096"}, "--batch 4096: a lstm with 4096 hidden units and batches of 4096 needs about"},
		{[]string{"--save", filepath.Join(dir, "missing", "m.safetensors")}, "directory " + filepath.Join(dir, "missing")},
		{[]string{"--save", dir}, "not a regular file"},
		{[]string{"--save", link, "--autosave"}, "is a symbolic link"},
		{[]string{"serve", "--save", dir}, "not a regular file"},
	} {
		code, msg := runArgs(t, tc.args...)
		if code != exitUsage || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and one line containing %q", tc.args, code, msg, exitUsage, tc.want)
		}
	}
	if engine.MaxBatch != 4096 {
		t.Errorf("the messages above assume MaxBatch 4096, not %d", engine.MaxBatch)
	}
}

// idx writes an IDX file of n zero images (or labels, when images is
// false) to path.
func idx(t *testing.T, path string, n int, images bool) {
	t.Helper()
	var b []byte
	if images {
		b = []byte{0, 0, 8, 3}
		b = binary.BigEndian.AppendUint32(b, uint32(n))
		b = binary.BigEndian.AppendUint32(b, 28)
		b = binary.BigEndian.AppendUint32(b, 28)
		b = append(b, make([]byte, n*784)...)
	} else {
		b = []byte{0, 0, 8, 1}
		b = binary.BigEndian.AppendUint32(b, uint32(n))
		b = append(b, make([]byte, n)...)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestEmptySetsAreDataErrors: an empty test set, or training images too
// few to split, are data errors naming the file, with the status of any
// other bad data (2).
func TestEmptySetsAreDataErrors(t *testing.T) {
	for _, tc := range []struct {
		train, test int
		want        string
	}{
		{100, 0, "t10k-images-idx3-ubyte: no images"},
		{0, 10, "train-images-idx3-ubyte: no images"},
		{1, 10, "train-images-idx3-ubyte) hold 1 digits, too few"},
	} {
		dir := t.TempDir()
		idx(t, filepath.Join(dir, "train-images-idx3-ubyte"), tc.train, true)
		idx(t, filepath.Join(dir, "train-labels-idx1-ubyte"), tc.train, false)
		idx(t, filepath.Join(dir, "t10k-images-idx3-ubyte"), tc.test, true)
		idx(t, filepath.Join(dir, "t10k-labels-idx1-ubyte"), tc.test, false)
		code, msg := runArgs(t, "--data", dir, "--headless", "--batch", "1")
		if code != exitUsage || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, tc.want) {
			t.Errorf("train %d test %d: exit %d, stderr %q; want %d and one line containing %q", tc.train, tc.test, code, msg, exitUsage, tc.want)
		}
	}
}

// TestFailedRunIsNotSaved: a run that fails (its metrics cannot be
// written) exits 1 and never says it saved anything.
func TestFailedRunIsNotSaved(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the embedded data and trains; runs without -short")
	}
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full here")
	}
	save := filepath.Join(t.TempDir(), "m.safetensors")
	code, msg := runArgs(t, "--headless", "--limit", "128", "--epochs", "2", "--metrics", "/dev/full", "--save", save)
	if code != exitFailure || !strings.Contains(msg, "no space left on device") {
		t.Fatalf("exit %d, stderr %q; want 1 and the write error", code, msg)
	}
	if strings.Contains(msg, "saved") {
		t.Errorf("a failed run says it saved: %q", msg)
	}
	if _, err := os.Stat(save); err == nil {
		t.Error("a failed run left a checkpoint")
	}
}
