//go:build unix

package safetensors

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWriteFileHonoursUmask: a new file gets 0666 less the umask, as any
// file the user creates.
func TestWriteFileHonoursUmask(t *testing.T) {
	for _, tc := range []struct {
		umask int
		want  os.FileMode
	}{{0o022, 0o644}, {0o077, 0o600}, {0o002, 0o664}} {
		old := syscall.Umask(tc.umask)
		path := filepath.Join(t.TempDir(), "m.safetensors")
		err := WriteFile(path, rnnFile(1))
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != tc.want {
			t.Errorf("umask %03o: mode %v (%v), want %v", tc.umask, st.Mode().Perm(), err, tc.want)
		}
	}
}

// TestReadFileRefusesFIFO: a FIFO is refused before it is opened (opening
// it would block until a writer came).
func TestReadFileRefusesFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo.safetensors")
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); !errors.Is(err, ErrNotRegular) {
		t.Fatalf("got %v, want ErrNotRegular", err)
	}
	if _, err := ReadFile("/dev/zero"); !errors.Is(err, ErrNotRegular) {
		t.Fatalf("/dev/zero: got %v, want ErrNotRegular", err)
	}
	if err := CheckWriteFile(path); !errors.Is(err, ErrNotRegular) {
		t.Fatalf("CheckWriteFile on a FIFO: got %v, want ErrNotRegular", err)
	}
}
