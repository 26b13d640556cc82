package check

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/signing"
)

// SigningPlanName names the plan that checks a backend with request signing on (PROTOCOL
// §7.8): it accepts a well-signed platform call and refuses each bad one with the right code.
const SigningPlanName = "signing-v1"

// SigningConfig configures a run of the signing plan against one endpoint the platform calls
// (the host's access-token or user-data URL, the miniapp's Get Auth Token URL).
type SigningConfig struct {
	URL    string
	Method string // "" means POST
	// Body is sent with every call (the signature covers it). Its contents need not succeed:
	// an answer that is not a signing refusal counts as accepting the signature.
	Body []byte
	// Header is sent with every call, e.g. the Authorization and X-* headers of the endpoint.
	Header http.Header
	// Secret is the HMAC secret the backend shares with the Dashboard.
	Secret string
	// Timeout bounds each call; 0 means DefaultTimeout.
	Timeout time.Duration
	// Now is the signer's clock; nil means time.Now.
	Now        func() time.Time
	HTTPClient *http.Client
}

type signingRun struct {
	cfg  SigningConfig
	c    *caller
	good *call
	sent signing.Headers // the good call's headers, replayed by signing-replayed
}

func (s *signingRun) unreachable() string { return s.c.unreachable() }

var signingSteps = []step[*signingRun]{
	{Check{"signing-valid", "A call signed with the shared secret is not refused for its signature", "contract §7.8"}, (*signingRun).checkValid},
	{Check{"signing-missing", "A call without signing headers is refused with INVALID_SIGNATURE", "contract §7.8, §5.1"}, (*signingRun).checkMissing},
	{Check{"signing-wrong-secret", "A call signed with another secret is refused with INVALID_SIGNATURE", "contract §7.8, §5.1"}, (*signingRun).checkWrongSecret},
	{Check{"signing-tampered", "A call whose body (or, without a body, URL) differs from what was signed is refused with INVALID_SIGNATURE", "contract §7.8, §5.1"}, (*signingRun).checkTampered},
	{Check{"signing-stale", "A call whose X-Timestamp is more than 300 s old is refused with SIGNATURE_VALIDATION_ERROR", "contract §7.8, §5.1"}, (*signingRun).checkStale},
	{Check{"signing-replayed", "A call repeating an accepted X-Nonce is refused with SIGNATURE_VALIDATION_ERROR", "contract §7.8, §5.1"}, (*signingRun).checkReplayed},
}

// SigningPlan lists the checks of SigningPlanName.
func SigningPlan() []Check { return checksOf(signingSteps) }

