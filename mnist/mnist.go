package mnist

import (
	"errors"
	"fmt"
)

// Rows and Cols are the shape of one image.
const Rows, Cols = 28, 28

// Pixels is the number of pixels in one image.
const Pixels = Rows * Cols

// Classes is the number of labels: the digits 0 to 9.
const Classes = 10

// MaxImages is the most images (or labels) one IDX file may declare: 2^17
// = 131,072, twice MNIST's training set (MNIST-like sets hold tens of
// thousands), about 103 MB of pixels. It bounds the memory a file costs
// whatever its header says or its gzip stream inflates to: a larger count
// is refused from the header alone (ErrTooMany).
const MaxImages = 1 << 17

// Sentinel errors. Every error of the package wraps at most one of them
// (ErrFormat also wraps the gzip error for corrupt compressed data); test
// with errors.Is.
var (
	// ErrFormat marks a stream that is not a valid IDX file of unsigned
	// bytes with the expected number of dimensions, or corrupt gzip data.
	ErrFormat = errors.New("bad IDX format")
	// ErrTruncated marks a stream that ends before its header says.
	ErrTruncated = errors.New("truncated")
	// ErrTrailing marks bytes after the last image or label.
	ErrTrailing = errors.New("trailing data")
	// ErrMismatch marks image and label counts that disagree.
	ErrMismatch = errors.New("count mismatch")
	// ErrLabel marks a label outside 0..9.
	ErrLabel = errors.New("label out of range")
	// ErrShape marks images that are not 28x28.
	ErrShape = errors.New("images not 28x28")
	// ErrTooMany marks a header that declares more images or labels than
	// MaxImages.
	ErrTooMany = errors.New("too many images")
	// ErrEmpty marks a data file (LoadDir) with no images.
	ErrEmpty = errors.New("no images")
	// ErrNotRegular marks a data file that is not a regular file (a FIFO,
	// a device, a directory): refused before it is read.
	ErrNotRegular = errors.New("not a regular file")
	// ErrInvalid marks an invalid argument (a batch size of 0, a split
	// larger than the set, a missing set).
	ErrInvalid = errors.New("invalid argument")
)

// Set is a labelled set of images, pixels kept as uint8: Image(i) is
// digit i's image and Labels[i] the digit it shows.
type Set struct {
	// Images holds the pixels: image i at Images[i*Pixels:(i+1)*Pixels],
	// but in a part that Split made, which picks its images from the set
	// it was split from (and shares this slice with it): read them with
	// Image.
	Images []uint8
	Labels []uint8
	// idx is where each digit's image is in Images, in images; nil for
	// image i at i.
	idx []int32
}

// NewSet checks that images holds nImages 28x28 images, that there are as
// many labels and that every label is at most 9, and returns the Set that
// owns both slices (they are not copied). name is used in errors.
func NewSet(name string, images []uint8, nImages int, labels []uint8) (*Set, error) {
	if nImages < 0 {
		return nil, fmt.Errorf("mnist: %s: %w: %d images", name, ErrInvalid, nImages)
	}
	if len(images) != nImages*Pixels {
		return nil, fmt.Errorf("mnist: %s: %w: %d pixels for %d images of %d", name, ErrMismatch, len(images), nImages, Pixels)
	}
	if len(labels) != nImages {
		return nil, fmt.Errorf("mnist: %s: %w: %d images but %d labels", name, ErrMismatch, nImages, len(labels))
	}
	if i := badLabel(labels); i >= 0 {
		return nil, fmt.Errorf("mnist: %s: %w: label %d at index %d", name, ErrLabel, labels[i], i)
	}
	return &Set{Images: images, Labels: labels}, nil
}

// badLabel returns the index of the first label above 9, or -1.
func badLabel(labels []uint8) int {
	for i, l := range labels {
		if l >= Classes {
			return i
		}
	}
	return -1
}

// Len reports how many digits s holds.
func (s *Set) Len() int { return len(s.Labels) }

// Image returns the 784 pixels of digit i, row-major, as a subslice of
// s.Images (capacity limited, so appending to it cannot touch the next
// image). It panics if i is out of range, like an index expression.
func (s *Set) Image(i int) []uint8 {
	j := s.at(i)
	return s.Images[j*Pixels : (j+1)*Pixels : (j+1)*Pixels]
}

// at returns the place of digit i's image in s.Images, in images.
func (s *Set) at(i int) int {
	if s.idx == nil {
		return i
	}
	return int(s.idx[i])
}

// Limit returns the first n digits of s, or all of them if n <= 0 or
// n >= s.Len(). The result shares memory with s.
func (s *Set) Limit(n int) *Set {
	if n <= 0 || n >= s.Len() {
		n = s.Len()
	}
	if s.idx != nil {
		return &Set{Images: s.Images, Labels: s.Labels[:n:n], idx: s.idx[:n:n]}
	}
	return &Set{Images: s.Images[: n*Pixels : n*Pixels], Labels: s.Labels[:n:n]}
}
