package digit

import (
	"io"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
)

// bar is a digit with a vertical stroke of full ink in columns 10-11 of
// rows 4-23 and a faint pixel at (0,0).
func bar() []uint8 {
	px := make([]uint8, Side*Side)
	for r := 4; r < 24; r++ {
		px[r*Side+10], px[r*Side+11] = 255, 255
	}
	px[0] = 60
	return px
}

func TestShadeSizes(t *testing.T) {
	for _, s := range []Size{Compact, Full, Large, 4} {
		lines := Shade(bar(), s)
		if len(lines) != s.Lines() {
			t.Fatalf("size %d: %d lines, want %d", s, len(lines), s.Lines())
		}
		for i, l := range lines {
			if len(l) != s.Width() {
				t.Fatalf("size %d line %d: width %d, want %d", s, i, len(l), s.Width())
			}
		}
	}
}

func TestShadeFull(t *testing.T) {
	lines := Shade(bar(), Full)
	if got := lines[10][20:24]; got != "@@@@" {
		t.Errorf("stroke row 10 cols 20-23 = %q, want @@@@", got)
	}
	if got := lines[2]; strings.TrimSpace(got) != "" {
		t.Errorf("row 2 should be blank, got %q", got)
	}
	if got := lines[0][:2]; got != "::" { // 60*9/255 = 2 -> ':'
		t.Errorf("faint pixel = %q, want \"::\"", got)
	}
}

// TestShadeLarge checks size 3: each pixel is three columns wide, and the
// lines alternate between showing one pixel row and straddling two.
func TestShadeLarge(t *testing.T) {
	lines := Shade(bar(), Large)
	if len(lines) != 42 || len(lines[0]) != 84 {
		t.Fatalf("size 3: %d lines of %d, want 42 of 84", len(lines), len(lines[0]))
	}
	// Column 10 of the pixels is cells 30-32; column 12 (blank) is 36-38.
	if got := lines[20][30:33]; got != "@@@" {
		t.Errorf("stroke at line 20 = %q, want @@@", got)
	}
	if got := lines[20][36:39]; got != "   " {
		t.Errorf("beside the stroke at line 20 = %q, want blank", got)
	}
	// The stroke starts at pixel row 4: half lines 12-14 show it, so line 5
	// (half lines 10, 11: rows 3, 3) is blank and line 6 (12, 13) is ink.
	// Line 2 (half lines 4, 5: row 1 twice) is blank; the faint pixel at
	// (0,0) covers lines 0 (rows 0, 0) and half of line 1 (rows 0, 1).
	if lines[5][30] != ' ' || lines[6][30] != '@' {
		t.Errorf("stroke's first line misplaced: line 5 %q, line 6 %q", lines[5][30], lines[6][30])
	}
	if lines[0][:3] != ":::" || lines[1][0] != '.' { // 60 -> ':'; (60+0+1)/2 = 30 -> '.'
		t.Errorf("faint pixel: line 0 %q, line 1 %q", lines[0][:3], lines[1][0])
	}
}

func TestFit(t *testing.T) {
	for _, c := range []struct {
		w, h int
		want Size
	}{{28, 14, Compact}, {10, 5, Compact}, {56, 28, Full}, {200, 27, Compact}, {100, 60, Large}, {84, 42, Large}, {112, 56, 4}} {
		if got := Fit(c.w, c.h); got != c.want {
			t.Errorf("Fit(%d, %d) = %d, want %d", c.w, c.h, got, c.want)
		}
	}
}

func TestShadeCompactAverages(t *testing.T) {
	px := make([]uint8, Side*Side)
	px[0] = 255 // row 0 full, row 1 blank: average 128 -> ramp index 4 '='
	lines := Shade(px, Compact)
	if lines[0][0] != '=' {
		t.Errorf("average of 255 and 0 = %q, want '='", lines[0][0])
	}
	// Rows 4-23 of the bar fill compact lines 2-11.
	c := Shade(bar(), Compact)
	if c[1][10] != ' ' || c[2][10] != '@' || c[11][10] != '@' || c[12][10] != ' ' {
		t.Errorf("compact stroke misplaced:\n%s", strings.Join(c, "\n"))
	}
}

