package tui

import (
	"reflect"
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"
)

// probeView is a view for the contract's tests: it records what it is
// given, runs a spinner, and answers keys with commands the test chooses.
type probeView struct {
	name  string
	k     viewKind
	r     rect
	got   []tea.Msg
	spin  spinner.Model
	onKey func(tea.KeyMsg) tea.Cmd
	types bool
}

func newProbeView(name string, k viewKind) *probeView {
	return &probeView{name: name, k: k, spin: spinner.New(spinner.WithSpinner(spinner.Line))}
}

func (v *probeView) kind() viewKind { return v.k }
func (v *probeView) title() string  { return v.name }
func (v *probeView) init() tea.Cmd  { return v.spin.Tick }
func (v *probeView) setRect(r rect) { v.r = r }
func (v *probeView) typing() bool   { return v.types }
func (v *probeView) View() string   { return v.name + " " + v.spin.View() }
func (v *probeView) keys() ([]key.Binding, [][]key.Binding) {
	return nil, nil
}

func (v *probeView) update(msg tea.Msg) (view, tea.Cmd) {
	v.got = append(v.got, msg)
	switch msg := msg.(type) {
	case spinner.TickMsg:
		var cmd tea.Cmd
		v.spin, cmd = v.spin.Update(msg)
		return v, cmd
	case tea.KeyMsg:
		if v.onKey != nil {
			return v, v.onKey(msg)
		}
	}
	return v, nil
}

// received returns the messages of type T that v got.
func received[T any](v *probeView) []T {
	var out []T
	for _, m := range v.got {
		if t, ok := m.(T); ok {
			out = append(out, t)
		}
	}
	return out
}

// probeModel is a Model whose views are probes named names, sized w x h.
// It has no run, so that its Init only starts the views' commands.
func probeModel(t *testing.T, w, h int, names ...string) (Model, []*probeView) {
	t.Helper()
	m := New(Options{Renderer: renderer(termenv.Ascii)})
	var ps []*probeView
	m.views = nil
	for i, n := range names {
		p := newProbeView(n, viewKind(100+i))
		ps = append(ps, p)
		m.views = append(m.views, p)
	}
	return sized(m, w, h).(Model), ps
}

// manyViews is a Model with n views named as the coming ones are.
func manyViews(t *testing.T, n int) tea.Model {
	names := []string{"Dashboard", "Predictions", "Confusion", "Runs", "Setup", "Gallery", "Heatmap", "Replay", "Canvas", "Gradients", "Lobby"}
	m, _ := probeModel(t, 80, 24, names[:n]...)
	return m
}

// run runs cmd and everything it batches or sequences (any message that
// is a slice of commands), and returns the other messages, skipping
// nothing.
func run(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	if msg == nil {
		return nil
	}
	v := reflect.ValueOf(msg)
	if v.Kind() == reflect.Slice && v.Type().Elem() == reflect.TypeFor[tea.Cmd]() {
		var out []tea.Msg
		for i := range v.Len() {
			c, _ := v.Index(i).Interface().(tea.Cmd)
			out = append(out, run(c)...)
		}
		return out
	}
	return []tea.Msg{msg}
}

// doneMsg is a probe's command result.
type doneMsg struct{ n int }

