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
	for _, s := range []Size{Compact, Full} {
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
