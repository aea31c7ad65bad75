package tui

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/mnist-tui/mnist-tui/tui/digit"
)

// filter selects the digits the browser steps through.
type filter struct {
	truth, pred int  // the class wanted, -1 for any
	wrong       bool // misclassified only
}

// noFilter lets every digit through.
func noFilter() filter { return filter{truth: -1, pred: -1} }

// match reports whether digit i passes the filter.
func (f filter) match(labels, pred []uint8, i int) bool {
	t, p := int(labels[i]), int(pred[i])
	return (f.truth < 0 || t == f.truth) && (f.pred < 0 || p == f.pred) && (!f.wrong || t != p)
}

// String describes the filter for the status line.
func (f filter) String() string {
	var parts []string
	if f.truth >= 0 {
		parts = append(parts, fmt.Sprintf("target %d", f.truth))
	}
	if f.pred >= 0 {
		parts = append(parts, fmt.Sprintf("predicted %d", f.pred))
	}
	if f.wrong {
		parts = append(parts, "misclassified")
	}
	if len(parts) == 0 {
		return "all digits"
	}
	return strings.Join(parts, ", ")
}

// browser steps through the test predictions one digit at a time. The
// predictions may cover a sample of the test set (a live evaluation's):
// it steps through the entries of the predictions, and shows each
// digit's place in the test set.
type browser struct {
	run     *runState
	st      *styles
	km      keyMap
	painter *digit.Painter
	rng     *rand.Rand

	colour  bool // half blocks instead of ASCII shading
	f       filter
	matches []int // entries of the predictions passing f, ascending
	pos     int   // position in matches
	gen     int   // run.predsGen matches were built for
	// at is the test index of the digit shown (-1: none yet): new
	// predictions keep it in view (or the next digit passing the filter).
	at int

	jumping bool
	input   string
	note    string

	// The saliency map over the digit (s): weights are the run's latest;
	// sal is the map of test digit salFor with weights salVer.
	weights  *weights
	saliency bool
	sal      []float32
	salFor   int
	salVer   int
	salErr   error
	active   bool

	w, h int
	// view caches the drawing for key.
	view string
	key  browserKey
}

// browserKey is everything the browser's drawing depends on.
type browserKey struct {
	gen, pos, n, w, h int
	f                 filter
	colour, jumping   bool
	input, note       string
	saliency          bool
	salFor, salVer    int
}

func newBrowser(run *runState, st *styles, km keyMap, r *lipgloss.Renderer, w *weights) *browser {
	p := digit.NewPainter(r)
	seed := run.cfg.Seed
	return &browser{
		run: run, st: st, km: km, painter: p, weights: w,
		rng:    rand.New(rand.NewPCG(seed, seed^0x6d6e697374)),
		colour: p.Colour(),
		f:      noFilter(),
		at:     -1,
	}
}

func (b *browser) title() string { return "Predictions" }

func (b *browser) typing() bool { return b.jumping }

func (b *browser) kind() viewKind { return kindBrowser }

func (b *browser) init() tea.Cmd { return nil }

// showsOneRun: with several runs, the root draws the runs bar above.
func (b *browser) showsOneRun() bool { return true }

func (b *browser) setRect(r rect) { b.w, b.h = r.w, r.h }

func (b *browser) keys() ([]key.Binding, [][]key.Binding) {
	if b.jumping {
		return []key.Binding{b.km.Accept, b.km.Cancel}, [][]key.Binding{{b.km.Accept, b.km.Cancel}}
	}
	k := b.km
	return []key.Binding{k.Left, k.Right, k.Replay, k.Wrong, k.Class, k.Saliency, k.Mode},
		[][]key.Binding{{k.Left, k.Right, k.First, k.Last, k.Jump, k.Random}, {k.Wrong, k.Class, k.Clear, k.Mode}, {k.Replay, k.Saliency}, {k.WheelDigit, k.ClickDigit}}
}

