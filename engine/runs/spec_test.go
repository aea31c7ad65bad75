package runs

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mnist-tui/mnist-tui/engine"
)

// TestFieldsOneTable runs one table of field values through ParseField
// (the setup form's path) and through the command line's flags: both must
// accept the same values and refuse the others with the same message.
func TestFieldsOneTable(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		field, text string
		want        string // the error's message; "" for a valid value
		check       func(Spec) bool
	}{
		{"cell", "lstm", "", func(s Spec) bool { return s.Cell == engine.LSTM }},
		{"cell", "GRU", "", func(s Spec) bool { return s.Cell == engine.GRU }},
		{"cell", "transformer", "--cell transformer: must be rnn, lstm or gru", nil},
		{"hidden", "64", "", func(s Spec) bool { return s.Hidden == 64 }},
		{"hidden", "-3", "--hidden -3: must be positive", nil},
		{"hidden", "x", "--hidden x: not an integer", nil},
		{"lr", "0.01", "", func(s Spec) bool { return s.LR == 0.01 }},
		{"lr", "20", "--lr 20: must be in (0, 10]", nil},
		{"lr", "0", "--lr 0: must be in (0, 10]", nil},
		{"lr", "NaN", "--lr NaN: must be in (0, 10]", nil},
		{"lr", "1e400", "--lr 1e400: must be in (0, 10]", nil},
		{"lr", "fast", "--lr fast: not a number", nil},
		{"batch", "32", "", func(s Spec) bool { return s.Batch == 32 }},
		{"batch", "0", "--batch 0: must be positive", nil},
		{"batch", "5000", "--batch 5000: must be at most 4096", nil},
		{"epochs", "0", "", func(s Spec) bool { return s.Epochs == 0 }},
		{"epochs", "-1", "--epochs -1: must be 0 or more", nil},
		{"seed", "42", "", func(s Spec) bool { return s.Seed == 42 }},
		{"seed", "-1", "--seed -1: not an integer from 0 to 18446744073709551615", nil},
		{"limit", "640", "", func(s Spec) bool { return s.Limit == 640 }},
		{"limit", "-5", "--limit -5: must be 0 (all) or positive", nil},
		{"limit", "10", "--limit 10: smaller than one batch (64)", nil},
		{"data", dir, "", func(s Spec) bool { return s.Data == dir }},
		{"data", filepath.Join(dir, "missing"), "--data " + filepath.Join(dir, "missing") + ": no such file or directory", nil},
		{"data", file, "--data " + file + ": not a directory", nil},
		{"autosave", "maybe", "--autosave maybe: not true or false", nil},
	} {
		name := tc.field + "=" + tc.text
		s := DefaultSpec()
		err := ParseField(&s, tc.field, tc.text)
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fl := NewFlags(fs, DefaultSpec())
		var specs []Spec
		ferr := fs.Parse([]string{"--" + tc.field + "=" + tc.text})
		if ferr == nil {
			specs, ferr = fl.Specs(DefaultCapacity)
		}
		if tc.want == "" {
			if err != nil || ferr != nil {
				t.Errorf("%s: form %v, flag %v; want both to accept it", name, err, ferr)
				continue
			}
			if !tc.check(s) || len(specs) != 1 || !tc.check(specs[0]) {
				t.Errorf("%s: form gave %+v, flags %+v", name, s, specs)
			}
			if got := FormatField(s, tc.field); tc.field != "cell" && got != tc.text {
				t.Errorf("%s: FormatField gives %q back", name, got)
			}
			continue
		}
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field || err.Error() != tc.want || !errors.Is(err, ErrSpec) {
			t.Errorf("%s: form error %v, want FieldError %q", name, err, tc.want)
		}
		if ferr == nil || ferr.Error() != tc.want {
			t.Errorf("%s: flag error %v, want %q", name, ferr, tc.want)
		}
		if !reflect.DeepEqual(s, DefaultSpec()) {
			t.Errorf("%s: a refused value changed the spec: %+v", name, s)
		}
	}
}

