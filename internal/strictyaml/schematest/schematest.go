// Package schematest holds the checks the packages that ship a JSON schema for their YAML
// files (seed files, scenarios) run on it in their tests: the file is what the Go types
// generate, and it accepts and refuses what an editor using it should. Test code only.
package schematest

import (
	"bytes"
	"os"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/strictyaml"
)

// Fresh fails t when the schema file at path is not what generate makes from the Go types
// now; regenerate is the command that rewrites it.
func Fresh(t testing.TB, path string, generate func() ([]byte, error), regenerate string) {
	t.Helper()
	want, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: run '%s' and commit the result", path, regenerate)
	}
}

// Validator is the validator of the schema file at path, as an editor loads it.
func Validator(t testing.TB, path string) *strictyaml.SchemaValidator {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := strictyaml.NewSchemaValidator(raw)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Accepts fails t for each of files that does not validate against v.
func Accepts(t testing.TB, v *strictyaml.SchemaValidator, files ...string) {
	t.Helper()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if errs := v.ValidateYAML(b); len(errs) > 0 {
			t.Errorf("%s does not validate against the schema: %v", f, errs)
		}
	}
}

// Refuses fails t for each of bad, a YAML body by the mistake it shows, that v accepts.
func Refuses(t testing.TB, v *strictyaml.SchemaValidator, bad map[string]string) {
	t.Helper()
	for name, body := range bad {
		if errs := v.ValidateYAML([]byte(body)); len(errs) == 0 {
			t.Errorf("%s: the schema accepts:\n%s", name, body)
		}
	}
}
