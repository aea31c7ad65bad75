package gzindex

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"math/rand/v2"
	"testing"
)

// sample is data that compresses into many blocks with back-references
// across them: random phrases repeated among runs of random bytes.
func sample(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	phrases := make([][]byte, 512)
	for i := range phrases {
		phrases[i] = make([]byte, 4+r.IntN(60))
		for j := range phrases[i] {
			phrases[i][j] = byte(r.IntN(256))
		}
	}
	b := make([]byte, 0, n+64)
	for len(b) < n {
		for range r.IntN(8) {
			b = append(b, byte(r.IntN(64)))
		}
		b = append(b, phrases[r.IntN(len(phrases))]...)
	}
	return b[:n]
}

// gzipped compresses data at level.
func gzipped(t testing.TB, data []byte, level int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	zw.Name = "sample" // an FNAME field to skip
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestRoundTrip builds indexes of files with dynamic, fixed (Huffman-only
// has none; BestSpeed's small blocks do) and stored blocks, and inflates
// them on one to three workers.
func TestRoundTrip(t *testing.T) {
	size, workers0 := 2<<20, 1
	if testing.Short() { // -race -short: a shorter stream, concurrent inflates only
		size, workers0 = 1<<20, 3
	}
	data := sample(size, 7)
	unaligned := 0 // restart points inside a byte: the shifted path
	for _, level := range []int{gzip.NoCompression, gzip.BestSpeed, gzip.DefaultCompression, gzip.BestCompression, gzip.HuffmanOnly} {
		gz := gzipped(t, data, level)
		for _, parts := range []int{1, 2, 5} {
			idx, err := Build(gz, parts)
			if err != nil {
				t.Fatalf("level %d, %d parts: %v", level, parts, err)
			}
			ix, err := parse(idx)
			if err != nil {
				t.Fatal(err)
			}
			if want := min(parts-1, 2); len(ix.points) < want || len(ix.points) > parts-1 {
				t.Errorf("level %d: %d restart points for %d parts", level, len(ix.points), parts)
			}
			for _, p := range ix.points {
				if p.bit%8 != 0 {
					unaligned++
				}
			}
			for workers := workers0; workers <= 3; workers++ {
				got, err := Inflate(context.Background(), gz, idx, workers)
				if err != nil {
					t.Fatalf("level %d, %d parts, %d workers: %v", level, parts, workers, err)
				}
				if !bytes.Equal(got, data) {
					t.Fatalf("level %d, %d parts, %d workers: output differs", level, parts, workers)
				}
			}
		}
	}
	if unaligned == 0 {
		t.Error("every restart point is byte-aligned: the bit shift went untested")
	}
}

// TestShifted checks the bit shift against reading bit by bit.
func TestShifted(t *testing.T) {
	gz := []byte{0b10110011, 0b01011100, 0b11110000, 0b00001111}
	for lo := uint64(0); lo < 16; lo++ {
		got := shifted(gz, lo, 4)
		s := bitReader{data: gz, pos: lo}
		for i, b := range got {
			want := byte(s.bits(8))
			if b != want {
				t.Fatalf("bit %d, byte %d: %08b, want %08b", lo, i, b, want)
			}
		}
	}
}

// TestMismatch: an index does not fit another file, nor a damaged index.
func TestMismatch(t *testing.T) {
	a, b := gzipped(t, sample(1<<20, 1), 6), gzipped(t, sample(1<<20, 2), 6)
	idx, err := Build(a, 3)
	if err != nil {
		t.Fatal(err)
	}
	if n := (len(idx) - headerSize) / pointSize; n != 2 {
		t.Fatalf("%d restart points, want 2", n)
	}
	for name, c := range map[string]struct{ gz, idx []byte }{
		"another file":    {b, idx},
		"truncated index": {a, idx[:len(idx)-1]},
		"no index":        {a, nil},
		"bad magic":       {a, append([]byte("gzindex0"), idx[8:]...)},
	} {
		if _, err := Inflate(context.Background(), c.gz, c.idx, 2); !errors.Is(err, ErrMismatch) {
			t.Errorf("%s: %v, want ErrMismatch", name, err)
		}
	}
	// Restart points out of order.
	bad := bytes.Clone(idx)
	copy(bad[headerSize:headerSize+8], bad[headerSize+pointSize:headerSize+pointSize+8])
	if _, err := Inflate(context.Background(), a, bad, 2); !errors.Is(err, ErrMismatch) {
		t.Errorf("points out of order: %v, want ErrMismatch", err)
	}
}

// TestCorrupt: damage inside the deflate data is found, by the inflater or
// by the CRC, whichever part it is in.
func TestCorrupt(t *testing.T) {
	gz := gzipped(t, sample(1<<20, 3), 6)
	idx, err := Build(gz, 4)
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []int{20, len(gz) / 3, len(gz) / 2, len(gz) * 9 / 10} {
		bad := bytes.Clone(gz)
		bad[at] ^= 0x10
		if _, err := Inflate(context.Background(), bad, idx, 2); !errors.Is(err, ErrCorrupt) {
			t.Errorf("byte %d flipped: %v, want ErrCorrupt", at, err)
		}
	}
	// A wrong CRC in the trailer is a mismatch with the index (the trailer
	// identifies the file); with a rebuilt index it is corruption.
	bad := bytes.Clone(gz)
	bad[len(bad)-8] ^= 1
	if _, err := Inflate(context.Background(), bad, idx, 2); !errors.Is(err, ErrMismatch) {
		t.Errorf("trailer changed: %v, want ErrMismatch", err)
	}
	idx2 := bytes.Clone(idx)
	copy(idx2[16:24], bad[len(bad)-8:])
	if _, err := Inflate(context.Background(), bad, idx2, 2); !errors.Is(err, ErrCorrupt) {
		t.Errorf("wrong CRC: %v, want ErrCorrupt", err)
	}
	if _, err := Build(bad, 2); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Build of a file with a wrong CRC: %v, want ErrCorrupt", err)
	}
	if _, err := Build(gz[:len(gz)/2], 2); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Build of half a file: %v, want ErrCorrupt", err)
	}
}

