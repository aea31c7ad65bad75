package mnist

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
)

// checkFuzzErr checks that a parse error names the stream and wraps one of
// the package's sentinels (a bytes.Reader has no I/O errors).
func checkFuzzErr(t *testing.T, err error) {
	t.Helper()
	if !strings.HasPrefix(err.Error(), "mnist: fuzz: ") {
		t.Fatalf("error %q does not name the stream", err)
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("error %q wraps no sentinel", err)
}

// isGzip reports whether data starts with the gzip magic.
func isGzip(data []byte) bool { return len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b }

func FuzzReadImages(f *testing.F) {
	valid := imagesFile(pattern(2))
	f.Add(valid)
	f.Add(gz(f, valid))
	f.Add(imagesFile(nil))
	f.Add(valid[:len(valid)-1])
	f.Add(append(bytes.Clone(valid), 0))
	f.Add(header(0x08, math.MaxInt32, Rows, Cols))
	f.Add(gz(f, header(0x08, math.MaxInt32, Rows, Cols)))
	f.Add(header(0x08, 1, 32, 32))
	f.Add(header(0x0d, 1, Rows, Cols))
	f.Add(labelsFile([]byte{1, 2}))
	f.Add(append(gz(f, valid), 'x'))
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, data []byte) {
		px, n, err := ReadImages(bytes.NewReader(data), "fuzz")
		if err != nil {
			if px != nil || n != 0 {
				t.Fatalf("error %v with %d images", err, n)
			}
			checkFuzzErr(t, err)
			return
		}
		if n < 0 || len(px) != n*Pixels || cap(px) != len(px) {
			t.Fatalf("%d images in %d pixels (cap %d)", n, len(px), cap(px))
		}
		if !isGzip(data) && (len(data) != 16+len(px) || !bytes.Equal(data[16:], px)) {
			t.Fatalf("raw stream of %d bytes gave %d pixels", len(data), len(px))
		}
		// The parsed result round-trips.
		again, m, err := ReadImages(bytes.NewReader(imagesFile(px)), "fuzz")
		if err != nil || m != n || !bytes.Equal(again, px) {
			t.Fatalf("re-encoded images: n=%d err=%v", m, err)
		}
	})
}

func FuzzReadLabels(f *testing.F) {
	valid := labelsFile([]byte{5, 0, 4, 1, 9})
	f.Add(valid)
	f.Add(gz(f, valid))
	f.Add(labelsFile(nil))
	f.Add(valid[:len(valid)-1])
	f.Add(append(bytes.Clone(valid), 0))
	f.Add(labelsFile([]byte{1, 10}))
	f.Add(header(0x08, math.MaxInt32))
	f.Add(gz(f, header(0x08, math.MaxInt32)))
	f.Add(imagesFile(pattern(1)))
	f.Add(append(gz(f, valid), gz(f, nil)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		labels, err := ReadLabels(bytes.NewReader(data), "fuzz")
		if err != nil {
			if labels != nil {
				t.Fatalf("error %v with %d labels", err, len(labels))
			}
			checkFuzzErr(t, err)
			return
		}
		if cap(labels) != len(labels) {
			t.Fatalf("%d labels with capacity %d", len(labels), cap(labels))
		}
		for i, l := range labels {
			if l > 9 {
				t.Fatalf("label %d at %d", l, i)
			}
		}
		if !isGzip(data) && (len(data) != 8+len(labels) || !bytes.Equal(data[8:], labels)) {
			t.Fatalf("raw stream of %d bytes gave %d labels", len(data), len(labels))
		}
		if _, err := NewSet("fuzz", make([]byte, len(labels)*Pixels), len(labels), labels); err != nil {
			t.Fatalf("parsed labels rejected: %v", err)
		}
	})
}
