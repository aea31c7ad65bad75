package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// le32 returns the little-endian bytes of float32 values.
func le32(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// build assembles a file from a header string and data bytes, with the
// length prefix set to len(header).
func build(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

func TestWriteByteExact(t *testing.T) {
	tests := []struct {
		name string
		file File
		want []byte
	}{
		{
			// The reference implementation's own serialization vector: a
			// 64-byte header that needs no padding.
			name: "reference vector",
			file: File{Tensors: []Tensor{{Name: "attn.0", Shape: []int{1, 2, 3}, Data: []float32{0, 1, 2, 3, 4, 5}}}},
			want: append([]byte{
				64, 0, 0, 0, 0, 0, 0, 0,
				'{', '"', 'a', 't', 't', 'n', '.', '0', '"', ':', '{', '"', 'd', 't', 'y', 'p', 'e', '"', ':',
				'"', 'F', '3', '2', '"', ',', '"', 's', 'h', 'a', 'p', 'e', '"', ':', '[', '1', ',', '2', ',',
				'3', ']', ',', '"', 'd', 'a', 't', 'a', '_', 'o', 'f', 'f', 's', 'e', 't', 's', '"', ':', '[',
				'0', ',', '2', '4', ']', '}', '}',
			}, 0, 0, 0, 0, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40, 0, 0, 0xa0, 0x40),
		},
		{
			// 65 bytes of JSON padded with 7 spaces to 72.
			name: "padding",
			file: File{Tensors: []Tensor{{Name: "attn0", Shape: []int{1, 1, 2, 3}, Data: []float32{0, 1, 2, 3, 4, 5}}}},
			want: build(`{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       `, le32(0, 1, 2, 3, 4, 5)),
		},
		{
			name: "empty",
			file: File{},
			want: []byte{8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '},
		},
		{
			name: "empty metadata map is omitted",
			file: File{Metadata: map[string]string{}},
			want: build(`{}      `, nil),
		},
		{
			name: "metadata only",
			file: File{Metadata: map[string]string{"framework": "pt"}},
			want: build(`{"__metadata__":{"framework":"pt"}}     `, nil),
		},
		{
			// Tensors sorted by name whatever their order in File; metadata
			// keys sorted; a scalar and an empty tensor.
			name: "sorted",
			file: File{
				Metadata: map[string]string{"step": "3", "epoch": "2"},
				Tensors: []Tensor{
					{Name: "fc.weight", Shape: []int{1, 2}, Data: []float32{-1, 0.5}},
					{Name: "empty", Shape: []int{0, 5}, Data: nil},
					{Name: "fc.bias", Shape: []int{1}, Data: []float32{2}},
					{Name: "scalar", Shape: []int{}, Data: []float32{3}},
				},
			},
			want: build(`{"__metadata__":{"epoch":"2","step":"3"},`+
				`"empty":{"dtype":"F32","shape":[0,5],"data_offsets":[0,0]},`+
				`"fc.bias":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},`+
				`"fc.weight":{"dtype":"F32","shape":[1,2],"data_offsets":[4,12]},`+
				`"scalar":{"dtype":"F32","shape":[],"data_offsets":[12,16]}}      `,
				le32(2, -1, 0.5, 3)),
		},
		{
			// Escapes as serde_json writes them: quote, backslash, control
			// characters; non-ASCII and '<' as they are.
			name: "escapes",
			file: File{
				Metadata: map[string]string{"note": "tab\there <b>"},
				Tensors:  []Tensor{{Name: "a\"b\\c\nd\x01é", Shape: []int{1}, Data: []float32{1}}},
			},
			want: build(`{"__metadata__":{"note":"tab\there <b>"},`+
				`"a\"b\\c\nd\u0001é":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}} `,
				le32(1)),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.want) >= 8 && binary.LittleEndian.Uint64(tt.want)%8 != 0 {
				t.Fatalf("bad test: header length %d is not a multiple of 8", binary.LittleEndian.Uint64(tt.want))
			}
			var buf bytes.Buffer
			if err := Write(&buf, tt.file); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), tt.want) {
				t.Errorf("Write:\n got %q\nwant %q", buf.Bytes(), tt.want)
			}
			// What Write wrote, Read reads back.
			got, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if len(got.Tensors) != len(tt.file.Tensors) {
				t.Fatalf("Read %d tensors, want %d", len(got.Tensors), len(tt.file.Tensors))
			}
		})
	}
}

