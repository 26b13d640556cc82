package main

import (
	"encoding/json"
	"io"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/stack"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

// upBanner is what up --json prints once the parties serve: the text banner's facts as one
// JSON line, secrets shown as the text banner shows them.
type upBanner struct {
	DataDir     string                      `json:"data_dir"`
	Ephemeral   bool                        `json:"ephemeral"`
	Seed        string                      `json:"seed,omitempty"` // the seed file applied at start
	StateFile   string                      `json:"state_file"`
	Parties     map[string]stack.PartyState `json:"parties"`
	AdminToken  string                      `json:"admin_token"` // masked; the state file holds it
	Credentials upCredentials               `json:"credentials"`
	// Demo is the flow of --demo.
	Demo *sdkstub.Result `json:"demo,omitempty"`
}

// upCredentials are the Dashboard credentials of the stack, by their Dashboard field names.
type upCredentials struct {
	ClientID         string     `json:"client_id,omitempty"`
	HostappClientID  string     `json:"hostapp_client_id,omitempty"`
	HostappSecretKey string     `json:"hostapp_secret_key,omitempty"`
	TokenPrefix      string     `json:"token_prefix,omitempty"`
	AppID            string     `json:"app_id,omitempty"`
	SecretKey        string     `json:"secret_key,omitempty"`
	Users            []hostUser `json:"users,omitempty"`
}

type hostUser struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// newUpBanner gathers what printUp prints.
func newUpBanner(st *stack.Stack, cfg Config, token, stateFile string) upBanner {
	state := st.State()
	b := upBanner{DataDir: st.DataDir, Ephemeral: cfg.Ephemeral, Seed: cfg.Seed, StateFile: stateFile, Parties: state.Parties, AdminToken: contract.Mask(token)}
	started := func(p string) bool { return contains(st.Started, p) }
	c, cr := &b.Credentials, credentialsOf(st, cfg)
	c.ClientID, c.HostappClientID, c.HostappSecretKey, c.TokenPrefix = cr.ClientID, cr.HostappClientID, cr.HostappSecret, cr.TokenPrefix
	c.AppID, c.SecretKey = cr.AppID, cr.MiniappSecret
	if st.Relayed(stack.Hostapp) && c.HostappSecretKey != "" { // the secrets of real backends are not printed
		c.HostappSecretKey = contract.Mask(c.HostappSecretKey)
	}
	if st.Relayed(stack.Miniapp) && c.SecretKey != "" {
		c.SecretKey = contract.Mask(c.SecretKey)
	}
	if started(stack.Hostapp) {
		for _, u := range demo.Users {
			c.Users = append(c.Users, hostUser{u.Username, u.Password})
		}
	}
	return b
}

// writeJSONLine writes v as one line of JSON.
func writeJSONLine(w io.Writer, v any) error {
	return json.NewEncoder(w).Encode(v)
}
