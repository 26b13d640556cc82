//go:build ignore

// gen_schema writes seed.schema.json from the Go types (go generate ./internal/seed).
package main

import (
	"log"
	"os"

	"github.com/boxo-sim/boxo-sim/internal/seed"
)

func main() {
	b, err := seed.Schema()
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("seed.schema.json", b, 0o644); err != nil {
		log.Fatal(err)
	}
}
