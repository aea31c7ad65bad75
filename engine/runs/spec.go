package runs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mnist-tui/mnist-tui/engine"
)

// ErrSpec marks an invalid Spec; every FieldError wraps it (errors.Is).
// It is engine.ErrConfig: a spec and the configuration it trains are
// refused alike, with the same FieldError.
var ErrSpec = engine.ErrConfig

// MaxLR is the largest learning rate a Spec takes.
const MaxLR = 10

// Spec is what a run is asked to be: the model, the schedule, the data and
// the checkpoints. Start from DefaultSpec; fields are set from text with
// ParseField and checked with Validate, the one validation that flags, the
// setup form and checkpoint metadata all go through.
type Spec struct {
	// Cell is the recurrent cell.
	Cell engine.Cell
	// Hidden is the recurrent state's size.
	Hidden int
	// LR is Adam's learning rate, in (0, MaxLR].
	LR float64
	// Batch is the mini-batch size, 1..engine.MaxBatch.
	Batch int
	// Epochs is the schedule's length (epoch 1 only validates; 0 only
	// tests).
	Epochs int
	// Seed seeds the weights, the split and the shuffling.
	Seed uint64
	// Limit caps each of train, validation and test (0: all).
	Limit int
	// Data is a directory of the four MNIST-format IDX files; empty means
	// the embedded MNIST.
	Data string
	// Load starts from the weights in this checkpoint; Resume continues
	// the run saved in this checkpoint (weights, Adam state, place in the
	// schedule). At most one of them is set.
	Load, Resume string
	// Save is where the run's checkpoint is written when it ends (or is
	// stopped), and with Autosave also after every epoch. Empty: not saved.
	Save     string
	Autosave bool
	// Pace is how many training batches start per second at most, 0 for
	// full speed (the default), else in [engine.MinPace,
	// engine.MaxPace]: where the run's pace starts (see Access.SetPace).
	Pace float64
}

// DefaultSpec returns the notebook's recipe: an RNN of 128 units, Adam at
// 0.001, batches of 64, 3 epochs, seed 0, all of the embedded MNIST.
func DefaultSpec() Spec {
	c := engine.DefaultConfig()
	return Spec{Cell: c.Cell, Hidden: c.Hidden, LR: c.LR, Batch: c.Batch, Epochs: c.Epochs, Seed: c.Seed}
}

// Config returns the trainer configuration of s for MNIST's 28x28 digits
// and 10 classes.
func (s Spec) Config() engine.Config {
	c := engine.DefaultConfig()
	c.Cell, c.Hidden, c.LR, c.Batch, c.Epochs, c.Seed = s.Cell, s.Hidden, s.LR, s.Batch, s.Epochs, s.Seed
	return c
}

// SavePath is where a "save now" writes s's checkpoint: Save, or a file
// named for the cell in the working directory
// (mnist-tui-lstm.safetensors).
func (s Spec) SavePath() string {
	if s.Save != "" {
		return s.Save
	}
	return "mnist-tui-" + s.Cell.String() + ".safetensors"
}

// DataName names the data set: "embedded MNIST" or the directory.
func (s Spec) DataName() string {
	if s.Data == "" {
		return "embedded MNIST"
	}
	return s.Data
}

// FieldError is a Spec field's bad value: engine.FieldError, the one type
// for a bad setting. Its message is the same wherever the value came from
// (a flag, a form field, a checkpoint's metadata, the engine's own limits):
// `--lr 20: must be in (0, 10]`, naming the field as its flag; it wraps
// ErrSpec.
type FieldError = engine.FieldError

// reason is what err says is wrong with a field's value: a FieldError's
// Reason, or the whole message ("" for nil).
func reason(err error) string {
	var fe *FieldError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &fe):
		return fe.Reason
	}
	return err.Error()
}

// field is one Spec field that can be set from text.
type field struct {
	name, usage string
	// list: a flag may give a comma list, one run per value.
	list bool
	// parse sets the field from text, or says why it cannot (the reason).
	parse func(s *Spec, text string) string
	// format is the field's value as text.
	format func(s Spec) string
	// check says what is wrong with the field's value, or "".
	check func(s Spec) string
}

// Fields lists the names of the fields ParseField sets, in the order the
// flags and the setup form show them.
func Fields() []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = f.name
	}
	return out
}

func parseInt(dst *int) func(*Spec, string) string {
	return func(_ *Spec, text string) string {
		v, err := strconv.Atoi(strings.TrimSpace(text))
		if err != nil {
			return "not an integer"
		}
		*dst = v
		return ""
	}
}

