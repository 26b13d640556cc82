package stack_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/stack"
)

// TestEphemeralDataDirPlace: an ephemeral stack's databases go under $TMPDIR when it is set,
// else on Linux's memory file system (/dev/shm), and are removed on Close.
func TestEphemeralDataDirPlace(t *testing.T) {
	start := func() string {
		st, err := stack.Start(t.Context(), stack.Config{Ephemeral: true,
			HostAddr: "127.0.0.1:0", PlatformAddr: "127.0.0.1:0", MiniappAddr: "127.0.0.1:0", SigningKey: signingKey()})
		if err != nil {
			t.Fatal(err)
		}
		dir := st.DataDir
		if _, err := os.Stat(filepath.Join(dir, "platform.db")); err != nil {
			t.Errorf("no platform database in %s: %v", dir, err)
		}
		st.Close()
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s is still there after Close (%v)", dir, err)
		}
		return dir
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	if dir := start(); filepath.Dir(dir) != tmp {
		t.Errorf("with TMPDIR=%s the data went to %s", tmp, dir)
	}
	t.Setenv("TMPDIR", "")
	dir := start()
	if want := memoryFS(); want == "" {
		t.Logf("no memory file system with room here: the data went to %s", dir)
	} else if filepath.Dir(dir) != want {
		t.Errorf("without TMPDIR the data went to %s, want %s (a tmpfs with room)", dir, want)
	}
}
