// Package serve is the classroom server: the runs of a runs.List, served
// over SSH to many viewers, each with their own Bubble Tea dashboard. It
// keeps SSH, authentication and sessions; the runs, their history and
// their controls are the runs package's.
//
// # Wiring (what main.go calls)
//
//	opts := serve.RegisterFlags(fs)           // --addr --authorized-keys ... on the serve flag set
//	list := runs.NewList(runs.Held())         // Serve releases it (--wait: with the first viewer; --wait-for-teacher: a teacher's enter)
//	// ... queue the specs of the command line with an owner's runs.Access
//	models := func(s serve.Session) tea.Model {
//		return tui.New(tui.Options{Context: s.Context, Renderer: s.Renderer, Access: s.Access, Bursts: s.Bursts(), NoMouse: !s.Mouse, Class: s.Class, Follow: s.Follow})
//	}
//	err := serve.Run(ctx, *opts, list, models, os.Stderr)
//
// Run returns when ctx is cancelled (SIGINT/SIGTERM in main), after a
// graceful shutdown that closes the list; errors.Is(err, ErrNoAuth /
// ErrAuthorizedKeys / ErrHostKey) are configuration mistakes reported
// before anything listens, and a run's failure is returned at the end.
//
// # Pieces
//
// Each session gets its own subscription to the list's stream (the whole
// history first: a late joiner's charts start at step one), woken at most
// every Options.Refresh; the subscriptions wake at the same moments of the
// clock with the same events, which the TUI's models take in one burst
// each and draw through one shared tui.Cache: fifty viewers with the same
// terminal size and colour profile cost one dashboard drawing per refresh.
//
// Each session gets a runs.Access naming its user, key fingerprint and
// address: admin keys may pause, resume and start runs (restart, add,
// replace); every other viewer may watch and evaluate snapshots (shared
// between viewers) and is refused with ReadOnlyReason. The log records
// every run's start, epochs, end and failure, and every control action
// with who took it.
//
// # The classroom
//
// Every session is a member of the server's room (class.go), its model's
// tui.Classroom (Session.Class): the room knows whether training waits
// for the teacher (the lobby of Options.WaitForTeacher: a teacher's enter
// releases the list, and the log says who), who is connected (user, key
// comment and fingerprint, for the teachers' lobby), and the screen of the
// teacher students follow: the one who acted last, or the one who acted
// last before them when they leave. The room holds a tui.Screen as the TUI
// made it and keeps nothing of the runs (the runs package has those) nor
// of any view. Options.Follow starts students in follow mode. A teacher
// who leaves while a run is paused leaves it paused, and the log says so.
//
// The server (wish v1 over charmbracelet/ssh) admits public keys listed in
// --authorized-keys or --admin-keys (or anyone, with --open), keeps a
// persistent ed25519 host key, refuses commands, subsystems, port forwarding
// and PTY-less sessions with a one-line message, rate-limits new sessions
// per IP, caps concurrent sessions and connections, closes idle and
// over-long connections, ends only the offending session when its model
// panics, and shuts down gracefully when its context is cancelled. Every
// session's program reports the mouse (tui.MouseOption) unless
// Options.NoMouse (--no-mouse), and Session.Mouse tells the model which.
//
// # Bounds
//
// Every resource a client can make the server spend is bounded
// (limits.go): terminal sizes from PTY requests and window changes are
// clamped to tui.MaxWidth x tui.MaxHeight before the model sees them; a
// connection without an admitted session is closed after
// Options.HandshakeTimeout, and such connections are the first to go when
// the connection cap is reached, so silent connections cannot lock
// students out; a session's program is killed when its client goes away;
// admins are never refused for a full room or rate-limited; shutdown waits
// a bounded time. The log escapes every client-supplied string (log.go)
// and records every refusal, unknown keys with their fingerprints; a
// client whose keys are refused is told in one line how to get in
// (keyboard-interactive's instruction, which OpenSSH prints). Host keys
// readable by group or others, and RSA host keys under 2048 bits, are
// refused.
package serve
