package scenarios

import (
	"fmt"
	"strings"
)

// ValidName reports whether name can name a scenario (and its file): lower-case words, digits
// and dashes, <area>-<case>.
func ValidName(name string) error {
	if !nameRE.MatchString(name) || len(name) > 100 {
		return fmt.Errorf("scenario name %q: use lower-case words, digits and dashes, <area>-<case>, such as connect-new-user", name)
	}
	return nil
}

// Template is a commented scenario named name that passes as it is: one flow for a new host
// user, with every other section shown commented out.
func Template(name string) []byte {
	return []byte(strings.ReplaceAll(template, "NAME", name))
}

const template = `# yaml-language-server: $schema=` + SchemaFile + `
#   (write it beside this file with: boxo-sim scenario schema > ` + SchemaFile + `)
#
# A boxo-sim scenario: the situation, the faults to inject, the actions, the expected outcome.
# Run it:   boxo-sim scenario run NAME.yaml
# Check it: boxo-sim scenario lint NAME.yaml   (unknown keys, steps, codes are errors)
# Name files <area>-<case>.yaml; name must equal the file name.
name: NAME
description: >-
  What this scenario shows, in a sentence or two (cite contract sections: boxo-sim contract).

# setup: the situation before the first action. Everything not named keeps the seeded demo
# values (host app 352131, miniapp app16973, users alice, bob and carol).
setup:
  users:                       # host app users to create or replace
    - username: dave
      reference: u-2001        # the user's key in the host system
      email: dave@example.com
      # phone: "+6591230000"
      # first_name: Dave
      # custom_attributes: {tier: gold}
  # call_timeout: 500ms        # the in-process platform's wait for host and miniapp (default 10s)
  # dashboard:                 # the platform's registry
  #   hostapp: {connect_enabled: true, token_prefix: Token, refresh_token_url: ""}
  #   miniapp: {required_fields: [email], consent_links: [{title: Terms, url: "https://example.com/terms"}]}
  #   partnership: {connect_enabled: true}
  #   miniapps: [{app_id: shop-app, name: Shop, url: /, auth_token_url: /boxo/auth-token, secret_key: s}]
  #   partnerships: [{client_id: "352131", app_id: shop-app}]   # other records, as in seed files
  # hostapp: {token_prefix: Token, ip_allowlist: [127.0.0.0/8]}    # the host backend's own settings
  # miniapp: {required_fields: [], ip_allowlist: [127.0.0.0/8]}    # the miniapp backend's own settings
  # clients: [{client_id: spa, token_endpoint_auth_method: none, redirect_uris: [http://localhost:5173/cb]}]
  # sdk: {client_id: "352131", skip_granted_consent: true}   # skip the prompt once consent exists
  # stubs:                     # canned answers in place of step 7, 9 or 11 (or refresh: true)
  #   - {step: 7, json: {access_token: t, error_code: INVALID_AUTH_CODE}}

# faults: set on the parties' fault tables before the first action. Kinds: error_code, delay,
# status, malformed, long_token, missing_field, reset, replay_code, expire.
faults: []
#  - {step: 7, kind: status, status: 500}
#  - {step: 7, kind: delay, delay: 11s, nth: 2}
#  - {party: hostapp, endpoint: /boxo/connect/refresh-token, kind: error_code, error_code: INVALID_REFRESH_TOKEN}

# actions: connect, connect_direct, connect_again, refresh, logout, advance_clock,
# revoke_consent, delete_user, revoke_tokens, remove_partnership, read_only_storage, request. A
# bare name uses the defaults; a mapping takes options (user, password, app_id, consent: deny,
# user_reference, try_saved_token: true, payload, data, sandbox_mode, legacy_login: true, by: 2h,
# before_step: 8, path, body) and its own expect. An action without expect must succeed.
actions:
  - do: connect
    user: dave
  # - do: advance_clock
  #   by: 61m
  #   expect: {me: {status: 401}}
  # - refresh

# expect: the last action's expectation. Give succeeds: false, or fails_at (step 1-16),
# error_code and party (hostapp, platform, miniapp, sdk) for a failure; miniapp_user (created,
# existing, none); me (what GET /api/me answers); consent (true, false); saved_token and
# consent_skipped (true, false); trace (steps the flow must show).
expect:
  miniapp_user: created
  me: {reference: u-2001, email: dave@example.com}
  # fails_at: 7
  # error_code: INVALID_AUTH_CODE
  # party: hostapp
`
