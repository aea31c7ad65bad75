package main

import (
	"bytes"
	"context"
	"os"
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
		{[]string{"--cell", "transformer"}, `--cell "transformer": must be rnn, lstm or gru`},
		{[]string{"--autosave"}, "--autosave: needs --save FILE"},
		{[]string{"--load", bare, "--resume", bare}, "use one or the other"},
		{[]string{"--load", filepath.Join(dir, "missing")}, "missing: no such file or directory"},
		{[]string{"--load", garbage}, garbage},
		{[]string{"--resume", garbage}, garbage},
		{[]string{"--resume", bare}, "no optimizer state"},
		{[]string{"--load", bare, "--cell", "lstm"}, "holds a rnn, not a lstm"},
		{[]string{"--load", bare, "--hidden", "64"}, "128 hidden units, not 64"},
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
	if ck.Config.Cell != "gru" || ck.Config.Seed != 5 || ck.Epoch != 2 || ck.Test == nil || ck.Adam == nil {
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
