package mnist

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestLoaderBatchCounts(t *testing.T) {
	train, test := mustEmbedded(t)
	tr, val, err := Split(train, 40000, 1)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name          string
		s             *Set
		batches, last int
	}{
		{"train", tr, 625, 64},
		{"val", val, 313, 32},
		{"test", test, 157, 16},
	}
	x := make([]float32, 64*Pixels)
	y := make([]int, 64)
	for _, c := range cases {
		l, err := NewLoader(c.s, 64, c.name == "train", 3)
		if err != nil {
			t.Fatal(err)
		}
		if l.Batches() != c.batches || l.Len() != c.s.Len() || l.BatchSize() != 64 {
			t.Errorf("%s: %d batches, want %d", c.name, l.Batches(), c.batches)
		}
		if n := l.Batch(c.batches-1, x, y); n != c.last || len(l.Indices(c.batches-1)) != c.last {
			t.Errorf("%s: last batch %d, want %d", c.name, n, c.last)
		}
		if n := l.Batch(0, x, y); n != 64 {
			t.Errorf("%s: first batch %d", c.name, n)
		}
	}
}

// normRef is the recipe's transform in float64.
func normRef(p uint8) float64 { return (float64(p)/255 - 0.5) / 0.5 }

func TestLoaderNormalisation(t *testing.T) {
	// One image holding every pixel value 0..255, then 0 and 255 again.
	px := make([]byte, Pixels)
	for i := range px {
		px[i] = byte(i)
	}
	s, _ := NewSet("all", px, 1, []byte{3})
	l, err := NewLoader(s, 1, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, Pixels)
	y := make([]int, 1)
	if n := l.Batch(0, x, y); n != 1 || y[0] != 3 {
		t.Fatalf("n=%d y=%v", n, y)
	}
	if x[0] != -1 || x[255] != 1 || x[256] != -1 || x[511] != 1 {
		t.Errorf("0 -> %v, 255 -> %v, want -1 and 1 exactly", x[0], x[255])
	}
	for i, v := range x {
		if d := math.Abs(float64(v) - normRef(px[i])); d > 1e-7 {
			t.Errorf("pixel %d -> %v, want %v", px[i], v, normRef(px[i]))
		}
	}
}

func TestLoaderTimeMajor(t *testing.T) {
	const n = 150
	labels := make([]byte, n)
	for i := range labels {
		labels[i] = byte(i * 7 % Classes)
	}
	s, _ := NewSet("s", pattern(n), n, labels)
	for _, shuffle := range []bool{false, true} {
		l, err := NewLoader(s, 64, shuffle, 9)
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float32, 64*Pixels)
		y := make([]int, 64)
		for k := range l.Batches() {
			for i := range x {
				x[i] = float32(math.NaN())
			}
			bn := l.Batch(k, x, y)
			idx := l.Indices(k)
			if bn != len(idx) {
				t.Fatalf("batch %d: n=%d but %d indices", k, bn, len(idx))
			}
			for b, i := range idx {
				if y[b] != int(s.Labels[i]) {
					t.Fatalf("batch %d: y[%d]=%d, want %d", k, b, y[b], s.Labels[i])
				}
				img := s.Image(i)
				for tt := range Rows {
					for j := range Cols {
						got := x[tt*bn*Cols+b*Cols+j]
						if want := normRef(img[tt*Cols+j]); math.Abs(float64(got)-want) > 1e-7 {
							t.Fatalf("batch %d digit %d row %d col %d: %v, want %v", k, b, tt, j, got, want)
						}
					}
				}
			}
			for i := bn * Pixels; i < len(x); i++ {
				if !math.IsNaN(float64(x[i])) {
					t.Fatalf("batch %d of %d wrote x[%d] past n*Pixels", k, bn, i)
				}
			}
		}
	}
}

// order returns the Loader's whole current order.
func order(l *Loader) []int {
	var o []int
	for k := range l.Batches() {
		o = append(o, l.Indices(k)...)
	}
	return o
}

func TestLoaderShuffle(t *testing.T) {
	const n = 1000
	s, _ := NewSet("s", make([]byte, n*Pixels), n, make([]byte, n))
	identity := make([]int, n)
	for i := range identity {
		identity[i] = i
	}

	plain, _ := NewLoader(s, 64, false, 5)
	plain.Shuffle(3)
	if !slices.Equal(order(plain), identity) {
		t.Error("a loader without shuffle changed its order")
	}

	a, _ := NewLoader(s, 64, true, 5)
	b, _ := NewLoader(s, 64, true, 5)
	c, _ := NewLoader(s, 64, true, 6)
	a.Shuffle(1)
	a1 := order(a)
	a.Shuffle(2)
	a2 := order(a)
	b.Shuffle(7)
	b.Shuffle(2) // earlier calls do not matter
	c.Shuffle(2)
	if !slices.Equal(a2, order(b)) {
		t.Error("same (seed, epoch), different orders")
	}
	if slices.Equal(a1, a2) {
		t.Error("epochs 1 and 2 give the same order")
	}
	if slices.Equal(a2, order(c)) {
		t.Error("seeds 5 and 6 give the same order")
	}
	for _, o := range [][]int{a1, a2, order(c)} {
		if slices.Equal(o, identity) {
			t.Error("shuffled order is the identity")
		}
		if sorted := slices.Sorted(slices.Values(o)); !slices.Equal(sorted, identity) {
			t.Error("shuffled order is not a permutation")
		}
	}
}

