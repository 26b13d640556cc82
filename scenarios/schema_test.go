package scenarios_test

import (
	"path/filepath"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/strictyaml/schematest"
	"github.com/boxo-sim/boxo-sim/scenarios"
)

// TestSchemaIsFresh fails when scenario.schema.json is not what the Go types generate.
func TestSchemaIsFresh(t *testing.T) {
	t.Parallel()
	schematest.Fresh(t, "scenario.schema.json", scenarios.Schema, "go generate ./scenarios")
}

// TestLibraryValidatesAgainstSchema checks the shipped schema the way an editor uses it: every
// library file and the template validate, and typical mistakes do not.
func TestLibraryValidatesAgainstSchema(t *testing.T) {
	t.Parallel()
	v := schematest.Validator(t, "scenario.schema.json")
	files, _ := filepath.Glob("library/*.yaml")
	schematest.Accepts(t, v, files...)
	if errs := v.ValidateYAML(scenarios.Template("area-case")); len(errs) > 0 {
		t.Errorf("the template does not validate against the schema: %v", errs)
	}
	schematest.Refuses(t, v, map[string]string{
		"unknown key":         "name: x\ncolour: red\nactions: [connect]\n",
		"no actions":          "name: x\n",
		"unknown action":      "name: x\nactions: [dance]\n",
		"bad fault kind":      "name: x\nfaults: [{step: 7, kind: explode}]\nactions: [connect]\n",
		"bad fault step":      "name: x\nfaults: [{step: 13, kind: reset}]\nactions: [connect]\n",
		"bad duration":        "name: x\nactions: [{do: advance_clock, by: soon}]\n",
		"bad error code":      "name: x\nactions: [connect]\nexpect: {error_code: NOPE}\n",
		"unknown key in user": "name: x\nsetup: {users: [{username: a, reference: r, nick: n}]}\nactions: [connect]\n",
		"bad required field":  "name: x\nsetup: {dashboard: {miniapp: {required_fields: [shoe]}}}\nactions: [connect]\n",
	})
}
