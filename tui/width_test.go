package tui

import (
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
)

func TestWidthMatchesAnsi(t *testing.T) {
	r := renderer(termenv.TrueColor)
	styled := r.NewStyle().Foreground(lipgloss.Color("#ff0000")).Bold(true).Render("loss ✓ ▀▀ ⣿⡀ ‹›")
	for _, s := range []string{
		"", "plain ascii", "─┤└│┌┐", "⠀⣿⡇", "█▉▌░", "✓ correct ✗ wrong", "› target ‹ predicted …",
		"● train, epoch 3/3", "■ stopped", "←/h →/l ↑/k ↓/j", "é ü ß",
		styled, "\x1b]8;;http://x\x07link\x1b]8;;\x07",
		"wide 漢字 and emoji 🙂", "⏸ paused", "◽", "e\u0301", // fall back to ansi
	} {
		if got, want := width(s), ansi.StringWidth(s); got != want {
			t.Errorf("width(%q) = %d, ansi.StringWidth = %d", s, got, want)
		}
	}
}

func TestHjoin(t *testing.T) {
	got := hjoin("ab\nc", "|", "xyz\nw\nq")
	want := "ab|xyz\nc  w\n   q"
	if got != want {
		t.Errorf("hjoin = %q, want %q", got, want)
	}
}
