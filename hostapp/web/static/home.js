// The demo host app's home screen: opens a miniapp with Boxo's real web SDK, asks the user for
// consent in onAuth, gets a Boxo auth code for the signed-in user from this host app, and
// reports what the SDK side did (PROTOCOL §3.1 steps 1–5 and 13; the miniapp page adds 14–16)
// to the platform's flow log, so a demo flow shows all 16 steps.
//
// Opened "with Direct" (a partnership with Connect Direct on), onAuth instead asks this host
// app's backend for the miniapp's tokens, which it gets from the platform's /api/v1/connect/,
// and hands them to the SDK with setAuthTokens: the 12 steps of PROTOCOL §7.3, the page
// reporting 1–5 and 10, the miniapp page 11–12.
import { AppboxoWebSDK } from "/web/vendor/web-sdk/dist/index.js";

const cfg = JSON.parse(document.getElementById("boxo-config").textContent);
const api = cfg.platform_url + "/api/v1"; // the web SDK's baseUrl
const defaultFields = ["email", "phone", "first_name", "last_name"]; // contract §3.5
const $ = (sel) => document.querySelector(sel);

let opened = null; // the open miniapp: {app, mode, sdk, iframe, port, settings, settingsStep}
let current = null; // the login in progress: {id, appId, mode, steps, sent, code}
let reports = Promise.resolve(); // reports go to the platform one after another, in order

// ---- the flow log ----

function newFlowID() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return "flow_web_" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function addStep(flow, n, actor, call, extra) {
  const st = Object.assign({ step: n, actor, call, started_at: new Date().toISOString(), duration_ms: 0, outcome: "ok" }, extra);
  flow.steps.push(st);
  drawStep(flow, st);
  return st;
}

// The numbers of a flow's landmarks: the SDK's answer to the miniapp's login, the miniapp's
// own steps, and the platform's steps between (PROTOCOL §3.1, §7.3).
function numbering(flow) {
  return flow.mode === "direct"
    ? { answer: 10, me: 11, last: 12, platform: "6–9", total: 12 }
    : { answer: 13, me: 14, last: 16, platform: "6–12", total: 16 };
}

// flush sends the flow's steps not yet reported to the platform's browser route for them.
function flush(flow) {
  const steps = flow.steps.slice(flow.sent);
  flow.sent = flow.steps.length;
  if (!steps.length || !cfg.platform_url) return reports;
  const report = { client_id: cfg.client_id, app_id: flow.appId, user_reference: cfg.user_reference, steps };
  if (flow.mode === "direct") report.mode = "direct";
  const body = JSON.stringify(report);
  const last = Math.max(...flow.steps.map((st) => st.step));
  reports = reports.then(() =>
    realFetch(api + "/sim/flows/" + encodeURIComponent(flow.id) + "/steps/", {
      method: "POST", headers: { "Content-Type": "application/json" }, body,
    }).then((r) => {
      if (!r.ok) { console.warn("flow log refused the SDK's steps", r.status); return; }
      // For people and tests: the flow log has this flow up to step `last`.
      document.body.dataset.flowId = flow.id;
      document.body.dataset.reported = String(last);
      const link = $("#console-link"); // the console opens on this flow
      if (link) link.href = link.href.split("#")[0] + "#flow=" + encodeURIComponent(flow.id);
    }).catch((e) => console.warn("flow log unreachable", e)));
  return reports;
}

function drawStep(flow, st) {
  if (st.step === numbering(flow).answer) drawPlatformSteps(numbering(flow).platform);
  const li = document.createElement("li");
  const n = document.createElement("span");
  n.className = "n";
  n.textContent = st.step;
  const what = document.createElement("span");
  what.textContent = st.call;
  const who = document.createElement("small");
  who.textContent = st.actor + (st.note ? " · " + st.note : "");
  what.append(who);
  const res = document.createElement("span");
  res.className = st.outcome;
  res.textContent = st.outcome === "ok" ? "✓ ok" : "✗ " + (st.error_code || "failed");
  li.dataset.step = st.step;
  li.append(n, what, res);
  $("#steps").append(li);
}

