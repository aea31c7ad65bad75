package mnist

import (
	"fmt"
	"math/rand/v2"
	"runtime"
)

// loaderStream is the second PCG seed word of Loader.Shuffle, mixed with
// the epoch.
const loaderStream = 0x6d6e6973745f6c64 // "mnist_ld"

// Loader hands out normalised mini-batches of a Set, in order or in a
// shuffled order that is reproducible from (seed, epoch), like PyTorch's
// DataLoader. A Loader is not safe for concurrent use while Shuffle runs;
// Batch and Indices only read it.
type Loader struct {
	set     *Set
	batch   int
	shuffle bool
	seed    uint64
	order   []int
	// norm maps a pixel to (p/255 - 0.5)/0.5 as float32 arithmetic gives it.
	norm [256]float32
}

// NewLoader returns a Loader of batches of batch digits of s. With shuffle,
// it starts in the order Shuffle(0) gives; call Shuffle at the start of
// every epoch for a new one. Without it, batches follow the set's order.
// The Loader reads s without copying it: do not change s while it is used.
func NewLoader(s *Set, batch int, shuffle bool, seed uint64) (*Loader, error) {
	switch {
	case s == nil:
		return nil, fmt.Errorf("mnist: loader: %w: nil set", ErrInvalid)
	case s.Len() == 0:
		return nil, fmt.Errorf("mnist: loader: %w: empty set", ErrInvalid)
	case batch <= 0:
		return nil, fmt.Errorf("mnist: loader: %w: batch size %d", ErrInvalid, batch)
	case s.idx == nil && len(s.Images) != s.Len()*Pixels:
		return nil, fmt.Errorf("mnist: loader: %w: %d pixels for %d labels", ErrMismatch, len(s.Images), s.Len())
	}
	if i := badLabel(s.Labels); i >= 0 {
		return nil, fmt.Errorf("mnist: loader: %w: label %d at index %d", ErrLabel, s.Labels[i], i)
	}
	l := &Loader{set: s, batch: batch, shuffle: shuffle, seed: seed, order: make([]int, s.Len())}
	for p := range l.norm {
		v := float32(p) / 255
		l.norm[p] = float32(v-0.5) / 0.5
	}
	for i := range l.order {
		l.order[i] = i
	}
	l.Shuffle(0)
	return l, nil
}

// Len reports how many digits the Loader's set holds.
func (l *Loader) Len() int { return len(l.order) }

// BatchSize reports the size of every batch but possibly the last.
func (l *Loader) BatchSize() int { return l.batch }

// Batches reports the number of batches, ceil(Len/batch): the last, partial
// batch is used, as with PyTorch's DataLoader (20,000 digits in batches of
// 64 make 313 batches, the last of 32).
func (l *Loader) Batches() int { return (len(l.order) + l.batch - 1) / l.batch }

// Shuffle puts the digits in a new order for epoch when the Loader
// shuffles, and does nothing otherwise. The order depends only on the seed
// and epoch, not on earlier calls.
func (l *Loader) Shuffle(epoch int) {
	if !l.shuffle {
		return
	}
	for i := range l.order {
		l.order[i] = i
	}
	r := rand.New(rand.NewPCG(l.seed, loaderStream^uint64(epoch)))
	r.Shuffle(len(l.order), func(i, j int) { l.order[i], l.order[j] = l.order[j], l.order[i] })
}

// Indices returns the set indices of the digits in batch k, in batch
// order. It is a view into the Loader: do not modify it, and do not keep it
// across Shuffle.
func (l *Loader) Indices(k int) []int {
	lo, hi := l.bounds(k)
	return l.order[lo:hi:hi]
}

// bounds returns the range of l.order that batch k covers; it panics if k
// is out of range.
func (l *Loader) bounds(k int) (lo, hi int) {
	if k < 0 || k >= l.Batches() {
		panic(fmt.Sprintf("mnist: batch %d out of range [0, %d)", k, l.Batches()))
	}
	lo = k * l.batch
	return lo, min(lo+l.batch, len(l.order))
}

// Batch fills x and y with batch k and returns its size n: the batch size,
// or less for the last batch. x is time-major,
//
//	x[t*n*Cols + b*Cols + j] = (pixel(b, row t, col j)/255 - 0.5)/0.5
//
// for b < n (so row t of every image of the batch is one contiguous n x 28
// block), and y[b] is the label of digit b. x must have room for n*Pixels
// values and y for n (BatchSize()*Pixels and BatchSize() always do). Batch does
// not allocate. It panics if k is out of range or x or y is too short, as
// an index expression would.
func (l *Loader) Batch(k int, x []float32, y []int) (n int) {
	lo, hi := l.bounds(k)
	l.Fill(k, x, y, 0, hi-lo)
	return hi - lo
}

// Fill is Batch for the digits [b0, b1) of batch k alone: it writes their
// rows of x (laid out for the whole batch, as Batch lays it out) and their
// labels, so that two goroutines can each fill a share of one batch. It
// panics if k is out of range or b0 and b1 are not 0 <= b0 <= b1 <= the
// batch's size.
func (l *Loader) Fill(k int, x []float32, y []int, b0, b1 int) {
	lo, hi := l.bounds(k)
	n := hi - lo
	if b0 < 0 || b0 > b1 || b1 > n {
		panic(fmt.Sprintf("mnist: digits [%d, %d) of a batch of %d", b0, b1, n))
	}
	idx := l.order[lo+b0 : lo+b1]
	x = x[:n*Pixels]
	y = y[:n]
	set := l.set
	stride := n * Cols
	// The digits are scattered over a set larger than the caches: every
	// image is read from memory. Touching every cache line of the images
	// first, in a loop that does nothing else, keeps many of those reads
	// in flight at once (they are independent; their sum, kept alive,
	// keeps them); the conversion then reads from the cache.
	var touched byte
	for _, i := range idx {
		img := set.Image(i)
		for o := 0; o < Pixels; o += 64 {
			touched += img[o]
		}
	}
	for j, i := range idx {
		b := b0 + j
		y[b] = int(set.Labels[i])
		img := set.Image(i)
		for t := 0; t < Rows; t++ {
			src := img[t*Cols : (t+1)*Cols]
			dst := x[t*stride+b*Cols : t*stride+(b+1)*Cols]
			dst = dst[:len(src)]
			for j, p := range src {
				dst[j] = l.norm[p]
			}
		}
	}
	runtime.KeepAlive(touched)
}