// parseFloat sets *dst from text, or says why it cannot (a value out of
// float64's range is kept, as ±Inf or 0, for the check to refuse).
func parseFloat(text string, dst *float64) string {
	v, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return "not a number"
	}
	*dst = v
	return ""
}

var fields = []field{
	{name: "cell", usage: "recurrent cell: rnn, lstm or gru (a comma list queues one run each)", list: true,
		parse: func(s *Spec, text string) string {
			c, err := engine.ParseCell(strings.TrimSpace(text))
			if err != nil {
				return "must be rnn, lstm or gru"
			}
			s.Cell = c
			return ""
		},
		format: func(s Spec) string { return s.Cell.String() },
		check: func(s Spec) string {
			if !s.Cell.Valid() {
				return "must be rnn, lstm or gru"
			}
			return ""
		}},
	{name: "hidden", usage: "hidden units (a comma list queues one run each)", list: true,
		parse:  func(s *Spec, text string) string { return parseInt(&s.Hidden)(s, text) },
		format: func(s Spec) string { return strconv.Itoa(s.Hidden) },
		check: func(s Spec) string {
			switch {
			case s.Hidden <= 0:
				return "must be positive"
			case s.Hidden > engine.MaxHidden:
				return fmt.Sprintf("must be at most %d", engine.MaxHidden)
			}
			return ""
		}},
	{name: "lr", usage: "Adam learning rate (a comma list queues one run each)", list: true,
		parse:  func(s *Spec, text string) string { return parseFloat(text, &s.LR) },
		format: func(s Spec) string { return formatFloat(s.LR) },
		check: func(s Spec) string {
			if !(s.LR > 0) || s.LR > MaxLR {
				return fmt.Sprintf("must be in (0, %d]", MaxLR)
			}
			return ""
		}},
	{name: "batch", usage: "mini-batch size",
		parse:  func(s *Spec, text string) string { return parseInt(&s.Batch)(s, text) },
		format: func(s Spec) string { return strconv.Itoa(s.Batch) },
		check: func(s Spec) string {
			switch {
			case s.Batch <= 0:
				return "must be positive"
			case s.Batch > engine.MaxBatch:
				return fmt.Sprintf("must be at most %d", engine.MaxBatch)
			}
			return ""
		}},
	{name: "epochs", usage: "epochs of the schedule (epoch 1 only validates; 0 only tests)",
		parse:  func(s *Spec, text string) string { return parseInt(&s.Epochs)(s, text) },
		format: func(s Spec) string { return strconv.Itoa(s.Epochs) },
		check: func(s Spec) string {
			if s.Epochs < 0 {
				return "must be 0 or more"
			}
			return ""
		}},
	{name: "seed", usage: "seed of the weights, the split and the shuffling",
		parse: func(s *Spec, text string) string {
			v, err := strconv.ParseUint(strings.TrimSpace(text), 10, 64)
			if err != nil {
				return "not an integer from 0 to 18446744073709551615"
			}
			s.Seed = v
			return ""
		},
		format: func(s Spec) string { return strconv.FormatUint(s.Seed, 10) },
		check:  func(Spec) string { return "" }},
	{name: "limit", usage: "use at most `N` digits of each of train, validation and test (0: all)",
		parse:  func(s *Spec, text string) string { return parseInt(&s.Limit)(s, text) },
		format: func(s Spec) string { return strconv.Itoa(s.Limit) },
		check: func(s Spec) string {
			switch {
			case s.Limit < 0:
				return "must be 0 (all) or positive"
			case s.Limit > 0 && s.Batch > 0 && s.Limit < s.Batch:
				return fmt.Sprintf("smaller than one batch (%d)", s.Batch)
			}
			return ""
		}},
	{name: "data", usage: "load the four MNIST-format IDX files (raw or .gz) from `DIR` instead of the embedded MNIST",
		parse:  func(s *Spec, text string) string { s.Data = text; return "" },
		format: func(s Spec) string { return s.Data },
		check: func(s Spec) string {
			if s.Data == "" {
				return ""
			}
			st, err := os.Stat(s.Data)
			if err != nil {
				var pe *os.PathError
				if errors.As(err, &pe) {
					return pe.Err.Error()
				}
				return err.Error()
			}
			if !st.IsDir() {
				return "not a directory"
			}
			return ""
		}},
	{name: "pace", usage: "train at most `N` batches per second (0: full speed; + and - change it while training)",
		parse:  func(s *Spec, text string) string { return parseFloat(text, &s.Pace) },
		format: func(s Spec) string { return formatFloat(s.Pace) },
		check: func(s Spec) string {
			if engine.CheckPace(s.Pace) != nil {
				return fmt.Sprintf("must be 0 (full speed) or from %g to %g batches per second", float64(engine.MinPace), float64(engine.MaxPace))
			}
			return ""
		}},
	{name: "load", usage: "start from the weights saved in `FILE` (with --epochs 0: only test them)",
		parse:  func(s *Spec, text string) string { s.Load = text; return "" },
		format: func(s Spec) string { return s.Load },
		check:  func(Spec) string { return "" }},
	{name: "resume", usage: "continue the run saved in `FILE`, optimizer state and schedule included",
		parse:  func(s *Spec, text string) string { s.Resume = text; return "" },
		format: func(s Spec) string { return s.Resume },
		check:  func(Spec) string { return "" }},
	{name: "save", usage: "save the model (safetensors, PyTorch's state_dict names) to `FILE` when training ends",
		parse:  func(s *Spec, text string) string { s.Save = text; return "" },
		format: func(s Spec) string { return s.Save },
		check: func(s Spec) string {
			// Found out now, not after training: the directory exists and
			// takes new files, the file is not a directory, a symlink or
			// a device (engine.CheckSave).
			if s.Save == "" {
				return ""
			}
			return reason(engine.CheckSave(s.Save))
		}},
	{name: "autosave", usage: "also save to the --save file after every epoch",
		parse: func(s *Spec, text string) string {
			v, err := strconv.ParseBool(strings.TrimSpace(text))
			if err != nil {
				return "not true or false"
			}
			s.Autosave = v
			return ""
		},
		format: func(s Spec) string { return strconv.FormatBool(s.Autosave) },
		check:  func(Spec) string { return "" }},
}

