package mnist

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReadImagesValid(t *testing.T) {
	px := pattern(3)
	raw := imagesFile(px)
	readers := map[string]func() io.Reader{
		"raw":          func() io.Reader { return bytes.NewReader(raw) },
		"gzip":         func() io.Reader { return bytes.NewReader(gz(t, raw)) },
		"raw-one-byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(raw)) },
		"gzip-half":    func() io.Reader { return iotest.HalfReader(bytes.NewReader(gz(t, raw))) },
		"gzip-multi": func() io.Reader { // two concatenated gzip members are one valid stream
			return bytes.NewReader(append(gz(t, raw[:100]), gz(t, raw[100:])...))
		},
	}
	for name, r := range readers {
		t.Run(name, func(t *testing.T) {
			got, n, err := ReadImages(r(), name)
			if err != nil {
				t.Fatal(err)
			}
			if n != 3 || !bytes.Equal(got, px) {
				t.Fatalf("got %d images, pixels equal %v", n, bytes.Equal(got, px))
			}
		})
	}
}

func TestReadImagesGzipNotByName(t *testing.T) {
	// A gzip stream named like a raw file and a raw stream named .gz both parse.
	px := pattern(2)
	if _, n, err := ReadImages(bytes.NewReader(gz(t, imagesFile(px))), "train-images-idx3-ubyte"); err != nil || n != 2 {
		t.Fatalf("gzip named raw: n=%d err=%v", n, err)
	}
	if _, n, err := ReadImages(bytes.NewReader(imagesFile(px)), "train-images-idx3-ubyte.gz"); err != nil || n != 2 {
		t.Fatalf("raw named gz: n=%d err=%v", n, err)
	}
}

func TestReadImagesEmptySet(t *testing.T) {
	px, n, err := ReadImages(bytes.NewReader(imagesFile(nil)), "empty")
	if err != nil || n != 0 || len(px) != 0 {
		t.Fatalf("got n=%d len=%d err=%v", n, len(px), err)
	}
}

func TestReadLabelsValid(t *testing.T) {
	labels := []byte{5, 0, 4, 1, 9, 2}
	for name, b := range map[string][]byte{"raw": labelsFile(labels), "gzip": gz(t, labelsFile(labels))} {
		got, err := ReadLabels(bytes.NewReader(b), name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got, labels) {
			t.Fatalf("%s: got %v, want %v", name, got, labels)
		}
	}
}

// malformed is one broken input and what parsing it must report.
type malformed struct {
	name string
	data []byte
	want error
	// msg must appear in the error after "mnist: <file>: ".
	msg string
}

