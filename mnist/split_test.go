package mnist

import (
	"bytes"
	"testing"
)

func TestSplitEmbedded(t *testing.T) {
	train, _ := mustEmbedded(t)
	first, rest, err := Split(train, 40000, 1)
	if err != nil {
		t.Fatal(err)
	}
	if first.Len() != 40000 || rest.Len() != 20000 || len(first.Images) != 40000*Pixels || len(rest.Images) != 20000*Pixels {
		t.Fatalf("sizes %d/%d", first.Len(), rest.Len())
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
		if len(first.Images) > 0 {
			first.Images[0]++ // copies, not views
		}
	}
	if !bytes.Equal(s.Images, orig) {
		t.Error("Split changed or shares the set's pixels")
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
	if !bytes.Equal(a.Images, b.Images) {
		t.Error("same seed, different splits")
	}
	if bytes.Equal(a.Images, c.Images) {
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
