package preprocess

import (
	"errors"
	"math"
	"testing"
)

// field returns an empty 28x28 image with ink v at every (x, y) of pts.
func field(v float32, pts ...[2]int) []float32 {
	px := make([]float32, Side*Side)
	for _, p := range pts {
		px[p[1]*Side+p[0]] = v
	}
	return px
}

// rect lists the pixels of columns x0..x1-1, rows y0..y1-1.
func rect(x0, y0, x1, y1 int) [][2]int {
	var out [][2]int
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			out = append(out, [2]int{x, y})
		}
	}
	return out
}

// check fails unless got is want.
func check(t *testing.T, got []float32, want []float32) {
	t.Helper()
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-6 {
			t.Fatalf("pixel (%d, %d) = %v, want %v\n%s", i%Side, i/Side, got[i], want[i], picture(got))
		}
	}
}

// picture draws an image for failure messages.
func picture(px []float32) string {
	var b []byte
	for y := range Side {
		for x := range Side {
			b = append(b, " .:-=+*#%@"[int(min(max(px[y*Side+x], 0), 1)*9)])
		}
		b = append(b, '\n')
	}
	return string(b)
}

// The cases' expected values are worked out by hand in the comments.
func TestNormalize(t *testing.T) {
	t.Run("vertical bar", func(t *testing.T) {
		// A stroke 2 wide (columns 5-6) and 10 tall (rows 3-12): its box
		// is 2x10, scaled by 20/10 = 2 to 4x20, every new pixel covering
		// a quarter of an inked one (value 1). The scaled bar's centre of
		// mass is (1.5, 9.5): placed at (13.5-1.5, 13.5-9.5) = (12, 4),
		// it fills columns 12-15 and rows 4-23.
		in := field(1, rect(5, 3, 7, 13)...)
		b, ok := Bounds(in, Side, Side)
		if !ok || b != (Rect{5, 3, 7, 13}) {
			t.Fatalf("bounds %+v %t, want {5 3 7 13}", b, ok)
		}
		got, err := Normalize(in)
		if err != nil {
			t.Fatal(err)
		}
		check(t, got, field(1, rect(12, 4, 16, 24)...))
		if x, y, _ := CentreOfMass(got, Side, Side); x != 13.5 || y != 13.5 {
			t.Errorf("centre of mass (%v, %v), want (13.5, 13.5)", x, y)
		}
	})
	t.Run("anti-aliased shrink", func(t *testing.T) {
		// Two strokes 25 tall (rows 2-26) at columns 10 and 14: the box
		// is 5x25, scaled by 20/25 = 0.8 to 4x20. Each new column covers
		// 1.25 source columns: the first [10, 11.25) holds column 10's
		// ink 1 over 1 of its 1.25, so 0.8; the next two none; the last
		// [13.75, 15) again 0.8. Centre of mass (1.5, 9.5): placed at
		// (12, 4), columns 12 and 15 hold 0.8 on rows 4-23.
		in := field(1, append(rect(10, 2, 11, 27), rect(14, 2, 15, 27)...)...)
		got, err := Normalize(in)
		if err != nil {
			t.Fatal(err)
		}
		check(t, got, field(0.8, append(rect(12, 4, 13, 24), rect(15, 4, 16, 24)...)...))
		if p := Pixels(got); p[4*Side+12] != 204 || p[4*Side+13] != 0 {
			t.Errorf("as pixels %d and %d, want 204 (0.8*255) and 0", p[4*Side+12], p[4*Side+13])
		}
	})
	t.Run("an L off centre", func(t *testing.T) {
		// An L: column 3 rows 6-15 and row 15 columns 3-7 (box 5x10 at
		// (3, 6)), scaled by 2 to 10x20: columns 0-1 of every row and
		// rows 18-19 of every column, 56 pixels of ink. Sum of columns:
		// 20*(0+1) over the stem + 2*(2+...+9) = 88 over the foot: 108,
		// x = 108/56 = 1.9286. Sum of rows: 2*(0+...+17) = 306 over the
		// stem + 10*(18+19) = 370 over the foot: 676, y = 12.0714. The
		// shift rounds (13.5-1.9286, 13.5-12.0714) = (11.57, 1.43) to
		// (12, 1).
		in := field(1, append(rect(3, 6, 4, 16), rect(3, 15, 8, 16)...)...)
		scaled := resample(in, Rect{3, 6, 8, 16}, 10, 20)
		x, y, _ := CentreOfMass(scaled, 10, 20)
		if math.Abs(x-108.0/56) > 1e-9 || math.Abs(y-676.0/56) > 1e-9 {
			t.Errorf("scaled centre of mass (%v, %v), want (%v, %v)", x, y, 108.0/56, 676.0/56)
		}
		got, err := Normalize(in)
		if err != nil {
			t.Fatal(err)
		}
		check(t, got, field(1, append(rect(12, 1, 14, 21), rect(12, 19, 22, 21)...)...))
	})
	t.Run("a dot", func(t *testing.T) {
		// One pixel: its box 1x1 grows to the whole 20x20 box, centred
		// at 9.5: placed at (4, 4).
		got, err := Normalize(field(0.5, [2]int{0, 27}))
		if err != nil {
			t.Fatal(err)
		}
		check(t, got, field(0.5, rect(4, 4, 24, 24)...))
	})
	t.Run("pushed against the edge", func(t *testing.T) {
		// A 20x20 box, not scaled: column 0 rows 0-19 and a dot at (19,
		// 0). Its centre of mass is (19/21, 190/21) = (0.905, 9.048);
		// centring would put the box at x = round(12.595) = 13, past the
		// field's edge (28-20 = 8), so it stays at x = 8; y =
		// round(4.452) = 4.
		pts := append(rect(0, 0, 1, 20), [2]int{19, 0})
		got, err := Normalize(field(1, pts...))
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float32, Side*Side)
		for _, p := range pts {
			want[(p[1]+4)*Side+p[0]+8] = 1
		}
		check(t, got, want)
	})
}

