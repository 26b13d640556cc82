package hostapp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/boxo-sim/boxo-sim/internal/browsertest"
)

// spaPages is a single-page app as a team would write it against the host app: a public
// client with PKCE S256, discovery first, then the code flow, the token exchange, userinfo
// and revocation, all by fetch from its own origin. Its script reports what it saw in #out.
const spaPages = `<!doctype html><meta charset="utf-8"><title>SPA</title><pre id="out"></pre>
<script>
const issuer = %q, clientId = "spa", redirectUri = location.origin + "/cb";
const b64url = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const done = (v) => { const o = document.getElementById("out"); o.textContent = JSON.stringify(v); o.id = "done"; };
async function start() {
  const disco = await (await fetch(issuer + "/.well-known/openid-configuration")).json();
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const state = b64url(crypto.getRandomValues(new Uint8Array(16))), nonce = b64url(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem("flow", JSON.stringify({verifier, state, nonce, disco}));
  location.assign(disco.authorization_endpoint + "?" + new URLSearchParams({client_id: clientId, redirect_uri: redirectUri,
    response_type: "code", scope: "openid profile email", state, nonce, code_challenge: challenge, code_challenge_method: "S256"}));
}
async function callback() {
  const flow = JSON.parse(sessionStorage.getItem("flow")), q = new URLSearchParams(location.search), out = {};
  out.stateOK = q.get("state") === flow.state;
  const tr = await fetch(flow.disco.token_endpoint, {method: "POST", headers: {"Content-Type": "application/x-www-form-urlencoded"},
    body: new URLSearchParams({grant_type: "authorization_code", code: q.get("code"), redirect_uri: redirectUri, client_id: clientId, code_verifier: flow.verifier})});
  const tok = await tr.json();
  out.token = tr.status;
  out.nonceOK = JSON.parse(atob(tok.id_token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).nonce === flow.nonce;
  const ui = await fetch(flow.disco.userinfo_endpoint, {headers: {Authorization: "Bearer " + tok.access_token}});
  out.userinfo = ui.status;
  out.user = (await ui.json()).preferred_username;
  const rv = await fetch(flow.disco.revocation_endpoint, {method: "POST", headers: {"Content-Type": "application/x-www-form-urlencoded"},
    body: new URLSearchParams({token: tok.access_token, client_id: clientId})});
  out.revoke = rv.status;
  out.afterRevoke = (await fetch(flow.disco.userinfo_endpoint, {headers: {Authorization: "Bearer " + tok.access_token}})).status;
  done(out);
}
(location.pathname === "/cb" ? callback() : start()).catch((e) => done({error: String(e)}));
</script>`

// silentPages renew a sign-in without a page (prompt=none in a hidden iframe, as
// oidc-client-ts signinSilent does); the iframe's callback hands its query to the parent.
const silentPage = `<!doctype html><meta charset="utf-8"><title>silent</title><pre id="out"></pre>
<script>
addEventListener("message", (e) => { if (e.origin !== location.origin) return; const o = document.getElementById("out"); o.textContent = e.data; o.id = "done"; });
const f = document.createElement("iframe");
f.src = %q + "/auth/v1/authorize?" + new URLSearchParams({client_id: "spa", redirect_uri: location.origin + "/silent-cb", response_type: "code",
  prompt: "none", state: "s", code_challenge: "a".repeat(43), code_challenge_method: "S256"});
document.body.appendChild(f);
</script>`

const silentCallback = `<!doctype html><script>parent.postMessage(location.search, location.origin)</script>`

// csrfPage posts the sign-in form to the host app from another site as soon as it loads.
const csrfPage = `<!doctype html><meta charset="utf-8"><title>evil</title>
<form id="f" method="post" action="%s/auth/v1/login"><input name="username" value="carol"><input name="password" value="carol-password"><input name="return_to" value="/"></form>
<script>document.getElementById("f").submit()</script>`

