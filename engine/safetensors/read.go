package safetensors

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// metadataKey is the header key of the free-form string map.
const metadataKey = "__metadata__"

// maxRank is the most dimensions Read accepts in a shape. The reference
// sets no limit; this one keeps a hostile header from costing more memory
// than its own size in shape slices, and is far above any real tensor's.
const maxRank = 64

// ReadOption changes how Read checks a file.
type ReadOption func(*readConfig)

// readConfig collects the ReadOptions.
type readConfig struct {
	allowNonFinite bool
	keepOther      bool
}

// KeepOtherDtypes makes Read return tensors of the dtypes it cannot
// convert to float32 (integers, booleans, 8-bit and smaller floats,
// complex) instead of failing with ErrDtype: such a tensor comes back with
// its Dtype and Shape and a nil Data, its bytes checked for size and
// skipped. A caller can then judge a tensor by its name before its dtype
// (a checkpoint reader names a tensor it does not expect as unexpected,
// whatever its dtype).
func KeepOtherDtypes() ReadOption {
	return func(c *readConfig) { c.keepOther = true }
}

// AllowNonFinite makes Read accept NaN and infinite values, which it
// otherwise rejects with ErrNonFinite.
func AllowNonFinite() ReadOption {
	return func(c *readConfig) { c.allowNonFinite = true }
}

// Read decodes a safetensors file of size bytes from r. It reads at most
// size bytes and returns an error wrapping ErrTruncated if r ends early.
// Every header check listed in the package documentation runs before any
// tensor data is read, and no length the file declares is allocated before
// it has been checked against size, so memory stays in proportion to size
// (which ReadFile takes from the file system). Tensors come back in file
// order.
//
// F32 tensors are read as they are; F16, BF16 and F64 tensors are
// converted to float32 as PyTorch's load_state_dict converts them when it
// copies them into float32 parameters (round to nearest, ties to even;
// F64 values beyond float32's range become infinities, which the
// non-finite check then refuses unless AllowNonFinite). Each Tensor's
// Dtype says what the file held. Any other dtype is refused with ErrDtype
// (see KeepOtherDtypes).
func Read(r io.Reader, size int64, opts ...ReadOption) (*File, error) {
	var cfg readConfig
	for _, o := range opts {
		o(&cfg)
	}
	if size < 8 {
		return nil, fmt.Errorf("safetensors: %w: size is %d bytes", ErrTooShort, size)
	}
	var prefix [8]byte
	if _, err := io.ReadFull(r, prefix[:]); err != nil {
		return nil, readErr("header length", err)
	}
	n := binary.LittleEndian.Uint64(prefix[:])
	switch {
	case n == 0:
		return nil, fmt.Errorf("safetensors: %w: header length is 0", ErrHeaderLength)
	case n > MaxHeaderSize:
		return nil, fmt.Errorf("safetensors: %w: header length %d exceeds the limit of %d", ErrHeaderLength, n, MaxHeaderSize)
	case n > uint64(size-8):
		return nil, fmt.Errorf("safetensors: %w: header length %d exceeds the %d bytes after it", ErrHeaderLength, n, size-8)
	}
	header := make([]byte, n)
	if _, err := io.ReadFull(r, header); err != nil {
		return nil, readErr("header", err)
	}
	dataSize := uint64(size-8) - n
	infos, meta, err := parseHeader(header)
	if err != nil {
		return nil, err
	}
	if err := checkLayout(infos, dataSize); err != nil {
		return nil, err
	}
	for _, info := range infos {
		if info.dtype.float == nil && !cfg.keepOther {
			return nil, fmt.Errorf("safetensors: tensor %q: %w: dtype %q is not supported, only F16, BF16, F32 and F64",
				truncate(info.name), ErrDtype, info.dtype.name)
		}
	}

	f := &File{Tensors: make([]Tensor, len(infos)), Metadata: meta}
	buf := make([]byte, min(chunkSize, dataSize))
	for i, info := range infos {
		t := Tensor{Name: info.name, Dtype: info.dtype.name, Shape: info.shape}
		if info.dtype.float == nil {
			// Kept for its name only (KeepOtherDtypes): skip its bytes.
			if _, err := io.CopyN(io.Discard, r, int64(info.end-info.begin)); err != nil {
				return nil, readErr(fmt.Sprintf("tensor %q", truncate(t.Name)), err)
			}
			f.Tensors[i] = t
			continue
		}
		t.Data = make([]float32, info.elements)
		size := info.dtype.bits / 8
		for done := 0; done < len(t.Data); {
			k := min(len(t.Data)-done, len(buf)/size)
			if _, err := io.ReadFull(r, buf[:size*k]); err != nil {
				return nil, readErr(fmt.Sprintf("tensor %q", truncate(t.Name)), err)
			}
			for j := range k {
				v := info.dtype.float(buf[size*j:])
				if !cfg.allowNonFinite && (v != v || math.IsInf(float64(v), 0)) {
					return nil, nonFinite(t.Name, t.Shape, done+j, v)
				}
				t.Data[done+j] = v
			}
			done += k
		}
		f.Tensors[i] = t
	}
	return f, nil
}

