package tui

import (
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/mnist-tui/mnist-tui/mnist/preprocess"
	"github.com/mnist-tui/mnist-tui/tui/digit"
)

// brushR is the soft brush's radius in pixels: full ink within brushR-0.5
// of its centre, fading linearly to none at brushR+0.5, so that a stroke
// is about three pixels wide with anti-aliased edges, as MNIST's strokes
// are once a drawing is scaled into their 20x20 box.
const brushR = 1.3

// dab paints (or erases) one touch of the brush centred at x, y (in
// pixels: pixel (i, j) spans [j, j+1) x [i, i+1)) on a Side x Side image:
// painting keeps the larger of the ink and the brush's, erasing takes the
// brush's share away.
func dab(px []float32, x, y float64, erase bool) {
	r := brushR + 0.5
	for i := max(int(math.Floor(y-r)), 0); i < min(int(math.Ceil(y+r)), digit.Side); i++ {
		for j := max(int(math.Floor(x-r)), 0); j < min(int(math.Ceil(x+r)), digit.Side); j++ {
			d := math.Hypot(float64(j)+0.5-x, float64(i)+0.5-y)
			a := float32(math.Max(0, math.Min(1, brushR+0.5-d)))
			if a == 0 {
				continue
			}
			p := &px[i*digit.Side+j]
			if erase {
				*p *= 1 - a
			} else {
				*p = max(*p, a)
			}
		}
	}
}

// stroke dabs the brush every half pixel along the segment from (x0, y0)
// to (x1, y1), so that a fast drag leaves no gaps.
func stroke(px []float32, x0, y0, x1, y1 float64, erase bool) {
	n := int(math.Ceil(math.Hypot(x1-x0, y1-y0) / 0.5))
	for k := 0; k <= n; k++ {
		f := 1.0
		if n > 0 {
			f = float64(k) / float64(n)
		}
		dab(px, x0+f*(x1-x0), y0+f*(y1-y0), erase)
	}
}

// canvas is a 28x28 drawing surface classified live by the run's latest
// weights after MNIST's own preprocessing (mnist/preprocess): the mouse
// paints while the left button is held and erases with the right, the
// keyboard moves a cursor and paints, erases or clears.
type canvas struct {
	run     *runState
	st      *styles
	km      keyMap
	w       *weights
	painter *digit.Painter
	colour  bool

	px     []float32 // the drawing, Side*Side intensities in [0, 1]
	cx, cy int       // the cursor's pixel
	// The drag under way: the button and the last point painted.
	drag    tea.MouseButton
	lastX   float64
	lastY   float64
	showPre bool
	edits   int // counts changes of px
	// part is the drawing as bytes for the Screen (screenPart), made for
	// edits partOf.
	part       [digit.Side * digit.Side]uint8
	partOf     int
	partOK     bool
	active     bool
	dragging   bool
	classified struct {
		edits, ver int
		pre        []float32 // the drawing preprocessed (nil: blank)
		probs      [10]float32
		ok         bool
		err        error
	}

	width, height int
	view          string
	viewKey       canvasKey
}

// canvasKey is what the canvas's drawing depends on.
type canvasKey struct {
	edits, ver, cx, cy, w, h int
	showPre, colour          bool
	desc                     string
}

func newCanvas(run *runState, st *styles, km keyMap, w *weights, p *digit.Painter) *canvas {
	return &canvas{run: run, st: st, km: km, w: w, painter: p, colour: p.Colour(),
		px: make([]float32, digit.Side*digit.Side), cx: digit.Side / 2, cy: digit.Side / 2}
}

// showsOneRun: with several runs the root draws the runs bar above (the
// drawing is classified with the weights of the run shown).
func (c *canvas) showsOneRun() bool { return true }

func (c *canvas) title() string  { return "Canvas" }
func (c *canvas) kind() viewKind { return kindCanvas }
func (c *canvas) typing() bool   { return false }
func (c *canvas) init() tea.Cmd  { return nil }
func (c *canvas) setRect(r rect) { c.width, c.height = r.w, r.h }

func (c *canvas) keys() ([]key.Binding, [][]key.Binding) {
	k := c.km
	return []key.Binding{k.Cursor, k.Paint, k.Erase, k.Wipe, k.Replay, k.Prepared},
		[][]key.Binding{{k.CursorUp, k.CursorDown, k.CursorLeft, k.CursorRight}, {k.Paint, k.Erase, k.Wipe}, {k.Prepared, k.Replay, k.Mode}, {k.DragPaint}}
}

// canvasLayout is where the canvas's parts are in its view.
type canvasLayout struct {
	size   digit.Size
	x, y   int // the drawing's top-left cell, inside its frame
	panelX int
}

// canvasPanelW is the least width of the panel beside the drawing: the
// probability bars and the preprocessed digit.
const canvasPanelW = 2 + 10 + 5 + 2 + digit.Side

