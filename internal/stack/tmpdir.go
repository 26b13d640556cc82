package stack

// minMemoryDirFree is the room a memory file system must have to hold ephemeral databases:
// the flow log grows by about 2 KB a flow until the retention sweep.
const minMemoryDirFree = 1 << 30

// ephemeralParent is where an ephemeral stack's data directory is made: $TMPDIR when set;
// else a memory file system when there is one with room (SQLite's writes then cost no disk
// I/O, and its syncs nothing: the data is thrown away on exit anyway); else the system's
// temporary directory. "" means os.TempDir.
func ephemeralParent(getenv func(string) string) string {
	if getenv("TMPDIR") != "" {
		return ""
	}
	return memoryDir()
}
