package seed

import (
	"reflect"

	"github.com/boxo-sim/boxo-sim/internal/strictyaml"
)

// SchemaID is the $id of the shipped schema: a name for this version of the format.
const SchemaID = "urn:boxo-sim:seed:v1"

// SchemaFile is the file name editors are pointed at.
const SchemaFile = "seed.schema.json"

// Schema returns the JSON Schema (draft-07) of the seed file format, generated from the Go
// types by reflection, as the scenario schema is.
func Schema() ([]byte, error) {
	g := &strictyaml.Schema{Docs: TypeDocs}
	return g.Document(reflect.TypeFor[File](), SchemaID, "boxo-sim seed file",
		"A boxo-sim seed file: the users, Dashboard records, party settings, OAuth clients and faults of a stack. 'boxo-sim up --seed FILE' applies it; 'boxo-sim export' writes one.")
}