// dtype is a safetensors element type: its name, its size in bits, and
// for the dtypes Read converts, the conversion of one little-endian
// element to float32.
type dtype struct {
	name  string
	bits  int
	float func(b []byte) float32
}

// dtypes are the element types of the safetensors format.
var dtypes = map[string]dtype{
	"F32":     {"F32", 32, func(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) }},
	"F16":     {"F16", 16, func(b []byte) float32 { return HalfToFloat32(binary.LittleEndian.Uint16(b)) }},
	"BF16":    {"BF16", 16, func(b []byte) float32 { return BFloat16ToFloat32(binary.LittleEndian.Uint16(b)) }},
	"F64":     {"F64", 64, func(b []byte) float32 { return Float64ToFloat32(math.Float64frombits(binary.LittleEndian.Uint64(b))) }},
	"BOOL":    {name: "BOOL", bits: 8},
	"U8":      {name: "U8", bits: 8},
	"I8":      {name: "I8", bits: 8},
	"F8_E5M2": {name: "F8_E5M2", bits: 8},
	"F8_E4M3": {name: "F8_E4M3", bits: 8},
	"F8_E8M0": {name: "F8_E8M0", bits: 8},
	"F4":      {name: "F4", bits: 4},
	"F6_E2M3": {name: "F6_E2M3", bits: 6},
	"F6_E3M2": {name: "F6_E3M2", bits: 6},
	"I16":     {name: "I16", bits: 16},
	"U16":     {name: "U16", bits: 16},
	"I32":     {name: "I32", bits: 32},
	"U32":     {name: "U32", bits: 32},
	"I64":     {name: "I64", bits: 64},
	"U64":     {name: "U64", bits: 64},
	"C64":     {name: "C64", bits: 64},
}

// HalfToFloat32 converts an IEEE 754 half-precision value (F16) to
// float32, exactly: every half value, subnormals, infinities and NaNs
// included, is a float32 value.
func HalfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // infinity or NaN (the payload kept)
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
	case frac == 0: // signed zero
		return math.Float32frombits(sign)
	}
	// Subnormal: frac * 2^-24, a normal float32.
	v := float32(frac) * (1.0 / (1 << 24))
	if sign != 0 {
		v = -v
	}
	return v
}

// BFloat16ToFloat32 converts a bfloat16 value (BF16: the upper half of a
// float32) to float32, exactly.
func BFloat16ToFloat32(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }

// maxFloat32Round is the smallest float64 that rounds to infinity as a
// float32 (round to nearest, ties to even): MaxFloat32 plus half its last
// unit in the last place.
var maxFloat32Round = math.MaxFloat32 + math.Ldexp(1, 127-24)

// Float64ToFloat32 converts v to float32, rounding to nearest with ties to
// even, and values too large for float32 to infinities of their sign, as
// IEEE 754 (and so PyTorch) does on every platform.
func Float64ToFloat32(v float64) float32 {
	if math.Abs(v) >= maxFloat32Round {
		return float32(math.Inf(int(math.Copysign(1, v))))
	}
	return float32(v)
}

