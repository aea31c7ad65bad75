package mnist

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
)

// IDX magic numbers: two zero bytes, the element type, the dimension count.
const (
	typeUbyte   = 0x08
	imagesMagic = 0x00000803
	labelsMagic = 0x00000801
)

// initialCap bounds the first allocation of a body; it then doubles as data
// arrives, never past what the header announced.
const initialCap = 64 << 10

// idxStream is one opened IDX stream: raw or decompressed bytes, and the
// position in them for error messages.
type idxStream struct {
	name string
	r    io.Reader
	gz   bool
	off  int64 // bytes of IDX content consumed
}

// openIDX wraps r, decompressing it when it starts with the gzip magic.
func openIDX(r io.Reader, name string) (*idxStream, error) {
	br := bufio.NewReaderSize(r, 32<<10)
	s := &idxStream{name: name, r: br}
	if m, _ := br.Peek(2); len(m) == 2 && m[0] == 0x1f && m[1] == 0x8b {
		s.gz = true
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, s.readErr(err, "in gzip header")
		}
		zr.Multistream(false)
		s.r = &gzipMembers{br: br, zr: zr}
	}
	return s, nil
}

// errGzipJunk reports bytes after a gzip member that do not start another.
var errGzipJunk = errors.New("data after the gzip stream")

// gzipMembers reads a gzip file of one or more members (RFC 1952) like
// gzip.Reader in multistream mode, but tells bytes after the last member
// that are not a gzip member (errGzipJunk) apart from a truncated member
// (io.ErrUnexpectedEOF).
type gzipMembers struct {
	br *bufio.Reader
	zr *gzip.Reader
}

// Read implements io.Reader.
func (g *gzipMembers) Read(p []byte) (int, error) {
	for {
		n, err := g.zr.Read(p)
		if err != io.EOF {
			return n, err
		}
		// The member ended with a valid checksum: what follows?
		m, perr := g.br.Peek(2)
		switch {
		case len(m) == 0 && perr == io.EOF:
			return n, io.EOF
		case len(m) == 0 && perr != nil:
			return n, perr
		case len(m) < 2 || m[0] != 0x1f || m[1] != 0x8b:
			return n, errGzipJunk
		}
		if err := g.zr.Reset(g.br); err != nil {
			return n, err
		}
		g.zr.Multistream(false)
		if n > 0 || len(p) == 0 {
			return n, nil
		}
	}
}

// readErr turns a read error into the package's error for where: a short
// stream is ErrTruncated, corrupt gzip data ErrFormat, anything else (an I/O
// error) is wrapped as it is.
func (s *idxStream) readErr(err error, where string) error {
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("mnist: %s: %w %s (offset %d)", s.name, ErrTruncated, where, s.off)
	case errors.Is(err, errGzipJunk):
		return fmt.Errorf("mnist: %s: %w: %v %s (offset %d)", s.name, ErrFormat, err, where, s.off)
	case s.gz && isGzipErr(err):
		return fmt.Errorf("mnist: %s: %w: corrupt gzip data %s (offset %d): %w", s.name, ErrFormat, where, s.off, err)
	}
	return fmt.Errorf("mnist: %s: read %s (offset %d): %w", s.name, where, s.off, err)
}

// isGzipErr reports whether err reports corrupt data from the gzip or flate
// decoder.
func isGzipErr(err error) bool {
	var corrupt flate.CorruptInputError
	var internal flate.InternalError
	return errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) ||
		errors.As(err, &corrupt) || errors.As(err, &internal)
}

// header reads the magic and the dimensions, checking the element type and
// the dimension count.
func (s *idxStream) header(magic uint32) ([]int, error) {
	var b [4]byte
	if err := s.full(b[:], "in header"); err != nil {
		return nil, err
	}
	got := binary.BigEndian.Uint32(b[:])
	wantDims := int(magic & 0xff)
	switch {
	case b[0] != 0 || b[1] != 0:
		return nil, fmt.Errorf("mnist: %s: %w: magic 0x%08x is not an IDX magic (want 0x%08x)", s.name, ErrFormat, got, magic)
	case b[2] != typeUbyte:
		return nil, fmt.Errorf("mnist: %s: %w: element type 0x%02x, want 0x08 (unsigned byte)", s.name, ErrFormat, b[2])
	case int(b[3]) != wantDims:
		return nil, fmt.Errorf("mnist: %s: %w: %d dimensions, want %d (magic 0x%08x)", s.name, ErrFormat, b[3], wantDims, magic)
	}
	dims := make([]int, wantDims)
	for i := range dims {
		if err := s.full(b[:], "in header"); err != nil {
			return nil, err
		}
		d := int32(binary.BigEndian.Uint32(b[:]))
		if d < 0 {
			return nil, fmt.Errorf("mnist: %s: %w: dimension %d is negative (%d)", s.name, ErrFormat, i, d)
		}
		dims[i] = int(d)
	}
	return dims, nil
}

