package mnist

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEmbeddedFilesHash checks the embedded files against the sha256 table
// of /work/shared/data/mnist/README.md (the files as published).
func TestEmbeddedFilesHash(t *testing.T) {
	want := map[string]string{
		"train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
		"train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
		"t10k-images-idx3-ubyte.gz":  "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
		"t10k-labels-idx1-ubyte.gz":  "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
	}
	entries, err := embedded.ReadDir("data")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(want) {
		t.Errorf("%d embedded files, want %d", len(entries), len(want))
	}
	for name, hash := range want {
		b, err := embedded.ReadFile("data/" + name)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != hash {
			t.Errorf("%s: sha256 %s, want %s", name, got, hash)
		}
	}
}

func TestEmbedded(t *testing.T) {
	train, test := mustEmbedded(t)
	if train.Len() != 60000 || test.Len() != 10000 {
		t.Fatalf("got %d train and %d test digits", train.Len(), test.Len())
	}
	if len(train.Images) != 60000*Pixels || len(test.Images) != 10000*Pixels {
		t.Fatalf("got %d and %d pixels", len(train.Images), len(test.Images))
	}
	// Well-known facts about MNIST: the first labels and the class counts.
	if got := train.Labels[:10]; !bytes.Equal(got, []byte{5, 0, 4, 1, 9, 2, 1, 3, 1, 4}) {
		t.Errorf("first train labels %v", got)
	}
	if got := test.Labels[:10]; !bytes.Equal(got, []byte{7, 2, 1, 0, 4, 1, 4, 9, 5, 9}) {
		t.Errorf("first test labels %v", got)
	}
	wantCounts := map[*Set][Classes]int{
		train: {5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949},
		test:  {980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009},
	}
	for s, want := range wantCounts {
		var got [Classes]int
		for _, l := range s.Labels {
			if l > 9 {
				t.Fatalf("label %d", l)
			}
			got[l]++
		}
		if got != want {
			t.Errorf("class counts %v, want %v", got, want)
		}
	}
	// Digits are drawn in the middle: the border pixels of the first image
	// are blank and its ink reaches full intensity.
	img := train.Image(0)
	var maxPix uint8
	for p, v := range img {
		r, c := p/Cols, p%Cols
		if (r == 0 || r == Rows-1 || c == 0 || c == Cols-1) && v != 0 {
			t.Errorf("border pixel (%d,%d) = %d", r, c, v)
		}
		maxPix = max(maxPix, v)
	}
	if maxPix != 255 {
		t.Errorf("first image's brightest pixel %d", maxPix)
	}
}

// TestEmbeddedTest: the test set read alone is the one Embedded returns,
// pixel for pixel and label for label.
func TestEmbeddedTest(t *testing.T) {
	_, want := mustEmbedded(t)
	got, err := EmbeddedTest()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Images, want.Images) || !bytes.Equal(got.Labels, want.Labels) {
		t.Errorf("EmbeddedTest: %d digits unlike Embedded's %d test digits", got.Len(), want.Len())
	}
}

func TestNewSet(t *testing.T) {
	px := pattern(3)
	s, err := NewSet("ok", px, 3, []byte{0, 9, 4})
	if err != nil || s.Len() != 3 || &s.Images[0] != &px[0] {
		t.Fatalf("NewSet: %v", err)
	}
	cases := []struct {
		name   string
		px     []byte
		n      int
		labels []byte
		want   error
		msg    string
	}{
		{"few labels", px, 3, []byte{1, 2}, ErrMismatch, "3 images but 2 labels"},
		{"many labels", px, 3, []byte{1, 2, 3, 4}, ErrMismatch, "3 images but 4 labels"},
		{"short pixels", px[:len(px)-1], 3, []byte{1, 2, 3}, ErrMismatch, "2351 pixels for 3 images"},
		{"count off", px, 2, []byte{1, 2}, ErrMismatch, "2352 pixels for 2 images"},
		{"label 10", px, 3, []byte{1, 10, 3}, ErrLabel, "label 10 at index 1"},
		{"negative", nil, -1, nil, ErrInvalid, "-1 images"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewSet("myset", c.px, c.n, c.labels)
			checkSentinel(t, err, c.want)
			if !strings.HasPrefix(err.Error(), "mnist: myset: ") || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q, want %q", err, c.msg)
			}
		})
	}
}

