package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/mnist-tui/mnist-tui/engine/runs"
)

// The setup form is built from bubbles' textinput rather than
// github.com/charmbracelet/huh (v1.0.0 stays on Bubble Tea v1, but): huh
// moves the focus to the next field with a command whose message comes
// back later, so keys that arrive together (fast typing, a paste, an SSH
// link or tmux coalescing keys, which the root splits into presses handled
// in one Update) land in the field being left: "enter 9" typed at once on
// the hidden size gave "1289" with the focus on the learning rate. Its
// themes draw with lipgloss's default renderer (the server's terminal over
// SSH, not the viewer's), and it shows errors under the whole group rather
// than under the field. Here focus moves in the same Update as the key,
// every style comes from the viewer's renderer, the cursor does not blink
// (no timer per session), and the error is under its field.

// setupField is a setting the setup form asks for: its runs.Fields name
// and its title on the form.
type setupField struct{ name, title string }

// setupFields are the form's settings, in the flags' order.
func setupFields() []setupField {
	return []setupField{
		{"cell", "cell"},
		{"hidden", "hidden size"},
		{"lr", "learning rate"},
		{"batch", "batch"},
		{"epochs", "epochs"},
		{"seed", "seed"},
		{"limit", "limit"},
		{"data", "data set"},
	}
}

// howField is the name of the form's last question: what the new run does
// to the run the form was filled from.
const howField = "how"

// The answers to the last question.
const (
	howAdd     = "add"
	howReplace = "replace"
)

// Columns of the form: the titles' width, and the values' column.
const (
	setupTitleW = 16
	setupValueX = 2 + setupTitleW
)

// formField is one line of the form: a text input or a choice.
type formField struct {
	name, title, hint string
	// text is the input of a text field.
	text textinput.Model
	// choices are a choice field's values and labels (nil: a text field);
	// pick is the one chosen.
	choices []formChoice
	pick    int
	// err is why the value was refused, shown under the field until it
	// is edited.
	err error
}

// formChoice is one answer of a choice field.
type formChoice struct{ value, label string }

// value is the field's text, or its chosen value.
func (f *formField) value() string {
	if f.choices != nil {
		return f.choices[f.pick].value
	}
	return f.text.Value()
}

// openSetupMsg asks the setup view (through show) to open the form.
type openSetupMsg struct {
	// spec pre-fills the form; nil: the selected run's settings (the
	// defaults when there is no run).
	spec *runs.Spec
	// back is the view to go back to when the form closes.
	back viewKind
	// quit: cancelling the form quits the program (--setup, before any
	// run exists).
	quit bool
}

// setupDoneMsg reports how adding the form's run (or putting it in the
// place of another) went: id is the new run, replaced the run it replaced.
type setupDoneMsg struct {
	id, replaced runs.ID
	err          error
}

// setup is the setup form of a new run (N, or --setup): cell, hidden
// size, learning rate, batch, epochs, seed, limit and data set (the
// embedded MNIST or a directory), pre-filled from the selected run. Every
// value goes through runs.ParseField as it is left, so a bad one is
// refused under its field with the flag's own message (`--lr 20: must be
// in (0, 10]`), and the whole spec through runs.Spec.Validate when the
// form is submitted. With a run to replace, the last question is whether
// the new run joins the comparison or replaces that run.
type setup struct {
	st     *styles
	km     keyMap
	set    *runSet
	access runs.Access

	fields []*formField
	focus  int
	// base is the spec the form was filled from, without checkpoints,
	// which the form does not set: a run set up here starts from scratch.
	// It saves where --save says (--setup); filled from another run, it
	// saves only when w is pressed.
	base runs.Spec
	// from is the run the form was filled from, the one it may replace
	// (0: none), fromLabel its name.
	from      runs.ID
	fromLabel string

	editing bool // the form is open
	busy    bool // its run is being added
	quit    bool // cancelling quits (--setup)
	back    viewKind
	err     string // why the last submitted run was not added

	w, h int
}

func newSetup(set *runSet, st *styles, km keyMap, a runs.Access) *setup {
	return &setup{set: set, st: st, km: km, access: a, back: kindDashboard}
}

func (s *setup) kind() viewKind { return kindSetup }

func (s *setup) title() string { return "New run" }

func (s *setup) init() tea.Cmd { return nil }

func (s *setup) typing() bool { return s.editing }

func (s *setup) setRect(r rect) { s.w, s.h = r.w, r.h }

func (s *setup) keys() ([]key.Binding, [][]key.Binding) {
	k := s.km
	if s.editing {
		short := []key.Binding{k.FormNext, k.FormBack, k.FormChoose, k.FormCancel}
		return short, [][]key.Binding{short}
	}
	if s.allowed() == "" {
		return []key.Binding{k.FormOpen}, [][]key.Binding{{k.FormOpen}}
	}
	return nil, nil
}

