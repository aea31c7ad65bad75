package engine

import (
	"context"
	"math"
	"testing"
)

// The trace's last step must agree with the batched evaluation graph.
func TestTraceLastStepMatchesEvaluate(t *testing.T) {
	m, err := NewModel(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	data := smallData(t, 64)
	pr, err := m.Evaluate(context.Background(), data.Test, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 17, 63} {
		tr, err := m.Trace(data.Test.Image(i))
		if err != nil {
			t.Fatal(err)
		}
		if len(tr.Hidden) != 28 || len(tr.Probs) != 28 || len(tr.Hidden[27]) != 128 {
			t.Fatalf("trace shape %d x %d", len(tr.Hidden), len(tr.Hidden[0]))
		}
		for j, want := range pr.Probs[i] {
			if got := tr.Probs[27][j]; math.Abs(float64(got-want)) > 1e-5 {
				t.Errorf("digit %d class %d: trace %v, evaluate %v", i, j, got, want)
			}
		}
	}
	if _, err := m.Trace(make([]uint8, 10)); err == nil {
		t.Error("Trace of 10 pixels gave no error")
	}
}
