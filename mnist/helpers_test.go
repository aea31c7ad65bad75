package mnist

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"sync"
	"testing"
)

// sentinels lists every sentinel error of the package.
var sentinels = []error{ErrFormat, ErrTruncated, ErrTrailing, ErrMismatch, ErrLabel, ErrShape, ErrInvalid, ErrTooMany, ErrEmpty, ErrNotRegular}

// embeddedSets parses the embedded files once for all tests.
var embeddedSets = sync.OnceValues(func() ([2]*Set, error) {
	train, test, err := Embedded()
	return [2]*Set{train, test}, err
})

// mustEmbedded returns the embedded training and test sets.
func mustEmbedded(t testing.TB) (train, test *Set) {
	t.Helper()
	sets, err := embeddedSets()
	if err != nil {
		t.Fatalf("Embedded: %v", err)
	}
	return sets[0], sets[1]
}

// header builds an IDX header: magic bytes 0 0 typ len(dims), then dims.
func header(typ byte, dims ...uint32) []byte {
	b := []byte{0, 0, typ, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return b
}

// pattern returns n images whose pixels depend on the image and position,
// with image i's first two pixels holding i (little-endian) so that tests
// can tell images apart.
func pattern(n int) []byte {
	px := make([]byte, n*Pixels)
	for i := range n {
		img := px[i*Pixels : (i+1)*Pixels]
		for p := range img {
			img[p] = byte(i*7 + p*13)
		}
		img[0], img[1] = byte(i), byte(i>>8)
	}
	return px
}

// patternIndex recovers the index pattern wrote into img.
func patternIndex(img []byte) int { return int(img[0]) | int(img[1])<<8 }

// imagesFile returns a valid raw IDX images file holding px.
func imagesFile(px []byte) []byte {
	return append(header(0x08, uint32(len(px)/Pixels), Rows, Cols), px...)
}

// labelsFile returns a valid raw IDX labels file holding labels.
func labelsFile(labels []byte) []byte {
	return append(header(0x08, uint32(len(labels))), labels...)
}

// gz compresses b with gzip.
func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// checkSentinel fails t unless err wraps want and no other sentinel, except
// that ErrFormat may come with the gzip error it wraps.
func checkSentinel(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error %v does not wrap %v", err, want)
	}
	for _, s := range sentinels {
		if s != want && errors.Is(err, s) {
			t.Errorf("error %v also wraps %v", err, s)
		}
	}
}
