package tui

// The views' parts of a Screen (see sharedView): what follow mode carries
// from the teacher's screen to a student's. A new view that a student
// should follow implements sharedView with a part of its own here (the
// replay view: its digit and step).

var (
	_ sharedView = (*browser)(nil)
	_ sharedView = (*confusion)(nil)
	_ sharedView = (*dashboard)(nil)
)

// browserPart is the browser's part of a Screen: the filter, the digit
// shown (its test index, -1 for none) and the drawing mode.
type browserPart struct {
	f      filter
	index  int
	colour bool
}

func (b *browser) screenPart() any {
	return browserPart{f: b.f, index: b.current(), colour: b.colour}
}

// applyPart shows the part's digit with its filter and drawing mode (the
// mode only where this terminal has colour). A digit the filter hides
// from this viewer's predictions gives way to the next one it shows.
func (b *browser) applyPart(p any) {
	bp, ok := p.(browserPart)
	if !ok {
		return
	}
	b.sync()
	b.jumping, b.note = false, ""
	if b.painter.Colour() {
		b.colour = bp.colour
	}
	if b.f != bp.f || b.current() != bp.index {
		b.f = bp.f
		b.refilter(bp.index)
	}
}

// confusionPart is the confusion matrix's part of a Screen: the cell
// selected.
type confusionPart struct{ row, col int }

func (c *confusion) screenPart() any { return confusionPart{row: c.row, col: c.col} }

func (c *confusion) applyPart(p any) {
	if cp, ok := p.(confusionPart); ok {
		c.row, c.col = cp.row, cp.col
	}
}

// dashboardPart is the dashboard's part of a Screen: the loss smoothing
// (the chart characters, Braille or plain, stay each viewer's: they
// depend on the terminal's font).
type dashboardPart struct{ smooth int }

func (d *dashboard) screenPart() any { return dashboardPart{smooth: d.smooth} }

func (d *dashboard) applyPart(p any) {
	if dp, ok := p.(dashboardPart); ok && dp.smooth >= 0 && dp.smooth < len(smoothings()) {
		d.smooth = dp.smooth
	}
}
