package scenarios

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/boxo-sim/boxo-sim/internal/strictyaml"
)

// Issue is one problem in a scenario file, at a line (1-based; 0 when the file as a whole is
// at fault).
type Issue = strictyaml.Issue

// LoadError is every problem found in the files given to Load or Parse, one per line.
type LoadError = strictyaml.LoadError

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
	return strictyaml.ReadFile(path, maxFileBytes, "a scenario is a short YAML file")
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
	p := newParser(file)
	sc := &Scenario{File: file}
	root := p.Decode(data, sc, func(root *yaml.Node, vp *strictyaml.Parser) {
		sc.File = file
		(&validator{parser: &parser{vp}, root: root, sc: sc}).validate()
	})
	if root == nil {
		return nil, p.Err()
	}
	return sc, nil
}

// parser collects a scenario file's issues.
type parser struct{ *strictyaml.Parser }

func newParser(file string) *parser {
	return &parser{&strictyaml.Parser{File: file, Noun: "scenario", Need: "a scenario needs at least name and actions",
		Keys: "name, description, setup, faults, actions, expect", EmptyHint: " ('boxo-sim scenario new NAME' writes a template)",
		Scalars: map[reflect.Type]string{actionType: "an action name (" + strings.Join(ActionNames, ", ") + ")"}}}
}

func (p *parser) add(line int, format string, args ...any) { p.Add(line, format, args...) }

var actionType = reflect.TypeFor[Action]()

// The path helpers of strictyaml, by their short names.
var (
	lineAt  = strictyaml.LineAt
	valueAt = strictyaml.ValueAt
	hasKey  = strictyaml.HasKey
)

// UnmarshalYAML reads an action written as a bare name (`- connect`) or as a mapping
// (`- do: connect` with options). It re-applies the strict key check that a custom
// unmarshaler would otherwise drop.
func (a *Action) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*a = Action{Do: n.Value, Line: n.Line}
		return nil
	}
	p := newParser("action")
	p.Check(n, actionType, "action")
	if len(p.Issues) > 0 {
		is := p.Issues[0]
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
