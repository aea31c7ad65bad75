package tui

import (
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
)

// drive hands msg to m, then every message its commands return (batches
// and sequences unrolled), until none is left, and returns the model and
// every message seen. The commands of the setup form's path are quick:
// no ticks, no waiting on a stream.
func drive(t *testing.T, m tea.Model, msg tea.Msg) (tea.Model, []tea.Msg) {
	t.Helper()
	var seen []tea.Msg
	queue := []tea.Msg{msg}
	for len(queue) > 0 {
		msg, queue = queue[0], queue[1:]
		if _, ok := msg.(tea.QuitMsg); ok {
			seen = append(seen, msg)
			continue
		}
		var cmd tea.Cmd
		m, cmd = m.Update(msg)
		seen = append(seen, msg)
		queue = append(queue, run(cmd)...)
		if len(seen) > 1000 {
			t.Fatal("the commands do not settle")
		}
	}
	return m, seen
}

// keys drives m through key presses, given as keyMsg names; "ctrl+u"
// clears a text field.
func keys(t *testing.T, m tea.Model, names ...string) tea.Model {
	t.Helper()
	for _, k := range names {
		msg := keyMsg(k)
		if k == "ctrl+u" {
			msg = tea.KeyMsg{Type: tea.KeyCtrlU}
		}
		m, _ = drive(t, m, msg)
	}
	return m
}

// form returns the setup view of m.
func form(t *testing.T, m tea.Model) *setup {
	t.Helper()
	for _, v := range m.(Model).views {
		if s, ok := v.(*setup); ok {
			return s
		}
	}
	t.Fatal("no setup view")
	return nil
}

// value is the text (or choice) of the form's field name.
func (s *setup) valueOf(name string) string {
	for _, f := range s.fields {
		if f.name == name {
			return f.value()
		}
	}
	return ""
}

// focusOnField moves the focus of an open form to field name with enter
// (the fields before it keep their valid values).
func focusOnField(t *testing.T, m tea.Model, name string) tea.Model {
	t.Helper()
	for i := 0; form(t, m).fields[form(t, m).focus].name != name; i++ {
		if i > 10 {
			t.Fatalf("no field %s", name)
		}
		m = keys(t, m, "enter")
	}
	return m
}

// formModel is a model at 100x30 showing run 1 of a real list of runs
// (with the local terminal's capabilities), on the dashboard.
func formModel(t *testing.T) (tea.Model, *testList) {
	t.Helper()
	tl := newTestList(t, &testTrainer{}, runs.AllCaps(), "")
	return sized(model(t, renderer(termenv.Ascii), testConfig(), testSet(t), tl.access), 100, 30), tl
}

// TestSetupFormStartsARun: N opens the form, pre-filled from the run
// shown; a cell chosen, a hidden size typed, enter through the fields and
// on "joins the comparison" adds the run to the list with exactly those
// settings (the others the shown run's), and the dashboard says so.
func TestSetupFormStartsARun(t *testing.T) {
	m, tl := formModel(t)
	m = keys(t, m, "N")
	s := form(t, m)
	if active(m) != view(s) || !s.typing() {
		t.Fatal("N does not open the form, capturing the keys")
	}
	v := m.View()
	for _, want := range []string{"cell", "hidden size", "learning rate", "batch", "epochs", "seed", "limit", "data set", "pre-filled from run 1 (RNN)", "joins the comparison"} {
		if !strings.Contains(v, want) {
			t.Errorf("the form lacks %q:\n%s", want, v)
		}
	}
	if s.valueOf("hidden") != "128" || s.valueOf("lr") != "0.001" || s.valueOf("seed") != "7" || s.valueOf("cell") != "rnn" {
		t.Fatalf("the form is not filled from the run shown: hidden %s, lr %s, seed %s", s.valueOf("hidden"), s.valueOf("lr"), s.valueOf("seed"))
	}
	m = keys(t, m, "right", "enter", "ctrl+u", "6", "4")
	if got := form(t, m).valueOf("hidden"); got != "64" {
		t.Fatalf("hidden size %q after typing 64", got)
	}
	// Through the other fields, then the question.
	m = focusOnField(t, m, howField)
	m, seen := drive(t, m, keyMsg("enter"))
	var done *setupDoneMsg
	for _, msg := range seen {
		if vm, ok := msg.(viewMsg); ok {
			if d, ok := vm.msg.(setupDoneMsg); ok {
				done = &d
			}
		}
	}
	if done == nil || done.err != nil || done.id != 2 {
		t.Fatalf("submitting added no run 2: %+v", done)
	}
	all := tl.list.Runs()
	if len(all) != 2 {
		t.Fatalf("%d runs in the list, want 2", len(all))
	}
	got, want := all[1].Info.Spec, runs.DefaultSpec()
	want.Cell, want.Hidden, want.Seed = engine.LSTM, 64, 7
	if got != want {
		t.Errorf("the form's run is %+v, want %+v", got, want)
	}
	if active(m).kind() != kindDashboard || form(t, m).typing() {
		t.Error("after submitting the dashboard is not shown")
	}
	if v := m.View(); !strings.Contains(v, "run 2 added to the comparison") {
		t.Errorf("the dashboard does not say the run was added:\n%s", v)
	}
}

