// Package gzindex inflates one gzip file on several cores from an index of
// restart points, the way zlib's examples/zran.c makes a gzip file
// randomly accessible: a restart point is the bit at which a deflate
// block begins, the offset of its first output byte, and the 32 KiB of
// output before it (the window that block's back-references may reach
// into). Cut at its restart points, the stream becomes parts that inflate
// independently; the whole output is checked against the gzip trailer's
// CRC-32 and length.
//
// An index fits exactly one file: Build makes it from the file's bytes,
// Inflate refuses (ErrMismatch) a file the index was not built for.
package gzindex

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"sync"
	"sync/atomic"

	kflate "github.com/klauspost/compress/flate"
)

// window is deflate's maximum back-reference distance.
const window = 32 << 10

// magic starts every index.
const magic = "gzindex1"

// headerSize is the index's fixed part: magic, the gzip file's length, its
// trailer (CRC-32 and length), the deflate stream's first byte, the
// number of restart points.
const headerSize = 8 + 8 + 8 + 8 + 4

// pointSize is one restart point: its bit, its output offset, its window.
const pointSize = 8 + 8 + window

// Errors of Inflate and Build.
var (
	// ErrMismatch: the index was not built for this file (or is not an
	// index).
	ErrMismatch = errors.New("gzindex: the index does not belong to this gzip file")
	// ErrCorrupt: the file's deflate data or trailer is wrong.
	ErrCorrupt = errors.New("gzindex: corrupt gzip data")
)

// point is one restart point.
type point struct {
	bit, out uint64 // bit offset in the file; output offset
	dict     []byte // the window before out
}

// index is a parsed index.
type index struct {
	size    uint64 // the file's length
	start   int    // the deflate stream's first byte
	trailer [8]byte
	points  []point
}

// parse reads an index, checking its structure (not yet its file).
func parse(b []byte) (*index, error) {
	if len(b) < headerSize || string(b[:8]) != magic {
		return nil, fmt.Errorf("%w: no index header", ErrMismatch)
	}
	le := binary.LittleEndian
	ix := &index{size: le.Uint64(b[8:]), start: int(min(le.Uint64(b[24:]), 1<<40))}
	copy(ix.trailer[:], b[16:24])
	n := uint64(le.Uint32(b[32:]))
	if uint64(len(b)-headerSize) != n*pointSize {
		return nil, fmt.Errorf("%w: %d bytes for %d restart points", ErrMismatch, len(b), n)
	}
	prevBit, prevOut := uint64(ix.start)*8, uint64(0)
	for i := range n {
		p := b[headerSize+i*pointSize:]
		pt := point{bit: le.Uint64(p), out: le.Uint64(p[8:]), dict: p[16 : 16+window]}
		if pt.bit <= prevBit || pt.out < prevOut+window || pt.bit >= ix.size*8 {
			return nil, fmt.Errorf("%w: restart point %d out of order", ErrMismatch, i)
		}
		prevBit, prevOut = pt.bit, pt.out
		ix.points = append(ix.points, pt)
	}
	return ix, nil
}

// Inflate returns the decompressed contents of the single-member gzip file
// gz, inflating the parts between idx's restart points on up to workers
// goroutines (each part goes to whichever is free), and checks the whole
// against the trailer. It stops with ctx's error once ctx is done.
func Inflate(ctx context.Context, gz, idx []byte, workers int) ([]byte, error) {
	ix, err := parse(idx)
	if err != nil {
		return nil, err
	}
	if uint64(len(gz)) != ix.size || len(gz) < ix.start+8 || !bytes.Equal(gz[len(gz)-8:], ix.trailer[:]) {
		return nil, fmt.Errorf("%w: built for a file of %d bytes", ErrMismatch, ix.size)
	}
	le := binary.LittleEndian
	total := uint64(le.Uint32(gz[len(gz)-4:]))
	if total > uint64(len(gz))*maxRatio {
		return nil, fmt.Errorf("%w: the trailer's length %d is more than deflate can give", ErrCorrupt, total)
	}
	if n := len(ix.points); n > 0 && ix.points[n-1].out >= total {
		return nil, fmt.Errorf("%w: a restart point past the end", ErrMismatch)
	}
	out := make([]byte, total)
	// Part i runs from bits[i] to bits[i+1] and gives out[outs[i]:outs[i+1]].
	bits := []uint64{uint64(ix.start) * 8}
	outs := []uint64{0}
	dicts := [][]byte{nil}
	for _, p := range ix.points {
		bits, outs, dicts = append(bits, p.bit), append(outs, p.out), append(dicts, p.dict)
	}
	bits, outs = append(bits, uint64(len(gz))*8), append(outs, total)
	parts := len(dicts)
	errs := make([]error, parts)
	var next atomic.Int64
	work := func() {
		for {
			i := int(next.Add(1) - 1)
			if i >= parts {
				return
			}
			errs[i] = inflatePart(ctx, gz, bits[i], bits[i+1], dicts[i], out[outs[i]:outs[i+1]])
		}
	}
	var wg sync.WaitGroup
	for range min(workers, parts) - 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work()
		}()
	}
	work()
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if got, want := crc32.ChecksumIEEE(out), le.Uint32(gz[len(gz)-8:]); got != want {
		return nil, fmt.Errorf("%w: CRC-32 %08x, the trailer says %08x", ErrCorrupt, got, want)
	}
	return out, nil
}