func TestReadImagesMalformed(t *testing.T) {
	px := pattern(3)
	valid := imagesFile(px)
	flipped := gz(t, valid)
	flipped[len(flipped)-8] ^= 0xff // CRC-32 in the gzip trailer
	cases := []malformed{
		{"empty", nil, ErrTruncated, "truncated in header (offset 0)"},
		{"short magic", []byte{0, 0, 8}, ErrTruncated, "truncated in header (offset 0)"},
		{"bad magic", append([]byte{0x50, 0x4b, 3, 4}, valid[4:]...), ErrFormat, "magic 0x504b0304 is not an IDX magic"},
		{"float type", header(0x0d, 3, Rows, Cols), ErrFormat, "element type 0x0d, want 0x08"},
		{"signed type", header(0x09, 3, Rows, Cols), ErrFormat, "element type 0x09"},
		{"labels file", labelsFile([]byte{1, 2, 3}), ErrFormat, "1 dimensions, want 3"},
		{"four dims", header(0x08, 3, Rows, Cols, 1), ErrFormat, "4 dimensions, want 3"},
		{"truncated dims", header(0x08, 3, Rows, Cols)[:10], ErrTruncated, "truncated in header (offset 8)"},
		{"negative count", header(0x08, 1<<31, Rows, Cols), ErrFormat, "dimension 0 is negative"},
		{"32x32", append(header(0x08, 1, 32, 32), make([]byte, 1024)...), ErrShape, "images are 32x32"},
		{"28x27", header(0x08, 3, 28, 27), ErrShape, "images are 28x27"},
		{"truncated body", valid[:16+2*Pixels+100], ErrTruncated, "truncated at image 2 of 3 (offset 1684)"},
		{"no body", valid[:16], ErrTruncated, "truncated at image 0 of 3 (offset 16)"},
		{"claims more", append(header(0x08, 60000, Rows, Cols), px...), ErrTruncated, "truncated at image 3 of 60000"},
		{"trailing byte", append(append([]byte{}, valid...), 0), ErrTrailing, "trailing data after image 3 (offset 2368)"},
		{"gzip trailing in content", gz(t, append(append([]byte{}, valid...), 1, 2)), ErrTrailing, "trailing data after image 3"},
		{"gzip truncated", gz(t, valid)[:200], ErrTruncated, "truncated at image "},
		{"gzip bad method", append([]byte{0x1f, 0x8b, 9}, make([]byte, 20)...), ErrFormat, "corrupt gzip data in gzip header"},
		{"gzip header only", gz(t, valid)[:5], ErrTruncated, "truncated in gzip header"},
		{"gzip bad checksum", flipped, ErrFormat, "corrupt gzip data at the end, after image 3"},
		{"gzip then junk", append(gz(t, valid), "junk"...), ErrTrailing, "trailing data after the gzip stream"},
		{"gzip then a zero", append(gz(t, valid), 0), ErrTrailing, "trailing data after the gzip stream"},
		{"gzip then 1f 8b", append(gz(t, valid), 0x1f, 0x8b), ErrTruncated, "truncated at the end, after image 3"},
		{"gzip then another member", append(gz(t, valid), gz(t, []byte{9})...), ErrTrailing, "trailing data after image 3"},
		{"gzip cut in trailer", gz(t, valid)[:len(gz(t, valid))-3], ErrTruncated, "truncated at the end, after image 3"},
		{"gzip junk mid-body", append(gz(t, valid[:500]), "junk"...), ErrFormat, "data after the gzip stream at image 0 of 3 (offset 500)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			px, n, err := ReadImages(bytes.NewReader(c.data), "bad-images")
			if px != nil || n != 0 {
				t.Errorf("got %d images (%d bytes) with the error", n, len(px))
			}
			checkMalformed(t, err, c, "bad-images")
		})
	}
}

func TestReadLabelsMalformed(t *testing.T) {
	valid := labelsFile([]byte{1, 2, 3, 4, 5})
	cases := []malformed{
		{"empty", nil, ErrTruncated, "truncated in header (offset 0)"},
		{"bad magic", []byte{0xff, 0xd8, 0xff, 0xe0, 0, 0, 0, 0}, ErrFormat, "magic 0xffd8ffe0"},
		{"int type", header(0x0c, 5), ErrFormat, "element type 0x0c"},
		{"images file", imagesFile(pattern(1)), ErrFormat, "3 dimensions, want 1"},
		{"truncated count", valid[:6], ErrTruncated, "truncated in header (offset 4)"},
		{"truncated", valid[:9], ErrTruncated, "truncated at label 1 of 5 (offset 9)"},
		{"trailing", append(append([]byte{}, valid...), 7), ErrTrailing, "trailing data after label 5 (offset 13)"},
		{"label 10", labelsFile([]byte{1, 2, 10, 3}), ErrLabel, "label 10 at index 2 (offset 10)"},
		{"label 255", gz(t, labelsFile([]byte{9, 255})), ErrLabel, "label 255 at index 1"},
		{"negative count", header(0x08, 0xffffffff), ErrFormat, "negative"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			labels, err := ReadLabels(bytes.NewReader(c.data), "bad-labels")
			if labels != nil {
				t.Errorf("got %d labels with the error", len(labels))
			}
			checkMalformed(t, err, c, "bad-labels")
		})
	}
}

// checkMalformed checks err against c for a stream named file.
func checkMalformed(t *testing.T, err error, c malformed, file string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", c.want)
	}
	checkSentinel(t, err, c.want)
	prefix := "mnist: " + file + ": "
	if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), c.msg) {
		t.Errorf("error %q: want prefix %q and %q", err, prefix, c.msg)
	}
}

func TestReadIOError(t *testing.T) {
	boom := errors.New("disk on fire")
	r := io.MultiReader(bytes.NewReader(header(0x08, 2, Rows, Cols)), bytes.NewReader(make([]byte, 900)), iotest.ErrReader(boom))
	_, _, err := ReadImages(r, "flaky")
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "mnist: flaky: read at image 1 of 2") {
		t.Fatalf("got %v", err)
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			t.Errorf("an I/O error wraps %v", s)
		}
	}
}

