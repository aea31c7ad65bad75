// Package serve is the classroom server: one shared training run, served
// over SSH to many viewers, each with their own Bubble Tea dashboard.
//
// A Hub keeps the run's full history and fans reports out, so a late joiner
// sees the charts from the start, and a slow viewer never stalls training
// or anyone else. The server (wish v1 over charmbracelet/ssh) admits public
// keys from an authorized_keys file (or anyone, with Options.Open), keeps a
// persistent ed25519 host key, refuses commands, subsystems, forwarding
// and PTY-less sessions with a one-line message, rate-limits new sessions
// per IP, caps concurrent sessions, and shuts down gracefully when its
// context is cancelled. Only admin keys may pause and resume the run;
// every viewer may evaluate a snapshot.
//
// main.go calls RegisterFlags on the serve subcommand's flag set, then Run
// with a StartFunc that builds the engine's trainer and a ModelFunc that
// builds the TUI's root model from a Session.
package serve
