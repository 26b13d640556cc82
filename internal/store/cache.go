package store

import "sync"

// maxCached bounds a Cache: past it the cache starts over, so a registry grown by a script
// does not grow memory with it.
const maxCached = 1024

// Cache keeps records that every request reads and few write (settings, the Dashboard
// registry, OAuth clients) so reading them costs no query. The store that owns it calls
// Clear after every committed write that may touch them; the database has one process
// writing it (the data directory's lock), so nothing else changes them behind its back.
//
// A value read while a write commits is not kept: Get keeps what load returned only if no
// Clear happened since load began, so a reader that raced a writer never leaves the old
// value behind.
type Cache[K comparable, V any] struct {
	mu  sync.Mutex
	gen uint64
	m   map[K]V
}

// Get returns the value kept for key, or calls load and keeps what it returns without error.
func (c *Cache[K, V]) Get(key K, load func() (V, error)) (V, error) {
	c.mu.Lock()
	if v, ok := c.m[key]; ok {
		c.mu.Unlock()
		return v, nil
	}
	gen := c.gen
	c.mu.Unlock()
	v, err := load()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if c.m == nil || len(c.m) >= maxCached {
			c.m = map[K]V{}
		}
		c.m[key] = v
	}
	c.mu.Unlock()
	return v, nil
}

// Clear forgets every value, and any value being loaded meanwhile.
func (c *Cache[K, V]) Clear() {
	c.mu.Lock()
	c.gen++
	c.m = nil
	c.mu.Unlock()
}
