package safetensors

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// dirNames lists the entries of dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// encode returns Write's bytes for f.
func encode(t *testing.T, f File) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, f); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestWriteFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	in := rnnFile(5)
	if err := WriteFile(path, in); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, encode(t, in)) {
		t.Error("file bytes differ from Write's")
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Errorf("directory holds %q, want only the file", names)
	}
	out, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(encode(t, *out), got) {
		t.Error("ReadFile then Write does not give the same bytes")
	}

	// Replacing keeps the old file's mode.
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	in2 := rnnFile(6)
	if err := WriteFile(path, in2); err != nil {
		t.Fatal(err)
	}
	got, err = os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, encode(t, in2)) {
		t.Error("replaced file bytes differ from Write's")
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("mode after replace = %v (%v), want 0600", st.Mode().Perm(), err)
	}

	// A relative path writes in the working directory.
	t.Chdir(dir)
	if err := WriteFile("rel.safetensors", in); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile("rel.safetensors"); err != nil {
		t.Fatal(err)
	}
}

// TestWriteFileFailureKeepsOld fails the write of a new checkpoint after K
// bytes, for K from the first byte to the last, and after the data is
// synced but before the rename; each time the old file must be intact and
// no temporary file left behind.
func TestWriteFileFailureKeepsOld(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.safetensors")
	old := rnnFile(7)
	if err := WriteFile(path, old); err != nil {
		t.Fatal(err)
	}
	oldBytes, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	next := rnnFile(8)
	size := len(encode(t, next))
	if size <= chunkSize+2 {
		t.Fatalf("test file of %d bytes does not span several buffered writes", size)
	}
	errRename := errors.New("injected failure before rename")
	cases := []struct {
		name  string
		hooks fileHooks
		want  error
	}{
		{"before rename", fileHooks{beforeRename: func(tmp string) error {
			// The temporary file is complete and closed at this point.
			if b, err := os.ReadFile(tmp); err != nil || len(b) != size {
				t.Errorf("temporary file: %d bytes, %v; want %d", len(b), err, size)
			}
			return errRename
		}}, errRename},
	}
	for _, k := range []int{0, 1, 7, 8, 9, 100, chunkSize - 1, chunkSize, chunkSize + 1, size / 2, size - 1} {
		cases = append(cases, struct {
			name  string
			hooks fileHooks
			want  error
		}{
			name:  "after " + strconv.Itoa(k) + " bytes",
			hooks: fileHooks{wrap: func(w io.Writer) io.Writer { return &failWriter{w: w, limit: k} }},
			want:  errInjected,
		})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := writeFile(path, next, c.hooks)
			if !errors.Is(err, c.want) {
				t.Fatalf("error = %v, want %v", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "safetensors: write "+path+": ") {
				t.Errorf("message %q does not start with the operation and path", err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, oldBytes) {
				t.Error("old file changed")
			}
			if names := dirNames(t, dir); len(names) != 1 {
				t.Errorf("directory holds %q, want only the old file", names)
			}
		})
	}
	// The hooks really were in the way: without them the write succeeds.
	if err := writeFile(path, next, fileHooks{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, encode(t, next)) {
		t.Error("write without hooks did not replace the file")
	}
}

func TestWriteFileFailures(t *testing.T) {
	dir := t.TempDir()
	good := File{Tensors: []Tensor{{Name: "w", Shape: []int{2}, Data: []float32{1, 2}}}}

	t.Run("new file, failed write", func(t *testing.T) {
		path := filepath.Join(dir, "new.safetensors")
		err := writeFile(path, good, fileHooks{wrap: func(w io.Writer) io.Writer { return &failWriter{w: w, limit: 10} }})
		if !errors.Is(err, errInjected) {
			t.Fatalf("error = %v", err)
		}
		if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("file exists after a failed first write: %v", err)
		}
	})
	t.Run("invalid content", func(t *testing.T) {
		path := filepath.Join(dir, "nan.safetensors")
		bad := File{Tensors: []Tensor{{Name: "w", Shape: []int{2}, Data: []float32{1, float32(math.NaN())}}}}
		err := WriteFile(path, bad)
		if !errors.Is(err, ErrNonFinite) {
			t.Fatalf("error = %v", err)
		}
		want := `safetensors: write ` + path + `: tensor "w": non-finite value: element 1 [1] is NaN`
		if err.Error() != want {
			t.Errorf("message\n %q\nwant\n %q", err, want)
		}
	})
	t.Run("target is a directory", func(t *testing.T) {
		path := filepath.Join(dir, "sub")
		if err := os.Mkdir(path, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := WriteFile(path, good); err == nil {
			t.Fatal("WriteFile over a directory succeeded")
		}
	})
	t.Run("missing directory", func(t *testing.T) {
		err := WriteFile(filepath.Join(dir, "no", "such", "x.safetensors"), good)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("error = %v, want ErrNotExist", err)
		}
	})
	if names := dirNames(t, dir); strings.Join(names, ",") != "sub" {
		t.Errorf("directory holds %q, want only sub", names)
	}
}

func TestReadFileErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadFile(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: error = %v", err)
	}
	if _, err := ReadFile(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory: error = %v", err)
	}
	path := filepath.Join(dir, "bad.safetensors")
	if err := os.WriteFile(path, build(one(`[2]`, `[0,8]`), le32(1, 2, 3)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(path)
	if !errors.Is(err, ErrTrailing) || !strings.HasPrefix(err.Error(), "safetensors: read "+path+": trailing") {
		t.Errorf("error = %v", err)
	}
	// The file's real size is what bounds the read.
	if err := os.WriteFile(path, build(one(`[2]`, `[0,8]`), le32(1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); !errors.Is(err, ErrOffsets) {
		t.Errorf("short file: error = %v", err)
	}
}