// n is how many digits can be browsed: the entries of the predictions.
func (b *browser) n() int { return predsLen(b.run) }

// predsLen is how many entries of run's predictions can be shown: those
// of digits its test set has.
func predsLen(run *runState) int {
	p := run.preds
	if p == nil {
		return 0
	}
	n := min(len(p.Labels), len(p.Pred), len(p.Probs))
	if t := run.test; t != nil {
		if p.Index == nil {
			n = min(n, t.Len())
		}
		for n > 0 && p.Index != nil && (len(p.Index) < n || p.Index[n-1] >= t.Len()) {
			n--
		}
	}
	return n
}

// current is the entry shown, -1 when none.
func (b *browser) current() int {
	b.sync()
	if b.pos < 0 || b.pos >= len(b.matches) {
		return -1
	}
	return b.matches[b.pos]
}

// testIndex is the test index of entry k.
func (b *browser) testIndex(k int) int { return b.run.preds.SetIndex(k) }

// sync rebuilds the matches when the predictions changed, staying at the
// digit shown (or the next one that passes the filter).
func (b *browser) sync() {
	if b.gen == b.run.predsGen {
		return
	}
	b.gen = b.run.predsGen
	keep := -1
	if p := b.run.preds; p != nil && b.at >= 0 {
		keep = p.Len()
		if p.Index == nil {
			keep = min(b.at, p.Len())
		} else if k, _ := slices.BinarySearch(p.Index, b.at); k < p.Len() {
			keep = k
		}
	}
	b.refilter(keep)
	b.remember()
}

// remember records the test index of the digit shown.
func (b *browser) remember() {
	if b.pos >= 0 && b.pos < len(b.matches) && b.run.preds != nil {
		b.at = b.testIndex(b.matches[b.pos])
	}
}

// refilter rebuilds the matches for b.f and moves to the first match at or
// after test index keep (the first match when keep is -1).
func (b *browser) refilter(keep int) {
	b.matches = b.matches[:0]
	if p := b.run.preds; p != nil {
		for i := 0; i < b.n(); i++ {
			if b.f.match(p.Labels, p.Pred, i) {
				b.matches = append(b.matches, i)
			}
		}
	}
	b.pos = 0
	if keep >= 0 {
		b.pos = sort.SearchInts(b.matches, keep)
		if b.pos >= len(b.matches) {
			b.pos = max(len(b.matches)-1, 0)
		}
	}
}

// setFilter applies f, staying near the digit shown.
func (b *browser) setFilter(f filter) {
	b.sync()
	b.f = f
	b.refilter(max(b.current(), 0))
}

// browseMsg asks the browser (through show) for the digits passing f,
// at test index index (the first match when index is -1; an index the
// filter hides clears the filter; an index the predictions do not cover
// shows the next one they do).
type browseMsg struct {
	f     filter
	index int
}

// browse applies msg.
func (b *browser) browse(msg browseMsg) {
	b.sync()
	b.f = msg.f
	b.refilter(-1)
	b.note = ""
	if msg.index >= 0 {
		b.jump(strconv.Itoa(msg.index))
	}
	b.remember()
}

