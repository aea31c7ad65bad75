package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/mnist-tui/mnist-tui/engine/safetensors"
)

// ErrCheckpoint marks a safetensors file that is not a usable checkpoint
// (missing, unknown or mis-shaped tensors, inconsistent metadata); test with
// errors.Is. Malformed files fail earlier with the safetensors package's
// errors, which the returned error also wraps.
var ErrCheckpoint = errors.New("invalid checkpoint")

// checkpointFormat is the value of the "format" metadata key.
const checkpointFormat = "mnist-tui"

// optimizerPrefix starts the names of the Adam moment tensors, e.g.
// "optimizer.exp_avg.rnn.weight_ih_l0" (PyTorch's names for the moments).
const optimizerPrefix = "optimizer."

// Score is a model's per-sample average loss and accuracy on a data split.
type Score struct {
	Loss, Acc float64
	// Samples is the number of digits scored.
	Samples int
}

// Checkpoint is a model saved to or loaded from a safetensors file: the
// weights under PyTorch's state_dict names and layouts for the notebook's
// Net (so torch's load_state_dict takes them, see scripts/torch_check.py),
// optionally the Adam state to resume training, and the run's settings and
// scores as metadata.
type Checkpoint struct {
	// Config is the model's shape and the run's settings.
	Config Config
	// Params are the weights.
	Params *Params
	// Adam is the optimiser's state, nil when the file holds none (a bare
	// PyTorch state_dict, say).
	Adam *Adam
	// Epoch counts the schedule's epochs completed (validation included),
	// and Batch the training batches done in the epoch after it (non-zero
	// only for a checkpoint taken mid-epoch).
	Epoch, Batch int
	// Val is the last completed epoch's validation score and Test the test
	// score, nil when not measured.
	Val, Test *Score
}

// Model returns the checkpoint's model; it shares the weights.
func (c *Checkpoint) Model() *Model { return &Model{Config: c.Config, Params: c.Params} }

// optimizerNames lists the names of the Adam moment tensors: the first and
// the second moments, in state_dict order.
func optimizerNames(c Config) (avg, avgSq []string) {
	for _, n := range StateDictNames(c) {
		avg = append(avg, optimizerPrefix+"exp_avg."+n)
		avgSq = append(avgSq, optimizerPrefix+"exp_avg_sq."+n)
	}
	return avg, avgSq
}

