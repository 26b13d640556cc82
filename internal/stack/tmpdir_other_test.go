//go:build !linux

package stack_test

func memoryFS() string { return "" }
