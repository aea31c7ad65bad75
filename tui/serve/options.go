package serve

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Options configure the classroom server. Start from DefaultOptions; the
// zero value is not valid.
type Options struct {
	// Addr is the TCP address to listen on.
	Addr string
	// AuthorizedKeys is an OpenSSH authorized_keys file: the keys allowed
	// to watch.
	AuthorizedKeys string
	// AdminKeys is an authorized_keys file of teachers: they may watch and
	// also pause and resume the run.
	AdminKeys string
	// Open lets anyone in, with any key or none. The server prints a
	// warning when it starts.
	Open bool
	// HostKey is the path of the server's ed25519 host key; it is generated
	// there on first use and kept, so clients see the same fingerprint
	// across restarts.
	HostKey string
	// MaxSessions caps concurrent viewers; the next one is told the server
	// is full.
	MaxSessions int
	// IdleTimeout closes a connection with no traffic either way for that
	// long (0: never). MaxSessionTime closes any connection that old (0:
	// never).
	IdleTimeout, MaxSessionTime time.Duration
	// Rate is how many new sessions per second one IP address may open
	// once its Burst is spent. The burst is big enough for a class behind
	// one NAT.
	Rate  float64
	Burst int
	// Wait starts the training run when the first viewer connects instead
	// of when the server starts.
	Wait bool
	// WaitForTeacher keeps every viewer in a lobby until a teacher (an
	// admin key) presses enter there: then training starts. It needs
	// AdminKeys, and excludes Wait.
	WaitForTeacher bool
	// Follow starts every student's screen following the teacher's
	// (follow mode; f leaves it).
	Follow bool
	// FPS caps each session's frame rate.
	FPS int
	// Refresh is how often, at most, a session is woken up with new
	// reports: the dashboards' redraws are what 50 viewers cost, and this
	// bounds them whatever the training speed.
	Refresh time.Duration
	// HandshakeTimeout closes a connection that has not opened a session
	// this long after it was accepted (SSH handshake and authentication
	// included), like OpenSSH's LoginGraceTime; 0 means never. Such
	// pending connections are also the first to go when the server is at
	// its connection cap.
	HandshakeTimeout time.Duration
	// ShutdownTimeout is how long a graceful shutdown waits for sessions to
	// end before closing every connection.
	ShutdownTimeout time.Duration
	// NoMouse leaves the mouse to the viewers' terminals (text selection)
	// instead of turning mouse reporting on in every session.
	NoMouse bool
}

// DefaultOptions returns the defaults of the serve subcommand's flags.
func DefaultOptions() Options {
	return Options{
		Addr:             "127.0.0.1:2222",
		HostKey:          DefaultHostKeyPath(),
		MaxSessions:      50,
		IdleTimeout:      30 * time.Minute,
		MaxSessionTime:   4 * time.Hour,
		Rate:             1,
		Burst:            60,
		FPS:              10,
		Refresh:          500 * time.Millisecond,
		HandshakeTimeout: 20 * time.Second,
		ShutdownTimeout:  5 * time.Second,
	}
}

// DefaultHostKeyPath returns where the host key lives by default:
// $XDG_DATA_HOME/mnist-tui/host_ed25519, falling back to
// ~/.local/share/mnist-tui/host_ed25519, then to the user's config
// directory, then to the working directory.
func DefaultHostKeyPath() string {
	const name = "host_ed25519"
	if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "mnist-tui", name)
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "mnist-tui", name)
	}
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "mnist-tui", name)
	}
	return filepath.Join("mnist-tui", name)
}