func (c *canvas) layout() canvasLayout {
	l := canvasLayout{size: digit.Compact, x: 1, y: 2}
	for _, s := range []digit.Size{digit.Large, digit.Full} {
		if s.Width()+2+2+canvasPanelW <= c.width && 1+s.Lines()+2 <= c.height {
			l.size = s
			break
		}
	}
	l.panelX = l.size.Width() + 2 + 2
	return l
}

// pixelAt is where the brush goes for the view's cell x, y: the centre of
// the pixel the cell shows (of its upper half's pixel where a line shows
// more than one row), or in the compact size, whose cells are a pixel
// wide and two tall, the middle of the cell, between its two rows.
func (c *canvas) pixelAt(l canvasLayout, x, y int) (float64, float64) {
	k := max(int(l.size), 1)
	dx, dy := x-l.x, y-l.y
	if k == 1 {
		return float64(dx) + 0.5, 2*float64(dy) + 1
	}
	return math.Floor(float64(dx)/float64(k)) + 0.5, math.Floor(2*float64(dy)/float64(k)) + 0.5
}

func (c *canvas) update(msg tea.Msg) (view, tea.Cmd) {
	if cmd, ok := c.w.follow(msg, &c.active, c.sync); ok {
		c.dragging = c.dragging && c.active
		return c, cmd
	}
	switch msg := msg.(type) {
	case mouseMsg:
		c.mouse(msg)
		return c, c.sync()
	case tea.KeyMsg:
		cmd := c.press(msg)
		return c, tea.Batch(c.sync(), cmd)
	}
	return c, nil
}

// mouse paints while the left button is held, erases while the right is.
func (c *canvas) mouse(m mouseMsg) {
	l := c.layout()
	x, y := c.pixelAt(l, m.X, m.Y)
	switch m.Action {
	case tea.MouseActionPress:
		if m.Button != tea.MouseButtonLeft && m.Button != tea.MouseButtonRight {
			return
		}
		if x < 0 || y < 0 || x >= digit.Side || y >= digit.Side {
			return // a press outside the drawing starts no stroke
		}
		c.dragging, c.drag, c.lastX, c.lastY = true, m.Button, x, y
		dab(c.px, x, y, m.Button == tea.MouseButtonRight)
		c.edits++
	case tea.MouseActionMotion:
		if !c.dragging {
			return
		}
		stroke(c.px, c.lastX, c.lastY, x, y, c.drag == tea.MouseButtonRight)
		c.lastX, c.lastY = x, y
		c.edits++
	case tea.MouseActionRelease:
		c.dragging = false
	}
}

// press handles the canvas's keys.
func (c *canvas) press(km tea.KeyMsg) tea.Cmd {
	last := digit.Side - 1
	switch {
	case key.Matches(km, c.km.CursorUp):
		c.cy = max(c.cy-1, 0)
	case key.Matches(km, c.km.CursorDown):
		c.cy = min(c.cy+1, last)
	case key.Matches(km, c.km.CursorLeft):
		c.cx = max(c.cx-1, 0)
	case key.Matches(km, c.km.CursorRight):
		c.cx = min(c.cx+1, last)
	case key.Matches(km, c.km.Paint), key.Matches(km, c.km.Erase):
		dab(c.px, float64(c.cx)+0.5, float64(c.cy)+0.5, key.Matches(km, c.km.Erase))
		c.edits++
	case key.Matches(km, c.km.Wipe):
		clear(c.px)
		c.edits++
	case key.Matches(km, c.km.Prepared):
		c.showPre = !c.showPre
	case key.Matches(km, c.km.Mode):
		if c.painter.Colour() {
			c.colour = !c.colour
		}
	case key.Matches(km, c.km.Replay):
		c.sync()
		if cl := c.classified; cl.pre != nil {
			return show(kindReplay, replayMsg{px: preprocess.Pixels(cl.pre), index: -1, label: -1, from: kindCanvas, what: "your drawing, preprocessed"})
		}
		return func() tea.Msg { return noteMsg{text: "draw a digit first: there is nothing to replay"} }
	}
	return nil
}

// sync classifies the drawing when it or the weights changed; its command
// is the weights' (see weights.current).
func (c *canvas) sync() tea.Cmd {
	m, cmd := c.w.current()
	cl := &c.classified
	// Up to date, unless the weights it waited for have come.
	if cl.edits == c.edits && cl.ver == c.w.version && (cl.ok || cl.err != nil || cl.pre == nil || m == nil) {
		return cmd
	}
	cl.edits, cl.ver, cl.ok, cl.err = c.edits, c.w.version, false, nil
	pre, err := preprocess.Normalize(c.px)
	switch {
	case errors.Is(err, preprocess.ErrBlank):
		cl.pre = nil
		return cmd
	case err != nil:
		cl.pre, cl.err = nil, err
		return cmd
	}
	cl.pre = pre
	if m == nil {
		return cmd
	}
	tr, err := m.Trace(preprocess.Pixels(pre))
	if err != nil {
		cl.err = err
		return cmd
	}
	cl.probs, cl.ok = tr.Probs[tr.Steps()-1], true
	return cmd
}

