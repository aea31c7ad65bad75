package digit

import (
	"strings"
	"testing"

	"github.com/muesli/termenv"
)

// TestOverlay: heat replaces the shading where it reaches 0.2, in four
// levels; nil heat draws the plain digit; the colour overlay paints hot
// pixels in the heat colours.
func TestOverlay(t *testing.T) {
	heat := make([]float32, Side*Side)
	heat[10*Side+10] = 1    // on the stroke
	heat[10*Side+20] = 0.25 // beside it
	heat[12*Side+20] = 0.1  // too faint to show
	lines := Overlay(bar(), heat, Full)
	if got := lines[11][20:24]; got != "@@@@" {
		t.Errorf("cold stroke %q, want @@@@", got)
	}
	row := []rune(lines[10])
	if string(row[20:24]) != "██@@" || string(row[40:42]) != "░░" {
		t.Errorf("hot stroke %q and neighbour %q, want ██@@ and ░░", string(row[20:24]), string(row[40:42]))
	}
	if strings.ContainsAny(lines[12], HeatRamp) {
		t.Errorf("heat under 0.2 shows: %q", lines[12])
	}
	if got, want := strings.Join(Overlay(bar(), nil, Compact), "\n"), strings.Join(Shade(bar(), Compact), "\n"); got != want {
		t.Error("Overlay without heat differs from Shade")
	}
	colour := NewPainter(renderer(termenv.TrueColor))
	c := colour.OverlayBlocks(bar(), heat, Full)
	if !strings.Contains(c[10], "38;2;250;219;20") { // #fadb14, the hottest
		t.Errorf("hot pixel not in the hottest colour: %q", c[10])
	}
	if strings.Contains(strings.Join(colour.HalfBlocks(bar(), Full), ""), "250;219;20") {
		t.Error("the plain digit uses a heat colour")
	}
}

func TestFaint(t *testing.T) {
	px := Faint(bar(), 10)
	if px[4*Side+10] != 255 || px[9*Side+10] != 255 || px[10*Side+10] != 85 || px[23*Side+11] != 85 {
		t.Errorf("rows before 10 must stay, the others be a third: %d %d %d %d", px[4*Side+10], px[9*Side+10], px[10*Side+10], px[23*Side+11])
	}
	if b := bar(); b[10*Side+10] != 255 {
		t.Error("Faint changed its input")
	}
}
