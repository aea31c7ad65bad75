// Package digit draws a 28x28 greyscale digit in a terminal, either as ASCII
// shading (a ramp of characters, two per pixel so the digit keeps its shape)
// or as coloured half blocks (▀ with the upper pixel as foreground and the
// lower one as background) where the terminal has colour.
//
// Each mode comes in two sizes: Full draws one line per pixel row (28 lines,
// 56 columns); Compact folds two pixel rows into a line (14 lines, 28
// columns), for terminals as small as 80x24.
package digit
