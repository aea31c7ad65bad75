package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mnist-tui/mnist-tui/engine/safetensors"
)

// tinyCheckpoint is a small random checkpoint of cell, with Adam state when
// adam is set.
func tinyCheckpoint(cell Cell, adam bool, seed uint64) *Checkpoint {
	c := DefaultConfig()
	c.Cell, c.Inputs, c.Steps, c.Hidden, c.Classes, c.Batch, c.Seed = cell, 3, 2, 2, 3, 4, seed
	rng := rand.New(rand.NewPCG(seed, 7))
	fill := func(p *Params, pos bool) *Params {
		for _, s := range p.slices() {
			for i := range s {
				s[i] = 2*rng.Float32() - 1
				if pos {
					s[i] *= s[i]
				}
			}
		}
		return p
	}
	ck := &Checkpoint{Config: c, Params: fill(NewParams(c), false), Epoch: 2, Batch: 1,
		Val: &Score{Loss: 0.5, Acc: 0.75, Samples: 8}, Test: &Score{Loss: 0.25, Acc: 0.875, Samples: 8}}
	if adam {
		a := NewAdam(c)
		a.Step = 42
		fill(a.M, false)
		fill(a.V, true)
		ck.Adam = a
	}
	return ck
}

func encodeCheckpoint(t testing.TB, ck *Checkpoint) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := ck.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func readBytes(b []byte) (*Checkpoint, error) {
	return ReadCheckpoint(bytes.NewReader(b), int64(len(b)))
}

// TestCheckpointStateDictLayout checks the names, shapes and order PyTorch's
// load_state_dict expects for each cell of the notebook's Net.
func TestCheckpointStateDictLayout(t *testing.T) {
	for _, tc := range []struct {
		cell Cell
		rows int
	}{{RNN, 128}, {LSTM, 512}, {GRU, 384}} {
		c := DefaultConfig()
		c.Cell = tc.cell
		m, err := NewModel(c)
		if err != nil {
			t.Fatal(err)
		}
		ck := &Checkpoint{Config: c, Params: m.Params}
		f, err := safetensors.Read(bytes.NewReader(encodeCheckpoint(t, ck)), int64(len(encodeCheckpoint(t, ck))))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]int{
			"rnn.weight_ih_l0": {tc.rows, 28}, "rnn.weight_hh_l0": {tc.rows, 128},
			"rnn.bias_ih_l0": {tc.rows}, "rnn.bias_hh_l0": {tc.rows},
			"fc.weight": {10, 128}, "fc.bias": {10},
		}
		if len(f.Tensors) != len(want) {
			t.Errorf("%s: %d tensors, want %d", tc.cell, len(f.Tensors), len(want))
		}
		for name, sh := range want {
			got, ok := f.Get(name)
			if !ok || !slices.Equal(got.Shape, sh) {
				t.Errorf("%s: tensor %s: %v, want shape %v", tc.cell, name, got, sh)
			}
		}
		wih, _ := f.Get("rnn.weight_ih_l0")
		if !slices.Equal(wih.Data, m.Params.Wih) {
			t.Errorf("%s: weight_ih_l0 data differs from the model's", tc.cell)
		}
		for k, v := range map[string]string{"cell": tc.cell.String(), "hidden": "128", "format": "mnist-tui", "seed": "0"} {
			if f.Metadata[k] != v {
				t.Errorf("%s: metadata %s=%q, want %q", tc.cell, k, f.Metadata[k], v)
			}
		}
	}
}

func TestCheckpointEncodeDecode(t *testing.T) {
	for _, cell := range Cells {
		for _, adam := range []bool{false, true} {
			ck := tinyCheckpoint(cell, adam, 3)
			got, err := readBytes(encodeCheckpoint(t, ck))
			if err != nil {
				t.Fatalf("%s adam=%v: %v", cell, adam, err)
			}
			if !reflect.DeepEqual(got, ck) {
				t.Errorf("%s adam=%v: decoded\n%+v\nwant\n%+v", cell, adam, got, ck)
			}
		}
	}
}

