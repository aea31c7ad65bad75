package digit

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Side is the width and height of a digit in pixels.
const Side = 28

// Ramp is the ASCII shading ramp, from blank to full ink.
const Ramp = " .:-=+*#%@"

// Size chooses how large a digit is drawn: the number of columns each pixel
// takes. A pixel is as tall as it is wide (a terminal cell is about twice as
// tall as it is wide), so a digit of size k is 28k columns by 14k lines.
// Any size from 1 up may be used; the constants name the common ones.
type Size int

const (
	// Compact draws two pixel rows per line: 14 lines of 28 columns.
	Compact Size = 1
	// Full draws one pixel row per line, two columns per pixel: 28 lines of
	// 56 columns.
	Full Size = 2
	// Large draws three columns per pixel: 42 lines of 84 columns, for
	// terminals of about 200x60.
	Large Size = 3
)

// Fit returns the largest size, at least Compact, whose digit fits in w
// columns and h lines.
func Fit(w, h int) Size {
	return Size(max(min(w/Side, 2*h/Side), 1))
}

// scale is s as a positive factor.
func (s Size) scale() int { return max(int(s), 1) }

// Lines reports how many lines a digit of size s takes.
func (s Size) Lines() int { return Side * s.scale() / 2 }

// Width reports how many columns a digit of size s takes.
func (s Size) Width() int { return Side * s.scale() }

// Each line of a digit of size k covers two half lines; half line u shows
// pixel row u/k, and column c shows pixel column c/k. Size 1 folds two
// pixel rows into a line, size 2 gives each pixel two cells of one line,
// and larger sizes repeat rows and columns.

// Rows returns the pixel rows that line l's upper and lower halves show.
func (s Size) Rows(l int) (top, bottom int) {
	k := s.scale()
	return 2 * l / k, (2*l + 1) / k
}

// shade maps a pixel value to a ramp character.
func shade(v int) byte { return Ramp[v*(len(Ramp)-1)/255] }

// Shade draws px (Side*Side pixels, row-major) with the ASCII ramp. Each
// character shows the average of the pixels its two half lines cover (two
// vertically adjacent pixels in Compact size). A slice of the wrong length
// draws a blank digit.
func Shade(px []uint8, s Size) []string {
	if len(px) != Side*Side {
		px = make([]uint8, Side*Side)
	}
	k := s.scale()
	out := make([]string, 0, s.Lines())
	buf := make([]byte, 0, s.Width())
	for l := 0; l < s.Lines(); l++ {
		top, bottom := s.Rows(l)
		buf = buf[:0]
		for c := 0; c < s.Width(); c++ {
			x := c / k
			avg := (int(px[top*Side+x]) + int(px[bottom*Side+x]) + 1) / 2
			buf = append(buf, shade(avg))
		}
		out = append(out, string(buf))
	}
	return out
}

// levels is how many grey levels the half-block mode distinguishes.
const levels = 16

// Painter draws digits in colour for one renderer's colour profile. It caches
// the escape sequences of every pair of grey levels and writes one sequence
// per run of equal cells, so drawing a digit costs no styling calls and
// little output (it may travel over SSH). A Painter is not safe for
// concurrent use.
type Painter struct {
	r      *lipgloss.Renderer
	colour bool
	// pens are indexed by colour: 0..levels-1 the greys, then the heat
	// colours of an overlay; fg the top pixel's, bg the bottom one's.
	pens [levels + heatLevels][levels + heatLevels]pen
}

// pen holds the escape sequences around a styled text.
type pen struct {
	pre, post string
	ok        bool
}

// NewPainter returns a Painter for r's colour profile (the default renderer
// when r is nil).
func NewPainter(r *lipgloss.Renderer) *Painter {
	if r == nil {
		r = lipgloss.DefaultRenderer()
	}
	return &Painter{r: r, colour: r.ColorProfile() != termenv.Ascii}
}

// Colour reports whether the profile shows colour at all; without it
// HalfBlocks falls back to Shade.
func (p *Painter) Colour() bool { return p.colour }

func grey(level int) lipgloss.Color {
	v := level * 255 / (levels - 1)
	return lipgloss.Color(fmt.Sprintf("#%02x%02x%02x", v, v, v))
}

// colourOf is colour index i: a grey level, or a heat level after them.
func colourOf(i int) lipgloss.Color {
	if i >= levels {
		return heatColours[i-levels]
	}
	return grey(i)
}

