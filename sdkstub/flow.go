package sdkstub

// The flow run: Connect drives the 16 steps of PROTOCOL §3 through one miniapp session.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
)

// Actors as printed per step.
const (
	actorHost     = "host app → sdk → platform"
	actorMiniapp  = "miniapp"
	actorBridge   = "miniapp → sdk"
	actorConsent  = "sdk → user"
	actorRecall   = "sdk → host backend → platform"
	actorAuth     = "sdk → host app → platform"
	actorHandBack = "sdk → miniapp"
	actorMe       = "miniapp frontend → miniapp backend"
	actorMeBack   = "miniapp backend → miniapp frontend"
	actorUser     = "user"
)

// Connect runs the 16 steps for one user and miniapp. It returns the Result (with every step
// reached) and, when the flow did not reach step 16, an *Error saying where it stopped; other
// errors mean the flow could not be run at all (bad options, cancelled context).
func (s *SDK) Connect(ctx context.Context, o Options) (*Result, error) {
	o.fillDefaults()
	if len(o.Data) > 0 {
		var obj map[string]any
		if err := json.Unmarshal(o.Data, &obj); err != nil {
			return nil, fmt.Errorf("sdkstub: init data %s: give a JSON object or null (contract §3.2)", o.Data)
		}
	}
	if !contract.ValidFlowID(o.FlowID) {
		return nil, fmt.Errorf("sdkstub: flow id %q: use 1–64 characters of letters, digits and _.:~@+=-", o.FlowID)
	}
	user := o.User
	if o.AuthCode == nil {
		if s.cfg.HostURL == "" {
			return nil, errors.New("sdkstub: no HostURL configured and no AuthCode given: nothing can mint an auth code")
		}
		o.AuthCode = s.HostAuthCode(o.User, o.Password)
	} else {
		user = "" // the code's user is whoever the code source signed in; Reference says who
	}
	f := &flow{sdk: s, o: o, res: &Result{FlowID: o.FlowID, User: user, AppID: o.AppID}, started: time.Now()}
	return f.finish(ctx, f.run(ctx), "", 12)
}

// fillDefaults gives Options left empty their defaults, for Connect and ConnectDirect alike:
// the demo user (with its password when it is a demo user), the demo miniapp, a new flow id.
func (o *Options) fillDefaults() {
	if o.User == "" {
		o.User = demo.DefaultUser
	}
	if o.Password == "" {
		if u, ok := demo.FindUser(o.User); ok {
			o.Password = u.Password
		}
	}
	if o.AppID == "" {
		o.AppID = demo.AppID
	}
	if o.FlowID == "" {
		o.FlowID = contract.NewFlowID()
	}
}

// finish completes a run of Connect or ConnectDirect that ended with err: it times the flow,
// traces it (see trace; mode and last as there) unless Options.NoTrace, and returns the
// Result with the *Error where the flow stopped, or marked OK.
func (f *flow) finish(ctx context.Context, err error, mode string, last int) (*Result, error) {
	f.res.Duration = time.Since(f.started)
	f.res.DurationMS = ms(f.res.Duration)
	if !f.o.NoTrace {
		f.trace(ctx, mode, last)
	}
	if err != nil {
		var fe *Error
		if errors.As(err, &fe) {
			f.res.Err = fe
			return f.res, fe
		}
		return f.res, err
	}
	f.res.OK = true
	return f.res, nil
}

// flow is one run of Connect.
type flow struct {
	sdk      *SDK
	o        Options
	res      *Result
	started  time.Time
	settings contract.MiniappSettings
	sdkSteps []contract.FlowStep // what the SDK performed, posted to the platform's flow log
}

func (f *flow) step(n int, actor, call string, status int, began time.Time, code, note string) {
	d := time.Since(began)
	st := Step{Number: n, Actor: actor, Call: call, Status: status, Duration: d, DurationMS: ms(d), OK: code == "", ErrorCode: code, Note: note}
	f.res.Steps = append(f.res.Steps, st)
	outcome := contract.OutcomeOK
	if code != "" {
		outcome = contract.OutcomeFailed
	}
	f.sdkSteps = append(f.sdkSteps, contract.FlowStep{
		Step: n, Actor: actor, Call: call, Status: status, StartedAt: began.UTC(), DurationMS: st.DurationMS,
		Outcome: outcome, ErrorCode: code, Note: note,
	})
}

