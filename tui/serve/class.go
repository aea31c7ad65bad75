package serve

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode"

	"github.com/mnist-tui/mnist-tui/engine/runs"
	"github.com/mnist-tui/mnist-tui/tui"
)

// errNotTeacher is why a student's start is refused.
var errNotTeacher = errors.New("only the teacher (an admin key) can start training")

// maxShownName bounds a user name or key comment in the teacher's list of
// who is connected.
const maxShownName = 40

// room is the classroom: what the sessions share beyond the runs (which
// the runs package has): whether training waits for the teacher (the
// lobby, --wait-for-teacher), who is connected, and the screen of the
// teacher the students follow, the one who acted last. It keeps no state
// of the runs and none of any view: a Screen is the TUI's value, handed
// from the teachers' models to the students' as it is. Every session is a
// member; its model reads the room through the member (a tui.Classroom)
// and is woken on every change.
type room struct {
	list *runs.List
	logf func(format string, a ...any)

	mu      sync.Mutex
	lobby   bool
	members []*member // in the order they came
	// leader is the teacher students follow: the one who acted last (or
	// the first to share a screen, before any acted); screen is what it
	// shares.
	leader *member
	screen tui.Screen
	acts   uint64 // counts the teachers' acts
}

// newRoom returns the room of list's viewers; with lobby, training waits
// until a teacher starts it (Release).
func newRoom(list *runs.List, logf func(string, ...any), lobby bool) *room {
	return &room{list: list, logf: logf, lobby: lobby}
}

// member is one session in the room, and its model's tui.Classroom.
type member struct {
	r     *room
	who   string // for the log: user, address, key
	shown tui.Member
	admin bool
	// changed has room for one wake-up; it is closed when the member
	// leaves (under r.mu, as every send is).
	changed chan struct{}
	left    bool
	// acted is r.acts when this teacher last acted (0: never); screen is
	// what it last shared.
	acted  uint64
	screen tui.Screen
}

var _ tui.Classroom = (*member)(nil)

// join adds a member: its user name, its key's comment (in the keys file)
// and fingerprint as a teacher sees them, who as the log names it.
func (r *room) join(user, comment, fp, who string, admin bool) *member {
	m := &member{
		r:       r,
		who:     who,
		shown:   tui.Member{User: printable(user), Key: describeKey(printable(comment), fp), Teacher: admin},
		admin:   admin,
		changed: make(chan struct{}, 1),
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.members = append(r.members, m)
	r.notifyLocked(false)
	return m
}

// leave removes m. A teacher who leaves while a run is paused leaves it
// paused, and the log says so; students who followed that teacher follow
// the teacher who acted last before (their screens stay as they are while
// there is none).
func (r *room) leave(m *member) {
	r.mu.Lock()
	for i, x := range r.members {
		if x == m {
			r.members = append(r.members[:i], r.members[i+1:]...)
			break
		}
	}
	m.left = true
	close(m.changed)
	if r.leader == m {
		r.leader = nil
		for _, x := range r.members {
			if x.admin && (r.leader == nil || x.acted > r.leader.acted) {
				r.leader = x
			}
		}
		if r.leader != nil {
			r.screen = r.leader.screen
		}
	}
	lobby, teachers := r.lobby, r.teachersLocked()
	r.notifyLocked(false)
	r.mu.Unlock()
	if !m.admin {
		return
	}
	for _, st := range r.list.Runs() {
		if st.State == runs.StatePaused {
			r.logf("teacher %s left while run %d is paused: it stays paused until a teacher resumes it", m.who, st.ID)
		}
	}
	if lobby && teachers == 0 {
		r.logf("no teacher left in the lobby: training waits until a teacher connects and presses enter")
	}
}

// teachersLocked counts the teachers connected.
func (r *room) teachersLocked() int {
	n := 0
	for _, x := range r.members {
		if x.admin {
			n++
		}
	}
	return n
}

// notifyLocked wakes every member (students only, when only the
// teacher's screen changed), never blocking: a member already woken
// reads the newest state anyway.
func (r *room) notifyLocked(studentsOnly bool) {
	for _, x := range r.members {
		if studentsOnly && x.admin {
			continue
		}
		select {
		case x.changed <- struct{}{}:
		default:
		}
	}
}

// Changed is woken on every change of the room; it is closed once the
// member has left.
func (m *member) Changed() <-chan struct{} { return m.changed }

// State returns the room as m sees it.
func (m *member) State() tui.ClassState {
	r := m.r
	r.mu.Lock()
	defer r.mu.Unlock()
	s := tui.ClassState{Lobby: r.lobby, Teacher: m.admin, Connected: len(r.members), Teachers: r.teachersLocked(), Screen: r.screen}
	if m.admin {
		s.Members = make([]tui.Member, len(r.members))
		for i, x := range r.members {
			s.Members[i] = x.shown
		}
	}
	return s
}

// Start ends the lobby: the list is released, training starts, and every
// model is told. Only a teacher may; starting twice does nothing more.
func (m *member) Start() error {
	if !m.admin {
		return errNotTeacher
	}
	r := m.r
	r.mu.Lock()
	lobby, n := r.lobby, len(r.members)
	r.lobby = false
	r.mu.Unlock()
	if !lobby {
		return nil
	}
	r.list.Release()
	r.logf("training started by the teacher %s (%d in the room)", m.who, n)
	r.mu.Lock()
	r.notifyLocked(false)
	r.mu.Unlock()
	return nil
}

// Share records a teacher's screen; the students follow the teacher who
// acted last.
func (m *member) Share(s tui.Screen, acted bool) {
	if !m.admin {
		return
	}
	r := m.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if m.left {
		return
	}
	m.screen = s
	if acted {
		r.acts++
		m.acted = r.acts
	}
	if r.leader == nil || acted {
		r.leader = m
	}
	if r.leader == m && r.screen != s {
		r.screen = s
		r.notifyLocked(true)
	}
}

// printable returns s with control and other unprintable characters
// replaced by '?' and cut to maxShownName runes: a user name is the
// client's to choose, and it is drawn on the teacher's terminal.
func printable(s string) string {
	var b strings.Builder
	n := 0
	for _, c := range s {
		if n == maxShownName {
			b.WriteString("…")
			break
		}
		if !unicode.IsPrint(c) {
			c = '?'
		}
		b.WriteRune(c)
		n++
	}
	return b.String()
}

// describeKey names a session's key for the teacher: its comment in the
// keys file and its fingerprint, or only the fingerprint.
func describeKey(comment, fp string) string {
	if comment != "" {
		return fmt.Sprintf("%s (%s)", comment, fp)
	}
	return fp
}
