package tui

import (
	"fmt"
	"math"
	"math/rand/v2"
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

// browser steps through the test predictions one digit at a time.
type browser struct {
	run     *runState
	st      *styles
	km      keyMap
	painter *digit.Painter
	rng     *rand.Rand

	colour  bool // half blocks instead of ASCII shading
	f       filter
	matches []int // test indexes passing f, ascending
	pos     int   // position in matches
	gen     int   // run.predsGen matches were built for

	jumping bool
	input   string
	note    string

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
}

func newBrowser(run *runState, st *styles, km keyMap, r *lipgloss.Renderer) *browser {
	p := digit.NewPainter(r)
	seed := run.cfg.Seed
	return &browser{
		run: run, st: st, km: km, painter: p,
		rng:    rand.New(rand.NewPCG(seed, seed^0x6d6e697374)),
		colour: p.Colour(),
		f:      noFilter(),
	}
}

func (b *browser) title() string { return "Predictions" }

func (b *browser) typing() bool { return b.jumping }

func (b *browser) setSize(w, h int) { b.w, b.h = w, h }

func (b *browser) keys() ([]key.Binding, [][]key.Binding) {
	if b.jumping {
		return []key.Binding{b.km.Accept, b.km.Cancel}, [][]key.Binding{{b.km.Accept, b.km.Cancel}}
	}
	k := b.km
	return []key.Binding{k.Left, k.Right, k.Wrong, k.Class, k.Mode},
		[][]key.Binding{{k.Left, k.Right, k.First, k.Last, k.Jump, k.Random}, {k.Wrong, k.Class, k.Clear, k.Mode}}
}

// n is how many digits can be browsed.
func (b *browser) n() int {
	p := b.run.preds
	if p == nil {
		return 0
	}
	n := min(len(p.Labels), len(p.Pred), len(p.Probs))
	if b.run.test != nil {
		n = min(n, b.run.test.Len())
	}
	return n
}

// current is the test index shown, -1 when none.
func (b *browser) current() int {
	b.sync()
	if b.pos < 0 || b.pos >= len(b.matches) {
		return -1
	}
	return b.matches[b.pos]
}

// sync rebuilds the matches when the predictions changed.
func (b *browser) sync() {
	if b.gen != b.run.predsGen {
		b.gen = b.run.predsGen
		b.refilter(-1)
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

// openCell shows exactly the digits of class truth predicted as pred.
func (b *browser) openCell(truth, pred int) {
	b.sync()
	b.f = filter{truth: truth, pred: pred}
	b.refilter(-1)
	b.note = ""
}

func (b *browser) update(msg tea.Msg) (view, tea.Cmd) {
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		return b, nil
	}
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
	}
	return b, nil
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

// jump shows the digit at test index s, clearing the filter if it hides it.
func (b *browser) jump(s string) {
	i, err := strconv.Atoi(s)
	if err != nil || i < 0 || i >= b.n() {
		b.note = fmt.Sprintf("no digit %q: indexes run from 0 to %d", s, b.n()-1)
		return
	}
	k := sort.SearchInts(b.matches, i)
	if k < len(b.matches) && b.matches[k] == i {
		b.pos = k
		return
	}
	b.f = noFilter()
	b.refilter(i)
	b.note = "filter cleared to show digit " + strconv.Itoa(i)
}

// View draws the digit, its prediction and the status line; it is redrawn
// only when something it shows changed.
func (b *browser) View() string {
	b.sync()
	k := browserKey{b.gen, b.pos, len(b.matches), b.w, b.h, b.f, b.colour, b.jumping, b.input, b.note}
	if b.run.preds == nil || b.view == "" || k != b.key {
		b.view, b.key = b.draw(), k
	}
	return b.view
}

func (b *browser) draw() string {
	if b.run.preds == nil {
		return b.empty()
	}
	status := b.status()
	bodyH := b.h - lipgloss.Height(status)
	i := b.current()
	if i < 0 {
		return fit(b.st.dim.Render("No digit matches "+b.f.String()+".  c clears the filters."), b.w, bodyH) + "\n" + status
	}
	size := digit.Compact
	if bodyH >= digit.Full.Lines()+1 && b.w >= digit.Full.Width()+4+34 {
		size = digit.Full
	}
	var lines []string
	var px []uint8
	if b.run.test != nil {
		px = b.run.test.Image(i)
	}
	if b.colour {
		lines = b.painter.HalfBlocks(px, size)
	} else {
		lines = digit.Shade(px, size)
	}
	pic := strings.Join(lines, "\n")
	switch {
	case bodyH < size.Lines()+2:
		// No room for a frame or a margin.
	case !b.colour:
		// Frame the shading so blank rows keep the digit's box visible.
		pic = b.frame(lines, size.Width())
	default:
		pic = "\n" + pic
	}
	panelW := b.w - size.Width() - 4
	body := hjoin(" ", pic, "  ", b.info(i, panelW))
	return fit(body, b.w, bodyH) + "\n" + status
}

// frame draws a light box around shaded lines.
func (b *browser) frame(lines []string, w int) string {
	var s strings.Builder
	s.WriteString(b.st.axis.Render("┌" + strings.Repeat("─", w) + "┐"))
	for _, l := range lines {
		s.WriteString("\n" + b.st.axis.Render("│") + l + b.st.axis.Render("│"))
	}
	s.WriteString("\n" + b.st.axis.Render("└"+strings.Repeat("─", w)+"┘"))
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
		lbl("digit     ") + b.st.bold.Render(group(i)) + lbl(" of "+group(b.n())),
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
		return b.st.accent.Render("go to digit (0-"+strconv.Itoa(b.n()-1)+"): ") + b.input + "▏"
	}
	count := fmt.Sprintf("%s · %s match", b.f.String(), group(len(b.matches)))
	if len(b.matches) > 0 {
		count += fmt.Sprintf(" · %s/%s", group(b.pos+1), group(len(b.matches)))
	}
	mode := "shading"
	if b.colour {
		mode = "colour"
	}
	acc := ""
	if p := b.run.preds; p != nil {
		acc = fmt.Sprintf(" (accuracy %.4f)", p.Acc)
	}
	line := b.st.accent.Render("filter: "+count) + "\n" + b.st.dim.Render(mode+" · "+b.run.predsFrom+acc)
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
			"They arrive when training ends. To look now, press e: the test set",
			"is evaluated on a snapshot of the current weights while training goes on",
			"(pausing first with p keeps the snapshot's epoch on screen).")
	}
	return fit(b.st.r.NewStyle().Padding(1, 2).Render(strings.Join(msg, "\n")), b.w, b.h)
}
