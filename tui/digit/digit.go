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

// Size chooses how large a digit is drawn.
type Size int

const (
	// Compact draws two pixel rows per line: 14 lines of 28 columns.
	Compact Size = iota
	// Full draws one pixel row per line, two columns per pixel: 28 lines of
	// 56 columns.
	Full
)

// Lines reports how many lines a digit of size s takes.
func (s Size) Lines() int {
	if s == Full {
		return Side
	}
	return Side / 2
}

// Width reports how many columns a digit of size s takes.
func (s Size) Width() int {
	if s == Full {
		return 2 * Side
	}
	return Side
}

// shade maps a pixel value to a ramp character.
func shade(v int) byte { return Ramp[v*(len(Ramp)-1)/255] }

// Shade draws px (Side*Side pixels, row-major) with the ASCII ramp. In
// Compact size each character shows the average of two vertically adjacent
// pixels. A slice of the wrong length draws a blank digit.
func Shade(px []uint8, s Size) []string {
	if len(px) != Side*Side {
		px = make([]uint8, Side*Side)
	}
	out := make([]string, 0, s.Lines())
	buf := make([]byte, 0, s.Width())
	if s == Full {
		for r := 0; r < Side; r++ {
			buf = buf[:0]
			for c := 0; c < Side; c++ {
				ch := shade(int(px[r*Side+c]))
				buf = append(buf, ch, ch)
			}
			out = append(out, string(buf))
		}
		return out
	}
	for r := 0; r < Side; r += 2 {
		buf = buf[:0]
		for c := 0; c < Side; c++ {
			avg := (int(px[r*Side+c]) + int(px[(r+1)*Side+c]) + 1) / 2
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
	pens   [levels][levels]pen // fg top level, bg bottom level
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

func (p *Painter) pen(top, bottom int) pen {
	if c := p.pens[top][bottom]; c.ok {
		return c
	}
	const mark = "\x01"
	r := p.r.NewStyle().Foreground(grey(top)).Background(grey(bottom)).Render(mark)
	c := pen{ok: true}
	if i := strings.Index(r, mark); i >= 0 {
		c.pre, c.post = r[:i], r[i+len(mark):]
	}
	p.pens[top][bottom] = c
	return c
}

func level(v uint8) int { return int(v) * (levels - 1) / 255 }

// HalfBlocks draws px as coloured half blocks: in Compact size each cell shows
// two pixel rows (▀ with the upper one as foreground, the lower one as
// background); in Full size each pixel is two cells of its own grey. Without
// colour it draws Shade instead.
func (p *Painter) HalfBlocks(px []uint8, s Size) []string {
	if !p.colour {
		return Shade(px, s)
	}
	if len(px) != Side*Side {
		px = make([]uint8, Side*Side)
	}
	out := make([]string, 0, s.Lines())
	var b strings.Builder
	// line writes one line of cells given each cell's two levels, merging
	// runs of equal cells under one escape sequence.
	line := func(top, bottom func(c int) int, repeat int) {
		b.Reset()
		for c := 0; c < Side; {
			t, u := top(c), bottom(c)
			n := 1
			for c+n < Side && top(c+n) == t && bottom(c+n) == u {
				n++
			}
			pn := p.pen(t, u)
			b.WriteString(pn.pre)
			b.WriteString(strings.Repeat("▀", n*repeat))
			b.WriteString(pn.post)
			c += n
		}
		out = append(out, b.String())
	}
	if s == Full {
		for r := 0; r < Side; r++ {
			lv := func(c int) int { return level(px[r*Side+c]) }
			line(lv, lv, 2)
		}
		return out
	}
	for r := 0; r < Side; r += 2 {
		line(func(c int) int { return level(px[r*Side+c]) }, func(c int) int { return level(px[(r+1)*Side+c]) }, 1)
	}
	return out
}
