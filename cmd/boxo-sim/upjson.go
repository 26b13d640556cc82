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
	Credentials credentials                 `json:"credentials"`
	// Demo is the flow of --demo.
	Demo *sdkstub.Result `json:"demo,omitempty"`
}

type hostUser struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// newUpBanner gathers what printUp prints.
func newUpBanner(st *stack.Stack, cfg Config, token, stateFile string) upBanner {
	b := upBanner{DataDir: st.DataDir, Ephemeral: cfg.Ephemeral, Seed: cfg.Seed, StateFile: stateFile, Parties: st.State().Parties, AdminToken: contract.Mask(token),
		Credentials: credentialsOf(st, cfg)}
	c := &b.Credentials
	if st.Relayed(stack.Hostapp) && c.HostappSecret != "" { // the secrets of real backends are not printed
		c.HostappSecret = contract.Mask(c.HostappSecret)
	}
	if st.Relayed(stack.Miniapp) && c.MiniappSecret != "" {
		c.MiniappSecret = contract.Mask(c.MiniappSecret)
	}
	if contains(st.Started, stack.Hostapp) {
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
