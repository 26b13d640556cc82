package stack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/boxo-sim/boxo-sim/sdkstub"
)

// Files of a data directory besides the databases.
const (
	// StateFileName is the running stack's state file (State), in its data directory.
	StateFileName = "state.json"
	lockFileName  = "lock"
)

// DatabaseFiles are the parties' database files in a data directory.
var DatabaseFiles = []string{"hostapp.db", "platform.db", "miniapp.db"}

// State is what a running `up` writes to StateFileName in its data directory, readable by
// the owner only, and removes on a clean exit: where its parties are and the admin token the
// client commands send to their /_sim/ routes (DESIGN.md "Running stacks, admin access, CI").
type State struct {
	PID        int                   `json:"pid"`
	StartedAt  time.Time             `json:"started_at"`
	DataDir    string                `json:"data_dir"`
	Parties    map[string]PartyState `json:"parties"`
	AdminToken string                `json:"admin_token,omitempty"`
}

// PartyState is one party of a State: its URL, and whether it was started here or is a
// backend the platform relays to.
type PartyState struct {
	URL     string `json:"url"`
	Relayed bool   `json:"relayed,omitempty"`
}

// State returns this stack's state, for WriteState.
func (s *Stack) State() State {
	st := State{PID: os.Getpid(), StartedAt: time.Now().UTC(), DataDir: s.DataDir, Parties: map[string]PartyState{}, AdminToken: s.adminToken}
	for p, u := range map[string]string{Hostapp: s.HostURL, Platform: s.PlatformURL, Miniapp: s.MiniappURL} {
		switch {
		case contains(s.Started, p):
			st.Parties[p] = PartyState{URL: u}
		case s.Relayed(p):
			st.Parties[p] = PartyState{URL: u, Relayed: true}
		}
	}
	return st
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// WriteState writes st to dir's state file, readable and writable by the owner only, and
// returns a function that removes it.
func WriteState(dir string, st State) (remove func() error, err error) {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, StateFileName)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("write state file: %w", err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil { // an older file of that name kept its mode
		return nil, fmt.Errorf("write state file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("write state file: %w", err)
	}
	return func() error {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}, nil
}

// ReadState reads the state file of the stack running on dir. It returns an error wrapping
// fs.ErrNotExist when there is none.
func ReadState(dir string) (State, error) {
	var st State
	b, err := os.ReadFile(filepath.Join(dir, StateFileName))
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("state file %s: %w", filepath.Join(dir, StateFileName), err)
	}
	return st, nil
}

// secureDataDir makes dir and the stack's files in it readable by the owner only (0700,
// 0600; DESIGN.md "Storage"): they hold signing keys, the Dashboard's secrets and the admin
// token. Looser modes left by older versions are tightened, each with a log line. A directory
// that is not boxo-sim's own — not the user's, shared (sticky bit, like /tmp), or holding
// other files (--data-dir .) — keeps its mode, with a warning; the files are tightened still.
func secureDataDir(dir string, log *slog.Logger) {
	fi, err := os.Stat(dir)
	if err != nil {
		return
	}
	names := []string{lockFileName, StateFileName, StateFileName + ".tmp", sdkstub.TokenFileName, sdkstub.TokenFileName + ".tmp"}
	for _, db := range DatabaseFiles {
		names = append(names, db, db+"-wal", db+"-shm", db+"-journal")
	}
	if mode := fi.Mode(); mode.Perm()&0o077 != 0 {
		switch {
		case mode&fs.ModeSticky != 0 || !ownedByUs(fi) || !onlyOurs(dir, names):
			log.Warn("the data directory is readable by other users, and it holds more than boxo-sim's files, so its mode is left alone; give --data-dir a directory of its own",
				"dir", dir, "mode", mode.Perm().String())
		default:
			if err := os.Chmod(dir, 0o700); err != nil {
				log.Warn("could not make the data directory private", "dir", dir, "err", err)
			} else {
				log.Info("data directory was readable by other users; made it private", "dir", dir, "was", mode.Perm().String(), "now", fs.FileMode(0o700).String())
			}
		}
	}
	for _, n := range names {
		path := filepath.Join(dir, n)
		fi, err := os.Lstat(path)
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o077 == 0 {
			continue
		}
		if err := os.Chmod(path, 0o600); err != nil {
			log.Warn("could not make a data file private", "file", path, "err", err)
			continue
		}
		log.Info("data file was readable by other users; made it private", "file", path, "was", fi.Mode().Perm().String(), "now", fs.FileMode(0o600).String())
	}
}

// onlyOurs reports whether dir holds nothing but the files named.
func onlyOurs(dir string, names []string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if !contains(names, e.Name()) {
			return false
		}
	}
	return true
}

// RemoveDatabases deletes the parties' databases in dir (with their -wal and -shm files),
// for `up --reset`. The next start seeds fresh demo data. The SDK's saved tokens go too: they
// belong to sessions the reset ends.
func RemoveDatabases(dir string) error {
	var errs []error
	if err := os.Remove(filepath.Join(dir, sdkstub.TokenFileName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	for _, db := range DatabaseFiles {
		for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
			if err := os.Remove(filepath.Join(dir, db+suffix)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("reset %s: %w", dir, errors.Join(errs...))
	}
	return nil
}