// The same drawing anywhere on the canvas, or at another size, is the
// same digit.
func TestNormalizeInvariance(t *testing.T) {
	a := field(1, append(rect(2, 2, 4, 12), rect(2, 10, 8, 12)...)...)
	b := field(1, append(rect(20, 15, 22, 25), rect(20, 23, 26, 25)...)...)
	na, err := Normalize(a)
	if err != nil {
		t.Fatal(err)
	}
	nb, err := Normalize(b)
	if err != nil {
		t.Fatal(err)
	}
	check(t, nb, na)
	// Twice the size: the same after scaling (every pixel a 2x2 block).
	var big [][2]int
	for _, p := range append(rect(2, 2, 4, 12), rect(2, 10, 8, 12)...) {
		big = append(big, rect(2*p[0], 2*p[1], 2*p[0]+2, 2*p[1]+2)...)
	}
	nc, err := Normalize(field(1, big...))
	if err != nil {
		t.Fatal(err)
	}
	check(t, nc, na)
}

func TestNormalizeErrors(t *testing.T) {
	if _, err := Normalize(make([]float32, 10)); !errors.Is(err, ErrSize) {
		t.Errorf("10 pixels: %v, want ErrSize", err)
	}
	blank := make([]float32, Side*Side)
	blank[5] = float32(math.NaN())
	blank[6] = -1
	if _, err := Normalize(blank); !errors.Is(err, ErrBlank) {
		t.Errorf("blank image: %v, want ErrBlank", err)
	}
}

// FuzzNormalize: any drawing normalises to values in [0, 1] whose ink fits
// a 20x20 box, with its centre of mass within a pixel of the centre when
// the box does not touch the field's edge.
func FuzzNormalize(f *testing.F) {
	f.Add([]byte{0, 0, 255}, uint16(0))
	f.Add([]byte{9, 200, 17, 3, 90}, uint16(400))
	f.Add(make([]byte, 40), uint16(700))
	f.Fuzz(func(t *testing.T, ink []byte, at uint16) {
		px := make([]float32, Side*Side)
		for i, v := range ink {
			px[(int(at)+i*7)%len(px)] = float32(v)/255 - 0.1
		}
		out, err := Normalize(px)
		if errors.Is(err, ErrBlank) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range out {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("value %v outside [0, 1]", v)
			}
		}
		b, ok := Bounds(out, Side, Side)
		if !ok || b.W() > Box || b.H() > Box || max(b.W(), b.H()) < Box-1 {
			t.Fatalf("normalised box %+v (%t) does not fit 20x20 with its longer side", b, ok)
		}
		x, y, _ := CentreOfMass(out, Side, Side)
		if b.X0 > 0 && b.X1 < Side && math.Abs(x-13.5) > 0.5+1e-9 {
			t.Fatalf("centre of mass x %v, box %+v", x, b)
		}
		if b.Y0 > 0 && b.Y1 < Side && math.Abs(y-13.5) > 0.5+1e-9 {
			t.Fatalf("centre of mass y %v, box %+v", y, b)
		}
	})
}
