package engine

import (
	"math"
	"math/rand/v2"
	"testing"
)

// refLogit is logit class of one sequence x (T x I) in float64
// (refCellStates and refLogits).
func refLogit(cell Cell, d dims, x []float64, w paramSet, class int) float64 {
	st := refCellStates(cell, d, x, w)
	return refLogits(d, st[d.T-1].h, w)[class]
}

// TestSaliencyFiniteDifferences holds the fused backward's input gradient
// (inputSaliency, what Model.Saliency returns) against central finite
// differences of a float64 forward pass, for every cell: every input of
// small odd shapes, and a sample of the pixels of a real digit through the
// notebook's shapes.
func TestSaliencyFiniteDifferences(t *testing.T) {
	if raceEnabled {
		t.Skip("numerics are checked without -race")
	}
	const step = 1e-5
	cases := []struct {
		name  string
		d     dims
		scale float64
	}{
		{"T5I4H6C3", dims{B: 1, T: 5, I: 4, H: 6, C: 3}, 0.6},
		{"T3I2H9C4-saturating", dims{B: 1, T: 3, I: 2, H: 9, C: 4}, 2},
	}
	for _, cell := range cells {
		for ci, tc := range cases {
			t.Run(cell.String()+"/"+tc.name, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(ci+1), uint64(cell)))
				d := tc.d
				w := randCellWeights(rng, cell, d, tc.scale)
				c := configFor(d)
				c.Cell = cell
				x := make([]float32, d.T*d.I)
				for i := range x {
					x[i] = float32(2*rng.Float64() - 1)
				}
				for class := range d.C {
					got := inputSaliency(c, paramsOf(c, w), x, class)
					checkSaliency(t, cell, d, w, x, got, class, nil, step)
				}
			})
		}
		t.Run(cell.String()+"/notebook", func(t *testing.T) {
			m := traceModel(t, cell, 11)
			px := smallData(t, 1).Test.Image(0)
			pr, err := m.Trace(px)
			if err != nil {
				t.Fatal(err)
			}
			class := pr.Pred(27)
			got, err := m.Saliency(px, class)
			if err != nil {
				t.Fatal(err)
			}
			x, _ := traceInput(m.Config, px, "test")
			d := dims{B: 1, T: 28, I: 28, H: m.Config.Hidden, C: 10}
			// Pixels of the stroke, the background and the first and last
			// rows (the gradient reaching back through every step).
			var sample []int
			for i := 0; i < len(x); i += 37 {
				sample = append(sample, i)
			}
			sample = append(sample, 1, 27*28+5)
			checkSaliency(t, cell, d, weightsOf(m.Params), x, got, class, sample, step)
		})
	}
	m := traceModel(t, RNN, 1)
	if _, err := m.Saliency(make([]uint8, 784), 10); err == nil {
		t.Error("Saliency of class 10 gave no error")
	}
	if _, err := m.Saliency(make([]uint8, 5), 1); err == nil {
		t.Error("Saliency of 5 pixels gave no error")
	}
}

// checkSaliency compares got (d logit_class / dx) at the inputs in sample
// (all when nil) with central differences of refLogit: within 1e-4 of the
// largest gradient's magnitude plus 1e-4 relative.
func checkSaliency(t *testing.T, cell Cell, d dims, w paramSet, x, got []float32, class int, sample []int, step float64) {
	t.Helper()
	x64 := toF64(x)
	if sample == nil {
		for i := range x {
			sample = append(sample, i)
		}
	}
	fd := make([]float64, len(sample))
	var scale float64
	for k, i := range sample {
		orig := x64[i]
		x64[i] = orig + step
		lp := refLogit(cell, d, x64, w, class)
		x64[i] = orig - step
		lm := refLogit(cell, d, x64, w, class)
		x64[i] = orig
		fd[k] = (lp - lm) / (2 * step)
		scale = math.Max(scale, math.Abs(fd[k]))
	}
	if scale == 0 {
		t.Fatal("every finite difference is zero: nothing is checked")
	}
	for k, i := range sample {
		if diff := math.Abs(float64(got[i]) - fd[k]); diff > 1e-4*scale+1e-4*math.Abs(fd[k]) {
			t.Errorf("class %d input %d (row %d): saliency %.6g, finite difference %.6g (largest %.3g)", class, i, i/d.I+1, got[i], fd[k], scale)
		}
	}
}

// BenchmarkSaliency is one digit's saliency map at the notebook's shapes:
// the browser and the replay compute it when it is asked for (it must feel
// instant: well under 50 ms).
func BenchmarkSaliency(b *testing.B) {
	benchDigit(b, func(m *Model, px []uint8) error { _, err := m.Saliency(px, 3); return err })
}

// BenchmarkTrace is one digit's trace at the notebook's shapes (the
// replay's, and the canvas's live classification).
func BenchmarkTrace(b *testing.B) {
	benchDigit(b, func(m *Model, px []uint8) error { _, err := m.Trace(px); return err })
}

// benchDigit runs f on a test digit for every cell.
func benchDigit(b *testing.B, f func(m *Model, px []uint8) error) {
	px := smallData(b, 1).Test.Image(0)
	for _, cell := range Cells {
		b.Run(cell.String(), func(b *testing.B) {
			m := traceModel(b, cell, 3)
			b.ReportAllocs()
			for b.Loop() {
				if err := f(m, px); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
