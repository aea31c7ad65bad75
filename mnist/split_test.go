package mnist

import (
	"bytes"
	"slices"
	"testing"
)

func TestSplitEmbedded(t *testing.T) {
	train, _ := mustEmbedded(t)
	first, rest, err := Split(train, 40000, 1)
	if err != nil {
		t.Fatal(err)
	}
	if first.Len() != 40000 || rest.Len() != 20000 {
		t.Fatalf("sizes %d/%d", first.Len(), rest.Len())
	}
	if &first.Images[0] != &train.Images[0] || &rest.Images[0] != &train.Images[0] {
		t.Error("the parts copied the images (they read the set's)")
	}
	// Together the parts hold every class as often as the whole.
	var whole, parts [Classes]int
	for _, l := range train.Labels {
		whole[l]++
	}
	for _, s := range []*Set{first, rest} {
		for _, l := range s.Labels {
			parts[l]++
		}
	}
	if whole != parts {
		t.Errorf("class counts %v, want %v", parts, whole)
	}
	// A random split keeps the classes' shares: 2/3 of each in first, give
	// or take a few standard deviations (about 36 digits).
	var firstCounts [Classes]int
	for _, l := range first.Labels {
		firstCounts[l]++
	}
	for c := range Classes {
		if d := firstCounts[c] - whole[c]*2/3; d < -250 || d > 250 {
			t.Errorf("class %d: %d of %d in the first part", c, firstCounts[c], whole[c])
		}
	}
}

func TestSplitCoversDisjoint(t *testing.T) {
	const n = 1000
	labels := make([]byte, n)
	for i := range labels {
		labels[i] = byte(i % Classes)
	}
	s, err := NewSet("s", pattern(n), n, labels)
	if err != nil {
		t.Fatal(err)
	}
	orig := bytes.Clone(s.Images)
	for _, nFirst := range []int{0, 1, 400, 999, 1000} {
		first, rest, err := Split(s, nFirst, 42)
		if err != nil {
			t.Fatal(err)
		}
		if first.Len() != nFirst || rest.Len() != n-nFirst {
			t.Fatalf("nFirst %d: sizes %d/%d", nFirst, first.Len(), rest.Len())
		}
		seen := make([]bool, n)
		inOrder := true
		for part, p := range []*Set{first, rest} {
			for k := range p.Len() {
				img := p.Image(k)
				i := patternIndex(img)
				if seen[i] {
					t.Fatalf("digit %d twice (part %d)", i, part)
				}
				seen[i] = true
				if !bytes.Equal(img, s.Image(i)) || p.Labels[k] != s.Labels[i] {
					t.Fatalf("digit %d copied wrong", i)
				}
				if part == 0 && k > 0 && i != patternIndex(p.Image(k-1))+1 {
					inOrder = false
				}
			}
		}
		for i, ok := range seen {
			if !ok {
				t.Fatalf("digit %d missing", i)
			}
		}
		if nFirst == 400 && inOrder {
			t.Error("the first part is not shuffled")
		}
	}
	if !bytes.Equal(s.Images, orig) {
		t.Error("Split changed the set's pixels")
	}
}

// pixels returns s's images one after the other, as Image gives them.
func pixels(s *Set) []byte {
	var px []byte
	for k := range s.Len() {
		px = append(px, s.Image(k)...)
	}
	return px
}

// TestSplitOfAPart splits a part again and limits the parts: each is the
// digits it names, read through both picks, and a Loader of a part hands
// out the batches a Loader of a copy of it does.
func TestSplitOfAPart(t *testing.T) {
	const n = 1000
	labels := make([]byte, n)
	for i := range labels {
		labels[i] = byte(i * 7 % Classes)
	}
	s, err := NewSet("s", pattern(n), n, labels)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := Split(s, 600, 3)
	a, b, err := Split(first, 200, 4)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*Set{a, b, a.Limit(50), b.Limit(1)} {
		for k := range p.Len() {
			i := patternIndex(p.Image(k))
			if p.Labels[k] != s.Labels[i] || !bytes.Equal(p.Image(k), s.Image(i)) {
				t.Fatalf("digit %d of a part of %d: image of %d with label %d", k, p.Len(), i, p.Labels[k])
			}
		}
	}
	if a.Limit(50).Len() != 50 || !bytes.Equal(pixels(a.Limit(50)), pixels(a)[:50*Pixels]) {
		t.Error("Limit of a part is not its first digits")
	}
	cp, err := NewSet("copy", pixels(b), b.Len(), bytes.Clone(b.Labels))
	if err != nil {
		t.Fatal(err)
	}
	lp, _ := NewLoader(b, 64, true, 9)
	lc, _ := NewLoader(cp, 64, true, 9)
	x, y := make([]float32, 64*Pixels), make([]int, 64)
	x2, y2 := make([]float32, 64*Pixels), make([]int, 64)
	for k := range lp.Batches() {
		n := lp.Batch(k, x, y)
		if lc.Batch(k, x2, y2) != n || !slices.Equal(x[:n*Pixels], x2[:n*Pixels]) || !slices.Equal(y[:n], y2[:n]) {
			t.Fatalf("batch %d of a part differs from the same batch of its copy", k)
		}
	}
}

func TestSplitSeeds(t *testing.T) {
	const n = 500
	s, err := NewSet("s", pattern(n), n, make([]byte, n))
	if err != nil {
		t.Fatal(err)
	}
	a, _, _ := Split(s, 300, 7)
	b, _, _ := Split(s, 300, 7)
	c, _, _ := Split(s, 300, 8)
	if !bytes.Equal(pixels(a), pixels(b)) {
		t.Error("same seed, different splits")
	}
	if bytes.Equal(pixels(a), pixels(c)) {
		t.Error("seeds 7 and 8 give the same split")
	}
}

func TestSplitInvalid(t *testing.T) {
	s, _ := NewSet("s", pattern(3), 3, []byte{1, 2, 3})
	for _, nFirst := range []int{-1, 4} {
		_, _, err := Split(s, nFirst, 1)
		checkSentinel(t, err, ErrInvalid)
	}
	_, _, err := Split(nil, 0, 1)
	checkSentinel(t, err, ErrInvalid)
}
