package main

import (
	"github.com/spf13/cobra"

	"github.com/boxo-sim/boxo-sim/internal/stack"
)

// The platform's Dashboard registry (PROTOCOL §1.3): host apps, miniapps and the partnerships
// between them. The routes' PUT merges, and GET masks secrets unless asked (?secrets=show).
var (
	hostappsKind = recordKind{
		name: "host app", party: stack.Platform, path: "/_sim/hostapps", listKey: "hostapps", keys: []string{"client_id"},
		columns: []string{"client_id", "name", "connect_enabled", "hostapp_client_id", "hostapp_secret_key", "access_token_url"},
		secrets: []string{"hostapp_secret_key", "signing_secret"},
		cmdPath: "boxo-sim dashboard hostapps", sample: "352131",
		putExample: `  boxo-sim dashboard hostapps set 352131 --token-prefix Bearer --ip-allowlist 127.0.0.0/8,10.0.0.0/8
  boxo-sim dashboard hostapps set 352131 --connect-enabled=false
  boxo-sim dashboard hostapps set myhost --name "My host" --access-token-url https://api.example.com/boxo/token \
      --user-data-url https://api.example.com/boxo/user --hostapp-client-id boxo --hostapp-secret "$SECRET"`,
		fields: []recordField{
			{flag: "name", key: "name", usage: "the host app's name"},
			{flag: "connect-enabled", key: "connect_enabled", kind: fieldBool, usage: "Connect is on for the host app; --connect-enabled=false switches it off"},
			{flag: "access-token-url", key: "access_token_url", usage: "the host backend's access token endpoint (step 6), a URL"},
			{flag: "user-data-url", key: "user_data_url", usage: "the host backend's user data endpoint (step 8), a URL"},
			{flag: "refresh-token-url", key: "refresh_token_url", usage: "the host backend's refresh endpoint (contract §7.1), a URL; \"\" for none"},
			{flag: "hostapp-client-id", key: "hostapp_client_id", usage: "hostapp_client_id, the client the platform authenticates as at the host backend"},
			{flag: "hostapp-secret", key: "hostapp_secret_key", kind: fieldSecret, usage: "hostapp_secret_key, that client's secret"},
			{flag: "token-prefix", key: "token_prefix", usage: "the scheme word of the platform's calls to the host, e.g. Token or Bearer"},
			{flag: "user-data-method", key: "user_data_method", usage: "GET or POST: the method of the user data call"},
			{flag: "ip-allowlist", key: "ip_allowlist", kind: fieldList, usage: "CIDRs allowed to call the platform for this host app (contract §7.6)"},
			{flag: "legacy-login-enabled", key: "legacy_login_enabled", kind: fieldBool, usage: "the legacy payload login of older SDKs (contract §7.10)"},
			{flag: "use-access-token", key: "use_access_token", kind: fieldBool, usage: "\"use access token\" for Boxo Payments (contract §7.9)"},
			{flag: "signing-enabled", key: "signing_enabled", kind: fieldBool, usage: "request signing between platform and host (contract §7.8)"},
			{flag: "signing-secret", key: "signing_secret", kind: fieldSecret, usage: "the request signing secret"},
		},
	}
	miniappsKind = recordKind{
		name: "miniapp", party: stack.Platform, path: "/_sim/miniapps", listKey: "miniapps", keys: []string{"app_id"},
		columns: []string{"app_id", "name", "url", "secret_key", "required_fields"},
		secrets: []string{"secret_key", "signing_secret"},
		cmdPath: "boxo-sim dashboard miniapps", sample: "app16973",
		putExample: `  boxo-sim dashboard miniapps set app16973 --required-fields email,phone
  boxo-sim dashboard miniapps set app16973 --consent-link Terms=https://example.com/terms --consent-link Privacy=https://example.com/privacy
  boxo-sim dashboard miniapps set app2 --name "My miniapp" --url http://localhost:3000/ \
      --auth-token-url http://localhost:3000/api/boxo/login --miniapp-secret "$SECRET"
  boxo-sim dashboard miniapps get app16973 --json > app.json && boxo-sim dashboard miniapps set app16973 -f app.json`,
		fields: []recordField{
			{flag: "name", key: "name", usage: "the miniapp's name"},
			{flag: "url", key: "url", usage: "where the miniapp's page is, a URL"},
			{flag: "auth-token-url", key: "auth_token_url", usage: "the miniapp backend's Get Auth Token endpoint (step 10), a URL"},
			{flag: "miniapp-secret", key: "secret_key", kind: fieldSecret, usage: "secret_key, the secret the platform sends the miniapp backend"},
			{flag: "required-fields", key: "required_fields", kind: fieldList, usage: "user fields the miniapp requires: email, phone, first_name, last_name, custom_attributes"},
			{flag: "ip-allowlist", key: "ip_allowlist", kind: fieldList, usage: "CIDRs allowed to call the platform for this miniapp (contract §7.6)"},
			{flag: "consent-link", key: "consent_links", kind: fieldLinks, usage: "a link on the consent prompt, TITLE=URL; repeat for more, \"\" for none"},
			{flag: "signing-enabled", key: "signing_enabled", kind: fieldBool, usage: "request signing of the platform's calls to the miniapp (contract §7.8)"},
			{flag: "signing-secret", key: "signing_secret", kind: fieldSecret, usage: "the request signing secret"},
		},
	}
	partnershipsKind = recordKind{
		name: "partnership", party: stack.Platform, path: "/_sim/partnerships", listKey: "partnerships", keys: []string{"client_id", "app_id"},
		columns: []string{"client_id", "app_id", "connect_enabled", "direct_enabled"},
		cmdPath: "boxo-sim dashboard partnerships", sample: "352131 app16973",
		putExample: `  boxo-sim dashboard partnerships set 352131 app2                  # Connect on, Direct off
  boxo-sim dashboard partnerships set 352131 app16973 --direct-enabled=false`,
		fields: []recordField{
			{flag: "connect-enabled", key: "connect_enabled", kind: fieldBool, usage: "Connect is on for the pair (on for a new one); --connect-enabled=false switches it off"},
			{flag: "direct-enabled", key: "direct_enabled", kind: fieldBool, usage: "Connect Direct is on for the pair (contract §7.3)"},
		},
	}
)

func newDashboardCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "dashboard",
		Short: "List, show, set and delete the platform's Dashboard records",
		Long: `Manage the Dashboard of the running platform (its /_sim/hostapps, /_sim/miniapps and
/_sim/partnerships routes): the host apps with the endpoints and credentials the platform
uses towards them, the miniapps, and the partnerships that let a host app open a miniapp.

set creates a record or changes the fields given; the others keep their values (a new
record needs its required fields: the platform names a missing one). list and get mask
secrets unless --show-secrets. A change takes effect on the next flow.

The stack is found as for every client command: --platform-url, else the 'boxo-sim up'
running on --data-dir, else the local one.
Exit status: 0 done, 1 the platform refused (its code and reason are printed; a missing
record says it does not exist), 2 a usage or setup error (bad flags, no stack, no admin token).`,
		Example: `  boxo-sim dashboard hostapps list
  boxo-sim dashboard hostapps get 352131 --show-secrets
  boxo-sim dashboard hostapps set 352131 --token-prefix Bearer --ip-allowlist 127.0.0.0/8,10.0.0.0/8
  boxo-sim dashboard miniapps set app16973 --required-fields email,phone
  boxo-sim dashboard miniapps set app2 --name "My miniapp" --url http://localhost:3000/ \
      --auth-token-url http://localhost:3000/api/boxo/login --miniapp-secret "$SECRET"
  boxo-sim dashboard partnerships set 352131 app2 --direct-enabled
  boxo-sim dashboard partnerships set 352131 app16973 --connect-enabled=false
  boxo-sim dashboard miniapps get app16973 --json > app.json; boxo-sim dashboard miniapps set app16973 -f app.json`,
	}
	addStackFlags(c)
	group := func(use, short string, k recordKind) *cobra.Command {
		return recordGroup(&cobra.Command{Use: use, Short: short, Example: "  " + k.cmdPath + " list\n" + k.putExample}, newRecordCmds(e, k, "set")...)
	}
	return recordGroup(c,
		group("hostapps", "The host apps the platform knows (client_id, endpoints, credentials)", hostappsKind),
		group("miniapps", "The miniapps the platform knows (app_id, auth token URL, secret, required fields)", miniappsKind),
		group("partnerships", "Which host app may open which miniapp, with Connect and Direct switches", partnershipsKind),
	)
}