// file lays the checkpoint out as a safetensors file.
func (c *Checkpoint) file() safetensors.File {
	names := StateDictNames(c.Config)
	shapes := paramShapes(c.Config)
	var f safetensors.File
	add := func(names []string, p *Params) {
		for i, s := range p.slices() {
			f.Tensors = append(f.Tensors, safetensors.Tensor{Name: names[i], Shape: shapes[i], Data: s})
		}
	}
	add(names, c.Params)
	cfg := c.Config
	m := map[string]string{
		"format":         checkpointFormat,
		"version":        "1",
		"cell":           cfg.Cell.String(),
		"inputs":         strconv.Itoa(cfg.Inputs),
		"steps":          strconv.Itoa(cfg.Steps),
		"hidden":         strconv.Itoa(cfg.Hidden),
		"classes":        strconv.Itoa(cfg.Classes),
		"batch":          strconv.Itoa(cfg.Batch),
		"epochs":         strconv.Itoa(cfg.Epochs),
		"lr":             fmtFloat(cfg.LR),
		"seed":           strconv.FormatUint(cfg.Seed, 10),
		"epoch":          strconv.Itoa(c.Epoch),
		"batch_in_epoch": strconv.Itoa(c.Batch),
	}
	if c.Adam != nil {
		avg, avgSq := optimizerNames(cfg)
		add(avg, c.Adam.M)
		add(avgSq, c.Adam.V)
		m["adam_step"] = strconv.Itoa(c.Adam.Step)
		m["adam_lr"] = fmtFloat(c.Adam.LR)
		m["adam_beta1"] = fmtFloat(c.Adam.Beta1)
		m["adam_beta2"] = fmtFloat(c.Adam.Beta2)
		m["adam_eps"] = fmtFloat(c.Adam.Eps)
	}
	for prefix, s := range map[string]*Score{"val_": c.Val, "test_": c.Test} {
		if s != nil {
			m[prefix+"loss"] = fmtFloat(s.Loss)
			m[prefix+"acc"] = fmtFloat(s.Acc)
			m[prefix+"samples"] = strconv.Itoa(s.Samples)
		}
	}
	f.Metadata = m
	return f
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// Write encodes the checkpoint in the safetensors format to w.
func (c *Checkpoint) Write(w io.Writer) error {
	if err := c.check(); err != nil {
		return err
	}
	if err := safetensors.Write(w, c.file()); err != nil {
		return fmt.Errorf("engine: checkpoint: %w", err)
	}
	return nil
}

// WriteFile writes the checkpoint to path atomically (a temporary file in
// the same directory, synced, then renamed over path): a crash or a full
// disk midway leaves whatever was at path untouched.
func (c *Checkpoint) WriteFile(path string) error {
	if err := c.check(); err != nil {
		return fmt.Errorf("engine: save %s: %w", path, err)
	}
	if err := safetensors.WriteFile(path, c.file()); err != nil {
		return fmt.Errorf("engine: save %s: %w", path, err)
	}
	return nil
}

// check verifies that the tensors have the shapes of the configuration.
func (c *Checkpoint) check() error {
	if err := c.Config.Validate(); err != nil {
		return err
	}
	sets := []*Params{c.Params}
	if c.Adam != nil {
		sets = append(sets, c.Adam.M, c.Adam.V)
	}
	for _, p := range sets {
		if p == nil || !p.shapedFor(c.Config) {
			return fmt.Errorf("engine: %w: tensors not shaped for the configuration", ErrCheckpoint)
		}
	}
	return nil
}

// shapedFor reports whether p's tensors have c's sizes.
func (p *Params) shapedFor(c Config) bool {
	for i, s := range p.slices() {
		n := 1
		for _, v := range paramShapes(c)[i] {
			n *= v
		}
		if len(s) != n {
			return false
		}
	}
	return true
}

// CheckSave reports whether a checkpoint could be saved at path (see
// safetensors.CheckWriteFile): call it before training whose result is to
// be saved there. Saving onto a symbolic link is refused (the atomic
// rename would replace the link, not write through it). A path that
// cannot be written is a *FieldError for the save setting, its Reason
// saying why: "directory out: no such file or directory".
func CheckSave(path string) error {
	err := safetensors.CheckWriteFile(path)
	if err == nil {
		return nil
	}
	why := err // "safetensors: write PATH: why": the why, as the path is the value
	if inner := errors.Unwrap(err); inner != nil {
		why = inner
	}
	return &FieldError{Field: "save", Value: path, Reason: why.Error()}
}

// LoadCheckpoint reads and checks the checkpoint at path; see
// ReadCheckpoint. Errors name the file. Anything but a regular file is
// refused before it is opened.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	return LoadCheckpointContext(context.Background(), path)
}

// LoadCheckpointContext is LoadCheckpoint, failing with ctx's error once
// ctx is cancelled.
func LoadCheckpointContext(ctx context.Context, path string) (*Checkpoint, error) {
	f, err := safetensors.ReadFileContext(ctx, path, safetensors.KeepOtherDtypes())
	if err != nil {
		return nil, fmt.Errorf("engine: load %s: %w", path, err)
	}
	c, err := decodeCheckpoint(f)
	if err != nil {
		return nil, fmt.Errorf("engine: load %s: %w", path, err)
	}
	return c, nil
}

// ReadCheckpoint decodes a checkpoint of size bytes from r. The file must
// pass every check of safetensors.Read (header bounds, JSON, dtypes,
// offsets contiguous, in range and non-overlapping, no duplicates, finite
// values) and then hold exactly the six state_dict tensors with consistent
// shapes, from which the cell (by the gate rows: 1x, 3x GRU, 4x LSTM) and
// sizes are inferred, plus optionally all twelve Adam moment tensors of the
// same shapes. A tensor of any other name is refused as unexpected before
// any dtype is judged; the expected tensors may be F32, F16, BF16 or F64
// (converted to float32 as PyTorch's load_state_dict does, so a model
// saved from PyTorch in half or double precision loads). Metadata is optional (a file saved from PyTorch has none);
// what it states must agree with the tensors. Memory stays in proportion to
// size.
func ReadCheckpoint(r io.Reader, size int64) (*Checkpoint, error) {
	f, err := safetensors.Read(r, size, safetensors.KeepOtherDtypes())
	if err != nil {
		return nil, fmt.Errorf("engine: checkpoint: %w", err)
	}
	c, err := decodeCheckpoint(f)
	if err != nil {
		return nil, fmt.Errorf("engine: checkpoint: %w", err)
	}
	return c, nil
}

// metaReader parses metadata values, remembering the first error.
type metaReader struct {
	m   map[string]string
	err error
}

func (r *metaReader) fail(key, v, why string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: metadata %s=%q: %s", ErrCheckpoint, key, v, why)
	}
}

