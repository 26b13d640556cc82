// The demo miniapp frontend: Boxo's JS SDK (window.appboxoSDK, @appboxo/js-sdk) talks to the
// host app over the bridge (PROTOCOL §4); the miniapp's own backend answers /api/me (§3.15).
(function () {
  "use strict";
  var sdk = window.appboxoSDK;
  var cfg = JSON.parse(document.getElementById("miniapp-config").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var hostName = "your host app";
  var flowID = ""; // the flow this login belongs to, when the host app says (boxo-sim only)
  var hostPort = null; // the boxo-sim demo host page's channel, beside the SDK's bridge

  // ---- the token, kept as the JS SDK keeps it: cookies ab_token and ab_refesh_token (sic) ----
  // In a browser the miniapp runs in the host app's iframe, another site, where a browser
  // refuses cookies without SameSite=None; those then go with Secure and Partitioned (the
  // host's site partitions them), which browsers allow on https and on localhost.
  function readCookie(name) {
    var m = document.cookie.match(new RegExp("(?:^|;\\s*)" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }
  function writeCookie(name, value) {
    var v = encodeURIComponent(value) + "; path=/";
    var gone = value === "" ? "; max-age=0" : "";
    document.cookie = name + "=" + v + gone;
    if (readCookie(name) !== value) document.cookie = name + "=" + v + gone + "; SameSite=None; Secure; Partitioned";
  }
  var session = { token: readCookie("ab_token"), refresh: readCookie("ab_refesh_token") };
  function saveSession(token, refresh) {
    session = { token: token || "", refresh: refresh || "" };
    writeCookie("ab_token", session.token);
    writeCookie("ab_refesh_token", session.refresh);
  }

  function show(msg) { $("status").textContent = msg; }
  function showError(msg) { var e = $("error"); e.textContent = msg; e.hidden = !msg; }
  function signedIn(on) {
    $("login").hidden = on;
    $("logout").hidden = !on;
    if (!on) $("user").hidden = true;
  }

  // bridgeError says a bridge rejection in words (PROTOCOL §4.4): the web SDK answers every
  // failure as client_error 500 with the host app's message as error_reason.
  function bridgeError(err) {
    var e = (err && err.error) || err || {};
    var d = e.error_data || {};
    var reason = d.error_reason || e.message || String(e);
    if (reason.indexOf("USER_DENIED") === 0) {
      return "You did not allow " + cfg.name + " to use your " + hostName + " account (USER_DENIED). Nothing was shared.";
    }
    return "Log in failed: " + reason + (d.error_code ? " (" + e.error_type + " " + d.error_code + ")" : "");
  }

  // ---- steps 14–16: what the miniapp does with its token ----
  async function loadMe(reportSteps) {
    var t0 = performance.now(), at = new Date().toISOString();
    var headers = { Authorization: "Bearer " + session.token };
    if (flowID) headers["X-Sim-Flow-Id"] = flowID;
    var r = await fetch("/api/me", { headers: headers });
    if (r.status === 401 && session.refresh && !reportSteps) {
      // An expired token: renew it once with the refresh token (PROTOCOL §7.1).
      if (await refresh()) return loadMe(false);
    }
    var body = await r.json().catch(function () { return {}; });
    var ms = Math.round((performance.now() - t0) * 1000) / 1000;
    var steps = [{ step: 14, actor: "miniapp frontend → miniapp backend", call: "GET /api/me (Bearer auth_token)", started_at: at, duration_ms: ms }];
    if (!r.ok) {
      steps.push({ step: 15, actor: "miniapp backend → miniapp frontend", call: "user JSON", status: r.status, started_at: at, duration_ms: ms,
        outcome: "failed", error_code: body.error || "HTTP " + r.status, note: body.error_description || "" });
      report(reportSteps, steps);
      saveSession("", "");
      signedIn(false);
      show("Not signed in.");
      showError("The miniapp's backend refused the token: " + (body.error || r.status) + ". Log in again.");
      return;
    }
    steps.push({ step: 15, actor: "miniapp backend → miniapp frontend", call: "user JSON", status: r.status, started_at: at, duration_ms: ms,
      note: "id " + body.id + ", created " + body.created });
    steps.push({ step: 16, actor: "user", call: "continues signed in" });
    report(reportSteps, steps);
    $("user-name").textContent = [body.first_name, body.last_name].filter(Boolean).join(" ") || body.reference;
    $("user-reference").textContent = body.reference || "";
    $("user-email").textContent = body.email || "—";
    $("user-phone").textContent = body.phone || "—";
    $("created").textContent = String(body.created);
    $("user").hidden = false;
    signedIn(true);
    showError("");
    show("Signed in with " + hostName + ".");
  }

  async function refresh() {
    var r = await fetch("/api/auth/refresh", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ refresh_token: session.refresh }) });
    if (!r.ok) return false;
    var b = await r.json();
    saveSession(b.auth_token, b.refresh_token);
    return true;
  }

  // report hands the miniapp's own steps to the host page, which adds them to the flow log.
  function report(on, steps) {
    if (on && flowID && hostPort) hostPort.postMessage({ type: "steps", flow_id: flowID, steps: steps });
  }

  // ---- log in (PROTOCOL §3.4, §4.3) ----
  // js-sdk 1.9.0's login() first asks supports("AppBoxoWebAppLogin"), which is false in a
  // browser iframe (its fixed list of iframe handlers lacks the login message), and then takes
  // its legacy path, which ends at a hard-coded dashboard.appboxo.com URL: it fails against any
  // platform, the real one included. So this page sends the bridge message itself, exactly as
  // login() does on native hosts, and reads the answer the same way (payload.token).
  async function logIn() {
    showError("");
    show("Waiting for " + hostName + "…");
    $("login").disabled = true;
    try {
      var answer = await sdk.sendPromise("AppBoxoWebAppLogin", { confirmModalText: cfg.name + " would like to use your " + hostName + " account to sign you in." });
      var p = answer && answer.payload;
      if (!p || !p.token) throw { status: "Error", message: "No auth token received" };
      saveSession(p.token, p.refresh_token);
      await loadMe(true);
    } catch (err) {
      signedIn(false);
      show("Not signed in.");
      showError(bridgeError(err));
    } finally {
      $("login").disabled = false;
    }
  }

  // ---- log out: our own button, or the host app's logout notice (PROTOCOL §7.5) ----
  async function logOut(why) {
    var token = session.token;
    saveSession("", "");
    if (token) {
      await fetch("/api/auth/logout", { method: "POST", headers: { Authorization: "Bearer " + token } }).catch(function () {});
    }
    signedIn(false);
    show(why);
  }

  sdk.subscribe(function (e) {
    var d = e && e.detail;
    if (d && d.handler === "AppBoxoWebAppLogout" && d.data && d.data.action === "logout") {
      logOut("The host app signed you out.").then(function () {
        if (hostPort) hostPort.postMessage({ type: "logged-out" });
      });
    }
  });
  // The boxo-sim demo host page offers a channel of its own: it names the flow of a login (so
  // the miniapp's steps 14–16 land in the platform's flow log) and learns when the miniapp has
  // logged out. Another host app never offers one, and nothing here depends on it.
  window.addEventListener("message", function (ev) {
    if (ev.source !== window.parent || !ev.data || ev.data.type !== "boxo-sim-hello" || !ev.ports || !ev.ports[0]) return;
    hostPort = ev.ports[0];
    hostPort.onmessage = function (e) {
      if (e.data && e.data.type === "flow" && typeof e.data.flow_id === "string") flowID = e.data.flow_id;
    };
  });

  $("login").addEventListener("click", logIn);
  $("logout").addEventListener("click", function () { logOut("You logged out."); });
  cfg.name = document.title;

  // ---- start: step 1's bridge part, then a saved session if there is one (§3.2, §3.3) ----
  if (window.parent === window) {
    show("Not signed in.");
    showError("Open this miniapp from a host app: it logs in through the host app's Boxo SDK.");
    return;
  }
  var saved = session;
  sdk.send("AppBoxoWebAppInit");
  sdk.getInitData().then(function (data) {
    hostName = cfg.hosts[data.client_id] || "your host app";
    $("login").textContent = "Log in with " + hostName;
    $("init").textContent = " · app_id " + data.app_id + ", client_id " + data.client_id;
    // getInitData rewrites the ab_ cookies from the host's answer; a web host gives no token.
    if (data.token) saved = { token: data.token, refresh: data.refresh_token || "" };
    saveSession(saved.token, saved.refresh);
    if (session.token) {
      show("Checking your session…");
      return loadMe(false);
    }
    signedIn(false);
    show("Not signed in.");
  }).catch(function (err) {
    show("Not signed in.");
    showError("The host app did not answer AppBoxoWebAppGetInitData: " + bridgeError(err));
  }).then(function () {
    document.body.dataset.ready = "1"; // started: signed in or offering to log in
  });
})();
