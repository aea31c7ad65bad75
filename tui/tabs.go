package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// appName is the title at the left of the tab bar.
const appName = "mnist-tui"

// tabBar is the first line of the screen: the app's name, one tab per view
// (the active one in brackets) and the run's status on the right. It lays
// itself out for a width (layout, from the root's Update) and remembers
// where each tab is, so that a click can choose it (at). With many views or
// a narrow terminal it first drops the app's name, then cuts the status,
// then shortens every title alike, and last shows only the tabs around
// the active one, with ‹ and › where tabs are left out.
type tabBar struct {
	st *styles

	titles     []string // as laid out (perhaps shortened)
	name       bool     // the app's name is shown
	first, end int      // the tabs shown: [first, end)
	spans      []span   // where each tab is on the line (shown ones only)
	left       int      // width of the left part (name, markers and tabs)

	// drawn is the last bar render drew, for drawnKey.
	drawn, drawnKey string
}

// span is a range of columns [x0, x1).
type span struct{ x0, x1 int }

// minStatus is how far the status may be cut before the titles are.
const minStatus = 12

// tabPad is what a tab adds to its title: a bracket or a space each side.
const tabPad = 2

// minCut is the shortest a title is cut to, ellipsis included: five
// letters keep the eight titles apart ("Confu…", "Canvas"; at four,
// "Con…" and "Can…", "Gal…" and "Gra…" were not); below it the bar
// scrolls instead.
const minCut = 6

// layout places the tabs of titles on a line of w cells that leaves room
// for a status of statusW cells on the right, keeping tab active shown.
func (t *tabBar) layout(titles []string, active, w, statusW int) {
	avail := w - statusW - 1
	widths := func(cut int) []int {
		ws := make([]int, len(titles))
		for i, s := range titles {
			ws[i] = min(ansi.StringWidth(s), cut) + tabPad
		}
		return ws
	}
	sum := func(ws []int) int {
		n := 0
		for _, x := range ws {
			n += x
		}
		return n
	}
	nameW := len(appName) + 1
	const whole = 1 << 30
	t.name = sum(widths(whole))+nameW <= avail
	cut := whole
	if !t.name && sum(widths(whole)) > avail {
		// The status may be cut to a few cells before the titles are:
		// then shorten every title to the longest length that fits.
		avail = w - min(statusW, minStatus) - 1
		if sum(widths(whole)) > avail {
			cut = minCut
			for cut < 64 && sum(widths(cut+1)) <= avail {
				cut++
			}
		}
	}
	ws := widths(cut)
	// The tabs shown: all, or a window around the active one that leaves
	// a cell for each marker.
	t.first, t.end = 0, len(titles)
	if sum(ws) > avail && len(titles) > 0 {
		active = min(max(active, 0), len(titles)-1)
		t.first, t.end = active, active+1
		used := ws[active] + 2
		for grew := true; grew; {
			grew = false
			if t.end < len(titles) && used+ws[t.end] <= avail {
				used += ws[t.end]
				t.end++
				grew = true
			}
			if t.first > 0 && used+ws[t.first-1] <= avail {
				t.first--
				used += ws[t.first]
				grew = true
			}
		}
	}
	// New slices: Model copies share the old ones.
	t.titles = make([]string, len(titles))
	t.spans = make([]span, len(titles))
	x := 0
	if t.name {
		x = nameW
	}
	if t.first > 0 {
		x++ // ‹
	}
	for i, s := range titles {
		if ansi.StringWidth(s) > cut {
			s = ansi.Truncate(s, cut, "…")
		}
		t.titles[i] = s
		if i < t.first || i >= t.end {
			t.spans[i] = span{-1, -1}
			continue
		}
		t.spans[i] = span{x, x + ws[i]}
		x += ws[i]
	}
	if t.end < len(titles) {
		x++ // ›
	}
	t.left = x
}

// at returns the tab at column x, if any.
func (t *tabBar) at(x int) (int, bool) {
	for i, s := range t.spans {
		if x >= s.x0 && x < s.x1 {
			return i, true
		}
	}
	return 0, false
}

// render draws the bar of w cells with tab active highlighted and status
// (already styled) on the right.
func (t *tabBar) render(active, w int, status string) string {
	k := fmt.Sprintf("%d\x00%d\x00%t\x00%d\x00%d\x00%s\x00%s", active, w, t.name, t.first, t.end, status, strings.Join(t.titles, "\x00"))
	if k != t.drawnKey {
		t.drawn, t.drawnKey = t.draw(active, w, status), k
	}
	return t.drawn
}

// draw draws the bar for render.
func (t *tabBar) draw(active, w int, status string) string {
	var b strings.Builder
	if t.name {
		b.WriteString(t.st.title.Render(appName) + " ")
	}
	if t.first > 0 {
		b.WriteString(t.st.dim.Render("‹"))
	}
	for i := t.first; i < t.end; i++ {
		s := t.titles[i]
		if i == active {
			b.WriteString(t.st.tabOn.Render("[" + s + "]"))
		} else {
			b.WriteString(t.st.tabOff.Render(" " + s + " "))
		}
	}
	if t.end < len(t.titles) {
		b.WriteString(t.st.dim.Render("›"))
	}
	left := b.String()
	gap := w - t.left - width(status)
	if gap < 1 {
		return ansi.Truncate(left+" "+status, w, "…")
	}
	return left + strings.Repeat(" ", gap) + status
}
