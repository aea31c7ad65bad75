package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mnist-tui/mnist-tui/engine"
)

func TestBadFlagsExitTwoWithOneLine(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--batch", "0"}, "--batch 0: must be positive"},
		{[]string{"--hidden", "-3"}, "--hidden -3: must be positive"},
		{[]string{"--epochs", "-1"}, "--epochs -1"},
		{[]string{"--lr", "0"}, "--lr 0"},
		{[]string{"--lr", "NaN"}, "--lr NaN"},
		{[]string{"--limit", "10"}, "--limit 10: smaller than one batch (64)"},
		{[]string{"--limit", "-5"}, "--limit -5"},
		{[]string{"--data", filepath.Join(dir, "missing")}, "no such file or directory"},
		{[]string{"--data", file}, "not a directory"},
		{[]string{"--data", dir}, "train-images-idx3-ubyte"},
		{[]string{"stray"}, `unexpected argument "stray"`},
		{[]string{"serve", "--batch", "-1"}, "--batch -1: must be positive"},
		{[]string{"serve", "--open", "--wait", "--wait-for-teacher"}, "--wait and --wait-for-teacher: choose one"},
		{[]string{"serve", "--open", "--wait-for-teacher"}, "--wait-for-teacher needs --admin-keys"},
		{[]string{"serve", "--open", "--fps", "0"}, "--fps 0 must be in 1..120"},
		{[]string{"--setup", "--cell", "rnn,lstm"}, "--setup: the form sets up one run; comma lists queue several without it"},
		{[]string{"--setup", "--headless"}, "--setup: the setup form needs the dashboard on a terminal (not --headless)"},
		{[]string{"--setup"}, "--setup: the setup form needs the dashboard on a terminal"}, // stdout is not one
		{[]string{"--setup", "--lr", "20"}, "--lr 20: must be in (0, 10]"},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), tc.args, nil, &out, &errb)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", tc.args, code, exitUsage, errb.String())
		}
		msg := errb.String()
		if strings.Count(msg, "\n") != 1 || !strings.Contains(msg, tc.want) {
			t.Errorf("%v: stderr %q, want one line containing %q", tc.args, msg, tc.want)
		}
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"--nope"}, nil, &out, &errb); code != exitUsage {
		t.Errorf("unknown flag: exit %d, want 2", code)
	}
	if code := run(context.Background(), []string{"--version"}, nil, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "mnist-tui ") {
		t.Errorf("--version: exit %d, output %q", code, out.String())
	}
}

// TestHeadlessPrintsTheNotebooksLines trains on 4,000 real digits
// and checks the printed lines, the metrics file and that it learned.
func TestHeadlessPrintsTheNotebooksLines(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 4,000 digits; runs without -short (the race run uses -short)")
	}
	metrics := filepath.Join(t.TempDir(), "m.jsonl")
	var out, errb bytes.Buffer
	// Not a terminal: asking for the TUI must fall back to headless with a note.
	code := run(context.Background(), []string{"--limit", "4000", "--seed", "1", "--metrics", metrics}, nil, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "not a terminal; running headless") {
		t.Errorf("stderr %q lacks the headless note", errb.String())
	}
	want := regexp.MustCompile(`^Epoch 1/3
----------
val Loss: \d\.\d{4} Acc: 0\.\d{4}

Epoch 2/3
----------
train Loss: \d\.\d{4} Acc: 0\.\d{4}
val Loss: \d\.\d{4} Acc: 0\.\d{4}

Epoch 3/3
----------
train Loss: \d\.\d{4} Acc: 0\.\d{4}
val Loss: \d\.\d{4} Acc: 0\.\d{4}

test Loss: \d\.\d{4} Acc: (0\.\d{4})
$`)
	m := want.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("output does not follow the notebook:\n%s", out.String())
	}
	f, err := os.Open(metrics)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var v map[string]any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("metrics line %q: %v", sc.Text(), err)
		}
		lines = append(lines, v)
	}
	if len(lines) != 6 {
		t.Fatalf("%d metrics lines, want 6 (val, train, val, train, val, test)", len(lines))
	}
	phases := []string{"val", "train", "val", "train", "val", "test"}
	for i, l := range lines {
		if l["phase"] != phases[i] {
			t.Errorf("line %d phase %v, want %s", i, l["phase"], phases[i])
		}
		for _, k := range []string{"loss", "acc", "seconds", "samples_per_s"} {
			if v, ok := l[k].(float64); !ok || v < 0 {
				t.Errorf("line %d: %s = %v", i, k, l[k])
			}
		}
		_, hasEpoch := l["epoch"]
		if hasEpoch == (phases[i] == "test") {
			t.Errorf("line %d (%s): epoch present = %v", i, phases[i], hasEpoch)
		}
	}
	first, last := lines[0]["acc"].(float64), lines[5]["acc"].(float64)
	if first > 0.2 {
		t.Errorf("untrained validation accuracy %.3f, want near chance", first)
	}
	if last < 0.5 {
		t.Errorf("test accuracy %.3f after two epochs on 4,000 digits, want >= 0.5 (chance 0.1)", last)
	}
	for _, l := range lines {
		if _, ok := l["run"]; ok {
			t.Errorf("a single run's metrics line has a run field: %v", l)
		}
		if _, ok := l["settings"]; ok {
			t.Errorf("a single run's metrics line has settings: %v", l)
		}
	}
}

