package engine

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
)

// TestConfigLimits: sizes past the limits a checkpoint records are field
// errors, and a configuration at the limits saves and loads.
func TestConfigLimits(t *testing.T) {
	for _, tc := range []struct {
		field string
		set   func(*Config)
	}{
		{"batch", func(c *Config) { c.Batch = MaxBatch + 1 }},
		{"hidden", func(c *Config) { c.Hidden = MaxHidden + 1 }},
		{"steps", func(c *Config) { c.Steps = MaxSteps + 1 }},
	} {
		c := DefaultConfig()
		tc.set(&c)
		var fe *FieldError
		if err := c.Validate(); !errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, ErrConfig) {
			t.Errorf("%s past its limit: Validate = %v, want a FieldError for %s", tc.field, err, tc.field)
		}
	}
	c := DefaultConfig()
	c.Batch = MaxBatch
	path := t.TempDir() + "/max.safetensors"
	if err := (&Checkpoint{Config: c, Params: InitParams(c)}).WriteFile(path); err != nil {
		t.Fatalf("a run at the largest batch cannot be saved: %v", err)
	}
	if _, err := LoadCheckpoint(path); err != nil {
		t.Fatalf("a run at the largest batch cannot be loaded: %v", err)
	}
}

// TestCheckMemory: a configuration needing more than the machine has is
// refused naming the field that weighs more; the default fits anywhere.
func TestCheckMemory(t *testing.T) {
	const machine = 24 << 30
	if err := DefaultConfig().CheckMemory(machine); err != nil {
		t.Fatalf("the default recipe: %v", err)
	}
	for _, tc := range []struct {
		field         string
		hidden, batch int
	}{{"hidden", MaxHidden, 64}, {"batch", 256, MaxBatch}} {
		c := DefaultConfig()
		c.Cell, c.Hidden, c.Batch = LSTM, tc.hidden, tc.batch
		if tc.field == "hidden" {
			c.Epochs = 0
		}
		var fe *FieldError
		err := c.CheckMemory(1 << 30)
		if !errors.As(err, &fe) || fe.Field != tc.field || !strings.Contains(err.Error(), "GB") {
			t.Errorf("hidden %d batch %d: %v, want a FieldError for %s", tc.hidden, tc.batch, err, tc.field)
		}
	}
	if err := DefaultConfig().CheckMemory(0); err != nil {
		t.Errorf("unknown machine memory: %v", err)
	}
}

// TestMemoryEstimateBounds: the estimate is above what a run really holds
// (heap in use, sampled after every batch of a short run).
func TestMemoryEstimateBounds(t *testing.T) {
	c := DefaultConfig()
	c.Cell, c.Hidden, c.Batch, c.Epochs = LSTM, 256, 128, 2
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var peak uint64
	sample := func() {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		peak = max(peak, m.HeapInuse)
	}
	tr, err := NewTrainer(c, smallData(t, 256), WithReporter(func(Report) { sample() }))
	if err != nil {
		t.Fatal(err)
	}
	sample()
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	used := int64(peak - min(peak, before.HeapInuse))
	if est := c.MemoryEstimate() - 256<<20; used > est {
		t.Fatalf("the run held %d bytes, above the estimate's %d (less the fixed allowance)", used, est)
	} else {
		t.Logf("held %.1f MB, estimate %.1f MB (+256 MB allowance)", float64(used)/1e6, float64(est)/1e6)
	}
}
