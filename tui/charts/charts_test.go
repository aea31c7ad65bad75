package charts

import (
	"math"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
)

func TestRenderSize(t *testing.T) {
	ys := make([]float64, 1250)
	for i := range ys {
		ys[i] = 2.3*math.Exp(-float64(i)/300) + 0.1*math.Sin(float64(i))
	}
	for _, ascii := range []bool{false, true} {
		for _, sz := range [][2]int{{56, 12}, {30, 6}, {120, 20}} {
			c := Chart{Width: sz[0], Height: sz[1], ASCII: ascii, Series: []Series{{Y: ys}, {Y: EMA(ys, 0.9), Glyph: 'o'}}}
			out := c.Render()
			lines := strings.Split(out, "\n")
			if len(lines) != sz[1] {
				t.Fatalf("ascii=%v %v: %d lines, want %d", ascii, sz, len(lines), sz[1])
			}
			for i, l := range lines {
				if w := ansi.StringWidth(l); w != sz[0] {
					t.Errorf("ascii=%v %v: line %d is %d wide, want %d: %q", ascii, sz, i, w, sz[0], l)
				}
			}
			if ascii && strings.ContainsAny(out, "\u2801\u2880") {
				t.Errorf("ASCII chart contains Braille")
			}
		}
	}
}

func TestRenderPlacesExtremes(t *testing.T) {
	// A rising line in ASCII mode: the first value bottom-left, the last top-right.
	c := Chart{Width: 17, Height: 6, ASCII: true, Series: []Series{{Y: []float64{0, 1, 2, 3}, Glyph: '#'}}}
	lines := strings.Split(c.Render(), "\n")
	plotTop, plotBottom := lines[0], lines[3]
	if plotTop[len(plotTop)-1] != '#' {
		t.Errorf("top row %q should end with the last point", plotTop)
	}
	if plotBottom[yLabelWidth+1] != '#' {
		t.Errorf("bottom row %q should start with the first point", plotBottom)
	}
	if !strings.HasPrefix(strings.TrimSpace(lines[0]), "3") || !strings.HasPrefix(strings.TrimSpace(lines[3]), "0") {
		t.Errorf("y labels wrong:\n%s", strings.Join(lines, "\n"))
	}
}

func TestEMA(t *testing.T) {
	got := EMA([]float64{1, 1, 1}, 0.9)
	for i, v := range got {
		if math.Abs(v-1) > 1e-12 {
			t.Errorf("EMA of constants [%d] = %v, want 1 (debiased)", i, v)
		}
	}
	got = EMA([]float64{0, 10}, 0.5)
	// acc: 0, then 5; weight: .5, .75 -> 0, 6.666...
	if math.Abs(got[1]-20.0/3) > 1e-12 {
		t.Errorf("EMA[1] = %v, want %v", got[1], 20.0/3)
	}
	if raw := EMA([]float64{3, 4}, 0); raw[0] != 3 || raw[1] != 4 {
		t.Errorf("EMA alpha 0 = %v, want the input", raw)
	}
}

func TestPenMatchesStyle(t *testing.T) {
	s := lipgloss.NewStyle().Bold(true)
	p := newPen(s)
	var b strings.Builder
	p.paint(&b, "abc")
	if b.String() != s.Render("abc") {
		t.Errorf("pen painted %q, style renders %q", b.String(), s.Render("abc"))
	}
}

func BenchmarkRender1250(b *testing.B) {
	ys := make([]float64, 1250)
	for i := range ys {
		ys[i] = 2.3*math.Exp(-float64(i)/300) + 0.1*math.Sin(float64(i))
	}
	ema := EMA(ys, 0.9)
	c := Chart{Width: 56, Height: 12, Series: []Series{{Y: ys}, {Y: ema}}}
	for b.Loop() {
		_ = c.Render()
	}
}

func TestBrailleBits(t *testing.T) {
	// Unicode's dot numbering: dots 1-3 and 7 down the left column, 4-6 and
	// 8 down the right one; dot n is bit n-1.
	want := [4][2]uint8{{0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20}, {0x40, 0x80}}
	for r := range 4 {
		for c := range 2 {
			if got := brailleBit(r, c); got != want[r][c] {
				t.Errorf("brailleBit(%d, %d) = %#x, want %#x", r, c, got, want[r][c])
			}
		}
	}
}

func TestEmptyMessage(t *testing.T) {
	c := Chart{Width: 30, Height: 8, Empty: "no data yet"}
	lines := strings.Split(c.Render(), "\n")
	if len(lines) != 8 || !strings.Contains(lines[3], "no data yet") {
		t.Fatalf("empty chart:\n%s", strings.Join(lines, "\n"))
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w != 30 {
			t.Errorf("line %d is %d wide", i, w)
		}
	}
	c.Series = []Series{{Y: []float64{1, 2}}}
	if strings.Contains(c.Render(), "no data yet") {
		t.Error("message drawn over data")
	}
}

