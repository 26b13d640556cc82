package seed

import (
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/boxo-sim/boxo-sim/internal/strictyaml"
)

// maxFileBytes bounds a seed file.
const maxFileBytes = 4 << 20

// Load reads and checks a seed file. A malformed file gives a *strictyaml.LoadError listing
// every issue with its file and line; nothing is applied anywhere.
func Load(path string) (*File, error) {
	b, err := strictyaml.ReadFile(path, maxFileBytes, "a seed file is a YAML file of a few kilobytes")
	if err != nil {
		return nil, err
	}
	return Parse(path, b)
}

func newParser(file string) *strictyaml.Parser {
	return &strictyaml.Parser{File: file, Noun: "seed file", Need: "a seed file declares at least one of users, dashboard, hostapp, miniapp, platform, clients, faults",
		Keys: "users, dashboard, hostapp, miniapp, platform, clients, faults", EmptyHint: " ('boxo-sim export' writes one from a running stack)"}
}

// Parse decodes and checks a seed file's content; file names it in issues. Keys are decoded
// strictly: an unknown key or a value of the wrong type is an issue, and so is a bad name,
// URL, CIDR, enum value, duplicate record, masked secret or fault. All issues are returned
// together as a *strictyaml.LoadError.
func Parse(file string, data []byte) (*File, error) {
	p := newParser(file)
	var f File
	root := p.Decode(data, &f, func(root *yaml.Node, vp *strictyaml.Parser) {
		(&Checker{Parser: vp, Root: root}).CheckFile(&f)
	})
	if root == nil {
		return nil, p.Err()
	}
	f.src, f.root = file, root
	return &f, nil
}

// CheckFile checks every part of a seed file.
func (c *Checker) CheckFile(f *File) {
	c.Users(f.Users, "users")
	c.Dashboard(f.Dashboard, "dashboard")
	c.HostSettings(f.Hostapp, "hostapp")
	c.MiniSettings(f.Miniapp, "miniapp")
	c.PlatformSettings(f.Platform, "platform")
	c.Clients(f.Clients, "clients")
	if f.Faults != nil {
		c.Faults(*f.Faults, "faults")
	}
}

// where names a part of the file for an error: file:line: path.
func (f *File) where(path ...any) string {
	w := strictyaml.Dotted(path)
	if f.src == "" {
		return w
	}
	if line := strictyaml.LineAt(f.root, path...); line > 0 {
		return fmt.Sprintf("%s:%d: %s", f.src, line, w)
	}
	return f.src + ": " + w
}
