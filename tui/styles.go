package tui

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
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
	// heat styles the heat strips (heat.go).
	heat heatStyles

	// runs colours each run of a comparison (see runColours); colour
	// says the renderer shows colour at all (NO_COLOR and the Ascii
	// profile do not: runs are then told apart by runMarkers).
	runs   []lipgloss.Style
	colour bool
}

// runColours are the runs' colours, as ANSI 256 indexes of middle
// lightness, so that each reads on a dark and on a light background, and
// of hues far apart (blue, orange, green, magenta, teal, crimson, violet,
// ochre) in the spirit of the Okabe-Ito palette. A ninth run takes the
// first colour again (its marker still differs).
func runColours() []lipgloss.Color {
	return []lipgloss.Color{"33", "208", "35", "170", "37", "161", "99", "136"}
}

// runMarkers are the runs' marker characters, one per run of a full
// list (runs.DefaultCapacity): plain-character charts draw each run with
// its own, Braille charts put it along the lines when there is no colour,
// and the runs table and the runs bar show it beside the run.
const runMarkers = "*o+x#@%&=$~^<>?!"

// runMarker is the marker of the run at index i of the list.
func runMarker(i int) rune { return rune(runMarkers[i%len(runMarkers)]) }

// runStyle is the style of the run at index i of the list.
func (s *styles) runStyle(i int) lipgloss.Style { return s.runs[i%len(s.runs)] }

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
		heat:     newHeatStyles(r),
		runs:     runStyles(r),
		colour:   r.ColorProfile() != termenv.Ascii,
	}
}

// runStyles builds the runs' styles on r.
func runStyles(r *lipgloss.Renderer) []lipgloss.Style {
	cs := runColours()
	out := make([]lipgloss.Style, len(cs))
	for i, c := range cs {
		out[i] = r.NewStyle().Foreground(c)
	}
	return out
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