// lookup returns the field called name.
func lookup(name string) (*field, bool) {
	for i := range fields {
		if fields[i].name == name {
			return &fields[i], true
		}
	}
	return nil, false
}

// ParseField sets s's field name (a flag's name: "lr", "cell", ...) from
// text and checks that field alone, as Validate would: the error, a
// *FieldError, reads exactly as the flag's would. Fields that depend on
// others (--limit against --batch) are checked against s's other fields as
// they stand; Validate checks them all again.
func ParseField(s *Spec, name, text string) error {
	f, ok := lookup(name)
	if !ok {
		return &FieldError{Field: name, Value: text, Reason: "no such setting"}
	}
	next := *s
	if why := f.parse(&next, text); why != "" {
		return &FieldError{Field: name, Value: text, Reason: why}
	}
	if why := f.check(next); why != "" {
		return &FieldError{Field: name, Value: text, Reason: why}
	}
	*s = next
	return nil
}

// checkField checks s's field name alone, as Validate would.
func (s Spec) checkField(name string) error {
	f, ok := lookup(name)
	if !ok {
		return &FieldError{Field: name, Reason: "no such setting"}
	}
	if why := f.check(s); why != "" {
		return &FieldError{Field: name, Value: f.format(s), Reason: why}
	}
	return nil
}

// formatFloat formats v as the flags read it.
func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// FormatField returns s's field name as text, as ParseField reads it.
func FormatField(s Spec, name string) string {
	if f, ok := lookup(name); ok {
		return f.format(s)
	}
	return ""
}

// Validate reports the first invalid field of s as a *FieldError: each
// field's range (the same checks as ParseField: sizes within what a
// checkpoint records, a --save file that can be written), then the fields
// that depend on each other, then the memory the run needs against the
// machine's (engine.Config.CheckMemory, naming --hidden or --batch).
func (s Spec) Validate() error {
	for _, f := range fields {
		if why := f.check(s); why != "" {
			return &FieldError{Field: f.name, Value: f.format(s), Reason: why}
		}
	}
	switch {
	case s.Autosave && s.Save == "":
		return &FieldError{Field: "autosave", Reason: "needs --save FILE"}
	case s.Load != "" && s.Resume != "":
		return &FieldError{Field: "resume", Value: s.Resume, Reason: "use --load or --resume, not both"}
	}
	return s.Config().CheckMemory(engine.MachineMemory())
}

