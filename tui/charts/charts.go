package charts

import (
	"math"
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// Series is one line of a Chart.
type Series struct {
	// Name labels the series in the legend.
	Name string
	// Y holds the values; X their positions. When X is nil the i-th value sits
	// at x = i.
	X, Y []float64
	// Style colours the series' dots or glyphs.
	Style lipgloss.Style
	// Glyph draws the series in plain-character mode ('*' when zero).
	Glyph rune
	// Marker also draws Glyph at every data point in Braille mode, for series
	// with only a few points (per-epoch values) that a line alone would hide.
	Marker bool
	// MarkEvery, when positive, draws Glyph along the line in Braille mode,
	// in a cell every MarkEvery columns of the plot, from column MarkFrom
	// on: series of many points that only colour would tell apart, drawn
	// without colour (NO_COLOR), keep their markers.
	MarkEvery, MarkFrom int
}

// Chart is a line chart with a y axis on the left and an x axis below.
// Its zero value draws nothing; set Width and Height.
type Chart struct {
	// Width and Height are the chart's size in cells, labels included.
	Width, Height int
	// Series are drawn in order: a later series covers an earlier one.
	Series []Series
	// ASCII draws with plain characters instead of Braille dots.
	ASCII bool
	// YMin and YMax fix the y range when YFixed is set; otherwise the range
	// spans the data.
	YMin, YMax float64
	YFixed     bool
	// XMin and XMax fix the x range when XFixed is set; otherwise it spans
	// the data.
	XMin, XMax float64
	XFixed     bool
	// XLabel names the x axis (centred below it).
	XLabel string
	// Axis and Label style the axis lines and the numbers.
	Axis, Label lipgloss.Style
	// Empty is written in the middle of the plot while there is no data.
	Empty string
}

// yLabelWidth is the width of the y axis' numbers.
const yLabelWidth = 6

// pen holds the escape sequences a style wraps text in, so runs of cells can
// be painted without calling lipgloss for each one.
type pen struct{ pre, post string }

func newPen(s lipgloss.Style) pen {
	const mark = "\x01"
	r := s.Render(mark)
	i := strings.Index(r, mark)
	if i < 0 {
		return pen{}
	}
	return pen{pre: r[:i], post: r[i+len(mark):]}
}

func (p pen) paint(b *strings.Builder, text string) {
	b.WriteString(p.pre)
	b.WriteString(text)
	b.WriteString(p.post)
}

// brailleBit is the bit of the dot at row (0-3) and column (0-1) of a
// Braille cell.
func brailleBit(row, col int) uint8 {
	if row == 3 {
		return 0x40 << col
	}
	return 1 << (row + 3*col)
}

// Render draws the chart as Height lines of Width cells. A chart too small to
// hold a plot draws blank lines.
func (c Chart) Render() string {
	w, h := c.Width, c.Height
	if w <= 0 || h <= 0 {
		return ""
	}
	pw, ph := w-yLabelWidth-1, h-2
	if pw < 4 || ph < 2 {
		return strings.TrimSuffix(strings.Repeat(strings.Repeat(" ", w)+"\n", h), "\n")
	}
	xmin, xmax, ymin, ymax, ok := c.ranges()

	// Dot grid: in Braille mode 2x4 dots per cell, in ASCII mode one per cell.
	dx, dy := 2, 4
	if c.ASCII {
		dx, dy = 1, 1
	}
	gw, gh := pw*dx, ph*dy
	bits := make([]uint8, pw*ph)  // Braille bits per cell
	owner := make([]int8, pw*ph)  // which series last touched a cell (-1 none)
	glyphs := make([]rune, pw*ph) // ASCII glyph or marker per cell
	for i := range owner {
		owner[i] = -1
	}
	set := func(si int, gx, gy int) {
		if gx < 0 || gy < 0 || gx >= gw || gy >= gh {
			return
		}
		cx, cy := gx/dx, gy/dy
		k := cy*pw + cx
		if !c.ASCII && glyphs[k] != 0 {
			return // a marker stays on top, in its series' colour
		}
		owner[k] = int8(si)
		if c.ASCII {
			g := c.Series[si].Glyph
			if g == 0 {
				g = '*'
			}
			glyphs[k] = g
			return
		}
		bits[k] |= brailleBit(gy%4, gx%2)
	}
	if ok {
		sx := float64(gw-1) / (xmax - xmin)
		sy := float64(gh-1) / (ymax - ymin)
		for si, s := range c.Series {
			first := true
			var px, py int
			marks := s.MarkEvery > 0 && !c.ASCII && s.Glyph != 0
			lastMark := s.MarkFrom - s.MarkEvery
			for i, y := range s.Y {
				if math.IsNaN(y) || math.IsInf(y, 0) {
					first = true
					continue
				}
				x := float64(i)
				if s.X != nil {
					if i >= len(s.X) {
						break
					}
					x = s.X[i]
				}
				gx := int(math.Round((x - xmin) * sx))
				gy := int(math.Round((ymax - clamp(y, ymin, ymax)) * sy))
				if first {
					set(si, gx, gy)
				} else if gx != px || gy != py {
					line(px, py, gx, gy, func(x, y int) { set(si, x, y) })
				}
				if s.Marker && !c.ASCII && s.Glyph != 0 {
					cx, cy := gx/dx, gy/dy
					if cx >= 0 && cy >= 0 && cx < pw && cy < ph {
						glyphs[cy*pw+cx] = s.Glyph
						owner[cy*pw+cx] = int8(si)
					}
				}
				if cx, cy := gx/dx, gy/dy; marks && cx >= lastMark+s.MarkEvery && cx >= 0 && cy >= 0 && cx < pw && cy < ph {
					glyphs[cy*pw+cx] = s.Glyph
					owner[cy*pw+cx] = int8(si)
					lastMark = cx
				}
				px, py, first = gx, gy, false
			}
		}
	}

	pens := make([]pen, len(c.Series))
	for i, s := range c.Series {
		pens[i] = newPen(s.Style)
	}
	axis, label := newPen(c.Axis), newPen(c.Label)
	vbar, corner, hbar, tick := "│", "└", "─", "┤"
	if c.ASCII {
		vbar, corner, hbar, tick = "|", "+", "-", "+"
	}

	var b strings.Builder
	b.Grow(w * h * 4)
	var run strings.Builder
	for row := 0; row < ph; row++ {
		// y label on the top, middle and bottom rows.
		lbl := ""
		if ok && (row == 0 || row == ph-1 || row == ph/2) {
			v := ymax - (ymax-ymin)*float64(row)/float64(ph-1)
			lbl = formatNum(v, ymax-ymin)
		}
		label.paint(&b, padLeft(lbl, yLabelWidth))
		if lbl != "" {
			axis.paint(&b, tick)
		} else {
			axis.paint(&b, vbar)
		}
		if !ok && c.Empty != "" && row == ph/2 {
			msg := ansi.Truncate(c.Empty, pw, "…")
			left := (pw - ansi.StringWidth(msg)) / 2
			label.paint(&b, padRight(strings.Repeat(" ", left)+msg, pw))
			b.WriteByte('\n')
			continue
		}
		cur := int8(-2)
		flush := func() {
			if run.Len() == 0 {
				return
			}
			if cur >= 0 {
				pens[cur].paint(&b, run.String())
			} else {
				b.WriteString(run.String())
			}
			run.Reset()
		}
		for col := 0; col < pw; col++ {
			k := row*pw + col
			o := owner[k]
			if o != cur {
				flush()
				cur = o
			}
			switch {
			case o < 0:
				run.WriteByte(' ')
			case glyphs[k] != 0:
				run.WriteRune(glyphs[k])
			default:
				run.WriteRune(rune(0x2800) + rune(bits[k]))
			}
		}
		flush()
		b.WriteByte('\n')
	}
	// x axis and its labels.
	b.WriteString(strings.Repeat(" ", yLabelWidth))
	axis.paint(&b, corner+strings.Repeat(hbar, pw))
	b.WriteByte('\n')
	left, right := "", ""
	if ok {
		left, right = formatNum(xmin, xmax-xmin), formatNum(xmax, xmax-xmin)
	}
	lw, rw, nw := ansi.StringWidth(left), ansi.StringWidth(right), ansi.StringWidth(c.XLabel)
	gap := pw + 1 - lw - rw
	var bottom string
	if gap >= nw+2 {
		l := (gap - nw) / 2
		bottom = left + strings.Repeat(" ", l) + c.XLabel + strings.Repeat(" ", gap-nw-l) + right
	} else if gap >= 1 {
		bottom = left + strings.Repeat(" ", gap) + right
	}
	b.WriteString(strings.Repeat(" ", yLabelWidth))
	label.paint(&b, padRight(bottom, pw+1))
	return b.String()
}

// ranges finds the axes' ranges; ok is false when there is nothing to draw.
func (c Chart) ranges() (xmin, xmax, ymin, ymax float64, ok bool) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	for _, s := range c.Series {
		for i, y := range s.Y {
			if math.IsNaN(y) || math.IsInf(y, 0) {
				continue
			}
			x := float64(i)
			if s.X != nil {
				if i >= len(s.X) {
					break
				}
				x = s.X[i]
			}
			xmin, xmax = math.Min(xmin, x), math.Max(xmax, x)
			ymin, ymax = math.Min(ymin, y), math.Max(ymax, y)
		}
	}
	if c.XFixed {
		xmin, xmax = c.XMin, c.XMax
	}
	if c.YFixed {
		ymin, ymax = c.YMin, c.YMax
	}
	if math.IsInf(xmin, 0) || math.IsInf(ymin, 0) || math.IsInf(xmax, 0) || math.IsInf(ymax, 0) {
		return 0, 1, 0, 1, false
	}
	if xmax <= xmin {
		xmax = xmin + 1
	}
	if ymax <= ymin {
		pad := math.Max(math.Abs(ymin)*0.05, 0.05)
		ymin, ymax = ymin-pad, ymax+pad
	}
	return xmin, xmax, ymin, ymax, true
}

