package runs

import (
	"context"
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

// fieldCase is a value of a run setting and what the validation says of
// it: the message of its error, "" for a valid value.
type fieldCase struct{ field, text, want string }

// fieldCases reads testdata/fields.txt, the one table of values that the
// flags, ParseField and the setup form (the tui package's tests read it
// too) must judge alike, with $DIR and $FILE replaced by dir and file.
func fieldCases(t *testing.T, dir, file string) []fieldCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "fields.txt"))
	if err != nil {
		t.Fatal(err)
	}
	r := strings.NewReplacer("$DIR", dir, "$FILE", file)
	var out []fieldCase
	for n, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			t.Fatalf("testdata/fields.txt:%d: %d fields, want 3", n+1, len(f))
		}
		c := fieldCase{field: f[0], text: r.Replace(f[1]), want: r.Replace(f[2])}
		if c.want == "-" {
			c.want = ""
		}
		out = append(out, c)
	}
	return out
}

// TestFieldsOneTable runs one table of field values (testdata/fields.txt)
// through ParseField (the setup form's path) and through the command
// line's flags: both must accept the same values and refuse the others
// with the same message.
func TestFieldsOneTable(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// What a valid value must set.
	checks := map[string]func(Spec) bool{
		"cell=lstm":   func(s Spec) bool { return s.Cell == engine.LSTM },
		"cell=GRU":    func(s Spec) bool { return s.Cell == engine.GRU },
		"hidden=64":   func(s Spec) bool { return s.Hidden == 64 },
		"lr=0.01":     func(s Spec) bool { return s.LR == 0.01 },
		"batch=32":    func(s Spec) bool { return s.Batch == 32 },
		"epochs=0":    func(s Spec) bool { return s.Epochs == 0 },
		"seed=42":     func(s Spec) bool { return s.Seed == 42 },
		"limit=640":   func(s Spec) bool { return s.Limit == 640 },
		"data=" + dir: func(s Spec) bool { return s.Data == dir },
		"save=" + filepath.Join(dir, "m.safetensors"): func(s Spec) bool { return s.Save == filepath.Join(dir, "m.safetensors") },
	}
	cases := fieldCases(t, dir, file)
	if len(cases) < 20 {
		t.Fatalf("%d cases in testdata/fields.txt", len(cases))
	}
	for _, tc := range cases {
		name := tc.field + "=" + tc.text
		s := DefaultSpec()
		err := ParseField(&s, tc.field, tc.text)
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fl := NewFlags(fs, DefaultSpec())
		var specs []Spec
		ferr := fs.Parse([]string{"--" + tc.field + "=" + tc.text})
		if ferr == nil {
			specs, ferr = fl.Specs(context.Background(), DefaultCapacity)
		}
		if tc.want == "" {
			if err != nil || ferr != nil {
				t.Errorf("%s: form %v, flag %v; want both to accept it", name, err, ferr)
				continue
			}
			check, ok := checks[name]
			if !ok {
				t.Errorf("%s: a valid value with no check", name)
				continue
			}
			if !check(s) || len(specs) != 1 || !check(specs[0]) {
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
		{[]string{"--cell", "rnn,lstm,gru", "--lr", "1,2,3", "--hidden", "8,16"}, "--cell rnn,lstm,gru --hidden 8,16 --lr 1,2,3: invalid configuration: 18 runs, more than the 16 a list of runs holds"},
	} {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		fl := NewFlags(fs, DefaultSpec())
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		_, err := fl.Specs(context.Background(), DefaultCapacity)
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
	dir := t.TempDir()
	if err := fs.Parse([]string{"--cell", "rnn, lstm", "--lr", "0.01,0.001", "--save", filepath.Join(dir, "m.safetensors"), "--epochs", "2"}); err != nil {
		t.Fatal(err)
	}
	specs, err := fl.Specs(context.Background(), DefaultCapacity)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range specs {
		got = append(got, s.Cell.String()+" "+FormatField(s, "lr")+" "+strings.TrimPrefix(s.Save, dir+string(filepath.Separator))+" "+FormatField(s, "epochs"))
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

// TestDiffer lists the settings that set runs apart, in the flags'
// order: where they save is not one of them.
func TestDiffer(t *testing.T) {
	a, b, c := DefaultSpec(), DefaultSpec(), DefaultSpec()
	b.Cell, b.LR = engine.LSTM, 0.01
	c.Save, c.Autosave = "m.safetensors", true
	for _, tc := range []struct {
		specs []Spec
		want  []string
	}{
		{[]Spec{a}, nil},
		{[]Spec{a, a}, nil},
		{[]Spec{a, c}, nil},
		{[]Spec{a, b}, []string{"cell", "lr"}},
		{[]Spec{b, a, c}, []string{"cell", "lr"}},
		{nil, nil},
	} {
		if got := Differ(tc.specs); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Differ(%d specs) = %q, want %q", len(tc.specs), got, tc.want)
		}
	}
}

// TestSaveCheckedForEveryRun: with several runs, each run's numbered
// --save file is checked before anything trains, and the one that cannot
// be written is named; so is a run whose memory would exceed the machine's.
func TestSaveCheckedForEveryRun(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "m-2.safetensors"), 0o755); err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fl := NewFlags(fs, DefaultSpec())
	if err := fs.Parse([]string{"--cell", "rnn,lstm,gru", "--save", filepath.Join(dir, "m.safetensors")}); err != nil {
		t.Fatal(err)
	}
	_, err := fl.Specs(context.Background(), DefaultCapacity)
	want := "--save " + filepath.Join(dir, "m-2.safetensors") + ": not a regular file"
	var fe *FieldError
	if err == nil || !strings.HasPrefix(err.Error(), want) || !errors.As(err, &fe) || fe.Field != "save" || !errors.Is(err, ErrSpec) {
		t.Fatalf("Specs = %v, want %q", err, want)
	}
	s := DefaultSpec()
	s.Save = filepath.Join(dir, "m-2.safetensors")
	if err := s.Validate(); err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Validate = %v, want %q", err, want)
	}
	s = DefaultSpec()
	s.Cell, s.Hidden, s.Batch = engine.LSTM, engine.MaxHidden, engine.MaxBatch
	if m := engine.MachineMemory(); m == 0 || s.Config().MemoryEstimate() <= m {
		return // nothing to check it against here
	}
	if err := s.Validate(); !errors.As(err, &fe) || fe.Field != "batch" || !strings.Contains(err.Error(), "GB, more than this machine's") {
		t.Errorf("a run beyond the machine's memory: Validate = %v", err)
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