// TestCommandResultReachesItsView: a view's command results come back to
// it after a tab switch (alone, batched and sequenced), not to the active
// view, and Bubble Tea's own messages still reach the program.
func TestCommandResultReachesItsView(t *testing.T) {
	m, ps := probeModel(t, 80, 24, "A", "B")
	a, b := ps[0], ps[1]
	a.onKey = func(k tea.KeyMsg) tea.Cmd {
		switch k.String() {
		case "x":
			return func() tea.Msg { return doneMsg{1} }
		case "y":
			return tea.Batch(func() tea.Msg { return doneMsg{2} }, func() tea.Msg { return doneMsg{3} })
		case "z":
			return tea.Sequence(func() tea.Msg { return doneMsg{4} }, func() tea.Msg { return doneMsg{5} })
		case "Q":
			return tea.Quit
		}
		return nil
	}
	var pending []tea.Cmd
	for _, k := range []string{"x", "y", "z"} {
		next, cmd := m.Update(keyMsg(k))
		m = next.(Model)
		pending = append(pending, cmd)
	}
	next, _ := m.Update(keyMsg("tab"))
	m = next.(Model)
	if m.views[m.active] != b {
		t.Fatal("tab did not switch to B")
	}
	for _, cmd := range pending {
		for _, msg := range run(cmd) {
			if _, ok := msg.(viewMsg); !ok {
				t.Fatalf("a view's command returned %T, not routed", msg)
			}
			next, _ = m.Update(msg)
			m = next.(Model)
		}
	}
	var got []int
	for _, d := range received[doneMsg](a) {
		got = append(got, d.n)
	}
	if len(got) != 5 {
		t.Fatalf("A got results %v, want 1 to 5", got)
	}
	if n := len(received[doneMsg](b)); n != 0 {
		t.Fatalf("the active view B got %d of A's results", n)
	}
	// A view's tea.Quit quits the program.
	next, _ = m.Update(keyMsg("shift+tab"))
	m = next.(Model)
	_, cmd := m.Update(keyMsg("Q"))
	msgs := run(cmd)
	if len(msgs) != 1 {
		t.Fatalf("Q gave %v", msgs)
	}
	if _, ok := msgs[0].(tea.QuitMsg); !ok {
		t.Fatalf("a view's tea.Quit came back as %T", msgs[0])
	}
}

// TestSpinnersTickIndependently: each view's spinner is driven by its own
// ticks, whichever view is active, and the root's evaluation spinner by
// none of them.
func TestSpinnersTickIndependently(t *testing.T) {
	m, ps := probeModel(t, 80, 24, "A", "B")
	a, b := ps[0], ps[1]
	// Init returns every view's first tick, routed: a real tick (it waits
	// for the spinner's interval).
	var ticks []viewMsg
	for _, msg := range run(m.Init()) {
		if vm, ok := msg.(viewMsg); ok {
			if _, tick := vm.msg.(spinner.TickMsg); tick {
				ticks = append(ticks, vm)
			}
		}
	}
	if len(ticks) != 2 || ticks[0].id == ticks[1].id {
		t.Fatalf("Init gave ticks %v, want one per view", ticks)
	}
	frame := func(p *probeView, n int) string {
		return p.spin.Spinner.Frames[n%len(p.spin.Spinner.Frames)]
	}
	// A is active; B's ticks arrive three times, A's once.
	for _, vm := range ticks {
		next, cmd := m.Update(vm)
		m = next.(Model)
		if vm.id == 1 {
			// B's next ticks, as its spinner would send them.
			for range 2 {
				msgs := run(cmd)
				if len(msgs) != 1 {
					t.Fatalf("B's tick gave %v", msgs)
				}
				next, cmd = m.Update(msgs[0])
				m = next.(Model)
			}
		}
	}
	if got, want := a.spin.View(), frame(a, 1); got != want {
		t.Errorf("A's spinner shows %q, want frame 1 %q", got, want)
	}
	if got, want := b.spin.View(), frame(b, 3); got != want {
		t.Errorf("inactive B's spinner shows %q, want frame 3 %q", got, want)
	}
	if m.spin.View() != spinner.New(spinner.WithSpinner(spinner.MiniDot)).View() {
		t.Error("the root's spinner moved on the views' ticks")
	}
}

// TestNavigationByMessage: a view's show command makes another view
// active and hands it the message; both views are told.
func TestNavigationByMessage(t *testing.T) {
	m, ps := probeModel(t, 80, 24, "A", "B", "C")
	a, c := ps[0], ps[2]
	a.onKey = func(tea.KeyMsg) tea.Cmd { return show(c.k, doneMsg{7}) }
	next, cmd := m.Update(keyMsg("o"))
	m = next.(Model)
	for _, msg := range run(cmd) {
		next, _ = m.Update(msg)
		m = next.(Model)
	}
	if m.views[m.active] != c {
		t.Fatalf("show did not make C active (active %q)", m.views[m.active].title())
	}
	if d := received[doneMsg](c); len(d) != 1 || d[0].n != 7 {
		t.Errorf("C got %v, want doneMsg 7", d)
	}
	if len(received[hiddenMsg](a)) != 1 || len(received[shownMsg](c)) != 1 {
		t.Errorf("hidden/shown not told: A %v, C %v", a.got, c.got)
	}
	if !strings.Contains(m.lay.tabs, "[C]") {
		t.Errorf("the tab bar does not show C active: %q", m.lay.tabs)
	}
}

