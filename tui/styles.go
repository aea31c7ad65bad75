package tui

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/lipgloss"
)

// styles holds every style the views use, all built from one renderer so
// each viewer's colour profile (or NO_COLOR) is respected.
type styles struct {
	r *lipgloss.Renderer

	title, tabOn, tabOff, dim, bold, label  lipgloss.Style
	good, bad, warn, note, errLine, accent  lipgloss.Style
	raw, smooth, train, val, axis, selected lipgloss.Style
	diag, offDiag, zero, bar, barEmpty      lipgloss.Style
	test, lrMark                            lipgloss.Style
}

// Colours, as ANSI 256 indexes so they degrade predictably.
const (
	colBlue   = lipgloss.Color("39")
	colGreen  = lipgloss.Color("42")
	colRed    = lipgloss.Color("203")
	colYellow = lipgloss.Color("214")
	colPurple = lipgloss.Color("141")
	colGrey   = lipgloss.Color("245")
	colFaint  = lipgloss.Color("240")
)

func newStyles(r *lipgloss.Renderer) *styles {
	n := r.NewStyle
	return &styles{
		r:        r,
		title:    n().Bold(true).Foreground(colPurple),
		tabOn:    n().Bold(true).Foreground(colPurple),
		tabOff:   n().Foreground(colGrey),
		dim:      n().Foreground(colGrey),
		bold:     n().Bold(true),
		label:    n().Foreground(colGrey),
		good:     n().Foreground(colGreen).Bold(true),
		bad:      n().Foreground(colRed).Bold(true),
		warn:     n().Foreground(colYellow).Bold(true),
		note:     n().Foreground(colYellow),
		errLine:  n().Foreground(colRed).Bold(true),
		accent:   n().Foreground(colBlue),
		raw:      n().Foreground(colFaint),
		smooth:   n().Foreground(colBlue),
		train:    n().Foreground(colBlue),
		val:      n().Foreground(colYellow),
		axis:     n().Foreground(colFaint),
		selected: n().Reverse(true).Bold(true),
		diag:     n().Foreground(colGreen).Bold(true),
		offDiag:  n().Foreground(colRed),
		zero:     n().Foreground(colFaint),
		bar:      n().Foreground(colBlue),
		barEmpty: n().Foreground(colFaint),
		test:     n().Foreground(colPurple),
		lrMark:   n().Foreground(colRed).Bold(true),
	}
}

// helpStyles are bubbles/help's styles rebuilt on the renderer (its defaults
// use the global renderer, which would query the wrong terminal over SSH).
func (s *styles) helpStyles() help.Styles {
	k := s.r.NewStyle().Foreground(colGrey).Bold(true)
	d := s.r.NewStyle().Foreground(colFaint)
	return help.Styles{
		Ellipsis:       d,
		ShortKey:       k,
		ShortDesc:      d,
		ShortSeparator: d,
		FullKey:        k,
		FullDesc:       d,
		FullSeparator:  d,
	}
}