// TestValidateCrossFields: the checks that involve two fields, the same
// from flags and from Validate.
func TestValidateCrossFields(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--autosave"}, "--autosave: needs --save FILE"},
		{[]string{"--load", "a", "--resume", "b"}, "--resume b: use --load or --resume, not both"},
		{[]string{"--batch", "256", "--limit", "100"}, "--limit 100: smaller than one batch (256)"},
		{[]string{"--load", "/nonexistent/model.safetensors"}, "--load: engine: load /nonexistent/model.safetensors"},
		{[]string{"--batch", "1,2"}, "--batch 1,2: not an integer"},
		{[]string{"--lr", "0.1,"}, "--lr 0.1,: an empty value in the list"},
		{[]string{"--cell", "rnn,lstm,gru", "--lr", "1,2,3", "--hidden", "8,16"}, "--cell rnn,lstm,gru --hidden 8,16 --lr 1,2,3: invalid run spec: 18 runs, more than the 16 a list of runs holds"},
	} {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		fl := NewFlags(fs, DefaultSpec())
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		_, err := fl.Specs(DefaultCapacity)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestFlagLists: comma lists queue one run per value, their product in a
// fixed order, each saving to its own numbered file.
func TestFlagLists(t *testing.T) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fl := NewFlags(fs, DefaultSpec())
	if err := fs.Parse([]string{"--cell", "rnn, lstm", "--lr", "0.01,0.001", "--save", "m.safetensors", "--epochs", "2"}); err != nil {
		t.Fatal(err)
	}
	specs, err := fl.Specs(DefaultCapacity)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range specs {
		got = append(got, s.Cell.String()+" "+FormatField(s, "lr")+" "+s.Save+" "+FormatField(s, "epochs"))
	}
	want := []string{"rnn 0.01 m-1.safetensors 2", "rnn 0.001 m-2.safetensors 2", "lstm 0.01 m-3.safetensors 2", "lstm 0.001 m-4.safetensors 2"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("specs %q, want %q", got, want)
	}
	if l := Labels(specs); !reflect.DeepEqual(l, []string{"RNN, lr 0.01", "RNN, lr 0.001", "LSTM, lr 0.01", "LSTM, lr 0.001"}) {
		t.Errorf("labels %q", l)
	}
	if l := Labels([]Spec{DefaultSpec()}); !reflect.DeepEqual(l, []string{"RNN"}) {
		t.Errorf("one spec's label %q", l)
	}
}

// TestCheckpointThroughSpec: a checkpoint's settings go through the same
// validation as flags, and a shape asked for must be the file's.
func TestCheckpointThroughSpec(t *testing.T) {
	c := engine.DefaultConfig()
	c.Cell, c.Hidden, c.Batch, c.LR, c.Seed = engine.GRU, 8, 32, 0.005, 3
	m, err := engine.NewModel(c)
	if err != nil {
		t.Fatal(err)
	}
	ck := &engine.Checkpoint{Config: c, Params: m.Params, Adam: engine.NewAdam(c)}
	path := filepath.Join(t.TempDir(), "gru.safetensors")
	if err := ck.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	ck, err = engine.LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	s := DefaultSpec()
	s.Resume = path
	got, err := s.WithCheckpoint(ck, func(string) bool { return false })
	if err != nil {
		t.Fatal(err)
	}
	if got.Cell != engine.GRU || got.Hidden != 8 || got.Batch != 32 || got.LR != 0.005 || got.Seed != 3 {
		t.Errorf("resume took %+v", got)
	}
	s.Cell = engine.LSTM
	if _, err := s.WithCheckpoint(ck, func(f string) bool { return f == "cell" }); err == nil ||
		err.Error() != "--resume "+path+": --cell lstm: the checkpoint holds a gru" {
		t.Errorf("a kept cell against the file: %v", err)
	}
	s = DefaultSpec()
	s.Resume, s.Limit = path, 20
	if _, err := s.WithCheckpoint(ck, func(f string) bool { return f == "limit" }); err == nil ||
		err.Error() != "--resume "+path+": --limit 20: smaller than one batch (32)" {
		t.Errorf("the checkpoint's batch against --limit: %v", err)
	}
}
