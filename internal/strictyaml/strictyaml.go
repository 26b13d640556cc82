// Package strictyaml reads boxo-sim's YAML files (scenarios, seed files) strictly: every key
// checked against the Go type it decodes into, every problem reported with its file and line,
// all of them in one pass. It also generates the JSON Schema of such a format from the same
// Go types (schema.go), so the file format, its checks and its schema cannot drift apart.
package strictyaml

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Issue is one problem in a file, at a line (1-based; 0 when the file as a whole is at fault).
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

// LoadError is every problem found in the files read, one per line.
type LoadError struct{ Issues []Issue }

func (e *LoadError) Error() string {
	lines := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		lines[i] = is.String()
	}
	return strings.Join(lines, "\n")
}

// ReadFile reads a file of at most max bytes; what says what such a file is, for the error.
func ReadFile(path string, max int64, what string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("file is over %d bytes: %s", max, what)
	}
	return b, nil
}

// Parser collects the issues of one file.
type Parser struct {
	File string
	// Noun names what a file holds ("scenario"), Need what it needs at least ("a scenario
	// needs at least name and actions") and Keys its top-level keys, for messages.
	Noun, Need, Keys string
	// EmptyHint is added to the message about an empty file.
	EmptyHint string
	// Scalars are the struct types that may also be written as a bare word, with the words
	// to name when something else is written.
	Scalars map[reflect.Type]string
	Issues  []Issue
}

// Add records an issue at line.
func (p *Parser) Add(line int, format string, args ...any) {
	p.Issues = append(p.Issues, Issue{File: p.File, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// Err is the issues as a *LoadError, nil when there are none.
func (p *Parser) Err() error {
	if len(p.Issues) == 0 {
		return nil
	}
	return &LoadError{Issues: p.Issues}
}

var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// YAMLError turns a yaml.v3 error ("yaml: line 3: ...", or a TypeError listing several) into
// issues with lines.
func (p *Parser) YAMLError(err error) {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	for _, m := range msgs {
		m = strings.TrimSpace(m)
		if g := lineRE.FindStringSubmatch(m); g != nil {
			n, _ := strconv.Atoi(g[1])
			p.Add(n, "%s", g[2])
			continue
		}
		p.Add(0, "%s", strings.TrimPrefix(m, "yaml: "))
	}
}

// Document parses the YAML text into its one document's root mapping; nil after an issue.
func (p *Parser) Document(data []byte) *yaml.Node {
	if len(bytes.TrimSpace(data)) == 0 {
		p.Add(0, "the file is empty: %s%s", p.Need, p.EmptyHint)
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.Add(0, "the file holds no YAML document: %s", p.Need)
			return nil
		}
		p.YAMLError(err)
		return nil
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		p.Add(next.Line, "a second YAML document (---): one %s per file", p.Noun)
		return nil
	} else if !errors.Is(err, io.EOF) {
		p.YAMLError(err)
		return nil
	}
	if len(doc.Content) == 0 {
		p.Add(doc.Line, "the file holds no YAML document: %s", p.Need)
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		p.Add(root.Line, "a %s is a mapping of keys (%s), not %s", p.Noun, p.Keys, KindName(root))
		return nil
	}
	return root
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// Check walks a YAML node against the Go type it decodes into and reports unknown keys and
// values of the wrong shape, with their lines. It is the strictness yaml.v3's KnownFields
// gives, kept for the parts decoded through a custom UnmarshalYAML, and with messages that
// say what to write instead. Keys with an issue are dropped from the node, so that the rest
// of the file can still be decoded and validated in the same pass; keep is false when the
// node itself should be dropped.
func (p *Parser) Check(n *yaml.Node, t reflect.Type, path string) (keep bool) {
	if n.Kind == yaml.AliasNode {
		p.Add(n.Line, "%s: aliases (*%s) are not supported in %s files: write the value out", p.where(path), n.Value, p.Noun)
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
			p.Add(n.Line, "%s: want a duration such as 11s or 500ms, got %s", p.where(path), KindName(n))
			return false
		}
		u := reflect.New(t).Interface().(encoding.TextUnmarshaler)
		if err := u.UnmarshalText([]byte(n.Value)); err != nil {
			p.Add(n.Line, "%s: %v", p.where(path), err)
			return false
		}
		return true
	}
	if words, ok := p.Scalars[t]; ok && n.Kind == yaml.ScalarNode {
		if n.Tag != "!!str" {
			p.Add(n.Line, "%s: want %s, got %q", p.where(path), words, n.Value)
			return false
		}
		return true
	}
	before := len(p.Issues)
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			p.Add(n.Line, "%s: want a mapping (key: value lines), got %s", p.where(path), KindName(n))
			return false
		}
		fields, names := Fields(t)
		kept := n.Content[:0:0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				p.Add(k.Line, "%s: a key must be a plain word, got %s", p.where(path), KindName(k))
				continue
			}
			f, ok := fields[k.Value]
			if !ok {
				p.Add(k.Line, "unknown key %q %s: use one of %s", k.Value, in(path), strings.Join(names, ", "))
				continue
			}
			if p.Check(v, f.Type, Join(path, k.Value)) {
				kept = append(kept, k, v)
			}
		}
		n.Content = kept
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			p.Add(n.Line, "%s: want a list (lines starting with -), got %s", p.where(path), KindName(n))
			return false
		}
		for i, e := range n.Content {
			p.Check(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			p.Add(n.Line, "%s: want a mapping (key: value lines), got %s", p.where(path), KindName(n))
			return false
		}
		p.noAliases(n, path)
	case reflect.Interface:
		p.noAliases(n, path)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			p.Add(n.Line, "%s: want text, got %s", p.where(path), KindName(n))
		}
	case reflect.Int, reflect.Int64:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			p.Add(n.Line, "%s: want a whole number, got %s", p.where(path), KindName(n))
		} else if _, err := strconv.ParseInt(n.Value, 0, t.Bits()); err != nil {
			p.Add(n.Line, "%s: %s is out of range", p.where(path), n.Value)
		}
	case reflect.Float64:
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
			p.Add(n.Line, "%s: want a number, got %s", p.where(path), KindName(n))
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			p.Add(n.Line, "%s: want true or false, got %s", p.where(path), KindName(n))
		}
	}
	// Containers keep their good parts (bad keys were dropped); a scalar with an issue goes.
	k := t.Kind()
	return len(p.Issues) == before || k == reflect.Struct || k == reflect.Slice || k == reflect.Map
}