func (b *browser) update(msg tea.Msg) (view, tea.Cmd) {
	var km tea.KeyMsg
	switch msg := msg.(type) {
	case browseMsg:
		b.browse(msg)
		return b, nil
	case mouseMsg:
		b.mouse(msg)
		b.remember()
		return b, b.syncSaliency()
	case tea.KeyMsg:
		km = msg
	case coolMsg, shownMsg, hiddenMsg, eventsMsg, pickedMsg:
		cmd, _ := b.weights.follow(msg, &b.active, b.syncSaliency)
		return b, cmd
	default:
		return b, nil
	}
	defer b.remember()
	b.sync()
	if b.jumping {
		b.typeKey(km)
		return b, nil
	}
	b.note = ""
	last := len(b.matches) - 1
	switch {
	case key.Matches(km, b.km.Left):
		b.pos = max(b.pos-1, 0)
	case key.Matches(km, b.km.Right):
		b.pos = max(min(b.pos+1, last), 0)
	case key.Matches(km, b.km.First):
		b.pos = 0
	case key.Matches(km, b.km.Last):
		b.pos = max(last, 0)
	case key.Matches(km, b.km.Random):
		if len(b.matches) > 0 {
			b.pos = b.rng.IntN(len(b.matches))
		}
	case key.Matches(km, b.km.Jump):
		if b.n() == 0 {
			b.note = "no predictions to jump in"
			break
		}
		b.jumping, b.input = true, ""
	case key.Matches(km, b.km.Wrong):
		f := b.f
		f.wrong = !f.wrong
		b.setFilter(f)
	case key.Matches(km, b.km.Class):
		d := int(km.Runes[0] - '0')
		f := b.f
		if f.truth == d && f.pred < 0 {
			f.truth = -1
		} else {
			f.truth, f.pred = d, -1
		}
		b.setFilter(f)
	case key.Matches(km, b.km.Clear):
		b.setFilter(noFilter())
	case key.Matches(km, b.km.Mode):
		if !b.painter.Colour() {
			b.note = "this terminal shows no colour: ASCII shading only"
			break
		}
		b.colour = !b.colour
	case key.Matches(km, b.km.Saliency):
		b.saliency = !b.saliency
	case key.Matches(km, b.km.Replay):
		if k := b.current(); k >= 0 {
			return b, show(kindReplay, testReplay(b.run, b.testIndex(k), kindBrowser))
		}
		b.note = "no digit to replay"
	}
	return b, b.syncSaliency()
}

// syncSaliency computes the saliency map of the digit shown for its
// predicted class when the map is on and the digit or the weights
// changed; its command is the weights' (see weights.current).
func (b *browser) syncSaliency() tea.Cmd {
	if !b.saliency {
		return nil
	}
	m, cmd := b.weights.current()
	k := b.current()
	i := -1
	if k >= 0 {
		i = b.testIndex(k)
	}
	if m == nil || i < 0 || b.run.test == nil || i >= b.run.test.Len() {
		b.sal, b.salErr = nil, b.weights.err
		return cmd
	}
	if b.sal != nil && b.salFor == i && b.salVer == b.weights.version {
		return cmd
	}
	b.salFor, b.salVer = i, b.weights.version
	b.sal, b.salErr = saliencyMap(m, b.run.test.Image(i), int(b.run.preds.Pred[k]))
	return cmd
}

// mouse steps with the wheel and shows a thumbnail that is clicked.
func (b *browser) mouse(m mouseMsg) {
	b.sync()
	if b.jumping || len(b.matches) == 0 {
		return
	}
	if step := m.wheel(); step != 0 {
		b.note = ""
		b.pos = max(min(b.pos+step, len(b.matches)-1), 0)
		return
	}
	if !m.click() {
		return
	}
	if i, ok := b.layout().next.at(m.X, m.Y); ok && b.pos+1+i < len(b.matches) {
		b.note = ""
		b.pos += 1 + i
	}
}

// typeKey edits the index being typed after the jump key.
func (b *browser) typeKey(km tea.KeyMsg) {
	switch {
	case key.Matches(km, b.km.Cancel):
		b.jumping = false
	case key.Matches(km, b.km.Accept):
		b.jumping = false
		b.jump(b.input)
	case km.Type == tea.KeyBackspace:
		if b.input != "" {
			b.input = b.input[:len(b.input)-1]
		}
	case km.Type == tea.KeyRunes:
		for _, r := range km.Runes {
			if r >= '0' && r <= '9' && len(b.input) < 6 {
				b.input += string(r)
			}
		}
	}
}

