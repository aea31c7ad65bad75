package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// captions returns the gallery's predicted labels on a screen ("✓ 7",
// "✗ 2, is 7"), in order, and the label of the predictions shown.
func captions(screen string) (caps []string, from string) {
	for _, l := range strings.Split(screen, "\n") {
		if strings.HasPrefix(l, "Gallery · ") {
			from = strings.TrimSpace(l)
		}
		for _, f := range strings.Split(l, "  ") {
			f = strings.Trim(strings.TrimSpace(f), "[]")
			if strings.HasPrefix(f, "✓ ") || strings.HasPrefix(f, "✗ ") {
				caps = append(caps, f)
			}
		}
	}
	return caps, from
}

// runStep is the dashboard's "run   step N/M" count, -1 when not shown.
func runStep(screen string) int {
	m := regexp.MustCompile(`run\s+step ([0-9,]+)/`).FindStringSubmatch(screen)
	if m == nil {
		return -1
	}
	n, err := strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
	if err != nil {
		return -1
	}
	return n
}

// TestEndToEndLive runs `mnist-tui --pace 5 --limit 3000` in a real
// terminal (tmux): during the first training epoch, without e, the
// gallery shows test digits with their predicted labels, and two captures
// some batches apart differ in their predictions; p then n advances the
// step count by exactly one; + changes the pace the header shows.
func TestEndToEndLive(t *testing.T) {
	m := startTmux(t, "live", 120, 40, e2eBinary(t)+" --pace 5 --limit 3000")
	m.waitFor(regexp.MustCompile(`● train, epoch 2/3 · 5 batches/s`), 60*time.Second)
	m.keys("Tab", "Tab", "Tab")
	m.waitFor(regexp.MustCompile(`\[Gallery\]`), 10*time.Second)
	first := m.waitUntil("the gallery with live predicted labels in epoch 2", func(s string) bool {
		caps, from := captions(s)
		return len(caps) >= 10 && strings.Contains(from, "live · epoch 2/3, after batch")
	}, 60*time.Second)
	caps1, from1 := captions(first)
	// A few seconds on (at 5 batches a second, each followed by a live
	// evaluation), still in the first training epoch (47 batches).
	second := m.waitUntil("other predictions a few batches later", func(s string) bool {
		caps, from := captions(s)
		return strings.Contains(from, "live · epoch 2/3") && from != from1 && len(caps) == len(caps1) && strings.Join(caps, "|") != strings.Join(caps1, "|")
	}, 60*time.Second)
	_, from2 := captions(second)
	t.Logf("first: %s\nlater: %s", from1, from2)

	// p, then n: exactly one more batch.
	m.keys("BTab", "BTab", "BTab") // back to the dashboard
	m.waitFor(regexp.MustCompile(`\[Dashboard\]`), 10*time.Second)
	m.keys("p")
	m.waitFor(regexp.MustCompile(`‖ paused · 5 batches/s`), 10*time.Second)
	// The batch under way when p was pressed ends first: wait until the
	// count holds still over a second.
	var before int
	m.waitUntil("the step count to hold still while paused", func(s string) bool {
		n := runStep(s)
		time.Sleep(time.Second)
		before = runStep(m.screen())
		return n > 0 && n == before
	}, 30*time.Second)
	m.keys("n")
	after := m.waitUntil(fmt.Sprintf("step %d after n", before+1), func(s string) bool { return runStep(s) == before+1 }, 30*time.Second)
	if !strings.Contains(after, "one batch (n again for another, p resumes)") {
		t.Errorf("n's note is missing:\n%s", after)
	}
	time.Sleep(time.Second) // nothing more may train while paused
	if n := runStep(m.screen()); n != before+1 {
		t.Fatalf("p then n: step %d → %d, want exactly one more", before, n)
	}

	// + changes the pace the header shows, paused or not.
	m.keys("+")
	s := m.waitFor(regexp.MustCompile(`‖ paused · 10 batches/s`), 10*time.Second)
	if !strings.Contains(s, "pace 10 batches/s") {
		t.Errorf("the dashboard's header does not show the new pace:\n%s", s)
	}
	m.keys("q")
}
