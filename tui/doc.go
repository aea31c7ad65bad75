// Package tui is the terminal interface of mnist-tui: Bubble Tea models that
// show a training run live (a dashboard of progress bars, full-history loss
// and accuracy charts and the notebook's epoch table), a browser of test
// predictions drawn digit by digit, and a confusion matrix whose cells open
// the browser on exactly those digits.
//
// New builds the root Model from Options; Run runs it in a terminal. One
// Model serves one viewer: for SSH, build one per session with the session's
// own lipgloss renderer, so each viewer gets its own colour profile.
//
// Training progress arrives as the events of a runs.List on a channel (a
// subscription): every run's history, then every change. The model shows
// the run whose attempt started last (the one training, in a queue); a
// run's start event describes it and starts its charts over, so nothing is
// inferred from counters. It drains whatever is pending in one message and
// re-arms the wait at most about 15 times a second, so a fast trainer
// costs the UI a bounded number of frames; fed through Options.Bursts
// instead, it draws once per burst.
// Nothing drawn depends on the wall clock: times come from the reports.
// A view is drawn again only when what it shows changed, and a frame whose
// parts did not change is the previous one. Models of one run can share a
// Cache: the dashboard drawn for one of them (keyed by a fingerprint of
// the reports, the size, the colour profile and the chart settings) serves
// all the others, which is what keeps fifty SSH viewers cheap.
//
// The TUI never touches a trainer; its keys act on the run shown through
// the viewer's runs.Access, whose capabilities say what it may do (over
// SSH, viewers without an admin key are refused with the Access's reason).
//
// Keys: tab and shift+tab switch views, p pauses and resumes, e evaluates
// the test set on a snapshot of the current weights, w saves a checkpoint,
// R twice restarts the run, ? shows every key, q or ctrl+c quits. Dashboard: s changes the loss smoothing, b switches between
// Braille and plain-character charts. Browser: h/l (or arrows) step, g/G go
// to the ends, a jumps to an index, r picks at random, m keeps the
// misclassified digits, 0-9 keep one target class, c or esc clears the
// filters, d switches between ASCII shading and colour half blocks.
// Confusion matrix: arrows or hjkl choose a cell, enter browses its digits.
//
// Quitting returns tea.Quit; it is the caller's job to close the list of
// runs then (see Run). The model never quits by itself: when training ends
// it stays on the results.
//
// Sub-packages: charts draws the line charts, digit draws 28x28 digits.
package tui