// skip records step n as not run, with why.
func (f *flow) skip(n int, actor, call string, began time.Time, why string) {
	f.step(n, actor, call, 0, began, "", why)
	f.res.Steps[len(f.res.Steps)-1].Skipped = true
	f.sdkSteps[len(f.sdkSteps)-1].Outcome = contract.OutcomeSkipped
}

func (f *flow) fail(step int, party string, status int, code, msg string) *Error {
	return &Error{Step: step, Party: party, Status: status, Code: code, Message: msg}
}

// failErr is fail for a call that got no answer, with err's text; Unreachable says that
// nothing answered at the URL at all (contract.ConnectError).
func (f *flow) failErr(step int, party string, status int, code string, err error) *Error {
	e := f.fail(step, party, status, code, err.Error())
	var ce *contract.ConnectError
	e.Unreachable = errors.As(err, &ce)
	return e
}

// openBridge starts the SDK's side of the bridge, handle answering the miniapp's calls.
// The bridge writes to the flow's steps, so it must be done before the flow returns, or a
// cancelled flow would still be writing while Connect reads them: closeBridge ends it and
// waits for it (calling it again is harmless).
func (f *flow) openBridge(ctx context.Context, handle func(ctx context.Context, handler string, params json.RawMessage) (any, error)) (b *bridge, closeBridge func()) {
	b = newBridge()
	bctx, stop := context.WithCancel(ctx)
	var served sync.WaitGroup
	served.Add(1)
	go func() {
		defer served.Done()
		b.serve(bctx, handle)
	}()
	return b, func() { stop(); served.Wait() }
}

// readSettings is the start of step 1 in both flows: the SDK reads the miniapp's settings
// (a refusal ends step 1). It returns when the step began, the answer's status and the call.
func (f *flow) readSettings(ctx context.Context) (t time.Time, status int, call string, err error) {
	t = time.Now()
	status, err = f.getSettings(ctx)
	call = "GET /api/v1/miniapps/" + f.o.AppID + "/settings/"
	if err != nil {
		var fe *Error
		if errors.As(err, &fe) {
			f.step(1, actorHost, call, status, t, fe.Code, fe.Message)
		}
	}
	return t, status, call, err
}

// loadMiniapp ends step 1's work in both flows: the miniapp loads with its init data (with
// the user's saved tokens, if any), hears AppBoxoWebAppInit and asks for the init data.
func (f *flow) loadMiniapp(ctx context.Context, b *bridge, initData *InitData, t time.Time, status int, call string) error {
	if p, ok := f.sdk.Tokens(f.o.User, f.o.AppID); ok {
		initData.Token, initData.RefreshToken = p.Token, p.RefreshToken
	}
	if err := b.notify(ctx, HandlerInit); err != nil {
		return err
	}
	if _, err := b.call(ctx, HandlerGetInitData, nil); err != nil {
		f.step(1, actorHost, call, status, t, contract.CodeUnknownError, "GetInitData: "+err.Error())
		return f.fail(1, contract.PartySDK, 0, contract.CodeUnknownError, err.Error())
	}
	return nil
}

