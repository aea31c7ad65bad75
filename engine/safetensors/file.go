package safetensors

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// WriteFile writes f to path atomically: it writes a temporary file in the
// same directory, syncs and closes it, renames it over path and syncs the
// directory. If anything fails before the rename, the temporary file is
// removed and whatever was at path is left untouched. A new file gets
// mode 0644; a replaced file keeps its mode. The one error that can come
// after the file is in place is a failed directory sync, which means the
// rename may not survive a crash.
func WriteFile(path string, f File) error {
	return writeFile(path, f, fileHooks{})
}

// fileHooks lets tests inject failures into writeFile. The zero value
// injects nothing.
type fileHooks struct {
	// wrap, when set, wraps the temporary file's writer.
	wrap func(io.Writer) io.Writer
	// beforeRename, when set, runs after the temporary file is closed and
	// before the rename; an error from it aborts the write.
	beforeRename func(tmp string) error
}

// writeFile is WriteFile with hooks.
func writeFile(path string, f File, hooks fileHooks) error {
	// Encode the header first so that invalid input creates no file.
	if _, _, err := encodeHeader(f); err != nil {
		return pathErr("write", path, err)
	}
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		if !st.Mode().IsRegular() {
			return pathErr("write", path, errors.New("not a regular file"))
		}
		mode = st.Mode().Perm()
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return pathErr("write", path, err)
	}
	if err := writeTemp(tmp, f, mode, hooks); err != nil {
		os.Remove(tmp.Name())
		return pathErr("write", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return pathErr("write", path, err)
	}
	if err := syncDir(dir); err != nil {
		return pathErr("write", path, fmt.Errorf("file in place but directory sync failed: %w", err))
	}
	return nil
}

// writeTemp writes f to the temporary file tmp, sets its mode, syncs and
// closes it. tmp is closed whatever happens.
func writeTemp(tmp *os.File, f File, mode os.FileMode, hooks fileHooks) error {
	var w io.Writer = tmp
	if hooks.wrap != nil {
		w = hooks.wrap(w)
	}
	bw := bufio.NewWriterSize(w, chunkSize)
	err := Write(bw, f)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil && hooks.beforeRename != nil {
		err = hooks.beforeRename(tmp.Name())
	}
	return err
}

// syncDir flushes a directory's entries to disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// ReadFile reads and checks the safetensors file at path; see Read.
func ReadFile(path string, opts ...ReadOption) (*File, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	defer fd.Close()
	st, err := fd.Stat()
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, pathErr("read", path, errors.New("not a regular file"))
	}
	f, err := Read(bufio.NewReaderSize(fd, chunkSize), st.Size(), opts...)
	if err != nil {
		return nil, pathErr("read", path, err)
	}
	return f, nil
}

// pathError puts a file operation and path in front of an error's message
// and unwraps to it.
type pathError struct {
	op, path string
	err      error
}

// pathErr wraps err with op and path.
func pathErr(op, path string, err error) error {
	return &pathError{op: op, path: path, err: err}
}

// Error returns "safetensors: op path: " and the wrapped message without
// its own "safetensors: " prefix.
func (e *pathError) Error() string {
	return "safetensors: " + e.op + " " + e.path + ": " + strings.TrimPrefix(e.err.Error(), "safetensors: ")
}

// Unwrap returns the wrapped error.
func (e *pathError) Unwrap() error { return e.err }
