package tui

import (
	"context"
	"reflect"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// view is one screen of the app: a tab of the root Model, drawn between the
// tab bar and the footer. The root owns the views (pointers, in the order of
// the tab bar) and keeps to this contract with every one of them:
//
// Layout. The root computes every view's rectangle in Update, never in
// View: on a tea.WindowSizeMsg and whenever the footer's height changes
// (a note, an error, the full help, another view's key hints). setRect
// hands the view its rectangle on the screen, origin included; View must
// then draw exactly r.h lines of at most r.w cells (the root fits what it
// gets, unless the view is an exactView). A view that hit-tests its own
// parts (cells, a grid of digits) lays them out with one function of its
// rectangle and state that both View and update call, so that a click
// lands on what is drawn (see grid, confusion.layout, browser.layout).
//
// Messages. update receives:
//   - tea.KeyMsg while the view is active, after the root's global keys
//     (tab, ?, p, e, w, R, N, <, >, q), unless typing() is true: then every key but
//     ctrl+c goes to the view. A tea.KeyRunes message carries exactly one
//     rune: the root splits bursts (Bubble Tea v1 delivers keys that arrive
//     together, from fast typing, a paste or an SSH link, as one KeyMsg).
//   - mouseMsg while the view is active: presses, wheel turns, releases and
//     drags inside its rectangle, in its own coordinates (0,0 is the
//     rectangle's top-left cell). A press starts a capture: motion and the
//     release go to the view that got the press even outside its rectangle
//     (coordinates may then be negative or past its size).
//   - The results of its own commands, whatever view is active: the root
//     tags every command that init or update returns with the view's ID and
//     routes the result back (route), through tea.Batch and tea.Sequence,
//     so spinners, ticks and background work of an inactive view go on.
//     Bubble Tea's own messages (tea.Quit, ...) still reach the program.
//   - Data messages, broadcast to every view: eventsMsg (new events of the
//     list, already folded into the shared runSet and the run shown's
//     runState: reports, live and asked-for predictions, actions),
//     runOverMsg, pickedMsg (another run is shown).
//   - shownMsg when it becomes the active view, hiddenMsg when it stops
//     being it.
//   - The message another view (or the root) navigated to it with (show).
//
// Requests. Commands of a view may return, for the root: showMsg (make the
// view of a kind active and hand it a message: navigation between views is
// a message, never a type assertion), noteMsg (a line in the footer until
// the next key), pickRunMsg (show another run), and Bubble Tea's own
// commands. A view that shows one run's predictions implements oneRunView:
// with several runs the root then draws the runs bar above it (its rect
// starts a line lower).
//
// Adding a view: implement this interface, give the view a viewKind
// constant, and add it in New (the tab bar, routing, layout, help and the
// tests that iterate over Model.views pick it up). A view whose state
// students should see as the teacher has it (follow mode) also implements
// sharedView (class.go, follow.go).
type view interface {
	// kind says what the view is, for navigation (showMsg).
	kind() viewKind
	// title names the view in the tab bar.
	title() string
	// init is called once, from the root's Init; its command's results
	// come back to the view.
	init() tea.Cmd
	// update handles a message (see the routing rules above).
	update(msg tea.Msg) (view, tea.Cmd)
	// View draws the view in the rectangle last given to setRect.
	View() string
	// setRect gives the view its rectangle on screen.
	setRect(r rect)
	// keys lists the view's own bindings for the help: the hint line's
	// (most useful first: the hint line drops the last ones first when
	// space is short) and the full help's columns.
	keys() ([]key.Binding, [][]key.Binding)
	// typing reports whether the view captures the keyboard (a prompt, a
	// form), so that single-key shortcuts go to it instead of the root.
	typing() bool
}

// exactView is implemented by views whose View is already exactly the size
// given to setRect (fitted): the root then does not measure it again.
type exactView interface {
	exactSize() bool
}

// viewID identifies a view of the root Model: its index in Model.views,
// fixed when New adds it.
type viewID int

// viewKind names what a view is. Navigation names a kind, not an index, so
// views may be added or reordered freely.
type viewKind int

// The kinds of view.
const (
	kindDashboard viewKind = iota + 1
	kindBrowser
	kindConfusion
	kindGallery
	kindSetup
	kindReplay
	kindCanvas
	kindGradients
)

// rect is a rectangle of cells on the screen: origin x, y (0,0 is the
// top-left cell) and size w x h.
type rect struct{ x, y, w, h int }

// contains reports whether the cell x, y is inside r.
func (r rect) contains(x, y int) bool {
	return x >= r.x && x < r.x+r.w && y >= r.y && y < r.y+r.h
}

// mouseMsg is a mouse event given to a view, in the view's coordinates (see
// view). Button and Action say what happened: tea.MouseActionPress with
// tea.MouseButtonLeft or Right is a click, with a wheel button a wheel
// turn; tea.MouseActionMotion with a button held is a drag (the program
// reports motion only while a button is held); tea.MouseActionRelease ends
// a press.
type mouseMsg tea.MouseEvent

// click reports whether m is a press of the left button.
func (m mouseMsg) click() bool {
	return m.Action == tea.MouseActionPress && m.Button == tea.MouseButtonLeft
}

// wheel reports the steps of a wheel turn: -1 up, +1 down, 0 for any other
// event.
func (m mouseMsg) wheel() int {
	switch {
	case m.Action != tea.MouseActionPress:
		return 0
	case m.Button == tea.MouseButtonWheelUp:
		return -1
	case m.Button == tea.MouseButtonWheelDown:
		return 1
	}
	return 0
}

// shownMsg tells a view it has become the active view.
type shownMsg struct{}

// hiddenMsg tells a view it is no longer the active view.
type hiddenMsg struct{}

// showMsg asks the root to make the view of kind active and then hand it
// msg (when not nil), as if that view had started it.
type showMsg struct {
	kind viewKind
	msg  tea.Msg
}

// show is the command of a showMsg.
func show(kind viewKind, msg tea.Msg) tea.Cmd {
	return func() tea.Msg { return showMsg{kind: kind, msg: msg} }
}

// noteMsg asks the root to show text in the footer until the next key (err:
// as an error).
type noteMsg struct {
	text string
	err  bool
}

// viewMsg is the result of a view's command on its way back to that view.
type viewMsg struct {
	id  viewID
	msg tea.Msg
}

// cmdType is the type of tea.Cmd, for route.
var cmdType = reflect.TypeFor[tea.Cmd]()

// teaPkg is Bubble Tea's import path: its messages are the program's.
var teaPkg = reflect.TypeFor[tea.QuitMsg]().PkgPath()

// route tags cmd's result as view id's (see viewMsg). Batches and sequences
// (any message that is a slice of commands, as tea.BatchMsg and Bubble
// Tea's sequence message are) are routed command by command; other
// messages of Bubble Tea itself (tea.QuitMsg, screen and window requests)
// are left for the program.
func route(id viewID, cmd tea.Cmd) tea.Cmd {
	if cmd == nil {
		return nil
	}
	return func() tea.Msg {
		msg := cmd()
		if msg == nil {
			return nil
		}
		v := reflect.ValueOf(msg)
		if v.Kind() == reflect.Slice && v.Type().Elem() == cmdType {
			out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
			for i := range v.Len() {
				if c, _ := v.Index(i).Interface().(tea.Cmd); c != nil {
					out.Index(i).Set(reflect.ValueOf(route(id, c)))
				}
			}
			return out.Interface()
		}
		t := v.Type()
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.PkgPath() == teaPkg {
			return msg
		}
		return viewMsg{id: id, msg: msg}
	}
}

// after is tea.Tick that gives up when ctx ends: a session that is over
// leaves no timer behind (tea.Tick's goroutine would wait out its
// duration after the program has quit).
func after(ctx context.Context, d time.Duration, msg func() tea.Msg) tea.Cmd {
	return func() tea.Msg {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return msg()
		case <-ctx.Done():
			return nil
		}
	}
}