// Steps 6–12 (6–9 in Direct) happen between the platform and the two backends, out of the
// browser's sight.
function drawPlatformSteps(range) {
  const li = document.createElement("li");
  li.className = "platform";
  const n = document.createElement("span");
  n.className = "n";
  n.textContent = range;
  const what = document.createElement("span");
  what.textContent = "the platform, the host backend and the miniapp backend";
  const res = document.createElement("span");
  res.textContent = "see the console";
  li.append(n, what, res);
  $("#steps").append(li);
}

function status(msg, bad) {
  const el = $("#host-status");
  el.textContent = msg;
  el.classList.toggle("bad", !!bad);
}

// ---- what the web SDK says to the platform ----
// The web SDK calls the platform with fetch and offers no hook on its calls. This page wraps
// fetch for calls to the platform's API only: it adds the flow id (X-Sim-Flow-Id, PROTOCOL
// §2.10, which the platform's CORS answers allow) and notes the answers, as the fake SDK does.
const realFetch = window.fetch.bind(window);
window.fetch = async function (input, init) {
  const url = typeof input === "string" ? input : input.url;
  if (!url.startsWith(api + "/") || url.startsWith(api + "/sim/")) return realFetch(input, init);
  init = Object.assign({}, init);
  const headers = new Headers(init.headers || {});
  if (current) headers.set("X-Sim-Flow-Id", current.id);
  init.headers = headers;
  const at = new Date(), t0 = performance.now();
  let res;
  try {
    res = await realFetch(input, init);
  } catch (e) {
    observe(url, null, at, t0, e);
    throw e;
  }
  await observe(url, res.clone(), at, t0, null);
  return res;
};

async function observe(url, res, at, t0, err) {
  const ms = Math.round((performance.now() - t0) * 1000) / 1000;
  let body = null;
  try { body = res ? await res.json() : null; } catch (e) { body = null; }
  if (url.includes("/settings/") && opened) {
    opened.settings = body || {};
    opened.settingsStep = { status: res ? res.status : 0, started_at: at.toISOString(), duration_ms: ms, ok: !!(res && res.ok) };
    if (!res || !res.ok) status("The platform refused to open the miniapp: " + describe(body, err), true);
    return;
  }
  if (url.includes("/authorize/") && current) {
    const flow = current;
    addStep(flow, 5, "sdk → host app → platform", "onAuth → auth code; POST /api/v1/authorize/", { status: res ? res.status : 0, started_at: at.toISOString(), duration_ms: ms });
    if (!res || !res.ok) {
      // The web SDK tells the miniapp only "Authentication failed" (client_error 500).
      const code = (body && body.error_code) || contract.platformUnavailable;
      addStep(flow, 13, "sdk → miniapp", "AppBoxoWebAppLogin answer (error)", {
        outcome: "failed", error_code: code,
        note: "the web SDK answered the miniapp client_error 500 \"Authentication failed\"",
      });
      flush(flow);
      status("Boxo Connect failed: " + describe(body, err), true);
      current = null;
    }
  }
}

const contract = { platformUnavailable: "PLATFORM_UNAVAILABLE" };

function describe(env, err) {
  if (err) return err.message;
  if (!env || !env.error_code) return "no answer from the platform";
  const attrs = env.custom_attributes || {};
  let s = env.error_code;
  if (attrs.step) s += " at step " + attrs.step;
  if (attrs.source) s += " (" + attrs.source + ")";
  if (env.error_message) s += ": " + env.error_message;
  return s;
}

// ---- the bridge, as seen from the host page ----
// Registered before the SDK's own listener (which mount adds), so it sees a login request
// before the SDK calls onAuth.
window.addEventListener("message", (ev) => {
  if (!opened || !opened.iframe || ev.source !== opened.iframe.contentWindow) return;
  const d = ev.data || {};
  if (d.type !== "appboxo-js-sdk") return;
  if (!opened.port) hello();
  if (d.handler === "AppBoxoWebAppLogin") startLogin((d.params && d.params.confirmModalText) || "");
}, true);