// jump shows the digit at test index s, clearing the filter if it hides
// it; a digit the predictions do not cover (a live sample's) gives the
// next one they do.
func (b *browser) jump(s string) {
	i, err := strconv.Atoi(s)
	last := b.testLen() - 1
	if err != nil || i < 0 || i > last {
		b.note = fmt.Sprintf("no digit %q: indexes run from 0 to %d", s, last)
		return
	}
	e, covered := b.run.preds.Entry(i)
	if !covered {
		b.note = fmt.Sprintf("digit %d is not in the %s evaluated: the next one is shown", i, b.sampleName())
	}
	k := sort.SearchInts(b.matches, e)
	if k < len(b.matches) && b.matches[k] == e {
		b.pos = k
		return
	}
	if covered {
		b.f = noFilter()
		b.note = "filter cleared to show digit " + strconv.Itoa(i)
	}
	b.refilter(e)
}

// testLen is how many test digits there are to jump to.
func (b *browser) testLen() int {
	if p := b.run.preds; p != nil && p.Index == nil {
		return b.n()
	}
	if b.run.test != nil {
		return b.run.test.Len()
	}
	return b.n()
}

// sampleName names what the predictions cover: "2,000-digit sample" or
// "test set".
func (b *browser) sampleName() string {
	if p := b.run.preds; p != nil && p.Index != nil {
		return group(b.n()) + "-digit sample"
	}
	return "test set"
}

// View draws the digit, its prediction and the status line; it is redrawn
// only when something it shows changed.
func (b *browser) View() string {
	b.sync()
	k := browserKey{b.gen, b.pos, len(b.matches), b.w, b.h, b.f, b.colour, b.jumping, b.input, b.note, b.saliency, b.salFor, b.salVer}
	if b.run.preds == nil || b.view == "" || k != b.key {
		b.view, b.key = b.draw(), k
	}
	return b.view
}

// Parts of the browser's drawing.
const (
	// The panel beside the digit: its width, and the least it may shrink
	// to when a larger digit would otherwise not fit.
	infoW, minInfoW = 42, 34
	thumbW          = digit.Side + 2
	thumbH          = digit.Side/2 + 3 // framed compact digit and its caption
	thumbGx         = 2
)

// browserLayout is where the browser's parts go, for its size and state:
// draw and the mouse use the same one.
type browserLayout struct {
	bodyH  int        // lines above the status lines
	size   digit.Size // of the digit
	framed bool       // the digit has a frame (shading) or a top margin (colour)
	picW   int        // width of the digit's block
	infoW  int        // width of the panel beside it
	// next holds thumbnails of the next matching digits, where there is
	// room to the right of the panel (about 200x60 and up).
	next grid
}

// statusLines is how many lines status takes.
func (b *browser) statusLines() int { return strings.Count(b.status(), "\n") + 1 }

// layout lays the browser out in its rectangle: the largest digit that
// leaves room for the panel, then thumbnails in what is left.
func (b *browser) layout() browserLayout {
	l := browserLayout{bodyH: max(b.h-b.statusLines(), 0)}
	l.size = digit.Fit(b.w-1-2-2-minInfoW, l.bodyH-2)
	l.framed = l.bodyH >= l.size.Lines()+2
	l.picW = l.size.Width()
	if l.framed && !b.colour {
		l.picW += 2
	}
	l.infoW = max(min(infoW, b.w-1-l.picW-2), 0)
	x := 1 + l.picW + 2 + l.infoW + 2
	l.next = fitGrid(rect{x: x, y: 1, w: b.w - x, h: l.bodyH - 1}, thumbW, thumbH, thumbGx, 0, 0)
	return l
}

