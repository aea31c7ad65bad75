package safetensors

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// chunkSize is the size of the buffer that tensor data passes through on
// its way to or from bytes.
const chunkSize = 64 << 10

// Write encodes f in the safetensors format to w. It first checks every
// tensor (a valid UTF-8 name other than "__metadata__", used once;
// non-negative dimensions; len(Data) equal to the shape's product; finite
// values) and the metadata strings, and writes nothing if any check fails.
// The bytes depend only on f's content, not on the order of f.Tensors or
// of the map.
func Write(w io.Writer, f File) error {
	header, order, err := encodeHeader(f)
	if err != nil {
		return err
	}
	buf := make([]byte, 0, chunkSize)
	buf = binary.LittleEndian.AppendUint64(buf, uint64(len(header)))
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("safetensors: write header length: %w", err)
	}
	if _, err := w.Write(header); err != nil {
		return fmt.Errorf("safetensors: write header: %w", err)
	}
	for _, i := range order {
		t := &f.Tensors[i]
		for data := t.Data; len(data) > 0; {
			n := min(len(data), chunkSize/4)
			buf = buf[:0]
			for _, v := range data[:n] {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			}
			if _, err := w.Write(buf); err != nil {
				return fmt.Errorf("safetensors: write tensor %q: %w", t.Name, err)
			}
			data = data[n:]
		}
	}
	return nil
}

// encodeHeader validates f and returns its JSON header, padded with spaces
// to a multiple of 8 bytes, and the indices of f.Tensors in file order.
func encodeHeader(f File) ([]byte, []int, error) {
	order := make([]int, len(f.Tensors))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		return strings.Compare(f.Tensors[a].Name, f.Tensors[b].Name)
	})

	var sb strings.Builder
	sb.WriteByte('{')
	if len(f.Metadata) > 0 {
		keys := make([]string, 0, len(f.Metadata))
		for k := range f.Metadata {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		sb.WriteString(`"__metadata__":{`)
		for j, k := range keys {
			v := f.Metadata[k]
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				return nil, nil, fmt.Errorf("safetensors: metadata %q: %w: not valid UTF-8", k, ErrName)
			}
			if j > 0 {
				sb.WriteByte(',')
			}
			writeJSONString(&sb, k)
			sb.WriteByte(':')
			writeJSONString(&sb, v)
		}
		sb.WriteByte('}')
	}

	offset := 0
	for j, i := range order {
		t := &f.Tensors[i]
		switch {
		case !utf8.ValidString(t.Name):
			return nil, nil, fmt.Errorf("safetensors: tensor %q: %w: not valid UTF-8", t.Name, ErrName)
		case t.Name == metadataKey:
			return nil, nil, fmt.Errorf("safetensors: tensor %q: %w: the name is reserved for metadata", t.Name, ErrName)
		case j > 0 && f.Tensors[order[j-1]].Name == t.Name:
			return nil, nil, fmt.Errorf("safetensors: tensor %q: %w", t.Name, ErrDuplicate)
		case t.Dtype != "" && t.Dtype != "F32":
			return nil, nil, fmt.Errorf("safetensors: tensor %q: %w: Write writes F32, not %q", t.Name, ErrDtype, t.Dtype)
		}
		n, err := elements(t.Shape)
		if err != nil {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: %w", t.Name, err)
		}
		if n != len(t.Data) {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: %w: shape %v needs %d values, Data has %d",
				t.Name, ErrSize, t.Shape, n, len(t.Data))
		}
		if err := t.CheckFinite(); err != nil {
			return nil, nil, err
		}
		if offset > math.MaxInt-4*n {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: %w: total data size", t.Name, ErrOverflow)
		}
		if sb.Len() > 1 {
			sb.WriteByte(',')
		}
		writeJSONString(&sb, t.Name)
		sb.WriteString(`:{"dtype":"F32","shape":[`)
		for d, dim := range t.Shape {
			if d > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(strconv.Itoa(dim))
		}
		sb.WriteString(`],"data_offsets":[`)
		sb.WriteString(strconv.Itoa(offset))
		sb.WriteByte(',')
		offset += 4 * n
		sb.WriteString(strconv.Itoa(offset))
		sb.WriteString(`]}`)
	}
	sb.WriteByte('}')
	for sb.Len()%8 != 0 {
		sb.WriteByte(' ')
	}
	if sb.Len() > MaxHeaderSize {
		return nil, nil, fmt.Errorf("safetensors: %w: header of %d bytes exceeds %d", ErrHeaderLength, sb.Len(), MaxHeaderSize)
	}
	return []byte(sb.String()), order, nil
}

// writeJSONString writes s, which must be valid UTF-8, as a JSON string
// escaped the way serde_json (the reference writer) escapes it: quote,
// backslash and control characters only.
func writeJSONString(sb *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	sb.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			sb.WriteString(`\"`)
		case c == '\\':
			sb.WriteString(`\\`)
		case c == '\b':
			sb.WriteString(`\b`)
		case c == '\f':
			sb.WriteString(`\f`)
		case c == '\n':
			sb.WriteString(`\n`)
		case c == '\r':
			sb.WriteString(`\r`)
		case c == '\t':
			sb.WriteString(`\t`)
		case c < 0x20:
			sb.WriteString(`\u00`)
			sb.WriteByte(hex[c>>4])
			sb.WriteByte(hex[c&0xf])
		default:
			sb.WriteByte(c)
		}
	}
	sb.WriteByte('"')
}
