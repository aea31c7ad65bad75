package tui

import (
	"math"
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// Heat strips: rows of one character a value, for the replay's
// probabilities over the steps, its hidden and cell states, and the
// gradient heatmap. Each value is a level of a ramp of characters, so the
// strips read in plain text (the Ascii profile, a tmux capture) too; in
// colour each level also has a colour of its own.

// ramp shades a value in [0, 1] from nothing to the most (ten levels).
const ramp = " .:-=+*#%@"

// heatColours colour the ramp's levels, dark blue to yellow (ANSI 256).
var heatColours = [len(ramp)]lipgloss.Color{"235", "17", "18", "25", "31", "37", "72", "107", "178", "226"}

// rampLevel is the ramp level of f in [0, 1] (NaN is 0).
func rampLevel(f float64) int {
	if !(f > 0) {
		return 0
	}
	return min(int(f*float64(len(ramp)-1)+0.5), len(ramp)-1)
}

// bars are the eight heights of a signed strip: ▁ is -1, █ is +1, 0 lies
// between ▄ and ▅.
var bars = []rune("▁▂▃▄▅▆▇█")

// barLevel is the height of v in [-1, 1] (clamped; NaN is 0).
func barLevel(v float64) int {
	if math.IsNaN(v) {
		v = 0
	}
	v = math.Max(-1, math.Min(1, v))
	return min(int((v+1)/2*float64(len(bars))), len(bars)-1)
}

// heatStyles are the styles of the heat strips, built on the view's
// renderer.
type heatStyles struct {
	level    [len(ramp)]lipgloss.Style
	neg, pos lipgloss.Style
}

func newHeatStyles(r *lipgloss.Renderer) heatStyles {
	var h heatStyles
	for i, c := range heatColours {
		h.level[i] = r.NewStyle().Foreground(c)
	}
	h.neg = r.NewStyle().Foreground(colBlue)
	h.pos = r.NewStyle().Foreground(colYellow)
	return h
}

// runs renders a line of n cells, cell i showing text(i) in style
// style(i), with one styled run per stretch of cells of the same style.
func styledRuns(n int, text func(i int) string, style func(i int) lipgloss.Style, key func(i int) int) string {
	var b strings.Builder
	for i := 0; i < n; {
		k := key(i)
		j := i
		var run strings.Builder
		for ; j < n && key(j) == k; j++ {
			run.WriteString(text(j))
		}
		b.WriteString(style(i).Render(run.String()))
		i = j
	}
	return b.String()
}

// rampLine draws levels (0..9) as ramp characters, each in its colour.
func (h heatStyles) rampLine(levels []int) string {
	return styledRuns(len(levels),
		func(i int) string { return ramp[levels[i] : levels[i]+1] },
		func(i int) lipgloss.Style { return h.level[levels[i]] },
		func(i int) int { return levels[i] })
}

// signedLine draws values in [-1, 1] as bars of their height, negative
// ones blue and positive ones yellow.
func (h heatStyles) signedLine(vals []float64) string {
	sign := func(i int) int {
		if vals[i] < 0 {
			return 0
		}
		return 1
	}
	return styledRuns(len(vals),
		func(i int) string { return string(bars[barLevel(vals[i])]) },
		func(i int) lipgloss.Style {
			if sign(i) == 0 {
				return h.neg
			}
			return h.pos
		}, sign)
}

// folded draws n values as a signed strip folded into lines of at most w
// cells (as few lines as that allows), each value divided by scale.
func (h heatStyles) folded(vals []float32, scale float64, w int) []string {
	n := len(vals)
	if n == 0 || w <= 0 {
		return nil
	}
	lines := (n + w - 1) / w
	per := (n + lines - 1) / lines
	out := make([]string, 0, lines)
	row := make([]float64, 0, per)
	for i := 0; i < n; i += per {
		row = row[:0]
		for _, v := range vals[i:min(i+per, n)] {
			row = append(row, float64(v)/scale)
		}
		out = append(out, h.signedLine(row))
	}
	return out
}

// maxAbs is the largest magnitude of the values of vs (at least tiny, so
// that it can divide).
func maxAbs(vs ...[]float32) float64 {
	m := 1e-12
	for _, v := range vs {
		for _, x := range v {
			m = math.Max(m, math.Abs(float64(x)))
		}
	}
	return m
}

// sparkline draws vals in [0, 1] as bars of their height (▁ for 0).
func sparkline(vals []float64) string {
	var b strings.Builder
	for _, v := range vals {
		v = math.Max(0, math.Min(1, v))
		b.WriteRune(bars[min(int(v*float64(len(bars))), len(bars)-1)])
	}
	return b.String()
}
