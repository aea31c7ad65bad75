package runs

import (
	"context"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/internal/peak"
	"github.com/mnist-tui/mnist-tui/mnist"
)

// benchData is 4,096 training digits (64 batches) and 64 of validation and
// test, parsed once.
var benchData = sync.OnceValues(func() (engine.Data, error) {
	train, test, err := mnist.Embedded()
	if err != nil {
		return engine.Data{}, err
	}
	tr, val, err := mnist.Split(train, SplitTrain(train.Len()), 0)
	if err != nil {
		return engine.Data{}, err
	}
	return engine.Data{Train: tr.Limit(4096), Val: val.Limit(64), Test: test.Limit(64)}, nil
})

// trainingCost trains one epoch of d with the trainer tf builds and
// returns the training phase's CPU time (the whole process's, in ns) and
// how many reports carried gradient norms.
func trainingCost(b *testing.B, tf TrainerFunc, p Prepared) (cpu int64, sampled int) {
	var c0, c1 int64
	report := func(r engine.Report) {
		if r.GradNorms != nil {
			sampled++
		}
		if r.Kind != engine.KindPhaseEnd {
			return
		}
		switch r.Phase {
		case engine.PhaseVal:
			if c0 == 0 {
				c0 = peak.ProcessCPU()
			}
		case engine.PhaseTrain:
			c1 = peak.ProcessCPU()
		}
	}
	tr, err := tf(p, report)
	if err != nil {
		b.Fatal(err)
	}
	if err := tr.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	return c1 - c0, sampled
}

// BenchmarkGradNormsCost is what recording the gradient norms costs the
// runs a List trains: one epoch of 4,096 digits trained by NewTrainer (norms
// every GradNormsEvery batches), then by an engine.Trainer without them,
// alternately, b.N times each; it reports the median ratio of their
// training phases' CPU time as cost-% and the ratio of the least CPU times
// of each as min-cost-% (the process's CPU time, which other processes'
// load inflates less than the wall time; the least of several is the
// least disturbed). The every-1 case samples every batch: the most it
// could cost. On a loaded machine run it with -cpu 1: the second worker's
// waits for its hand-offs (spinning, see engine's relay) vary with the
// load by more than the effect measured.
func BenchmarkGradNormsCost(b *testing.B) {
	if peak.ProcessCPU() < 0 {
		b.Skip("reads the process's CPU time, on Linux only")
	}
	data, err := benchData()
	if err != nil {
		b.Fatal(err)
	}
	for _, cell := range engine.Cells {
		for _, every := range []int{GradNormsEvery, 1} {
			name := cell.String() + "/every-" + map[bool]string{true: "1", false: "GradNormsEvery"}[every == 1]
			b.Run(name, func(b *testing.B) {
				spec := DefaultSpec()
				spec.Cell, spec.Epochs = cell, 2
				p := Prepared{Info: &Info{Spec: spec, Config: spec.Config()}, Data: data}
				on := func(p Prepared, report engine.Reporter) (Trainer, error) {
					if every == GradNormsEvery {
						return NewTrainer(p, report)
					}
					return engine.NewTrainer(p.Info.Config, p.Data, engine.WithReporter(report), engine.WithGradNorms(every))
				}
				off := func(p Prepared, report engine.Reporter) (Trainer, error) {
					return engine.NewTrainer(p.Info.Config, p.Data, engine.WithReporter(report))
				}
				var ratios []float64
				var onCPU, offCPU int64
				minOn, minOff := int64(math.MaxInt64), int64(math.MaxInt64)
				for b.Loop() {
					a, n := trainingCost(b, on, p)
					z, none := trainingCost(b, off, p)
					if want := (64 + every - 1) / every; n != want || none != 0 {
						b.Fatalf("%d and %d reports with norms, want %d and 0", n, none, want)
					}
					ratios = append(ratios, float64(a)/float64(z))
					onCPU += a
					offCPU += z
					minOn, minOff = min(minOn, a), min(minOff, z)
				}
				slices.Sort(ratios)
				b.ReportMetric(100*(ratios[len(ratios)/2]-1), "cost-%")
				b.ReportMetric(100*(float64(minOn)/float64(minOff)-1), "min-cost-%")
				b.ReportMetric(float64(onCPU)/float64(len(ratios))/1e6, "on-cpu-ms")
				b.ReportMetric(float64(offCPU)/float64(len(ratios))/1e6, "off-cpu-ms")
			})
		}
	}
}
