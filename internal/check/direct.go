package check

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/signing"
)

// DirectPlanName names the plan of checks for a host backend that uses Connect Direct
// (PROTOCOL §7.3): the checker plays the platform's /api/v1/connect/ and judges the call the
// backend makes to it.
const DirectPlanName = "hostapp-direct-v1"

// DirectDefaultWait is how long RunDirect waits for the backend's call.
const DirectDefaultWait = 60 * time.Second

// DirectConfig configures a run of the Direct plan.
type DirectConfig struct {
	// Listen is where the checker serves /api/v1/connect/, e.g. 127.0.0.1:9082 ("" means
	// 127.0.0.1 on any free port). Point the backend's Boxo platform URL there.
	Listen string
	// ClientID and AppID are what the call must carry (the host app's client_id at Boxo, the
	// miniapp the user opens).
	ClientID, AppID string
	// SigningSecret, when set, is the HMAC secret the backend signs with (PROTOCOL §7.8); the
	// call's signature is then checked. "" skips that check.
	SigningSecret string
	// TriggerCmd makes the backend call (sh -c, with BOXO_SIM_PLATFORM_URL set to the checker's
	// URL); "" means the checker waits for a call someone makes, e.g. from the host app.
	TriggerCmd string
	// Trigger does the same from Go (tests); it runs when TriggerCmd is "".
	Trigger func(ctx context.Context, platformURL string) error
	// Wait bounds the wait for the call; 0 means DirectDefaultWait.
	Wait time.Duration
	// Ready, when set, is told the checker's platform URL once it listens.
	Ready func(platformURL string)
	// Now is the clock for the signature's timestamp; nil means time.Now.
	Now func() time.Time
}

// directCall is the call the checker received.
type directCall struct {
	req  *http.Request
	body []byte
}

// directRun is the state of one run of the Direct plan.
type directRun struct {
	cfg     DirectConfig
	url     string
	got     *directCall
	ev      *call
	body    map[string]json.RawMessage
	user    map[string]json.RawMessage // the body's user_data, once direct-user-data found it an object
	missing string                     // why no call can be judged
}

func (d *directRun) unreachable() string { return d.missing }

// DirectPlan lists the checks of DirectPlanName.
func DirectPlan() []Check { return checksOf(directSteps) }

var directSteps = []step[*directRun]{
	{Check{"direct-called", "The host backend calls POST {platform}/api/v1/connect/ for its signed-in user", "contract §7.3 step 6"}, (*directRun).checkCalled},
	{Check{"direct-json", "The body is one JSON object, sent as Content-Type: application/json", "contract §2.2, §7.3"}, (*directRun).checkJSON},
	{Check{"direct-ids", "client_id and app_id are strings naming the host app and the miniapp", "contract §7.3"}, (*directRun).checkIDs},
	{Check{"direct-user-data", "user_data is an object with a reference of 1 to 100 characters and an email or a phone, every field a string", "contract §7.3, §3.10"}, (*directRun).checkUserData},
	{Check{"direct-phone", "A phone number is in E.164 form", "contract §3.10"}, (*directRun).checkPhone},
	{Check{"direct-signature", "With request signing on, the call carries a valid X-Signature, X-Timestamp and X-Nonce", "contract §7.8"}, (*directRun).checkSignature},
}

// directNeeds: the body's checks need a JSON body, the phone's a user_data object.
var directNeeds = needs{
	"direct-ids": {"direct-json"}, "direct-user-data": {"direct-json"}, "direct-phone": {"direct-user-data"},
}

