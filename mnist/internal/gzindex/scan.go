package gzindex

import (
	"errors"
	"fmt"
)

// block is where one deflate block begins: its bit in the stream, the
// stream's output before it, and whether it is a stored block.
type block struct {
	bit, out uint64
	stored   bool
}

// blocks walks a raw deflate stream (RFC 1951) block by block without
// writing its output, the way zlib's contrib/puff decodes, and lists its
// blocks. Only Build uses it; Inflate leaves the decoding to a real
// inflater.
func blocks(data []byte) ([]block, error) {
	s := bitReader{data: data}
	var list []block
	var out uint64
	for {
		b := block{bit: s.pos, out: out}
		final := s.bits(1)
		var n uint64
		var err error
		switch s.bits(2) {
		case 0:
			b.stored = true
			n, err = s.stored()
		case 1:
			n, err = s.codes(&fixedLit, &fixedDist)
		case 2:
			var lit, dist huffman
			if err = s.dynamic(&lit, &dist); err == nil {
				n, err = s.codes(&lit, &dist)
			}
		default:
			err = errors.New("block type 3")
		}
		if err == nil && s.pos > uint64(len(data))*8 {
			err = errors.New("the stream ends inside a block")
		}
		if err != nil {
			return nil, fmt.Errorf("%w at bit %d: %v", ErrCorrupt, s.pos, err)
		}
		list = append(list, b)
		out += n
		if final == 1 {
			return list, nil
		}
	}
}

// bitReader reads a deflate stream's bits, least significant first; past
// the end it reads zeros (blocks checks pos against the length).
type bitReader struct {
	data []byte
	pos  uint64 // bits read
}

// bits returns the next n (at most 16) bits.
func (s *bitReader) bits(n uint) uint32 {
	var v uint32
	for i := range n {
		byt := s.pos / 8
		if byt < uint64(len(s.data)) {
			v |= uint32(s.data[byt]>>(s.pos%8)&1) << i
		}
		s.pos++
	}
	return v
}

// stored skips a stored block and returns its length.
func (s *bitReader) stored() (uint64, error) {
	s.pos = (s.pos + 7) &^ 7
	n, nn := s.bits(16), s.bits(16)
	if n != ^nn&0xffff {
		return 0, errors.New("stored block length does not match its complement")
	}
	s.pos += uint64(n) * 8
	return uint64(n), nil
}

// maxBits is the longest code.
const maxBits = 15

// huffman is a canonical code: how many symbols have each length, and the
// symbols ordered by code.
type huffman struct {
	count  [maxBits + 1]uint16
	symbol [288]uint16
}

// build makes h from the code lengths; an incomplete code is allowed (a
// single distance code), an over-subscribed one is not.
func (h *huffman) build(lengths []uint8) error {
	*h = huffman{}
	for _, l := range lengths {
		h.count[l]++
	}
	left := 1
	for l := 1; l <= maxBits; l++ {
		left = left<<1 - int(h.count[l])
		if left < 0 {
			return errors.New("over-subscribed code")
		}
	}
	var offs [maxBits + 1]uint16
	for l := 1; l < maxBits; l++ {
		offs[l+1] = offs[l] + h.count[l]
	}
	for sym, l := range lengths {
		if l != 0 {
			h.symbol[offs[l]] = uint16(sym)
			offs[l]++
		}
	}
	return nil
}

// decode reads one symbol of h.
func (s *bitReader) decode(h *huffman) (int, error) {
	if s.pos > uint64(len(s.data))*8 {
		return 0, errors.New("the stream ends inside a block")
	}
	code, first, index := 0, 0, 0
	for l := 1; l <= maxBits; l++ {
		code |= int(s.bits(1))
		count := int(h.count[l])
		if code-count < first {
			return int(h.symbol[index+code-first]), nil
		}
		index += count
		first = (first + count) << 1
		code <<= 1
	}
	return 0, errors.New("no such code")
}

// The length and distance codes' bases and extra bits (RFC 1951 3.2.5).
var (
	lenBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lenExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distExtr = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

// fixedLit and fixedDist are the fixed block codes (RFC 1951 3.2.6).
var fixedLit, fixedDist = func() (lit, dist huffman) {
	var l [288]uint8
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	var d [30]uint8
	for i := range d {
		d[i] = 5
	}
	if lit.build(l[:]) != nil || dist.build(d[:]) != nil {
		panic("gzindex: fixed codes")
	}
	return lit, dist
}()

// codes skips a compressed block's symbols up to the end-of-block code and
// returns how many bytes they produce.
func (s *bitReader) codes(lit, dist *huffman) (uint64, error) {
	var n uint64
	for {
		sym, err := s.decode(lit)
		switch {
		case err != nil:
			return 0, err
		case sym < 256:
			n++
			continue
		case sym == 256:
			return n, nil
		case sym > 285:
			return 0, errors.New("bad length code")
		}
		sym -= 257
		n += uint64(lenBase[sym]) + uint64(s.bits(uint(lenExtra[sym])))
		d, err := s.decode(dist)
		if err != nil || d > 29 {
			return 0, errors.New("bad distance code")
		}
		s.bits(uint(distExtr[d]))
	}
}

// clOrder is the order of the code length code's lengths.
var clOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// dynamic reads a dynamic block's code descriptions.
func (s *bitReader) dynamic(lit, dist *huffman) error {
	nlen, ndist, ncode := int(s.bits(5))+257, int(s.bits(5))+1, int(s.bits(4))+4
	if nlen > 286 || ndist > 30 {
		return errors.New("too many codes")
	}
	var lengths [320]uint8
	for i := range ncode {
		lengths[clOrder[i]] = uint8(s.bits(3))
	}
	var cl huffman
	if err := cl.build(lengths[:19]); err != nil {
		return err
	}
	lengths = [320]uint8{}
	for i := 0; i < nlen+ndist; {
		sym, err := s.decode(&cl)
		if err != nil {
			return err
		}
		if sym < 16 {
			lengths[i] = uint8(sym)
			i++
			continue
		}
		var v uint8
		var rep int
		switch sym {
		case 16:
			if i == 0 {
				return errors.New("repeat with no previous length")
			}
			v, rep = lengths[i-1], 3+int(s.bits(2))
		case 17:
			rep = 3 + int(s.bits(3))
		default:
			rep = 11 + int(s.bits(7))
		}
		if i+rep > nlen+ndist {
			return errors.New("too many lengths")
		}
		for range rep {
			lengths[i] = v
			i++
		}
	}
	if err := lit.build(lengths[:nlen]); err != nil {
		return err
	}
	return dist.build(lengths[nlen : nlen+ndist])
}
