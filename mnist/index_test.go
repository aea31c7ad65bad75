package mnist

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/mnist-tui/mnist-tui/mnist/internal/gzindex"
)

// indexPath is where the embedded training images' gzindex lives.
const indexPath = "index/train-images-idx3-ubyte.gz.gzindex"

var update = flag.Bool("update", false, "rebuild the embedded training images' gzindex ("+indexPath+")")

// indexParts is how many parts the embedded index cuts the training images
// into: twice the cores of a laptop-class machine, so that a slower core
// takes fewer.
const indexParts = 4

// TestEmbeddedIndex checks that the embedded index inflates the embedded
// training images to exactly the pixels the sequential reader gives (with
// -update it first rebuilds the index).
func TestEmbeddedIndex(t *testing.T) {
	gz, err := fs.ReadFile(embedded, "data/"+trainImagesFile+".gz")
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		idx, err := gzindex.Build(gz, indexParts)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.FromSlash(indexPath), idx, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes); rebuild to embed it", indexPath, len(idx))
		return
	}
	idx := []byte(trainIndex)
	got, n, err := readIndexed(context.Background(), bytes.NewReader(gz), idx, "train")
	if err != nil {
		t.Fatal(err)
	}
	if testing.Short() {
		// -race -short: the parts inflated concurrently, and the whole
		// matched the file's CRC-32 and length (Inflate checks both);
		// the pixel-by-pixel comparisons below run in the normal tests.
		if n != 60000 || len(got) != n*28*28 {
			t.Fatalf("the index gives %d images in %d bytes", n, len(got))
		}
		return
	}
	want, wantN, err := ReadImages(bytes.NewReader(gz), "train")
	if err != nil {
		t.Fatal(err)
	}
	if n != wantN || !bytes.Equal(got, want) {
		t.Fatalf("the index gives %d images, the sequential reader %d (or other pixels)", n, wantN)
	}
	// The index really cuts the file: inflating it on one core or on four
	// gives the same, and a file it was not built for falls back to the
	// sequential reader.
	for _, workers := range []int{1, indexParts} {
		raw, err := gzindex.Inflate(context.Background(), gz, idx, workers)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(raw[16:], want) {
			t.Fatalf("%d workers: other pixels", workers)
		}
	}
	test, err := fs.ReadFile(embedded, "data/"+testImagesFile+".gz")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gzindex.Inflate(context.Background(), test, idx, 2); !errors.Is(err, gzindex.ErrMismatch) {
		t.Fatalf("the training index on the test images: %v, want ErrMismatch", err)
	}
	pixels, n, err := readIndexed(context.Background(), bytes.NewReader(test), idx, "test")
	if err != nil || n != 10000 || len(pixels) != n*Pixels {
		t.Fatalf("the test images with the training index: %d images, %v", n, err)
	}
}

// TestReadIndexedCorrupt: a damaged file with the index is ErrFormat,
// naming the file, as the sequential reader reports it.
func TestReadIndexedCorrupt(t *testing.T) {
	gz, err := fs.ReadFile(embedded, "data/"+trainImagesFile+".gz")
	if err != nil {
		t.Fatal(err)
	}
	idx := []byte(trainIndex)
	bad := bytes.Clone(gz)
	bad[len(bad)/2] ^= 0x40
	_, _, err = readIndexed(context.Background(), bytes.NewReader(bad), idx, "train-images-idx3-ubyte.gz")
	if !errors.Is(err, ErrFormat) || !bytes.Contains([]byte(err.Error()), []byte("train-images-idx3-ubyte.gz")) {
		t.Fatalf("%v, want ErrFormat naming the file", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := readIndexed(ctx, bytes.NewReader(gz), idx, "train"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v, want context.Canceled", err)
	}
}
