package scenarios

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Issue is one problem in a scenario file, at a line (1-based; 0 when the file as a whole is
// at fault).
type Issue struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
	Msg  string `json:"message"`
}

func (i Issue) String() string {
	if i.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", i.File, i.Line, i.Msg)
	}
	return fmt.Sprintf("%s: %s", i.File, i.Msg)
}

// LoadError is every problem found in the files given to Load or Parse, one per line.
type LoadError struct{ Issues []Issue }

func (e *LoadError) Error() string {
	lines := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		lines[i] = is.String()
	}
	return strings.Join(lines, "\n")
}

// maxFileBytes bounds a scenario file; real ones are a few hundred bytes.
const maxFileBytes = 1 << 20

// Load reads scenario files and directories (every *.yaml and *.yml below a directory, in name
// order) and returns the scenarios in that order. Nothing is run and no server is started. When
// any file is malformed it returns a *LoadError listing every issue of every file.
func Load(paths ...string) ([]*Scenario, error) {
	files, err := expand(paths)
	if err != nil {
		return nil, err
	}
	var (
		out    []*Scenario
		issues []Issue
		names  = map[string]string{}
	)
	for _, f := range files {
		b, err := readFile(f)
		if err != nil {
			issues = append(issues, Issue{File: f, Msg: err.Error()})
			continue
		}
		sc, err := Parse(f, b)
		var le *LoadError
		if errors.As(err, &le) {
			issues = append(issues, le.Issues...)
			continue
		} else if err != nil {
			return nil, err
		}
		if other, ok := names[sc.Name]; ok {
			issues = append(issues, Issue{File: f, Line: 1, Msg: fmt.Sprintf("name %q is also the name of %s: names must be unique", sc.Name, other)})
			continue
		}
		names[sc.Name] = f
		out = append(out, sc)
	}
	if len(issues) > 0 {
		return nil, &LoadError{Issues: issues}
	}
	return out, nil
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxFileBytes {
		return nil, fmt.Errorf("file is over %d bytes: a scenario is a short YAML file", maxFileBytes)
	}
	return b, nil
}

// expand turns files and directories into the list of scenario files.
func expand(paths []string) ([]string, error) {
	if len(paths) == 0 {
		return nil, errors.New("no scenario files given: name files or directories, e.g. scenarios/library")
	}
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("scenario path %s: %w", p, errors.Unwrap(err))
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != p && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			if !d.IsDir() && isYAML(path) {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("directory %s holds no *.yaml scenario files", p)
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
}

func isYAML(path string) bool {
	ext := filepath.Ext(path)
	return ext == ".yaml" || ext == ".yml"
}

// Parse decodes and checks one scenario file's content. file names it in issues and is the
// expected scenario name (without .yaml). Keys are decoded strictly: an unknown key, a value
// of the wrong type, an unknown action, fault kind, error code, party or step is an issue with
// the file and line. All issues are returned together as a *LoadError.
func Parse(file string, data []byte) (*Scenario, error) {
	p := &parser{file: file}
	root := p.document(data)
	if root == nil {
		return nil, p.err()
	}
	p.check(root, reflect.TypeFor[Scenario](), "")
	if len(p.issues) > 0 {
		// The keys with issues were dropped from root: decode and validate the rest, so one
		// lint pass reports every problem of the file. A problem the validator finds on a line
		// that already has one is a consequence of it and is left out.
		var sc Scenario
		_ = root.Decode(&sc) // partial: what does not fit was reported by check
		sc.File = file
		vp := &parser{file: file}
		(&validator{parser: vp, root: root, sc: &sc}).validate()
		lines := map[int]bool{}
		for _, is := range p.issues {
			lines[is.Line] = true
		}
		for _, is := range vp.issues {
			if !lines[is.Line] {
				p.issues = append(p.issues, is)
			}
		}
		slices.SortStableFunc(p.issues, func(a, b Issue) int { return a.Line - b.Line })
		return nil, p.err()
	}
	var sc Scenario
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&sc); err != nil {
		p.yamlError(err)
		return nil, p.err()
	}
	sc.File = file
	v := &validator{parser: p, root: root, sc: &sc}
	v.validate()
	if len(p.issues) > 0 {
		slices.SortStableFunc(p.issues, func(a, b Issue) int { return a.Line - b.Line })
		return nil, p.err()
	}
	return &sc, nil
}

