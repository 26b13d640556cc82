// boxo-sim console. Plain JavaScript, no build step. Everything it calls is on the platform's own
// origin: /_sim/flows (and its event stream), /_sim/stack, /_sim/clock and
// /_sim/parties/{party}/faults, which the platform forwards to each party's fault table.
// Text from the flow log is always set with textContent, never parsed as HTML: a relayed
// backend's answers are shown as they were sent.
(() => {
  'use strict';

  const cfg = JSON.parse(document.getElementById('console-config').textContent);
  const $ = (sel, root = document) => root.querySelector(sel);

  // el builds an element: el('div', {class: 'x', dataset: {a: 1}, onclick: f}, child, 'text', ...).
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'dataset') {
        for (const [dk, dv] of Object.entries(v)) if (dv !== undefined && dv !== null) e.dataset[dk] = dv;
      }
      else if (k === 'style') Object.assign(e.style, v);
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  async function api(method, path, body) {
    const opts = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
    if (method !== 'GET') {
      // Every change is sent as JSON, a bodiless DELETE included: the /_sim/ routes take
      // only JSON for what changes state (PROTOCOL §2.13).
      opts.headers['Content-Type'] = 'application/json';
    }
    if (body !== undefined) opts.body = JSON.stringify(body);
    const resp = await fetch(path, opts);
    let data = null;
    try { data = await resp.json(); } catch (_) { /* not JSON */ }
    if (!resp.ok) {
      const msg = data && (data.error_description || data.error_message || data.error || data.error_code);
      throw new Error(msg || `${method} ${path} answered HTTP ${resp.status}`);
    }
    return data;
  }

  function showError(box, err) {
    if (!err) { box.hidden = true; box.textContent = ''; return; }
    box.hidden = false;
    box.textContent = err.message || String(err);
  }

  // ---- The 16 steps (PROTOCOL §3.1) ------------------------------------------------------

  const LANES = ['sdk', 'hostapp', 'platform', 'miniapp'];
  // Which lanes each step runs between; one lane means the step stays inside that party.
  const STEP_LANES = {
    1: ['sdk', 'platform'], 2: ['miniapp'], 3: ['miniapp', 'sdk'], 4: ['sdk'],
    5: ['sdk', 'platform'], 6: ['platform', 'hostapp'], 7: ['hostapp', 'platform'],
    8: ['platform', 'hostapp'], 9: ['hostapp', 'platform'], 10: ['platform', 'miniapp'],
    11: ['miniapp', 'platform'], 12: ['platform', 'sdk'], 13: ['sdk', 'miniapp'],
    14: ['miniapp'], 15: ['miniapp'], 16: ['miniapp'],
  };
  const ANSWERS = new Set([7, 9, 11, 12, 13, 15]); // drawn dashed: answers to an earlier call
  const STEP_NAMES = {
    1: 'open miniapp: GET settings', 2: 'miniapp needs the user', 3: 'AppBoxoWebAppLogin',
    4: 'consent prompt', 5: 'auth code: POST /api/v1/authorize/', 6: 'POST access token URL',
    7: 'access_token', 8: 'GET user data URL', 9: 'user_data', 10: 'POST Get Auth Token URL',
    11: 'auth_token', 12: '{token, refresh_token}', 13: 'login answer to the miniapp',
    14: 'GET /api/me', 15: 'user JSON', 16: 'user continues signed in',
  };
  // Where the other half of an HTTP exchange is kept.
  const PAIRED = { 6: 7, 7: 6, 8: 9, 9: 8, 10: 11, 11: 10 };
  const NO_HTTP = {
    1: 'The SDK reports this step with its status; the flow log keeps no exchange for it.',
    5: "The SDK reports this step; the platform's answer to its POST /api/v1/authorize/ is step 12.",
    14: 'The miniapp frontend reports this step with its status; the flow log keeps no exchange for it.',
    15: 'The miniapp frontend reports this step with its status; the flow log keeps no exchange for it.',
    2: 'This step happens inside the miniapp: nothing goes over the wire.',
    3: 'This step is a bridge message from the miniapp to the SDK (contract §4), not HTTP.',
    4: 'This step is the SDK asking the user for consent: no HTTP.',
    13: 'This step is the SDK answering the miniapp over the bridge (contract §4), not HTTP.',
    16: 'The user carries on, signed in: nothing goes over the wire.',
  };

  // Connect Direct's 12 steps (PROTOCOL §7.3): the host backend calls the platform itself.
  const DIRECT = {
    total: 12,
    lanes: {
      1: ['sdk', 'platform'], 2: ['miniapp'], 3: ['miniapp', 'sdk'], 4: ['sdk'], 5: ['sdk', 'hostapp'],
      6: ['hostapp', 'platform'], 7: ['platform', 'miniapp'], 8: ['miniapp', 'platform'],
      9: ['platform', 'hostapp'], 10: ['sdk', 'miniapp'], 11: ['miniapp'], 12: ['miniapp'],
    },
    answers: new Set([8, 9, 10]),
    names: {
      1: 'open miniapp: GET settings', 2: 'miniapp needs the user', 3: 'AppBoxoWebAppLogin',
      4: 'consent prompt', 5: 'host app → its backend: POST /boxo/direct/tokens', 6: 'POST /api/v1/connect/',
      7: 'POST Get Auth Token URL', 8: 'auth_token', 9: '{token, refresh_token}',
      10: 'setAuthTokens: login answer to the miniapp', 11: 'GET /api/me', 12: 'user continues signed in',
    },
    paired: { 7: [8, 'answer'], 8: [7, 'request'] },
    noHTTP: {
      1: 'The SDK reports this step with its status; the flow log keeps no exchange for it.',
      5: "The host app reports this step; its backend's call to the platform is step 6, the answer step 9.",
      2: 'This step happens inside the miniapp: nothing goes over the wire.',
      3: 'This step is a bridge message from the miniapp to the SDK (contract §4), not HTTP.',
      4: 'This step is the SDK asking the user for consent: no HTTP.',
      10: 'This step is the SDK answering the miniapp over the bridge with the tokens the host app set, not HTTP.',
      11: 'The miniapp frontend reports this step with its status; the flow log keeps no exchange for it.',
      12: 'The user carries on, signed in: nothing goes over the wire.',
    },
    section: () => 'contract §7.3',
  };
  const OAUTH = {
    total: 16, lanes: STEP_LANES, answers: ANSWERS, names: STEP_NAMES, noHTTP: NO_HTTP,
    paired: Object.fromEntries(Object.entries(PAIRED).map(([n, m]) => [n, [m, n % 2 ? 'request' : 'answer']])),
    section: (n) => section(n),
  };
  // tab is the step table of a flow: Direct's or the OAuth flow's.
  const tab = (f) => (f && f.mode === 'direct' ? DIRECT : OAUTH);

  const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const section = (n) => cfg.sections[n] ? `contract §${cfg.sections[n]}` : 'contract §3';

  function fmtMS(ms) {
    if (ms === undefined || ms === null) return '';
    if (ms < 1) return `${ms.toFixed(2)} ms`;
    if (ms < 10) return `${ms.toFixed(1)} ms`;
    if (ms < 1000) return `${Math.round(ms)} ms`;
    return `${(ms / 1000).toFixed(2)} s`;
  }
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  function fmtTime(iso, ms = false) {
    const d = new Date(iso);
    if (isNaN(d)) return '';
    const t = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
    return ms ? `${t}.${pad(d.getUTCMilliseconds(), 3)}` : t;
  }
  function fmtDateTime(iso) {
    const d = new Date(iso);
    if (isNaN(d)) return '—';
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${fmtTime(iso)} UTC`;
  }

  // ---- State -----------------------------------------------------------------------------

  const state = {
    flows: new Map(),  // id → summary
    order: [],         // ids, newest first
    fresh: new Set(),  // ids that just arrived, drawn highlighted once
    selected: null,    // flow id
    flow: null,        // the selected flow with its steps
    stepKey: null,     // the selected step row's key
    follow: true,
  };

  // ---- Flow list -------------------------------------------------------------------------

  function upsertFlow(f, live) {
    const known = state.flows.has(f.id);
    state.flows.set(f.id, f);
    if (!known) {
      if (live) {
        state.order.unshift(f.id);
        state.fresh.add(f.id);
      } else {
        state.order.push(f.id);
      }
    }
    return !known;
  }

  async function loadFlows() {
    try {
      const data = await api('GET', '/_sim/flows?limit=100');
      state.flows = new Map();
      state.order = [];
      for (const f of data.flows) upsertFlow(f, false);
      renderFlows();
      if (!state.selected && state.order.length) selectFlow(state.order[0], false);
    } catch (err) {
      $('#flows-empty').hidden = false;
      $('#flows-empty').textContent = `Could not load flows: ${err.message}`;
    }
  }

  function renderFlows() {
    const list = $('#flows');
    list.replaceChildren(...state.order.map((id) => {
      const f = state.flows.get(id);
      const item = el('li', {
        class: 'flow-item' + (id === state.selected ? ' selected' : '') + (state.fresh.has(id) ? ' fresh' : ''),
        dataset: { flowId: id, outcome: f.outcome },
        tabindex: 0, role: 'button',
        title: `${id} · ${f.outcome}`,
        onclick: () => { setFollow(false); selectFlow(id, true); },
        onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); setFollow(false); selectFlow(id, true); } },
      },
      el('span', { class: 'dot', 'aria-hidden': 'true' }),
      el('span', { class: 'who' }, f.user_reference || 'no user', f.app_id ? el('span', { class: 'muted' }, ` · ${f.app_id}`) : null),
      el('span', { class: 'when' }, fmtTime(f.started_at)),
      el('span', { class: 'fid' }, id),
      f.error_code || f.outcome === 'running' ? el('span', { class: 'code' }, f.error_code || 'running') : null);
      return item;
    }));
    state.fresh.clear();
    $('#flows-empty').hidden = state.order.length > 0;
  }

  function setFollow(on) {
    state.follow = on;
    $('#follow').checked = on;
  }

  // ---- One flow --------------------------------------------------------------------------

  let loading = null; // the id being fetched, so a burst of events fetches once more at most
  let again = false;

  async function selectFlow(id, userAction) {
    if (state.selected !== id) {
      state.stepKey = null;
      state.flow = null;
    }
    state.selected = id;
    if (userAction || state.follow) {
      history.replaceState(null, '', `${location.pathname}#flow=${encodeURIComponent(id)}`);
    }
    renderFlows();
    await loadFlow(id);
  }

  async function loadFlow(id) {
    if (loading === id) { again = true; return; }
    loading = id;
    try {
      const f = await api('GET', `/_sim/flows/${encodeURIComponent(id)}`);
      if (state.selected === id) {
        state.flow = f;
        renderFlow();
      }
    } catch (err) {
      if (state.selected === id) {
        $('#flow-head').replaceChildren(el('p', { class: 'flow-error' }, `Flow ${id}: ${err.message}`));
        $('#diagram').hidden = true;
      }
    } finally {
      loading = null;
      if (again) { again = false; if (state.selected) loadFlow(state.selected); }
    }
  }

  // rows pairs each recorded step with a key and adds a placeholder for each step number the
  // flow has not recorded.
  function rows(f) {
    const byNum = new Map();
    for (const s of f.steps) {
      if (!byNum.has(s.step)) byNum.set(s.step, []);
      byNum.get(s.step).push(s);
    }
    const out = [];
    const total = tab(f).total;
    for (let n = 1; n <= total; n++) {
      const recs = byNum.get(n);
      if (!recs) { out.push({ key: `${n}`, n, missing: true }); continue; }
      recs.forEach((s, i) => out.push({ key: i ? `${n}-${i + 1}` : `${n}`, n, s }));
    }
    for (const [n, recs] of byNum) { // anything outside 1..total still shows
      if (n < 1 || n > total) recs.forEach((s, i) => out.push({ key: `${n}-${i + 1}`, n, s }));
    }
    return out;
  }

  function missingWord(f) {
    if (f.outcome === 'failed') return 'not reached';
    if (f.outcome === 'running') return 'pending';
    return 'not reported';
  }

  function flowTook(f) {
    let start = Infinity, end = -Infinity;
    for (const s of f.steps) {
      const t = Date.parse(s.started_at);
      if (isNaN(t)) continue;
      start = Math.min(start, t);
      end = Math.max(end, t + (s.duration_ms || 0));
    }
    return end >= start ? end - start : null;
  }

  function renderFlow() {
    const f = state.flow;
    const head = $('#flow-head');
    const firstFail = f.steps.find((s) => s.outcome === 'failed');
    const violations = f.steps.filter((s) => s.violations && s.violations.length);
    const numbers = new Set(f.steps.map((s) => s.step));
    const took = flowTook(f);
    head.replaceChildren(...[
      el('h2', {}, f.id, el('span', { class: `badge ${f.outcome}`, id: 'flow-outcome' }, f.outcome)),
      el('div', { class: 'flow-facts' },
        el('span', {}, 'user ', el('b', {}, f.user_reference || '—')),
        el('span', {}, 'host app ', el('b', {}, f.client_id || '—'), ' → miniapp ', el('b', {}, f.app_id || '—')),
        el('span', {}, 'started ', el('b', {}, fmtTime(f.started_at, true)), ' UTC'),
        took !== null ? el('span', {}, 'took ', el('b', {}, fmtMS(took))) : null,
        el('span', {}, 'steps ', el('b', { id: 'flow-step-count' }, `${numbers.size}/${tab(f).total}`)),
        f.mode === 'direct' ? el('span', { id: 'flow-mode' }, el('b', {}, 'Connect Direct')) : null),
      firstFail ? el('div', { class: 'flow-error', id: 'flow-error' },
        `Failed at step ${firstFail.step} (${firstFail.actor}): `,
        el('span', { class: 'code' }, firstFail.error_code || f.error_code || 'failed'),
        ' — breaks ', el('span', { class: 'section' }, tab(f).section(firstFail.step)),
        '; error codes: ', el('span', { class: 'section' }, `contract §${cfg.codes_section}`),
        firstFail.note ? el('div', {}, firstFail.note) : null) : null,
      violations.length ? el('div', { class: 'flow-warn', id: 'flow-violations' },
        plural(violations.reduce((n, s) => n + s.violations.length, 0), 'contract violation') +
        ` in the answers of step ${violations.map((s) => s.step).join(', ')}: the flow log lists what the contract asks ` +
        'and the backend did not do. Click the step to read them.') : null,
      f.note ? el('div', { class: 'flow-note', id: 'flow-note' }, f.note) : null,
    ].filter(Boolean));

    const list = $('#steps');
    const missing = missingWord(f);
    list.replaceChildren(...rows(f).map((r) => stepRow(r, missing)));
    $('#diagram').hidden = false;
    const selected = state.stepKey && rows(f).find((r) => r.key === state.stepKey);
    if (selected) renderExchange(selected); else renderExchangeHint();
  }

  function lanePos(lane) { return LANES.indexOf(lane) * 25 + 12.5; }

  function stepRow(r, missingText) {
    const s = r.s;
    const outcome = r.missing ? 'missing' : s.outcome;
    const t = tab(state.flow);
    const lanes = t.lanes[r.n] || ['platform'];
    const area = el('div', { class: 'lanes' });
    // A failed step's code comes first, so a long call cannot push it out of sight.
    const label = el('span', { class: 'call' },
      s && s.outcome === 'failed' && s.error_code ? el('span', { class: 'err' }, s.error_code) : null,
      r.missing ? t.names[r.n] : s.call);
    if (lanes.length === 2) {
      const a = lanePos(lanes[0]), b = lanePos(lanes[1]);
      const left = Math.min(a, b), width = Math.abs(a - b);
      area.append(el('div', {
        class: `arrow ${b > a ? 'right' : 'left'}${t.answers.has(r.n) ? ' answer' : ''}`,
        style: { left: `${left}%`, width: `${width}%` },
      }));
      // The label starts where the arrow starts and may run past its end: the calls between
      // neighbouring lanes are longer than the arrows.
      // Near the right edge it ends where the arrow ends and runs leftwards instead.
      if (left > 50) {
        Object.assign(label.style, { right: `${100 - left - width}%`, maxWidth: `${left + width - 1}%`, textAlign: 'right' });
      } else {
        Object.assign(label.style, { left: `${left}%`, maxWidth: `${Math.max(width, 99 - left)}%` });
      }
    } else {
      const c = lanePos(lanes[0]);
      area.append(el('div', { class: 'self', style: { left: `${c}%` } }));
      if (c > 50) {
        Object.assign(label.style, { right: `${100 - c + 2}%`, maxWidth: `${c - 4}%`, textAlign: 'right', top: '14px' });
      } else {
        Object.assign(label.style, { left: `${c + 2}%`, maxWidth: `${96 - c}%`, top: '14px' });
      }
    }
    area.append(label);

    const meta = el('span', { class: 'meta' });
    if (r.missing) {
      meta.append(el('span', { class: 'muted' }, missingText));
    } else {
      if (s.status) meta.append(el('span', { class: 'status' + (s.status >= 400 ? ' bad' : '') }, s.status), ' ');
      if (s.duration_ms || !s.status) meta.append(el('span', { class: 'dur' }, s.duration_ms ? fmtMS(s.duration_ms) : '—'));
      if (s.violations && s.violations.length) {
        meta.append(el('span', { class: 'vio', title: s.violations.join('\n') }, `⚠ ${s.violations.length}`));
      }
    }
    const start = state.flow ? Date.parse(state.flow.started_at) : NaN;
    const since = s && !isNaN(start) ? Date.parse(s.started_at) - start : NaN;
    const li = el('li', {
      class: 'step' + (state.stepKey === r.key ? ' selected' : ''),
      id: `step-${r.key}`,
      dataset: { step: r.n, outcome, key: r.key, violations: s && s.violations && s.violations.length ? s.violations.length : undefined },
      tabindex: 0, role: 'button',
      title: r.missing ? `step ${r.n}: ${missingText}` :
        `step ${r.n} · ${s.actor} · ${s.call}` + (isNaN(since) ? '' : ` · at +${fmtMS(Math.max(0, since))}`),
      onclick: () => pickStep(r),
      onkeydown: (e) => {
        if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); pickStep(r); return; }
        const next = e.key === 'ArrowDown' ? li.nextElementSibling : e.key === 'ArrowUp' ? li.previousElementSibling : null;
        if (next) { e.preventDefault(); next.focus(); next.click(); }
      },
    }, el('span', { class: 'num' }, r.n), area, meta);
    return li;
  }

  function pickStep(r) {
    state.stepKey = r.key;
    for (const li of document.querySelectorAll('#steps .step')) {
      li.classList.toggle('selected', li.dataset.key === r.key);
    }
    renderExchange(r);
  }

  // ---- Exchange --------------------------------------------------------------------------

  function renderExchangeHint() {
    $('#exchange').replaceChildren(el('p', { class: 'empty' },
      'Click a step to see its HTTP exchange. Secrets and tokens are shown masked, as the flow log keeps them.'));
  }

  function exchangeBlock(title, x) {
    const parts = [el('h3', {}, title)];
    const headers = Object.entries(x.headers || {}).sort(([a], [b]) => a.localeCompare(b));
    if (headers.length) {
      parts.push(el('table', { class: 'headers' }, el('tbody', {},
        headers.map(([k, v]) => el('tr', {}, el('td', {}, k), el('td', {}, v))))));
    }
    if (x.body !== undefined && x.body !== null) {
      parts.push(el('pre', { class: 'body' }, JSON.stringify(x.body, null, 2)));
    } else if (x.text) {
      parts.push(el('pre', { class: 'body' }, x.text));
    } else if (!headers.length) {
      parts.push(el('p', { class: 'muted' }, 'empty'));
    }
    return parts;
  }

  function renderExchange(r) {
    const box = $('#exchange');
    const n = r.n;
    const t = tab(state.flow);
    const section = t.section;
    if (r.missing) {
      box.replaceChildren(
        el('h2', {}, el('span', { class: 'stepno' }, n), `Step ${n}`, el('span', { class: 'badge' }, missingWord(state.flow))),
        el('p', { class: 'actor' }, t.names[n]),
        el('dl', { class: 'kv' }, el('dt', {}, 'Specified in'), el('dd', { class: 'section' }, section(n))),
        el('p', { class: 'muted' }, 'The flow log has no record of this step.'));
      return;
    }
    const s = r.s;
    const kv = el('dl', { class: 'kv' });
    const add = (k, v) => { if (v !== undefined && v !== null && v !== '') kv.append(el('dt', {}, k), el('dd', {}, v)); };
    add('Status', s.status ? String(s.status) : undefined);
    add('Started', s.started_at ? `${fmtTime(s.started_at, true)} UTC` : undefined);
    add('Duration', s.duration_ms ? fmtMS(s.duration_ms) : undefined);
    add('Specified in', el('span', { class: 'section' }, section(n)));
    if (s.outcome === 'failed') {
      add('Error', el('span', {}, el('b', { class: 'code', id: 'exchange-error-code' }, s.error_code || 'failed'),
        ' — breaks ', el('span', { class: 'section' }, section(n)), ` (codes: contract §${cfg.codes_section})`));
    }
    add('Note', s.note);
    const parts = [
      el('h2', {}, el('span', { class: 'stepno' }, n), `Step ${n}`, el('span', { class: `badge ${s.outcome}` }, s.outcome)),
      el('p', { class: 'actor' }, s.actor),
      el('p', { class: 'callline' }, s.call),
      kv,
    ];
    if (s.violations && s.violations.length) {
      parts.push(el('h3', {}, 'Contract violations'),
        el('ul', { class: 'violations', id: 'exchange-violations' }, s.violations.map((v) => el('li', {}, v))));
    }
    if (s.request) parts.push(...exchangeBlock('Request', s.request));
    if (s.response) parts.push(...exchangeBlock('Response', s.response));
    if (!s.request && !s.response) {
      let why = t.noHTTP[n] || 'No HTTP exchange was recorded for this step.';
      if (t.paired[n]) why = `This step's ${t.paired[n][1]} is kept on step ${t.paired[n][0]}.`;
      parts.push(el('p', { class: 'muted' }, why));
    } else if (t.paired[n]) {
      parts.push(el('p', { class: 'muted' }, `The ${t.paired[n][1]} is on step ${t.paired[n][0]}.`));
    }
    parts.push(el('p', { class: 'mask-note' },
      'Secrets, codes and tokens are masked as the flow log stores them: their first characters, then …[length].'));
    box.replaceChildren(el('div', { id: 'exchange-step', dataset: { step: n } }, parts));
  }

  // ---- Live updates ----------------------------------------------------------------------

  function setLive(stateName, text) {
    const live = $('#live');
    live.dataset.state = stateName;
    live.textContent = text;
  }

  let faultTimer = null;
  function refreshSoon() { // one refresh of the counters after a burst of flows
    if (faultTimer) return;
    faultTimer = setTimeout(() => { faultTimer = null; loadAllFaults(); loadClock(); }, 300);
  }

  function connectEvents() {
    if (!window.EventSource) {
      setLive('closed', 'no live updates in this browser: reload to refresh');
      loadFlows();
      return;
    }
    const es = new EventSource('/_sim/flows/events');
    es.addEventListener('ready', () => {
      setLive('open', 'live');
      loadFlows();
    });
    es.addEventListener('reset', () => loadFlows());
    es.addEventListener('flow', (ev) => {
      let f;
      try { f = JSON.parse(ev.data); } catch (_) { return; }
      const isNew = upsertFlow(f, true);
      renderFlows();
      if (isNew && state.follow) selectFlow(f.id, false);
      else if (f.id === state.selected) loadFlow(f.id);
      refreshSoon();
    });
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) setLive('closed', 'live updates stopped: reload the page');
      else setLive('retrying', 'reconnecting…');
    };
  }

  // ---- Clock -----------------------------------------------------------------------------

  function renderClock(c) {
    $('#clock-now').textContent = fmtDateTime(c.now);
    $('#clock-now').title = `read at ${fmtTime(new Date().toISOString())} UTC; read again after each change and each flow`;
    $('#clock-now').setAttribute('datetime', c.now);
    const off = $('#clock-offset');
    const moved = c.offset && c.offset !== '0s';
    const text = c.offset_text || c.offset; // "1d 2h 3m 4s", written by the server
    off.textContent = moved ? (text.startsWith('-') ? text : `+${text}`) : 'real time';
    off.dataset.offset = c.offset;
    off.classList.toggle('moved', !!moved);
  }

  async function loadClock() {
    try { renderClock(await api('GET', '/_sim/clock')); showError($('#clock-error'), null); } catch (err) { showError($('#clock-error'), err); }
  }

  async function changeClock(body) {
    try { renderClock(await api('POST', '/_sim/clock', body)); showError($('#clock-error'), null); } catch (err) { showError($('#clock-error'), err); }
  }

  function wireClock() {
    for (const b of document.querySelectorAll('[data-advance]')) {
      b.addEventListener('click', () => changeClock({ advance: b.dataset.advance }));
    }
    $('#clock-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const v = $('#clock-advance').value.trim();
      if (!v) { showError($('#clock-error'), new Error('give a duration such as 11m or 1h30m')); return; }
      changeClock({ advance: v }).then(() => { $('#clock-advance').value = ''; });
    });
    $('#clock-reset').addEventListener('click', () => changeClock({ reset: true }));
  }

  // ---- Faults ----------------------------------------------------------------------------

  const simulated = ['hostapp', 'platform', 'miniapp'].filter((p) => cfg.stack[p] && cfg.stack[p].mode === 'simulated');
  const faultsURL = (p, id) => `/_sim/parties/${p}/faults` + (id ? `/${encodeURIComponent(id)}` : '');

  function describeFault(f) {
    const where = f.step ? `step ${f.step}` : f.endpoint;
    const field = cfg.kind_field[f.kind];
    const value = field ? f[field] : undefined;
    const when = f.nth ? `call #${f.nth} only` : f.probability ? `probability ${f.probability}` : 'every call';
    return el('span', { class: 'what' }, `${f.id} · ${where} · ${f.kind}`, value !== undefined ? [' ', el('b', {}, String(value))] : null, ` · ${when}`);
  }

  async function loadFaults(p) {
    const box = $(`#faults-${p} .fault-body`);
    try {
      const data = await api('GET', faultsURL(p));
      const faults = data.faults || [];
      const count = $(`[data-count-for="${p}"]`);
      count.textContent = faults.length ? `${faults.length} fault${faults.length > 1 ? 's' : ''} active` : 'no faults';
      count.classList.toggle('active', faults.length > 0);
      if (!faults.length) {
        box.replaceChildren(el('p', { class: 'empty' }, 'No faults: every call is answered normally.'));
        return;
      }
      box.replaceChildren(el('ul', { class: 'fault-list' }, faults.map((f) => el('li', { class: 'fault', dataset: { faultId: f.id } },
        describeFault(f),
        el('button', { type: 'button', class: 'btn small ghost danger', title: `Remove ${f.id}`, onclick: () => removeFault(p, f.id) }, 'Remove'),
        el('span', { class: 'counts' }, `matched ${f.matched} · fired ${f.fired}`)))));
    } catch (err) {
      box.replaceChildren(el('p', { class: 'form-error' }, `Could not read the fault table: ${err.message}`));
    }
  }

  function loadAllFaults() { simulated.forEach(loadFaults); }

  async function removeFault(p, id) {
    try { await api('DELETE', faultsURL(p, id)); showError($('#fault-error'), null); } catch (err) { showError($('#fault-error'), err); }
    loadFaults(p);
  }

  async function clearFaults(p) {
    try { await api('DELETE', faultsURL(p)); showError($('#fault-error'), null); } catch (err) { showError($('#fault-error'), err); }
    loadFaults(p);
  }

  function option(value, text, selected) {
    return el('option', { value, selected: !!selected }, text);
  }

  function fillSteps() {
    const p = $('#fault-party').value;
    const steps = (cfg.fault_steps[p] || []);
    $('#fault-step').replaceChildren(...steps.map((n) => option(n, `${n} · ${STEP_NAMES[n]}`)));
  }

  function fillValue() {
    const kind = $('#fault-kind').value;
    const field = cfg.kind_field[kind];
    const slot = $('#fault-value-slot');
    let input;
    switch (field) {
      case 'error_code':
        input = el('select', { id: 'fault-value' }, cfg.codes.map((c) => option(c, c)));
        break;
      case 'status':
        input = el('input', { id: 'fault-value', type: 'number', min: 201, max: 599, value: 500, size: 5 });
        break;
      case 'delay':
        input = el('input', { id: 'fault-value', value: '11s', size: 6 });
        break;
      case 'body':
        input = el('select', { id: 'fault-value' }, cfg.malformed_bodies.map((b) => option(b, b)));
        break;
      case 'field':
        input = el('input', { id: 'fault-value', placeholder: 'user_data.email', size: 14 });
        break;
      default:
        input = el('span', { id: 'fault-value', class: 'muted' }, 'none');
    }
    slot.replaceChildren(input);
    $('#fault-value-label').firstChild.textContent = field ? `${field} ` : 'Value ';
  }

  function wireFaults() {
    $('#fault-party').replaceChildren(...simulated.map((p) => option(p, p, p === 'hostapp')));
    $('#fault-kind').replaceChildren(...cfg.kinds.map((k) => option(k, k)));
    fillSteps();
    fillValue();
    $('#fault-party').addEventListener('change', fillSteps);
    $('#fault-kind').addEventListener('change', fillValue);
    for (const b of document.querySelectorAll('[data-clear]')) {
      b.addEventListener('click', () => clearFaults(b.dataset.clear));
    }
    $('#fault-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const p = $('#fault-party').value;
      const f = { step: Number($('#fault-step').value), kind: $('#fault-kind').value };
      const field = cfg.kind_field[f.kind];
      if (field) {
        const v = $('#fault-value').value.trim();
        if (v) f[field] = field === 'status' ? Number(v) : v;
      }
      const nth = $('#fault-nth').value.trim();
      if (nth) f.nth = Number(nth);
      try {
        await api('PUT', faultsURL(p), f);
        showError($('#fault-error'), null);
      } catch (err) {
        showError($('#fault-error'), err);
      }
      loadFaults(p);
    });
  }

  // ---- Start -----------------------------------------------------------------------------

  function deepLink() {
    const q = new URLSearchParams(location.search).get('flow');
    if (q) return q;
    const h = new URLSearchParams(location.hash.replace(/^#/, '')).get('flow');
    return h || null;
  }

  $('#follow').addEventListener('change', (e) => {
    state.follow = e.target.checked;
    if (state.follow && state.order.length) selectFlow(state.order[0], false);
  });
  window.addEventListener('hashchange', () => {
    const id = deepLink();
    if (id && id !== state.selected) { setFollow(false); selectFlow(id, false); }
  });

  wireClock();
  wireFaults();
  const linked = deepLink();
  if (linked) { setFollow(false); selectFlow(linked, false); }
  document.addEventListener('visibilitychange', () => { if (!document.hidden) loadClock(); });
  connectEvents();
  loadClock();
  loadAllFaults();
})();