// readErr wraps an error from reading part of the file, turning an early
// end of input into ErrTruncated.
func readErr(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("safetensors: %s: %w: input ended early", what, ErrTruncated)
	}
	return fmt.Errorf("safetensors: read %s: %w", what, err)
}

// tensorInfo is one tensor's header entry.
type tensorInfo struct {
	name       string
	dtype      dtype
	shape      []int
	elements   int
	begin, end uint64
}

// checkLayout sorts infos by offset and checks that they tile the data
// buffer of dataSize bytes exactly, as the reference does.
func checkLayout(infos []tensorInfo, dataSize uint64) error {
	slices.SortFunc(infos, func(a, b tensorInfo) int {
		return cmp.Or(cmp.Compare(a.begin, b.begin), cmp.Compare(a.end, b.end), cmp.Compare(a.name, b.name))
	})
	var pos uint64
	for i, t := range infos {
		switch {
		case t.end > dataSize:
			return fmt.Errorf("safetensors: tensor %q: %w: [%d,%d] runs past the end of the %d-byte data buffer",
				truncate(t.name), ErrOffsets, t.begin, t.end, dataSize)
		case t.begin > pos:
			return fmt.Errorf("safetensors: tensor %q: %w: gap of %d bytes before it (begins at %d, previous data ends at %d)",
				truncate(t.name), ErrOffsets, t.begin-pos, t.begin, pos)
		case t.begin < pos:
			return fmt.Errorf("safetensors: tensor %q: %w: [%d,%d] overlaps tensor %q, which ends at %d",
				truncate(t.name), ErrOffsets, t.begin, t.end, truncate(infos[i-1].name), pos)
		}
		pos = t.end
	}
	if pos != dataSize {
		return fmt.Errorf("safetensors: %w: tensor data ends at byte %d of the %d-byte buffer",
			ErrTrailing, pos, dataSize)
	}
	return nil
}

// parseHeader decodes and checks the JSON header: one object of tensor
// entries and an optional "__metadata__" string map. It streams tokens so
// that repeated keys are caught at every level.
func parseHeader(header []byte) ([]tensorInfo, map[string]string, error) {
	if !utf8.Valid(header) {
		return nil, nil, fmt.Errorf("safetensors: %w: not valid UTF-8", ErrHeader)
	}
	if header[0] != '{' {
		return nil, nil, fmt.Errorf("safetensors: %w: does not start with '{'", ErrHeader)
	}
	p := &parser{dec: json.NewDecoder(bytes.NewReader(header))}
	p.dec.UseNumber()
	if err := p.delim('{', ""); err != nil {
		return nil, nil, err
	}
	var (
		infos   []tensorInfo
		meta    map[string]string
		seen    = map[string]bool{}
		hasMeta bool
	)
	for p.dec.More() {
		name, err := p.key("")
		if err != nil {
			return nil, nil, err
		}
		if name == metadataKey {
			if hasMeta {
				return nil, nil, fmt.Errorf("safetensors: %w: %q appears twice", ErrHeader, metadataKey)
			}
			hasMeta = true
			if meta, err = p.metadata(); err != nil {
				return nil, nil, err
			}
			continue
		}
		if seen[name] {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: %w", truncate(name), ErrDuplicate)
		}
		seen[name] = true
		info, err := p.tensor(name)
		if err != nil {
			return nil, nil, err
		}
		infos = append(infos, info)
	}
	if err := p.delim('}', ""); err != nil {
		return nil, nil, err
	}
	for _, c := range header[p.dec.InputOffset():] {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return nil, nil, fmt.Errorf("safetensors: %w: characters after the JSON object", ErrHeader)
		}
	}
	return infos, meta, nil
}

// parser reads the header's JSON tokens.
type parser struct {
	dec *json.Decoder
}

