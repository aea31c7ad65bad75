package tui

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/mnist"
	"github.com/mnist-tui/mnist-tui/tui/digit"
)

// replayMsg asks the replay view (through show) to replay a digit: the
// browser's replay key sends testReplay of the digit shown, the canvas's
// the drawing as the network reads it; a gallery of digits opens one
// with show(kindReplay, testReplay(run, i, kindGallery)).
type replayMsg struct {
	px    []uint8  // the digit, 28x28 row-major
	index int      // its test index, -1 for a drawing
	label int      // its true class, -1 if unknown
	from  viewKind // where the back key returns to (0: nowhere)
	what  string   // how the header names it
}

// testReplay is the replayMsg of test digit i of the run shown.
func testReplay(run *runState, i int, from viewKind) replayMsg {
	msg := replayMsg{index: i, label: -1, from: from, what: "test digit " + group(i)}
	if t := run.test; t != nil && i >= 0 && i < t.Len() {
		msg.px, msg.label = t.Image(i), int(t.Labels[i])
	}
	return msg
}

// playTickMsg is the autoplay's next row; n tells ticks of an earlier
// play apart.
type playTickMsg struct{ n int }

// playSpeeds are the autoplay's speeds, in rows a second.
func playSpeeds() []int { return []int{1, 2, 4, 8, 16} }

// replay shows the network reading one digit row by row (Model.Trace): the
// rows read so far bright and the rest faint, a step cursor, and at each
// step the class probabilities, each class's probability over the steps
// so far, the hidden state (and the LSTM's cell state and gates), and the
// step from which the prediction stayed what it finally is; a saliency
// map over the digit on demand.
type replay struct {
	ctx     context.Context // the program's: play ticks end with it
	run     *runState
	st      *styles
	km      keyMap
	w       *weights
	painter *digit.Painter

	src    replayMsg
	opened bool       // src was opened (else the first test digit is shown)
	seq    int        // counts the digits shown, for the caches
	test   *mnist.Set // the run's test set when last seen

	tr           *engine.Trace
	trVer, trSeq int
	err          error

	step     int // rows read, 1..Steps
	playing  bool
	speed    int // index into playSpeeds
	ticks    int // the current play's ticks carry this
	saliency bool
	sal      []float32
	salVer   int
	salSeq   int
	colour   bool
	active   bool

	width, height int
	view          string
	viewKey       replayKey
}

// replayKey is what the replay's drawing depends on.
type replayKey struct {
	seq, ver, step, speed, w, h int
	playing, saliency, colour   bool
	desc                        string
	err                         string
}

func newReplay(ctx context.Context, run *runState, st *styles, km keyMap, w *weights, p *digit.Painter) *replay {
	return &replay{ctx: ctx, run: run, st: st, km: km, w: w, painter: p, colour: p.Colour(), step: 28, speed: 2}
}

// showsOneRun: with several runs the root draws the runs bar above (the
// replay reads with the weights of the run shown).
func (r *replay) showsOneRun() bool { return true }

func (r *replay) title() string     { return "Replay" }
func (r *replay) kind() viewKind    { return kindReplay }
func (r *replay) typing() bool      { return false }
func (r *replay) init() tea.Cmd     { return nil }
func (r *replay) setRect(rc rect)   { r.width, r.height = rc.w, rc.h }
func (r *replay) steps() int        { return r.run.cfg.Steps }
func (r *replay) speedRate() int    { return playSpeeds()[r.speed] }
func (r *replay) playTick() tea.Cmd { return r.tickAfter(time.Second / time.Duration(r.speedRate())) }
func (r *replay) tickAfter(d time.Duration) tea.Cmd {
	n := r.ticks
	return after(r.ctx, d, func() tea.Msg { return playTickMsg{n} })
}

func (r *replay) keys() ([]key.Binding, [][]key.Binding) {
	k := r.km
	short := []key.Binding{k.Left, k.Right, k.Play, k.Saliency, k.PlayFaster, k.PlaySlower}
	if r.src.from != 0 {
		short = append(short, k.Back)
	}
	return short, [][]key.Binding{{k.Left, k.Right, k.First, k.Last}, {k.Play, k.PlayFaster, k.PlaySlower}, {k.Saliency, k.Mode, k.Back}}
}

// source is the digit shown: the one opened, or else the first test digit.
func (r *replay) source() replayMsg {
	if r.opened {
		return r.src
	}
	return testReplay(r.run, 0, 0)
}

