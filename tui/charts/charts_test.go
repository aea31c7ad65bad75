package charts

import (
	"math"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
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