// TestSeveralSeriesMarkers: series of many points drawn in Braille without
// colour keep their own markers along their lines (MarkEvery), at least
// MarkEvery columns apart and from MarkFrom on; a marker stays on top of a
// line drawn after it, in its own series' style; the legend shows each
// series' marker; plain characters draw each series with its glyph.
func TestSeveralSeriesMarkers(t *testing.T) {
	n := 400
	a, b := make([]float64, n), make([]float64, n)
	for i := range n {
		a[i] = 2 * math.Exp(-float64(i)/100)
		b[i] = 1 + 0.5*math.Exp(-float64(i)/50)
	}
	series := []Series{{Name: "RNN", Y: a, Glyph: '*', MarkEvery: 8}, {Name: "LSTM", Y: b, Glyph: 'o', MarkEvery: 8, MarkFrom: 3}}
	c := Chart{Width: 60, Height: 12, Series: series}
	lines := strings.Split(c.Render(), "\n")
	cols := map[rune][]int{}
	for _, l := range lines[:10] {
		for x, r := range []rune(l) {
			if x > yLabelWidth && (r == '*' || r == 'o') {
				cols[r] = append(cols[r], x-yLabelWidth-1)
			}
		}
	}
	for _, g := range []rune{'*', 'o'} {
		xs := cols[g]
		if len(xs) < 5 {
			t.Fatalf("marker %q drawn %d times on a 53-column plot", g, len(xs))
		}
		seen := map[int]bool{}
		for _, x := range xs {
			seen[x] = true
		}
		prev := -100
		for x := range 60 {
			if seen[x] {
				if x-prev < 8 {
					t.Errorf("marker %q at columns %d and %d, closer than 8", g, prev, x)
				}
				prev = x
			}
		}
	}
	if minCol(cols['o']) < 3 {
		t.Errorf("the second series' first marker is at column %d, before its MarkFrom 3", minCol(cols['o']))
	}
	if l := Legend(false, series...); !strings.Contains(l, "─* RNN") || !strings.Contains(l, "─o LSTM") {
		t.Errorf("legend %q lacks the markers", l)
	}
	plain := c
	plain.ASCII = true
	out := plain.Render()
	if strings.Count(out, "*") < 20 || strings.Count(out, "o") < 20 {
		t.Errorf("plain characters do not draw each series with its glyph:\n%s", out)
	}
	// Without MarkEvery a Braille line has no markers.
	series[0].MarkEvery, series[1].MarkEvery = 0, 0
	if out := (Chart{Width: 60, Height: 12, Series: series}).Render(); strings.ContainsAny(out, "*o") {
		t.Errorf("markers without MarkEvery:\n%s", out)
	}
}

// TestMarkerStaysOnTop: a line drawn after a marker does not take the
// marker's cell: the cell keeps the marker in its series' style.
func TestMarkerStaysOnTop(t *testing.T) {
	r := lipgloss.NewRenderer(nil)
	r.SetColorProfile(termenv.ANSI256)
	red, blue := r.NewStyle().Foreground(lipgloss.Color("1")), r.NewStyle().Foreground(lipgloss.Color("4"))
	c := Chart{Width: 30, Height: 8, YFixed: true, YMin: 0, YMax: 1, XFixed: true, XMin: 0, XMax: 2, Series: []Series{
		{Y: []float64{0.5, 0.5, 0.5}, Glyph: 'x', Marker: true, Style: red},
		{Y: []float64{0.5, 0.5, 0.5}, Style: blue},
	}}
	out := c.Render()
	redPre := newPen(red).pre
	if redPre == "" {
		t.Fatal("the red style has no escape sequence")
	}
	// Each x must be painted by the red pen: the last escape sequence
	// before it is red's.
	last, marks := "", 0
	for i := 0; i < len(out); i++ {
		switch {
		case out[i] == 0x1b:
			j := strings.IndexByte(out[i:], 'm')
			last = out[i : i+j+1]
			i += j
		case out[i] == 'x':
			marks++
			if last != redPre {
				t.Errorf("a marker is painted %q, not red %q", last, redPre)
			}
		}
	}
	if marks != 3 {
		t.Errorf("%d markers, want 3:\n%q", marks, out)
	}
}

func minCol(xs []int) int {
	m := 1 << 30
	for _, x := range xs {
		m = min(m, x)
	}
	return m
}

// benchSeries is n series of 1,250 points (a full default run's batches).
func benchSeries(n int) []Series {
	out := make([]Series, n)
	for s := range n {
		ys := make([]float64, 1250)
		for i := range ys {
			ys[i] = 2.3*math.Exp(-float64(i)/float64(300+40*s)) + 0.1*math.Sin(float64(i+s))
		}
		out[s] = Series{Name: "run", Y: ys, Glyph: rune('a' + s), MarkEvery: 8, MarkFrom: s}
	}
	return out
}

// BenchmarkRenderEightRuns draws a 56x12 chart of eight runs of 1,250
// points each, with markers along the lines (a comparison without colour).
func BenchmarkRenderEightRuns(b *testing.B) {
	c := Chart{Width: 56, Height: 12, Series: benchSeries(8)}
	for b.Loop() {
		_ = c.Render()
	}
}
