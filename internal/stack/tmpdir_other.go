//go:build !linux

package stack

// memoryDir finds no memory file system here: ephemeral stacks use the temporary directory.
func memoryDir() string { return "" }
