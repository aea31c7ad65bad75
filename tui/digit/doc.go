// Package digit draws a 28x28 greyscale digit in a terminal, either as ASCII
// shading (a ramp of characters, two per pixel so the digit keeps its shape)
// or as coloured half blocks (▀ with the upper pixel as foreground and the
// lower one as background) where the terminal has colour.
//
// Sizes are a scale: a digit of Size k is 28k columns by 14k lines, each
// pixel k columns wide and as tall (a cell is about twice as tall as it is
// wide). Compact (1) folds two pixel rows into a line, for terminals as
// small as 80x24; Full (2) draws one line per pixel row; Large (3) and up
// fill big terminals. Fit picks the largest size for a box.
package digit
