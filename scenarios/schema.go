package scenarios

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/fault"
)

// SchemaID is the $id of the shipped schema: a name for this version of the format, not a
// place to fetch it from (editors take the file: 'boxo-sim scenario schema' prints it).
const SchemaID = "urn:boxo-sim:scenario:v1"

// SchemaFile is the file name editors are pointed at, next to the scenario files.
const SchemaFile = "scenario.schema.json"

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

// Schema returns the JSON Schema (draft-07) of the scenario format, generated from the Go
// types by reflection: keys from the yaml tags, descriptions from the doc tags, enums from the
// enum tags and from the registries the loader checks against.
func Schema() ([]byte, error) {
	g := &schemaGen{defs: map[string]any{}}
	root := g.object(reflect.TypeFor[Scenario]())
	root["$schema"] = "http://json-schema.org/draft-07/schema#"
	root["$id"] = SchemaID
	root["title"] = "boxo-sim scenario"
	root["description"] = "A boxo-sim scenario: the situation, the faults to inject, the actions and the expected outcome of a Boxo Connect run. Checked strictly by 'boxo-sim scenario lint'."
	root["definitions"] = g.defs
	b, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

type schemaGen struct{ defs map[string]any }

var durationType = reflect.TypeFor[fault.Duration]()

// of is the schema of a value of type t.
func (g *schemaGen) of(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType:
		return map[string]any{"type": "string", "pattern": durationPattern, "examples": []string{"500ms", "11s", "2h"}}
	case t == actionType:
		g.define("ActionOptions", t)
		return map[string]any{"$ref": "#/definitions/Action"}
	}
	switch t.Kind() {
	case reflect.Struct:
		g.define(t.Name(), t)
		return map[string]any{"$ref": "#/definitions/" + t.Name()}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": g.of(t.Elem())}
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

func (g *schemaGen) define(name string, t reflect.Type) {
	if _, ok := g.defs[name]; ok {
		return
	}
	g.defs[name] = true // placeholder against recursion
	g.defs[name] = g.object(t)
	if t == actionType {
		var bare []string
		for _, a := range ActionNames {
			if a != ActAdvanceClock && a != ActRequest { // need by, path
				bare = append(bare, a)
			}
		}
		g.defs["Action"] = map[string]any{
			"description": "An action: a bare name with its defaults, or a mapping with do and options.",
			"oneOf": []any{
				map[string]any{"type": "string", "enum": bare},
				map[string]any{"$ref": "#/definitions/ActionOptions"},
			},
		}
	}
}

// object is the schema of a struct: its YAML keys, none other.
func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := yamlName(f)
		if name == "" {
			continue
		}
		s := g.of(f.Type)
		if doc := f.Tag.Get("doc"); doc != "" {
			s["description"] = doc
		}
		if t == reflect.TypeFor[fault.Fault]() {
			g.faultField(name, s)
		}
		if e := f.Tag.Get("enum"); e != "" {
			setEnum(s, f.Type, strings.Split(e, ","))
		}
		if name == "error_code" && t != reflect.TypeFor[fault.Fault]() {
			s["enum"] = slices.Concat(contract.Codes, SDKCodes, MiniappAPICodes)
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
	if doc := typeDocs[t.Name()]; doc != "" {
		o["description"] = doc
	}
	return o
}

// typeDocs describe the definitions.
var typeDocs = map[string]string{
	"Setup":            "The situation before the first action.",
	"User":             "A host app user.",
	"Dashboard":        "The platform's registry of the demo host app, miniapp and partnership.",
	"DashboardHostapp": "The demo host app's Dashboard record; absent keys keep their value.",
	"DashboardMiniapp": "The demo miniapp's Dashboard record; absent keys keep their value.",
	"Partnership":      "The demo partnership.",
	"HostSettings":     "The host backend's own settings.",
	"MiniSettings":     "The miniapp backend's own settings.",
	"SDKSetup":         "The fake SDK's configuration.",
	"Stub":             "A canned answer served in place of a party's endpoint.",
	"Fault":            "A fault on a party's fault table (PUT /_sim/faults): give step or endpoint, and kind.",
	"Action":           "An action: a bare name with its defaults, or a mapping with do and options.",
	"Expect":           "What an action must lead to. Unless it says succeeds: false or gives fails_at, error_code or party, the action must succeed.",
	"MeExpect":         "The expected answer of the miniapp's GET /api/me; only the keys given are compared.",
	"TraceExpect":      "A step the flow's trace must contain.",
}

func (g *schemaGen) faultField(name string, s map[string]any) {
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