// TestSetupFormReplaces: the last question's other answer puts the new
// run in the place of the run the form was filled from.
func TestSetupFormReplaces(t *testing.T) {
	m, tl := formModel(t)
	m = keys(t, m, "N", "ctrl+u")
	m = focusOnField(t, m, "epochs")
	m = keys(t, m, "ctrl+u", "5")
	m = focusOnField(t, m, howField)
	m = keys(t, m, "right")
	if v := m.View(); !strings.Contains(v, "replaces run 1 (RNN)") {
		t.Fatalf("the question does not offer to replace run 1:\n%s", v)
	}
	m = keys(t, m, "enter")
	all := tl.list.Runs()
	if len(all) != 1 || all[0].ID != 2 || all[0].Info.Spec.Epochs != 5 {
		t.Fatalf("after replacing: %+v, want run 2 alone, 5 epochs", all)
	}
	if v := m.View(); !strings.Contains(v, "run 2 replaces run 1") {
		t.Errorf("the replacement is not told:\n%s", v)
	}
}

// formCases reads engine/runs' table of values (testdata/fields.txt), the
// one the flags are tested with, keeping the fields the form types in.
func formCases(t *testing.T, dir, file string) []struct{ field, text, want string } {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "engine", "runs", "testdata", "fields.txt"))
	if err != nil {
		t.Fatal(err)
	}
	typed := map[string]bool{}
	for _, f := range setupFields()[1:] {
		typed[f.name] = true
	}
	r := strings.NewReplacer("$DIR", dir, "$FILE", file)
	var out []struct{ field, text, want string }
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, "\t")
		if strings.HasPrefix(line, "#") || len(f) != 3 || !typed[f[0]] {
			continue
		}
		c := struct{ field, text, want string }{f[0], r.Replace(f[1]), r.Replace(f[2])}
		if c.want == "-" {
			c.want = ""
		}
		out = append(out, c)
	}
	return out
}