// sync brings the weights, the trace and the saliency map up to date; its
// command is the weights' (see weights.current).
func (r *replay) sync() tea.Cmd {
	m, cmd := r.w.current()
	src := r.source()
	switch {
	case m == nil || src.px == nil:
		r.tr, r.err = nil, nil
	case r.tr == nil || r.trVer != r.w.version || r.trSeq != r.seq:
		r.tr, r.err = m.Trace(src.px)
		r.trVer, r.trSeq = r.w.version, r.seq
		r.step = min(max(r.step, 1), r.traceSteps())
	}
	if r.saliency && r.tr != nil && (r.sal == nil || r.salVer != r.trVer || r.salSeq != r.seq) {
		r.sal, r.err = saliencyMap(m, src.px, r.tr.Pred(r.tr.Steps()-1))
		r.salVer, r.salSeq = r.trVer, r.seq
	}
	return cmd
}

// traceSteps is how many steps the trace has (the configuration's before
// there is one).
func (r *replay) traceSteps() int {
	if r.tr != nil {
		return r.tr.Steps()
	}
	return max(r.steps(), 1)
}

// saliencyMap is the positive part of the gradient of class's logit with
// respect to the pixels of px, scaled so that its largest value is 1.
func saliencyMap(m *engine.Model, px []uint8, class int) ([]float32, error) {
	g, err := m.Saliency(px, class)
	if err != nil {
		return nil, err
	}
	var top float32
	for _, v := range g {
		top = max(top, v)
	}
	out := make([]float32, len(g))
	if top > 0 {
		for i, v := range g {
			out[i] = max(v, 0) / top
		}
	}
	return out, nil
}

func (r *replay) update(msg tea.Msg) (view, tea.Cmd) {
	if r.run.test != r.test {
		r.test = r.run.test
		if !r.opened {
			r.seq++ // the first test digit is another run's now
		}
	}
	if cmd, ok := r.w.follow(msg, &r.active, r.sync); ok {
		r.playing = r.playing && r.active
		return r, cmd
	}
	switch msg := msg.(type) {
	case replayMsg:
		r.src, r.opened = msg, true
		r.seq++
		r.step, r.playing, r.sal = r.traceSteps(), false, nil
		return r, r.sync()
	case playTickMsg:
		if !r.playing || msg.n != r.ticks {
			return r, nil
		}
		r.step++
		if r.step >= r.traceSteps() {
			r.step, r.playing = r.traceSteps(), false
			return r, nil
		}
		return r, r.playTick()
	case tea.KeyMsg:
		return r, tea.Batch(r.press(msg), r.sync())
	}
	return r, nil
}

// press handles the replay's keys.
func (r *replay) press(km tea.KeyMsg) tea.Cmd {
	n := r.traceSteps()
	stop := func() { r.playing = false }
	switch {
	case key.Matches(km, r.km.Left):
		stop()
		r.step = max(r.step-1, 1)
	case key.Matches(km, r.km.Right):
		stop()
		r.step = min(r.step+1, n)
	case key.Matches(km, r.km.First):
		stop()
		r.step = 1
	case key.Matches(km, r.km.Last):
		stop()
		r.step = n
	case key.Matches(km, r.km.Play):
		if r.playing {
			stop()
			return nil
		}
		if r.step >= n {
			r.step = 1
		}
		r.playing = true
		r.ticks++
		return r.playTick()
	case key.Matches(km, r.km.PlayFaster):
		r.speed = min(r.speed+1, len(playSpeeds())-1)
	case key.Matches(km, r.km.PlaySlower):
		r.speed = max(r.speed-1, 0)
	case key.Matches(km, r.km.Saliency):
		r.saliency = !r.saliency
	case key.Matches(km, r.km.Mode):
		if r.painter.Colour() {
			r.colour = !r.colour
		}
	case key.Matches(km, r.km.Back):
		if r.src.from != 0 {
			stop()
			return show(r.src.from, nil)
		}
	}
	return nil
}

// View draws the replay; it is redrawn only when something it shows
// changed.
func (r *replay) View() string {
	errText := ""
	if r.err != nil {
		errText = r.err.Error()
	}
	k := replayKey{r.seq, r.trVer, r.step, r.speed, r.width, r.height, r.playing, r.saliency, r.colour, r.w.describe(), errText}
	if r.view == "" || k != r.viewKey {
		r.view, r.viewKey = r.draw(), k
	}
	return r.view
}

// replayLayout is where the replay's parts go for its size.
type replayLayout struct {
	size    digit.Size
	framed  bool
	barW    int  // the probability bars' width
	stripK  int  // columns per step of the probability strip
	below   bool // the state strips go under the digit, full width
	panelW  int
	statesW int // the width the state strips are folded to
}