// TestHeadlessSeveralRuns queues two runs with --cell rnn,lstm: each run's
// notebook lines come under a heading naming it, one after the other, and
// the metrics lines name their run, the first of each with its settings.
func TestHeadlessSeveralRuns(t *testing.T) {
	metrics := filepath.Join(t.TempDir(), "m.jsonl")
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"--headless", "--cell", "rnn,lstm", "--limit", "320", "--epochs", "2", "--metrics", metrics}, nil, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	one := `Epoch 1/2
----------
val Loss: \d\.\d{4} Acc: 0\.\d{4}

Epoch 2/2
----------
train Loss: \d\.\d{4} Acc: 0\.\d{4}
val Loss: \d\.\d{4} Acc: 0\.\d{4}

test Loss: \d\.\d{4} Acc: 0\.\d{4}
`
	want := regexp.MustCompile("^Run 1/2: RNN\n============\n\n" + one + "\nRun 2/2: LSTM\n=============\n\n" + one + "$")
	if !want.MatchString(out.String()) {
		t.Fatalf("output:\n%s", out.String())
	}
	b, err := os.ReadFile(metrics)
	if err != nil {
		t.Fatal(err)
	}
	var runsSeen []float64
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		id, _ := v["run"].(float64)
		runsSeen = append(runsSeen, id)
		st, hasSettings := v["settings"].(map[string]any)
		if first := i%4 == 0; hasSettings != first {
			t.Errorf("line %d: settings present %v", i, hasSettings)
		} else if first && (st["cell"] != []string{"rnn", "lstm"}[i/4] || st["limit"] != 320.0 || st["data"] != "embedded MNIST") {
			t.Errorf("line %d: settings %v", i, st)
		}
	}
	if fmt.Sprint(runsSeen) != "[1 1 1 1 2 2 2 2]" {
		t.Errorf("metrics lines of runs %v, want four of run 1 then four of run 2", runsSeen)
	}
}

// TestImportBoundaries: the engine, the data and the run package import
// no Charm library, and the local TUI and the run package nothing of SSH.
func TestImportBoundaries(t *testing.T) {
	deps := func(pkgs ...string) string {
		out, err := exec.Command("go", append([]string{"list", "-deps"}, pkgs...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		return string(out)
	}
	for _, line := range strings.Split(deps("./engine/...", "./mnist"), "\n") {
		if strings.Contains(line, "charmbracelet") {
			t.Errorf("engine or mnist depends on %s", line)
		}
	}
	for _, line := range strings.Split(deps("./tui", "./engine/runs"), "\n") {
		if strings.Contains(line, "wish") || strings.Contains(line, "ssh") || strings.HasSuffix(line, "/tui/serve") {
			t.Errorf("the local TUI or the run package depends on %s", line)
		}
	}
}

// TestHeadlessPace trains 10 batches at 10 batches a second, headless:
// the 10th starts at least 0.9 s after the first, so the training phase
// takes at least that (a lower bound: a loaded machine only adds). A bad
// pace is refused like any flag.
func TestHeadlessPace(t *testing.T) {
	metrics := filepath.Join(t.TempDir(), "m.jsonl")
	var out, errb bytes.Buffer
	start := time.Now()
	code := run(context.Background(), []string{"--headless", "--pace", "10", "--limit", "640", "--epochs", "2", "--metrics", metrics}, nil, &out, &errb)
	wall := time.Since(start)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if wall < 900*time.Millisecond {
		t.Errorf("the run took %v, want at least 0.9 s", wall)
	}
	b, err := os.ReadFile(metrics)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var m struct {
			Phase   string
			Seconds float64
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if m.Phase == "train" {
			found = true
			if m.Seconds < 0.9 {
				t.Errorf("10 training batches at pace 10 took %.2f s, want at least 0.9", m.Seconds)
			}
		}
	}
	if !found {
		t.Fatalf("no train line in the metrics:\n%s", b)
	}
	errb.Reset()
	if code := run(context.Background(), []string{"--pace", "5000"}, nil, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), "--pace 5000: must be 0 (full speed) or from 0.1 to 1000 batches per second") {
		t.Errorf("--pace 5000: exit %d, stderr %q", code, errb.String())
	}
}

// TestSetupRefusesCheckpoints: the form starts runs from scratch, so
// --setup with --load or --resume is refused (exit 2, one line) rather
// than dropping the checkpoint.
func TestSetupRefusesCheckpoints(t *testing.T) {
	c := engine.DefaultConfig()
	m, err := engine.NewModel(c)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rnn.safetensors")
	if err := (&engine.Checkpoint{Config: c, Params: m.Params, Adam: engine.NewAdam(c)}).WriteFile(path); err != nil {
		t.Fatal(err)
	}
	for _, flagName := range []string{"--load", "--resume"} {
		var out, errb bytes.Buffer
		code := run(context.Background(), []string{"--setup", flagName, path}, nil, &out, &errb)
		want := "mnist-tui: --setup: the form starts a run from scratch; --load and --resume start one without it\n"
		if code != exitUsage || errb.String() != want {
			t.Errorf("--setup %s: exit %d, stderr %q; want %d, %q", flagName, code, errb.String(), exitUsage, want)
		}
	}
}