// RunDirect serves /api/v1/connect/, makes or awaits the backend's call, and judges the
// first call that arrives. It answers that call 200 {"token", "refresh_token"} with made-up
// tokens, as the platform would. An error means the check could not start (the address
// cannot be listened on).
func RunDirect(ctx context.Context, cfg DirectConfig) (*Report, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Wait == 0 {
		cfg.Wait = DirectDefaultWait
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	d := &directRun{cfg: cfg, url: "http://" + ln.Addr().String()}
	calls := make(chan directCall, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, contract.MaxBodyBytes))
		select {
		case calls <- directCall{req: r.Clone(context.Background()), body: body}:
		default: // only the first call is judged
		}
		contract.WriteJSON(w, http.StatusOK, contract.AuthorizeResponse{Token: "check-" + contract.RandomToken(), RefreshToken: "check-" + contract.RandomToken()})
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	if cfg.Ready != nil {
		cfg.Ready(d.url)
	}

	waitCtx, cancel := context.WithTimeout(ctx, cfg.Wait)
	defer cancel()
	triggerErr := make(chan error, 1)
	if cfg.TriggerCmd == "" && cfg.Trigger != nil {
		go func() {
			if err := cfg.Trigger(waitCtx, d.url); err != nil {
				triggerErr <- fmt.Errorf("trigger failed: %v", err)
			}
		}()
	}
	if cfg.TriggerCmd != "" {
		go func() {
			cmd := exec.CommandContext(waitCtx, "sh", "-c", cfg.TriggerCmd)
			cmd.Env = append(os.Environ(), "BOXO_SIM_PLATFORM_URL="+d.url)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			cmd.WaitDelay = time.Second
			if err := cmd.Run(); err != nil {
				triggerErr <- fmt.Errorf("trigger command %q failed: %v%s", cfg.TriggerCmd, err, stderrText(stderr.Bytes()))
			}
		}()
	}
	select {
	case c := <-calls:
		d.got = &c
	case err := <-triggerErr:
		// The command may have failed after its call arrived.
		select {
		case c := <-calls:
			d.got = &c
		default:
			d.missing = err.Error() + "; no call reached " + d.url + "/api/v1/connect/"
		}
	case <-waitCtx.Done():
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		d.missing = fmt.Sprintf("no call reached %s/api/v1/connect/ within %s: point the backend's Boxo platform URL at %s and make it connect a user", d.url, cfg.Wait, d.url)
	}
	if d.got != nil {
		d.ev = &call{x: Exchange{Label: "the backend's call; the checker answered 200 with made-up tokens", Method: d.got.req.Method,
			URL: d.url + d.got.req.URL.RequestURI(), Status: http.StatusOK,
			Request: contract.Exchange{Headers: contract.MaskHeaders(d.got.req.Header)}}}
		if j, ok := contract.MaskJSON(d.got.body); ok {
			d.ev.x.Request.Body = j
		} else if len(d.got.body) > 0 {
			d.ev.x.Request.Text = string(d.got.body)
		}
	}
	settings := []string{"platform URL " + d.url, "client_id " + cfg.ClientID, "app_id " + cfg.AppID}
	if cfg.SigningSecret != "" {
		settings = append(settings, "request signing on (secret "+contract.Mask(cfg.SigningSecret)+")")
	}
	rep := runPlan(ctx, DirectPlanName, d.url+"/api/v1/connect/", settings, directSteps, directNeeds, d)
	if d.missing != "" && len(rep.Results) > 0 {
		// The first check carries the failure; the others follow from it.
		rep.Results[0].Status, rep.Results[0].Message = Fail, d.missing
		rep.Summary.Skip--
		rep.Summary.Fail++
	}
	return rep, nil
}

func (d *directRun) checkCalled(context.Context) verdict {
	r := d.got.req
	if r.Method != http.MethodPost {
		return fail("the call is "+r.Method+"; /api/v1/connect/ takes POST", d.ev)
	}
	if p := strings.TrimSuffix(r.URL.Path, "/"); p != "/api/v1/connect" {
		return fail(fmt.Sprintf("the call went to %s, not /api/v1/connect/", r.URL.Path), d.ev)
	}
	return pass("POST "+r.URL.Path+" arrived", d.ev)
}

func (d *directRun) checkJSON(context.Context) verdict {
	ct := d.got.req.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err := json.Unmarshal(d.got.body, &d.body); err != nil || d.body == nil {
		return fail("the body is not one JSON object", d.ev)
	}
	if err != nil || mt != "application/json" {
		return fail(fmt.Sprintf("Content-Type is %q; the platform reads application/json", ct), d.ev)
	}
	return pass("a JSON object", d.ev)
}