func TestImageAndLimit(t *testing.T) {
	s, err := NewSet("s", pattern(5), 5, []byte{0, 1, 2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		img := s.Image(i)
		if len(img) != Pixels || cap(img) != Pixels || patternIndex(img) != i || img[Pixels-1] != s.Images[(i+1)*Pixels-1] {
			t.Errorf("Image(%d): len %d cap %d index %d", i, len(img), cap(img), patternIndex(img))
		}
	}
	for n, want := range map[int]int{-1: 5, 0: 5, 1: 1, 3: 3, 5: 5, 9: 5} {
		l := s.Limit(n)
		if l.Len() != want || len(l.Images) != want*Pixels || !bytes.Equal(l.Labels, s.Labels[:want]) {
			t.Errorf("Limit(%d): %d digits, want %d", n, l.Len(), want)
		}
	}
	l := s.Limit(2)
	l.Images[0] = 77 // shares memory
	if s.Images[0] != 77 {
		t.Error("Limit copied the pixels")
	}
	l.Labels = append(l.Labels, 9) // but cannot grow into the rest
	if s.Labels[2] != 2 {
		t.Error("appending to a limited set overwrote the parent")
	}
}

// writeDir writes a small dataset into a temp dir, with names suffixed by
// ext, gzipped if ext is ".gz", and returns the dir and the sets written.
func writeDir(t *testing.T, ext string) (dir string, train, test *Set) {
	t.Helper()
	dir = t.TempDir()
	train = &Set{Images: pattern(7), Labels: []byte{0, 1, 2, 3, 4, 5, 6}}
	test = &Set{Images: pattern(3), Labels: []byte{9, 8, 7}}
	files := map[string][]byte{
		trainImagesFile: imagesFile(train.Images), trainLabelsFile: labelsFile(train.Labels),
		testImagesFile: imagesFile(test.Images), testLabelsFile: labelsFile(test.Labels),
	}
	for name, b := range files {
		if ext == ".gz" {
			b = gz(t, b)
		}
		if err := os.WriteFile(filepath.Join(dir, name+ext), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, train, test
}

func TestLoadDir(t *testing.T) {
	for _, ext := range []string{"", ".gz"} {
		t.Run("ext="+ext, func(t *testing.T) {
			dir, wantTrain, wantTest := writeDir(t, ext)
			train, test, err := LoadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range [][2]*Set{{train, wantTrain}, {test, wantTest}} {
				if !bytes.Equal(p[0].Images, p[1].Images) || !bytes.Equal(p[0].Labels, p[1].Labels) {
					t.Errorf("loaded set of %d differs from the %d written", p[0].Len(), p[1].Len())
				}
			}
		})
	}
}

func TestLoadDirErrors(t *testing.T) {
	t.Run("missing", func(t *testing.T) {
		dir, _, _ := writeDir(t, ".gz")
		if err := os.Remove(filepath.Join(dir, testLabelsFile+".gz")); err != nil {
			t.Fatal(err)
		}
		_, _, err := LoadDir(dir)
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), filepath.Join(dir, testLabelsFile)) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("no dir", func(t *testing.T) {
		_, _, err := LoadDir(filepath.Join(t.TempDir(), "nope"))
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), trainImagesFile) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("corrupt file named", func(t *testing.T) {
		dir, _, _ := writeDir(t, "")
		name := filepath.Join(dir, trainImagesFile)
		b, _ := os.ReadFile(name)
		if err := os.WriteFile(name, b[:len(b)-1], 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := LoadDir(dir)
		checkSentinel(t, err, ErrTruncated)
		if !strings.HasPrefix(err.Error(), "mnist: "+name+": truncated at image 6 of 7") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("count mismatch", func(t *testing.T) {
		dir, _, _ := writeDir(t, "")
		if err := os.WriteFile(filepath.Join(dir, testLabelsFile), labelsFile([]byte{1, 2}), 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := LoadDir(dir)
		checkSentinel(t, err, ErrMismatch)
		if !strings.Contains(err.Error(), "3 images in "+filepath.Join(dir, testImagesFile)+" but 2 labels in "+filepath.Join(dir, testLabelsFile)) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("raw wins over gz", func(t *testing.T) {
		dir, _, _ := writeDir(t, "")
		// A broken .gz next to a good raw file is never read.
		if err := os.WriteFile(filepath.Join(dir, trainImagesFile+".gz"), []byte("junk"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := LoadDir(dir); err != nil {
			t.Fatal(err)
		}
	})
}
