package safetensors

import (
	"errors"
	"fmt"
	"math"
)

// MaxHeaderSize is the largest JSON header Read accepts, in bytes: the
// reference implementation's limit.
const MaxHeaderSize = 100_000_000

// Sentinel errors, for errors.Is. Every error the package returns starts
// with "safetensors:" and wraps one of these or an I/O error.
var (
	// ErrTooShort: the file is shorter than the 8-byte header length.
	ErrTooShort = errors.New("file shorter than 8 bytes")
	// ErrTruncated: the reader ended before the size it was said to hold.
	ErrTruncated = errors.New("truncated")
	// ErrHeaderLength: the header length is 0, above MaxHeaderSize, or
	// beyond the end of the file.
	ErrHeaderLength = errors.New("invalid header length")
	// ErrHeader: the header is not valid UTF-8, not valid JSON, not an
	// object, or a tensor entry is malformed (missing, unknown or repeated
	// field, value of the wrong kind).
	ErrHeader = errors.New("invalid header")
	// ErrMetadata: __metadata__ is not a map of strings to strings.
	ErrMetadata = errors.New("invalid __metadata__")
	// ErrDuplicate: a tensor name appears twice.
	ErrDuplicate = errors.New("duplicate tensor name")
	// ErrName: a tensor name or metadata string is not valid UTF-8, or a
	// tensor is named "__metadata__" (Write only).
	ErrName = errors.New("invalid name")
	// ErrDtype: the dtype is unknown, or not one Read converts to float32
	// (F16, BF16, F32, F64), or not F32 when writing.
	ErrDtype = errors.New("unsupported dtype")
	// ErrShape: a shape dimension is negative or not an integer.
	ErrShape = errors.New("invalid shape")
	// ErrOverflow: the shape's element count or byte size overflows.
	ErrOverflow = errors.New("size overflow")
	// ErrSize: the tensor's byte length (data_offsets, or len(Data) when
	// writing) does not match its shape.
	ErrSize = errors.New("data length does not match shape")
	// ErrOffsets: data_offsets are not two non-negative integers with
	// begin <= end, lie outside the buffer, or leave a gap or overlap
	// between tensors.
	ErrOffsets = errors.New("invalid data_offsets")
	// ErrTrailing: bytes follow the last tensor's data.
	ErrTrailing = errors.New("trailing bytes after the last tensor")
	// ErrNonFinite: a value is NaN or infinite.
	ErrNonFinite = errors.New("non-finite value")
)

// Tensor is one named float32 tensor, stored row-major.
type Tensor struct {
	// Name is the tensor's key in the file, e.g. "rnn.weight_ih_l0".
	Name string
	// Dtype is the element type the file holds ("F32", or "F16", "BF16",
	// "F64" converted to float32 by Read; another dtype only with
	// KeepOtherDtypes, Data then nil). Write writes F32 and accepts only
	// "" or "F32" here.
	Dtype string
	// Shape lists the dimensions; an empty Shape is a scalar (one value).
	Shape []int
	// Data holds the product of Shape values, last dimension fastest.
	Data []float32
}

// File is the content of a safetensors file.
type File struct {
	// Tensors are the file's tensors. Read returns them in file order
	// (by data offset); Write accepts any order and sorts by name.
	Tensors []Tensor
	// Metadata is the free-form "__metadata__" map. Read leaves it nil
	// when the file has none or an empty one; Write omits it when empty.
	Metadata map[string]string
}

// Get returns the tensor called name, and whether there is one. The
// pointer refers into f.Tensors.
func (f *File) Get(name string) (*Tensor, bool) {
	for i := range f.Tensors {
		if f.Tensors[i].Name == name {
			return &f.Tensors[i], true
		}
	}
	return nil, false
}

// CheckFinite reports the first NaN or infinite value of t, as an error
// wrapping ErrNonFinite that names the tensor and the element's flat and
// per-dimension index. It returns nil when every value is finite.
func (t Tensor) CheckFinite() error {
	for i, v := range t.Data {
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			return nonFinite(t.Name, t.Shape, i, v)
		}
	}
	return nil
}

// nonFinite builds the ErrNonFinite error for element i of a tensor.
func nonFinite(name string, shape []int, i int, v float32) error {
	return fmt.Errorf("safetensors: tensor %q: %w: element %d %v is %v",
		truncate(name), ErrNonFinite, i, shapeString(unravel(shape, i)), v)
}

// unravel turns flat row-major index i into one index per dimension of
// shape. shape's product must exceed i.
func unravel(shape []int, i int) []int {
	idx := make([]int, len(shape))
	for d := len(shape) - 1; d >= 0; d-- {
		if shape[d] > 0 {
			idx[d] = i % shape[d]
			i /= shape[d]
		}
	}
	return idx
}

// elements returns the product of shape, or an error wrapping ErrShape or
// ErrOverflow. The byte size elements*4 is also checked for overflow.
func elements(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("%w: negative dimension %d in %s", ErrShape, d, shapeString(shape))
		}
		if d != 0 && n > math.MaxInt/4/d {
			return 0, fmt.Errorf("%w: shape %s has too many elements", ErrOverflow, shapeString(shape))
		}
		n *= d
	}
	return n, nil
}

// shapeString formats shape for an error message, eliding the middle of a
// long one.
func shapeString(shape []int) string {
	if len(shape) > 8 {
		return fmt.Sprintf("%v...%v (%d dimensions)", shape[:4], shape[len(shape)-2:], len(shape))
	}
	return fmt.Sprint(shape)
}
