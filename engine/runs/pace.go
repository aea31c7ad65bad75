package runs

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrPaceLimit: ShiftPace was asked to go past full speed or below the
// slowest rung of the ladder.
var ErrPaceLimit = errors.New("no pace beyond the ladder's end")

// Ladder returns the paces the + and - keys step through, slowest first,
// in training batches per second; full speed (0) comes after the last.
func Ladder() []float64 { return []float64{0.5, 2, 10, 50, 200} }

// ShiftPace returns the next pace from p along the Ladder: the slowest
// rung faster than p (full speed after the last), or the fastest rung
// slower than p (the last rung below full speed). A pace off the ladder
// (--pace 5) moves to its neighbour rung. Past either end it fails with
// ErrPaceLimit.
func ShiftPace(p float64, faster bool) (float64, error) {
	l := Ladder()
	switch {
	case faster && p == 0:
		return 0, fmt.Errorf("runs: %w: already at full speed", ErrPaceLimit)
	case faster:
		for _, r := range l {
			if r > p {
				return r, nil
			}
		}
		return 0, nil
	case p == 0:
		return l[len(l)-1], nil
	}
	for i := len(l) - 1; i >= 0; i-- {
		if l[i] < p {
			return l[i], nil
		}
	}
	return 0, fmt.Errorf("runs: %w: %s is the slowest pace", ErrPaceLimit, FormatPace(p))
}

// FormatPace describes a pace: "full speed", "1 batch/s", "10 batches/s",
// "0.5 batches/s".
func FormatPace(p float64) string {
	switch {
	case p <= 0:
		return "full speed"
	case p == 1:
		return "1 batch/s"
	}
	return strconv.FormatFloat(p, 'g', 4, 64) + " batches/s"
}