// A real browser runs a single-page app on another origin against the host app (CORS,
// public client, PKCE), and cannot sign a user in from another site.
func TestBrowserSinglePageApp(t *testing.T) {
	ctx := browsertest.New(t)
	// Close the browser gracefully before its profile directory is removed, so no Chromium
	// process is still writing there.
	t.Cleanup(func() { _ = chromedp.Cancel(ctx) })
	l := newLive(t)
	spa := httptest.NewUnstartedServer(nil)
	// localhost, not 127.0.0.1: another site than the host app, not only another origin.
	origin := "http://localhost:" + spa.Listener.Addr().String()[strings.LastIndex(spa.Listener.Addr().String(), ":")+1:]
	spa.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/csrf":
			fmt.Fprintf(w, csrfPage, l.url)
			return
		case "/silent":
			fmt.Fprintf(w, silentPage, l.url)
			return
		case "/silent-cb":
			fmt.Fprint(w, silentCallback)
			return
		}
		fmt.Fprintf(w, spaPages, l.url)
	})
	spa.Start()
	t.Cleanup(spa.Close)
	sameSite := "http://" + spa.Listener.Addr().String() // 127.0.0.1 like the host app: another origin, the same site
	l.putClient("spa", `{"token_endpoint_auth_method":"none","redirect_uris":["`+origin+`/cb","`+origin+`/silent-cb","`+sameSite+`/silent-cb"],"scopes":["openid","profile","email"]}`)

	// Each step gets 20 s, so a page that never shows what is awaited fails well before the
	// browser's own limit.
	step := func(actions ...chromedp.Action) error {
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		return chromedp.Run(sctx, actions...)
	}
	var refused, home string
	err := step(
		chromedp.Navigate(origin+"/csrf"),
		chromedp.WaitVisible("p.error", chromedp.ByQuery),
		chromedp.Text("p.error", &refused, chromedp.ByQuery),
		// Still signed out: a silent authorization request says so on the Boxo callback page.
		chromedp.Navigate(l.url+"/auth/v1/authorize?client_id=hostapp-client-1&response_type=code&prompt=none&redirect_uri="+url.QueryEscape(l.url+"/boxo/callback")),
		chromedp.Text("body", &home, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(refused, "cross_site_request") || !strings.Contains(home, "login_required") {
		t.Fatalf("cross-site sign-in: page %q, then home %q", refused, home)
	}

	var out string
	err = step(
		chromedp.Navigate(origin+"/"),
		chromedp.WaitVisible("#username", chromedp.ByQuery),
		chromedp.SendKeys("#username", "carol", chromedp.ByQuery),
		chromedp.SendKeys("#password", "carol-password", chromedp.ByQuery),
		chromedp.Click(`button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`button[value="allow"]`, chromedp.ByQuery),
		chromedp.Click(`button[value="allow"]`, chromedp.ByQuery),
		chromedp.WaitReady("#done", chromedp.ByQuery),
		chromedp.Text("#done", &out, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("the page reported %q", out)
	}
	want := map[string]any{"stateOK": true, "token": 200.0, "nonceOK": true, "userinfo": 200.0, "user": "carol", "revoke": 200.0, "afterRevoke": 401.0}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (page reported %s)", k, got[k], v, out)
		}
	}

	// Silent renewal: prompt=none in an iframe gets a code without a page for a same-site
	// app; from another site the browser keeps the SameSite=Lax session cookie out of the
	// frame, so the answer is login_required — never the sign-in page in the frame.
	for _, tc := range []struct{ origin, want string }{{sameSite, "code="}, {origin, "error=login_required"}} {
		var q string
		if err := step(chromedp.Navigate(tc.origin+"/silent"), chromedp.WaitReady("#done", chromedp.ByQuery), chromedp.Text("#done", &q, chromedp.ByQuery)); err != nil {
			t.Fatalf("silent renewal from %s: %v", tc.origin, err)
		}
		if !strings.Contains(q, tc.want) || !strings.Contains(q, "state=s") {
			t.Errorf("silent renewal from %s: %q, want %s", tc.origin, q, tc.want)
		}
	}
}