// The demo pages' own channel, beside the SDK's bridge (which would refuse its messages): the
// host page tells the miniapp page the flow id of a login, and the miniapp page hands back its
// own steps (14–16) and says when it has logged out. A miniapp that does not take the port
// simply never uses it.
function hello() {
  const ch = new MessageChannel();
  opened.port = ch.port1;
  ch.port1.onmessage = (ev) => {
    const d = ev.data || {};
    if (d.type === "steps" && current === null && lastFlow && d.flow_id === lastFlow.id) {
      const steps = (d.steps || []).filter((st) => st && st.step >= 14 && st.step <= 16);
      for (const st of lastFlow.mode === "direct" ? directSteps(steps) : steps) {
        addStep(lastFlow, st.step, String(st.actor || ""), String(st.call || ""), st);
      }
      flush(lastFlow);
      if (steps.some((st) => st.step === 16 && st.outcome !== "failed")) {
        status(opened.app.name + " signed you in: all " + numbering(lastFlow).total + " steps done.");
      }
    } else if (d.type === "logged-out" && logoutWaiter) {
      logoutWaiter();
    }
  };
  opened.iframe.contentWindow.postMessage({ type: "boxo-sim-hello" }, new URL(opened.iframe.src).origin, [ch.port2]);
  opened.iframe.dataset.bridge = "1"; // the miniapp page runs
}

let lastFlow = null; // the flow whose miniapp steps may still come

// directSteps renumbers the miniapp page's steps (14–16 of the OAuth flow) as Direct's
// (PROTOCOL §7.3): its call to its backend and the answer are step 11, the user continuing 12.
function directSteps(steps) {
  const call = steps.find((st) => st.step === 14), answer = steps.find((st) => st.step === 15);
  const out = [];
  if (call) {
    const st = Object.assign({}, call, { step: 11 });
    if (answer) {
      for (const k of ["status", "outcome", "error_code", "note"]) if (answer[k] !== undefined) st[k] = answer[k];
      st.duration_ms = Math.max(call.duration_ms || 0, answer.duration_ms || 0);
    }
    out.push(st);
  }
  const cont = steps.find((st) => st.step === 16);
  if (cont) out.push(Object.assign({}, cont, { step: 12 }));
  return out;
}

function startLogin(text) {
  $("#steps").replaceChildren();
  const flow = { id: newFlowID(), appId: opened.app.app_id, mode: opened.mode, steps: [], sent: 0, text };
  current = flow;
  lastFlow = null;
  const s1 = opened.settingsStep || {};
  addStep(flow, 1, "host app → sdk → platform", "GET /api/v1/miniapps/" + flow.appId + "/settings/", {
    status: s1.status || 0, started_at: s1.started_at, duration_ms: s1.duration_ms || 0,
    note: "miniapp URL " + ((opened.settings && opened.settings.miniapp && opened.settings.miniapp.url) || "?"),
  });
  addStep(flow, 2, "miniapp", "needs the user's identity");
  addStep(flow, 3, "miniapp → sdk", "AppBoxoWebAppLogin");
  // Tell the miniapp page which flow this is, so it can label its own steps.
  if (opened.port) opened.port.postMessage({ type: "flow", flow_id: flow.id });
  status("The miniapp asks to log you in.");
}

// onAuth: the SDK needs an auth code (PROTOCOL §3.5, §3.6). Consent first; a refusal is thrown,
// and the web SDK hands the error's message to the miniapp.
async function onAuth() {
  await Promise.resolve(); // the bridge listener above has started the flow
  const flow = current;
  if (!flow) throw new Error(cfg.codes.no_auth_code + ": no login in progress");
  const fields = (opened.settings && opened.settings.required_fields && opened.settings.required_fields.length)
    ? opened.settings.required_fields : defaultFields;
  const t0 = performance.now(), at = new Date().toISOString();
  const links = (opened.settings && opened.settings.consent_links) || [];
  const allowed = await askConsent(opened.app.name, fields, flow.text, links);
  const consent = { started_at: at, duration_ms: Math.round(performance.now() - t0) };
  let call = "consent prompt (" + fields.join(", ") + ")";
  if (links.length) call += "; links: " + links.map((l) => l.title + " <" + l.url + ">").join(", ");
  if (!allowed) {
    addStep(flow, 4, "sdk → user", call, Object.assign(consent, { outcome: "failed", error_code: cfg.codes.user_denied, note: "user declined" }));
    flush(flow);
    current = null;
    status("You did not allow " + opened.app.name + " to use your account.");
    throw new Error(cfg.codes.user_denied + ": the user declined to share their account with the miniapp");
  }
  addStep(flow, 4, "sdk → user", call, Object.assign(consent, { note: "allowed" }));
  if (flow.mode === "direct") return directLogin(flow);
  try {
    flow.code = await mintAuthCode(flow.appId);
  } catch (e) {
    addStep(flow, 5, "sdk → host app", "onAuth → POST /web/auth-code", { outcome: "failed", error_code: cfg.codes.no_auth_code, note: e.message });
    flush(flow);
    current = null;
    status("The host app gave no auth code: " + e.message, true);
    throw new Error(cfg.codes.no_auth_code + ": " + e.message);
  }
  flush(flow);
}

