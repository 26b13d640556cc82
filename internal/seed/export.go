package seed

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/boxo-sim/boxo-sim/internal/admin"
	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/fault"
	"github.com/boxo-sim/boxo-sim/internal/strictyaml"
)

// Export reads a running stack's setup over the parties' admin API: every user, OAuth client
// and Dashboard record, the parties' settings and their fault tables. Parties without an admin
// URL are left out. withSecrets asks the parties for the secrets in full; without it they are
// as the admin API shows them, masked, and Apply refuses the file until they are written in.
// Secrets the parties keep only as hashes (user passwords, client secrets, the miniapp
// backend's secret_key) are never in an export.
func Export(ctx context.Context, st Stack, withSecrets bool) (*File, error) {
	c := &caller{st: st}
	q := ""
	if withSecrets {
		q = "?" + admin.ShowSecretsQuery
	}
	f := &File{}
	if st.HostURL != "" {
		var users struct{ Users []User }
		var clients struct{ Clients []Client }
		var settings HostSettings
		for _, r := range []struct {
			path string
			out  any
		}{{"/_sim/users", &users}, {"/_sim/clients", &clients}, {"/_sim/settings" + q, &settings}} {
			if err := c.do(ctx, http.MethodGet, contract.PartyHostapp, r.path, nil, r.out); err != nil {
				return nil, err
			}
		}
		for i, c := range clients.Clients {
			if c.RedirectURIs != nil {
				for j, u := range *c.RedirectURIs {
					(*clients.Clients[i].RedirectURIs)[j] = *relative(&u, st.HostURL)
				}
			}
		}
		f.Users, f.Clients, f.Hostapp = users.Users, clients.Clients, &settings
	}
	if st.PlatformURL != "" {
		var hs struct{ Hostapps []DashboardHostapp }
		var ms struct{ Miniapps []DashboardMiniapp }
		var ps struct{ Partnerships []Partnership }
		var settings PlatformSettings
		for _, r := range []struct {
			path string
			out  any
		}{{"/_sim/hostapps" + q, &hs}, {"/_sim/miniapps" + q, &ms}, {"/_sim/partnerships", &ps}, {"/_sim/settings", &settings}} {
			if err := c.do(ctx, http.MethodGet, contract.PartyPlatform, r.path, nil, r.out); err != nil {
				return nil, err
			}
		}
		for i := range hs.Hostapps {
			h := &hs.Hostapps[i]
			h.AccessTokenURL, h.UserDataURL, h.RefreshTokenURL = relative(h.AccessTokenURL, st.HostURL), relative(h.UserDataURL, st.HostURL), relative(h.RefreshTokenURL, st.HostURL)
		}
		for i := range ms.Miniapps {
			m := &ms.Miniapps[i]
			m.AuthTokenURL, m.URL = relative(m.AuthTokenURL, st.MiniappURL), relative(m.URL, st.pageURL())
		}
		f.Dashboard = Dashboard{Hostapps: hs.Hostapps, Miniapps: ms.Miniapps, Partnerships: ps.Partnerships}
		f.Platform = &settings
	}
	if st.MiniappURL != "" {
		var settings MiniSettings
		exists, err := c.found(ctx, contract.PartyMiniapp, "/_sim/settings"+q, &settings)
		if err != nil {
			return nil, err
		}
		if exists {
			f.Miniapp = &settings
		}
	}
	faults := []fault.Fault{}
	for _, p := range []string{contract.PartyHostapp, contract.PartyPlatform, contract.PartyMiniapp} {
		if st.URL(p) == "" {
			continue
		}
		var l fault.List
		if err := c.do(ctx, http.MethodGet, p, "/_sim/faults", nil, &l); err != nil {
			return nil, err
		}
		for _, ft := range l.Faults {
			ft.ID, ft.Matched, ft.Fired = "", 0, 0
			faults = append(faults, ft)
		}
	}
	f.Faults = &faults
	return f, nil
}

// Masked reports whether the file holds a secret as the admin API shows it masked: whether
// checking it meets one. Faults hold no secret, and checking them would complete them in
// place, so they are left out.
func (f *File) Masked() bool {
	g := *f
	g.Faults = nil
	c := &Checker{Parser: &strictyaml.Parser{}}
	c.CheckFile(&g)
	return c.masked
}

// Header is the comment an exported file starts with; from says which stack it came from.
func Header(from string, masked bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# boxo-sim seed file, exported from %s.\n", from)
	b.WriteString("# Apply it with: boxo-sim up --seed FILE (format: boxo-sim export --schema, or seed.schema.json).\n")
	b.WriteString("# Not in any export, as the parties keep only their hashes: user passwords (a user keeps its\n")
	b.WriteString("# own; a new one gets <username>-password), OAuth client secrets and the miniapp backend's\n")
	b.WriteString("# secret_key: write them in to create those on a fresh stack.\n")
	if masked {
		b.WriteString("# SECRETS MASKED: exported without --with-secrets. The values shown as abcd…[n] are not the\n")
		b.WriteString("# secrets, and 'up --seed' refuses this file until they are written in (or export again\n")
		b.WriteString("# with --with-secrets).\n")
	}
	return b.String()
}

// YAML writes the file as YAML.
func (f *File) YAML() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// JSON writes the file as JSON with the same keys as its YAML, which --seed reads as well
// (JSON is YAML).
func (f *File) JSON() ([]byte, error) {
	y, err := f.YAML()
	if err != nil {
		return nil, err
	}
	var v any
	if err := yaml.Unmarshal(y, &v); err != nil {
		return nil, err
	}
	if v == nil {
		v = map[string]any{}
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
