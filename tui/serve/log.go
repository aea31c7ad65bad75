package serve

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/ssh"
)

// maxLogString bounds how much of one client-supplied string the log
// keeps, maxLogEnv how many environment variables of a session it shows.
const (
	maxLogString = 64
	maxLogEnv    = 8
)

// quote returns s as a double-quoted Go string with every control,
// non-ASCII and non-printable character escaped, cut to maxLogString runes
// (with "..." after the closing quote when cut): a client-supplied string
// (user name, TERM, environment, client version, command) can never end a
// log line or start a forged one.
func quote(s string) string {
	r := []rune(s)
	if len(r) > maxLogString {
		return strconv.QuoteToASCII(string(r[:maxLogString])) + "..."
	}
	return strconv.QuoteToASCII(s)
}

// who describes a session for the log: user, address and key, escaped.
func who(sess ssh.Session) string {
	return "user=" + quote(sess.User()) + " addr=" + sess.RemoteAddr().String() + " key=" + fingerprint(sess.PublicKey())
}

// logSessions is the logging middleware (inside clampSizes): a line when a
// session starts (with its terminal type and the size it asked for, its
// environment and client version, all escaped) and when it ends.
func (s *Server) logSessions(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		start := time.Now()
		term := "none"
		if ss, ok := sess.(sizedSession); ok {
			term = quote(ss.pty.Term) + " " + strconv.Itoa(ss.asked.Width) + "x" + strconv.Itoa(ss.asked.Height)
		}
		var env []string
		for i, kv := range sess.Environ() {
			if i == maxLogEnv {
				env = append(env, fmt.Sprintf("(+%d more)", len(sess.Environ())-i))
				break
			}
			env = append(env, quote(kv))
		}
		s.logf("connect %s client=%s pty=%s env=[%s]", who(sess), quote(sess.Context().ClientVersion()), term, strings.Join(env, " "))
		next(sess)
		s.logf("disconnect %s after %s", who(sess), time.Since(start).Round(time.Millisecond))
	}
}
