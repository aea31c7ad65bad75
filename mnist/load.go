package mnist

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"

	"github.com/mnist-tui/mnist-tui/mnist/internal/gzindex"
)

// The standard IDX file names of MNIST and its look-alikes.
const (
	trainImagesFile = "train-images-idx3-ubyte"
	trainLabelsFile = "train-labels-idx1-ubyte"
	testImagesFile  = "t10k-images-idx3-ubyte"
	testLabelsFile  = "t10k-labels-idx1-ubyte"
)

// embedded holds the four MNIST files as published (gzip), read-only.
//
//go:embed data/*.gz
var embedded embed.FS

// trainIndex is the gzindex of the embedded training images, with which
// they inflate on every core (TestEmbeddedIndex checks that it fits;
// go test ./mnist -run TestEmbeddedIndex -args -update rebuilds it).
//
//go:embed index/train-images-idx3-ubyte.gz.gzindex
var trainIndex string

// Embedded returns the MNIST training (60,000) and test (10,000) sets from
// the files embedded with go:embed. Each call parses them afresh (about
// 55 MB of pixels and well under a second); callers that need them twice
// keep the result.
func Embedded() (train, test *Set, err error) {
	return EmbeddedContext(context.Background())
}

// EmbeddedContext is Embedded, stopping with ctx's error once ctx is
// cancelled.
func EmbeddedContext(ctx context.Context) (train, test *Set, err error) {
	sub, err := embeddedData()
	if err != nil {
		return nil, nil, err
	}
	return loadFS(ctx, sub, plainName, []byte(trainIndex))
}

// embeddedData is the embedded files' directory; plainName names a file
// of it in errors.
func embeddedData() (fs.FS, error) {
	sub, err := fs.Sub(embedded, "data")
	if err != nil {
		return nil, fmt.Errorf("mnist: embedded data: %w", err)
	}
	return sub, nil
}

func plainName(name string) string { return name }

// EmbeddedTest returns the embedded test set (10,000 digits) alone: a
// sixth of Embedded's parsing, for callers that need no training digits
// (evaluating a checkpoint, browsing the test digits).
func EmbeddedTest() (*Set, error) {
	sub, err := embeddedData()
	if err != nil {
		return nil, err
	}
	return loadSet(context.Background(), sub, plainName, nil, "test", testImagesFile, testLabelsFile)
}

// LoadDir reads the four standard files train-images-idx3-ubyte,
// train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte
// from dir, each raw or with a .gz suffix (the raw file wins if both
// exist). Any 28x28 IDX dataset with labels 0..9 works (Fashion-MNIST,
// Kuzushiji-MNIST). Errors name the file. A file that is not a regular
// file (a FIFO, a device) is refused before it is opened (ErrNotRegular),
// one that holds no images is an error too (ErrEmpty), and no file may
// declare more than MaxImages (ErrTooMany).
func LoadDir(dir string) (train, test *Set, err error) {
	return LoadDirContext(context.Background(), dir)
}

// LoadDirContext is LoadDir, stopping with ctx's error once ctx is
// cancelled (checked before every read).
func LoadDirContext(ctx context.Context, dir string) (train, test *Set, err error) {
	return loadFS(ctx, os.DirFS(dir), func(name string) string { return filepath.Join(dir, name) }, nil)
}

// loadFS reads both sets from fsys, the test set on a goroutine of its
// own while the training set is read (inflating the training images is
// most of the start-up: the test set then costs no wall time on a second
// core); display turns a file name into the name errors use; idx, if not
// nil, is the gzindex of the training images (then inflated on every
// core). When both fail, the training set's error is returned.
func loadFS(ctx context.Context, fsys fs.FS, display func(string) string, idx []byte) (train, test *Set, err error) {
	var testErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		test, testErr = loadSet(ctx, fsys, display, nil, "test", testImagesFile, testLabelsFile)
	}()
	train, err = loadSet(ctx, fsys, display, idx, "train", trainImagesFile, trainLabelsFile)
	<-done
	if err == nil {
		err = testErr
	}
	if err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// loadSet reads one images file (with the gzindex idx, if not nil) and one
// labels file and pairs them.
func loadSet(ctx context.Context, fsys fs.FS, display func(string) string, idx []byte, set, imagesFile, labelsFile string) (*Set, error) {
	var (
		pixels []uint8
		n      int
	)
	imagesName, err := withFile(ctx, fsys, display, imagesFile, func(r io.Reader, name string) (err error) {
		if idx != nil {
			pixels, n, err = readIndexed(ctx, r, idx, name)
		} else {
			pixels, n, err = ReadImages(r, name)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("mnist: %s: %w: the %s set is empty", imagesName, ErrEmpty, set)
	}
	var labels []uint8
	labelsName, err := withFile(ctx, fsys, display, labelsFile, func(r io.Reader, name string) (err error) {
		labels, err = ReadLabels(r, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	if n != len(labels) {
		return nil, fmt.Errorf("mnist: %s: %w: %d images in %s but %d labels in %s",
			set, ErrMismatch, n, imagesName, len(labels), labelsName)
	}
	return NewSet(set, pixels, n, labels)
}

// readIndexed is ReadImages of a gzip file with its gzindex idx: the parts
// between the index's restart points inflate on every core. A file the
// index was not built for is read as ReadImages reads it.
func readIndexed(ctx context.Context, r io.Reader, idx []byte, name string) ([]uint8, int, error) {
	gz, err := io.ReadAll(r)
	if err != nil {
		return nil, 0, fmt.Errorf("mnist: %s: %w", name, err)
	}
	raw, err := gzindex.Inflate(ctx, gz, idx, runtime.GOMAXPROCS(0))
	switch {
	case errors.Is(err, gzindex.ErrMismatch):
		return ReadImages(bytes.NewReader(gz), name)
	case errors.Is(err, gzindex.ErrCorrupt):
		return nil, 0, fmt.Errorf("mnist: %s: %w: %w", name, ErrFormat, err)
	case err != nil:
		return nil, 0, fmt.Errorf("mnist: %s: %w", name, err)
	}
	return imagesIn(raw, name)
}

// withFile opens base, or base.gz if base does not exist, and calls read
// with it (reads fail with ctx's error once ctx is cancelled) and its
// display name, which it returns. Anything but a regular file is refused
// before it is opened: opening a FIFO would block until a writer came.
func withFile(ctx context.Context, fsys fs.FS, display func(string) string, base string, read func(io.Reader, string) error) (string, error) {
	name := base
	st, err := fs.Stat(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		name = base + ".gz"
		st, err = fs.Stat(fsys, name)
		if errors.Is(err, fs.ErrNotExist) {
			return display(base), fmt.Errorf("mnist: %s: neither it nor %s exists: %w",
				display(base), path.Base(name), fs.ErrNotExist)
		}
	}
	if err != nil {
		return display(name), fmt.Errorf("mnist: %s: %w", display(name), err)
	}
	if !st.Mode().IsRegular() {
		return display(name), fmt.Errorf("mnist: %s: %w (%v)", display(name), ErrNotRegular, st.Mode().Type())
	}
	f, err := fsys.Open(name)
	if err != nil {
		return display(name), fmt.Errorf("mnist: %s: %w", display(name), err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		// Replaced since the check above.
		return display(name), fmt.Errorf("mnist: %s: %w", display(name), ErrNotRegular)
	}
	return display(name), read(ctxReader{ctx, f}, display(name))
}

// ctxReader fails its reads with ctx's error once ctx is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

// Read implements io.Reader.
func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
