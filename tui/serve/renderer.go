package serve

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/ssh"
	"github.com/muesli/termenv"
)

// sessionRenderer returns a Lip Gloss renderer for the session's terminal:
// its colour profile comes from the client's TERM and COLORTERM, and a dark
// background is assumed (the dashboard's styles do not depend on it).
//
// It stands in for wish's bubbletea.MakeRenderer, which (v1.4.7, emulated
// PTY) asks the terminal for its background colour and then blocks reading
// the session until an answer comes: a terminal or script that never
// answers gets no dashboard at all, and its first key press is swallowed by
// the query (TestMuteTerminal).
func sessionRenderer(sess ssh.Session) *lipgloss.Renderer {
	pty, _, ok := sess.Pty()
	if !ok || pty.Term == "" || pty.Term == "dumb" {
		return lipgloss.NewRenderer(sess, termenv.WithProfile(termenv.Ascii))
	}
	r := lipgloss.NewRenderer(sess,
		termenv.WithEnvironment(environ(sess.Environ())),
		termenv.WithUnsafe(),
		termenv.WithColorCache(true),
	)
	r.SetHasDarkBackground(true)
	return r
}

// environ is a session's environment as termenv reads it.
type environ []string

var _ termenv.Environ = environ(nil)

// Environ returns the variables as "key=value" strings.
func (e environ) Environ() []string { return e }

// Getenv returns the value of k, or "".
func (e environ) Getenv(k string) string {
	for i := len(e) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(e[i], k+"="); ok {
			return v
		}
	}
	return ""
}
