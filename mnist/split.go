package mnist

import (
	"fmt"
	"math/rand/v2"
)

// splitStream is the second PCG seed word of Split, so that Split and a
// Loader given the same seed draw different sequences.
const splitStream = 0x6d6e6973745f7370 // "mnist_sp"

// Split shuffles s's indices with a PCG seeded from seed (math/rand/v2) and
// returns the first nFirst digits and the rest, as new Sets (copies; s is
// left alone). The same seed always gives the same split; nFirst must be in
// 0..s.Len().
func Split(s *Set, nFirst int, seed uint64) (first, rest *Set, err error) {
	if s == nil {
		return nil, nil, fmt.Errorf("mnist: split: %w: nil set", ErrInvalid)
	}
	if nFirst < 0 || nFirst > s.Len() {
		return nil, nil, fmt.Errorf("mnist: split: %w: %d digits of a set of %d", ErrInvalid, nFirst, s.Len())
	}
	perm := rand.New(rand.NewPCG(seed, splitStream)).Perm(s.Len())
	return gather(s, perm[:nFirst]), gather(s, perm[nFirst:]), nil
}

// gather copies the digits of s at idx, in that order, into a new Set.
func gather(s *Set, idx []int) *Set {
	out := &Set{Images: make([]uint8, len(idx)*Pixels), Labels: make([]uint8, len(idx))}
	for k, i := range idx {
		copy(out.Images[k*Pixels:(k+1)*Pixels], s.Image(i))
		out.Labels[k] = s.Labels[i]
	}
	return out
}