func TestHalfBlocks(t *testing.T) {
	colour := NewPainter(renderer(termenv.TrueColor))
	if !colour.Colour() {
		t.Fatal("TrueColor painter reports no colour")
	}
	lines := colour.HalfBlocks(bar(), Compact)
	if len(lines) != Compact.Lines() {
		t.Fatalf("%d lines, want %d", len(lines), Compact.Lines())
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w != Compact.Width() {
			t.Fatalf("line %d is %d wide, want %d", i, w, Compact.Width())
		}
		if !strings.Contains(l, "▀") || !strings.Contains(l, "\x1b[") {
			t.Fatalf("line %d has no coloured half blocks: %q", i, l)
		}
	}
	// Full ink on both halves of line 5, columns 10-11: white on white.
	if !strings.Contains(lines[5], "38;2;255;255;255") || !strings.Contains(lines[5], "48;2;255;255;255") {
		t.Errorf("stroke cell lacks white fg/bg: %q", lines[5])
	}
	full := colour.HalfBlocks(bar(), Full)
	if len(full) != Full.Lines() || ansi.StringWidth(full[0]) != Full.Width() {
		t.Errorf("full size: %d lines of %d, want %d of %d", len(full), ansi.StringWidth(full[0]), Full.Lines(), Full.Width())
	}

	large := colour.HalfBlocks(bar(), Large)
	if len(large) != Large.Lines() || ansi.StringWidth(large[0]) != Large.Width() {
		t.Errorf("large size: %d lines of %d, want %d of %d", len(large), ansi.StringWidth(large[0]), Large.Lines(), Large.Width())
	}
	// Line 6 shows pixel row 4 in both halves: the stroke is white on white.
	if !strings.Contains(large[6], "38;2;255;255;255") || !strings.Contains(large[6], "48;2;255;255;255") {
		t.Errorf("large stroke cell lacks white fg/bg: %q", large[6])
	}

	plain := NewPainter(renderer(termenv.Ascii))
	if plain.Colour() {
		t.Error("Ascii painter reports colour")
	}
	got, want := plain.HalfBlocks(bar(), Full), Shade(bar(), Full)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Error("without colour HalfBlocks should fall back to Shade")
	}
}

func BenchmarkHalfBlocksCompact(b *testing.B) {
	p := NewPainter(renderer(termenv.TrueColor))
	px := bar()
	for b.Loop() {
		_ = p.HalfBlocks(px, Compact)
	}
}

func renderer(p termenv.Profile) *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(p)
	return r
}

// TestMini checks the half-size digit: 7 lines of 14, the stroke in
// columns 10-11 averaged into cell 5 at full ink, blanks elsewhere; in
// colour the same size in half blocks, plain shading without colour.
func TestMini(t *testing.T) {
	lines := Mini(bar())
	if len(lines) != MiniLines || len(lines[0]) != MiniWidth {
		t.Fatalf("%d lines of %d, want %d of %d", len(lines), len(lines[0]), MiniLines, MiniWidth)
	}
	for l := 1; l < 6; l++ { // pixel rows 4-23
		if lines[l][5] != '@' || strings.TrimSpace(lines[l][:5]+lines[l][6:]) != "" {
			t.Errorf("line %d = %q, want the stroke alone in cell 5", l, lines[l])
		}
	}
	if strings.TrimSpace(lines[6]) != "" {
		t.Errorf("line 6 = %q, want blank", lines[6])
	}
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.ANSI256)
	col := NewPainter(r).MiniBlocks(bar())
	if len(col) != MiniLines {
		t.Fatalf("%d lines in colour", len(col))
	}
	for _, l := range col {
		if w := ansi.StringWidth(l); w != MiniWidth {
			t.Errorf("colour line %q is %d wide", l, w)
		}
	}
	r.SetColorProfile(termenv.Ascii)
	if got := NewPainter(r).MiniBlocks(bar()); strings.Join(got, "\n") != strings.Join(lines, "\n") {
		t.Error("without colour MiniBlocks is not Mini")
	}
}
