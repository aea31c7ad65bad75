package tui

import (
	"fmt"
	"strings"

	"github.com/mnist-tui/mnist-tui/engine/runs"
)

// oneRunView is implemented by views that show one run: its predictions
// (the browser, the confusion matrix, the gallery), its weights (the
// replay, the canvas) or its gradients beside another run's (the
// gradients): with several runs the root draws the runs bar above them,
// to choose which.
type oneRunView interface {
	showsOneRun() bool
}

// runsBar is the line under the tab bar, with several runs, above the
// views that show one run: every run by number, marker and label, the
// selected one in brackets. A click on a run shows it, the wheel steps
// through them (so do < and >). It remembers where each run is (at).
type runsBar struct {
	ids   []runs.ID
	spans []span
	drawn string
	// key is what drawn was drawn for.
	key runsBarKey
}

// runsBarKey is everything the bar's drawing depends on.
type runsBarKey struct {
	w       int
	sel     runs.ID
	changes int // runSet.changes
}

// runsBarPrefix starts the bar.
const runsBarPrefix = "run "

// layout draws the bar of set's runs on a line of w cells; runs that do
// not fit are left out around the selected one, marked ‹ and ›.
func (b *runsBar) layout(st *styles, set *runSet, w int) {
	k := runsBarKey{w: w, sel: set.sel, changes: set.changes}
	if k == b.key && b.drawn != "" {
		return
	}
	b.key = k
	n := set.len()
	items := make([]string, n)
	widths := make([]int, n)
	for i, id := range set.ids {
		s := fmt.Sprintf("%d %c %s", id, runMarker(i), set.labels[i])
		if id == set.sel {
			s = "[" + s + "]"
		} else {
			s = " " + s + " "
		}
		items[i], widths[i] = s, width(s)
	}
	hint := "  < > or a click picks the run"
	avail := w - len(runsBarPrefix)
	sum := func(a, z int) int {
		t := 0
		for _, x := range widths[a:z] {
			t += x + 1
		}
		return t
	}
	first, end := 0, n
	if sum(0, n) > avail {
		hint = ""
		sel := max(set.index(set.sel), 0)
		first, end = sel, sel+1
		for grew := true; grew; {
			grew = false
			if end < n && sum(first, end+1)+2 <= avail {
				end, grew = end+1, true
			}
			if first > 0 && sum(first-1, end)+2 <= avail {
				first, grew = first-1, true
			}
		}
	} else if sum(0, n)+width(hint) > avail {
		hint = ""
	}
	var out strings.Builder
	out.WriteString(st.label.Render(runsBarPrefix))
	x := len(runsBarPrefix)
	if first > 0 {
		out.WriteString(st.dim.Render("‹"))
		x++
	}
	b.ids, b.spans = append(b.ids[:0], set.ids...), make([]span, n)
	for i := range b.spans {
		b.spans[i] = span{-1, -1}
	}
	for i := first; i < end; i++ {
		style := st.runStyle(i)
		if set.ids[i] == set.sel {
			style = style.Bold(true)
		}
		out.WriteString(style.Render(items[i]) + " ")
		b.spans[i] = span{x, x + widths[i]}
		x += widths[i] + 1
	}
	if end < n {
		out.WriteString(st.dim.Render("›"))
	}
	out.WriteString(st.dim.Render(hint))
	b.drawn = fit(out.String(), w, 1)
}

// at returns the run at column x, if any.
func (b *runsBar) at(x int) (runs.ID, bool) {
	for i, s := range b.spans {
		if x >= s.x0 && x < s.x1 {
			return b.ids[i], true
		}
	}
	return 0, false
}