// token returns the next token, with JSON syntax errors wrapped as
// ErrHeader. where, when not empty, says what the parser was reading:
// `tensor "name"` or "__metadata__".
func (p *parser) token(where string) (json.Token, error) {
	tok, err := p.dec.Token()
	if err != nil {
		msg := err.Error()
		var se *json.SyntaxError
		if errors.Is(err, io.EOF) {
			msg = "unexpected end of the header"
		} else if errors.As(err, &se) {
			msg = fmt.Sprintf("%v at byte %d of the header", se, se.Offset)
		}
		return nil, fmt.Errorf("safetensors: %s%w: %s", prefix(where), ErrHeader, msg)
	}
	return tok, nil
}

// prefix returns where followed by ": ", or "" for an empty where.
func prefix(where string) string {
	if where == "" {
		return ""
	}
	return where + ": "
}

// delim reads the delimiter want.
func (p *parser) delim(want json.Delim, where string) error {
	tok, err := p.token(where)
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("safetensors: %s%w: want '%v', got %s", prefix(where), ErrHeader, want, describe(tok))
	}
	return nil
}

// key reads an object key.
func (p *parser) key(where string) (string, error) {
	tok, err := p.token(where)
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("safetensors: %s%w: want a key, got %s", prefix(where), ErrHeader, describe(tok))
	}
	return s, nil
}

// metadata reads the value of "__metadata__": null or an object of
// strings. It returns nil for null or an empty object.
func (p *parser) metadata() (map[string]string, error) {
	tok, err := p.token(metadataKey)
	if err != nil {
		return nil, err
	}
	if tok == nil {
		return nil, nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("safetensors: %w: want an object of strings, got %s", ErrMetadata, describe(tok))
	}
	meta := map[string]string{}
	for p.dec.More() {
		k, err := p.key(metadataKey)
		if err != nil {
			return nil, err
		}
		tok, err := p.token(metadataKey)
		if err != nil {
			return nil, err
		}
		v, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("safetensors: %w: key %q: want a string, got %s", ErrMetadata, truncate(k), describe(tok))
		}
		if _, dup := meta[k]; dup {
			return nil, fmt.Errorf("safetensors: %w: key %q appears twice", ErrMetadata, truncate(k))
		}
		meta[k] = v
	}
	if err := p.delim('}', metadataKey); err != nil {
		return nil, err
	}
	if len(meta) == 0 {
		return nil, nil
	}
	return meta, nil
}

