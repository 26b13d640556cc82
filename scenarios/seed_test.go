package scenarios

import (
	"reflect"
	"slices"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/seed"
	"github.com/boxo-sim/boxo-sim/internal/strictyaml"
)

// TestSetupIsSeedVocabulary: every key of a scenario's setup that describes the stack's state
// is the seed file's key of the same type, and the scenario's faults are the seed file's, so
// every state a setup can express a seed file can too.
func TestSetupIsSeedVocabulary(t *testing.T) {
	seedFields, _ := strictyaml.Fields(reflect.TypeFor[seed.File]())
	setupFields, names := strictyaml.Fields(reflect.TypeFor[Setup]())
	for _, name := range names {
		if slices.Contains(scenarioOnly, name) {
			continue
		}
		sf, ok := seedFields[name]
		if !ok {
			t.Errorf("setup.%s has no counterpart in seed files", name)
			continue
		}
		if got, want := setupFields[name].Type, sf.Type; got != want {
			t.Errorf("setup.%s is %v, the seed file's %s is %v", name, got, name, want)
		}
	}
	faults, _ := strictyaml.Fields(reflect.TypeFor[Scenario]())
	if got, want := faults["faults"].Type.Elem(), seedFields["faults"].Type.Elem().Elem(); got != want {
		t.Errorf("a scenario's faults are %v, a seed file's %v", got, want)
	}
}

// TestLibrarySetupsAreSeedFiles: the setup and faults of every library scenario, written as
// a seed file, load as one.
func TestLibrarySetupsAreSeedFiles(t *testing.T) {
	scs, err := Load("library")
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range scs {
		b, err := sc.Setup.Seed(sc.Faults).YAML()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := seed.Parse(sc.Name+".seed.yaml", b); err != nil {
			t.Errorf("the setup of %s is not a seed file: %v\n%s", sc.Name, err, b)
		}
	}
}
