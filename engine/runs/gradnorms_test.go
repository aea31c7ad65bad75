package runs

import (
	"context"
	"testing"

	"github.com/mnist-tui/mnist-tui/engine"
)

// TestRunsRecordGradNorms: every run a List trains reports its gradients
// through time on every GradNormsEvery-th training batch of each epoch
// (the first included), and on no other report.
func TestRunsRecordGradNorms(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a run; runs without -short (the race run uses -short)")
	}
	l, a := testList(t)
	sub := l.Subscribe()
	defer sub.Close()
	spec := tiny(engine.RNN, 3)
	spec.Limit = 5 * 64 // five training batches an epoch
	if _, err := a.Add(spec); err != nil {
		t.Fatal(err)
	}
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	l.Close()
	var got []int // the train steps sampled, epoch by epoch
	for _, e := range drain(sub) {
		r := e.Report
		if e.Kind != KindReport || r.GradNorms == nil {
			continue
		}
		if r.Kind != engine.KindBatch || r.Phase != engine.PhaseTrain {
			t.Fatalf("gradient norms on a %v report of phase %s", r.Kind, r.Phase)
		}
		if len(r.GradNorms) != 28 {
			t.Fatalf("%d gradient norms, want one a row (28)", len(r.GradNorms))
		}
		for s, v := range r.GradNorms {
			if !(v > 0) {
				t.Fatalf("epoch %d step %d: norm at row %d is %v", r.Epoch, r.Step, s+1, v)
			}
		}
		got = append(got, r.Epoch*100+r.Step)
	}
	var want []int
	for e := 2; e <= 3; e++ {
		for k := 0; k < 5; k += GradNormsEvery {
			want = append(want, e*100+k+1)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("sampled (epoch*100+step) %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("sampled (epoch*100+step) %v, want %v", got, want)
		}
	}
}