// checkpointPath returns the checkpoint s starts from and its flag's
// name, or "" when it starts from scratch.
func (s Spec) checkpointPath() (path, flagName string) {
	switch {
	case s.Resume != "":
		return s.Resume, "resume"
	case s.Load != "":
		return s.Load, "load"
	}
	return "", ""
}

// WithCheckpoint returns s with the model shape (cell, hidden size) of the
// checkpoint ck that s loads or resumes, and, resuming, its seed, batch
// size and learning rate, so the run continues on the same split with the
// same batches. A field for which explicit returns true was asked for
// (a flag given, a form field changed) and is kept; a kept shape that
// disagrees with the checkpoint is an error. The result goes through
// Validate like any spec: a checkpoint's metadata is refused with the same
// messages as a flag. Errors name the checkpoint's flag and file.
func (s Spec) WithCheckpoint(ck *engine.Checkpoint, explicit func(field string) bool) (Spec, error) {
	path, flagName := s.checkpointPath()
	wrap := func(err error) error { return fmt.Errorf("--%s %s: %w", flagName, path, err) }
	c := ck.Config
	if c.Inputs*c.Steps != 28*28 || c.Classes != 10 {
		return s, wrap(fmt.Errorf("%w: a %dx%d model with %d classes does not read MNIST digits", ErrSpec, c.Steps, c.Inputs, c.Classes))
	}
	switch {
	case explicit("cell") && s.Cell != c.Cell:
		return s, wrap(&FieldError{Field: "cell", Value: s.Cell.String(), Reason: "the checkpoint holds a " + c.Cell.String()})
	case explicit("hidden") && s.Hidden != c.Hidden:
		return s, wrap(&FieldError{Field: "hidden", Value: strconv.Itoa(s.Hidden), Reason: fmt.Sprintf("the checkpoint has %d hidden units", c.Hidden)})
	}
	s.Cell, s.Hidden = c.Cell, c.Hidden
	if s.Resume != "" {
		if ck.Adam == nil {
			return s, wrap(fmt.Errorf("%w: no optimizer state in the file (use --load)", ErrSpec))
		}
		if !explicit("seed") {
			s.Seed = c.Seed
		}
		if !explicit("batch") {
			s.Batch = c.Batch
		}
		if !explicit("lr") {
			s.LR = c.LR
		}
	}
	if err := s.Validate(); err != nil {
		return s, wrap(err)
	}
	return s, nil
}

// ReadCheckpoint reads the checkpoint s loads or resumes (nil, nil when
// none), giving up with ctx's error once ctx is done. Errors name the
// flag.
func (s Spec) ReadCheckpoint(ctx context.Context) (*engine.Checkpoint, error) {
	path, flagName := s.checkpointPath()
	if path == "" {
		return nil, nil
	}
	ck, err := engine.LoadCheckpointContext(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flagName, err)
	}
	return ck, nil
}

// Labels names each of specs by what sets it apart from the others: the
// cell as "LSTM", other fields as "lr 0.01", "hidden 64", joined by ", ";
// fields equal in every spec are left out. A single spec, or specs that
// are all alike, are named by their cell.
func Labels(specs []Spec) []string {
	out := make([]string, len(specs))
	differ := Differ(specs)
	for i, s := range specs {
		var parts []string
		for _, name := range differ {
			if name == "cell" {
				parts = append(parts, s.Cell.Title())
				continue
			}
			v := FormatField(s, name)
			if v == "" {
				v = "none"
			}
			parts = append(parts, name+" "+v)
		}
		if len(parts) == 0 {
			parts = []string{s.Cell.Title()}
		}
		out[i] = strings.Join(parts, ", ")
	}
	return out
}

// Differ lists the names of the fields (as Fields names them, in that
// order) whose values are not the same in every one of specs: what sets
// runs apart, as Labels names them and a table of runs shows them. Where
// a run saves (save, autosave) is not a difference.
func Differ(specs []Spec) []string {
	var differ []string
	for _, f := range fields {
		if f.name == "save" || f.name == "autosave" {
			continue
		}
		for _, s := range specs[min(1, len(specs)):] {
			if f.format(s) != f.format(specs[0]) {
				differ = append(differ, f.name)
				break
			}
		}
	}
	return differ
}

// NumberedPath returns path with "-n" before its extension
// (m.safetensors, 2: m-2.safetensors): where run n of several saves.
func NumberedPath(path string, n int) string {
	ext := filepath.Ext(path)
	return fmt.Sprintf("%s-%d%s", strings.TrimSuffix(path, ext), n, ext)
}
