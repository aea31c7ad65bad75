package tui

import "github.com/charmbracelet/bubbles/key"

// keyMap holds every key binding; the same bindings feed bubbles/help.
type keyMap struct {
	// Everywhere. CloseHelp closes the full help; ForceQuit is what quits
	// while a view captures the keyboard.
	Quit, Next, Prev, Help, CloseHelp, ForceQuit, Pause, Eval, Save, Restart key.Binding
	// The run's pace, single steps and learning rate, everywhere; PaceHelp
	// and LRHelp show the pairs in the help (their keys are never typed).
	Faster, Slower, Step, LRUp, LRDown, PaceHelp, LRHelp key.Binding
	// Runs: set up a new run, pick the run shown (with several).
	NewRun, PrevRun, NextRun key.Binding
	// PickRun shows < and > together in the hint line.
	PickRun key.Binding
	// A classroom's: follow the teacher's screen, start training from
	// the lobby (a teacher's).
	Follow, StartClass key.Binding
	// The mouse: help entries only (their keys are never typed), disabled
	// without the mouse (see setMouse).
	ClickTab, ClickCell, ClickDigit, WheelDigit, WheelCell, ClickRun, ClickGallery, WheelGallery key.Binding
	// Dashboard.
	Smooth, Charts key.Binding
	// Browser.
	Left, Right, First, Last, Jump, Random, Wrong, Class, Clear, Mode key.Binding
	// Confusion matrix (Left and Right are shared with the browser).
	Up, Down, Open key.Binding
	// Gallery (with Left, Right, Up, Down, Wrong, Class, Clear, Mode;
	// Replay opens the digit's replay, OpenDigit the browser on it).
	PageDown, PageUp, OpenDigit key.Binding
	// Inside the RNN: the replay key of the browser, the gallery and the
	// canvas, and the saliency toggle (browser and replay); the replay's
	// (Left, Right, First and Last step through the rows); the canvas's
	// (CursorUp ... move its cursor); the gradients' (Left and Right pick
	// the run compared with the run shown).
	Replay, Saliency, Play, PlayFaster, PlaySlower, Back              key.Binding
	CursorUp, CursorDown, CursorLeft, CursorRight, Paint, Erase, Wipe key.Binding
	Prepared, DragPaint, Cursor                                       key.Binding
	OtherPrev, OtherNext, Axis                                        key.Binding
	// Typing an index.
	Accept, Cancel key.Binding
	// The setup form: open it (from its tab), and its keys (huh's).
	FormOpen, FormNext, FormBack, FormChoose, FormCancel key.Binding
}

