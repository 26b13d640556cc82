package scenarios_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/strictyaml"
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
	v, err := strictyaml.NewSchemaValidator(raw)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("library/*.yaml")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if errs := v.ValidateYAML(b); len(errs) > 0 {
			t.Errorf("%s does not validate against the schema: %v", f, errs)
		}
	}
	if errs := v.ValidateYAML(scenarios.Template("area-case")); len(errs) > 0 {
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
		if errs := v.ValidateYAML([]byte(body)); len(errs) == 0 {
			t.Errorf("%s: the schema accepts:\n%s", name, body)
		}
	}
}