// A bare state_dict, as safetensors.torch.save_file(model.state_dict())
// writes it, loads with the cell and sizes inferred from the shapes.
func TestCheckpointBareStateDict(t *testing.T) {
	ck := tinyCheckpoint(GRU, false, 5)
	f := ck.file()
	f.Metadata = nil
	var b bytes.Buffer
	if err := safetensors.Write(&b, f); err != nil {
		t.Fatal(err)
	}
	got, err := readBytes(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	c := got.Config
	if c.Cell != GRU || c.Hidden != 2 || c.Inputs != 3 || c.Classes != 3 || got.Val != nil || got.Adam != nil {
		t.Errorf("inferred %+v val %v adam %v", c, got.Val, got.Adam)
	}
	if !reflect.DeepEqual(got.Params, ck.Params) {
		t.Error("weights differ")
	}
}

// rawFile assembles a safetensors file from a header and a data buffer,
// without any of Write's checks.
func rawFile(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

// rebuild re-encodes a valid checkpoint's file after edit changes its
// header (as JSON) and data, so that each case breaks one thing.
func rebuild(t testing.TB, valid []byte, edit func(h map[string]any, data []byte) []byte) []byte {
	t.Helper()
	n := binary.LittleEndian.Uint64(valid)
	var h map[string]any
	if err := json.Unmarshal(valid[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	data := edit(h, append([]byte(nil), valid[8+n:]...))
	js, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	return rawFile(string(js), data)
}

// badCheckpoints lists hostile or broken files, each with the error it must
// wrap.
func badCheckpoints(t testing.TB) []struct {
	name string
	b    []byte
	want error
} {
	valid := encodeCheckpoint(t, tinyCheckpoint(LSTM, true, 9))
	entry := func(h map[string]any, name string) map[string]any { return h[name].(map[string]any) }
	meta := func(k, v string) func(h map[string]any, d []byte) []byte {
		return func(h map[string]any, d []byte) []byte {
			entry(h, "__metadata__")[k] = v
			return d
		}
	}
	nan := make([]byte, 4)
	binary.LittleEndian.PutUint32(nan, math.Float32bits(float32(math.NaN())))
	type tc = struct {
		name string
		b    []byte
		want error
	}
	cases := []tc{
		{"empty", nil, safetensors.ErrTooShort},
		{"header length only", valid[:8], safetensors.ErrHeaderLength},
		{"truncated header", valid[:40], safetensors.ErrHeaderLength},
		{"truncated data", valid[:len(valid)-5], safetensors.ErrOffsets},
		{"huge header length", binary.LittleEndian.AppendUint64(nil, math.MaxUint64), safetensors.ErrHeaderLength},
		{"header length past the end", append(binary.LittleEndian.AppendUint64(nil, 1<<40), "{}"...), safetensors.ErrHeaderLength},
		{"not JSON", rawFile("{nope", nil), safetensors.ErrHeader},
		{"trailing bytes", append(append([]byte(nil), valid...), 1, 2, 3, 4), safetensors.ErrTrailing},
		{"huge shape", rawFile(`{"fc.bias":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}`, nil), safetensors.ErrOverflow},
		{"duplicate tensor", rawFile(`{"fc.bias":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"fc.bias":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), safetensors.ErrDuplicate},
		{"wrong dtype", rebuild(t, valid, func(h map[string]any, d []byte) []byte {
			entry(h, "fc.bias")["dtype"] = "I32"
			return d
		}), safetensors.ErrDtype},
		{"F16 of F32's size", rebuild(t, valid, func(h map[string]any, d []byte) []byte {
			entry(h, "fc.bias")["dtype"] = "F16"
			return d
		}), safetensors.ErrSize},
		{"overlapping offsets", rebuild(t, valid, func(h map[string]any, d []byte) []byte {
			e := entry(h, "fc.bias")["data_offsets"].([]any)
			e[0], e[1] = e[0].(float64)-4, e[1].(float64)-4
			return d
		}), safetensors.ErrOffsets},
		{"offsets out of range", rebuild(t, valid, func(h map[string]any, d []byte) []byte {
			return d[:len(d)-4]
		}), safetensors.ErrOffsets},
		{"NaN weight", rebuild(t, valid, func(h map[string]any, d []byte) []byte {
			off := int(entry(h, "rnn.weight_hh_l0")["data_offsets"].([]any)[0].(float64))
			copy(d[off:], nan)
			return d
		}), safetensors.ErrNonFinite},
		{"missing tensor", rebuild(t, valid, func(h map[string]any, d []byte) []byte {
			return dropTensor(h, d, "fc.bias")
		}), ErrCheckpoint},
		{"missing optimizer tensor", rebuild(t, valid, func(h map[string]any, d []byte) []byte {
			return dropTensor(h, d, "optimizer.exp_avg_sq.fc.bias")
		}), ErrCheckpoint},
		{"unknown tensor", rawFileWith(t, tinyCheckpoint(RNN, false, 1), safetensors.Tensor{Name: "rnn.weight_ih_l1", Shape: []int{1}, Data: []float32{1}}), ErrCheckpoint},
		{"gate rows not 1, 3 or 4 times hidden", withShape(t, tinyCheckpoint(RNN, false, 1), 1, 4), ErrCheckpoint},
		{"gate rows not a multiple of hidden", withShape(t, tinyCheckpoint(RNN, false, 1), 1, 3), ErrCheckpoint},
		{"wih rows differ", withShape(t, tinyCheckpoint(GRU, false, 1), 0, 4), ErrCheckpoint},
		{"bias rows differ", withShape(t, tinyCheckpoint(GRU, false, 1), 3, 5), ErrCheckpoint},
		{"fc.bias rows differ", withShape(t, tinyCheckpoint(GRU, false, 1), 5, 2), ErrCheckpoint},
		{"negative second moment", rebuild(t, valid, func(h map[string]any, d []byte) []byte {
			off := int(entry(h, "optimizer.exp_avg_sq.fc.bias")["data_offsets"].([]any)[0].(float64))
			binary.LittleEndian.PutUint32(d[off:], math.Float32bits(-1))
			return d
		}), ErrCheckpoint},
		{"metadata cell disagrees", rebuild(t, valid, meta("cell", "gru")), ErrCheckpoint},
		{"metadata hidden disagrees", rebuild(t, valid, meta("hidden", "3")), ErrCheckpoint},
		{"metadata steps huge", rebuild(t, valid, meta("steps", "100000000")), ErrCheckpoint},
		{"metadata batch huge", rebuild(t, valid, meta("batch", "1000000")), ErrCheckpoint},
		{"metadata batch not a number", rebuild(t, valid, meta("batch", "64x")), ErrCheckpoint},
		{"metadata accuracy above 1", rebuild(t, valid, meta("val_acc", "1.5")), ErrCheckpoint},
		{"metadata accuracy without loss", rebuild(t, valid, func(h map[string]any, d []byte) []byte {
			delete(entry(h, "__metadata__"), "test_loss")
			return d
		}), ErrCheckpoint},
		{"metadata lr NaN", rebuild(t, valid, meta("lr", "NaN")), ErrCheckpoint},
		{"metadata seed negative", rebuild(t, valid, meta("seed", "-1")), ErrCheckpoint},
		{"optimizer without step", rebuild(t, valid, func(h map[string]any, d []byte) []byte {
			delete(entry(h, "__metadata__"), "adam_step")
			return d
		}), ErrCheckpoint},
		// Step 0 (saved before the first update) needs all-zero moments;
		// valid's moments are not zero.
		{"optimizer step zero with moments", rebuild(t, valid, meta("adam_step", "0")), ErrCheckpoint},
	}
	return cases
}

// dropTensor removes a tensor from a header and its bytes from data,
// shifting the later offsets so the file stays well-formed.
func dropTensor(h map[string]any, d []byte, name string) []byte {
	off := entry2(h, name)
	b, e := int(off[0].(float64)), int(off[1].(float64))
	delete(h, name)
	for k, v := range h {
		if k == "__metadata__" {
			continue
		}
		o := entry2(h, k)
		if o[0].(float64) >= float64(e) {
			o[0], o[1] = o[0].(float64)-float64(e-b), o[1].(float64)-float64(e-b)
		}
		_ = v
	}
	return append(d[:b:b], d[e:]...)
}

func entry2(h map[string]any, name string) []any {
	return h[name].(map[string]any)["data_offsets"].([]any)
}

// rawFileWith encodes ck's file plus extra tensors.
func rawFileWith(t testing.TB, ck *Checkpoint, extra ...safetensors.Tensor) []byte {
	t.Helper()
	f := ck.file()
	f.Tensors = append(f.Tensors, extra...)
	var b bytes.Buffer
	if err := safetensors.Write(&b, f); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withShape encodes ck's file with tensor i's first dimension set to rows
// (and zero data to match), leaving the rest, metadata included, as is.
func withShape(t testing.TB, ck *Checkpoint, i, rows int) []byte {
	t.Helper()
	f := ck.file()
	sh := slices.Clone(f.Tensors[i].Shape)
	sh[0] = rows
	n := 1
	for _, v := range sh {
		n *= v
	}
	f.Tensors[i] = safetensors.Tensor{Name: f.Tensors[i].Name, Shape: sh, Data: make([]float32, n)}
	var b bytes.Buffer
	if err := safetensors.Write(&b, f); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestCheckpointRejectsBadFiles(t *testing.T) {
	for _, tc := range badCheckpoints(t) {
		t.Run(tc.name, func(t *testing.T) {
			ck, err := readBytes(tc.b)
			if err == nil {
				t.Fatalf("accepted: %+v", ck.Config)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("error %q does not wrap %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "engine: checkpoint: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

// FuzzLoadCheckpoint feeds arbitrary bytes to ReadCheckpoint: it must never
// panic, and whatever it accepts must encode and decode to the same
// checkpoint. The seed corpus (valid checkpoints of each cell, truncations,
// and the bad files above) runs with the ordinary tests.
func FuzzLoadCheckpoint(f *testing.F) {
	for i, cell := range Cells {
		for _, adam := range []bool{false, true} {
			valid := encodeCheckpoint(f, tinyCheckpoint(cell, adam, uint64(i)))
			f.Add(valid)
			if cell == GRU && adam {
				for _, k := range []int{7, 8, 9, 100, len(valid) / 2, len(valid) - 1} {
					f.Add(valid[:k])
				}
			}
		}
	}
	for _, tc := range badCheckpoints(f) {
		f.Add(tc.b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ck, err := readBytes(b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "engine: checkpoint: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
			return
		}
		if err := ck.Config.Validate(); err != nil {
			t.Fatalf("accepted an invalid config: %v", err)
		}
		again, err := readBytes(encodeCheckpoint(t, ck))
		if err != nil {
			t.Fatalf("re-reading an accepted checkpoint: %v", err)
		}
		if !reflect.DeepEqual(again, ck) {
			t.Fatalf("round trip changed the checkpoint:\n%+v\n%+v", again, ck)
		}
	})
}

func TestLoadCheckpointNamesTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.safetensors")
	if err := os.WriteFile(path, []byte("not a checkpoint at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadCheckpoint(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("error %v does not name %s", err, path)
	}
	if _, err := LoadCheckpoint(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// tempFiles lists the directory's entries other than keep.
func otherFiles(t *testing.T, dir, keep string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if e.Name() != keep {
			out = append(out, e.Name())
		}
	}
	return out
}

// A failed save leaves the previous checkpoint loadable and unchanged, and
// no temporary file behind.
func TestSaveFailureKeepsPrevious(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	old := tinyCheckpoint(LSTM, true, 1)
	if err := old.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := tinyCheckpoint(LSTM, true, 2)
	bad.Params.Whh[1] = float32(math.Inf(1))
	err = bad.WriteFile(path)
	if !errors.Is(err, safetensors.ErrNonFinite) || !strings.Contains(err.Error(), path) {
		t.Errorf("saving an infinite weight: %v", err)
	}
	wrong := tinyCheckpoint(LSTM, true, 3)
	wrong.Config.Hidden = 5
	if err := wrong.WriteFile(path); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("saving mis-shaped tensors: %v", err)
	}
	huge := tinyCheckpoint(LSTM, true, 3)
	huge.Config.Batch = MaxBatch + 1
	if err := huge.WriteFile(path); !errors.Is(err, ErrConfig) { // no run can have it either
		t.Errorf("saving a batch size beyond the loader's limit: %v", err)
	}
	after, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(before, after) {
		t.Fatalf("the previous checkpoint changed (%v)", err)
	}
	if left := otherFiles(t, dir, "model.safetensors"); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
	got, err := LoadCheckpoint(path)
	if err != nil || !reflect.DeepEqual(got, old) {
		t.Errorf("reloading the previous checkpoint: %v", err)
	}
}

// trainedRun trains cell for epochs on small data and returns the trainer,
// its test predictions and the training batch losses of each epoch.
func trainedRun(t *testing.T, c Config, data Data, opts ...Option) (*Trainer, *Predictions, map[int][]float64) {
	t.Helper()
	var pr *Predictions
	losses := map[int][]float64{}
	opts = append(opts, WithReporter(func(r Report) {
		switch {
		case r.Kind == KindDone:
			pr = r.Predictions
		case r.Kind == KindBatch && r.Phase == PhaseTrain:
			losses[r.Epoch] = append(losses[r.Epoch], r.BatchLoss)
		}
	}))
	tr, err := NewTrainer(c, data, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return tr, pr, losses
}

// Round trip: a saved and reloaded model predicts exactly what the run
// reported, on every digit of the test set, for every cell; the metadata
// carries the scores.
func TestCheckpointRoundTripPredictions(t *testing.T) {
	if raceEnabled {
		t.Skip("numerics are checked without -race; TestSaveWhileTraining runs under it")
	}
	n := 10000
	if testing.Short() {
		n = 1000
	}
	data := smallData(t, 1000)
	data.Test = smallData(t, n).Test
	for _, cell := range Cells {
		t.Run(cell.String(), func(t *testing.T) {
			c := DefaultConfig()
			c.Cell, c.Epochs = cell, 2
			tr, want, _ := trainedRun(t, c, data)
			path := filepath.Join(t.TempDir(), cell.String()+".safetensors")
			if err := tr.Save(path); err != nil {
				t.Fatal(err)
			}
			ck, err := LoadCheckpoint(path)
			if err != nil {
				t.Fatal(err)
			}
			if ck.Config != c || ck.Epoch != 2 || ck.Test == nil || ck.Test.Acc != want.Acc || ck.Test.Samples != n || ck.Val == nil {
				t.Errorf("metadata: config %+v epoch %d test %+v val %+v", ck.Config, ck.Epoch, ck.Test, ck.Val)
			}
			got, err := ck.Model().Evaluate(context.Background(), data.Test, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := range want.Pred {
				if got.Pred[i] != want.Pred[i] || got.Probs[i] != want.Probs[i] {
					t.Fatalf("digit %d: reloaded %d %v, run %d %v", i, got.Pred[i], got.Probs[i], want.Pred[i], want.Probs[i])
				}
			}
			// --load with --epochs 0: no training, the same test accuracy.
			c0 := ck.Config
			c0.Epochs = 0
			_, again, _ := trainedRun(t, c0, Data{Test: data.Test}, WithParams(ck.Params))
			if again.Acc != want.Acc {
				t.Errorf("--epochs 0 from the checkpoint: accuracy %v, want %v", again.Acc, want.Acc)
			}
		})
	}
}

// Resuming continues the same curve: after a checkpoint at the end of an
// epoch, or in the middle of one, the next training losses are those of an
// uninterrupted run (exactly: same batches, same arithmetic).
func TestResumeContinuesTheCurve(t *testing.T) {
	if raceEnabled {
		t.Skip("numerics are checked without -race")
	}
	data := smallData(t, 640)
	for _, cell := range []Cell{RNN, GRU} {
		t.Run(cell.String(), func(t *testing.T) {
			c := DefaultConfig()
			c.Cell, c.Epochs = cell, 3
			_, want, full := trainedRun(t, c, data)

			// Stopped after epoch 2, saved to a file, resumed.
			c2 := c
			c2.Epochs = 2
			tr, _, _ := trainedRun(t, c2, data)
			path := filepath.Join(t.TempDir(), "ck.safetensors")
			if err := tr.Save(path); err != nil {
				t.Fatal(err)
			}
			ck, err := LoadCheckpoint(path)
			if err != nil {
				t.Fatal(err)
			}
			ck.Config.Epochs = 3
			_, got, resumed := trainedRun(t, ck.Config, data, WithResume(ck))
			if len(resumed) != 1 || !slices.Equal(resumed[3], full[3]) {
				t.Errorf("epoch 3 losses after resuming:\n%v\nuninterrupted:\n%v", resumed[3], full[3])
			}
			if got.Acc != want.Acc {
				t.Errorf("test accuracy %v after resuming, %v uninterrupted", got.Acc, want.Acc)
			}

			// Stopped mid-epoch (cancelled after 4 batches of epoch 3).
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			mid, err := NewTrainer(c, data, WithReporter(func(r Report) {
				if r.Kind == KindBatch && r.Phase == PhaseTrain && r.Epoch == 3 && r.Step == 4 {
					cancel()
				}
			}))
			if err != nil {
				t.Fatal(err)
			}
			if err := mid.Run(ctx); !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled run: %v", err)
			}
			ck = mid.Checkpoint()
			if ck.Epoch != 2 || ck.Batch != 4 {
				t.Fatalf("mid-epoch checkpoint at epoch %d batch %d, want 2 and 4", ck.Epoch, ck.Batch)
			}
			ck, err = readBytes(encodeCheckpoint(t, ck))
			if err != nil {
				t.Fatal(err)
			}
			_, got, resumed = trainedRun(t, c, data, WithResume(ck))
			if !slices.Equal(resumed[3], full[3][4:]) {
				t.Errorf("epoch 3 losses after resuming mid-epoch:\n%v\nuninterrupted:\n%v", resumed[3], full[3][4:])
			}
			if got.Acc != want.Acc {
				t.Errorf("test accuracy %v after resuming mid-epoch, %v uninterrupted", got.Acc, want.Acc)
			}
		})
	}
}

func TestResumeNeedsOptimizerState(t *testing.T) {
	ck := tinyCheckpoint(RNN, false, 1)
	data := smallData(t, 64)
	if _, err := NewTrainer(ck.Config, data, WithResume(ck)); !errors.Is(err, ErrConfig) {
		t.Errorf("resuming without Adam state: %v", err)
	}
	ck = tinyCheckpoint(RNN, true, 1)
	c := ck.Config
	c.Hidden = 3
	if _, err := NewTrainer(c, data, WithResume(ck)); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("resuming into another shape: %v", err)
	}
}

// Saving while training runs (the TUI's "save now") gives consistent,
// loadable files; the epoch hook sees each epoch (autosave).
func TestSaveWhileTraining(t *testing.T) {
	c := DefaultConfig()
	if !raceEnabled {
		c.Cell = LSTM
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "now.safetensors")
	auto := filepath.Join(dir, "auto.safetensors")
	var hooked []int
	saves := make(chan error, 1)
	tr, err := NewTrainer(c, smallData(t, quickSize(512)), WithEpochHook(func(e int) error {
		hooked = append(hooked, e)
		return nil
	}), WithAutosave(auto), WithReporter(func(r Report) {
		if r.Kind == KindBatch && r.Phase == PhaseTrain && r.Step == 2 && r.Epoch == 2 {
			go func() { saves <- nil }()
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- tr.Run(context.Background()) }()
	<-saves
	for range 3 {
		if err := tr.Save(path); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadCheckpoint(path); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(hooked, []int{1, 2, 3}) {
		t.Errorf("epoch hook saw %v, want [1 2 3]", hooked)
	}
	if ck, err := LoadCheckpoint(auto); err != nil || ck.Epoch != 3 || ck.Val == nil || ck.Test != nil {
		t.Errorf("autosave: %+v, %v; want epoch 3 with a validation score and no test one yet", ck, err)
	}
	if left := otherFiles(t, dir, "now.safetensors"); !slices.Equal(left, []string{"auto.safetensors"}) {
		t.Errorf("left behind: %v", left)
	}
	// A hook error stops the run.
	boom := errors.New("disk full")
	tr, err = NewTrainer(c, smallData(t, 64), WithEpochHook(func(int) error { return boom }))
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background()); !errors.Is(err, boom) {
		t.Errorf("run with a failing hook: %v", err)
	}
}

// TestUnexpectedTensorBeforeDtype: a tensor the model does not have is
// named as unexpected whatever its dtype (here I64, as PyTorch stores a
// BatchNorm's num_batches_tracked), not refused for its dtype.
func TestUnexpectedTensorBeforeDtype(t *testing.T) {
	valid := encodeCheckpoint(t, tinyCheckpoint(RNN, false, 1))
	b := rebuild(t, valid, func(h map[string]any, d []byte) []byte {
		h["bn.num_batches_tracked"] = map[string]any{"dtype": "I64", "shape": []int{}, "data_offsets": []int{len(d), len(d) + 8}}
		return append(d, 7, 0, 0, 0, 0, 0, 0, 0)
	})
	_, err := readBytes(b)
	if !errors.Is(err, ErrCheckpoint) || errors.Is(err, safetensors.ErrDtype) || !strings.Contains(err.Error(), "unexpected tensors bn.num_batches_tracked") {
		t.Fatalf("got %v, want the tensor named as unexpected", err)
	}
}
