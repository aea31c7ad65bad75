package engine

import (
	"context"
	"testing"

	"github.com/mnist-tui/mnist-tui/mnist"
)

// smallData returns the seeded split of the embedded MNIST, limited to n
// digits of each split.
func smallData(t testing.TB, n int) Data {
	t.Helper()
	train, test, err := mnist.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	tr, val, err := mnist.Split(train, 40000, 0)
	if err != nil {
		t.Fatal(err)
	}
	return Data{Train: tr.Limit(n), Val: val.Limit(n), Test: test.Limit(n)}
}

func TestTrainerLearns(t *testing.T) {
	c := DefaultConfig()
	var ends []Report
	var done *Predictions
	tr, err := NewTrainer(c, smallData(t, 4000), WithReporter(func(r Report) {
		switch r.Kind {
		case KindPhaseEnd:
			ends = append(ends, r)
			t.Logf("%s epoch %d loss %.4f acc %.4f %.0f/s", r.Phase, r.Epoch, r.Loss, r.Acc, r.SamplesPerSec)
		case KindDone:
			done = r.Predictions
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if done == nil || done.Len() != 4000 {
		t.Fatalf("no test predictions for 4000 digits: %+v", done)
	}
	if done.Acc < 0.6 {
		t.Errorf("test accuracy %.3f after two epochs on 4,000 digits, want >= 0.6 (chance is 0.1)", done.Acc)
	}
}
