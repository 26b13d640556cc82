# boxo-sim: `make run` starts the three parties and runs one flow; `make test` runs every test.
GO       ?= go
BIN      ?= bin/boxo-sim
PKGS     ?= ./...
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
export CGO_ENABLED := 1

.PHONY: all build run test vet bench clean vendor-sdks

all: build

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/boxo-sim

## run: build, start host app, platform and miniapp on 8081/8082/8083 with their SQLite
## databases in ./.boxo-sim, run one full Connect flow, print its 16 steps, keep serving;
## then open the demo at http://127.0.0.1:8081/ (carol / carol-password) and the console at
## http://127.0.0.1:8082/.
run: build
	./$(BIN) up --demo

## test: vet, then every test with the race detector.
test: vet
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

vet:
	$(GO) vet $(PKGS)

## bench: the Go benchmarks: a whole flow one at a time and 32 at a time (returning users and
## first logins), each hot endpoint (settings, auth code, authorize, /api/me), the flow log
## write and a cold start, with CPU per operation.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 $(PKGS)

## vendor-sdks: refresh the vendored Boxo JavaScript SDKs from npm (the pinned versions, or
## WEB_SDK_VERSION=... JS_SDK_VERSION=...) and say what changed. Only this target needs npm.
WEB_SDK_VERSION ?= 1.4.4
JS_SDK_VERSION  ?= 1.9.0
vendor-sdks:
	WEB_SDK_VERSION=$(WEB_SDK_VERSION) JS_SDK_VERSION=$(JS_SDK_VERSION) ./internal/jsvendor/vendor-sdks.sh

clean:
	rm -rf bin
