package safetensors

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// WriteFile writes f to path atomically: it writes a temporary file in the
// same directory, syncs and closes it, renames it over path and syncs the
// directory. If anything fails before the rename, the temporary file is
// removed and whatever was at path is left untouched. A new file gets mode
// 0666 less the process's umask, as any file the user creates; a replaced
// file keeps its mode. A path that is a symbolic link is refused
// (ErrSymlink): the rename would replace the link itself with a file,
// never write through it, so the caller must give the link's target. The
// one error that can come after the file is in place is a failed directory
// sync, which means the rename may not survive a crash.
func WriteFile(path string, f File) error {
	return writeFile(path, f, fileHooks{})
}

// ErrSymlink marks a WriteFile destination that is a symbolic link.
var ErrSymlink = errors.New("is a symbolic link: saving would replace the link, not write through it; give the file it points to")

// ErrNotRegular marks a path that is not a regular file (a directory, a
// FIFO, a device): ReadFile refuses it before opening it, WriteFile before
// replacing it.
var ErrNotRegular = errors.New("not a regular file")

// CheckWriteFile reports whether WriteFile(path, ...) could succeed, as far
// as can be told without writing the file: path is not a directory, a
// symbolic link or another non-regular file, its directory exists, and a
// file can be created there (one is created and removed). Call it before
// work whose result is to be saved at path.
func CheckWriteFile(path string) error {
	if _, err := destMode(path); err != nil {
		return pathErr("write", path, err)
	}
	dir := dirOf(path)
	if st, err := os.Stat(dir); err != nil {
		return pathErr("write", path, fmt.Errorf("directory %s: %w", dir, errors.Unwrap(err)))
	} else if !st.IsDir() {
		return pathErr("write", path, fmt.Errorf("%s is not a directory", dir))
	}
	tmp, err := createTemp(dir, filepath.Base(path))
	if err != nil {
		return pathErr("write", path, fmt.Errorf("cannot create files in %s: %w", dir, errors.Unwrap(err)))
	}
	name := tmp.Name()
	err = tmp.Close()
	return errors.Join(err, os.Remove(name))
}

// destMode returns the mode a file written at path gets: the existing
// file's, or 0 for a new file (0666 less the umask). It refuses symbolic
// links and non-regular files.
func destMode(path string) (os.FileMode, error) {
	st, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 0, nil
	case err != nil:
		return 0, err
	case st.Mode()&fs.ModeSymlink != 0:
		return 0, ErrSymlink
	case !st.Mode().IsRegular():
		return 0, fmt.Errorf("%w (%v)", ErrNotRegular, st.Mode().Type())
	}
	return st.Mode().Perm(), nil
}

// dirOf is path's directory, "." for a bare name.
func dirOf(path string) string {
	if dir := filepath.Dir(path); dir != "" {
		return dir
	}
	return "."
}

// createTemp creates a new temporary file next to base in dir with mode
// 0666 less the umask (os.CreateTemp's files get 0600 whatever the umask).
func createTemp(dir, base string) (*os.File, error) {
	for range 100 {
		name := filepath.Join(dir, "."+base+".tmp-"+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, errors.New("cannot create a temporary file")
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
	mode, err := destMode(path)
	if err != nil {
		return pathErr("write", path, err)
	}
	dir := dirOf(path)
	tmp, err := createTemp(dir, filepath.Base(path))
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

// writeTemp writes f to the temporary file tmp, sets its mode (0: keep
// the one it was created with), syncs and closes it. tmp is closed
// whatever happens.
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
	if err == nil && mode != 0 {
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

// ReadFile reads and checks the safetensors file at path; see Read. Anything
// but a regular file is refused before it is opened (ErrNotRegular):
// opening a FIFO would block until a writer came.
func ReadFile(path string, opts ...ReadOption) (*File, error) {
	return ReadFileContext(context.Background(), path, opts...)
}

// ReadFileContext is ReadFile, failing with ctx's error once ctx is
// cancelled (checked before every read).
func ReadFileContext(ctx context.Context, path string, opts ...ReadOption) (*File, error) {
	if st, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	} else if !st.Mode().IsRegular() {
		return nil, pathErr("read", path, fmt.Errorf("%w (%v)", ErrNotRegular, st.Mode().Type()))
	}
	fd, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	defer fd.Close()
	st, err := fd.Stat()
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	if !st.Mode().IsRegular() { // replaced since the check above
		return nil, pathErr("read", path, ErrNotRegular)
	}
	f, err := Read(bufio.NewReaderSize(ctxReader{ctx, fd}, chunkSize), st.Size(), opts...)
	if err != nil {
		return nil, pathErr("read", path, err)
	}
	return f, nil
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
