package mnist

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadDirEmptySet: a data file with no images is an error naming it.
func TestLoadDirEmptySet(t *testing.T) {
	dir, _, _ := writeDir(t, "")
	for _, f := range [][2]string{{testImagesFile, testLabelsFile}, {trainImagesFile, trainLabelsFile}} {
		if err := os.WriteFile(filepath.Join(dir, f[0]), imagesFile(nil), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f[1]), labelsFile(nil), 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := LoadDir(dir)
		checkSentinel(t, err, ErrEmpty)
		if !strings.Contains(err.Error(), filepath.Join(dir, f[0])) {
			t.Errorf("error %q does not name %s", err, f[0])
		}
	}
}

// TestLoadDirCancelled: a cancelled context stops loading with its error.
func TestLoadDirCancelled(t *testing.T) {
	dir, _, _ := writeDir(t, ".gz")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := LoadDirContext(ctx, dir); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if _, _, err := EmbeddedContext(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("embedded: got %v, want context.Canceled", err)
	}
}

// TestLoadDirDirectoryInsteadOfFile: a directory named like a data file
// is refused as not regular.
func TestLoadDirDirectoryInsteadOfFile(t *testing.T) {
	dir, _, _ := writeDir(t, "")
	name := filepath.Join(dir, testLabelsFile)
	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(name, 0o755); err != nil {
		t.Fatal(err)
	}
	_, _, err := LoadDir(dir)
	checkSentinel(t, err, ErrNotRegular)
	if !strings.Contains(err.Error(), name) {
		t.Errorf("error %q does not name the file", err)
	}
}