// maxRatio bounds deflate's output per input byte (258 bytes from two
// bits, at best).
const maxRatio = 1032

// slack is how many bytes past its end a part's decoder may read ahead.
const slack = 64

// inflatePart inflates the deflate data from bit lo (to about bit hi) into
// dst, which it must fill exactly. What follows the part is the next
// part's to check (and the whole output the CRC's).
func inflatePart(ctx context.Context, gz []byte, lo, hi uint64, dict, dst []byte) error {
	src := shifted(gz, lo, hi/8+slack)
	zr := kflate.NewReaderDict(bytes.NewReader(src), dict)
	for len(dst) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := io.ReadFull(zr, dst[:min(len(dst), 1<<20)])
		dst = dst[n:]
		if err != nil {
			return fmt.Errorf("%w at bit %d: %v", ErrCorrupt, lo, err)
		}
	}
	return nil
}

// shifted returns gz's bytes from bit lo up to byte end (at most the file's
// end), shifted so that bit lo starts the first byte.
func shifted(gz []byte, lo, end uint64) []byte {
	end = min(end, uint64(len(gz)))
	src := gz[lo/8 : end]
	s := lo % 8
	if s == 0 {
		return src
	}
	b := make([]byte, len(src))
	for i := range len(src) - 1 {
		b[i] = src[i]>>s | src[i+1]<<(8-s)
	}
	b[len(b)-1] = src[len(src)-1] >> s
	return b
}

// Build makes the index of the single-member gzip file gz with about parts
// parts of equal output: each restart point is the first deflate block
// boundary at or after an even share of the output. It checks the index
// by inflating the file with it.
func Build(gz []byte, parts int) ([]byte, error) {
	start, err := deflateStart(gz)
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(kflate.NewReader(bytes.NewReader(gz[start:])))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	bs, err := blocks(gz[start:])
	if err != nil {
		return nil, err
	}
	var points []point
	for _, j := range restartBlocks(bs, uint64(start), uint64(len(out)), parts) {
		done := bs[j].out
		points = append(points, point{bit: uint64(start)*8 + bs[j].bit, out: done, dict: out[done-window : done]})
	}
	le := binary.LittleEndian
	idx := make([]byte, headerSize, headerSize+len(points)*pointSize)
	copy(idx, magic)
	le.PutUint64(idx[8:], uint64(len(gz)))
	copy(idx[16:24], gz[len(gz)-8:])
	le.PutUint64(idx[24:], uint64(start))
	le.PutUint32(idx[32:], uint32(len(points)))
	for _, p := range points {
		idx = le.AppendUint64(idx, p.bit)
		idx = le.AppendUint64(idx, p.out)
		idx = append(idx, p.dict...)
	}
	got, err := Inflate(context.Background(), gz, idx, 1)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(got, out) {
		return nil, fmt.Errorf("gzindex: the index does not reproduce the file")
	}
	return idx, nil
}

// restartBlocks picks the blocks of bs (a stream starting at byte start,
// of total output bytes) that begin parts: for each even share of the
// output (past the first window, before the end), the first block at or
// past it that can begin a part. A part that does not begin on a byte is
// inflated shifted, which moves the byte boundaries a stored block aligns
// to, so it must decode no stored block (an empty one after its output,
// like the one that ends what compress/flate writes, is never reached);
// a stored block's successor always begins on a byte. The parts are
// picked from the last, so that each one's end is known.
func restartBlocks(bs []block, start, total uint64, parts int) []int {
	var picked []int
	end, endOut := len(bs), total // the next part's first block and output
	for i := parts - 1; i >= 1; i-- {
		share := max(total*uint64(i)/uint64(parts), window)
		for j := 1; j < end; j++ {
			if bs[j].out < share || bs[j].out >= endOut {
				continue
			}
			shifted := (start*8+bs[j].bit)%8 != 0
			if shifted && slices.ContainsFunc(bs[j:end], func(b block) bool { return b.stored && b.out < endOut }) {
				continue
			}
			picked = append(picked, j)
			end, endOut = j, bs[j].out
			break
		}
	}
	slices.Reverse(picked)
	return picked
}

// deflateStart parses gz's gzip header (RFC 1952) and returns the offset of
// its deflate stream.
func deflateStart(gz []byte) (int, error) {
	if len(gz) < 18 || gz[0] != 0x1f || gz[1] != 0x8b || gz[2] != 8 {
		return 0, fmt.Errorf("%w: not a gzip file", ErrCorrupt)
	}
	flg, i := gz[3], 10
	if flg&4 != 0 { // FEXTRA
		if i+2 > len(gz) {
			return 0, fmt.Errorf("%w: short header", ErrCorrupt)
		}
		i += 2 + int(binary.LittleEndian.Uint16(gz[i:]))
	}
	for _, f := range []byte{8, 16} { // FNAME, FCOMMENT: zero-terminated
		if flg&f == 0 {
			continue
		}
		z := bytes.IndexByte(gz[min(i, len(gz)):], 0)
		if z < 0 {
			return 0, fmt.Errorf("%w: short header", ErrCorrupt)
		}
		i += z + 1
	}
	if flg&2 != 0 { // FHCRC
		i += 2
	}
	if i+8 > len(gz) {
		return 0, fmt.Errorf("%w: short header", ErrCorrupt)
	}
	return i, nil
}