func (b *browser) draw() string {
	if b.run.preds == nil {
		return b.empty()
	}
	status := b.status()
	l := b.layout()
	i := b.current()
	if i < 0 {
		return fit(b.st.dim.Render("No digit matches "+b.f.String()+".  c clears the filters."), b.w, l.bodyH) + "\n" + status
	}
	lines := b.digit(b.testIndex(i), l.size)
	pic := strings.Join(lines, "\n")
	switch {
	case !l.framed:
		// No room for a frame or a margin.
	case !b.colour:
		// Frame the shading so blank rows keep the digit's box visible.
		pic = b.frame(lines, l.size.Width())
	default:
		pic = "\n" + pic
	}
	blocks := []string{" ", pic, "  ", fitWidth(b.info(i, l.infoW), l.infoW)}
	if l.next.n() > 0 {
		blocks = append(blocks, "  ", b.thumbnails(l.next))
	}
	return fit(hjoin(blocks...), b.w, l.bodyH) + "\n" + status
}

// digit draws test digit i at size s, in the browser's mode, with the
// saliency map over it when it is on and is i's.
func (b *browser) digit(i int, s digit.Size) []string {
	var px []uint8
	if b.run.test != nil {
		px = b.run.test.Image(i)
	}
	var heat []float32
	if b.saliency && b.salFor == i {
		heat = b.sal
	}
	if b.colour {
		return b.painter.OverlayBlocks(px, heat, s)
	}
	return digit.Overlay(px, heat, s)
}

// thumbnails draws the digits after the one shown, in the grid g below a
// title line.
func (b *browser) thumbnails(g grid) string {
	p := b.run.preds
	var cells []string
	for k := range g.n() {
		j := b.pos + 1 + k
		if j >= len(b.matches) {
			break
		}
		k := b.matches[j]
		t, pr := int(p.Labels[k]), int(p.Pred[k])
		st, mark := b.st.good, "✓"
		if t != pr {
			st, mark = b.st.bad, "✗"
		}
		i := b.testIndex(k)
		caption := b.st.label.Render(group(i)+" ") + st.Render(fmt.Sprintf("%d→%d %s", t, pr, mark))
		cells = append(cells, b.frame(b.digit(i, digit.Compact), digit.Side)+"\n"+caption)
	}
	title := b.st.label.Render("next " + strconv.Itoa(len(cells)) + " · click one to show it")
	if len(cells) == 0 {
		return title
	}
	rows := []string{title}
	for r := 0; r*g.cols < len(cells); r++ {
		row := make([]string, 0, 2*g.cols)
		for c := 0; c < g.cols && r*g.cols+c < len(cells); c++ {
			if c > 0 {
				row = append(row, strings.Repeat(" ", g.gx))
			}
			row = append(row, fit(cells[r*g.cols+c], g.cw, g.ch))
		}
		rows = append(rows, hjoin(row...))
	}
	return strings.Join(rows, "\n")
}

// frame draws a light box around shaded lines.
func (b *browser) frame(lines []string, w int) string { return frame(b.st, lines, w) }

// frame draws a light box around lines w cells wide.
func frame(st *styles, lines []string, w int) string {
	var s strings.Builder
	s.WriteString(st.axis.Render("┌" + strings.Repeat("─", w) + "┐"))
	for _, l := range lines {
		s.WriteString("\n" + st.axis.Render("│") + l + st.axis.Render("│"))
	}
	s.WriteString("\n" + st.axis.Render("└"+strings.Repeat("─", w)+"┘"))
	return s.String()
}