// TestCancel: a cancelled context stops the inflating.
func TestCancel(t *testing.T) {
	gz := gzipped(t, sample(1<<20, 4), 6)
	idx, err := Build(gz, 2)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Inflate(ctx, gz, idx, 2); !errors.Is(err, context.Canceled) {
		t.Errorf("%v, want context.Canceled", err)
	}
}

// FuzzInflate: no index and no file makes Inflate panic, and what it
// returns without an error is what a sequential inflater gives.
func FuzzInflate(f *testing.F) {
	gz := gzipped(f, sample(200<<10, 5), 6)
	idx, err := Build(gz, 3)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(gz, idx)
	f.Add(gz[:len(gz)/2], idx)
	f.Add(gz, idx[:headerSize])
	f.Fuzz(func(t *testing.T, gz, idx []byte) {
		got, err := Inflate(context.Background(), gz, idx, 2)
		if err != nil {
			return
		}
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatalf("Inflate took a file gzip refuses: %v", err)
		}
		var want bytes.Buffer
		if _, err := want.ReadFrom(zr); err != nil {
			t.Fatalf("Inflate took a file gzip refuses: %v", err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatal("Inflate and gzip differ")
		}
	})
}

// FuzzBuild: Build never panics, and an index it makes reproduces the file.
func FuzzBuild(f *testing.F) {
	f.Add(gzipped(f, sample(100<<10, 6), 1), 3)
	f.Add(gzipped(f, sample(50<<10, 6), 0), 2)
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0}, 2)
	f.Fuzz(func(t *testing.T, gz []byte, parts int) {
		if parts < 1 || parts > 8 {
			return
		}
		idx, err := Build(gz, parts)
		if err != nil {
			return
		}
		if _, err := Inflate(context.Background(), gz, idx, 2); err != nil {
			t.Fatalf("Build made an index Inflate refuses: %v", err)
		}
	})
}