// flagMessage is what the command line says of --field text: the error of
// the run flags (runs.NewFlags), "" when it is accepted.
func flagMessage(field, text string) string {
	fs := flag.NewFlagSet("mnist-tui", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fl := runs.NewFlags(fs, runs.DefaultSpec())
	err := fs.Parse([]string{"--" + field + "=" + text})
	if err == nil {
		_, err = fl.Specs(context.Background(), runs.DefaultCapacity)
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// TestSetupRefusesAsTheFlags types every value of the flags' table into
// its field of the form: a value the flag refuses is refused under its
// field with exactly the flag's message, the focus staying on it; a value
// the flag takes moves the focus on.
func TestSetupRefusesAsTheFlags(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := formCases(t, dir, file)
	if len(cases) < 15 {
		t.Fatalf("%d cases of the form's fields in the table", len(cases))
	}
	// Wide enough for every message on one line (see TestSetupErrorWraps).
	m0, _ := formModel(t)
	m0 = sized(m0, 200, 30)
	for _, tc := range cases {
		t.Run(tc.field+"="+tc.text, func(t *testing.T) {
			flagSays := flagMessage(tc.field, tc.text)
			if flagSays != tc.want {
				t.Fatalf("the flag says %q, the table %q", flagSays, tc.want)
			}
			m := keys(t, m0, "N")
			m = focusOnField(t, m, tc.field)
			m = keys(t, m, "ctrl+u")
			m, _ = drive(t, m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(tc.text)})
			m = keys(t, m, "enter")
			s := form(t, m)
			shown := formErrors(m)
			onField := s.fields[s.focus].name == tc.field
			if tc.want == "" {
				if len(shown) != 0 || onField {
					t.Errorf("a value the flag takes: errors %q, focus still on the field %v", shown, onField)
				}
				return
			}
			if len(shown) != 1 || shown[0] != flagSays || !onField || !s.typing() {
				t.Errorf("form shows %q (focus on the field %v), want exactly the flag's %q", shown, onField, flagSays)
			}
			// The error goes once the value is edited.
			m = keys(t, m, "backspace")
			if v := m.View(); strings.Contains(v, flagSays) {
				t.Error("the error stays after an edit")
			}
		})
	}
}

// formErrors are the errors shown under the form's fields, each
// unwrapped (its continuation lines, indented to the values, joined).
func formErrors(m tea.Model) []string {
	var out []string
	cont := false
	for _, l := range strings.Split(m.View(), "\n") {
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(t, "--"):
			out, cont = append(out, t), true
		case cont && t != "" && strings.HasPrefix(l, strings.Repeat(" ", setupValueX)):
			out[len(out)-1] += t
		default:
			cont = false
		}
	}
	return out
}

// TestSetupErrorWraps: in a narrow terminal a long message is wrapped
// under its field, nothing of it cut.
func TestSetupErrorWraps(t *testing.T) {
	m, _ := formModel(t)
	m = sized(m, 60, 24)
	m = keys(t, m, "N")
	m = focusOnField(t, m, "data")
	missing := filepath.Join(t.TempDir(), "a-directory-with-a-long-name", "that-does-not-exist")
	m, _ = drive(t, m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(missing)})
	m = keys(t, m, "enter")
	checkFrame(t, m.View(), 60, 24)
	want := flagMessage("data", missing)
	shown := formErrors(m)
	squash := func(s string) string { return strings.Join(strings.Fields(s), "") }
	if len(shown) != 1 || squash(shown[0]) != squash(want) || shown[0] == want {
		t.Errorf("at 60 columns the form shows %q, want %q wrapped", shown, want)
	}
}

// TestSetupValidatesTheWhole: values valid one by one but not together
// (a limit below a batch size typed after it) are refused on submitting,
// under the field the message names.
func TestSetupValidatesTheWhole(t *testing.T) {
	m, tl := formModel(t)
	m = keys(t, m, "N")
	m = focusOnField(t, m, "limit")
	m = keys(t, m, "ctrl+u", "1", "0", "0", "enter") // at batch 64: accepted
	m = keys(t, m, "shift+tab", "shift+tab", "shift+tab", "shift+tab")
	if f := form(t, m); f.fields[f.focus].name != "batch" {
		t.Fatalf("shift+tab went to %s, want the batch", f.fields[f.focus].name)
	}
	m = keys(t, m, "ctrl+u", "2", "5", "6")
	// A click on the last question skips the fields in between.
	y := -1
	for i, l := range strings.Split(m.View(), "\n") {
		if strings.Contains(l, "the new run") {
			y = i
		}
	}
	m, cmd := m.Update(tea.MouseMsg{X: 4, Y: y, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft})
	if cmd != nil || form(t, m).fields[form(t, m).focus].name != howField {
		t.Fatalf("a click on the last question does not focus it (line %d)", y)
	}
	m = keys(t, m, "enter")
	s := form(t, m)
	if s.fields[s.focus].name != "limit" || !strings.Contains(m.View(), "--limit 100: smaller than one batch (256)") {
		t.Errorf("the whole spec's error is not under the limit:\n%s", m.View())
	}
	if n := len(tl.list.Runs()); n != 1 {
		t.Errorf("%d runs: a refused form added one", n)
	}
}

// TestSetupKeysArriveTogether: keys typed at once (handled one after
// another in one Update) go where the focus is after each: enter moves
// the focus at once, so "enter 9" changes the next field, not this one.
func TestSetupKeysArriveTogether(t *testing.T) {
	m, _ := formModel(t)
	m = keys(t, m, "N", "enter")
	// Both keys before any command runs.
	m, _ = m.Update(keyMsg("enter"))
	m, _ = m.Update(keyMsg("9"))
	s := form(t, m)
	if s.valueOf("hidden") != "128" || s.valueOf("lr") != "0.0019" {
		t.Errorf("enter 9 at once: hidden %q, lr %q; want 128 and 0.0019", s.valueOf("hidden"), s.valueOf("lr"))
	}
}