func (f *flow) run(ctx context.Context) error {
	s := f.sdk
	var initData InitData
	b, closeBridge := f.openBridge(ctx, func(ctx context.Context, handler string, params json.RawMessage) (any, error) {
		return f.handleBridge(ctx, handler, params, &initData)
	})
	defer closeBridge()

	// Step 1: the host app opens the miniapp; the SDK reads its settings; the miniapp loads
	// and asks for its init data.
	t, status, call, err := f.readSettings(ctx)
	if err != nil {
		return err
	}
	initData = InitData{AppID: f.o.AppID, ClientID: s.cfg.ClientID, Payload: f.o.Payload, Data: json.RawMessage("null"), SandboxMode: f.o.SandboxMode}
	if f.o.LegacyLogin && initData.Payload == "" {
		// The host app opens the miniapp with an auth payload (PROTOCOL §7.10), which the
		// simulator's platform redeems as an auth code: the host app mints one.
		cbctx, cancel := context.WithTimeout(ctx, s.cfg.CallbackTimeout)
		code, err := f.o.AuthCode(cbctx)
		cancel()
		if err != nil || code == "" {
			msg := "the host app gave no auth payload"
			if err != nil {
				msg += ": " + err.Error()
			}
			f.step(1, actorHost, call, status, t, CodeNoAuthCode, msg)
			return f.fail(1, contract.PartyHostapp, 0, CodeNoAuthCode, msg)
		}
		initData.Payload = code
	}
	if len(f.o.Data) > 0 {
		initData.Data = f.o.Data
	}
	if err := f.loadMiniapp(ctx, b, &initData, t, status, call); err != nil {
		return err
	}
	shown := initData
	shown.Token, shown.RefreshToken, shown.Payload = contract.Mask(shown.Token), contract.Mask(shown.RefreshToken), contract.Mask(shown.Payload)
	f.res.InitData = &shown
	note := "miniapp URL " + f.settings.Miniapp.URL
	if initData.Payload != "" || string(initData.Data) != "null" || initData.SandboxMode {
		// The payload stands for a credential (PROTOCOL §7.10): masked like one.
		note += fmt.Sprintf("; GetInitData payload %q, data %s, sandbox_mode %t", contract.Mask(initData.Payload), initData.Data, initData.SandboxMode)
	}
	f.step(1, actorHost, call, status, t, "", note)

	// Step 2: the miniapp decides it needs the user. With a saved token it tries that first
	// (PROTOCOL §3.3) and logs in only when its backend refuses it.
	if f.trySavedToken(ctx, initData, 14, 15, 16) {
		return nil
	}

	if f.o.LegacyLogin {
		token, err := f.legacyLogin(ctx, b, initData.Payload)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				closeBridge()
				return ctxErr
			}
			return err
		}
		return f.signedIn(ctx, token, 14, 15, 16)
	}

	// Steps 3–13 happen inside the login call: the SDK's bridge handler runs consent (4), the
	// auth callback and the platform call (5–12) and answers with the tokens (13).
	token, err := f.loginCall(ctx, b, closeBridge, 13, actorHandBack, HandlerLogin+" answer {payload: {token, refresh_token}}")
	if err != nil {
		return err
	}
	return f.signedIn(ctx, token, 14, 15, 16)
}

// loginCall is step 3 in both flows, the miniapp's login call over the bridge, and the SDK's
// answer to it with the tokens (answerStep, by actor, with the call label); the steps between
// happen in the SDK's handler. It returns the miniapp's new token.
func (f *flow) loginCall(ctx context.Context, b *bridge, closeBridge func(), answerStep int, actor, label string) (string, error) {
	text := f.o.ConfirmText
	if text == "" {
		text = "This service is requesting access to your account details"
	}
	f.step(3, actorBridge, HandlerLogin, 0, time.Now(), "", "")
	data, err := b.call(ctx, HandlerLogin, map[string]any{"confirmModalText": text})
	t := time.Now()
	if err != nil {
		var be *BridgeError
		if errors.As(err, &be) && f.res.Err != nil {
			return "", f.res.Err // the handler recorded where it stopped
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			closeBridge() // the handler may still be writing the flow's steps
			return "", ctxErr
		}
		return "", f.fail(answerStep, contract.PartySDK, 0, contract.CodeUnknownError, err.Error())
	}
	var answer struct {
		Payload LoginPayload `json:"payload"`
	}
	if err := json.Unmarshal(data, &answer); err != nil || answer.Payload.Token == "" {
		// The JS SDK rejects with "No auth token received" (PROTOCOL §4.3 a.3).
		f.step(answerStep, actor, HandlerLogin+" answer", 0, t, CodeNoAuthToken, "No auth token received")
		return "", f.fail(answerStep, contract.PartySDK, 0, CodeNoAuthToken, "No auth token received")
	}
	f.res.Token, f.res.RefreshToken = answer.Payload.Token, answer.Payload.RefreshToken
	f.step(answerStep, actor, label, 0, t, "", "")
	return answer.Payload.Token, nil
}

