//go:build unix

package mnist

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestLoadDirRefusesFIFOsAndDevices: a FIFO (which would block the
// program on open until a writer came, beyond the reach of signals) and a
// device in place of a data file are refused before they are opened.
func TestLoadDirRefusesFIFOsAndDevices(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(path string) error
	}{
		{"fifo", func(p string) error { return syscall.Mkfifo(p, 0o644) }},
		{"device", func(p string) error { return os.Symlink("/dev/zero", p) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, _, _ := writeDir(t, "")
			name := filepath.Join(dir, trainImagesFile)
			if err := os.Remove(name); err != nil {
				t.Fatal(err)
			}
			if err := tc.make(name); err != nil {
				t.Fatal(err)
			}
			_, _, err := LoadDir(dir) // with the bug, blocks here forever
			checkSentinel(t, err, ErrNotRegular)
			if !strings.Contains(err.Error(), name) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}
