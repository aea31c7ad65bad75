package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

// FuzzRead feeds arbitrary bytes to Read. It must never panic; whatever it
// accepts must survive Write and Read again unchanged; and Read must agree
// with itself when told a size one short or one long.
func FuzzRead(f *testing.F) {
	valid := encodeOrPanic(File{
		Metadata: map[string]string{"format": "pt", "epoch": "2"},
		Tensors: []Tensor{
			{Name: "fc.weight", Shape: []int{2, 3}, Data: []float32{1, -2, 3.5, 0, 1e-30, 6}},
			{Name: "fc.bias", Shape: []int{2}, Data: []float32{0.25, -0.5}},
			{Name: "step", Shape: []int{}, Data: []float32{7}},
			{Name: "empty", Shape: []int{0, 4}},
		},
	})
	f.Add(valid)
	for _, k := range []int{0, 4, 8, 9, 20, len(valid) - 1} {
		f.Add(valid[:k])
	}
	f.Add(append(append([]byte{}, valid...), 0, 0, 0, 0))
	hostile := []string{
		`{}`,
		`{"__metadata__":null}`,
		`{"__metadata__":{"a":"b","a":"c"}}`,
		`{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`,
		`{"t":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}`,
		`{"t":{"dtype":"F32","shape":[0,9223372036854775807],"data_offsets":[0,0]}}`,
		`{"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`,
		`{"t":{"dtype":"F32","shape":[1],"data_offsets":[18446744073709551615,4]}}`,
		`{"t":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}`,
		`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`,
		`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`,
		`{"t":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`,
		"{\"\xff\":{}}",
		`{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}x`,
	}
	for _, h := range hostile {
		f.Add(build(h, le32(1, 2)))
	}
	f.Add(binary.LittleEndian.AppendUint64(nil, math.MaxUint64))
	f.Add(binary.LittleEndian.AppendUint64(nil, MaxHeaderSize))

	f.Fuzz(checkRead)
}

// FuzzHeader is FuzzRead with the length prefix computed, so that the
// fuzzer spends its time on the JSON header and the layout checks.
func FuzzHeader(f *testing.F) {
	f.Add(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[],"data_offsets":[4,8]}}`, le32(1, 2))
	f.Add(`{"__metadata__":{"k":"v"},"e":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}`, []byte{})
	f.Add(`{"t":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]}}`, le32(1, float32(math.NaN())))
	f.Fuzz(func(t *testing.T, header string, data []byte) {
		checkRead(t, build(header, data))
	})
}

// checkRead runs Read on data and checks the properties FuzzRead states.
func checkRead(t *testing.T, data []byte) {
	t.Helper()
	size := int64(len(data))
	got, err := Read(bytes.NewReader(data), size)
	if err != nil {
		if got != nil {
			t.Fatal("Read returned a File with an error")
		}
		if !isSentinel(err) {
			t.Fatalf("error %v wraps no sentinel", err)
		}
	}
	// Told one byte more than there is, Read must fail: if it
	// succeeded it would have read a byte that is not there.
	if _, err := Read(bytes.NewReader(data), size+1); err == nil {
		t.Fatal("Read succeeded with size past the data")
	}
	// The tensor data must end exactly at size, so at most one of
	// size and size-1 can be valid.
	if size > 0 {
		if _, err2 := Read(bytes.NewReader(data), size-1); err2 == nil && err == nil {
			t.Fatal("Read accepted both size and size-1")
		}
	}
	if err != nil {
		return
	}
	var buf bytes.Buffer
	if err := Write(&buf, *got); err != nil {
		t.Fatalf("Write of what Read accepted: %v", err)
	}
	again, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatalf("Read of what Write wrote: %v", err)
	}
	var buf2 bytes.Buffer
	if err := Write(&buf2, *again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), buf2.Bytes()) {
		t.Fatal("Write(Read(Write(x))) differs from Write(x)")
	}
	if len(again.Tensors) != len(got.Tensors) || len(again.Metadata) != len(got.Metadata) {
		t.Fatal("round trip lost tensors or metadata")
	}
	for _, want := range got.Tensors {
		x, ok := again.Get(want.Name)
		if !ok || len(x.Data) != len(want.Data) || len(x.Shape) != len(want.Shape) {
			t.Fatalf("tensor %q changed in the round trip", want.Name)
		}
		for i := range want.Data {
			if math.Float32bits(x.Data[i]) != math.Float32bits(want.Data[i]) {
				t.Fatalf("tensor %q value %d changed", want.Name, i)
			}
		}
	}
	for k, v := range got.Metadata {
		if again.Metadata[k] != v {
			t.Fatalf("metadata %q changed", k)
		}
	}
}

// encodeOrPanic returns Write's bytes for a File known to be valid.
func encodeOrPanic(f File) []byte {
	var buf bytes.Buffer
	if err := Write(&buf, f); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// isSentinel reports whether err wraps one of the package's sentinels.
func isSentinel(err error) bool {
	for _, s := range []error{ErrTooShort, ErrTruncated, ErrHeaderLength, ErrHeader, ErrMetadata,
		ErrDuplicate, ErrName, ErrDtype, ErrShape, ErrOverflow, ErrSize, ErrOffsets, ErrTrailing, ErrNonFinite} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
