package tui

// grid is a table of equal cells inside a view: the confusion matrix's
// counts, the browser's thumbnails, a gallery of digits. Views lay one out
// from their rectangle (in setRect or update), draw cell i at cell(i), and
// find what a click hit with at: drawing and hit-testing use the same
// numbers.
type grid struct {
	x, y       int // top-left of cell 0, in view coordinates
	cols, rows int
	cw, ch     int // cell size
	gx, gy     int // gaps between cells
}

// fitGrid lays out as many cells of cw x ch, with gaps gx and gy between
// them, as fit in r, at most limit (0: no limit), filling rows first.
func fitGrid(r rect, cw, ch, gx, gy, limit int) grid {
	g := grid{x: r.x, y: r.y, cw: cw, ch: ch, gx: gx, gy: gy}
	if cw <= 0 || ch <= 0 || r.w < cw || r.h < ch {
		return g
	}
	g.cols = (r.w + gx) / (cw + gx)
	g.rows = (r.h + gy) / (ch + gy)
	if limit > 0 && g.cols*g.rows > limit {
		g.rows = (limit + g.cols - 1) / g.cols
	}
	return g
}

// n is how many cells the grid has.
func (g grid) n() int { return g.cols * g.rows }

// cell is the rectangle of cell i (row-major).
func (g grid) cell(i int) rect {
	c, r := i%max(g.cols, 1), i/max(g.cols, 1)
	return rect{x: g.x + c*(g.cw+g.gx), y: g.y + r*(g.ch+g.gy), w: g.cw, h: g.ch}
}

// at returns the cell under x, y (gaps belong to no cell).
func (g grid) at(x, y int) (int, bool) {
	if g.n() == 0 || x < g.x || y < g.y {
		return 0, false
	}
	dx, dy := x-g.x, y-g.y
	c, r := dx/(g.cw+g.gx), dy/(g.ch+g.gy)
	if c >= g.cols || r >= g.rows || dx%(g.cw+g.gx) >= g.cw || dy%(g.ch+g.gy) >= g.ch {
		return 0, false
	}
	return r*g.cols + c, true
}
