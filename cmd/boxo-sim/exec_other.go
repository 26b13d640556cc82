//go:build !unix

package main

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup: without process groups, CMD shares exec's.
func ownProcessGroup(*exec.Cmd) {}

// signalGroup passes sig on to CMD itself.
func signalGroup(c *exec.Cmd, sig syscall.Signal) {
	if sig == syscall.SIGKILL {
		_ = c.Process.Kill()
		return
	}
	_ = c.Process.Signal(sig)
}

// endGroup: without process groups, what CMD left running is not known.
func endGroup(*exec.Cmd) {}
