package sdkstub

// The SDK's HTTP calls: the platform's settings and authorize endpoints, the miniapp
// frontend's /api/me, and the JSON round trip they share.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

func (f *flow) getSettings(ctx context.Context) (int, error) {
	q := url.Values{"client_id": {f.sdk.cfg.ClientID}}
	u := f.sdk.cfg.PlatformURL + "/api/v1/miniapps/" + url.PathEscape(f.o.AppID) + "/settings/?" + q.Encode()
	var env contract.ErrorEnvelope
	status, err := f.sdk.doJSON(ctx, http.MethodGet, u, nil, f.o.FlowID, nil, &f.settings, &env)
	if err != nil {
		return status, f.failErr(1, contract.PartyPlatform, status, CodePlatformUnavailable, err)
	}
	if status != http.StatusOK && env.ErrorCode == "" {
		return status, f.fail(1, contract.PartyPlatform, status, CodePlatformUnavailable, fmt.Sprintf(
			"%s answered %d without the platform's error envelope: is %s a Boxo platform?", pathOf(u), status, f.sdk.cfg.PlatformURL))
	}
	if status != http.StatusOK {
		return status, f.fail(1, contract.PartyPlatform, status, env.ErrorCode, env.Explained())
	}
	if f.settings.Miniapp.URL == "" {
		return status, f.fail(1, contract.PartyPlatform, status, CodePlatformUnavailable, "settings carry no miniapp URL")
	}
	return status, nil
}

// authorize is the SDK's POST /api/v1/authorize/ (PROTOCOL §3.6 item 4); the answer is step 12.
// The SDK accepts the token under "auth_token" or "token" (§3.13).
func (f *flow) authorize(ctx context.Context, code string) (contract.AuthorizeResponse, int, *contract.ErrorEnvelope, error) {
	body := contract.AuthorizeRequest{AuthCode: code, ClientID: f.sdk.cfg.ClientID, AppID: f.o.AppID, UserReference: f.o.UserReference}
	var ok struct {
		contract.AuthorizeResponse
		AuthToken string `json:"auth_token"`
	}
	var env contract.ErrorEnvelope
	status, err := f.sdk.doJSON(ctx, http.MethodPost, f.sdk.cfg.PlatformURL+"/api/v1/authorize/", nil, f.o.FlowID, body, &ok, &env)
	if err != nil {
		return contract.AuthorizeResponse{}, status, nil, err
	}
	if status != http.StatusOK {
		if env.ErrorCode == "" {
			return contract.AuthorizeResponse{}, status, nil, fmt.Errorf("platform answered %d without an error envelope", status)
		}
		return contract.AuthorizeResponse{}, status, &env, nil
	}
	if ok.AuthToken != "" {
		ok.Token = ok.AuthToken
	}
	return ok.AuthorizeResponse, status, nil, nil
}

// doJSON sends a JSON request and decodes a 200 answer into ok and any other into fail.
// An unreachable party or a body that is not JSON is an error.
func (s *SDK) doJSON(ctx context.Context, method, u string, header http.Header, flowID string, in, ok, fail any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return 0, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if flowID != "" {
		req.Header.Set(contract.HeaderFlowID, flowID)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, contract.AsConnectError(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, contract.MaxBodyBytes))
	if err != nil {
		return resp.StatusCode, err
	}
	dst := ok
	if resp.StatusCode != http.StatusOK {
		dst = fail
	}
	if dst == nil {
		return resp.StatusCode, nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return resp.StatusCode, fmt.Errorf("%s %s answered %d with a body that is not the expected JSON", method, u, resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// me is the miniapp frontend's GET /api/me (PROTOCOL §3.15) at meURL.
func (s *SDK) me(ctx context.Context, meURL, token, flowID string) (*contract.Me, int, error) {
	var me contract.Me
	h := http.Header{"Authorization": {"Bearer " + token}}
	status, err := s.doJSON(ctx, http.MethodGet, meURL, h, flowID, nil, &me, nil)
	if err != nil {
		return nil, status, err
	}
	if status != http.StatusOK {
		return nil, status, nil
	}
	return &me, status, nil
}

// pathOf is the path of a URL, for step descriptions.
func pathOf(u string) string {
	if p, err := url.Parse(u); err == nil && p.Path != "" {
		return p.Path
	}
	return u
}

// consentAnswer is the answer of get_consent (PROTOCOL §7.4).
type consentAnswer struct {
	Consent   bool     `json:"consent"`
	GrantedAt *string  `json:"granted_at"`
	Fields    []string `json:"fields"`
}

// getConsent asks whether the flow's user allowed the miniapp before (PROTOCOL §7.4), part of
// step 4. get_consent is a server-to-server call under the host app's IP allowlist and request
// signing, so the SDK asks through the host app, whose backend makes it (POST /boxo/consent
// with the user's session; the backend calls GET /api/v1/accounts/consent/get_consent/ with
// the signed-in user's reference, signed when signing is on, and passes the answer on).
func (f *flow) getConsent(ctx context.Context) (consentAnswer, int, *contract.ErrorEnvelope, error) {
	var ok consentAnswer
	if f.sdk.cfg.HostURL == "" {
		return ok, 0, nil, errors.New("the prompt-skip switch asks the host app's backend (POST /boxo/consent), and no host app URL is configured")
	}
	status, raw, err := f.sdk.host.userCall(ctx, f.o.User, f.o.Password, consentLookupPath, f.o.AppID, f.o.FlowID)
	if err != nil {
		return ok, status, nil, err
	}
	if status != http.StatusOK {
		var env contract.ErrorEnvelope
		if json.Unmarshal(raw, &env) != nil || env.ErrorCode == "" {
			return ok, status, nil, fmt.Errorf("host %s answered %d without an error envelope", consentLookupPath, status)
		}
		return ok, status, &env, nil
	}
	if err := json.Unmarshal(raw, &ok); err != nil {
		return ok, status, nil, fmt.Errorf("host %s: %v", consentLookupPath, err)
	}
	return ok, status, nil, nil
}

// consentLookupPath is the host backend's consent lookup for its signed-in user.
const consentLookupPath = "/boxo/consent"
