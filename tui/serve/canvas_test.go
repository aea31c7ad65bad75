package serve

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// mark is how much output there is so far, for waitForMatch.
func (tm *terminal) mark() int { return len(tm.screen()) }

// waitForMatch waits until the stripped output after from (a mark)
// matches re and returns the last match.
func (tm *terminal) waitForMatch(t testing.TB, re *regexp.Regexp, from int) []string {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		if all := re.FindAllStringSubmatch(tm.screen()[from:], -1); len(all) > 0 {
			return all[len(all)-1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q never showed up; screen:\n%s", re, tail(tm.screen()))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// drawOverSSH draws on the canvas of term, a viewer of a finished real
// run at 100x30 showing the browser: a vertical stroke dragged with the
// left button (SGR mouse sequences written into the client's PTY, motion
// with the button held) is classified with the run's weights, the keyboard
// draws another, and v replays the drawing.
func drawOverSSH(t *testing.T, term *terminal) {
	t.Helper()
	// From Predictions: Confusion, Gallery, Replay, Canvas.
	term.send(t, "\t\t\t\t")
	term.waitFor(t, "Draw a digit")
	term.waitFor(t, "prediction: none yet")
	// At 100x30 the canvas is compact: pixel column x is screen column
	// x+2 (from 1: the frame, then the drawing), pixel rows 2l and 2l+1
	// are screen line l+4 (the tab bar, the title, the frame). A drag
	// from row 4 to row 23 down column 14.
	x := 14 + 2
	seq := fmt.Sprintf("\x1b[<0;%d;%dM", x, 2+4)
	for l := 3; l <= 11; l++ {
		seq += fmt.Sprintf("\x1b[<32;%d;%dM", x, l+4)
	}
	seq += fmt.Sprintf("\x1b[<0;%d;%dm", x, 11+4)
	at := term.mark()
	term.send(t, seq)
	pred := regexp.MustCompile(`prediction (\d) \((\.\d{3}|1\.00)\)`)
	first := term.waitForMatch(t, pred, at)
	t.Logf("the dragged stroke: %s", first[0])

	// The keyboard: clear, then a stroke down column 10.
	at = term.mark()
	term.send(t, "c")
	term.waitForMatch(t, regexp.MustCompile(`prediction: none yet`), at)
	at = term.mark()
	term.send(t, strings.Repeat("\x1b[D", 4)+strings.Repeat("\x1b[A", 10)+strings.Repeat(" \x1b[B", 20))
	second := term.waitForMatch(t, pred, at)
	t.Logf("the typed stroke: %s", second[0])

	at = term.mark()
	term.send(t, "v")
	term.waitForMatch(t, regexp.MustCompile(`your drawing, preprocessed`), at)
	term.waitForMatch(t, regexp.MustCompile(`row 28/28: predicts `+second[1]), at)
}
