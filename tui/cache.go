package tui

import (
	"sync"

	"github.com/muesli/termenv"
)

// DefaultCacheSize is how many drawings a Cache made by NewCache keeps.
const DefaultCacheSize = 64

// Cache shares drawings between Models that show the same run, such as the
// SSH sessions watching one training run: the dashboard drawn for one viewer
// is handed to every other viewer whose run data, size, colour profile and
// chart settings are the same, so fifty viewers of one run cost about one
// drawing per refresh instead of fifty. Only Models of the same Config and
// Sizes may share a Cache (their drawings would differ in nothing else, but
// a Model checks its run data against the drawing's anyway).
//
// A Cache is safe for concurrent use. When several Models ask for the same
// drawing at once, one draws it and the others wait for it. It keeps the
// newest drawings, up to its size. The zero Cache is not usable; call
// NewCache.
type Cache struct {
	mu      sync.Mutex
	entries map[cacheKey]*cacheEntry
	order   []cacheKey // ring of the keys, oldest at next
	next    int
}

// NewCache returns an empty Cache that keeps up to size drawings
// (DefaultCacheSize when size <= 0).
func NewCache(size int) *Cache {
	if size <= 0 {
		size = DefaultCacheSize
	}
	return &Cache{entries: make(map[cacheKey]*cacheEntry, size), order: make([]cacheKey, 0, size)}
}

// cacheKey is everything a shared drawing depends on.
type cacheKey struct {
	// version and applied identify the run data (runState.version).
	version uint64
	applied int
	over    bool
	w, h    int
	profile termenv.Profile
	ascii   bool
	smooth  int
	// runs fingerprints every run of a comparison (runSet.fingerprint;
	// 0 with a single run).
	runs uint64
}

// cacheEntry is one drawing; done is closed once s is set, or failed is
// set when drawing it panicked.
type cacheEntry struct {
	done   chan struct{}
	s      string
	failed bool
}

// get returns the drawing for k, calling draw to make it unless another
// Model has (or is making) it.
func (c *Cache) get(k cacheKey, draw func() string) string {
	c.mu.Lock()
	if e, ok := c.entries[k]; ok {
		c.mu.Unlock()
		<-e.done
		if e.failed {
			return draw()
		}
		return e.s
	}
	e := &cacheEntry{done: make(chan struct{})}
	c.addLocked(k, e)
	c.mu.Unlock()

	ok := false
	defer func() {
		if !ok {
			// draw panicked: forget the entry, let waiters draw their own.
			c.mu.Lock()
			if c.entries[k] == e {
				delete(c.entries, k)
			}
			c.mu.Unlock()
			e.failed = true
		}
		close(e.done)
	}()
	e.s = draw()
	ok = true
	return e.s
}

// addLocked stores e under k, evicting the oldest entry when full. c.mu
// must be held.
func (c *Cache) addLocked(k cacheKey, e *cacheEntry) {
	if len(c.order) < cap(c.order) {
		c.order = append(c.order, k)
	} else {
		old := c.order[c.next]
		if c.entries[old] != nil {
			delete(c.entries, old)
		}
		c.order[c.next] = k
		c.next = (c.next + 1) % len(c.order)
	}
	c.entries[k] = e
}

// Len reports how many drawings c holds.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
