package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mnist-tui/mnist-tui/engine"
)

func TestCheckpointFlagsRefuseBadValues(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.safetensors")
	if err := os.WriteFile(garbage, []byte("this is not a safetensors file"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A bare model (no optimizer state): loadable, not resumable.
	m, err := engine.NewModel(engine.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	bare := filepath.Join(dir, "bare.safetensors")
	if err := (&engine.Checkpoint{Config: m.Config, Params: m.Params}).WriteFile(bare); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--cell", "transformer"}, `--cell transformer: must be rnn, lstm or gru`},
		{[]string{"--autosave"}, "--autosave: needs --save FILE"},
		{[]string{"--load", bare, "--resume", bare}, "use --load or --resume, not both"},
		{[]string{"--load", filepath.Join(dir, "missing")}, "missing: no such file or directory"},
		{[]string{"--load", garbage}, garbage},
		{[]string{"--resume", garbage}, garbage},
		{[]string{"--resume", bare}, "no optimizer state"},
		{[]string{"--load", bare, "--cell", "lstm"}, "--cell lstm: the checkpoint holds a rnn"},
		{[]string{"--load", bare, "--hidden", "64"}, "--hidden 64: the checkpoint has 128 hidden units"},
		{[]string{"--load", bare, "--cell", "rnn,lstm"}, "--cell lstm: the checkpoint holds a rnn"},
		{[]string{"serve", "--load", garbage}, garbage},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), tc.args, nil, &out, &errb)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", tc.args, code, exitUsage, errb.String())
		}
		if msg := errb.String(); strings.Count(msg, "\n") != 1 || !strings.Contains(msg, tc.want) {
			t.Errorf("%v: stderr %q, want one line containing %q", tc.args, msg, tc.want)
		}
	}
}

// testLine matches the headless test line.
var testLine = regexp.MustCompile(`(?m)^test Loss: \d\.\d{4} Acc: \d\.\d{4}$`)

// TestSaveLoadResume runs --save, then --load --epochs 0 (the same test
// line), then --resume (only the remaining epoch), through the command.
func TestSaveLoadResume(t *testing.T) {
	if raceOn {
		t.Skip("checkpoint files, no concurrency of its own: its four runs read the embedded MNIST, 16 s under -race; runs in the normal pass")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "gru.safetensors")
	runOK := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(context.Background(), append([]string{"--headless", "--limit", "320"}, args...), nil, &out, &errb); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		return out.String()
	}
	first := runOK("--cell", "gru", "--epochs", "2", "--seed", "5", "--save", path, "--autosave")
	ck, err := engine.LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if ck.Config.Cell != engine.GRU || ck.Config.Seed != 5 || ck.Epoch != 2 || ck.Test == nil || ck.Adam == nil {
		t.Fatalf("saved %+v epoch %d test %v", ck.Config, ck.Epoch, ck.Test)
	}
	loaded := runOK("--load", path, "--epochs", "0", "--seed", "5")
	if a, b := testLine.FindString(first), testLine.FindString(loaded); a == "" || a != b {
		t.Errorf("test line after --load %q, after training %q", b, a)
	}
	resumed := runOK("--resume", path, "--epochs", "3")
	if strings.Contains(resumed, "Epoch 2/3") || !strings.Contains(resumed, "Epoch 3/3") || !testLine.MatchString(resumed) {
		t.Errorf("resumed output:\n%s", resumed)
	}
}

// TestTorchCheckAgrees saves a model of each cell and has
// scripts/torch_check.py load it into the notebook's PyTorch Net: the test
// accuracies must agree to within 0.001 (the script's exit status). It also
// feeds the script a corrupt file, which it must refuse with status 2.
// Needs Debian's python3-torch; skipped with -short.
func TestTorchCheckAgrees(t *testing.T) {
	t.Parallel() // mostly waits on processes and terminals: overlaps the others
	if testing.Short() {
		t.Skip("starts PyTorch")
	}
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import torch").Run(); err != nil {
		t.Skipf("no PyTorch: %v", err)
	}
	dir := t.TempDir()
	for _, cell := range []string{"rnn", "lstm", "gru"} {
		path := filepath.Join(dir, cell+".safetensors")
		var out, errb bytes.Buffer
		args := []string{"--headless", "--limit", "640", "--epochs", "2", "--cell", cell, "--save", path}
		if code := run(context.Background(), args, nil, &out, &errb); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		res, err := exec.Command(py, "scripts/torch_check.py", "--data", "mnist/data", path).CombinedOutput()
		if err != nil || !strings.Contains(string(res), "agree (tolerance 0.001)") {
			t.Errorf("%s: torch_check: %v\n%s", cell, err, res)
		}
		t.Logf("%s:\n%s", cell, res)
	}
	// Two tensors' offsets shifted onto each other: refused, exit 2.
	good, err := os.ReadFile(filepath.Join(dir, "rnn.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Replace(good, []byte(`"data_offsets":[0,`), []byte(`"data_offsets":[4,`), 1)
	if bytes.Equal(bad, good) {
		t.Fatal("test file has no tensor at offset 0")
	}
	badPath := filepath.Join(dir, "bad.safetensors")
	if err := os.WriteFile(badPath, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := exec.Command(py, "scripts/torch_check.py", badPath).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(res), "bytes for shape") && !strings.Contains(string(res), "gap or overlap") {
		t.Errorf("corrupt file: %v\n%s", err, res)
	}
}