// TestHugeCountBoundedMemory checks that a header claiming more than
// MaxImages images (or labels) is refused from the header, and that one
// claiming MaxImages followed by little data allocates little.
func TestHugeCountBoundedMemory(t *testing.T) {
	body := make([]byte, 5000)
	for _, tc := range []struct {
		count uint32
		want  error
	}{{math.MaxInt32, ErrTooMany}, {MaxImages + 1, ErrTooMany}, {MaxImages, ErrTruncated}} {
		images := append(header(0x08, tc.count, Rows, Cols), body...)
		labels := append(header(0x08, tc.count), body...)
		imagesGz, labelsGz := gz(t, images), gz(t, labels)
		cases := map[string]func() error{
			"images raw":  func() error { _, _, err := ReadImages(bytes.NewReader(images), "huge"); return err },
			"images gzip": func() error { _, _, err := ReadImages(bytes.NewReader(imagesGz), "huge"); return err },
			"labels raw":  func() error { _, err := ReadLabels(bytes.NewReader(labels), "huge"); return err },
			"labels gzip": func() error { _, err := ReadLabels(bytes.NewReader(labelsGz), "huge"); return err },
		}
		for name, read := range cases {
			t.Run(fmt.Sprintf("%s %d", name, tc.count), func(t *testing.T) {
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				err := read()
				runtime.ReadMemStats(&after)
				checkSentinel(t, err, tc.want)
				if !strings.Contains(err.Error(), fmt.Sprint(tc.count)) {
					t.Errorf("error %q does not give the claimed count", err)
				}
				t.Logf("allocated %d bytes", after.TotalAlloc-before.TotalAlloc)
				if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 512<<10 {
					t.Errorf("allocated %d bytes for %d bytes of data", alloc, len(body))
				}
			})
		}
	}
}

// bomb returns a gzip IDX images file declaring count images whose
// content inflates to size bytes of zeros: a few hundred kilobytes that
// expand to gigabytes. It is cheap to make: one member of the IDX header
// and 1 MiB of zeros, then the same compressed MiB repeated as further
// gzip members (RFC 1952 allows any number).
func bomb(t testing.TB, count uint32, size int64) []byte {
	t.Helper()
	member := func(prefix []byte) []byte {
		var b bytes.Buffer
		zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := zw.Write(append(prefix, make([]byte, 1<<20)...)); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	out := member(header(0x08, count, Rows, Cols))
	zeros := member(nil)
	for n := int64(1 << 20); n < size; n += 1 << 20 {
		out = append(out, zeros...)
	}
	return out
}

// TestGzipBomb: a small .gz file whose header declares the most images
// allowed and whose content inflates far beyond them is refused once the
// declared images are read, its buffer no larger than they are.
func TestGzipBomb(t *testing.T) {
	size, count := int64(4<<30), uint32(MaxImages) // 4 GiB inflated
	if testing.Short() {
		count = 1000 // the race run: the same path, less inflating
	}
	z := bomb(t, count, size)
	t.Logf("%d bytes of gzip inflate to %d bytes", len(z), size)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, _, err := ReadImages(bytes.NewReader(z), "bomb.gz")
	runtime.ReadMemStats(&after)
	checkSentinel(t, err, ErrTrailing)
	// The buffer doubles up to the declared size: all its steps together
	// are under three times that (the peak, the last two, under two).
	limit := uint64(3 * int(count) * Pixels)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > limit {
		t.Errorf("allocated %d bytes, want at most %d", alloc, limit)
	}
	// A bomb declaring more than MaxImages is refused from its header.
	_, _, err = ReadImages(bytes.NewReader(bomb(t, MaxImages+1, 64<<20)), "bomb.gz")
	checkSentinel(t, err, ErrTooMany)
}

// TestBodyGrowthExactCapacity checks that the buffer of a valid stream ends
// exactly as large as the data, however it grew.
func TestBodyGrowthExactCapacity(t *testing.T) {
	for _, n := range []int{1, 83, 84, 200} { // 83 images fit in the first 64 KiB
		px, _, err := ReadImages(bytes.NewReader(imagesFile(pattern(n))), "grow")
		if err != nil {
			t.Fatal(err)
		}
		if len(px) != n*Pixels || cap(px) != n*Pixels {
			t.Errorf("n=%d: len %d cap %d, want %d", n, len(px), cap(px), n*Pixels)
		}
	}
}
