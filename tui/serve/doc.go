// Package serve is the classroom server: one shared training run, served
// over SSH to many viewers, each with their own Bubble Tea dashboard.
//
// # Wiring (what main.go calls)
//
//	opts := serve.RegisterFlags(fs)            // --addr --authorized-keys ... on the serve flag set
//	start := func(report engine.Reporter) (serve.Trainer, error) {
//		t, err := engine.NewTrainer(cfg, data, engine.WithReporter(report))
//		if err != nil {
//			return nil, err
//		}
//		return t, nil
//	}
//	view := serve.ViewInfo{Config: cfg, Sizes: sizes, Test: data.Test, ASCII: ascii}
//	err := serve.Run(ctx, *opts, start, serve.TUI(view), os.Stderr)
//
// Run returns when ctx is cancelled (SIGINT/SIGTERM in main), after a
// graceful shutdown; errors.Is(err, ErrNoAuth / ErrAuthorizedKeys /
// ErrHostKey) are configuration mistakes reported before anything listens.
//
// # Pieces
//
// A Hub keeps the run's full history and fans reports out: Publish never
// blocks, a late joiner first gets the whole history (its charts start at
// step one), and a slow viewer only ever falls behind itself. Each session
// gets its own subscription, woken at most every Options.Refresh; the
// subscriptions wake at the same moments of the clock (multiples of the
// interval) with the same reports, which TUI's models take in one burst
// each and draw through one shared tui.Cache: fifty viewers with the same
// terminal size and colour profile cost one dashboard drawing per refresh.
//
// The server (wish v1 over charmbracelet/ssh) admits public keys listed in
// --authorized-keys or --admin-keys (or anyone, with --open), keeps a
// persistent ed25519 host key, refuses commands, subsystems, port forwarding
// and PTY-less sessions with a one-line message, rate-limits new sessions
// per IP, caps concurrent sessions and connections, closes idle and
// over-long connections, ends only the offending session when its model
// panics, and shuts down gracefully when its context is cancelled.
//
// Every resource a client can make it spend is bounded (limits.go):
// terminal sizes from PTY requests and window changes are clamped to
// tui.MaxWidth x tui.MaxHeight before the model sees them; a connection
// without an admitted session is closed after Options.HandshakeTimeout,
// and such connections are the first to go when the connection cap is
// reached, so silent connections cannot lock students out; a session's
// program is killed when its client goes away; admins are never refused
// for a full room or rate-limited; shutdown waits a bounded time. The log
// escapes every client-supplied string (log.go) and records every
// refusal, unknown keys with their fingerprints; a client whose keys are
// refused is told in one line how to get in (keyboard-interactive's
// instruction, which OpenSSH prints). Host keys readable by group or
// others, and RSA host keys under 2048 bits, are refused. Only
// admin keys may pause, resume and restart the run (R twice in the TUI:
// the run is stopped and built again with the StartFunc, the Hub's history
// starts over, and every session's stream goes on with the new run);
// every viewer may evaluate a snapshot, and concurrent evaluations are
// shared. The Hub stays open when a run ends, so that a restart reaches
// every viewer; it is closed at shutdown.
package serve
