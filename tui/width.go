package tui

import (
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// width is the number of cells s takes on screen, escape sequences
// excluded. It counts runes directly when every rune is in a range known to
// be one cell wide (ASCII, Latin, punctuation, arrows, box drawing, blocks,
// geometric shapes, check marks, Braille: everything the views draw), and
// falls back to ansi.StringWidth's grapheme segmentation otherwise. Frames
// measure thousands of lines a second, and the segmentation took most of a
// frame's time.
func width(s string) int {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c == 0x1b {
			i = skipEscape(s, i)
			continue
		}
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != 0x7f {
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if !narrow(r) {
			return ansi.StringWidth(s)
		}
		n++
		i += size
	}
	return n
}

// narrow reports whether r is certainly one cell wide.
func narrow(r rune) bool {
	switch {
	case r >= 0xa0 && r < 0x300: // Latin-1, Latin Extended (no combining marks)
		return true
	case r >= 0x2010 && r <= 0x2027, r == 0x2039, r == 0x203a: // punctuation, ‹ ›
		return true
	case r >= 0x2190 && r <= 0x21ff: // arrows
		return true
	case r >= 0x2500 && r <= 0x25fc: // box drawing, blocks, geometric shapes
		return true
	case r >= 0x2713 && r <= 0x2717: // check marks and crosses
		return true
	case r >= 0x2800 && r <= 0x28ff: // Braille patterns
		return true
	}
	return false
}

// skipEscape returns the index just after the escape sequence at s[i].
func skipEscape(s string, i int) int {
	i++ // ESC
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '[': // CSI: parameters, then a final byte in 0x40-0x7e
		for i++; i < len(s); i++ {
			if s[i] >= 0x40 && s[i] <= 0x7e {
				return i + 1
			}
		}
		return i
	case ']': // OSC: up to BEL or ST
		for i++; i < len(s); i++ {
			if s[i] == 0x07 {
				return i + 1
			}
			if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
		}
		return i
	}
	return i + 1
}

// fitWidth pads or cuts every line of s to exactly w cells.
func fitWidth(s string, w int) string {
	return fit(s, w, strings.Count(s, "\n")+1)
}

// hjoin puts blocks side by side, top-aligned, padding each block's lines to
// the block's widest line.
func hjoin(blocks ...string) string {
	cols := make([][]string, len(blocks))
	widths := make([]int, len(blocks))
	rows := 0
	for i, b := range blocks {
		cols[i] = strings.Split(b, "\n")
		rows = max(rows, len(cols[i]))
		for _, l := range cols[i] {
			widths[i] = max(widths[i], width(l))
		}
	}
	var out strings.Builder
	for r := 0; r < rows; r++ {
		for i, col := range cols {
			l := ""
			if r < len(col) {
				l = col[r]
			}
			out.WriteString(l)
			if i < len(cols)-1 {
				out.WriteString(strings.Repeat(" ", widths[i]-width(l)))
			}
		}
		if r < rows-1 {
			out.WriteByte('\n')
		}
	}
	return out.String()
}