// The code goes to the SDK through onGetAuthCode, not setAuthCode: web SDK 1.4.4 reads a code
// given with setAuthCode before it calls onAuth, so one set inside onAuth would only serve the
// next login, as a code already spent.
function takeAuthCode() {
  const code = current && current.code;
  if (!code) return Promise.reject(new Error(cfg.codes.no_auth_code + ": onAuth gave no code"));
  current.code = "";
  return Promise.resolve(code);
}

// directLogin is Direct's step 5 (PROTOCOL §7.3): this host app asks its own backend for the
// miniapp's tokens for the signed-in user (steps 6–9 happen between that backend, the platform
// and the miniapp's backend) and hands them to the SDK with setAuthTokens, which the web SDK
// prefers to an auth code (§4.6) and answers the miniapp's login with (step 10).
async function directLogin(flow) {
  const call = "onAuth → POST /web/direct-tokens (host backend → POST /api/v1/connect/)";
  const at = new Date().toISOString(), t0 = performance.now();
  const timing = () => ({ started_at: at, duration_ms: Math.round((performance.now() - t0) * 1000) / 1000 });
  const stop = (code, msg) => {
    flush(flow);
    current = null;
    status("Connect Direct failed: " + msg, true);
    throw new Error(code + ": " + msg);
  };
  let r, body;
  try {
    r = await realFetch("/web/direct-tokens", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": cfg.csrf, "X-Sim-Flow-Id": flow.id },
      body: JSON.stringify({ app_id: flow.appId }),
    });
    body = await r.json().catch(() => ({}));
  } catch (e) {
    addStep(flow, 5, "sdk → host app → host backend", call, Object.assign(timing(), { outcome: "failed", error_code: cfg.codes.no_auth_token, note: e.message }));
    return stop(cfg.codes.no_auth_token, "the host backend could not be reached: " + e.message);
  }
  if (r.ok && body.token) {
    opened.sdk.setAuthTokens(body.token, body.refresh_token);
    addStep(flow, 5, "sdk → host app → host backend", call, Object.assign(timing(), { status: r.status, note: "setAuthTokens" }));
    flush(flow);
    return;
  }
  const code = body.error_code || cfg.codes.no_auth_token;
  const attrs = body.custom_attributes || {};
  if (attrs.source === "hostapp" && attrs.step === 5) {
    // The host backend refused on its own (no session, CSRF): step 5 failed.
    addStep(flow, 5, "sdk → host app → host backend", call, Object.assign(timing(), { status: r.status, outcome: "failed", error_code: code, note: body.error_message || "" }));
  } else {
    // The platform's envelope, passed on: its steps 6–9 hold the failure.
    addStep(flow, 5, "sdk → host app → host backend", call, Object.assign(timing(), { status: r.status }));
    addStep(flow, 10, "host app → sdk → miniapp", "AppBoxoWebAppLogin answer (error)", {
      outcome: "failed", error_code: code,
      note: "the web SDK answered the miniapp client_error 500 with the host app's message",
    });
  }
  return stop(code, describe(body.error_code ? body : null, null));
}

async function mintAuthCode(appId) {
  const r = await realFetch("/web/auth-code", {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": cfg.csrf },
    body: JSON.stringify({ app_id: appId }),
  });
  const body = await r.json().catch(() => ({}));
  if (!r.ok || !body.auth_code) throw new Error(body.error_description || "the host app answered " + r.status);
  return body.auth_code;
}