// allowed returns why this viewer may not start runs, or "".
func (s *setup) allowed() string {
	switch {
	case s.access.List == nil:
		return noteNoRuns
	case !s.access.Allowed(runs.ActAdd):
		return (&runs.DeniedError{Action: runs.ActAdd, Reason: s.access.Reason}).Error()
	}
	return ""
}

// noteNoRuns is what N says where no list of runs is attached.
const noteNoRuns = "setting up runs is not available here"

func (s *setup) update(msg tea.Msg) (view, tea.Cmd) {
	switch msg := msg.(type) {
	case openSetupMsg:
		return s, s.open(msg)
	case setupDoneMsg:
		return s, s.done(msg)
	case hiddenMsg:
		// Another view was chosen (a click on a tab): the form closes.
		s.editing = false
	case mouseMsg:
		if s.editing && msg.click() {
			if i, ok := s.fieldAt(msg.Y); ok {
				s.focusOn(i)
			}
		}
	case tea.KeyMsg:
		if s.editing {
			return s, s.press(msg)
		}
		if key.Matches(msg, s.km.FormOpen) && s.allowed() == "" && !s.busy {
			return s, s.open(openSetupMsg{back: s.back})
		}
	}
	return s, nil
}

// open fills the form from msg's spec, or the selected run's, and starts
// editing it.
func (s *setup) open(msg openSetupMsg) tea.Cmd {
	if why := s.allowed(); why != "" {
		s.editing = false
		return func() tea.Msg { return noteMsg{text: why} }
	}
	base, from, label := runs.DefaultSpec(), runs.ID(0), ""
	switch info := s.set.shown.info; {
	case msg.spec != nil:
		// The command line's (--setup): where it saves is kept.
		base = *msg.spec
	case info != nil:
		// Another run's: it saves where that run does, not this one.
		base, from, label = info.Spec, s.set.sel, s.set.label(s.set.sel)
		base.Save, base.Autosave = "", false
	}
	base.Load, base.Resume = "", ""
	s.base, s.from, s.fromLabel = base, from, label
	s.quit, s.back, s.err = msg.quit, msg.back, ""
	if s.back == 0 || s.back == kindSetup {
		s.back = kindDashboard
	}
	s.fields = nil
	for _, f := range setupFields() {
		ff := &formField{name: f.name, title: f.title}
		switch f.name {
		case "cell":
			ff.choices = []formChoice{{"rnn", "RNN"}, {"lstm", "LSTM"}, {"gru", "GRU"}}
			for i, c := range ff.choices {
				if c.value == base.Cell.String() {
					ff.pick = i
				}
			}
		default:
			ff.text = s.input(runs.FormatField(base, f.name))
		}
		switch f.name {
		case "limit":
			ff.hint = "digits of each split, 0: all"
		case "data":
			ff.hint = "empty: the embedded MNIST, or a directory of IDX files"
			ff.text.Placeholder = "embedded MNIST"
		}
		s.fields = append(s.fields, ff)
	}
	if from != 0 {
		s.fields = append(s.fields, &formField{name: howField, title: "the new run", choices: []formChoice{
			{howAdd, "joins the comparison"},
			{howReplace, fmt.Sprintf("replaces run %d (%s)", from, label)},
		}})
	}
	s.editing = true
	s.focusOn(0)
	return nil
}

// input is a text input holding value, drawn by the form itself (View).
func (s *setup) input(value string) textinput.Model {
	ti := textinput.New()
	ti.Prompt = ""
	ti.CharLimit = 256
	ti.Cursor.SetMode(cursor.CursorStatic)
	// Paste reads the clipboard of the machine the program runs on (the
	// server's, over SSH): terminals paste as typed keys anyway.
	ti.KeyMap.Paste.SetEnabled(false)
	ti.SetValue(value)
	return ti
}

// focusOn moves the focus to field i.
func (s *setup) focusOn(i int) {
	if i < 0 || i >= len(s.fields) {
		return
	}
	for k, f := range s.fields {
		if f.choices == nil {
			if k == i {
				f.text.Focus()
				f.text.CursorEnd()
			} else {
				f.text.Blur()
			}
		}
	}
	s.focus = i
}

