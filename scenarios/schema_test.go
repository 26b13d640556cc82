package scenarios_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/boxo-sim/boxo-sim/scenarios"
)

// TestSchemaIsFresh fails when scenario.schema.json is not what the Go types generate.
func TestSchemaIsFresh(t *testing.T) {
	t.Parallel()
	want, err := scenarios.Schema()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("scenario.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("scenario.schema.json is stale: run 'go generate ./scenarios' and commit the result")
	}
}

// TestLibraryValidatesAgainstSchema checks the shipped schema the way an editor uses it: every
// library file and the template validate, and typical mistakes do not.
func TestLibraryValidatesAgainstSchema(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("scenario.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatalf("the schema is not JSON: %v", err)
	}
	v := &schemaValidator{root: schema}
	files, _ := filepath.Glob("library/*.yaml")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if errs := v.validateYAML(b); len(errs) > 0 {
			t.Errorf("%s does not validate against the schema: %v", f, errs)
		}
	}
	if errs := v.validateYAML(scenarios.Template("area-case")); len(errs) > 0 {
		t.Errorf("the template does not validate against the schema: %v", errs)
	}
	for name, body := range map[string]string{
		"unknown key":         "name: x\ncolour: red\nactions: [connect]\n",
		"no actions":          "name: x\n",
		"unknown action":      "name: x\nactions: [dance]\n",
		"bad fault kind":      "name: x\nfaults: [{step: 7, kind: explode}]\nactions: [connect]\n",
		"bad fault step":      "name: x\nfaults: [{step: 13, kind: reset}]\nactions: [connect]\n",
		"bad duration":        "name: x\nactions: [{do: advance_clock, by: soon}]\n",
		"bad error code":      "name: x\nactions: [connect]\nexpect: {error_code: NOPE}\n",
		"unknown key in user": "name: x\nsetup: {users: [{username: a, reference: r, nick: n}]}\nactions: [connect]\n",
		"bad required field":  "name: x\nsetup: {dashboard: {miniapp: {required_fields: [shoe]}}}\nactions: [connect]\n",
	} {
		if errs := v.validateYAML([]byte(body)); len(errs) == 0 {
			t.Errorf("%s: the schema accepts:\n%s", name, body)
		}
	}
}

// schemaValidator checks a value against the subset of JSON Schema draft-07 the generator
// writes: type, properties, additionalProperties, required, enum, items, oneOf, $ref,
// pattern, minimum, maximum.
type schemaValidator struct{ root map[string]any }

func (v *schemaValidator) validateYAML(b []byte) []string {
	var doc any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return []string{err.Error()}
	}
	return v.check(v.root, doc, "$")
}

func (v *schemaValidator) check(s map[string]any, val any, path string) []string {
	if ref, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/definitions/")
		def, ok := v.root["definitions"].(map[string]any)[name].(map[string]any)
		if !ok {
			return []string{path + ": dangling $ref " + ref}
		}
		return v.check(def, val, path)
	}
	if one, ok := s["oneOf"].([]any); ok {
		n := 0
		for _, alt := range one {
			if len(v.check(alt.(map[string]any), val, path)) == 0 {
				n++
			}
		}
		if n != 1 {
			return []string{fmt.Sprintf("%s: matches %d of oneOf", path, n)}
		}
		return nil
	}
	var errs []string
	if typ, ok := s["type"].(string); ok && !hasType(val, typ) {
		return []string{fmt.Sprintf("%s: %v is not %s", path, val, typ)}
	}
	if enum, ok := s["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(val) }) {
		errs = append(errs, fmt.Sprintf("%s: %v not in enum", path, val))
	}
	if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(fmt.Sprint(val)) {
		errs = append(errs, fmt.Sprintf("%s: %v does not match %s", path, val, p))
	}
	if m, ok := s["minimum"].(float64); ok && toFloat(val) < m {
		errs = append(errs, fmt.Sprintf("%s: below minimum", path))
	}
	if m, ok := s["maximum"].(float64); ok && toFloat(val) > m {
		errs = append(errs, fmt.Sprintf("%s: above maximum", path))
	}
	switch x := val.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		for k, pv := range x {
			ps, ok := props[k].(map[string]any)
			if !ok {
				if s["additionalProperties"] == false {
					errs = append(errs, fmt.Sprintf("%s: unknown key %q", path, k))
				}
				continue
			}
			errs = append(errs, v.check(ps, pv, path+"."+k)...)
		}
		if req, ok := s["required"].([]any); ok {
			for _, r := range req {
				if _, ok := x[r.(string)]; !ok {
					errs = append(errs, fmt.Sprintf("%s: %s is required", path, r))
				}
			}
		}
	case []any:
		if items, ok := s["items"].(map[string]any); ok {
			for i, e := range x {
				errs = append(errs, v.check(items, e, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	}
	return errs
}

func hasType(val any, typ string) bool {
	switch typ {
	case "object":
		_, ok := val.(map[string]any)
		return ok
	case "array":
		_, ok := val.([]any)
		return ok
	case "string":
		_, ok := val.(string)
		return ok
	case "boolean":
		_, ok := val.(bool)
		return ok
	case "integer":
		k := reflect.ValueOf(val).Kind()
		return k == reflect.Int || k == reflect.Int64 || k == reflect.Uint64
	case "number":
		k := reflect.ValueOf(val).Kind()
		return k == reflect.Int || k == reflect.Int64 || k == reflect.Uint64 || k == reflect.Float64
	}
	return true
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case float64:
		return x
	}
	return 0
}