// tensor reads one tensor entry and checks its dtype, shape and offsets.
func (p *parser) tensor(name string) (tensorInfo, error) {
	where := fmt.Sprintf("tensor %q", truncate(name))
	bad := func(sentinel error, format string, a ...any) error {
		return fmt.Errorf("safetensors: %s: %w: "+format, append([]any{where, sentinel}, a...)...)
	}
	info := tensorInfo{name: name}
	tok, err := p.token(where)
	if err != nil {
		return info, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return info, bad(ErrHeader, "want an object, got %s", describe(tok))
	}
	var dtype string
	var offsets []json.Number
	var hasDtype, hasShape, hasOffsets bool
	for p.dec.More() {
		field, err := p.key(where)
		if err != nil {
			return info, err
		}
		var dup bool
		switch field {
		case "dtype":
			dup, hasDtype = hasDtype, true
			tok, err := p.token(where)
			if err != nil {
				return info, err
			}
			s, ok := tok.(string)
			if !ok {
				return info, bad(ErrHeader, "dtype: want a string, got %s", describe(tok))
			}
			dtype = s
		case "shape":
			dup, hasShape = hasShape, true
			dims, err := p.numbers(where, "shape", maxRank)
			if err != nil {
				return info, err
			}
			info.shape = make([]int, len(dims))
			for i, d := range dims {
				v, err := parseUint(d)
				if err != nil {
					if errors.Is(err, strconv.ErrRange) {
						return info, bad(ErrOverflow, "shape dimension %d is too large: %s", i, truncate(string(d)))
					}
					return info, bad(ErrShape, "shape dimension %d is not a non-negative integer: %s", i, truncate(string(d)))
				}
				if v > math.MaxInt {
					return info, bad(ErrOverflow, "shape dimension %d is too large: %d", i, v)
				}
				info.shape[i] = int(v)
			}
		case "data_offsets":
			dup, hasOffsets = hasOffsets, true
			if offsets, err = p.numbers(where, "data_offsets", 2); err != nil {
				return info, err
			}
		default:
			return info, bad(ErrHeader, "unknown field %q", truncate(field))
		}
		if dup {
			return info, bad(ErrHeader, "field %q appears twice", field)
		}
	}
	if err := p.delim('}', where); err != nil {
		return info, err
	}
	switch {
	case !hasDtype:
		return info, bad(ErrHeader, `missing field "dtype"`)
	case !hasShape:
		return info, bad(ErrHeader, `missing field "shape"`)
	case !hasOffsets:
		return info, bad(ErrHeader, `missing field "data_offsets"`)
	}
	dt, ok := dtypes[dtype]
	if !ok {
		return info, bad(ErrDtype, "unknown dtype %q", truncate(dtype))
	}
	info.dtype = dt
	if len(offsets) != 2 {
		return info, bad(ErrOffsets, "want [begin, end], got %d value(s)", len(offsets))
	}
	for i, o := range offsets {
		v, err := parseUint(o)
		if err != nil {
			return info, bad(ErrOffsets, "%s is not a non-negative integer", truncate(string(o)))
		}
		if i == 0 {
			info.begin = v
		} else {
			info.end = v
		}
	}
	if info.begin > info.end {
		return info, bad(ErrOffsets, "begin %d is after end %d", info.begin, info.end)
	}
	n, err := elements(info.shape)
	if err != nil {
		return info, fmt.Errorf("safetensors: %s: %w", where, err)
	}
	if uint64(n)*uint64(dt.bits)%8 != 0 {
		return info, bad(ErrSize, "shape %v of %s is %d bits, not a whole number of bytes",
			shapeString(info.shape), dt.name, uint64(n)*uint64(dt.bits))
	}
	if got, want := info.end-info.begin, uint64(n)*uint64(dt.bits)/8; got != want {
		return info, bad(ErrSize, "shape %v of %s needs %d bytes, data_offsets [%d,%d] hold %d",
			shapeString(info.shape), dt.name, want, info.begin, info.end, got)
	}
	info.elements = n
	return info, nil
}

// numbers reads a JSON array of at most limit numbers. A longer array is
// an error wrapping ErrShape for "shape" and ErrOffsets otherwise.
func (p *parser) numbers(where, field string, limit int) ([]json.Number, error) {
	tok, err := p.token(where)
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, fmt.Errorf("safetensors: %s: %w: %s: want an array of integers, got %s", where, ErrHeader, field, describe(tok))
	}
	var out []json.Number
	for p.dec.More() {
		tok, err := p.token(where)
		if err != nil {
			return nil, err
		}
		num, ok := tok.(json.Number)
		if !ok {
			return nil, fmt.Errorf("safetensors: %s: %w: %s: want an integer, got %s", where, ErrHeader, field, describe(tok))
		}
		if len(out) == limit {
			sentinel := ErrOffsets
			if field == "shape" {
				sentinel = ErrShape
			}
			return nil, fmt.Errorf("safetensors: %s: %w: %s: more than %d values", where, sentinel, field, limit)
		}
		out = append(out, num)
	}
	if err := p.delim(']', where); err != nil {
		return nil, err
	}
	return out, nil
}

// parseUint parses a JSON number as a non-negative decimal integer. The
// error wraps strconv.ErrRange when the integer is too large for uint64.
func parseUint(n json.Number) (uint64, error) {
	return strconv.ParseUint(string(n), 10, 64)
}

// describe names a JSON token for error messages.
func describe(tok json.Token) string {
	switch v := tok.(type) {
	case nil:
		return "null"
	case json.Delim:
		return fmt.Sprintf("'%v'", v)
	case string:
		return fmt.Sprintf("string %q", truncate(v))
	case json.Number:
		return "number " + truncate(string(v))
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprintf("%v", tok)
}

// truncate shortens s, which may come from a hostile file, for an error
// message.
func truncate(s string) string {
	const limit = 64
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