// press handles a key while the form is open: enter (or tab, down)
// checks the field and moves on, submitting after the last; shift+tab (or
// up) moves back; left and right change a choice; esc cancels; other keys
// edit the text.
func (s *setup) press(km tea.KeyMsg) tea.Cmd {
	f := s.fields[s.focus]
	switch km.String() {
	case "esc":
		return s.cancel()
	case "enter", "tab", "down":
		if f.err = s.check(f.name, f.value()); f.err != nil {
			return nil
		}
		if s.focus < len(s.fields)-1 {
			s.focusOn(s.focus + 1)
			return nil
		}
		return s.submit()
	case "shift+tab", "up":
		s.focusOn(s.focus - 1)
		return nil
	case "left", "right":
		if f.choices != nil {
			step := 1
			if km.String() == "left" {
				step = len(f.choices) - 1
			}
			f.pick = (f.pick + step) % len(f.choices)
			f.err = nil
			return nil
		}
	}
	if f.choices != nil {
		return nil
	}
	before := f.text.Value()
	f.text, _ = f.text.Update(km)
	if f.text.Value() != before {
		f.err = nil
	}
	return nil
}

// specUpTo is the base spec with the form's values of the fields before
// name applied (those that parse): what field name is checked against
// (the limit against the batch size above it).
func (s *setup) specUpTo(name string) runs.Spec {
	spec := s.base
	for _, f := range s.fields {
		if f.name == name || f.name == howField {
			break
		}
		_ = runs.ParseField(&spec, f.name, f.value())
	}
	return spec
}

// check is field name's validation of text: the flag's own
// (runs.ParseField), so that its error is the flag's message.
func (s *setup) check(name, text string) error {
	if name == howField {
		return nil
	}
	spec := s.specUpTo(name)
	return runs.ParseField(&spec, name, text)
}

// spec is the run the form describes, checked whole (runs.Spec.Validate),
// or the first error with the index of the field it names.
func (s *setup) spec() (runs.Spec, int, error) {
	spec := s.base
	for i, f := range s.fields {
		if f.name == howField {
			continue
		}
		if err := runs.ParseField(&spec, f.name, f.value()); err != nil {
			return spec, i, err
		}
	}
	if err := spec.Validate(); err != nil {
		i := 0
		if fe, ok := err.(*runs.FieldError); ok {
			for k, f := range s.fields {
				if f.name == fe.Field {
					i = k
				}
			}
		}
		return spec, i, err
	}
	return spec, -1, nil
}

// how is the answer to the last question (howAdd without one).
func (s *setup) how() string {
	for _, f := range s.fields {
		if f.name == howField {
			return f.value()
		}
	}
	return howAdd
}

// submit adds the form's run (or puts it in the place of the run the form
// was filled from) in the background; a spec the whole validation refuses
// puts the focus on the field it names, with the error under it.
func (s *setup) submit() tea.Cmd {
	spec, i, err := s.spec()
	if err != nil {
		s.focusOn(i)
		s.fields[i].err = err
		return nil
	}
	s.editing, s.busy, s.err = false, true, ""
	a, from, how := s.access, s.from, s.how()
	return func() tea.Msg {
		if how == howReplace && from != 0 {
			id, err := a.Replace(from, spec)
			return setupDoneMsg{id: id, replaced: from, err: err}
		}
		id, err := a.Add(spec)
		return setupDoneMsg{id: id, err: err}
	}
}

// done goes to the dashboard once the run is in the list, or opens the
// form again, its values kept, with the reason it was refused.
func (s *setup) done(msg setupDoneMsg) tea.Cmd {
	s.busy = false
	if msg.err != nil {
		s.err = "the run was not added: " + msg.err.Error()
		s.editing = true
		return nil
	}
	note := fmt.Sprintf("run %d added to the comparison", msg.id)
	switch {
	case msg.replaced != 0:
		note = fmt.Sprintf("run %d replaces run %d", msg.id, msg.replaced)
	case s.quit:
		note = fmt.Sprintf("run %d set up: training starts", msg.id)
	}
	s.quit = false
	return tea.Batch(show(kindDashboard, nil), func() tea.Msg { return noteMsg{text: note} })
}

// cancel closes the form: back to the view it was opened from, or out of
// the program when it was the first thing shown (--setup).
func (s *setup) cancel() tea.Cmd {
	s.editing = false
	if s.quit {
		return tea.Quit
	}
	return show(s.back, nil)
}

// heading is the form's first line.
func (s *setup) heading() string {
	h := "New run · starts from scratch"
	if s.from != 0 {
		h = fmt.Sprintf("New run · pre-filled from run %d (%s) · starts from scratch", s.from, s.fromLabel)
	}
	if s.base.Save != "" {
		h += " · saves to " + s.base.Save
	}
	return h
}

// headingLines is the heading, wrapped to the view's width.
func (s *setup) headingLines() []string {
	return strings.Split(ansi.Wrap(s.heading(), max(s.w, 20), ""), "\n")
}

// formTop is the line of the first field: below the heading, the error
// of the last submission (if any) and a blank line.
func (s *setup) formTop() int {
	n := len(s.headingLines()) + 1
	if s.err != "" {
		n++
	}
	return n
}

