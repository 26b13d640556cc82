package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"strconv"
	"time"

	"github.com/spf13/cobra"
)

// addPprofFlag adds --pprof, the debug listener of `up`.
func addPprofFlag(c *cobra.Command) {
	c.Flags().String("pprof", "", "serve Go's profiles (CPU, heap, mutex, block, goroutines) at this loopback address, e.g. 127.0.0.1:6060 or :6060, under /debug/pprof/")
}

// startPprof serves net/http/pprof on the address of --pprof, if given, and switches on the
// mutex and block profiles, which are off otherwise because they cost time on every lock.
// The listener is loopback only: a heap profile holds the parties' secrets and tokens. A
// bare port (":6060") listens on 127.0.0.1. stop closes it.
func startPprof(cmd *cobra.Command, stderr io.Writer) (stop func(), err error) {
	addr, _ := cmd.Flags().GetString("pprof")
	if addr == "" {
		return func() {}, nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		if _, perr := strconv.Atoi(addr); perr != nil {
			return nil, fmt.Errorf("--pprof %q: want a loopback address with a port, e.g. 127.0.0.1:6060 or :6060", addr)
		}
		host, port = "", addr
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if !bindIsLoopback(host) {
		return nil, fmt.Errorf("--pprof %q: profiles show the parties' memory, secrets included, so they are served on a loopback address only (127.0.0.1, ::1 or localhost); reach them from elsewhere through an SSH tunnel", addr)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, fmt.Errorf("--pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	// One sample per 100 µs of waiting, and one in 10 contended locks: enough to find what
	// serializes, cheap enough not to hide it.
	runtime.SetBlockProfileRate(int((100 * time.Microsecond).Nanoseconds()))
	prevMutex := runtime.SetMutexProfileFraction(10)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(stderr, "boxo-sim: --pprof listener: %v\n", err)
		}
	}()
	fmt.Fprintf(stderr, "Profiles at http://%s/debug/pprof/ (e.g. go tool pprof http://%s/debug/pprof/profile?seconds=10)\n", ln.Addr(), ln.Addr())
	return func() {
		_ = srv.Close()
		runtime.SetBlockProfileRate(0)
		runtime.SetMutexProfileFraction(prevMutex)
	}, nil
}
