package mnist

import (
	"fmt"
	"math/rand/v2"
)

// splitStream is the second PCG seed word of Split, so that Split and a
// Loader given the same seed draw different sequences.
const splitStream = 0x6d6e6973745f7370 // "mnist_sp"

// Split shuffles s's indices with a PCG seeded from seed (math/rand/v2) and
// returns the first nFirst digits and the rest, as new Sets that pick
// their images from s's (their labels are copies; s is left alone, and
// must not change while they are used). The same seed always gives the
// same split; nFirst must be in 0..s.Len().
func Split(s *Set, nFirst int, seed uint64) (first, rest *Set, err error) {
	if s == nil {
		return nil, nil, fmt.Errorf("mnist: split: %w: nil set", ErrInvalid)
	}
	if nFirst < 0 || nFirst > s.Len() {
		return nil, nil, fmt.Errorf("mnist: split: %w: %d digits of a set of %d", ErrInvalid, nFirst, s.Len())
	}
	perm := rand.New(rand.NewPCG(seed, splitStream)).Perm(s.Len())
	return pick(s, perm[:nFirst]), pick(s, perm[nFirst:]), nil
}

// pick returns the Set of s's digits at idx, in that order, its images
// read from s's.
func pick(s *Set, idx []int) *Set {
	out := &Set{Images: s.Images, Labels: make([]uint8, len(idx)), idx: make([]int32, len(idx))}
	for k, i := range idx {
		out.Labels[k] = s.Labels[i]
		out.idx[k] = int32(s.at(i))
	}
	return out
}