// View draws the canvas; it is redrawn only when something it shows
// changed.
func (c *canvas) View() string {
	k := canvasKey{c.edits, c.w.version, c.cx, c.cy, c.width, c.height, c.showPre, c.colour, c.w.describe()}
	if c.view == "" || k != c.viewKey {
		c.view, c.viewKey = c.draw(), k
	}
	return c.view
}

// pixels is the drawing as MNIST's uint8 pixels.
func (c *canvas) pixels() []uint8 { return preprocess.Pixels(c.px) }

func (c *canvas) draw() string {
	l := c.layout()
	lbl := c.st.label.Render
	head := c.st.bold.Render("Draw a digit") + lbl(": drag the left button, the right erases · the "+c.run.cfg.Cell.Title()+"'s "+c.w.describe())
	lines := c.render(c.pixels(), l.size)
	k := max(int(l.size), 1)
	// The cursor: marks on the frame at its column and its line.
	w := l.size.Width()
	top := []rune(strings.Repeat("─", w))
	for x := c.cx * k; x < (c.cx+1)*k && x < w; x++ {
		top[x] = '▼'
	}
	cursorLine := -1
	for i := range lines {
		if t, b := l.size.Rows(i); t == c.cy || b == c.cy {
			cursorLine = i
			break
		}
	}
	var pic strings.Builder
	pic.WriteString(c.st.axis.Render("┌") + c.st.accent.Render(string(top)) + c.st.axis.Render("┐"))
	for i, line := range lines {
		left := c.st.axis.Render("│")
		if i == cursorLine {
			left = c.st.accent.Render("▶")
		}
		pic.WriteString("\n" + left + line + c.st.axis.Render("│"))
	}
	pic.WriteString("\n" + c.st.axis.Render("└"+strings.Repeat("─", w)+"┘"))
	body := hjoin(pic.String(), "  ", c.panel(c.width-l.panelX))
	return fit(head+"\n"+body, c.width, c.height)
}

// render draws pixels at size s in the canvas's mode.
func (c *canvas) render(px []uint8, s digit.Size) []string {
	if c.colour {
		return c.painter.HalfBlocks(px, s)
	}
	return digit.Shade(px, s)
}

// panel is the prediction, the probability bars and, when asked for, the
// preprocessed digit the network sees.
func (c *canvas) panel(w int) string {
	cl := c.classified
	lbl := c.st.label.Render
	var lines []string
	switch {
	case cl.pre == nil && cl.err == nil:
		lines = []string{lbl("prediction: ") + c.st.dim.Render("none yet: draw a digit")}
	case cl.err != nil:
		lines = []string{c.st.bad.Render("cannot classify: " + cl.err.Error())}
	case !cl.ok:
		lines = []string{lbl("prediction: ") + c.st.dim.Render(c.w.describe())}
	default:
		pred := argmax10(cl.probs)
		lines = []string{lbl("prediction ") + c.st.bold.Render(strconv.Itoa(pred)) + lbl(" ("+probText(float64(cl.probs[pred]))+")")}
	}
	lines = append(lines, "", lbl("probabilities"))
	const barW = 10
	for k := range 10 {
		p := float64(cl.probs[k])
		if !cl.ok {
			p = 0
		}
		bar := hbar(p, barW)
		st := c.st.bar
		if cl.ok && k == argmax10(cl.probs) {
			st = c.st.accent
		}
		line := strconv.Itoa(k) + " " + st.Render(bar) + c.st.barEmpty.Render(strings.Repeat("·", barW-width(bar)))
		if cl.ok {
			line += " " + probText(p)
		}
		lines = append(lines, line)
	}
	out := strings.Join(lines, "\n")
	if !c.showPre {
		return out
	}
	pre := []string{lbl("preprocessed")}
	if cl.pre == nil {
		pre = append(pre, c.st.dim.Render("(blank)"))
	} else {
		pre = append(pre, c.render(preprocess.Pixels(cl.pre), digit.Compact)...)
	}
	// Beside the bars (under the prediction's line) where it fits, else
	// under them.
	if bars := lines[1:]; lineWidth(bars)+2+digit.Side <= w {
		return lines[0] + "\n" + hjoin(strings.Join(bars, "\n"), "  ", strings.Join(pre, "\n"))
	}
	return out + "\n\n" + strings.Join(pre, "\n")
}

// lineWidth is the width of the widest of lines.
func lineWidth(lines []string) int {
	n := 0
	for _, l := range lines {
		n = max(n, width(l))
	}
	return n
}

// argmax10 is the most probable class, the lowest on ties.
func argmax10(p [10]float32) int {
	best := 0
	for k, v := range p {
		if v > p[best] {
			best = k
		}
	}
	return best
}

// The canvas is a view.
var _ view = (*canvas)(nil)