// field decodes a string field of the body; ok false when present but not a string.
func stringField(m map[string]json.RawMessage, key string) (v string, present, ok bool) {
	raw, present := m[key]
	if !present || string(raw) == "null" {
		return "", false, true
	}
	err := json.Unmarshal(raw, &v) // before the return: its values are read in no set order
	return v, true, err == nil
}

func (d *directRun) checkIDs(context.Context) verdict {
	if d.body == nil {
		return skip("the body is not a JSON object (direct-json)")
	}
	var problems []string
	for _, f := range []struct{ key, want string }{{"client_id", d.cfg.ClientID}, {"app_id", d.cfg.AppID}} {
		v, present, ok := stringField(d.body, f.key)
		switch {
		case !present || v == "":
			problems = append(problems, f.key+" is missing")
		case !ok:
			problems = append(problems, f.key+" is not a string")
		case f.want != "" && v != f.want:
			problems = append(problems, fmt.Sprintf("%s is %q, expected %q", f.key, v, f.want))
		}
	}
	if len(problems) > 0 {
		return fail(strings.Join(problems, "; "), d.ev)
	}
	return pass("client_id and app_id as expected", d.ev)
}

// checkUserData runs only on a JSON object body (directNeeds), and keeps its user_data for
// checkPhone.
func (d *directRun) checkUserData(context.Context) verdict {
	raw, ok := d.body["user_data"]
	if !ok || string(raw) == "null" {
		return fail("user_data is missing", d.ev)
	}
	var m map[string]json.RawMessage
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' || json.Unmarshal(t, &m) != nil {
		return fail("user_data is not an object (encrypted user data is not part of Direct)", d.ev)
	}
	d.user = m
	var problems []string
	values := map[string]string{}
	for _, k := range []string{"reference", "email", "phone", "first_name", "last_name"} {
		v, _, ok := stringField(m, k)
		if !ok {
			problems = append(problems, "user_data."+k+" is not a string")
		}
		values[k] = v
	}
	switch n := contract.Len(values["reference"]); {
	case strings.TrimSpace(values["reference"]) == "":
		problems = append(problems, "user_data.reference is missing or empty")
	case n > contract.MaxReferenceLen:
		problems = append(problems, fmt.Sprintf("user_data.reference is %d characters; at most %d", n, contract.MaxReferenceLen))
	}
	if values["email"] == "" && values["phone"] == "" {
		problems = append(problems, "user_data has neither email nor phone")
	}
	if len(problems) > 0 {
		return fail(strings.Join(problems, "; ")+": the platform answers INVALID_USER_DATA", d.ev)
	}
	return pass("reference "+values["reference"]+" with an email or a phone", d.ev)
}

// checkPhone runs only once checkUserData passed (directNeeds).
func (d *directRun) checkPhone(context.Context) verdict {
	phone, present, ok := stringField(d.user, "phone")
	switch {
	case !present || phone == "":
		return pass("no phone sent", d.ev)
	case !ok || !contract.ValidE164(phone):
		return fail(fmt.Sprintf("phone %q is not E.164 (+ and 8 to 15 digits); the miniapp answers INVALID_USER_DATA", phone), d.ev)
	}
	return pass("phone in E.164 form", d.ev)
}

func (d *directRun) checkSignature(context.Context) verdict {
	if d.cfg.SigningSecret == "" {
		if d.got.req.Header.Get(signing.HeaderSignature) != "" {
			return skip("the call is signed; give --signing-secret to check the signature")
		}
		return skip("request signing is off (give --signing-secret to check a signing backend)")
	}
	v := &signing.Verifier{Now: d.cfg.Now}
	// The URL signed is the one the backend called: its Host header and path (§7.8).
	if e := v.Verify(d.got.req, d.got.body, d.cfg.SigningSecret); e != nil {
		return fail(fmt.Sprintf("the platform answers %s: %s", e.Code, e.Message), d.ev)
	}
	return pass("the signature verifies", d.ev)
}
