package mnist

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
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

// Embedded returns the MNIST training (60,000) and test (10,000) sets from
// the files embedded with go:embed. Each call parses them afresh (about
// 55 MB of pixels and well under a second); callers that need them twice
// keep the result.
func Embedded() (train, test *Set, err error) {
	sub, err := fs.Sub(embedded, "data")
	if err != nil {
		return nil, nil, fmt.Errorf("mnist: embedded data: %w", err)
	}
	return loadFS(sub, func(name string) string { return name })
}

// LoadDir reads the four standard files train-images-idx3-ubyte,
// train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte
// from dir, each raw or with a .gz suffix (the raw file wins if both
// exist). Any 28x28 IDX dataset with labels 0..9 works (Fashion-MNIST,
// Kuzushiji-MNIST). Errors name the file.
func LoadDir(dir string) (train, test *Set, err error) {
	return loadFS(os.DirFS(dir), func(name string) string { return filepath.Join(dir, name) })
}

// loadFS reads both sets from fsys; display turns a file name into the
// name errors use.
func loadFS(fsys fs.FS, display func(string) string) (train, test *Set, err error) {
	train, err = loadSet(fsys, display, "train", trainImagesFile, trainLabelsFile)
	if err != nil {
		return nil, nil, err
	}
	test, err = loadSet(fsys, display, "test", testImagesFile, testLabelsFile)
	if err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// loadSet reads one images file and one labels file and pairs them.
func loadSet(fsys fs.FS, display func(string) string, set, imagesFile, labelsFile string) (*Set, error) {
	var (
		pixels []uint8
		n      int
	)
	imagesName, err := withFile(fsys, display, imagesFile, func(f fs.File, name string) (err error) {
		pixels, n, err = ReadImages(f, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	var labels []uint8
	labelsName, err := withFile(fsys, display, labelsFile, func(f fs.File, name string) (err error) {
		labels, err = ReadLabels(f, name)
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

// withFile opens base, or base.gz if base does not exist, and calls read
// with it and its display name, which it returns.
func withFile(fsys fs.FS, display func(string) string, base string, read func(fs.File, string) error) (string, error) {
	name := base
	f, err := fsys.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		name = base + ".gz"
		f, err = fsys.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			return display(base), fmt.Errorf("mnist: %s: neither it nor %s exists: %w",
				display(base), path.Base(name), fs.ErrNotExist)
		}
	}
	if err != nil {
		return display(name), fmt.Errorf("mnist: %s: %w", display(name), err)
	}
	defer f.Close()
	return display(name), read(f, display(name))
}
