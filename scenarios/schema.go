package scenarios

import (
	"reflect"
	"slices"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/seed"
	"github.com/boxo-sim/boxo-sim/internal/strictyaml"
)

// SchemaID is the $id of the shipped schema: a name for this version of the format, not a
// place to fetch it from (editors take the file: 'boxo-sim scenario schema' prints it).
const SchemaID = "urn:boxo-sim:scenario:v1"

// SchemaFile is the file name editors are pointed at, next to the scenario files.
const SchemaFile = "scenario.schema.json"

// Schema returns the JSON Schema (draft-07) of the scenario format, generated from the Go
// types by reflection: keys from the yaml tags, descriptions from the doc tags, enums from the
// enum tags and from the registries the loader checks against.
func Schema() ([]byte, error) {
	g := &strictyaml.Schema{Docs: typeDocs, Special: special, Field: func(owner reflect.Type, name string, s map[string]any) {
		if name == "error_code" && owner != strictyaml.FaultType {
			s["enum"] = slices.Concat(contract.Codes, SDKCodes, MiniappAPICodes)
		}
	}}
	return g.Document(reflect.TypeFor[Scenario](), SchemaID, "boxo-sim scenario",
		"A boxo-sim scenario: the situation, the faults to inject, the actions and the expected outcome of a Boxo Connect run. Checked strictly by 'boxo-sim scenario lint'.")
}

// special makes an action a bare name or a mapping.
func special(g *strictyaml.Schema, t reflect.Type) (map[string]any, bool) {
	if t != actionType {
		return nil, false
	}
	g.Define("ActionOptions", t)
	var bare []string
	for _, a := range ActionNames {
		if a != ActAdvanceClock && a != ActRequest { // need by, path
			bare = append(bare, a)
		}
	}
	g.Set("Action", map[string]any{
		"description": "An action: a bare name with its defaults, or a mapping with do and options.",
		"oneOf": []any{
			map[string]any{"type": "string", "enum": bare},
			map[string]any{"$ref": "#/definitions/ActionOptions"},
		},
	})
	return map[string]any{"$ref": "#/definitions/Action"}, true
}

// typeDocs describe the definitions.
var typeDocs = func() map[string]string {
	docs := map[string]string{
		"Setup":       "The situation before the first action.",
		"SDKSetup":    "The fake SDK's configuration.",
		"Stub":        "A canned answer served in place of a party's endpoint.",
		"Action":      "An action: a bare name with its defaults, or a mapping with do and options.",
		"Expect":      "What an action must lead to. Unless it says succeeds: false or gives fails_at, error_code or party, the action must succeed.",
		"MeExpect":    "The expected answer of the miniapp's GET /api/me; only the keys given are compared.",
		"TraceExpect": "A step the flow's trace must contain.",
	}
	for k, v := range seed.TypeDocs {
		docs[k] = v
	}
	return docs
}()
