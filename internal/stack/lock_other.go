//go:build !unix

package stack

import "io/fs"

// lockDataDir is a no-op where flock is not available.
func lockDataDir(string) (func() error, error) { return func() error { return nil }, nil }

// ownedByUs cannot tell here; modes are left as they are.
func ownedByUs(fs.FileInfo) bool { return false }