type parser struct {
	file   string
	issues []Issue
}

func (p *parser) add(line int, format string, args ...any) {
	p.issues = append(p.issues, Issue{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) err() error {
	if len(p.issues) == 0 {
		return nil
	}
	return &LoadError{Issues: p.issues}
}

var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlError turns a yaml.v3 error ("yaml: line 3: ...", or a TypeError listing several) into
// issues with lines.
func (p *parser) yamlError(err error) {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	for _, m := range msgs {
		m = strings.TrimSpace(m)
		if g := lineRE.FindStringSubmatch(m); g != nil {
			n, _ := strconv.Atoi(g[1])
			p.add(n, "%s", g[2])
			continue
		}
		p.add(0, "%s", strings.TrimPrefix(m, "yaml: "))
	}
}

// document parses the YAML text into its one document's root mapping.
func (p *parser) document(data []byte) *yaml.Node {
	if len(bytes.TrimSpace(data)) == 0 {
		p.add(0, "the file is empty: a scenario needs at least name and actions ('boxo-sim scenario new NAME' writes a template)")
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.add(0, "the file holds no YAML document: a scenario needs at least name and actions")
			return nil
		}
		p.yamlError(err)
		return nil
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		p.add(next.Line, "a second YAML document (---): one scenario per file")
		return nil
	} else if !errors.Is(err, io.EOF) {
		p.yamlError(err)
		return nil
	}
	if len(doc.Content) == 0 {
		p.add(doc.Line, "the file holds no YAML document: a scenario needs at least name and actions")
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		p.add(root.Line, "a scenario is a mapping of keys (name, description, setup, faults, actions, expect), not %s", kindName(root))
		return nil
	}
	return root
}

var (
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	actionType      = reflect.TypeFor[Action]()
)

// check walks a YAML node against the Go type it decodes into and reports unknown keys and
// values of the wrong shape, with their lines. It is the strictness yaml.v3's KnownFields
// gives, kept for the parts decoded through a custom UnmarshalYAML (actions), and with
// messages that say what to write instead.
func (p *parser) check(n *yaml.Node, t reflect.Type, path string) (keep bool) {
	if n.Kind == yaml.AliasNode {
		p.add(n.Line, "%s: aliases (*%s) are not supported in scenario files: write the value out", where(path), n.Value)
		return false
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return true
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		if n.Kind != yaml.ScalarNode {
			p.add(n.Line, "%s: want a duration such as 11s or 500ms, got %s", where(path), kindName(n))
			return false
		}
		u := reflect.New(t).Interface().(encoding.TextUnmarshaler)
		if err := u.UnmarshalText([]byte(n.Value)); err != nil {
			p.add(n.Line, "%s: %v", where(path), err)
			return false
		}
		return true
	}
	if t == actionType && n.Kind == yaml.ScalarNode {
		if n.Tag != "!!str" {
			p.add(n.Line, "%s: want an action name (%s), got %q", where(path), strings.Join(ActionNames, ", "), n.Value)
			return false
		}
		return true
	}
	before := len(p.issues)
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			p.add(n.Line, "%s: want a mapping (key: value lines), got %s", where(path), kindName(n))
			return false
		}
		// Keys with an issue are dropped from the node, so that the rest of the file can still
		// be decoded and validated in the same pass (Parse reports every problem at once).
		fields, names := yamlFields(t)
		kept := n.Content[:0:0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				p.add(k.Line, "%s: a key must be a plain word, got %s", where(path), kindName(k))
				continue
			}
			f, ok := fields[k.Value]
			if !ok {
				p.add(k.Line, "unknown key %q %s: use one of %s", k.Value, in(path), strings.Join(names, ", "))
				continue
			}
			if p.check(v, f.Type, join(path, k.Value)) {
				kept = append(kept, k, v)
			}
		}
		n.Content = kept
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			p.add(n.Line, "%s: want a list (lines starting with -), got %s", where(path), kindName(n))
			return false
		}
		for i, e := range n.Content {
			p.check(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			p.add(n.Line, "%s: want a mapping (key: value lines), got %s", where(path), kindName(n))
			return false
		}
		p.noAliases(n, path)
	case reflect.Interface:
		p.noAliases(n, path)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			p.add(n.Line, "%s: want text, got %s", where(path), kindName(n))
		}
	case reflect.Int, reflect.Int64:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			p.add(n.Line, "%s: want a whole number, got %s", where(path), kindName(n))
		} else if _, err := strconv.ParseInt(n.Value, 0, t.Bits()); err != nil {
			p.add(n.Line, "%s: %s is out of range", where(path), n.Value)
		}
	case reflect.Float64:
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
			p.add(n.Line, "%s: want a number, got %s", where(path), kindName(n))
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			p.add(n.Line, "%s: want true or false, got %s", where(path), kindName(n))
		}
	}
	// Containers keep their good parts (bad keys were dropped); a scalar with an issue goes.
	k := t.Kind()
	return len(p.issues) == before || k == reflect.Struct || k == reflect.Slice || k == reflect.Map
}

