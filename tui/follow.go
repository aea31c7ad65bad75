package tui

// The views' parts of a Screen (see sharedView): what follow mode carries
// from the teacher's screen to a student's. A new view that a student
// should follow implements sharedView with a part of its own here.

import (
	tea "github.com/charmbracelet/bubbletea"

	"github.com/mnist-tui/mnist-tui/engine/runs"
	"github.com/mnist-tui/mnist-tui/mnist/preprocess"
	"github.com/mnist-tui/mnist-tui/tui/digit"
)

var (
	_ sharedView = (*browser)(nil)
	_ sharedView = (*confusion)(nil)
	_ sharedView = (*dashboard)(nil)
	_ sharedView = (*gallery)(nil)
	_ sharedView = (*replay)(nil)
	_ sharedView = (*canvas)(nil)
	_ sharedView = (*gradients)(nil)
)

// browserPart is the browser's part of a Screen: the filter, the digit
// shown (its entry of the predictions, -1 for none), the drawing mode and
// the saliency map.
type browserPart struct {
	f                filter
	index            int
	colour, saliency bool
}

func (b *browser) screenPart() any {
	return browserPart{f: b.f, index: b.current(), colour: b.colour, saliency: b.saliency}
}

// applyPart shows the part's digit with its filter and drawing mode (the
// mode only where this terminal has colour). A digit the filter hides
// from this viewer's predictions gives way to the next one it shows.
func (b *browser) applyPart(p any) tea.Cmd {
	bp, ok := p.(browserPart)
	if !ok {
		return nil
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
	b.remember()
	b.saliency = bp.saliency
	return b.syncSaliency()
}

// confusionPart is the confusion matrix's part of a Screen: the cell
// selected.
type confusionPart struct{ row, col int }

func (c *confusion) screenPart() any { return confusionPart{row: c.row, col: c.col} }

func (c *confusion) applyPart(p any) tea.Cmd {
	if cp, ok := p.(confusionPart); ok {
		c.row, c.col = cp.row, cp.col
	}
	return nil
}

// dashboardPart is the dashboard's part of a Screen: the loss smoothing
// (the chart characters, Braille or plain, stay each viewer's: they
// depend on the terminal's font).
type dashboardPart struct{ smooth int }

func (d *dashboard) screenPart() any { return dashboardPart{smooth: d.smooth} }

func (d *dashboard) applyPart(p any) tea.Cmd {
	if dp, ok := p.(dashboardPart); ok && dp.smooth >= 0 && dp.smooth < len(smoothings()) {
		d.smooth = dp.smooth
	}
	return nil
}

// galleryPart is the gallery's part of a Screen: the filter, the drawing
// mode, and the test indexes of the selected digit and of the first one
// drawn (-1: none), which keep the page where page sizes differ.
type galleryPart struct {
	f              filter
	colour         bool
	selAt, firstAt int
}

func (g *gallery) screenPart() any {
	g.sync()
	at := func(pos int) int {
		if pos < 0 || pos >= len(g.shown) || g.run.preds == nil {
			return -1
		}
		return g.run.preds.SetIndex(g.shown[pos])
	}
	return galleryPart{f: g.f, colour: g.colour, selAt: at(g.sel), firstAt: at(g.first)}
}

// applyPart shows the part's filter with its selected digit, the page
// starting at its first digit as far as this viewer's page allows.
func (g *gallery) applyPart(p any) tea.Cmd {
	gp, ok := p.(galleryPart)
	if !ok {
		return nil
	}
	if g.painter.Colour() {
		g.colour = gp.colour
	}
	g.f, g.built = gp.f, false
	g.sync()
	g.first, g.sel = 0, 0
	for pos, k := range g.shown {
		i := g.run.preds.SetIndex(k)
		if i == gp.firstAt {
			g.first = pos
		}
		if i == gp.selAt {
			g.sel = pos
		}
	}
	per := max(g.layout().cells.n(), 1)
	if g.sel < g.first || g.sel >= g.first+per {
		g.first = g.sel
	}
	g.settle(per)
	return nil
}

// replayPart is the replay's part of a Screen: the digit (its test index,
// or -1 and the drawing's pixels), where it was opened from, the step, the
// autoplay and its speed, the saliency map and the drawing mode.
type replayPart struct {
	opened                    bool
	index                     int
	px                        [digit.Side * digit.Side]uint8
	from                      viewKind
	step, speed               int
	playing, saliency, colour bool
}

func (r *replay) screenPart() any {
	p := replayPart{opened: r.opened, index: r.src.index, from: r.src.from, step: r.step, speed: r.speed,
		playing: r.playing, saliency: r.saliency, colour: r.colour}
	if r.opened && r.src.index < 0 {
		copy(p.px[:], r.src.px)
	}
	return p
}

// applyPart replays the part's digit (a test digit of the run shown, or
// the teacher's drawing) at its step, playing when it plays: the ticks
// are this viewer's own, and the teacher's step sets them right.
func (r *replay) applyPart(p any) tea.Cmd {
	rp, ok := p.(replayPart)
	if !ok {
		return nil
	}
	if now := r.screenPart().(replayPart); now.opened != rp.opened || now.index != rp.index || now.px != rp.px || now.from != rp.from {
		switch {
		case !rp.opened:
			r.src, r.opened = replayMsg{}, false
		case rp.index >= 0:
			r.src, r.opened = testReplay(r.run, rp.index, rp.from), true
		default:
			r.src = replayMsg{px: append([]uint8(nil), rp.px[:]...), index: -1, label: -1, from: rp.from, what: "the teacher's drawing, preprocessed"}
			r.opened = true
		}
		r.seq++
		r.sal = nil
	}
	if r.painter.Colour() {
		r.colour = rp.colour
	}
	r.step, r.saliency = rp.step, rp.saliency
	r.speed = min(max(rp.speed, 0), len(playSpeeds())-1)
	var tick tea.Cmd
	switch {
	case rp.playing && !r.playing:
		r.playing = true
		r.ticks++
		tick = r.playTick()
	case !rp.playing:
		r.playing = false
	}
	return tea.Batch(r.sync(), tick)
}

// canvasPart is the canvas's part of a Screen: the drawing (as MNIST's
// bytes), the cursor, the preprocessed digit shown or not and the drawing
// mode.
type canvasPart struct {
	px              [digit.Side * digit.Side]uint8
	cx, cy          int
	showPre, colour bool
}

func (c *canvas) screenPart() any {
	if c.partOf != c.edits || !c.partOK {
		copy(c.part[:], preprocess.Pixels(c.px))
		c.partOf, c.partOK = c.edits, true
	}
	return canvasPart{px: c.part, cx: c.cx, cy: c.cy, showPre: c.showPre, colour: c.colour}
}

// applyPart shows the teacher's drawing, classified with this viewer's
// weights of the run shown (the same run's).
func (c *canvas) applyPart(p any) tea.Cmd {
	cp, ok := p.(canvasPart)
	if !ok {
		return nil
	}
	if c.painter.Colour() {
		c.colour = cp.colour
	}
	c.cx, c.cy, c.showPre = min(max(cp.cx, 0), digit.Side-1), min(max(cp.cy, 0), digit.Side-1), cp.showPre
	if now := c.screenPart().(canvasPart); now.px != cp.px {
		for i, v := range cp.px {
			c.px[i] = float32(v) / 255
		}
		c.dragging = false
		c.edits++
	}
	return c.sync()
}

// gradientsPart is the gradients' part of a Screen: the run compared with
// the run shown (0: the default) and the batch axis.
type gradientsPart struct {
	other  runs.ID
	linear bool
}

func (g *gradients) screenPart() any { return gradientsPart{other: g.other, linear: g.linear} }

func (g *gradients) applyPart(p any) tea.Cmd {
	if gp, ok := p.(gradientsPart); ok && (gp != gradientsPart{other: g.other, linear: g.linear}) {
		g.other, g.linear = gp.other, gp.linear
		g.seen++
	}
	return nil
}