// askConsent shows the prompt: the miniapp's fields and the Dashboard's consent links
// (PROTOCOL §3.5), each opening in a new tab; only http(s) links are shown.
function askConsent(appName, fields, text, links) {
  $("#consent-app").textContent = appName;
  $("#consent-text").textContent = text || "This service is requesting access to your account details";
  $("#consent-fields").replaceChildren(...fields.map((f) => { const li = document.createElement("li"); li.textContent = f; return li; }));
  const shown = (links || []).filter((l) => /^https?:\/\//i.test(l.url));
  $("#consent-links").replaceChildren(...shown.map((l) => {
    const li = document.createElement("li"), a = document.createElement("a");
    a.href = l.url; a.textContent = l.title; a.target = "_blank"; a.rel = "noopener noreferrer";
    li.append(a);
    return li;
  }));
  $("#consent-links").hidden = shown.length === 0;
  $("#consent").hidden = false;
  return new Promise((resolve) => {
    const done = (v) => () => { $("#consent").hidden = true; $("#consent-allow").onclick = $("#consent-deny").onclick = null; resolve(v); };
    $("#consent-allow").onclick = done(true);
    $("#consent-deny").onclick = done(false);
  });
}

function onLoginComplete(ok) {
  const flow = current;
  if (!flow) return;
  if (flow.mode === "direct") {
    addStep(flow, 10, "host app → sdk → miniapp", "setAuthTokens → AppBoxoWebAppLogin answer {payload: {token, refresh_token}}", ok ? {} : { outcome: "failed" });
  } else {
    addStep(flow, 13, "sdk → miniapp", "AppBoxoWebAppLogin answer {payload: {token, refresh_token}}", ok ? {} : { outcome: "failed" });
  }
  flush(flow);
  current = null;
  lastFlow = flow;
  status(opened.app.name + " got its token.");
}

// ---- opening a miniapp ----

// openMiniapp mounts app with the web SDK; mode "direct" logs in with Connect Direct.
async function openMiniapp(app, mode) {
  if (opened) {
    opened.sdk.destroy();
    if (opened.port) opened.port.close();
  }
  current = null;
  $("#steps").replaceChildren();
  const sdk = new AppboxoWebSDK({
    clientId: cfg.client_id, appId: app.app_id, userId: cfg.user_reference, baseUrl: api,
    onGetAuthCode: takeAuthCode,
    allowedOrigins: [new URL(app.url).origin], // bridge messages from the miniapp's page only
  });
  sdk.onAuth(onAuth);
  sdk.onLoginComplete(onLoginComplete);
  opened = { app, mode: mode || "connect", sdk, iframe: null, port: null };
  const empty = $("#miniapp-empty");
  if (empty) empty.remove();
  status("Opening " + app.name + (mode === "direct" ? " with Connect Direct…" : "…"));
  try {
    const iframe = await sdk.mount({ container: "#miniapp-frame", className: "miniapp" });
    opened.iframe = iframe;
    iframe.id = "miniapp";
    status(app.name + " is open" + (mode === "direct" ? " (Connect Direct)." : "."));
  } catch (e) {
    status("Could not open " + app.name + ": " + e.message, true);
  }
}

for (const b of document.querySelectorAll("button.open, button.open-direct")) {
  const app = cfg.miniapps.find((m) => m.app_id === b.dataset.appId);
  const mode = b.classList.contains("open-direct") ? "direct" : "connect";
  b.addEventListener("click", () => openMiniapp(app, mode));
}

// ---- signing out also logs the SDK out (PROTOCOL §7.5) ----

let logoutWaiter = null;

$("#signout").addEventListener("submit", (ev) => {
  if (!opened || !opened.iframe) return;
  ev.preventDefault();
  const form = ev.target;
  const done = () => { logoutWaiter = null; form.submit(); };
  logoutWaiter = done;
  opened.sdk.logout(); // tells the miniapp to sign its user out
  setTimeout(() => { if (logoutWaiter === done) done(); }, 3000); // a miniapp that never answers
});

document.body.dataset.ready = "1"; // the page's buttons work from here on