// TestMouseReachesTheViewInItsCoordinates: a press in the body goes to
// the active view in its own coordinates, the drag and release go to it
// even outside its rectangle, the tab bar's clicks and wheel switch views,
// and nothing happens below the minimum size.
func TestMouseReachesTheViewInItsCoordinates(t *testing.T) {
	m, ps := probeModel(t, 80, 24, "A", "B")
	a := ps[0]
	if a.r != (rect{x: 0, y: 1, w: 80, h: m.lay.body.h}) || m.lay.body.h < 20 {
		t.Fatalf("A's rectangle %+v, body %+v", a.r, m.lay.body)
	}
	send := func(x, y int, b tea.MouseButton, act tea.MouseAction) {
		next, _ := m.Update(tea.MouseMsg{X: x, Y: y, Button: b, Action: act})
		m = next.(Model)
	}
	send(10, 5, tea.MouseButtonLeft, tea.MouseActionPress)
	send(11, 0, tea.MouseButtonLeft, tea.MouseActionMotion) // dragged onto the tab bar
	send(12, 30, tea.MouseButtonLeft, tea.MouseActionRelease)
	send(3, 3, tea.MouseButtonWheelDown, tea.MouseActionPress)
	want := []mouseMsg{
		{X: 10, Y: 4, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress},
		{X: 11, Y: -1, Button: tea.MouseButtonLeft, Action: tea.MouseActionMotion},
		{X: 12, Y: 29, Button: tea.MouseButtonLeft, Action: tea.MouseActionRelease},
		{X: 3, Y: 2, Button: tea.MouseButtonWheelDown, Action: tea.MouseActionPress},
	}
	if got := received[mouseMsg](a); !reflect.DeepEqual(got, want) {
		t.Fatalf("A got %+v, want %+v", got, want)
	}
	if m.views[m.active] != a {
		t.Fatal("a drag over the tab bar switched views")
	}
	// A click on B's tab.
	x := strings.Index(m.lay.tabs, " B ") + 1
	send(x, 0, tea.MouseButtonLeft, tea.MouseActionPress)
	if m.views[m.active] != ps[1] {
		t.Fatalf("a click on B's tab at column %d: active %q (bar %q)", x, m.views[m.active].title(), m.lay.tabs)
	}
	send(x, 0, tea.MouseButtonWheelDown, tea.MouseActionPress)
	if m.views[m.active] != a {
		t.Fatal("the wheel over the tab bar did not step to the next view")
	}
	n := len(a.got)
	m = sized(m, 50, 15).(Model)
	send(10, 5, tea.MouseButtonLeft, tea.MouseActionPress)
	if len(a.got) != n {
		t.Errorf("below the minimum size a press reached the view: %v", a.got[n:])
	}
}

// TestKeyBursts: a burst of runes in one KeyMsg, as Bubble Tea v1 reports
// keys that arrive together, reaches the view as single presses; a view
// that starts typing in the middle of a burst gets the rest.
func TestKeyBursts(t *testing.T) {
	m, ps := probeModel(t, 80, 24, "A", "B")
	a := ps[0]
	a.onKey = func(k tea.KeyMsg) tea.Cmd {
		if k.String() == "t" {
			a.types = true
		}
		return nil
	}
	next, _ := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("xtq?")})
	m = next.(Model)
	var got []string
	for _, k := range received[tea.KeyMsg](a) {
		if len(k.Runes) != 1 {
			t.Fatalf("a view got a key of %d runes", len(k.Runes))
		}
		got = append(got, k.String())
	}
	if strings.Join(got, "") != "xtq?" {
		t.Errorf("A got %q, want x t q ? one by one (q and ? typed, not global)", got)
	}
}
