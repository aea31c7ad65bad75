package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"runtime"
	"strings"
	"testing"
)

// readBytes runs Read on the whole of b.
func readBytes(b []byte, opts ...ReadOption) (*File, error) {
	return Read(bytes.NewReader(b), int64(len(b)), opts...)
}

// lenPrefix returns 8 bytes holding n little-endian.
func lenPrefix(n uint64) []byte {
	return binary.LittleEndian.AppendUint64(nil, n)
}

// one returns a header with a single F32 tensor entry "t".
func one(shape, offsets string) string {
	return `{"t":{"dtype":"F32","shape":` + shape + `,"data_offsets":` + offsets + `}}`
}

func TestReadRejects(t *testing.T) {
	nan := math.Float32frombits(0x7fc00001)
	tests := []struct {
		name string
		file []byte
		want error
		msg  string // a substring the message must hold
	}{
		{"empty file", nil, ErrTooShort, "0 bytes"},
		{"7 bytes", []byte{1, 0, 0, 0, 0, 0, 0}, ErrTooShort, "7 bytes"},
		{"header length 0", lenPrefix(0), ErrHeaderLength, "is 0"},
		{"header length 0 with data", append(lenPrefix(0), "{}"...), ErrHeaderLength, "is 0"},
		{"header length past the end", append(lenPrefix(9), "{}      "...), ErrHeaderLength, "exceeds the 8 bytes"},
		{"header length above the limit", append(lenPrefix(MaxHeaderSize+1), "{}"...), ErrHeaderLength, "limit"},
		{"header length 2^64-1", append(lenPrefix(math.MaxUint64), "{}"...), ErrHeaderLength, "limit"},
		{"invalid UTF-8", build("{\"\xff\":1}", nil), ErrHeader, "UTF-8"},
		{"truncated JSON", build(`{"t":{"dtype":`, nil), ErrHeader, `tensor "t"`},
		{"not JSON", build(`{xyz}`, nil), ErrHeader, "invalid header: invalid character 'x' at byte 1 of the header"},
		{"array", build(`[1,2]   `, nil), ErrHeader, "start"},
		{"string", build(`"{}"`, nil), ErrHeader, "start"},
		{"leading space", build(` {}`, nil), ErrHeader, "start"},
		{"missing comma", build(`{"__metadata__":{} "t":{}}`, nil), ErrHeader, "header"},
		{"characters after the object", build(`{}x`, nil), ErrHeader, "after the JSON object"},
		{"second object", build(`{}{}`, nil), ErrHeader, "after the JSON object"},
		{"NUL padding", build("{}\x00\x00", nil), ErrHeader, "after the JSON object"},
		{"tensor entry not an object", build(`{"t":[1]}`, nil), ErrHeader, `tensor "t": invalid header: want an object, got '['`},
		{"metadata a string", build(`{"__metadata__":"x"}`, nil), ErrMetadata, "got string"},
		{"metadata number value", build(`{"__metadata__":{"a":1}}`, nil), ErrMetadata, `key "a"`},
		{"metadata null value", build(`{"__metadata__":{"a":null}}`, nil), ErrMetadata, `key "a"`},
		{"metadata nested", build(`{"__metadata__":{"a":{}}}`, nil), ErrMetadata, `key "a"`},
		{"metadata duplicate key", build(`{"__metadata__":{"a":"1","a":"2"}}`, nil), ErrMetadata, `"a" appears twice`},
		{"metadata twice", build(`{"__metadata__":{},"__metadata__":{}}`, nil), ErrHeader, "twice"},
		{"unknown dtype", build(`{"t":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}`, le32(1)), ErrDtype, `unknown dtype "F33"`},
		{"I64", build(`{"t":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}`, le32(1, 2)), ErrDtype, `"I64" is not supported, only F16, BF16, F32 and F64`},
		{"F16 of F32's size", build(`{"t":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}}`, le32(1, 2)), ErrSize, "shape [2] of F16 needs 4 bytes"},
		{"F64 short", build(`{"t":{"dtype":"F64","shape":[1],"data_offsets":[0,4]}}`, le32(1)), ErrSize, "shape [1] of F64 needs 8 bytes"},
		{"F4 half a byte", build(`{"t":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}`, []byte{0, 0}), ErrSize, "not a whole number of bytes"},
		{"F64 beyond float32", build(`{"t":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}}`, le64(1, 1e39)), ErrNonFinite, "element 1 [1] is +Inf"},
		{"F16 NaN", build(`{"t":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}`, le16(0x7e00)), ErrNonFinite, "element 0 [0] is NaN"},
		{"lower-case dtype", build(`{"t":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}`, le32(1)), ErrDtype, `tensor "t"`},
		{"dtype a number", build(`{"t":{"dtype":32,"shape":[1],"data_offsets":[0,4]}}`, le32(1)), ErrHeader, "dtype: want a string"},
		{"missing dtype", build(`{"t":{"shape":[1],"data_offsets":[0,4]}}`, le32(1)), ErrHeader, `missing field "dtype"`},
		{"missing shape", build(`{"t":{"dtype":"F32","data_offsets":[0,4]}}`, le32(1)), ErrHeader, `missing field "shape"`},
		{"missing offsets", build(`{"t":{"dtype":"F32","shape":[1]}}`, le32(1)), ErrHeader, `missing field "data_offsets"`},
		{"repeated field", build(`{"t":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, le32(1)), ErrHeader, `"dtype" appears twice`},
		{"unknown field", build(`{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"offsets":[0,4]}}`, le32(1)), ErrHeader, `unknown field "offsets"`},
		{"negative dimension", build(one(`[-1]`, `[0,4]`), le32(1)), ErrShape, `tensor "t"`},
		{"fractional dimension", build(one(`[1.5]`, `[0,4]`), le32(1)), ErrShape, "1.5"},
		{"exponent dimension", build(one(`[1e0]`, `[0,4]`), le32(1)), ErrShape, "1e0"},
		{"shape a string", build(one(`"1"`, `[0,4]`), le32(1)), ErrHeader, "shape: want an array"},
		{"shape nested", build(one(`[[1]]`, `[0,4]`), le32(1)), ErrHeader, "shape: want an integer"},
		{"shape null", build(one(`null`, `[0,4]`), le32(1)), ErrHeader, "got null"},
		{"dimension above uint64", build(one(`[18446744073709551616]`, `[0,4]`), le32(1)), ErrOverflow, "too large"},
		{"dimension above int", build(one(`[9223372036854775808,0]`, `[0,0]`), nil), ErrOverflow, "too large"},
		{"element count overflow", build(one(`[4294967296,4294967296]`, `[0,0]`), nil), ErrOverflow, "too many elements"},
		{"byte size overflow", build(one(`[4611686018427387904]`, `[0,0]`), nil), ErrOverflow, "too many elements"},
		{"one offset", build(one(`[1]`, `[4]`), le32(1)), ErrOffsets, "got 1 value(s)"},
		{"three offsets", build(one(`[1]`, `[0,4,8]`), le32(1, 2)), ErrOffsets, "data_offsets: more than 2 values"},
		{"no offsets", build(one(`[]`, `[]`), le32(1)), ErrOffsets, "got 0 value(s)"},
		{"65 dimensions", build(one(`[`+strings.Repeat(`1,`, 64)+`1]`, `[0,4]`), le32(1)), ErrShape, "shape: more than 64 values"},
		{"negative offset", build(one(`[1]`, `[-4,0]`), le32(1)), ErrOffsets, "-4"},
		{"fractional offset", build(one(`[1]`, `[0,4.0]`), le32(1)), ErrOffsets, "4.0"},
		{"offset above uint64", build(one(`[1]`, `[0,18446744073709551620]`), le32(1)), ErrOffsets, "not a non-negative integer"},
		{"offsets reversed", build(one(`[1]`, `[4,0]`), le32(1)), ErrOffsets, "begin 4 is after end 0"},
		{"offsets a string", build(one(`[1]`, `"0,4"`), le32(1)), ErrHeader, "data_offsets: want an array"},
		{"length does not match shape", build(one(`[2]`, `[0,4]`), le32(1)), ErrSize, "needs 8 bytes, data_offsets [0,4] hold 4"},
		{"length of a scalar", build(one(`[]`, `[0,0]`), nil), ErrSize, "needs 4 bytes"},
		{"huge offsets", build(one(`[1]`, `[18446744073709551608,18446744073709551612]`), le32(1)), ErrOffsets, "runs past the end"},
		{"past the end", build(one(`[2]`, `[0,8]`), le32(1)), ErrOffsets, "runs past the end of the 4-byte data buffer"},
		{"no data", build(one(`[1]`, `[0,4]`), nil), ErrOffsets, "runs past the end"},
		{"gap at start", build(one(`[1]`, `[4,8]`), le32(1, 2)), ErrOffsets, "gap of 4 bytes"},
		{"gap between", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, le32(1, 2, 3)), ErrOffsets, `tensor "b": invalid data_offsets: gap of 4 bytes`},
		{"overlap", build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, le32(1, 2)), ErrOffsets, `overlaps tensor "a"`},
		{"same bytes twice", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, le32(1)), ErrOffsets, "overlaps"},
		{"trailing bytes", build(one(`[1]`, `[0,4]`), le32(1, 2)), ErrTrailing, "ends at byte 4 of the 8-byte buffer"},
		{"trailing byte", build(one(`[1]`, `[0,4]`), append(le32(1), 0)), ErrTrailing, "ends at byte 4 of the 5-byte buffer"},
		{"data without tensors", build(`{}`, le32(1)), ErrTrailing, "ends at byte 0 of the 4-byte buffer"},
		{"duplicate name", build(`{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, le32(1, 2)), ErrDuplicate, `tensor "t"`},
		{"duplicate name by escape", build(`{"é":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"\u00e9":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, le32(1, 2)), ErrDuplicate, `"é"`},
		{"NaN", build(one(`[2,2]`, `[0,16]`), le32(1, 2, 3, nan)), ErrNonFinite, `tensor "t": non-finite value: element 3 [1 1] is NaN`},
		{"+Inf", build(one(`[3]`, `[0,12]`), le32(1, float32(math.Inf(1)), 3)), ErrNonFinite, "element 1 [1] is +Inf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := readBytes(tt.file)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Read error = %v, want %v", err, tt.want)
			}
			t.Log(err)
			if f != nil {
				t.Error("Read returned a File with an error")
			}
			if !strings.HasPrefix(err.Error(), "safetensors: ") || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("message %q lacks the prefix or %q", err, tt.msg)
			}
		})
	}
}

func TestReadAccepts(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		name  string
		file  []byte
		opts  []ReadOption
		names []string // in the order Read returns them
		meta  map[string]string
	}{
		{"empty", build(`{}`, nil), nil, nil, nil},
		{"no padding needed or given", build(`{"__metadata__":{"a":"b"}}`, nil), nil, nil, map[string]string{"a": "b"}},
		{"null metadata", build(`{"__metadata__":null}`, nil), nil, nil, nil},
		{"empty metadata", build(`{"__metadata__":{}}`, nil), nil, nil, nil},
		{"whitespace", build("{ \"t\" :\n\t{\"data_offsets\" : [ 0 , 4 ],\r\"shape\":[1],\"dtype\":\"F32\"} }\n  ", le32(1)), nil, []string{"t"}, nil},
		{
			// Header order is not file order: Read returns file order.
			"offsets out of name order",
			build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, le32(1, 2)),
			nil, []string{"b", "a"}, nil,
		},
		{
			// Empty tensors may share an offset, as in the reference.
			"empty tensors",
			build(`{"z":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"y":{"dtype":"F32","shape":[3,0],"data_offsets":[0,0]},"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}`, le32(1)),
			nil, []string{"y", "z", "x", "w"}, nil,
		},
		{"64 dimensions", build(one(`[`+strings.Repeat(`1,`, 63)+`1]`, `[0,4]`), le32(1)), nil, []string{"t"}, nil},
		{"escaped name", build(`{"\u00e9\n":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`, le32(1)), nil, []string{"é\n"}, nil},
		{"NaN allowed", build(one(`[2]`, `[0,8]`), le32(nan, float32(math.Inf(-1)))), []ReadOption{AllowNonFinite()}, []string{"t"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := readBytes(tt.file, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, x := range f.Tensors {
				names = append(names, x.Name)
			}
			if strings.Join(names, ",") != strings.Join(tt.names, ",") {
				t.Errorf("tensors %q, want %q", names, tt.names)
			}
			if len(f.Metadata) != len(tt.meta) || (tt.meta == nil) != (f.Metadata == nil) {
				t.Errorf("metadata %v, want %v", f.Metadata, tt.meta)
			}
			for k, v := range tt.meta {
				if f.Metadata[k] != v {
					t.Errorf("metadata[%q] = %q, want %q", k, f.Metadata[k], v)
				}
			}
		})
	}
}

func TestReadValues(t *testing.T) {
	f, err := readBytes(build(`{"m":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}`, le32(1, 2, 3, 4, 5, 6.5)))
	if err != nil {
		t.Fatal(err)
	}
	m, ok := f.Get("m")
	if !ok {
		t.Fatal("m missing")
	}
	if len(m.Shape) != 2 || m.Shape[0] != 2 || m.Shape[1] != 3 {
		t.Errorf("shape %v", m.Shape)
	}
	want := []float32{1, 2, 3, 4, 5, 6.5}
	for i, v := range want {
		if m.Data[i] != v {
			t.Errorf("m[%d] = %v, want %v", i, m.Data[i], v)
		}
	}
}

// TestReadTruncated cuts a valid file at every length, while Read is told
// the full size: each must fail with ErrTruncated.
func TestReadTruncated(t *testing.T) {
	var buf bytes.Buffer
	f := File{Metadata: map[string]string{"k": "v"}, Tensors: []Tensor{
		{Name: "a", Shape: []int{3}, Data: []float32{1, 2, 3}},
		{Name: "b", Shape: []int{2}, Data: []float32{4, 5}},
	}}
	if err := Write(&buf, f); err != nil {
		t.Fatal(err)
	}
	full := buf.Bytes()
	for k := 0; k < len(full); k++ {
		_, err := Read(bytes.NewReader(full[:k]), int64(len(full)))
		if !errors.Is(err, ErrTruncated) {
			t.Errorf("cut at %d of %d: error = %v, want ErrTruncated", k, len(full), err)
		}
	}
	// Told less than the whole, Read never looks further and finds the
	// data short of the header's offsets.
	if _, err := Read(bytes.NewReader(full), int64(len(full)-1)); !errors.Is(err, ErrOffsets) {
		t.Errorf("size one short: error = %v, want ErrOffsets", err)
	}
	// A reader with more than size holds: Read stops at size.
	r := bytes.NewReader(append(append([]byte{}, full...), "more"...))
	if _, err := Read(r, int64(len(full))); err != nil {
		t.Errorf("longer reader: %v", err)
	}
	if r.Len() != len("more") {
		t.Errorf("Read consumed %d bytes past size", len("more")-r.Len())
	}
}

// errReader fails every read.
type errReader struct{}

var errDisk = errors.New("disk on fire")

func (errReader) Read([]byte) (int, error) { return 0, errDisk }

func TestReadPassesReaderErrors(t *testing.T) {
	_, err := Read(errReader{}, 100)
	if !errors.Is(err, errDisk) || errors.Is(err, ErrTruncated) {
		t.Errorf("error = %v, want the reader's", err)
	}
	valid := build(one(`[1]`, `[0,4]`), le32(1))
	_, err = Read(io.MultiReader(bytes.NewReader(valid[:len(valid)-2]), errReader{}), int64(len(valid)))
	if !errors.Is(err, errDisk) || !strings.Contains(err.Error(), `tensor "t"`) {
		t.Errorf("error = %v, want the reader's, naming the tensor", err)
	}
}

// TestReadAllocatesAfterChecks gives Read hostile lengths that a careless
// reader would allocate before checking; Read must fail without doing so.
func TestReadAllocatesAfterChecks(t *testing.T) {
	tests := []struct {
		name string
		file []byte
		size int64
	}{
		// A 99 MB header in a 1000-byte file.
		{"header length", lenPrefix(MaxHeaderSize - 1), 1000},
		// A tensor of 2^40 floats, declared in a small file.
		{"tensor size", build(one(`[1099511627776]`, `[0,4398046511104]`), nil), 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := Read(bytes.NewReader(tt.file), tt.size)
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatal("Read accepted a hostile file")
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
				t.Errorf("Read allocated %d bytes before failing: %v", got, err)
			}
		})
	}
}

func TestReadNegativeSize(t *testing.T) {
	if _, err := Read(bytes.NewReader(nil), -1); !errors.Is(err, ErrTooShort) {
		t.Errorf("error = %v, want ErrTooShort", err)
	}
}