func (p *Parser) noAliases(n *yaml.Node, path string) {
	if n.Kind == yaml.AliasNode {
		p.Add(n.Line, "%s: aliases (*%s) are not supported in %s files: write the value out", p.where(path), n.Value, p.Noun)
		return
	}
	for _, c := range n.Content {
		p.noAliases(c, path)
	}
}

func (p *Parser) where(path string) string {
	if path == "" {
		return "the " + p.Noun
	}
	return path
}

// Fields maps a struct's YAML keys to its fields, and lists the keys in field order.
func Fields(t reflect.Type) (map[string]reflect.StructField, []string) {
	fields := map[string]reflect.StructField{}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := Name(f)
		if name == "" {
			continue
		}
		fields[name] = f
		names = append(names, name)
	}
	return fields, names
}

// Name is the key a field is written as, "" for fields the YAML never holds.
func Name(f reflect.StructField) string {
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

// KindName says what a node is, for messages.
func KindName(n *yaml.Node) string {
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

// Join appends a key to a dotted path.
func Join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func in(path string) string {
	if path == "" {
		return "at the top level"
	}
	return "in " + path
}

// Lookup finds the node at a path of keys (string) and list indices (int) below root. For a
// key, it returns the key's node (where an issue about that key should point); when the path
// leaves the document it returns the deepest node found.
func Lookup(root *yaml.Node, path ...any) *yaml.Node {
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

// LineAt is Lookup's line; 0 without a document.
func LineAt(root *yaml.Node, path ...any) int {
	if root == nil {
		return 0
	}
	return Lookup(root, path...).Line
}

// ValueAt returns the value node at a path of keys and indices, nil when absent.
func ValueAt(root *yaml.Node, path ...any) *yaml.Node {
	n := root
	for _, step := range path {
		if n == nil {
			return nil
		}
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

// HasKey reports whether the mapping at path holds key.
func HasKey(root *yaml.Node, key string, path ...any) bool {
	n := ValueAt(root, path...)
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

// Dotted writes a path of keys and indices as setup.users[0].name.
func Dotted(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch s := p.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s)
		case int:
			fmt.Fprintf(&b, "[%d]", s)
		}
	}
	return b.String()
}

// Cat is a path with more steps appended, the original left alone.
func Cat(path []any, more ...any) []any {
	return append(append([]any{}, path...), more...)
}

// Decode reads one document into out (a pointer to the struct the format is), strictly: it
// checks every key and value against the Go type (Check), decodes what fits, then runs
// validate, which adds the issues the types cannot find through the parser it is given. The
// keys with issues are dropped before decoding, so one pass reports every problem of the
// file; an issue validate finds on a line that already has one is a consequence of it and
// is left out. It returns the document's root, or nil when the file has issues (p.Err).
func (p *Parser) Decode(data []byte, out any, validate func(root *yaml.Node, vp *Parser)) *yaml.Node {
	root := p.Document(data)
	if root == nil {
		return nil
	}
	p.Check(root, reflect.TypeOf(out).Elem(), "")
	if len(p.Issues) > 0 {
		_ = root.Decode(out) // partial: what does not fit was reported by Check
	} else {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(out); err != nil {
			p.YAMLError(err)
			return nil
		}
	}
	vp := *p
	vp.Issues = nil
	validate(root, &vp)
	lines := map[int]bool{}
	for _, is := range p.Issues {
		lines[is.Line] = true
	}
	for _, is := range vp.Issues {
		if !lines[is.Line] {
			p.Issues = append(p.Issues, is)
		}
	}
	if len(p.Issues) > 0 {
		slices.SortStableFunc(p.Issues, func(a, b Issue) int { return a.Line - b.Line })
		return nil
	}
	return root
}