func (p *Painter) pen(top, bottom int) pen {
	if c := p.pens[top][bottom]; c.ok {
		return c
	}
	const mark = "\x01"
	r := p.r.NewStyle().Foreground(colourOf(top)).Background(colourOf(bottom)).Render(mark)
	c := pen{ok: true}
	if i := strings.Index(r, mark); i >= 0 {
		c.pre, c.post = r[:i], r[i+len(mark):]
	}
	p.pens[top][bottom] = c
	return c
}

func level(v uint8) int { return int(v) * (levels - 1) / 255 }

// HalfBlocks draws px as coloured half blocks: each cell is a ▀ whose
// foreground is the pixel of its upper half line and whose background is
// the pixel of its lower one (in Compact size two pixel rows per line; in
// Full size each pixel is two cells of its own grey). Without colour it
// draws Shade instead.
func (p *Painter) HalfBlocks(px []uint8, s Size) []string {
	if !p.colour {
		return Shade(px, s)
	}
	if len(px) != Side*Side {
		px = make([]uint8, Side*Side)
	}
	return p.blocks(func(i int) int { return level(px[i]) }, s)
}

// blocks draws half blocks whose pixel i has colour index colour(i).
func (p *Painter) blocks(colour func(i int) int, s Size) []string {
	k := s.scale()
	out := make([]string, 0, s.Lines())
	var b strings.Builder
	for l := 0; l < s.Lines(); l++ {
		top, bottom := s.Rows(l)
		b.Reset()
		// One escape sequence per run of equal pixel pairs.
		for x := 0; x < Side; {
			t, u := colour(top*Side+x), colour(bottom*Side+x)
			n := 1
			for x+n < Side && colour(top*Side+x+n) == t && colour(bottom*Side+x+n) == u {
				n++
			}
			pn := p.pen(t, u)
			b.WriteString(pn.pre)
			b.WriteString(strings.Repeat("▀", n*k))
			b.WriteString(pn.post)
			x += n
		}
		out = append(out, b.String())
	}
	return out
}

// MiniWidth and MiniLines are the size of a mini digit (Mini,
// Painter.MiniBlocks): half a Compact digit each way, for galleries.
const (
	MiniWidth = Side / 2
	MiniLines = Side / 4
)

// avg is the rounded mean of the pixels of px in rows [r0, r0+h) and
// columns [c0, c0+w).
func avg(px []uint8, r0, c0, h, w int) int {
	sum := 0
	for r := r0; r < r0+h; r++ {
		for c := c0; c < c0+w; c++ {
			sum += int(px[r*Side+c])
		}
	}
	n := h * w
	return (sum + n/2) / n
}

// Mini draws px with the ASCII ramp at half the Compact size: MiniLines
// lines of MiniWidth characters, each the average of 2 pixel columns by 4
// pixel rows (a cell is about twice as tall as it is wide). A slice of the
// wrong length draws a blank digit.
func Mini(px []uint8) []string {
	if len(px) != Side*Side {
		px = make([]uint8, Side*Side)
	}
	out := make([]string, MiniLines)
	buf := make([]byte, MiniWidth)
	for l := range MiniLines {
		for c := range MiniWidth {
			buf[c] = shade(avg(px, 4*l, 2*c, 4, 2))
		}
		out[l] = string(buf)
	}
	return out
}

// MiniBlocks draws px as coloured half blocks at the size of Mini: each
// cell's upper half is the average of a 2x2 block of pixels, its lower
// half the 2x2 block below. Without colour it draws Mini instead.
func (p *Painter) MiniBlocks(px []uint8) []string {
	if !p.colour {
		return Mini(px)
	}
	if len(px) != Side*Side {
		px = make([]uint8, Side*Side)
	}
	out := make([]string, MiniLines)
	var b strings.Builder
	for l := range MiniLines {
		b.Reset()
		lv := func(c int) (int, int) {
			return avg(px, 4*l, 2*c, 2, 2) * (levels - 1) / 255, avg(px, 4*l+2, 2*c, 2, 2) * (levels - 1) / 255
		}
		for c := 0; c < MiniWidth; {
			t, u := lv(c)
			n := 1
			for c+n < MiniWidth {
				t2, u2 := lv(c + n)
				if t2 != t || u2 != u {
					break
				}
				n++
			}
			pn := p.pen(t, u)
			b.WriteString(pn.pre)
			b.WriteString(strings.Repeat("▀", n))
			b.WriteString(pn.post)
			c += n
		}
		out[l] = b.String()
	}
	return out
}
