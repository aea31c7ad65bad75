package digit

import "github.com/charmbracelet/lipgloss"

// HeatRamp shades an overlay's heat, from a little to the most.
const HeatRamp = "░▒▓█"

// heatLevels is how many levels of heat an overlay shows, and heatMin the
// least heat it shows at all: below it the digit shows through.
const (
	heatLevels = len(HeatRamp) / len("░")
	heatMin    = 0.2
)

// heatColours are the overlay's colours, from dark red to yellow.
var heatColours = [heatLevels]lipgloss.Color{"#a8071a", "#e8590c", "#fa8c16", "#fadb14"}

// heatLevel is the overlay level of heat h in [0, 1], -1 below heatMin.
func heatLevel(h float32) int {
	if !(h >= heatMin) {
		return -1
	}
	return min(int((h-heatMin)/(1-heatMin)*float32(heatLevels)), heatLevels-1)
}

// Overlay draws px with the ASCII ramp, as Shade does, and heat over it
// (Side*Side values in [0, 1], such as a saliency map; nil or another
// length draws Shade): a character whose pixels' hottest reaches 0.2
// shows that heat as a block of HeatRamp instead of the digit's shade.
func Overlay(px []uint8, heat []float32, s Size) []string {
	out := Shade(px, s)
	if len(heat) != Side*Side {
		return out
	}
	k := s.scale()
	ramp := []rune(HeatRamp)
	for l := range out {
		top, bottom := s.Rows(l)
		line := []rune(out[l])
		for c := range line {
			x := c / k
			if lv := heatLevel(max(heat[top*Side+x], heat[bottom*Side+x])); lv >= 0 {
				line[c] = ramp[lv]
			}
		}
		out[l] = string(line)
	}
	return out
}

// OverlayBlocks is HalfBlocks with heat over it (as for Overlay): a pixel
// whose heat reaches 0.2 takes a colour from dark red to yellow instead of
// its grey. Without colour it draws Overlay.
func (p *Painter) OverlayBlocks(px []uint8, heat []float32, s Size) []string {
	if !p.colour {
		return Overlay(px, heat, s)
	}
	if len(heat) != Side*Side {
		return p.HalfBlocks(px, s)
	}
	if len(px) != Side*Side {
		px = make([]uint8, Side*Side)
	}
	return p.blocks(func(i int) int {
		if lv := heatLevel(heat[i]); lv >= 0 {
			return levels + lv
		}
		return level(px[i])
	}, s)
}

// Faint returns px with the pixel rows from row on dimmed to a third, the
// rest unchanged: a digit being read row by row, the rows not yet read
// faint.
func Faint(px []uint8, row int) []uint8 {
	if len(px) != Side*Side {
		return px
	}
	out := append([]uint8(nil), px...)
	for i := max(row, 0) * Side; i < len(out); i++ {
		out[i] /= 3
	}
	return out
}