// rnnFile returns a checkpoint shaped like the notebook's model, with
// seeded values, metadata and a few optimizer tensors.
func rnnFile(seed uint64) File {
	rng := rand.New(rand.NewPCG(seed, 1))
	shapes := []struct {
		name  string
		shape []int
	}{
		{"rnn.weight_ih_l0", []int{128, 28}},
		{"rnn.weight_hh_l0", []int{128, 128}},
		{"rnn.bias_ih_l0", []int{128}},
		{"rnn.bias_hh_l0", []int{128}},
		{"fc.weight", []int{10, 128}},
		{"fc.bias", []int{10}},
		{"adam.m.fc.bias", []int{10}},
		{"adam.v.fc.bias", []int{10}},
		{"adam.step", []int{}},
	}
	f := File{Metadata: map[string]string{"format": "pt", "epoch": "2", "config": `{"hidden":128}`}}
	for _, s := range shapes {
		n := 1
		for _, d := range s.shape {
			n *= d
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(rng.NormFloat64())
		}
		f.Tensors = append(f.Tensors, Tensor{Name: s.name, Shape: s.shape, Data: data})
	}
	// Extreme finite values survive bit for bit.
	f.Tensors[5].Data[0] = math.MaxFloat32
	f.Tensors[5].Data[1] = -math.SmallestNonzeroFloat32
	f.Tensors[5].Data[2] = float32(math.Copysign(0, -1))
	return f
}

func TestRoundTrip(t *testing.T) {
	in := rnnFile(1)
	var buf bytes.Buffer
	if err := Write(&buf, in); err != nil {
		t.Fatal(err)
	}
	out, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out.Metadata, in.Metadata) {
		t.Errorf("metadata = %v, want %v", out.Metadata, in.Metadata)
	}
	if len(out.Tensors) != len(in.Tensors) {
		t.Fatalf("got %d tensors, want %d", len(out.Tensors), len(in.Tensors))
	}
	for i := 1; i < len(out.Tensors); i++ {
		if out.Tensors[i-1].Name >= out.Tensors[i].Name {
			t.Errorf("tensors not in name order: %q before %q", out.Tensors[i-1].Name, out.Tensors[i].Name)
		}
	}
	for _, want := range in.Tensors {
		got, ok := out.Get(want.Name)
		if !ok {
			t.Errorf("tensor %q missing", want.Name)
			continue
		}
		if !reflect.DeepEqual(got.Shape, want.Shape) {
			t.Errorf("%s: shape %v, want %v", want.Name, got.Shape, want.Shape)
		}
		if len(got.Data) != len(want.Data) {
			t.Errorf("%s: %d values, want %d", want.Name, len(got.Data), len(want.Data))
			continue
		}
		for i := range want.Data {
			if math.Float32bits(got.Data[i]) != math.Float32bits(want.Data[i]) {
				t.Errorf("%s[%d] = %v, want %v", want.Name, i, got.Data[i], want.Data[i])
				break
			}
		}
	}
	if _, ok := out.Get("nope"); ok {
		t.Error(`Get("nope") found a tensor`)
	}
}

