package preprocess

import (
	"errors"
	"fmt"
	"math"
)

const (
	// Side is the width and height of the field, in pixels.
	Side = 28
	// Box is the side of the box a digit is scaled to fit.
	Box = 20
)

var (
	// ErrSize marks an image that is not Side x Side pixels.
	ErrSize = errors.New("not a 28x28 image")
	// ErrBlank marks an image without ink: there is nothing to normalise.
	ErrBlank = errors.New("the image is blank")
)

// Rect is a box of pixels: columns X0..X1-1 and rows Y0..Y1-1.
type Rect struct{ X0, Y0, X1, Y1 int }

// W is the box's width in pixels.
func (r Rect) W() int { return r.X1 - r.X0 }

// H is the box's height in pixels.
func (r Rect) H() int { return r.Y1 - r.Y0 }

// Bounds returns the smallest box holding every pixel of px (w x h pixels,
// row-major) above zero; ok is false when there is none.
func Bounds(px []float32, w, h int) (r Rect, ok bool) {
	r = Rect{X0: w, Y0: h}
	for y := range h {
		for x := range w {
			if px[y*w+x] > 0 {
				r.X0, r.X1 = min(r.X0, x), max(r.X1, x+1)
				r.Y0, r.Y1 = min(r.Y0, y), max(r.Y1, y+1)
				ok = true
			}
		}
	}
	if !ok {
		return Rect{}, false
	}
	return r, true
}

// CentreOfMass returns the intensity-weighted mean column x and row y of
// px (w x h pixels, row-major), in pixel indexes (pixel (x, y) has its
// centre at x, y; the 28x28 field's centre is 13.5, 13.5); ok is false
// when px has no ink.
func CentreOfMass(px []float32, w, h int) (x, y float64, ok bool) {
	var sum, sx, sy float64
	for r := range h {
		for c := range w {
			v := float64(px[r*w+c])
			if v > 0 {
				sum += v
				sx += v * float64(c)
				sy += v * float64(r)
			}
		}
	}
	if sum == 0 {
		return 0, 0, false
	}
	return sx / sum, sy / sum, true
}

// Normalize returns the 28x28 drawing px preprocessed as MNIST's digits
// were: the bounding box of its ink (Bounds) is scaled so that its longer
// side is Box pixels and the other keeps the aspect ratio (rounded to
// whole pixels, at least one), each new pixel the average of the area of
// the drawing it covers (which anti-aliases, as MNIST's scaling did), and
// the result is placed in an empty field so that its centre of mass
// (CentreOfMass) lands on the field's centre, 13.5, 13.5, within half a
// pixel (a whole-pixel shift, which keeps the strokes sharp). Where the
// centre of mass is so far off-centre that the box would leave the field,
// the box stays against the field's edge instead: no ink is lost.
// Values are clamped to [0, 1] first (NaN counts as 0). A blank drawing
// is ErrBlank, an image of another size ErrSize.
func Normalize(px []float32) ([]float32, error) {
	if len(px) != Side*Side {
		return nil, fmt.Errorf("preprocess: %w: %d pixels, want %d", ErrSize, len(px), Side*Side)
	}
	src := make([]float32, len(px))
	for i, v := range px {
		if v > 0 { // false for NaN
			src[i] = min(v, 1)
		}
	}
	b, ok := Bounds(src, Side, Side)
	if !ok {
		return nil, fmt.Errorf("preprocess: %w", ErrBlank)
	}
	s := float64(Box) / float64(max(b.W(), b.H()))
	ow := max(1, int(math.Round(float64(b.W())*s)))
	oh := max(1, int(math.Round(float64(b.H())*s)))
	scaled := resample(src, b, ow, oh)
	cx, cy, ok := CentreOfMass(scaled, ow, oh)
	if !ok {
		return nil, fmt.Errorf("preprocess: %w", ErrBlank)
	}
	const centre = (Side - 1) / 2.0
	ox := min(max(int(math.Round(centre-cx)), 0), Side-ow)
	oy := min(max(int(math.Round(centre-cy)), 0), Side-oh)
	out := make([]float32, Side*Side)
	for y := range oh {
		copy(out[(oy+y)*Side+ox:(oy+y)*Side+ox+ow], scaled[y*ow:(y+1)*ow])
	}
	return out, nil
}

// share is one source pixel's part of a new pixel: its index along an
// axis and the length of their overlap.
type share struct {
	i int
	w float64
}

// shares lists, for each of n new pixels over the source pixels [lo,
// lo+length), the source pixels each covers and by how much.
func shares(lo, length, n int) [][]share {
	step := float64(length) / float64(n)
	out := make([][]share, n)
	for j := range out {
		a, b := float64(lo)+float64(j)*step, float64(lo)+float64(j+1)*step
		for i := int(math.Floor(a)); float64(i) < b; i++ {
			if w := math.Min(b, float64(i+1)) - math.Max(a, float64(i)); w > 1e-12 {
				out[j] = append(out[j], share{i, w})
			}
		}
	}
	return out
}

// resample scales the box b of src (Side wide) to ow x oh pixels, each the
// mean of the source area it covers.
func resample(src []float32, b Rect, ow, oh int) []float32 {
	xs, ys := shares(b.X0, b.W(), ow), shares(b.Y0, b.H(), oh)
	area := float64(b.W()) / float64(ow) * float64(b.H()) / float64(oh)
	out := make([]float32, ow*oh)
	for y, sy := range ys {
		for x, sx := range xs {
			var v float64
			for _, p := range sy {
				for _, q := range sx {
					v += p.w * q.w * float64(src[p.i*Side+q.i])
				}
			}
			out[y*ow+x] = float32(min(v/area, 1))
		}
	}
	return out
}

// Pixels returns px as MNIST's uint8 pixels: each value times 255,
// rounded, values outside [0, 1] (and NaN) clamped.
func Pixels(px []float32) []uint8 {
	out := make([]uint8, len(px))
	for i, v := range px {
		if v > 0 {
			out[i] = uint8(math.Round(float64(min(v, 1)) * 255))
		}
	}
	return out
}
