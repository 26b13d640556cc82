//go:build !unix

package stack

// lockDataDir is a no-op where flock is not available.
func lockDataDir(string) (func() error, error) { return func() error { return nil }, nil }
