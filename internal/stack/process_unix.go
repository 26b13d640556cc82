//go:build unix

package stack

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"syscall"
)

// usage reads the process's CPU time and peak RSS from getrusage, and its resident memory
// now from /proc where there is one.
func usage() (cpuSeconds float64, maxRSS, rss int64, ok bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0, 0, false
	}
	cpuSeconds = float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
	maxRSS = int64(ru.Maxrss)
	if runtime.GOOS != "darwin" { // Linux and the BSDs count kilobytes, macOS bytes
		maxRSS *= 1024
	}
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		if f := bytes.Fields(b); len(f) > 1 {
			if pages, err := strconv.ParseInt(string(f[1]), 10, 64); err == nil {
				rss = pages * int64(os.Getpagesize())
			}
		}
	}
	return cpuSeconds, maxRSS, rss, true
}