// full reads exactly len(p) bytes.
func (s *idxStream) full(p []byte, where string) error {
	n, err := io.ReadFull(s.r, p)
	if err != nil {
		return s.readErr(err, where)
	}
	s.off += int64(n)
	return nil
}

// body reads n items of size bytes each, growing its buffer only as data
// arrives (from initialCap, doubling, never beyond n*size), then checks that
// the stream ends there. what names an item in errors ("image", "label").
func (s *idxStream) body(n, size int, what string) ([]byte, error) {
	if n > MaxImages {
		return nil, fmt.Errorf("mnist: %s: %w: the header declares %d %ss, more than the %d this program reads", s.name, ErrTooMany, n, what, MaxImages)
	}
	total := int64(n) * int64(size)
	start := s.off
	buf := make([]byte, 0, min(total, initialCap))
	for int64(len(buf)) < total {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(total, 2*int64(cap(buf))))
			copy(grown, buf)
			buf = grown
		}
		k, err := io.ReadFull(s.r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+k]
		s.off += int64(k)
		if err != nil {
			i := (s.off - start) / int64(size)
			return nil, s.readErr(err, fmt.Sprintf("at %s %d of %d", what, i, n))
		}
	}
	// The stream must end here; reading to EOF also makes gzip verify its
	// checksum.
	var b [1]byte
	k, err := io.ReadFull(s.r, b[:])
	switch {
	case k > 0:
		return nil, fmt.Errorf("mnist: %s: %w after %s %d (offset %d)", s.name, ErrTrailing, what, n, s.off)
	case errors.Is(err, io.EOF):
		return buf, nil
	case errors.Is(err, errGzipJunk):
		return nil, fmt.Errorf("mnist: %s: %w after the gzip stream (after %s %d)", s.name, ErrTrailing, what, n)
	}
	return nil, s.readErr(err, fmt.Sprintf("at the end, after %s %d", what, n))
}

// ReadImages parses an IDX stream of 28x28 unsigned-byte images, raw or
// gzip-compressed (detected by the magic bytes 1f 8b, not by name), and
// returns the pixels of its n images, row-major, one after the other. The
// stream must end right after the last image. name is used in errors.
func ReadImages(r io.Reader, name string) (pixels []uint8, n int, err error) {
	s, err := openIDX(r, name)
	if err != nil {
		return nil, 0, err
	}
	return s.images(nil)
}

// imagesIn is ReadImages of an images file held whole, decompressed, in
// raw: its pixels are returned in place (no copy) when raw holds exactly
// the images its header declares.
func imagesIn(raw []byte, name string) (pixels []uint8, n int, err error) {
	return (&idxStream{name: name, r: bytes.NewReader(raw)}).images(raw)
}

// images reads the header and the pixels of an images stream; whole, if
// not nil, is the entire stream (see imagesIn).
func (s *idxStream) images(whole []byte) (pixels []uint8, n int, err error) {
	dims, err := s.header(imagesMagic)
	if err != nil {
		return nil, 0, err
	}
	if dims[1] != Rows || dims[2] != Cols {
		return nil, 0, fmt.Errorf("mnist: %s: %w: images are %dx%d", s.name, ErrShape, dims[1], dims[2])
	}
	if n := dims[0]; whole != nil && n <= MaxImages && int64(len(whole))-s.off == int64(n)*Pixels {
		return whole[s.off:], n, nil
	}
	pixels, err = s.body(dims[0], Pixels, "image")
	if err != nil {
		return nil, 0, err
	}
	return pixels, dims[0], nil
}

// ReadLabels parses an IDX stream of unsigned-byte labels, raw or
// gzip-compressed (detected by its magic bytes), and returns them. Every
// label must be a digit (at most 9) and the stream must end right after the
// last one. name is used in errors.
func ReadLabels(r io.Reader, name string) ([]uint8, error) {
	s, err := openIDX(r, name)
	if err != nil {
		return nil, err
	}
	dims, err := s.header(labelsMagic)
	if err != nil {
		return nil, err
	}
	start := s.off
	labels, err := s.body(dims[0], 1, "label")
	if err != nil {
		return nil, err
	}
	if i := badLabel(labels); i >= 0 {
		return nil, fmt.Errorf("mnist: %s: %w: label %d at index %d (offset %d)", name, ErrLabel, labels[i], i, start+int64(i))
	}
	return labels, nil
}
