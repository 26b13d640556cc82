package strictyaml

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/fault"
)

// durationPattern is what time.ParseDuration accepts, without the sign.
const durationPattern = `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`

// faultDocs describe the fields of fault.Fault, whose package carries no schema tags.
var faultDocs = map[string]string{
	"party":       "The party whose traffic the fault changes; taken from step when left out.",
	"step":        "The flow step whose endpoint the fault changes (a request step and its answer, 6/7, 8/9, 10/11, address the same endpoint).",
	"endpoint":    "A path on the party instead of a step, e.g. /boxo/connect/refresh-token (give party too).",
	"kind":        "error_code: answer with error_code in the endpoint's error form; delay: hold the answer back; status: answer that HTTP status; malformed: a broken body; long_token: tokens of 1001 characters; missing_field: drop field from the answer; reset: drop the connection; replay_code: the host receives the auth code it redeemed last; expire: move the clock past the lifetime of what the call presents.",
	"error_code":  "kind error_code: the code answered (contract §5.1).",
	"status":      "kind status: the HTTP status answered, 201–599.",
	"delay":       "kind delay: how long, e.g. 11s (past the platform's 10 s timeout).",
	"body":        "kind malformed: non-json, truncated or wrong-types.",
	"field":       "kind missing_field: the dotted field removed, e.g. user_data.email.",
	"nth":         "Fire on the Nth matching call only (1-based); default every call.",
	"probability": "Fire on each matching call with this chance (0–1), from a generator seeded with seed.",
	"seed":        "The seed of probability's generator, so a run can be repeated.",
}

var (
	durationType = reflect.TypeFor[fault.Duration]()
	// FaultType is fault.Fault, whose schema this package knows.
	FaultType = reflect.TypeFor[fault.Fault]()
)

// Schema generates a draft-07 JSON Schema from Go types by reflection: keys from the yaml
// tags, descriptions from the doc tags (and Docs for the types), enums from the enum tags and
// from the registries the loaders check against (faults, durations).
type Schema struct {
	// Docs describe the definitions, by Go type name.
	Docs map[string]string
	// Special, when set, gives the schema of a type that is not a plain struct mapping.
	Special func(g *Schema, t reflect.Type) (map[string]any, bool)
	// Field, when set, adjusts the schema s of the field name of the struct owner.
	Field func(owner reflect.Type, name string, s map[string]any)

	defs map[string]any
}

// Document is the whole schema of root with its header.
func (g *Schema) Document(root reflect.Type, id, title, description string) ([]byte, error) {
	g.defs = map[string]any{}
	doc := g.Object(root)
	doc["$schema"] = "http://json-schema.org/draft-07/schema#"
	doc["$id"] = id
	doc["title"] = title
	doc["description"] = description
	doc["definitions"] = g.defs
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Of is the schema of a value of type t.
func (g *Schema) Of(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == durationType {
		return map[string]any{"type": "string", "pattern": durationPattern, "examples": []string{"500ms", "11s", "2h"}}
	}
	if g.Special != nil {
		if s, ok := g.Special(g, t); ok {
			return s
		}
	}
	switch t.Kind() {
	case reflect.Struct:
		g.Define(t.Name(), t)
		return map[string]any{"$ref": "#/definitions/" + t.Name()}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": g.Of(t.Elem())}
	case reflect.Map, reflect.Interface:
		return map[string]any{"type": "object"}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Float64:
		return map[string]any{"type": "number"}
	}
	return map[string]any{}
}

// Define adds the definition name of struct t, once.
func (g *Schema) Define(name string, t reflect.Type) {
	if _, ok := g.defs[name]; ok {
		return
	}
	g.defs[name] = true // placeholder against recursion
	g.defs[name] = g.Object(t)
}

// Set puts a definition as is.
func (g *Schema) Set(name string, def map[string]any) { g.defs[name] = def }

// Object is the schema of a struct: its YAML keys, none other.
func (g *Schema) Object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := Name(f)
		if name == "" {
			continue
		}
		s := g.Of(f.Type)
		if doc := f.Tag.Get("doc"); doc != "" {
			s["description"] = doc
		}
		if t == FaultType {
			faultField(name, s)
		}
		if e := f.Tag.Get("enum"); e != "" {
			setEnum(s, f.Type, strings.Split(e, ","))
		}
		if g.Field != nil {
			g.Field(t, name, s)
		}
		if f.Tag.Get("required") == "true" {
			required = append(required, name)
		}
		props[name] = s
	}
	o := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		o["required"] = required
	}
	doc := g.Docs[t.Name()]
	if t == FaultType && doc == "" {
		doc = "A fault on a party's fault table (PUT /_sim/faults): give step or endpoint, and kind."
	}
	if doc != "" {
		o["description"] = doc
	}
	return o
}

func faultField(name string, s map[string]any) {
	if doc := faultDocs[name]; doc != "" {
		s["description"] = doc
	}
	switch name {
	case "party":
		s["enum"] = []string{contract.PartyHostapp, contract.PartyPlatform, contract.PartyMiniapp}
	case "kind":
		s["enum"] = fault.Kinds
	case "error_code":
		s["enum"] = contract.Codes
	case "body":
		s["enum"] = fault.MalformedBodies
	case "step":
		var steps []int
		for n := range fault.Steps {
			steps = append(steps, n)
		}
		slices.Sort(steps)
		s["enum"] = steps
	case "probability":
		s["minimum"], s["maximum"] = 0, 1
	case "nth":
		s["minimum"] = 0
	}
}

// setEnum puts an enum tag's values on a schema, on its items for a list.
func setEnum(s map[string]any, t reflect.Type, values []string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Slice {
		setEnum(s["items"].(map[string]any), t.Elem(), values)
		return
	}
	if t.Kind() == reflect.Int {
		var ns []int
		for _, v := range values {
			n, _ := strconv.Atoi(v)
			ns = append(ns, n)
		}
		s["enum"] = ns
		return
	}
	s["enum"] = values
}