// info is the panel beside the digit.
func (b *browser) info(i, w int) string {
	p := b.run.preds
	t, pr := int(p.Labels[i]), int(p.Pred[i])
	probs := p.Probs[i]
	lbl := b.st.label.Render
	verdict := b.st.good.Render("✓ correct")
	if t != pr {
		verdict = b.st.bad.Render("✗ wrong")
	}
	loss := -math.Log(math.Max(float64(probs[t]), 1e-12))
	lines := []string{
		lbl("digit     ") + b.st.bold.Render(group(b.testIndex(i))) + lbl(" of "+group(b.testLen())),
		lbl("target    ") + b.st.bold.Render(strconv.Itoa(t)),
		lbl("predicted ") + b.st.bold.Render(strconv.Itoa(pr)) + "  " + verdict,
		lbl("loss      ") + fmt.Sprintf("%.4f", loss),
		"",
		lbl("class probabilities"),
	}
	barW := max(min(w-12, 30), 4)
	for c := 0; c < 10; c++ {
		pc := float64(probs[c])
		st := b.st.bar
		switch {
		case c == pr && c == t:
			st = b.st.good
		case c == pr:
			st = b.st.bad
		}
		mark := " "
		if c == t {
			mark = "›"
		}
		bar := hbar(pc, barW)
		line := mark + strconv.Itoa(c) + " " + st.Render(bar) + b.st.barEmpty.Render(strings.Repeat("·", barW-width(bar))) + fmt.Sprintf(" %5.3f", pc)
		if c == pr {
			line += " ‹"
		}
		lines = append(lines, line)
	}
	lines = append(lines, lbl("› target  ‹ predicted"))
	switch {
	case !b.saliency:
	case b.sal != nil && b.salFor == b.testIndex(i):
		lines = append(lines, "", b.st.accent.Render(digit.HeatRamp)+lbl(" saliency: more ink here raises "+strconv.Itoa(pr)))
	case b.salErr != nil:
		lines = append(lines, "", b.st.bad.Render("saliency: "+b.salErr.Error()))
	default:
		lines = append(lines, "", lbl("saliency: "+b.weights.describe()))
	}
	return strings.Join(lines, "\n")
}

// hbar draws a horizontal bar of f (0..1) over w cells, in eighths.
func hbar(f float64, w int) string {
	eighths := int(math.Round(clamp01(f) * float64(w*8)))
	full, part := eighths/8, eighths%8
	s := strings.Repeat("█", full)
	if part > 0 {
		s += string([]rune("▏▎▍▌▋▊▉")[part-1])
	}
	return s
}

// status says which filter is on, how many digits match and where the
// predictions come from.
func (b *browser) status() string {
	if b.jumping {
		return b.st.accent.Render("go to digit (0-"+strconv.Itoa(b.testLen()-1)+"): ") + b.input + "▏"
	}
	count := fmt.Sprintf("%s · %s match", b.f.String(), group(len(b.matches)))
	if len(b.matches) > 0 {
		count += fmt.Sprintf(" · %s/%s", group(b.pos+1), group(len(b.matches)))
	}
	mode := "shading"
	if b.colour {
		mode = "colour"
	}
	from := []string{b.st.dim.Render(mode)}
	for _, part := range labelParts(b.run.predsFrom) {
		from = append(from, b.st.dim.Render(part))
	}
	if p := b.run.preds; p != nil {
		from = append(from, b.st.dim.Render(fmt.Sprintf("accuracy %.4f", p.Acc)))
	}
	line := b.st.accent.Render("filter: "+count) + "\n" + strings.Join(wrapItems(from, b.st.dim.Render(" · "), b.w), "\n")
	if b.note != "" {
		line = b.st.note.Render(b.note) + "\n" + line
	}
	return line
}

// empty is the browser before any predictions exist.
func (b *browser) empty() string {
	msg := []string{b.st.bold.Render("No test predictions yet."), ""}
	switch {
	case b.run.evaluating:
		msg = append(msg, "Evaluating the test set on a snapshot of the current weights…")
	case b.run.done:
		msg = append(msg, "The run ended without predictions.")
	case b.run.over:
		msg = append(msg, "The run is over; there are no predictions to show.")
	default:
		msg = append(msg,
			"They arrive live once training starts: every few batches a sample of",
			"the test set is evaluated on the current weights, for every viewer.",
			"To look now, press e: the whole test set is evaluated on a snapshot",
			"while training goes on (p pauses, n then trains one batch at a time).")
	}
	return fit(b.st.r.NewStyle().Padding(1, 2).Render(strings.Join(msg, "\n")), b.w, b.h)
}

// labelParts splits a label of items joined by " · " (runState.predsFrom)
// for wrapItems.
func labelParts(label string) []string {
	if label == "" {
		return nil
	}
	return strings.Split(label, " · ")
}