// Parts of the replay's panel: a class row is "c " + bar + " .412 ‹ " +
// strip.
const (
	replayProbW = 2 + 5 + 3 // class, probability, marks
	minBarW     = 6
)

func (r *replay) layout() replayLayout {
	var l replayLayout
	n := r.traceSteps()
	l.stripK = 1
	for _, s := range []digit.Size{digit.Large, digit.Full, digit.Compact} {
		l.size = s
		picW := s.Width() + 2 + 1 // frame and the row marker
		if picW+2+replayProbW+minBarW+n <= r.width && s.Lines()+2+1 <= r.height {
			break
		}
	}
	l.framed = l.size.Lines()+2+1 <= r.height
	picW := l.size.Width() + 1
	if l.framed {
		picW += 2
	}
	l.panelW = max(r.width-picW-2, 0)
	if l.panelW >= replayProbW+30+2*n {
		l.stripK = 2
	}
	l.barW = max(min(l.panelW-replayProbW-l.stripK*n-1, 30), 1)
	// The state strips go in the panel when they fit under its probability
	// rows, else under the digit.
	panelLines := 13 + r.gateLines()
	l.statesW = l.panelW - 3
	if panelLines+r.stateLines(l.statesW) > l.size.Lines()+2 {
		l.below, l.statesW = true, r.width-3
	}
	return l
}

// gateLines is how many lines the gates take in the panel (a title and a
// line a gate), 0 for the RNN.
func (r *replay) gateLines() int {
	if r.tr == nil || len(r.tr.GateNames) == 0 {
		return 0
	}
	return 1 + len(r.tr.GateNames)
}

// stateLines is how many lines the state strips take folded to width w.
func (r *replay) stateLines(w int) int {
	if r.tr == nil || w <= 0 {
		return 0
	}
	h := len(r.tr.Hidden[0])
	per := (h + w - 1) / w
	n := 1 + per // the legend, then h
	if r.tr.Cell != nil {
		n += per
	}
	return n
}

func (r *replay) draw() string {
	src := r.source()
	header := r.header(src)
	if src.px == nil {
		return fit(header+"\n\n"+r.st.dim.Render("No digit to replay: open one from Predictions (v or enter) or draw one on the Canvas (v)."), r.width, r.height)
	}
	if r.tr == nil {
		msg := r.w.describe() + "."
		if r.err != nil {
			msg = "Cannot replay: " + r.err.Error()
		}
		return fit(header+"\n\n"+r.st.dim.Render(msg), r.width, r.height)
	}
	l := r.layout()
	pic := r.picture(src, l)
	panel := r.panel(l)
	top := hjoin(pic, "  ", panel)
	out := header + "\n" + top
	if l.below {
		out += "\n" + strings.Join(r.states(l.statesW), "\n")
	}
	return fit(out, r.width, r.height)
}

// header names the digit, its label and the weights.
func (r *replay) header(src replayMsg) string {
	lbl := r.st.label.Render
	parts := []string{r.st.bold.Render(src.what)}
	if src.label >= 0 {
		parts = append(parts, lbl("target ")+r.st.bold.Render(strconv.Itoa(src.label)))
	}
	parts = append(parts, lbl(r.run.cfg.Cell.Title()+", "+r.w.describe()))
	return strings.Join(parts, lbl(" · "))
}

// picture draws the digit with the rows not yet read faint, framed, with a
// marker beside the last row read.
func (r *replay) picture(src replayMsg, l replayLayout) string {
	px := digit.Faint(src.px, r.step)
	var heat []float32
	if r.saliency {
		heat = r.sal
	}
	var lines []string
	if r.colour {
		lines = r.painter.OverlayBlocks(px, heat, l.size)
	} else {
		lines = digit.Overlay(px, heat, l.size)
	}
	row := r.step - 1
	marks := make([]string, len(lines))
	for i := range lines {
		marks[i] = " "
		top, bottom := l.size.Rows(i)
		if top == row || bottom == row {
			marks[i] = r.st.accent.Render("▸")
		}
	}
	pic := strings.Join(lines, "\n")
	markCol := strings.Join(marks, "\n")
	if l.framed {
		pic = frame(r.st, lines, l.size.Width())
		markCol = " \n" + markCol
	}
	return hjoin(markCol, pic)
}