// line calls plot for every point of a Bresenham line from (x0,y0) to
// (x1,y1), the first point excluded.
func line(x0, y0, x1, y1 int, plot func(x, y int)) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := 1, 1
	if x0 > x1 {
		sx = -1
	}
	if y0 > y1 {
		sy = -1
	}
	err := dx + dy
	for x0 != x1 || y0 != y1 {
		e2 := 2 * err
		if e2 >= dy {
			err += dy
			x0 += sx
		}
		if e2 <= dx {
			err += dx
			y0 += sy
		}
		plot(x0, y0)
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

// formatNum prints v with as many decimals as a range of span needs.
func formatNum(v, span float64) string {
	switch {
	case span >= 100 || v == math.Trunc(v) && span >= 2:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case span >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case span >= 0.5:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}

func padLeft(s string, w int) string {
	if n := ansi.StringWidth(s); n < w {
		return strings.Repeat(" ", w-n) + s
	}
	return ansi.Truncate(s, w, "")
}

func padRight(s string, w int) string {
	if n := ansi.StringWidth(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return ansi.Truncate(s, w, "")
}

// Legend renders "name" labels each preceded by its series' glyph or a line
// sample, in the series' styles, separated by two spaces.
func Legend(ascii bool, series ...Series) string {
	parts := make([]string, 0, len(series))
	for _, s := range series {
		if s.Name == "" {
			continue
		}
		mark := "──"
		if ascii {
			g := s.Glyph
			if g == 0 {
				g = '*'
			}
			mark = string([]rune{g, g})
		} else if (s.Marker || s.MarkEvery > 0) && s.Glyph != 0 {
			mark = "─" + string(s.Glyph)
		}
		parts = append(parts, s.Style.Render(mark+" "+s.Name))
	}
	return strings.Join(parts, "  ")
}

// EMA returns the exponential moving average of ys with smoothing alpha in
// [0, 1), debiased as TensorBoard does so the first values are not pulled
// towards zero. alpha 0 returns a copy of ys.
func EMA(ys []float64, alpha float64) []float64 {
	out := make([]float64, len(ys))
	var acc, weight float64
	for i, y := range ys {
		acc = alpha*acc + (1-alpha)*y
		weight = alpha*weight + (1 - alpha)
		out[i] = acc / weight
	}
	return out
}