// trySavedToken is step 2 with the saved token GetInitData handed the miniapp: when
// Options.TrySavedToken is on, the miniapp reads its user with it first (PROTOCOL §3.3). It
// reports true when the backend accepted it, after recording the miniapp's call (meStep), the
// user it read (userStep, 0 when meStep records both) and the user continuing (lastStep): 14,
// 15, 16 in the OAuth flow, 11, 0, 12 in Direct (§7.3). On false it has recorded step 2, with
// the refusal when there was one, and the miniapp logs in anew.
func (f *flow) trySavedToken(ctx context.Context, init InitData, meStep, userStep, lastStep int) bool {
	t := time.Now()
	if !f.o.TrySavedToken || init.Token == "" || f.o.SkipMe {
		f.step(2, actorMiniapp, "needs the user's identity", 0, t, "", "")
		return false
	}
	const call2 = "needs the user's identity: tries the saved token"
	me, status, err := f.sdk.me(ctx, f.meURL(), init.Token, f.o.FlowID)
	if err == nil && status == http.StatusOK {
		call := "GET " + pathOf(f.meURL()) + " (Bearer saved token)"
		user := fmt.Sprintf("id %s, created %s", me.ID, me.CreatedText())
		f.step(2, actorMiniapp, call2, 0, t, "", "GetInitData carried a saved token")
		if userStep == 0 {
			f.step(meStep, actorMe, call, status, t, "", "no new login: steps 3–10 not needed; "+user)
		} else {
			f.step(meStep, actorMe, call, 0, t, "", "no new login: steps 3–13 not needed")
			f.step(userStep, actorMeBack, "user JSON", status, t, "", user)
		}
		f.res.Me, f.res.SavedToken = me, true
		f.res.Token, f.res.RefreshToken = init.Token, init.RefreshToken
		f.step(lastStep, actorUser, "continues signed in", 0, time.Now(), "", "")
		return true
	}
	refused := fmt.Sprintf("%s refused the saved token (%d)", pathOf(f.meURL()), status)
	if err != nil {
		refused = "the saved token could not be tried: " + err.Error()
	}
	f.step(2, actorMiniapp, call2, status, t, "", refused+"; logging in")
	return false
}

// signedIn is the miniapp reading its user with its new token and the user continuing, in
// the steps trySavedToken records: 14, 15, 16 in the OAuth flow, 11, 0, 12 in Direct, where
// meStep records the call and the user JSON both.
func (f *flow) signedIn(ctx context.Context, token string, meStep, userStep, lastStep int) error {
	t := time.Now()
	if f.o.SkipMe {
		why := "the miniapp's own frontend API is not known here"
		f.skip(meStep, actorMe, "(miniapp's own API)", t, why)
		if userStep != 0 {
			f.skip(userStep, actorMeBack, "(miniapp's own API)", t, why)
		}
	} else {
		// Direct hands the miniapp its token as "token" (§7.3), the OAuth flow as "auth_token".
		meURL := f.meURL()
		call, n, actor, label := "GET "+pathOf(meURL)+" (Bearer auth_token)", userStep, actorMeBack, "user JSON"
		if userStep == 0 {
			call = "GET " + pathOf(meURL) + " (Bearer token)"
			n, actor, label = meStep, actorMe, call
		}
		me, status, err := f.sdk.me(ctx, meURL, token, f.o.FlowID)
		if err != nil {
			f.step(meStep, actorMe, call, 0, t, CodeMeFailed, err.Error())
			return f.failErr(meStep, contract.PartyMiniapp, status, CodeMeFailed, err)
		}
		if userStep != 0 {
			f.step(meStep, actorMe, call, 0, t, "", "")
		}
		if status != http.StatusOK {
			msg := fmt.Sprintf("%s answered %d %s", pathOf(meURL), status, http.StatusText(status))
			f.step(n, actor, label, status, t, CodeMeFailed, msg)
			return f.fail(n, contract.PartyMiniapp, status, CodeMeFailed, msg)
		}
		f.res.Me = me
		f.step(n, actor, label, status, t, "", fmt.Sprintf("id %s, created %s", me.ID, me.CreatedText()))
	}

	f.step(lastStep, actorUser, "continues signed in", 0, time.Now(), "", "")
	return nil
}

