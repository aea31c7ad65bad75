package safetensors

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckWriteFile: the destinations WriteFile would refuse are refused
// up front, naming the path, and nothing is left behind.
func TestCheckWriteFile(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target.safetensors")
	if err := WriteFile(target, rnnFile(1)); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.safetensors")
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	for _, tc := range []struct {
		path string
		want error
	}{
		{filepath.Join(dir, "new.safetensors"), nil},
		{target, nil},
		{filepath.Join(dir, "missing", "m.safetensors"), fs.ErrNotExist},
		{dir, ErrNotRegular},
		{link, ErrSymlink},
	} {
		err := CheckWriteFile(tc.path)
		switch {
		case tc.want == nil && err != nil:
			t.Errorf("%s: %v", tc.path, err)
		case tc.want != nil && (!errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.path)):
			t.Errorf("%s: got %v, want %v naming the path", tc.path, err, tc.want)
		}
	}
	if names := dirNames(t, dir); len(names) != 2 {
		t.Errorf("directory holds %q after the checks", names)
	}
	// WriteFile refuses the link too, and leaves it and its target alone.
	before, _ := os.ReadFile(target)
	if err := WriteFile(link, rnnFile(2)); !errors.Is(err, ErrSymlink) {
		t.Fatalf("WriteFile onto a symlink: %v, want ErrSymlink", err)
	}
	if after, _ := os.ReadFile(target); string(after) != string(before) {
		t.Error("the link's target changed")
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&fs.ModeSymlink == 0 {
		t.Error("the link was replaced")
	}
}

// TestReadFileContextCancelled: a cancelled context stops the read.
func TestReadFileContextCancelled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := WriteFile(path, rnnFile(1)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ReadFileContext(ctx, path); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}
