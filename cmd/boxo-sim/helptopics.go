package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/boxo-sim/boxo-sim/scenarios"
)

// newHelpTopics are the pages of 'boxo-sim help TOPIC': commands that only have text, which
// cobra lists under "Additional help topics". They are built into the binary, so they match
// the version that prints them and need no man page installed; the configuration page is
// generated from the settings table itself.
func newHelpTopics() []*cobra.Command {
	return []*cobra.Command{
		{Use: "configuration", Short: "Configuration: flags, BOXO_SIM_* variables, the YAML file, and every key", Long: configurationHelp()},
		{Use: "scenario-files", Short: "Scenario files: what they describe, and how to write, check and run them", Long: scenariosHelp},
		{Use: "seed-files", Short: "Seed files: a team's test setup, loaded at start and exported", Long: seedFilesHelp},
		{Use: "exit-codes", Short: "What boxo-sim's exit statuses mean", Long: exitCodesHelp},
	}
}

// configurationHelp lists the sources of configuration and every key, from the settings table.
func configurationHelp() string {
	var b strings.Builder
	b.WriteString(`Every setting has a YAML key, a BOXO_SIM_<KEY> environment variable and a --flag on the
commands that use it. The first found wins:

  1. a flag                       boxo-sim up --platform-port 9082
  2. an environment variable      BOXO_SIM_PLATFORM_PORT=9082
  3. the YAML file of --config FILE or BOXO_SIM_CONFIG
                                  platform_port: 9082
  4. the default

A command takes only the flags it lists in its --help; the environment and the file reach
every command. The file is read strictly: an unknown key or a value of the wrong type is an
error with its line. 'boxo-sim config print' shows each key's effective value and where it
came from (--json too); its output, with the masked secrets replaced, is a valid file.
Secrets are never printed in full.

Keys (environment variable, flag; default):
`)
	d := defaultConfig()
	for _, s := range settings {
		def := s.get(&d)
		if def == "" {
			def = "none"
		}
		fmt.Fprintf(&b, "\n  %s  (%s, --%s; %s)\n      %s\n", s.key, s.env(), s.flag, def, s.usage)
	}
	b.WriteString(`
--config, --log-level and --log-format are flags of every command. BOXO_SIM_SIGNING_SECRET
is read by 'boxo-sim sign' when --signing-secret is not given.`)
	return b.String()
}

var scenariosHelp = `A scenario is one YAML file that describes a situation, the faults to inject, the actions
and the expected outcome of a Boxo Connect run:

  name: hostapp-token-refused       # the file's name, <area>-<case>; the test's name in reports
  description: What it shows (contract §…).
  setup:                            # users, Dashboard records, the parties' own settings
    users: [{username: dave, reference: u-2001, email: dave@example.com}]
  faults:                           # what 'boxo-sim fault set' sets, by the same names
    - {step: 7, kind: error_code, error_code: INVALID_AUTH_CODE}
  actions: [connect]                # connect, connect_again, refresh, logout, advance_clock, ...
  expect: {fails_at: 7, error_code: INVALID_AUTH_CODE}

The library in scenarios/library covers every error code and branch of the contract.

  boxo-sim scenario new connect-my-case          a commented template that passes as it is
  boxo-sim scenario lint my-case.yaml            check files without running them
  boxo-sim scenario run scenarios/library        run them, each on its own in-process stack
  boxo-sim scenario run DIR --platform-url URL   run them one by one against a running up
  boxo-sim scenario schema > ` + scenarios.SchemaFile + `
                                                 the JSON Schema, for your editor

Files are checked strictly before anything runs: an unknown key, a bad step number, an
unknown error code or a bad duration is an error with its file and line. 'scenario run'
reports in text, --json or --junit FILE; progress goes to stderr (--quiet: none). The
format, every action and every expectation are described in scenarios/README.md.`

var seedFilesHelp = `A seed file is one YAML file that declares a team's test setup: host users, the Dashboard's
records (host apps, miniapps, partnerships, with their required fields, allowlists and
relay URLs), OAuth clients and faults, by the same names as a scenario's setup and the
/_sim/ admin API.

  boxo-sim up --seed FILE        apply it when the stack starts; applying it again changes
                                 nothing
  boxo-sim exec --seed FILE -- CMD
                                 the same, for a stack that lives as long as CMD
  boxo-sim export                write the running stack's current setup as a seed file,
                                 secrets masked unless --with-secrets

Seed files are read strictly, like scenarios and the configuration file: an unknown key is
an error with its file and line. See each command's --help and the README for the format.`

var exitCodesHelp = exitHelp + `

Examples:
  connect       0 signed in (step 16, or 12 in Direct); 1 the flow stopped before it;
                2 a bad flag, an unknown user, no stack found
  check ...     0 no check FAILed; 1 a check FAILed (with --warn-as-failure: or WARNed);
                2 the backend could not be reached, a code source failed: nothing judged
  scenario run  0 every scenario passed; 1 one failed, or the run was interrupted;
                2 a malformed file or a stack that does not answer: nothing ran
  scenario lint 0 every file is well formed; 1 one is not
  bench         0 every flow reached step 16; 1 one did not
  userdata decrypt
                0 decrypted; 1 refused, as a miniapp must refuse it (INVALID_USER_DATA)
  fault, clock, trace, config, sign, contract
                0 done; 2 the request was refused or no party answers

A script tells "what I tested is broken" (1) from "I called it wrongly, or the stack is not
there" (2) by the status alone; the message on stderr says which flag or party to fix.`
