//go:build !unix

package stack

// usage is not measured where getrusage is missing.
func usage() (cpuSeconds float64, maxRSS, rss int64, ok bool) { return 0, 0, 0, false }