// int reads key as an integer in [lo, hi], or returns def when absent.
func (r *metaReader) int(key string, def, lo, hi int) int {
	v, ok := r.m[key]
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.fail(key, v, fmt.Sprintf("want an integer in [%d, %d]", lo, hi))
		return def
	}
	return n
}

// float reads key as a finite number in [lo, hi], or returns def.
func (r *metaReader) float(key string, def, lo, hi float64) float64 {
	v, ok := r.m[key]
	if !ok {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f >= lo && f <= hi) {
		r.fail(key, v, fmt.Sprintf("want a number in [%g, %g]", lo, hi))
		return def
	}
	return f
}

// decodeCheckpoint checks a parsed file against the model it describes.
func decodeCheckpoint(f *safetensors.File) (*Checkpoint, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrCheckpoint}, a...)...)
	}
	base := DefaultConfig()
	names := StateDictNames(base)
	if err := checkNames(f, names); err != nil {
		return nil, err
	}
	get := func(name string, rank int) (*safetensors.Tensor, error) {
		t, ok := f.Get(name)
		if !ok {
			return nil, bad("no tensor %s", name)
		}
		if t.Data == nil && t.Dtype != "" {
			return nil, badDtype(t)
		}
		if len(t.Shape) != rank {
			return nil, bad("%s has shape %v, want %d dimensions", name, t.Shape, rank)
		}
		for _, v := range t.Shape {
			if v <= 0 {
				return nil, bad("%s has shape %v", name, t.Shape)
			}
		}
		return t, nil
	}
	var ts [6]*safetensors.Tensor
	for i, name := range names {
		var err error
		if ts[i], err = get(name, len(paramShapes(base)[i])); err != nil {
			return nil, err
		}
	}
	wih, whh, bih, bhh, wfc, bfc := ts[0], ts[1], ts[2], ts[3], ts[4], ts[5]
	gh, hidden := whh.Shape[0], whh.Shape[1]
	cell := map[int]Cell{1: RNN, 3: GRU, 4: LSTM}[gh/hidden]
	if gh%hidden != 0 || cell == 0 {
		return nil, bad("%s has shape %v: %d rows is not 1, 3 (GRU) or 4 (LSTM) times the hidden size %d", names[1], whh.Shape, gh, hidden)
	}
	classes := wfc.Shape[0]
	switch {
	case wih.Shape[0] != gh:
		return nil, bad("%s has shape %v, want %d rows like %s", names[0], wih.Shape, gh, names[1])
	case bih.Shape[0] != gh || bhh.Shape[0] != gh:
		return nil, bad("biases have shapes %v and %v, want [%d]", bih.Shape, bhh.Shape, gh)
	case wfc.Shape[1] != hidden:
		return nil, bad("%s has shape %v, want %d columns (the hidden size)", names[4], wfc.Shape, hidden)
	case bfc.Shape[0] != classes:
		return nil, bad("%s has shape %v, want [%d]", names[5], bfc.Shape, classes)
	}

	mr := &metaReader{m: f.Metadata}
	if v, ok := f.Metadata["cell"]; ok && v != cell.String() {
		mr.fail("cell", v, "the tensors are shaped for "+cell.String())
	}
	c := base
	c.Cell, c.Inputs, c.Hidden, c.Classes = cell, wih.Shape[1], hidden, classes
	c.Inputs = mr.int("inputs", c.Inputs, c.Inputs, c.Inputs)
	c.Hidden = mr.int("hidden", c.Hidden, c.Hidden, c.Hidden)
	c.Classes = mr.int("classes", c.Classes, c.Classes, c.Classes)
	// The sizes the metadata declares (the tensors' are already bounded by
	// the file's size) are held to Config's limits, which Validate enforces
	// for every run: they bound what a training graph built from a hostile
	// file would allocate, every run can be saved and every file Write
	// writes loads.
	c.Steps = mr.int("steps", c.Steps, 1, MaxSteps)
	c.Batch = mr.int("batch", c.Batch, 1, MaxBatch)
	c.Epochs = mr.int("epochs", c.Epochs, 0, math.MaxInt32)
	c.LR = mr.float("lr", c.LR, math.SmallestNonzeroFloat64, 10)
	if v, ok := f.Metadata["seed"]; ok {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			mr.fail("seed", v, "want an unsigned integer")
		}
		c.Seed = s
	}
	ck := &Checkpoint{Config: c}
	ck.Epoch = mr.int("epoch", 0, 0, math.MaxInt32)
	ck.Batch = mr.int("batch_in_epoch", 0, 0, math.MaxInt32)
	for _, s := range []struct {
		prefix string
		dst    **Score
	}{{"val_", &ck.Val}, {"test_", &ck.Test}} {
		_, hasAcc := f.Metadata[s.prefix+"acc"]
		_, hasLoss := f.Metadata[s.prefix+"loss"]
		if hasAcc != hasLoss {
			return nil, bad("metadata has only one of %sacc and %sloss", s.prefix, s.prefix)
		}
		if !hasAcc {
			continue
		}
		*s.dst = &Score{
			Acc:     mr.float(s.prefix+"acc", 0, 0, 1),
			Loss:    mr.float(s.prefix+"loss", 0, 0, math.MaxFloat64),
			Samples: mr.int(s.prefix+"samples", 0, 0, math.MaxInt32),
		}
	}
	if mr.err != nil {
		return nil, mr.err
	}
	if err := c.Validate(); err != nil {
		return nil, bad("%v", err)
	}

	// The tensors, then the optimiser's (checkNames has refused any other).
	fill := func(p *Params, names []string) {
		for i, s := range p.slices() {
			t, _ := f.Get(names[i])
			copy(s, t.Data)
		}
	}
	ck.Params = NewParams(c)
	fill(ck.Params, names)
	avg, avgSq := optimizerNames(c)
	nOpt := 0
	for _, n := range append(append([]string(nil), avg...), avgSq...) {
		if _, ok := f.Get(n); ok {
			nOpt++
		}
	}
	if nOpt > 0 {
		if nOpt != len(avg)+len(avgSq) {
			return nil, bad("%d of the %d optimizer tensors", nOpt, len(avg)+len(avgSq))
		}
		for i, sh := range paramShapes(c) {
			for _, n := range []string{avg[i], avgSq[i]} {
				t, _ := f.Get(n)
				if t.Data == nil && t.Dtype != "" {
					return nil, badDtype(t)
				}
				if !slices.Equal(t.Shape, sh) {
					return nil, bad("%s has shape %v, want %v", n, t.Shape, sh)
				}
			}
			t, _ := f.Get(avgSq[i])
			for j, v := range t.Data {
				if v < 0 {
					return nil, bad("%s[%d] = %g is negative", avgSq[i], j, v)
				}
			}
		}
		if _, ok := f.Metadata["adam_step"]; !ok {
			return nil, bad("optimizer tensors without metadata adam_step")
		}
		a := NewAdam(c)
		a.Step = mr.int("adam_step", 0, 0, math.MaxInt32) // 0: saved before the first update
		a.LR = mr.float("adam_lr", c.LR, math.SmallestNonzeroFloat64, 10)
		a.Beta1 = mr.float("adam_beta1", a.Beta1, 0, math.Nextafter(1, 0))
		a.Beta2 = mr.float("adam_beta2", a.Beta2, 0, math.Nextafter(1, 0))
		a.Eps = mr.float("adam_eps", a.Eps, math.SmallestNonzeroFloat64, 1)
		if mr.err != nil {
			return nil, mr.err
		}
		fill(a.M, avg)
		fill(a.V, avgSq)
		if a.Step == 0 && (anyNonZero(a.M) || anyNonZero(a.V)) {
			return nil, bad("adam_step 0 (before the first update) with non-zero moments")
		}
		ck.Adam = a
	}
	return ck, nil
}

