package engine

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mnist-tui/mnist-tui/engine/safetensors"
)

// TestLoadTorchPrecisions loads state_dicts that PyTorch saved in half,
// bfloat16 and double precision (testdata/torch, written by
// scripts/torch_fixtures.py) and wants exactly the float32 weights
// PyTorch's own load_state_dict made of them (the .f32 files beside them).
func TestLoadTorchPrecisions(t *testing.T) {
	for _, tc := range []struct {
		file  string
		cell  Cell
		dtype string
	}{{"rnn-f16", RNN, "F16"}, {"lstm-bf16", LSTM, "BF16"}, {"gru-f64", GRU, "F64"}} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", "torch", tc.file+".safetensors")
			f, err := safetensors.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, tt := range f.Tensors {
				if tt.Dtype != tc.dtype {
					t.Fatalf("fixture tensor %s is %s, want %s", tt.Name, tt.Dtype, tc.dtype)
				}
			}
			got, err := LoadCheckpoint(path)
			if err != nil {
				t.Fatal(err)
			}
			want, err := LoadCheckpoint(filepath.Join("testdata", "torch", tc.file+".f32.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			if got.Config.Cell != tc.cell || got.Config.Hidden != 4 || got.Config != want.Config {
				t.Fatalf("config %+v, want %v with 4 hidden units like %+v", got.Config, tc.cell, want.Config)
			}
			gs, ws := got.Params.slices(), want.Params.slices()
			names := StateDictNames(got.Config)
			for i := range gs {
				for j := range gs[i] {
					if math.Float32bits(gs[i][j]) != math.Float32bits(ws[i][j]) {
						t.Fatalf("%s[%d] = %v (%#08x), PyTorch loaded %v (%#08x)", names[i], j, gs[i][j], math.Float32bits(gs[i][j]), ws[i][j], math.Float32bits(ws[i][j]))
					}
				}
			}
			// The edge values put into fc.bias survived as PyTorch has them.
			if b := got.Params.Bfc; b[2] != 0 || !math.Signbit(float64(b[2])) {
				t.Errorf("fc.bias[2] = %v, want -0", b[2])
			}
		})
	}
}

// TestTorchUnexpectedTensor: a PyTorch file with an I64 tensor the model
// does not have is refused naming that tensor as unexpected.
func TestTorchUnexpectedTensor(t *testing.T) {
	_, err := LoadCheckpoint(filepath.Join("testdata", "torch", "unexpected-i64.safetensors"))
	if !errors.Is(err, ErrCheckpoint) || errors.Is(err, safetensors.ErrDtype) || !strings.Contains(err.Error(), "unexpected tensors bn.num_batches_tracked") {
		t.Fatalf("got %v, want bn.num_batches_tracked named as unexpected", err)
	}
}