// meURL is where the miniapp frontend reads its user (steps 14–15).
func (f *flow) meURL() string {
	if f.o.MeURL != "" {
		return f.o.MeURL
	}
	return f.miniappBase() + "/api/me"
}

// miniappBase is the origin of the miniapp URL: the frontend's own backend.
func (f *flow) miniappBase() string {
	u, err := url.Parse(f.settings.Miniapp.URL)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// trace completes the result with the platform's steps 6–last from its flow log and posts the
// SDK's own steps there, so the log holds them all (DESIGN.md "Flow log"): 6–12 of the 16
// for the OAuth flow, 6–9 of the 12 for Direct, which posts under its mode ("" for OAuth).
func (f *flow) trace(ctx context.Context, mode string, last int) {
	s := f.sdk
	body := map[string]any{"client_id": s.cfg.ClientID, "app_id": f.o.AppID, "steps": f.sdkSteps}
	if mode != "" {
		body["mode"] = mode
	}
	if f.o.UserReference != "" {
		body["user_reference"] = f.o.UserReference
	}
	if _, err := s.doJSON(ctx, http.MethodPost, s.cfg.PlatformURL+"/_sim/flows/"+url.PathEscape(f.o.FlowID)+"/steps", nil, "", body, nil, nil); err != nil {
		s.log.DebugContext(ctx, "posting SDK steps to the flow log failed", "flow_id", f.o.FlowID, "err", err)
	}
	var fl contract.Flow
	status, err := s.doJSON(ctx, http.MethodGet, s.cfg.PlatformURL+"/_sim/flows/"+url.PathEscape(f.o.FlowID), nil, "", nil, &fl, nil)
	if err != nil || status != http.StatusOK {
		return
	}
	for _, st := range fl.Steps {
		if st.Step < 6 || st.Step > last {
			continue
		}
		if st.Step == 10 && st.Request != nil {
			f.res.Reference = referenceOf(st.Request.Body)
		}
		f.res.Steps = append(f.res.Steps, Step{
			Number: st.Step, Actor: st.Actor, Call: st.Call, Status: st.Status,
			Duration: time.Duration(st.DurationMS * float64(time.Millisecond)), DurationMS: st.DurationMS,
			OK: st.Outcome != contract.OutcomeFailed, Skipped: st.Outcome == contract.OutcomeSkipped, ErrorCode: st.ErrorCode, Note: st.Note,
		})
	}
	sortSteps(f.res.Steps)
}

// referenceOf is user_data.reference of a step-10 body (contract §3.11), "" when it has none
// (encrypted user data, §7.2).
func referenceOf(body json.RawMessage) string {
	var b struct {
		Reference string `json:"reference"`
		UserData  struct {
			Reference string `json:"reference"`
		} `json:"user_data"`
	}
	if json.Unmarshal(body, &b) != nil {
		return ""
	}
	return firstNonEmpty(b.UserData.Reference, b.Reference)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func sortSteps(steps []Step) {
	// Insertion sort, stable: the SDK's and the platform's steps interleave only at 5/6 and 12/13.
	for i := 1; i < len(steps); i++ {
		for j := i; j > 0 && steps[j-1].Number > steps[j].Number; j-- {
			steps[j-1], steps[j] = steps[j], steps[j-1]
		}
	}
}