// badDtype is the error for an expected tensor of a dtype that cannot be
// loaded (Read kept it without data).
func badDtype(t *safetensors.Tensor) error {
	return fmt.Errorf("%w: %s: %w: dtype %s, only F32, F16, BF16 and F64 can be loaded", ErrCheckpoint, t.Name, safetensors.ErrDtype, t.Dtype)
}

// checkNames refuses a file holding tensors other than the state_dict's
// names and their optimizer moments, naming them whatever their dtype.
func checkNames(f *safetensors.File, names []string) error {
	avg, avgSq := optimizerNames(DefaultConfig())
	known := map[string]bool{}
	for _, n := range slices.Concat(names, avg, avgSq) {
		known[n] = true
	}
	var unknown []string
	for _, t := range f.Tensors {
		if !known[t.Name] {
			unknown = append(unknown, t.Name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	if len(unknown) > 3 {
		unknown = append(unknown[:3], "...")
	}
	return fmt.Errorf("%w: unexpected tensors %s", ErrCheckpoint, strings.Join(unknown, ", "))
}

// anyNonZero reports whether any value of p is not zero.
func anyNonZero(p *Params) bool {
	for _, s := range p.slices() {
		for _, v := range s {
			if v != 0 {
				return true
			}
		}
	}
	return false
}