func newKeyMap() keyMap {
	b := func(help, desc string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return keyMap{
		Quit: b("q", "quit", "q", "ctrl+c"),
		Next: b("tab", "next view", "tab"),
		Prev: b("shift+tab", "previous view", "shift+tab"),
		Help: b("?", "help", "?"),
		// Esc closes the full help before anything else sees it.
		CloseHelp: b("esc", "close help", "esc"),
		ForceQuit: b("ctrl+c", "quit", "ctrl+c"),
		Pause:     b("p", "pause/resume", "p"),
		Eval:      b("e", "evaluate test set now", "e"),
		Save:      b("w", "save checkpoint", "w"),
		// Restart is shown in the help only where it is available (see
		// Model.footer); pressing it elsewhere says why not.
		Restart: b("R", "restart run", "R"),
		Faster:  b("+", "faster", "+", "="),
		Slower:  b("-", "slower", "-", "_"),
		Step:    b("n", "one batch (paused)", "n"),
		LRUp:    b("]", "learning rate ×2", "]"),
		LRDown:  b("[", "learning rate ÷2", "["),
		// The pairs, for the help.
		PaceHelp: b("+/-", "pace", helpKey+"pace"),
		LRHelp:   b("[/]", "learning rate", helpKey+"lr"),
		// N: "new run" (n is the single step of the live controls).
		NewRun:    b("N", "new run", "N"),
		PrevRun:   b("<", "previous run", "<"),
		NextRun:   b(">", "next run", ">"),
		PickRun:   b("</>", "pick run", "<", ">"),
		Charts:    b("b", "braille/plain charts", "b"),
		Smooth:    b("s", "loss smoothing", "s"),
		Left:      b("←/h", "previous", "left", "h"),
		Right:     b("→/l", "next", "right", "l"),
		First:     b("g", "first", "g", "home"),
		Last:      b("G", "last", "G", "end"),
		Jump:      b("a", "jump to index", "a"),
		Random:    b("r", "random", "r"),
		Wrong:     b("m", "misclassified only", "m"),
		Class:     b("0-9", "only this digit", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"),
		Clear:     b("c/esc", "clear filters", "c", "esc"),
		Mode:      b("d", "shading/colour", "d"),
		Up:        b("↑/k", "up", "up", "k"),
		Down:      b("↓/j", "down", "down", "j"),
		Open:      b("enter", "browse these digits", "enter"),
		OpenDigit: b("o", "open in the browser", "o"),
		PageDown:  b("pgdn/space", "more digits", "pgdown", " "),
		PageUp:    b("pgup", "back", "pgup"),
		Accept:    b("enter", "go", "enter"),
		Cancel:    b("esc", "cancel", "esc"),

		Replay:      b("v/enter", "replay", "v", "enter"),
		Saliency:    b("s", "saliency", "s"),
		Play:        b("space", "play/pause", " "),
		PlayFaster:  b("↑/k", "faster", "up", "k"),
		PlaySlower:  b("↓/j", "slower", "down", "j"),
		Back:        b("esc", "back", "esc"),
		CursorUp:    b("↑", "cursor up", "up"),
		CursorDown:  b("↓", "cursor down", "down"),
		CursorLeft:  b("←", "cursor left", "left"),
		CursorRight: b("→", "cursor right", "right"),
		Paint:       b("space", "paint", " "),
		Erase:       b("x", "erase", "x"),
		Wipe:        b("c", "clear", "c"),
		Prepared:    b("t", "show preprocessed", "t"),
		OtherPrev:   b("←/h", "compare with previous run", "left", "h"),
		OtherNext:   b("→/l", "compare with next run", "right", "l"),
		Axis:        b("x", "log/linear batches", "x"),
		// Cursor is the help's one entry for the four cursor keys.
		Cursor: b("←↑↓→", "move cursor", helpKey+"cursor"),

		FormOpen:   b("enter", "set up a run", "enter"),
		FormNext:   b("enter/tab", "next", "enter", "tab"),
		FormBack:   b("shift+tab", "back", "shift+tab"),
		FormChoose: b("←/→", "choose", "left", "right"),
		FormCancel: b("esc", "cancel", "esc"),

		ClickTab:   b("click tab", "switch view", mouseKey+"tab"),
		ClickCell:  b("click cell", "browse these digits", mouseKey+"cell"),
		ClickDigit: b("click digit", "show it", mouseKey+"digit"),
		WheelDigit: b("wheel", "previous/next digit", mouseKey+"wheel-digit"),
		WheelCell:  b("wheel", "cell up/down", mouseKey+"wheel-cell"),
		ClickRun:   b("click run", "show that run", mouseKey+"run"),

		ClickGallery: b("click digit", "open in the browser", mouseKey+"gallery"),
		WheelGallery: b("wheel", "more digits", mouseKey+"wheel-gallery"),
		// A classroom's: f follows the teacher, a teacher's enter in the
		// lobby starts training.
		Follow:     b("f", "follow the teacher", "f"),
		StartClass: b("enter", "start training", "enter"),
		DragPaint:  b("drag", "left paints, right erases", mouseKey+"drag-paint"),
	}
}

// mouseKey and helpKey start the keys of help entries that are not keys
// (the mouse's, the pairs'): no key press is ever named so.
const (
	mouseKey = "mouse:"
	helpKey  = "help:"
)

// setMouse shows the mouse's help entries, or hides them when the mouse is
// off.
func (k *keyMap) setMouse(on bool) {
	for _, b := range []*key.Binding{&k.ClickTab, &k.ClickCell, &k.ClickDigit, &k.WheelDigit, &k.WheelCell, &k.ClickRun, &k.ClickGallery, &k.WheelGallery, &k.DragPaint} {
		b.SetEnabled(on)
	}
}

// globalFull is the column of bindings every view's full help shows: the
// restart and new-run keys only where runs can be started, the keys that
// pick a run only with several runs.
func (k keyMap) globalFull(start, several bool) []key.Binding {
	out := []key.Binding{k.Next, k.Prev, k.ClickTab, k.Pause, k.Step, k.PaceHelp, k.LRHelp, k.Eval, k.Save}
	if start {
		out = append(out, k.Restart, k.NewRun)
	}
	if several {
		out = append(out, k.PrevRun, k.NextRun)
	}
	return append(out, k.Help, k.CloseHelp, k.Quit)
}