// TestSetupCancel: esc closes the form back to the view it was opened
// from; opened by --setup (Options.Setup, before any run) it quits.
func TestSetupCancel(t *testing.T) {
	m, tl := formModel(t)
	m = keys(t, m, "tab", "N", "esc")
	if active(m).kind() != kindBrowser || form(t, m).typing() {
		t.Errorf("esc leaves %s active", active(m).title())
	}
	if n := len(tl.list.Runs()); n != 1 {
		t.Errorf("a cancelled form added a run (%d runs)", n)
	}

	spec := runs.DefaultSpec()
	spec.Limit, spec.Epochs = 320, 2
	spec.Save = filepath.Join(t.TempDir(), "first.safetensors") // --setup --save: kept
	closed := make(chan runs.Event)
	close(closed)
	boot := func() tea.Model {
		var m tea.Model = sized(New(Options{Renderer: renderer(termenv.Ascii), Access: tl.access, Events: closed, Setup: &spec}), 80, 24)
		for _, msg := range run(m.Init()) {
			m, _ = drive(t, m, msg)
		}
		return m
	}
	m = boot()
	s := form(t, m)
	if active(m) != view(s) || s.valueOf("limit") != "320" || s.valueOf("epochs") != "2" {
		t.Fatalf("--setup does not open the form filled from the flags:\n%s", m.View())
	}
	m = sized(m, 200, 30) // room for the heading's path
	if v := m.View(); !strings.Contains(v, "esc quits") || strings.Contains(v, "joins the comparison") || !strings.Contains(v, "saves to "+spec.Save) {
		t.Errorf("the first form offers no add/replace, says esc quits and where it saves:\n%s", v)
	}
	_, seen := drive(t, m, keyMsg("esc"))
	if _, ok := seen[len(seen)-1].(tea.QuitMsg); !ok {
		t.Errorf("esc on the first form does not quit: %T", seen[len(seen)-1])
	}
	// Submitting it adds the run.
	m = focusOnField(t, boot(), "data")
	m = keys(t, m, "enter")
	all := tl.list.Runs()
	if len(all) != 2 || all[1].Info.Spec != spec {
		t.Fatalf("the first form's run: %+v, want %+v", all[len(all)-1].Info.Spec, spec)
	}
}

// TestSetupRefused: without the capability N says why and opens nothing,
// and the New run view says it too; a run the list refuses (here: closed)
// opens the form again with its values and the reason.
func TestSetupRefused(t *testing.T) {
	reason := "only the teacher can start runs"
	tl := newTestList(t, &testTrainer{}, runs.Caps{Pause: true}, reason)
	m := sized(model(t, renderer(termenv.Ascii), testConfig(), testSet(t), tl.access), 100, 30)
	m = keys(t, m, "N")
	if active(m).kind() != kindDashboard || !strings.Contains(m.View(), reason) {
		t.Errorf("a viewer's N is not refused with the reason:\n%s", m.View())
	}
	m = keys(t, m, "shift+tab", "enter") // the last tab
	if active(m).kind() != kindSetup || active(m).typing() || !strings.Contains(m.View(), reason) {
		t.Errorf("the New run view lets a viewer in:\n%s", m.View())
	}
	if v := sized(newTest(t, nil), 100, 30); !strings.Contains(keys(t, v, "N").View(), noteNoRuns) {
		t.Error("N without a list of runs does not say it is not available")
	}

	m, tl = formModel(t)
	m = keys(t, m, "N")
	m = focusOnField(t, m, "seed")
	m = keys(t, m, "ctrl+u", "9")
	tl.list.Close()
	m = focusOnField(t, m, howField)
	m = keys(t, m, "enter")
	s := form(t, m)
	if !s.typing() || s.valueOf("seed") != "9" || !strings.Contains(m.View(), "error: the run was not added: runs: add: the list of runs is closed") {
		t.Errorf("a refused run loses the form or its reason:\n%s", m.View())
	}
}