// errLines is field f's error, wrapped under its value (or, in a narrow
// view, from the left), nil when its value was not refused.
func (s *setup) errLines(f *formField) []string {
	if f.err == nil {
		return nil
	}
	x := setupValueX
	if s.w-x < 30 {
		x = 2
	}
	lines := strings.Split(ansi.Wrap(f.err.Error(), max(s.w-x, 10), ""), "\n")
	for i, l := range lines {
		lines[i] = strings.Repeat(" ", x) + s.st.errLine.Render(l)
	}
	return lines
}

// fieldAt returns the field drawn on line y (its error lines included).
func (s *setup) fieldAt(y int) (int, bool) {
	line := s.formTop()
	for i, f := range s.fields {
		n := 1 + len(s.errLines(f))
		if y >= line && y < line+n {
			return i, true
		}
		line += n
	}
	return 0, false
}

// View draws the form, or what the view says while the form is closed.
func (s *setup) View() string {
	switch {
	case s.busy:
		return fit("\n  "+s.st.accent.Render("Adding the run…"), s.w, s.h)
	case s.editing:
		return fit(s.drawForm(), s.w, s.h)
	}
	// Paragraphs wrapped to the view's width, two cells in.
	para := func(text string) string {
		return "  " + strings.ReplaceAll(ansi.Wrap(text, max(s.w-2, 20), ""), "\n", "\n  ")
	}
	if why := s.allowed(); why != "" {
		return fit("\n  "+s.st.bold.Render("New run")+"\n\n"+s.st.dim.Render(para(why)), s.w, s.h)
	}
	from := "the defaults"
	if s.set.shown.info != nil {
		from = fmt.Sprintf("run %d (%s)", s.set.sel, s.set.label(s.set.sel))
	}
	return fit("\n  "+s.st.bold.Render("New run")+"\n\n"+
		para("Press enter (or N in any view) to set up a run: cell, hidden size, learning rate, batch, epochs, seed, limit and data set, pre-filled from "+from+".")+"\n"+
		s.st.dim.Render(para("It joins the comparison, or replaces the run it was filled from.")), s.w, s.h)
}

// drawForm draws the open form: a line a field, the focused one marked ›,
// each refused value's error under it.
func (s *setup) drawForm() string {
	var lines []string
	for _, l := range s.headingLines() {
		lines = append(lines, s.st.title.Render(l))
	}
	if s.err != "" {
		lines = append(lines, s.st.errLine.Render("error: "+s.err))
	}
	lines = append(lines, "")
	for i, f := range s.fields {
		mark, title := "  ", s.st.label.Render(fmt.Sprintf("%-*s", setupTitleW, f.title))
		if i == s.focus {
			mark, title = s.st.accent.Render("› "), s.st.bold.Render(fmt.Sprintf("%-*s", setupTitleW, f.title))
		}
		line := mark + title + s.fieldValue(f, i == s.focus)
		if f.hint != "" && i == s.focus {
			line += "   " + s.st.dim.Render(f.hint)
		}
		lines = append(append(lines, line), s.errLines(f)...)
	}
	lines = append(lines, "", s.st.dim.Render(s.submitHint()))
	return strings.Join(lines, "\n")
}

// submitHint says how the form ends.
func (s *setup) submitHint() string {
	if s.from != 0 {
		return "enter on the last line adds the run · esc cancels"
	}
	if s.quit {
		return "enter on the last line starts training · esc quits"
	}
	return "enter on the last line adds the run · esc cancels"
}

// fieldValue draws a field's value: a choice between ‹ and › when
// focused, a text with its cursor (reversed with colour, a bar without).
func (s *setup) fieldValue(f *formField, focused bool) string {
	if f.choices != nil {
		v := f.choices[f.pick].label
		if focused {
			return s.st.accent.Render("‹ ") + s.st.bold.Render(v) + s.st.accent.Render(" ›")
		}
		return v
	}
	v := f.text.Value()
	if !focused {
		if v == "" {
			return s.st.dim.Render(f.text.Placeholder)
		}
		return v
	}
	r := []rune(v)
	pos := min(max(f.text.Position(), 0), len(r))
	if !s.st.colour {
		out := string(r[:pos]) + "▏" + string(r[pos:])
		if v == "" {
			out += f.text.Placeholder
		}
		return out
	}
	under := " "
	if pos < len(r) {
		under = string(r[pos])
	}
	rest := ""
	if pos+1 < len(r) {
		rest = string(r[pos+1:])
	}
	out := s.st.bold.Render(string(r[:pos])) + s.st.selected.Render(under) + s.st.bold.Render(rest)
	if v == "" && f.text.Placeholder != "" {
		out += s.st.dim.Render(f.text.Placeholder)
	}
	return out
}