// Bind defines the serve flags on fs, with o's current values as their
// defaults, storing the parsed values into o.
func (o *Options) Bind(fs *flag.FlagSet) {
	fs.StringVar(&o.Addr, "addr", o.Addr, "address to listen on")
	fs.StringVar(&o.AuthorizedKeys, "authorized-keys", o.AuthorizedKeys, "authorized_keys `file` of viewers allowed in")
	fs.StringVar(&o.AdminKeys, "admin-keys", o.AdminKeys, "authorized_keys `file` of teachers, who may also pause, resume, restart and set up runs")
	fs.BoolVar(&o.Open, "open", o.Open, "let anyone in, with any key or none")
	fs.StringVar(&o.HostKey, "host-key", o.HostKey, "host key `path` (an ed25519 key is generated there if missing)")
	fs.IntVar(&o.MaxSessions, "max-sessions", o.MaxSessions, "most concurrent sessions")
	fs.DurationVar(&o.IdleTimeout, "idle-timeout", o.IdleTimeout, "close connections idle this long (0: never)")
	fs.DurationVar(&o.HandshakeTimeout, "handshake-timeout", o.HandshakeTimeout, "close connections that have not opened a session this long after connecting (0: never)")
	fs.DurationVar(&o.MaxSessionTime, "max-session-time", o.MaxSessionTime, "close connections this old (0: never)")
	fs.Float64Var(&o.Rate, "rate", o.Rate, "new sessions per second per IP address, after the burst")
	fs.IntVar(&o.Burst, "burst", o.Burst, "new sessions one IP address may open at once (a class behind one NAT)")
	fs.BoolVar(&o.Wait, "wait", o.Wait, "start training when the first viewer connects")
	fs.BoolVar(&o.WaitForTeacher, "wait-for-teacher", o.WaitForTeacher, "keep everyone in a lobby until a teacher (admin key) presses enter: then training starts")
	fs.BoolVar(&o.Follow, "follow", o.Follow, "students' screens follow the teacher's from the start (f leaves follow mode)")
	fs.IntVar(&o.FPS, "fps", o.FPS, "frames per second per session, at most")
	fs.DurationVar(&o.Refresh, "refresh", o.Refresh, "how often each session gets new reports, at most")
	fs.BoolVar(&o.NoMouse, "no-mouse", o.NoMouse, "leave the mouse to the viewers' terminals (text selection) instead of clicks and the wheel")
}

// RegisterFlags defines the serve flags on fs with their defaults and
// returns the Options they fill in when fs is parsed.
func RegisterFlags(fs *flag.FlagSet) *Options {
	o := DefaultOptions()
	o.Bind(fs)
	return &o
}

// Validate reports the first invalid option, as an error wrapping
// ErrOptions; New calls it too. Authentication sources are checked by
// New, which reads them.
func (o Options) Validate() error {
	switch {
	case o.Addr == "":
		return badOption("--addr is empty")
	case o.MaxSessions <= 0:
		return badOption("--max-sessions %d must be positive", o.MaxSessions)
	case o.IdleTimeout < 0 || o.MaxSessionTime < 0 || o.HandshakeTimeout < 0:
		return badOption("--idle-timeout, --max-session-time and --handshake-timeout must not be negative")
	case o.ShutdownTimeout <= 0:
		return badOption("the shutdown timeout %v must be positive", o.ShutdownTimeout)
	case !(o.Rate > 0):
		return badOption("--rate %g must be positive", o.Rate)
	case o.Burst <= 0:
		return badOption("--burst %d must be positive", o.Burst)
	case o.Refresh < 0:
		return badOption("--refresh %v must not be negative", o.Refresh)
	case o.FPS <= 0 || o.FPS > 120:
		return badOption("--fps %d must be in 1..120", o.FPS)
	case o.Wait && o.WaitForTeacher:
		return badOption("--wait and --wait-for-teacher: choose one (the first viewer, or a teacher, starts training)")
	case o.WaitForTeacher && o.AdminKeys == "":
		return badOption("--wait-for-teacher needs --admin-keys: only a teacher (an admin key) can start training")
	}
	return nil
}

// optionError is an invalid option; it is ErrOptions for errors.Is.
type optionError string

func (e optionError) Error() string        { return string(e) }
func (e optionError) Is(target error) bool { return target == ErrOptions }

// badOption returns the optionError of a message.
func badOption(format string, a ...any) error {
	return optionError("serve: " + fmt.Sprintf(format, a...))
}