// panel is the right of the replay: the prediction after the row, the
// probabilities as bars beside each class's strip over the steps, the
// settled marker, the gates, and the states when they fit.
func (r *replay) panel(l replayLayout) string {
	tr := r.tr
	n := tr.Steps()
	s := r.step - 1
	pred := tr.Pred(s)
	probs := tr.Probs[s]
	lbl := r.st.label.Render
	play := "‖ paused"
	if r.playing {
		play = "▶ playing"
	}
	lines := []string{
		r.st.bold.Render(fmt.Sprintf("row %d/%d", r.step, n)) + lbl(": predicts ") + r.st.bold.Render(strconv.Itoa(pred)) +
			lbl(" ("+probText(float64(probs[pred]))+")  "+play+" "+strconv.Itoa(r.speedRate())+" rows/s"),
	}
	stripX := replayProbW + l.barW + 1
	cursor := strings.Repeat(" ", stripX+s*l.stripK) + "▼"
	lines = append(lines, lbl(fitWidth("probabilities", stripX))+r.st.accent.Render(cursor[stripX:]))
	final := tr.Pred(n - 1)
	for c := 0; c < len(probs); c++ {
		p := float64(probs[c])
		st := r.st.bar
		if c == pred {
			st = r.st.accent
		}
		bar := hbar(p, l.barW)
		mark := "  "
		if c == pred {
			mark = " ‹"
		}
		row := strconv.Itoa(c) + " " + st.Render(bar) + r.st.barEmpty.Render(strings.Repeat("·", l.barW-width(bar))) +
			" " + probText(p) + mark + " "
		levels := make([]int, 0, n*l.stripK)
		for t := 0; t < n; t++ {
			lv := 0
			if t <= s {
				lv = rampLevel(float64(tr.Probs[t][c]))
			}
			for range l.stripK {
				levels = append(levels, lv)
			}
		}
		lines = append(lines, row+r.st.heat.rampLine(levels))
	}
	settled := tr.Settled()
	lines = append(lines, lbl(fitWidth(fmt.Sprintf("%d from row %d on", final, settled+1), stripX))+
		strings.Repeat(" ", settled*l.stripK)+r.st.good.Render("▲"))
	// The gates' title only where the panel has room for it beside the
	// digit.
	if g := r.gates(l, len(lines)+r.gateLines() <= l.size.Lines()+2); g != "" {
		lines = append(lines, g)
	}
	if !l.below {
		lines = append(lines, r.states(l.statesW)...)
	}
	return strings.Join(lines, "\n")
}

// probText is a probability in four characters: ".412", "1.00".
func probText(p float64) string {
	if p >= 0.9995 {
		return "1.00"
	}
	return fmt.Sprintf("%.3f", math.Max(p, 0))[1:]
}

// gates draws the gated cells' mean gate activations over the steps so
// far, with the value at this row.
func (r *replay) gates(l replayLayout, title bool) string {
	tr := r.tr
	if len(tr.GateNames) == 0 {
		return ""
	}
	lbl := r.st.label.Render
	s := r.step - 1
	var lines []string
	if title {
		lines = append(lines, lbl("mean gate activation over the rows"))
	}
	for k, name := range tr.GateNames {
		vals := make([]float64, 0, tr.Steps()*l.stripK)
		for t := 0; t <= s; t++ {
			for range l.stripK {
				vals = append(vals, float64(tr.Gates[t][k]))
			}
		}
		lines = append(lines, fitWidth(name, 7)+fmt.Sprintf(" %.2f ", tr.Gates[s][k])+r.st.accent.Render(sparkline(vals)))
	}
	return strings.Join(lines, "\n")
}

// states draws h_t (and the LSTM's c_t) at this row as signed strips
// folded to w cells.
func (r *replay) states(w int) []string {
	tr := r.tr
	s := r.step - 1
	legend := "h hidden state"
	if tr.Cell != nil {
		legend += ", c cell state ÷" + fmt.Sprintf("%.2g", maxAbs(tr.Cell...))
	}
	out := []string{r.st.label.Render(legend + ": ▁ -1 … █ +1")}
	add := func(name string, vals []float32, scale float64) {
		for i, line := range r.st.heat.folded(vals, scale, w) {
			tag := "   "
			if i == 0 {
				tag = fitWidth(name, 3)
			}
			out = append(out, r.st.label.Render(tag)+line)
		}
	}
	add("h", tr.Hidden[s], 1)
	if tr.Cell != nil {
		add("c", tr.Cell[s], maxAbs(tr.Cell...))
	}
	return out
}

// The replay is a view.
var _ view = (*replay)(nil)
