package strictyaml

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// SchemaValidator checks a YAML document against the subset of JSON Schema draft-07 the generator
// writes: type, properties, additionalProperties, required, enum, items, oneOf, $ref,
// pattern, minimum, maximum.
type SchemaValidator struct{ root map[string]any }

// NewSchemaValidator reads a schema as Schema.Document writes it.
func NewSchemaValidator(schema []byte) (*SchemaValidator, error) {
	var root map[string]any
	if err := json.Unmarshal(schema, &root); err != nil {
		return nil, fmt.Errorf("the schema is not JSON: %w", err)
	}
	return &SchemaValidator{root: root}, nil
}

// ValidateYAML returns every way the document breaks the schema, as an editor would report
// them.
func (v *SchemaValidator) ValidateYAML(b []byte) []string {
	var doc any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return []string{err.Error()}
	}
	return v.check(v.root, doc, "$")
}

func (v *SchemaValidator) check(s map[string]any, val any, path string) []string {
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
