//go:build unix

package main

import (
	"errors"
	"os/exec"
	"syscall"
	"time"
)

// ownProcessGroup makes CMD the leader of a process group of its own, so a signal reaches it
// once, from exec, whether it came from a terminal's Ctrl-C or a CI runner, and exec can end
// what CMD leaves running.
func ownProcessGroup(c *exec.Cmd) {
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// signalGroup sends sig to CMD's process group.
func signalGroup(c *exec.Cmd, sig syscall.Signal) {
	_ = syscall.Kill(-c.Process.Pid, sig)
}

// endGroup stops the processes CMD left running in its group once it has ended: SIGTERM,
// then SIGKILL for those still there a second later.
func endGroup(c *exec.Cmd) {
	pgid := -c.Process.Pid
	if err := syscall.Kill(pgid, syscall.SIGTERM); errors.Is(err, syscall.ESRCH) {
		return
	}
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if errors.Is(syscall.Kill(pgid, 0), syscall.ESRCH) {
			return
		}
	}
	_ = syscall.Kill(pgid, syscall.SIGKILL)
}