func TestLoaderInvalid(t *testing.T) {
	s, _ := NewSet("s", pattern(2), 2, []byte{1, 2})
	for _, c := range []struct {
		s     *Set
		batch int
		want  error
	}{
		{nil, 64, ErrInvalid},
		{&Set{}, 64, ErrInvalid},
		{s, 0, ErrInvalid},
		{s, -3, ErrInvalid},
		{&Set{Images: make([]byte, Pixels), Labels: []byte{1, 2}}, 1, ErrMismatch},
		{&Set{Images: make([]byte, Pixels), Labels: []byte{12}}, 1, ErrLabel},
	} {
		_, err := NewLoader(c.s, c.batch, false, 0)
		checkSentinel(t, err, c.want)
	}
}

func TestBatchNoAlloc(t *testing.T) {
	s, _ := NewSet("s", pattern(100), 100, make([]byte, 100))
	l, _ := NewLoader(s, 64, true, 1)
	x := make([]float32, 64*Pixels)
	y := make([]int, 64)
	if allocs := testing.AllocsPerRun(20, func() { l.Batch(1, x, y) }); allocs != 0 {
		t.Errorf("Batch allocates %v times", allocs)
	}
}

// BenchmarkBatch fills batches from a set as large as MNIST's training
// set (47 MB of pixels, beyond the caches), in shuffled order: the set
// itself, and the 40,000 digits of a Split part of it (images picked from
// the set's).
func BenchmarkBatch(b *testing.B) {
	const n = 60000
	r := rand.New(rand.NewPCG(1, 2))
	px := make([]byte, n*Pixels)
	for i := range px {
		px[i] = byte(r.Uint32())
	}
	s, _ := NewSet("bench", px, n, make([]byte, n))
	part, _, _ := Split(s, 40000, 1)
	for _, c := range []struct {
		name string
		set  *Set
	}{{"set", s}, {"part", part}} {
		b.Run(c.name, func(b *testing.B) {
			l, _ := NewLoader(c.set, 64, true, 1)
			x := make([]float32, 64*Pixels)
			y := make([]int, 64)
			b.SetBytes(64 * Pixels)
			b.ReportAllocs()
			k := 0
			for b.Loop() {
				l.Batch(k, x, y)
				k = (k + 1) % l.Batches()
			}
		})
	}
}

func BenchmarkReadImagesGzip(b *testing.B) {
	data, err := embedded.ReadFile("data/" + testImagesFile + ".gz")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(10000 * Pixels) // decompressed pixels
	for b.Loop() {
		if _, _, err := ReadImages(bytes.NewReader(data), "t10k"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEmbedded is the start-up cost of the embedded data: inflating
// and parsing both sets.
func BenchmarkEmbedded(b *testing.B) {
	for b.Loop() {
		if _, _, err := Embedded(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLoaderFill: filling a batch's digits in shares, in any order, writes
// exactly what Batch writes, for full and partial batches; shares out of
// range panic.
func TestLoaderFill(t *testing.T) {
	train, _ := mustEmbedded(t)
	s := train.Limit(1000)
	l, err := NewLoader(s, 64, true, 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []int{0, 7, l.Batches() - 1} {
		n := len(l.Indices(k))
		wantX, wantY := make([]float32, 64*Pixels), make([]int, 64)
		l.Batch(k, wantX, wantY)
		for _, cut := range []int{0, 1, n / 2, n - 4, n} {
			x, y := make([]float32, 64*Pixels), make([]int, 64)
			l.Fill(k, x, y, cut, n)
			l.Fill(k, x, y, 0, cut)
			if !slices.Equal(x, wantX) || !slices.Equal(y, wantY) {
				t.Fatalf("batch %d cut at %d: differs from Batch", k, cut)
			}
		}
	}
	for _, r := range [][2]int{{-1, 3}, {5, 4}, {0, 65}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Fill of digits [%d, %d) did not panic", r[0], r[1])
				}
			}()
			l.Fill(0, make([]float32, 64*Pixels), make([]int, 64), r[0], r[1])
		}()
	}
}