func TestWriteDeterministic(t *testing.T) {
	a := rnnFile(2)
	b := rnnFile(2)
	// Same content, other order, other map.
	for i, j := 0, len(b.Tensors)-1; i < j; i, j = i+1, j-1 {
		b.Tensors[i], b.Tensors[j] = b.Tensors[j], b.Tensors[i]
	}
	b.Metadata = map[string]string{}
	for k, v := range a.Metadata {
		b.Metadata[k] = v
	}
	var wa, wb bytes.Buffer
	if err := Write(&wa, a); err != nil {
		t.Fatal(err)
	}
	if err := Write(&wb, b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(wa.Bytes(), wb.Bytes()) {
		t.Error("same content in another order gave other bytes")
	}
	c := rnnFile(3)
	var wc bytes.Buffer
	if err := Write(&wc, c); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(wa.Bytes(), wc.Bytes()) {
		t.Error("different values gave the same bytes")
	}
}

func TestWriteRejects(t *testing.T) {
	ok := func() Tensor { return Tensor{Name: "w", Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}} }
	tests := []struct {
		name string
		file File
		want error
		msg  string // a substring the message must hold
	}{
		{"negative dim", File{Tensors: []Tensor{{Name: "w", Shape: []int{2, -2}, Data: []float32{1, 2, 3, 4}}}}, ErrShape, `"w"`},
		{"too few values", File{Tensors: []Tensor{{Name: "w", Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4}}}}, ErrSize, "needs 6 values, Data has 4"},
		{"too many values", File{Tensors: []Tensor{{Name: "w", Shape: []int{1}, Data: []float32{1, 2}}}}, ErrSize, `"w"`},
		{"scalar without value", File{Tensors: []Tensor{{Name: "s", Shape: nil, Data: nil}}}, ErrSize, `"s"`},
		{"overflow", File{Tensors: []Tensor{{Name: "big", Shape: []int{math.MaxInt / 2, 3}}}}, ErrOverflow, `"big"`},
		{"duplicate", File{Tensors: []Tensor{ok(), {Name: "x", Shape: []int{1}, Data: []float32{1}}, ok()}}, ErrDuplicate, `"w"`},
		{"reserved name", File{Tensors: []Tensor{{Name: "__metadata__", Shape: []int{1}, Data: []float32{1}}}}, ErrName, "reserved"},
		{"bad UTF-8 name", File{Tensors: []Tensor{{Name: "a\xffb", Shape: []int{1}, Data: []float32{1}}}}, ErrName, "UTF-8"},
		{"bad UTF-8 metadata", File{Metadata: map[string]string{"k": "\xc3"}}, ErrName, `"k"`},
		{"NaN", File{Tensors: []Tensor{ok(), {Name: "n", Shape: []int{2, 3}, Data: []float32{0, 0, 0, 0, float32(math.NaN()), 0}}}}, ErrNonFinite, `"n": non-finite value: element 4 [1 1] is NaN`},
		{"-Inf", File{Tensors: []Tensor{{Name: "i", Shape: []int{1}, Data: []float32{float32(math.Inf(-1))}}}}, ErrNonFinite, "element 0 [0] is -Inf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, tt.file)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Write error = %v, want %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "safetensors: ") || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("message %q lacks the prefix or %q", err, tt.msg)
			}
			if buf.Len() != 0 {
				t.Errorf("Write wrote %d bytes before failing", buf.Len())
			}
		})
	}
}

// failWriter accepts limit bytes, writing them to w, then fails.
type failWriter struct {
	w     io.Writer
	limit int
}

// errInjected is the failure failWriter injects.
var errInjected = errors.New("injected write failure")

func (f *failWriter) Write(p []byte) (int, error) {
	if len(p) <= f.limit {
		f.limit -= len(p)
		return f.w.Write(p)
	}
	n, err := f.w.Write(p[:f.limit])
	f.limit -= n
	if err == nil {
		err = errInjected
	}
	return n, err
}

func TestWriteReportsWriterErrors(t *testing.T) {
	f := rnnFile(4)
	var full bytes.Buffer
	if err := Write(&full, f); err != nil {
		t.Fatal(err)
	}
	for _, k := range []int{0, 7, 8, 100, full.Len() / 2, full.Len() - 1} {
		var buf bytes.Buffer
		err := Write(&failWriter{w: &buf, limit: k}, f)
		if !errors.Is(err, errInjected) {
			t.Errorf("limit %d: error = %v, want the injected one", k, err)
		}
	}
}

func TestCheckFinite(t *testing.T) {
	tt := Tensor{Name: "h", Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}}
	if err := tt.CheckFinite(); err != nil {
		t.Fatalf("finite tensor: %v", err)
	}
	tt.Data[5] = float32(math.Inf(1))
	err := tt.CheckFinite()
	if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), `tensor "h": non-finite value: element 5 [1 2] is +Inf`) {
		t.Errorf("error = %v", err)
	}
}

func BenchmarkWrite(b *testing.B) {
	f := rnnFile(9)
	var buf bytes.Buffer
	if err := Write(&buf, f); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		buf.Reset()
		if err := Write(&buf, f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRead(b *testing.B) {
	var buf bytes.Buffer
	if err := Write(&buf, rnnFile(10)); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Read(bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}
