// Package tui is the terminal interface of mnist-tui: Bubble Tea models that
// show training runs live (a dashboard of progress bars, full-history loss
// and accuracy charts with the test accuracy and learning-rate changes,
// and the notebook's epoch table; with several runs, every run overlaid in
// its colour and marker and a runs table), a browser of test predictions
// drawn digit by digit, a confusion matrix heatmap whose cells open the
// browser on exactly those digits, a gallery of test digits with their
// predicted labels, and a form that sets up a new run. Predictions arrive
// live while a run trains (a sample of the test set evaluated every few
// batches, for every viewer) and every view that shows them says where
// they come from. And inside the network: the replay of one digit read
// row by row (engine.Model.Trace: the prediction after every row, the
// hidden state, an LSTM's cell state and gates, a saliency map), a canvas
// to draw a digit on, classified live after MNIST's own preprocessing
// (mnist/preprocess), and the gradients through time of the runs
// (Report.GradNorms) as heatmaps, the run shown beside another.
//
// The views that run the model themselves (the replay, the canvas, the
// browser's saliency map) share one snapshot of the shown run's weights
// (Access.Snapshot: a copy, so they never race with training), taken again
// when the run has moved on, at most once a second (at once when another
// run is shown), and only while one of them is shown.
//
// New builds the root Model from Options; Run runs it in a terminal. One
// Model serves one viewer: for SSH, build one per session with the session's
// own lipgloss renderer, so each viewer gets its own colour profile.
//
// # Views
//
// The root Model is a tab bar over a list of views, and the view interface
// (view.go) is the contract every view relies on; new views (a runs table, a
// setup form, a gallery, a heatmap, a replay, a canvas, a lobby) implement
// it and are added in New. In short:
//   - Layout is computed in Update, never in View: on a window size and
//     whenever the footer's height changes, every view gets its rectangle,
//     origin included (setRect). The tab bar lays itself out too, and knows
//     where each tab is.
//   - A view's own command results come back to it, routed by view ID,
//     even after a tab switch: the root tags every command a view returns
//     (route); spinners and ticks of an inactive view go on.
//   - Keys go to the active view after the root's global keys, or all to a
//     view that captures the keyboard (typing). A burst of runes in one
//     KeyMsg is split into single presses.
//   - The mouse: a click on a tab switches views; events over the body go
//     to the active view in its own coordinates (mouseMsg), a press
//     capturing the drag and the release.
//   - Navigation is a message (showMsg: a view kind and a message for it),
//     never a type assertion; views hear shownMsg and hiddenMsg.
//
// Hit-testing uses the root's own rectangles, computed in Update, rather
// than github.com/lrstanley/bubblezone: zones are found by scanning every
// frame in View for markers that a package-level counter numbers, so the
// dashboard drawn once and shared by fifty SSH sessions (Cache) would carry
// one session's markers and be unreadable to the others, every frame would
// have to be scanned (measured with bubblezone v1.0.0 on this app's 120x40
// frames, machine loaded: 0.1-0.3 ms for the dashboard or the browser with
// three tab zones, 3 ms for the confusion matrix with its 100 cells, against
// 0.2 µs for a frame whose parts did not change here, and 14-20 µs for the
// layout every Update computes), and the zones land asynchronously, after
// View.
//
// # Data
//
// Training progress arrives as the events of a runs.List on a channel (a
// subscription): every run's history, then every change. The model keeps a
// state per run (runSet) and shows one of them in the header, the bars, the
// browser, the matrix and the gallery (with its live predictions), and
// with several runs its test accuracy and learning-rate changes on the
// overlaid charts: the run whose attempt started last (the one training,
// in a queue), until the viewer picks another (< and >, a click on the
// runs table or the runs bar). The keys that control a run (pause, pace,
// one batch, learning rate, evaluate, save, restart) act on the run shown.
// A run's start event describes it and starts its charts over, so nothing
// is inferred from counters. It drains whatever is pending in one message
// and re-arms the wait at most about 15 times a second, so a fast trainer
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
// # Keys and the mouse
//
// Keys: tab and shift+tab switch views, p pauses and resumes, n trains
// one batch while paused, + and - change the pace along the ladder, ] and
// [ double and halve the learning rate (each for every viewer, on the run
// shown), e evaluates the whole test set on a snapshot of the current
// weights for every viewer, w saves a checkpoint, R twice restarts the run
// shown, N opens the setup form of a new run, < and > pick the run shown,
// f follows the teacher (in a classroom), ? shows every key (esc closes
// it), q or ctrl+c quits; in the lobby a teacher's enter starts training.
// Dashboard: s changes the loss smoothing, b switches between
// Braille and plain-character charts. Browser: h/l (or arrows) step, g/G go
// to the ends, a jumps to an index, r picks at random, m keeps the
// misclassified digits, 0-9 keep one target class, c or esc clears the
// filters, d switches between ASCII shading and colour half blocks.
// Confusion matrix: arrows or hjkl choose a cell, enter browses its digits.
// Gallery: arrows or hjkl choose a digit, v or enter opens its replay, o
// opens it in the browser, pgdown/space and pgup page, m keeps the
// misclassified, 0-9 one true class, c or esc clears, d switches shading
// and colour. Browser and gallery: v or enter replays the digit, and in the
// browser s shows its saliency map. Replay: left and right (h/l) step
// through the rows, g/G go to the first and the last, space plays and
// pauses, up and down (k/j) change the speed, s shows the saliency map, d
// the drawing mode, esc goes back. Canvas: arrows move the cursor, space
// paints, x erases, c clears, t shows the preprocessed digit, v replays the
// drawing. Gradients: left and right (h/l) pick the run compared with the
// run shown, x switches the batch axis between log and linear.
// Setup form: enter (tab, down) checks a field and moves on, shift+tab (up)
// goes back, left and right change a choice, esc cancels.
//
// The mouse (unless Options.NoMouse): a click on a tab switches to it, the
// wheel over the tab bar steps through the tabs; a click on a run's row of
// the runs table or on a run in the runs bar shows it; a click on a confusion
// cell browses its digits, the wheel moves the selection; in the browser
// the wheel steps through the digits and a click on a thumbnail of the
// next digits (shown from about 200x60) shows that digit; in the gallery
// a click on a digit opens it in the browser and the wheel pages; on the
// canvas the left button paints while dragged and the right one erases.
//
// # Classroom
//
// Over SSH every session's Model is part of a classroom (Options.Class, a
// Classroom that tui/serve implements). While training waits for the
// teacher (serve --wait-for-teacher) the root shows the lobby instead of
// its tabs: the runs' settings, how many are connected, "waiting for the
// teacher"; a teacher also sees who is connected and starts training with
// enter. A status line above the footer tells every viewer what the
// teacher did ("paused by the teacher", "run restarted by the teacher"),
// built from the stream's action and state events through one table
// (actionNotices, one entry per runs.ActionKind) and kept until the next
// change; a late joiner's replayed history gives it the current one, and a
// view that lost its data (a restart) says why. Follow mode (f, or
// Options.Follow) makes a student's screen show the teacher's: a Screen
// is the view, the run and the view's own part (sharedView: the browser's
// digit, filters and drawing mode, the matrix's cell, the dashboard's
// smoothing, the gallery's filter and page, the replay's digit, step and
// autoplay, the canvas's drawing, the run the gradients compare), shared by the teachers' Models and applied by the
// followers', until the student's own navigation.
//
// Quitting returns tea.Quit; it is the caller's job to close the list of
// runs then (see Run). The model never quits by itself: when training ends
// it stays on the results.
//
// Sub-packages: charts draws the line charts, digit draws 28x28 digits.
package tui
