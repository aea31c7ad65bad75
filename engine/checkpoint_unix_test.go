//go:build unix

package engine

import (
	"context"
	"errors"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/mnist-tui/mnist-tui/engine/safetensors"
)

// TestLoadCheckpointRefusesFIFO: a FIFO given as a checkpoint is refused
// before it is opened (opening it would block beyond the reach of signals).
func TestLoadCheckpointRefusesFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo.safetensors")
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCheckpointContext(context.Background(), path); !errors.Is(err, safetensors.ErrNotRegular) {
		t.Fatalf("got %v, want ErrNotRegular", err)
	}
}
