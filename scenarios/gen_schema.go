//go:build ignore

// gen_schema writes scenario.schema.json from the Go types (go generate ./scenarios).
package main

import (
	"log"
	"os"

	"github.com/boxo-sim/boxo-sim/scenarios"
)

func main() {
	b, err := scenarios.Schema()
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("scenario.schema.json", b, 0o644); err != nil {
		log.Fatal(err)
	}
}