func (p *parser) noAliases(n *yaml.Node, path string) {
	if n.Kind == yaml.AliasNode {
		p.add(n.Line, "%s: aliases (*%s) are not supported in scenario files: write the value out", where(path), n.Value)
		return
	}
	for _, c := range n.Content {
		p.noAliases(c, path)
	}
}

// yamlFields maps a struct's YAML keys to its fields, and lists the keys in field order.
func yamlFields(t reflect.Type) (map[string]reflect.StructField, []string) {
	fields := map[string]reflect.StructField{}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := yamlName(f)
		if name == "" {
			continue
		}
		fields[name] = f
		names = append(names, name)
	}
	return fields, names
}

// yamlName is the key a field is written as, "" for fields the YAML never holds.
func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	tag := f.Tag.Get("yaml")
	name, _, _ := strings.Cut(tag, ",")
	if name == "-" {
		return ""
	}
	if name == "" {
		return strings.ToLower(f.Name)
	}
	return name
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "nothing"
		case "!!str":
			return strconv.Quote(n.Value)
		}
		return n.Value
	}
	return "a document"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func where(path string) string {
	if path == "" {
		return "the scenario"
	}
	return path
}

func in(path string) string {
	if path == "" {
		return "at the top level"
	}
	return "in " + path
}

// UnmarshalYAML reads an action written as a bare name (`- connect`) or as a mapping
// (`- do: connect` with options). It re-applies the strict key check that a custom
// unmarshaler would otherwise drop.
func (a *Action) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*a = Action{Do: n.Value, Line: n.Line}
		return nil
	}
	p := &parser{file: "action"}
	p.check(n, actionType, "action")
	if len(p.issues) > 0 {
		is := p.issues[0]
		return fmt.Errorf("line %d: %s", is.Line, is.Msg)
	}
	type plain Action // without this method
	var v plain
	if err := n.Decode(&v); err != nil {
		return err
	}
	*a = Action(v)
	a.Line = n.Line
	return nil
}

// lookup finds the node at a path of keys (string) and list indices (int) below root. For a
// key, it returns the key's node (where an issue about that key should point); when the path
// leaves the document it returns the deepest node found.
func lookup(root *yaml.Node, path ...any) *yaml.Node {
	n := root
	last := root
	for _, step := range path {
		switch s := step.(type) {
		case string:
			if n.Kind != yaml.MappingNode {
				return last
			}
			var found *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == s {
					last, found = n.Content[i], n.Content[i+1]
					break
				}
			}
			if found == nil {
				return last
			}
			n = found
		case int:
			if n.Kind != yaml.SequenceNode || s < 0 || s >= len(n.Content) {
				return last
			}
			n = n.Content[s]
			last = n
		}
	}
	return last
}

// lineAt is lookup's line.
func lineAt(root *yaml.Node, path ...any) int { return lookup(root, path...).Line }

// valueAt returns the value node at a path of keys and indices, nil when absent.
func valueAt(root *yaml.Node, path ...any) *yaml.Node {
	n := root
	for _, step := range path {
		switch s := step.(type) {
		case string:
			var found *yaml.Node
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == s {
						found = n.Content[i+1]
					}
				}
			}
			if found == nil {
				return nil
			}
			n = found
		case int:
			if n.Kind != yaml.SequenceNode || s < 0 || s >= len(n.Content) {
				return nil
			}
			n = n.Content[s]
		}
	}
	return n
}

// hasKey reports whether the mapping at path holds key.
func hasKey(root *yaml.Node, key string, path ...any) bool {
	n := valueAt(root, path...)
	if n == nil || n.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}