// RunSigning runs the signing plan.
func RunSigning(ctx context.Context, cfg SigningConfig) (*Report, error) {
	if err := checkURL("url", cfg.URL); err != nil {
		return nil, err
	}
	if cfg.Secret == "" {
		return nil, fmt.Errorf("the signing secret is required")
	}
	if cfg.Method == "" {
		cfg.Method = http.MethodPost
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &signingRun{cfg: cfg, c: newCaller(cfg.HTTPClient, cfg.Timeout, 2)}
	settings := []string{cfg.Method + " " + cfg.URL, "secret " + contract.Mask(cfg.Secret)}
	return runPlan(ctx, SigningPlanName, cfg.URL, settings, signingSteps, needs{"signing-replayed": {"signing-valid"}}, s), nil
}

// send makes one call with the given signing headers (nil: none) and body.
func (s *signingRun) send(ctx context.Context, label, u string, body []byte, h *signing.Headers) *call {
	hd := s.cfg.Header.Clone()
	if hd == nil {
		hd = http.Header{}
	}
	if len(body) > 0 && hd.Get("Content-Type") == "" {
		hd.Set("Content-Type", "application/json")
	}
	if h != nil {
		h.Apply(hd)
	}
	return s.c.do(ctx, request{label: label, endpoint: "signed", method: s.cfg.Method, url: u, header: hd, body: body})
}

func (s *signingRun) sign(secret, u string, body []byte, at time.Time) *signing.Headers {
	h := signing.Sign(secret, s.cfg.Method, u, body, at, "")
	return &h
}

// signingCode is the error_code of an answer (any status), "" when there is none.
func signingCode(c *call) string {
	var m struct {
		ErrorCode string `json:"error_code"`
	}
	_ = json.Unmarshal(c.body, &m)
	return m.ErrorCode
}

func isSigningCode(code string) bool {
	return code == contract.CodeInvalidSignature || code == contract.CodeSignatureValidationError || code == contract.CodeMissingRequestSignatureSettings
}

func (s *signingRun) checkValid(ctx context.Context) verdict {
	h := s.sign(s.cfg.Secret, s.cfg.URL, s.cfg.Body, s.cfg.Now())
	c := s.send(ctx, "signed with the shared secret", s.cfg.URL, s.cfg.Body, h)
	if !c.answered() {
		return fail("no answer: "+c.x.Error, c)
	}
	if code := signingCode(c); isSigningCode(code) {
		return fail("the backend refused a correctly signed call with "+code+": check the payload it signs (boxo-sim sign prints ours) and the secret", c)
	}
	s.good, s.sent = c, *h
	return pass(fmt.Sprintf("answered %d %s", c.status, orNone(signingCode(c))), c)
}

func orNone(code string) string {
	if code == "" {
		return "without a signing error"
	}
	return "with " + code + " (not a signing refusal)"
}

// refusedWith judges an answer that must carry want; alt, when set, is accepted with a WARN
// (the split between the two signing codes is the simulator's choice, §5.1).
func refusedWith(c *call, want, alt string) verdict {
	if !c.answered() {
		return fail("no answer: "+c.x.Error, c)
	}
	switch code := signingCode(c); {
	case code == want:
		return pass("refused with "+want, c)
	case alt != "" && code == alt:
		return warn("refused with "+alt+"; boxo-sim's profile answers "+want+" here", c)
	case code == "":
		return fail(fmt.Sprintf("accepted (HTTP %d without error_code); the call must be refused with %s", c.status, want), c)
	default:
		return fail("refused with "+code+"; expected "+want, c)
	}
}

func (s *signingRun) checkMissing(ctx context.Context) verdict {
	return refusedWith(s.send(ctx, "no signing headers", s.cfg.URL, s.cfg.Body, nil), contract.CodeInvalidSignature, "")
}

func (s *signingRun) checkWrongSecret(ctx context.Context) verdict {
	h := s.sign(s.cfg.Secret+"-not", s.cfg.URL, s.cfg.Body, s.cfg.Now())
	return refusedWith(s.send(ctx, "signed with another secret", s.cfg.URL, s.cfg.Body, h), contract.CodeInvalidSignature, "")
}

func (s *signingRun) checkTampered(ctx context.Context) verdict {
	h := s.sign(s.cfg.Secret, s.cfg.URL, s.cfg.Body, s.cfg.Now())
	if len(s.cfg.Body) > 0 {
		body := []byte(strings.TrimSpace(string(s.cfg.Body)) + " ")
		return refusedWith(s.send(ctx, "body changed after signing", s.cfg.URL, body, h), contract.CodeInvalidSignature, "")
	}
	u := s.cfg.URL + "?"
	if strings.Contains(s.cfg.URL, "?") {
		u = s.cfg.URL + "&"
	}
	u += "tampered=1"
	return refusedWith(s.send(ctx, "URL changed after signing", u, nil, h), contract.CodeInvalidSignature, "")
}

func (s *signingRun) checkStale(ctx context.Context) verdict {
	h := s.sign(s.cfg.Secret, s.cfg.URL, s.cfg.Body, s.cfg.Now().Add(-signing.MaxSkew-time.Minute))
	return refusedWith(s.send(ctx, "timestamp 6 minutes old", s.cfg.URL, s.cfg.Body, h), contract.CodeSignatureValidationError, contract.CodeInvalidSignature)
}

func (s *signingRun) checkReplayed(ctx context.Context) verdict {
	if s.good == nil {
		return skip("no correctly signed call was accepted (signing-valid)")
	}
	h := s.sent
	return refusedWith(s.send(ctx, "the accepted call again, same nonce", s.cfg.URL, s.cfg.Body, &h), contract.CodeSignatureValidationError, contract.CodeInvalidSignature)
}
