package stack

import "syscall"

// memoryDir is a directory on a memory file system with at least minMemoryDirFree bytes free
// that this process may write, or "" when there is none: /dev/shm, the tmpfs every Linux
// system mounts (a container's may be too small, and is then passed over).
func memoryDir() string {
	const dir = "/dev/shm"
	const tmpfsMagic = 0x01021994 // TMPFS_MAGIC, statfs(2)
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil || st.Type != tmpfsMagic {
		return ""
	}
	if uint64(st.Bavail)*uint64(st.Bsize) < minMemoryDirFree {
		return ""
	}
	if syscall.Access(dir, 0x2|0x1) != nil { // W_OK|X_OK
		return ""
	}
	return dir
}
