// Package charts draws full-history line charts for the terminal: every point
// a series ever had is kept and the x axis rescales as the series grows, so a
// chart shows a whole training run rather than a scrolling window.
//
// A chart is drawn in Braille dots (2x4 dots a cell) or, for fonts without
// Braille, in plain characters. Drawing is a pure function of the chart's
// fields (no clock, no terminal queries): styles are lipgloss styles built by
// the caller from its own renderer, so the same code serves a local terminal
// and SSH sessions with different colour profiles.
//
// The package draws its own dots instead of using ntcharts' linechart: that
// one allocates a graph-sized Braille grid for every segment and renders each
// cell through lipgloss, which took about 70 ms for one 56x12 chart of 1,250
// points here, against a frame budget of a few milliseconds for four charts.
package charts
