package tui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// kindLobby is the lobby's kind. The lobby is not one of the root's tabs
// (it is a state of the root, see Model.inLobby), so its kind stays out of
// the tabs' list in view.go.
const kindLobby viewKind = 1000

// lobby is what every viewer of a classroom sees while training waits
// for the teacher (serve --wait-for-teacher): the runs' settings, how many
// are connected, "waiting for the teacher"; a teacher also sees who is
// connected, and starts training with enter. It keeps the view contract
// (the root draws it in the body's rectangle and shows its keys), but
// takes no keys itself: the root's lobbyKey does.
type lobby struct {
	set *runSet
	st  *styles
	km  keyMap

	class     ClassState
	following bool
	w, h      int
	// members are the members the last drawing listed.
	members []Member
	// view is the last drawing, drawnFor what it was drawn for.
	view     string
	drawnFor lobbyKey
}

// lobbyKey is everything the lobby's drawing depends on but the members.
type lobbyKey struct {
	w, h, changes, connected, teachers int
	teacher, following                 bool
}

func newLobby(set *runSet, st *styles, km keyMap) *lobby {
	return &lobby{set: set, st: st, km: km}
}

func (l *lobby) kind() viewKind                 { return kindLobby }
func (l *lobby) title() string                  { return "Lobby" }
func (l *lobby) init() tea.Cmd                  { return nil }
func (l *lobby) update(tea.Msg) (view, tea.Cmd) { return l, nil }
func (l *lobby) setRect(r rect)                 { l.w, l.h = r.w, r.h }
func (l *lobby) typing() bool                   { return false }
func (l *lobby) keys() ([]key.Binding, [][]key.Binding) {
	if l.class.Teacher {
		return []key.Binding{l.km.StartClass}, [][]key.Binding{{l.km.StartClass}}
	}
	return []key.Binding{l.km.Follow}, [][]key.Binding{{l.km.Follow}}
}

// setClass gives the lobby the classroom to show.
func (l *lobby) setClass(c ClassState, following bool) {
	l.class, l.following = c, following
}

func (l *lobby) key() lobbyKey {
	c := l.class
	return lobbyKey{w: l.w, h: l.h, changes: l.set.changes, connected: c.Connected, teachers: c.Teachers, teacher: c.Teacher, following: l.following}
}

// View draws the lobby; it is drawn again only when what it shows changed.
func (l *lobby) View() string {
	k := l.key()
	if l.view == "" || k != l.drawnFor || !slices.Equal(l.members, l.class.Members) {
		l.view, l.drawnFor = l.draw(), k
		l.members = slices.Clone(l.class.Members)
	}
	return l.view
}

func (l *lobby) draw() string {
	st, c := l.st, l.class
	lbl, val := st.label.Render, st.bold.Render
	lines := []string{st.title.Render("Waiting for the teacher"), ""}
	if c.Teacher {
		lines = append(lines, st.note.Render("You are a teacher: press enter to start training for everyone."))
	} else {
		lines = append(lines, "Training starts when the teacher presses enter.")
	}
	lines = append(lines, "", val("Runs"))
	sep := lbl(" · ")
	labelW := 0
	for _, id := range l.set.ids {
		labelW = max(labelW, width(l.set.label(id)))
	}
	for i, id := range l.set.ids {
		run := l.set.get(id)
		if run == nil || run.info == nil {
			continue
		}
		c, d := run.cfg, run.info.Data
		head := fmt.Sprintf("%2d  ", id)
		if l.set.len() > 1 {
			label := l.set.label(id)
			head += st.runStyle(i).Render(label) + strings.Repeat(" ", labelW-width(label)+2)
		}
		items := []string{
			lbl("model ") + val(fmt.Sprintf("%s %d→%d→%d", c.Cell.Title(), c.Inputs, c.Hidden, c.Classes)),
			lbl("batch ") + val(fmt.Sprint(c.Batch)),
			lbl("Adam lr ") + val(fmt.Sprint(c.LR)),
			lbl("epochs ") + val(fmt.Sprint(c.Epochs)),
			lbl("seed ") + val(fmt.Sprint(c.Seed)),
			lbl("data ") + val(d.Name),
			lbl("train ") + val(group(d.Train)),
			lbl("val ") + val(group(d.Val)),
			lbl("test ") + val(group(d.Test)),
		}
		for j, s := range wrapItems(items, sep, max(l.w-width(head), 20)) {
			if j > 0 {
				head = strings.Repeat(" ", width(head))
			}
			lines = append(lines, head+s)
		}
	}
	if l.set.len() == 0 {
		lines = append(lines, lbl("  no run yet"))
	}
	students := c.Connected - c.Teachers
	lines = append(lines, "", lbl("connected ")+val(fmt.Sprint(c.Connected))+lbl(fmt.Sprintf(" (%s, %s)", plural(c.Teachers, "teacher"), plural(students, "student"))))
	switch {
	case c.Teacher:
	case l.following:
		lines = append(lines, lbl("Your screen will follow the teacher's (f: browse on your own)."))
	default:
		lines = append(lines, lbl("Once training starts, f makes your screen follow the teacher's."))
	}
	if c.Teacher && len(c.Members) > 0 {
		lines = append(lines, "", val("Who is connected"))
		room := l.h - len(lines)
		userW := 0
		for _, mb := range c.Members {
			userW = max(userW, min(width(mb.User), 20))
		}
		for i, mb := range c.Members {
			if i == room-1 && len(c.Members) > room {
				lines = append(lines, lbl(fmt.Sprintf("  … and %d more", len(c.Members)-i)))
				break
			}
			role := "student"
			if mb.Teacher {
				role = "teacher"
			}
			user := mb.User + strings.Repeat(" ", max(userW-width(mb.User), 0))
			lines = append(lines, fmt.Sprintf("  %s  %s  %s", lbl(role), val(user), lbl(mb.Key)))
		}
	}
	for i, s := range lines {
		lines[i] = ansi.Truncate(s, l.w, "…")
	}
	return strings.Join(lines, "\n")
}

// plural says n things: "1 teacher", "2 students".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
