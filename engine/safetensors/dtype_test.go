package safetensors

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

// le16 encodes values little-endian, two bytes each.
func le16(vs ...uint16) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint16(b, v)
	}
	return b
}

// le64 encodes float64 values little-endian.
func le64(vs ...float64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

// TestHalfToFloat32 checks F16 bit patterns with known values: normals,
// the largest half, subnormals, signed zeros, infinities and NaN.
func TestHalfToFloat32(t *testing.T) {
	for _, tc := range []struct {
		h    uint16
		want float32
	}{
		{0x3c00, 1}, {0xc000, -2}, {0x3555, 0.333251953125}, {0x7bff, 65504},
		{0x0400, 1.0 / (1 << 14)}, {0x0001, 1.0 / (1 << 24)}, {0x83ff, -1023.0 / (1 << 24)},
		{0x0000, 0}, {0x7c00, float32(math.Inf(1))}, {0xfc00, float32(math.Inf(-1))},
	} {
		if got := HalfToFloat32(tc.h); got != tc.want {
			t.Errorf("HalfToFloat32(%#04x) = %v, want %v", tc.h, got, tc.want)
		}
	}
	if got := HalfToFloat32(0x8000); got != 0 || !math.Signbit(float64(got)) {
		t.Errorf("HalfToFloat32(0x8000) = %v, want -0", got)
	}
	if got := HalfToFloat32(0x7e00); got == got {
		t.Errorf("HalfToFloat32(0x7e00) = %v, want NaN", got)
	}
	// Every finite half lands in the half range.
	for h := 0; h < 1<<16; h++ {
		v := HalfToFloat32(uint16(h))
		if e := (h >> 10) & 0x1f; e == 0x1f {
			continue
		}
		if f := float64(v); math.Abs(f) > 65504 || (f != 0 && math.Abs(f) < math.Ldexp(1, -24)) {
			t.Fatalf("%#04x -> %v out of half range", h, v)
		}
	}
}

func TestBFloat16AndFloat64(t *testing.T) {
	for _, tc := range []struct {
		b    uint16
		want float32
	}{{0x3f80, 1}, {0xc0a0, -5}, {0x3e2a, 0.166015625}, {0x7f80, float32(math.Inf(1))}} {
		if got := BFloat16ToFloat32(tc.b); got != tc.want {
			t.Errorf("BFloat16ToFloat32(%#04x) = %v, want %v", tc.b, got, tc.want)
		}
	}
	for _, tc := range []struct {
		v    float64
		want float32
	}{
		{1.5, 1.5}, {0.1, 0.1}, {1 + math.Ldexp(1, -24), 1}, {1 + 3*math.Ldexp(1, -24), 1 + 1.0/(1<<22)},
		{1e-50, 0}, {math.MaxFloat32, math.MaxFloat32},
		{math.Nextafter(maxFloat32Round, 0), math.MaxFloat32},
		{maxFloat32Round, float32(math.Inf(1))}, {-1e300, float32(math.Inf(-1))},
	} {
		if got := Float64ToFloat32(tc.v); got != tc.want {
			t.Errorf("Float64ToFloat32(%v) = %v, want %v", tc.v, got, tc.want)
		}
	}
}

// TestReadConvertsDtypes reads one tensor of each float dtype and checks
// the float32 values and the Dtype field.
func TestReadConvertsDtypes(t *testing.T) {
	file := build(`{"a":{"dtype":"F16","shape":[3],"data_offsets":[0,6]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[6,10]},"c":{"dtype":"F64","shape":[2],"data_offsets":[10,26]},"d":{"dtype":"F32","shape":[1],"data_offsets":[26,30]}}`,
		append(append(append(le16(0x3c00, 0xc000, 0x0001), le16(0x3f80, 0xc0a0)...), le64(0.1, -3)...), le32(7)...))
	f, err := readBytes(file)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		dtype string
		data  []float32
	}{
		"a": {"F16", []float32{1, -2, 1.0 / (1 << 24)}},
		"b": {"BF16", []float32{1, -5}},
		"c": {"F64", []float32{0.1, -3}},
		"d": {"F32", []float32{7}},
	}
	for _, tt := range f.Tensors {
		w := want[tt.Name]
		if tt.Dtype != w.dtype || len(tt.Data) != len(w.data) {
			t.Fatalf("%s: %s %v, want %s %v", tt.Name, tt.Dtype, tt.Data, w.dtype, w.data)
		}
		for i := range tt.Data {
			if tt.Data[i] != w.data[i] {
				t.Errorf("%s[%d] = %v, want %v", tt.Name, i, tt.Data[i], w.data[i])
			}
		}
	}
}

// TestKeepOtherDtypes: without the option an I64 tensor is refused; with
// it, the tensor comes back named and shaped, without data, and the
// tensors after it are read.
func TestKeepOtherDtypes(t *testing.T) {
	file := build(`{"n":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},"w":{"dtype":"F32","shape":[1],"data_offsets":[16,20]}}`,
		append(le64(1, 2), le32(5)...))
	if _, err := readBytes(file); !errors.Is(err, ErrDtype) {
		t.Fatalf("I64 without KeepOtherDtypes: %v", err)
	}
	f, err := readBytes(file, KeepOtherDtypes())
	if err != nil {
		t.Fatal(err)
	}
	n, _ := f.Get("n")
	w, _ := f.Get("w")
	if n.Dtype != "I64" || n.Data != nil || len(n.Shape) != 1 || w.Data[0] != 5 {
		t.Fatalf("got %+v and %+v", n, w)
	}
	if err := Write(discard{}, File{Tensors: []Tensor{{Name: "x", Dtype: "F16", Data: []float32{1}, Shape: []int{1}}}}); !errors.Is(err, ErrDtype) {
		t.Fatalf("Write of an F16 tensor: %v, want ErrDtype", err)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
