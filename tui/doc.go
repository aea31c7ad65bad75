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
// Training progress arrives as engine.Report values on a channel. The model
// drains whatever is pending in one message and re-arms the wait at most
// about 15 times a second, so a fast trainer costs the UI a bounded number
// of frames. Nothing drawn depends on the wall clock: times come from the
// reports. The TUI never touches the trainer's type; it asks for pausing and
// evaluation through the small Control interface.
//
// Sub-packages: charts draws the line charts, digit draws 28x28 digits.
package tui
