package platform

import (
	"net/http"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/signing"
)

// Request signing (PROTOCOL §7.8), the simulator's profile in internal/signing. A host app or
// miniapp with signing on gets every platform call signed with its secret; a host app with
// signing on must sign its own Direct and consent calls with it.

// signSecret is the secret an outbound call is signed with: "" (unsigned) when signing is off.
func signSecret(enabled bool, secret string) string {
	if !enabled {
		return ""
	}
	return secret
}

// signingSettings refuses a flow whose host app or miniapp has signing on without a secret:
// the platform could neither sign its calls nor verify the host's (§5.1).
func signingSettings(host HostApp, app Miniapp, step int) *contract.Error {
	if host.SigningEnabled && host.SigningSecret == "" {
		return platformErr(contract.CodeMissingRequestSignatureSettings, step, "request signing is on for host app %q but no signing secret is set", host.ClientID)
	}
	if app.SigningEnabled && app.SigningSecret == "" {
		return platformErr(contract.CodeMissingRequestSignatureSettings, step, "request signing is on for miniapp %q but no signing secret is set", app.AppID)
	}
	return nil
}

// signOutcall adds the signing headers to c, over its method, full URL and body, at the
// platform's clock.
func (s *server) signOutcall(c *outcall) {
	h := signing.Sign(c.signWith, c.method, c.url, c.body, s.now(), "")
	h.Identity = contract.PartyPlatform
	h.ClientID = c.header.Get(contract.HeaderHostappClientID)
	h.Apply(c.header)
}

// verifySigned checks the signature of a call the host app made (Direct, consent) when the
// host app has signing on; body is the raw request body. Failures are 400 envelopes at step.
func (s *server) verifySigned(r *http.Request, body []byte, host HostApp, step int) *contract.Error {
	if !host.SigningEnabled {
		return nil
	}
	if cerr := signingSettings(host, Miniapp{}, step); cerr != nil {
		return cerr // no secret to verify with
	}
	if e := s.verifier.Verify(r, body, host.SigningSecret); e != nil {
		return platformErr(e.Code, step, "%s", e.Message)
	}
	return nil
}
