package main

import (
	"github.com/spf13/cobra"

	"github.com/boxo-sim/boxo-sim/internal/stack"
)

// clientsKind: the OAuth clients of the host app's authorization server (/_sim/clients). The
// route's PUT merges; a client's secret is stored hashed and never shown.
var clientsKind = recordKind{
	name: "client", party: stack.Hostapp, path: "/_sim/clients", listKey: "clients", keys: []string{"client_id"},
	columns:  []string{"client_id", "name", "token_endpoint_auth_method", "require_pkce", "skip_consent", "redirect_uris"},
	readOnly: []string{"created_at", "updated_at"},
	cmdPath:  "boxo-sim clients", sample: "hostapp-client-1",
	putExample: `  boxo-sim clients put my-spa --auth-method none --redirect-uris http://localhost:5173/cb --scopes openid,profile
  boxo-sim clients put my-web --secret "$SECRET" --redirect-uris https://app.example.com/cb --name "My web app"
  boxo-sim clients put my-web --skip-consent                 # the other fields stay`,
	fields: []recordField{
		{flag: "secret", key: "secret", kind: fieldSecret, usage: "the client secret (stored hashed; visible to other local users in the process list: --file - keeps it off the command line)"},
		{flag: "name", key: "name", usage: "the name the consent page shows"},
		{flag: "redirect-uris", key: "redirect_uris", kind: fieldList, usage: "the registered redirect URIs (a new client needs one)"},
		{flag: "redirect-match", key: "redirect_match", usage: "exact (the whole URI) or host (scheme and host[:port] only)"},
		{flag: "scopes", key: "scopes", kind: fieldList, usage: "the scopes granted, e.g. openid,profile,email"},
		{flag: "skip-consent", key: "skip_consent", kind: fieldBool, usage: "no consent page (as for the Boxo client); --skip-consent=false shows it"},
		{flag: "auth-method", key: "token_endpoint_auth_method", usage: "client_secret_basic (default), client_secret_post, or none (a public client: no secret, PKCE required)"},
		{flag: "require-pkce", key: "require_pkce", kind: fieldBool, usage: "code requests must carry a code_challenge (RFC 7636)"},
	},
}

func newClientsCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "clients",
		Short: "List, show, create, change and delete the host app's OAuth clients",
		Long: `Manage the OAuth clients of the running host app's authorization server (its
/_sim/clients routes): the Boxo-facing client the platform's host app uses
(hostapp-client-1 in the demo) and your own web or mobile clients. A secret is stored
hashed and never shown.

The stack is found as for every client command: --platform-url (its host app), else the
'boxo-sim up' running on --data-dir, else the local one; --hostapp-url names the host app.
Exit status: 0 done, 1 the host app refused (its code and reason are printed; a missing
client says it does not exist), 2 a usage or setup error (bad flags, no stack, no admin token).`,
		Example: `  boxo-sim clients list
  boxo-sim clients get hostapp-client-1 --json
  boxo-sim clients put my-spa --auth-method none --redirect-uris http://localhost:5173/callback --scopes openid,profile
  boxo-sim clients put my-web --secret "$SECRET" --redirect-uris https://app.example.com/cb --name "My web app"
  boxo-sim clients put my-web --skip-consent          # the other fields stay
  boxo-sim clients delete my-web`,
	}
	addStackFlags(c)
	return recordGroup(c, newRecordCmds(e, clientsKind, "put")...)
}
