// proxboxd operator view. Plain JavaScript, no build step: it reads
// /admin/api/overview and /admin/api/health, follows /admin/events (`run`
// when a sync run starts, `finished` when it ends) and watches each running
// run on /admin/runs/{id}/events, whose first frames are the run so far.
'use strict';
(function () {
  const SVGNS = 'http://www.w3.org/2000/svg';
  const rows = {};      // board row key -> model
  const watching = {};  // run id -> EventSource
  let overviewTimer = 0;

  // ---- small helpers ----
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null) continue;
      if (k === 'class') e.className = v; else e.setAttribute(k, v);
    }
    for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
    return e;
  }
  function svg(tag, attrs, ...kids) {
    const e = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
    return e;
  }
  function fmtDur(s) {
    if (!(s > 0)) return '';
    if (s < 1) return Math.round(s * 1000) + ' ms';
    if (s < 60) return s.toFixed(1) + ' s';
    return Math.floor(s / 60) + ' min ' + Math.round(s % 60) + ' s';
  }
  function fmtTime(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (isNaN(d)) return '';
    return d.toDateString() === new Date().toDateString() ? d.toLocaleTimeString() : d.toLocaleString();
  }
  // hasPlan: the result of a dry run that planned changes (a stage's, or a
  // full update's with one result per stage)
  function hasPlan(res) {
    if (!res) return false;
    if (Array.isArray(res.plan) && res.plan.length) return true;
    return Object.values(res).some((v) => v && typeof v === 'object' && Array.isArray(v.plan) && v.plan.length > 0);
  }
  function fmtVal(v) {
    if (v === null || v === undefined || v === '') return '—';
    if (Number.isInteger(v) && v < 0) return '(planned object)'; // a dry run's placeholder id
    const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
    return s.length > 90 ? s.slice(0, 89) + '…' : s;
  }
  function sumCounts(byType) {
    const t = { created: 0, updated: 0, deleted: 0, failed: 0, unchanged: 0, skipped: 0 };
    for (const c of Object.values(byType || {})) for (const k of Object.keys(t)) t[k] += c[k] || 0;
    return t;
  }
  async function getJSON(url) {
    const r = await fetch(url, { headers: { Accept: 'application/json' } });
    if (!r.ok) throw new Error(url + ': HTTP ' + r.status);
    return r.json();
  }
  function replaceBody(table, trs) {
    const tb = table.tBodies[0];
    tb.replaceChildren(...trs);
  }

  // ---- the stage board ----
  function model(key) {
    if (!rows[key]) {
      rows[key] = { key: key, runId: 0, status: 'idle', current: 0, total: 0, phase: '', counts: null, byType: null,
        partial: false, duration: 0, started: '', frames: 0, kind: key === 'full-update' ? 'full-update' : 'stage' };
    }
    return rows[key];
  }
  function ensureRows(keys) {
    const tb = document.querySelector('#stages tbody');
    for (const key of keys) {
      if (tb.querySelector('tr[data-stage="' + key + '"]')) continue;
      const bar = el('span', { class: 'bar' }, el('span'));
      const tr = el('tr', { 'data-stage': key, class: key === 'full-update' ? 'full-update' : null },
        el('td', { class: 'stage' }, key),
        el('td', { class: 'status idle' }, 'idle'),
        el('td', { class: 'progress' }, bar, el('span', { class: 'phase' })),
        el('td', { class: 'num created' }, ''), el('td', { class: 'num updated' }, ''), el('td', { class: 'num deleted' }, ''),
        el('td', { class: 'num failed' }, ''), el('td', { class: 'num unchanged' }, ''),
        el('td', { class: 'num duration' }, ''), el('td', { class: 'started' }, ''));
      tb.append(tr);
      model(key);
    }
  }
  function renderRow(m) {
    const tr = document.querySelector('#stages tr[data-stage="' + m.key + '"]');
    if (!tr) return;
    tr.dataset.run = String(m.runId);
    tr.dataset.frames = String(m.frames);
    const st = tr.querySelector('.status');
    st.className = 'status ' + m.status;
    st.replaceChildren(m.status);
    if (m.partial) st.append(el('span', { class: 'partial', title: 'some items failed or were skipped' }, 'partial'));
    if (m.dry) st.append(el('span', { class: 'partial', title: 'a dry run: the counts are what it planned, nothing was written' }, 'dry run'));
    const bar = tr.querySelector('.bar');
    const pct = m.status === 'complete' || m.status === 'failed' ? 100 : m.total > 0 ? Math.min(100, 100 * m.current / m.total) : 0;
    bar.className = 'bar' + (m.status === 'complete' ? ' done' : m.status === 'failed' ? ' failed' : '');
    bar.firstChild.style.width = pct.toFixed(1) + '%';
    bar.title = m.total > 0 ? m.current + ' / ' + m.total : '';
    tr.querySelector('.phase').textContent = m.phase;
    const c = m.counts || {};
    for (const k of ['created', 'updated', 'deleted', 'failed', 'unchanged']) {
      const td = tr.querySelector('td.' + k);
      td.textContent = m.counts ? String(c[k] || 0) : '';
      td.classList.toggle('created-n', k === 'created' && c[k] > 0);
      td.classList.toggle('failed-n', k === 'failed' && c[k] > 0);
      // per object type, on hover: "dcim.device 3, extras.tag 2"
      const parts = Object.entries(m.byType || {}).filter(([, v]) => v[k] > 0).sort().map(([t, v]) => t + ' ' + v[k]);
      if (parts.length) td.title = parts.join(', '); else td.removeAttribute('title');
    }
    tr.querySelector('.duration').textContent = fmtDur(m.duration);
    tr.querySelector('.started').textContent = fmtTime(m.started);
  }
  // fromOverview takes a run as the overview reports it, unless the row
  // already follows a newer run or this one live.
  function fromOverview(key, run) {
    const m = model(key);
    if (run.id < m.runId) return;
    if (run.id === m.runId && m.status === 'running' && (run.status === 'running' || watching[run.id])) return;
    Object.assign(m, { runId: run.id, status: run.status, partial: run.partial, duration: run.duration_s, started: run.started_at,
      phase: run.status === 'running' ? m.phase : run.message, current: 0, total: 0 });
    m.counts = run.status === 'running' ? null : run.counts;
    m.byType = run.status === 'running' ? null : run.by_type;
    m.dry = !!run.dry_run;
    renderRow(m);
  }

  // ---- one run, live ----
  function watchRun(id) {
    if (!id || watching[id]) return;
    const es = new EventSource('/admin/runs/' + id + '/events');
    watching[id] = es;
    let m = null;
    const on = (name, fn) => es.addEventListener(name, (e) => {
      let d = {};
      try { d = JSON.parse(e.data); } catch (x) { return; }
      if (name === 'run') {
        const key = d.kind === 'full-update' ? 'full-update' : d.stage;
        if (d.kind !== 'stage' && d.kind !== 'full-update') return;
        m = model(key);
        if (m.runId > id) { m = null; return; }
        Object.assign(m, { runId: id, kind: d.kind, status: 'running', current: 0, total: 0, phase: 'started', counts: null,
          byType: null, partial: false, dry: false, duration: 0, started: d.started_at, frames: 0 });
      }
      if (!m || m.runId !== id) return;
      m.frames++;
      fn(d);
      renderRow(m);
    });
    on('run', () => {});
    on('discovery', (d) => {
      if (m.kind === 'full-update' && d.phase !== 'full-update') return;
      if (typeof d.count === 'number') m.total = d.count;
      m.phase = d.message || m.phase;
    });
    on('item_progress', (d) => {
      if (m.kind === 'full-update') return;
      if (d.progress && d.progress.total) { m.current = d.progress.current; m.total = d.progress.total; }
      else if (d.status === 'completed' || d.status === 'skipped') m.current = Math.min(m.current + 1, m.total || m.current + 1);
      if (d.message) m.phase = d.message;
    });
    on('step', (d) => {
      if (m.kind === 'full-update') {
        if (d.status === 'completed' && d.step !== 'stream') m.current++;
        if (d.message) m.phase = d.message;
        return;
      }
      if (d.status === 'completed') m.current = m.total;
      if (d.message) m.phase = d.message;
    });
    on('phase_summary', (d) => {
      if (d.message) m.phase = d.message;
      if (m.kind === 'full-update' || !d.result) return;
      m.counts = { created: d.result.created, updated: d.result.updated, deleted: d.result.deleted, failed: d.result.failed, unchanged: d.result.skipped };
    });
    on('error', (d) => { m.phase = d.error || d.detail || 'error'; });
    on('complete', (d) => {
      m.status = d.ok ? 'complete' : 'failed';
      const res = d.result || {};
      m.counts = sumCounts(res.counts);
      m.byType = res.counts || null;
      m.partial = !!res.partial;
      m.dry = hasPlan(res);
      m.duration = d.duration_s || m.duration;
      if (m.total) m.current = m.total;
      m.phase = d.message || '';
      es.close();
      delete watching[id];
      scheduleOverview();
    });
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) delete watching[id];
    };
  }

  // ---- last runs: one small chart per row ----
  function chart(key, runs) {
    const W = 180, H = 100, slot = W / 10, bw = slot - 5, top = 4, durH = 34, cntTop = 46, cntH = 46;
    const maxDur = Math.max(0.001, ...runs.map((r) => r.duration_s || 0));
    const tot = (r) => (r.counts.created || 0) + (r.counts.updated || 0) + (r.counts.deleted || 0) + (r.counts.failed || 0);
    const maxCnt = Math.max(1, ...runs.map(tot));
    const s = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': key + ': last ' + runs.length + ' runs' });
    s.append(svg('line', { x1: 0, y1: top + durH + .5, x2: W, y2: top + durH + .5, stroke: '#dde2e8' }));
    s.append(svg('line', { x1: 0, y1: cntTop + cntH + .5, x2: W, y2: cntTop + cntH + .5, stroke: '#dde2e8' }));
    runs.forEach((r, i) => {
      const x = i * slot + 2.5;
      const g = svg('g', { class: 'run' });
      const c = r.counts;
      g.append(svg('title', {}, '#' + r.id + ' ' + fmtTime(r.started_at) + ' · ' + r.status + ' · ' + fmtDur(r.duration_s) +
        '\ncreated ' + (c.created || 0) + ', updated ' + (c.updated || 0) + ', deleted ' + (c.deleted || 0) + ', failed ' + (c.failed || 0) +
        ', unchanged ' + (c.unchanged || 0)));
      const dh = Math.max(1, durH * (r.duration_s || 0) / maxDur);
      g.append(svg('rect', { x: x, y: top + durH - dh, width: bw, height: dh, fill: r.status === 'failed' ? '#cf222e' : '#8c959f', rx: 1 }));
      let y = cntTop + cntH;
      for (const [k, col] of [['created', '#2da44e'], ['updated', '#0969da'], ['deleted', '#d4a72c'], ['failed', '#cf222e']]) {
        const n = c[k] || 0;
        if (!n) continue;
        const h = Math.max(1, cntH * n / maxCnt);
        y -= h;
        g.append(svg('rect', { x: x, y: y, width: bw, height: h, fill: col, class: 'cnt-' + k }));
      }
      s.append(g);
    });
    const last = runs[runs.length - 1];
    const lc = last.counts;
    return el('div', { class: 'chart', 'data-stage': key },
      el('h3', {}, key), s,
      el('p', {}, 'last ' + fmtDur(last.duration_s) + ' · +' + (lc.created || 0) + ' ~' + (lc.updated || 0) + ' −' + (lc.deleted || 0) +
        ' !' + (lc.failed || 0) + ' · max ' + fmtDur(maxDur)));
  }
  function renderHistory(order, history) {
    const box = document.getElementById('history');
    const charts = order.filter((k) => history[k] && history[k].length).map((k) => chart(k, history[k]));
    box.replaceChildren(...(charts.length ? charts : [el('p', { class: 'muted' }, 'No finished runs yet.')]));
  }

  // ---- dry-run plan ----
  // diffCell shows old → new; two lists (a backup job's VMIDs) as what
  // the new one adds and drops.
  function diffCell(o, n) {
    if (Array.isArray(o) && Array.isArray(n)) {
      const key = (v) => JSON.stringify(v);
      const os = new Set(o.map(key)), ns = new Set(n.map(key));
      const added = n.filter((v) => !os.has(key(v))), dropped = o.filter((v) => !ns.has(key(v)));
      const out = [el('span', { class: 'muted' }, o.length + ' → ' + n.length + ' items')];
      if (added.length) out.push(' ', el('span', { class: 'new' }, '+' + fmtVal(added.length === 1 ? added[0] : added)));
      if (dropped.length) out.push(' ', el('span', { class: 'old' }, '−' + fmtVal(dropped.length === 1 ? dropped[0] : dropped)));
      return out;
    }
    return [el('span', { class: 'old' }, fmtVal(o)), el('span', { class: 'arrow' }, '→'), el('span', { class: 'new' }, fmtVal(n))];
  }
  function renderPlan(plan) {
    const box = document.getElementById('plan');
    if (!plan) {
      box.replaceChildren(el('p', { class: 'muted' }, 'No dry run has planned changes yet.'));
      return;
    }
    const head = el('p', { class: 'muted' }, 'Run #' + plan.run_id + ' (' + plan.kind + (plan.kind === 'stage' ? ' ' + plan.stage : '') + ', ' +
      fmtTime(plan.started_at) + '): ' + plan.total + ' planned change' + (plan.total === 1 ? '' : 's') + ', nothing written.');
    const groups = plan.groups.map((g) => {
      const acts = Object.entries(g.actions).map(([a, n]) => a + ' ' + n).join(', ');
      const tb = el('tbody');
      for (const ch of g.changes) {
        const fields = Object.entries(ch.fields || {}).sort((a, b) => a[0].localeCompare(b[0]));
        const name = ch.name + (ch.id > 0 ? ' (#' + ch.id + ')' : '');
        if (ch.action === 'create') {
          // a new object: its values on one line
          const vals = el('td', { colspan: 2, class: 'values' });
          fields.forEach(([k, v], i) => {
            if (i) vals.append(' · ');
            vals.append(el('span', { class: 'field' }, k + ' '), el('span', { class: 'new' }, fmtVal(v.new)));
          });
          tb.append(el('tr', { class: 'change' }, el('td', { class: 'act-create' }, 'create'), el('td', { class: 'object' }, name), vals));
          continue;
        }
        const shown = fields.slice(0, 12);
        const rowsN = Math.max(1, shown.length + (fields.length > shown.length ? 1 : 0));
        const first = el('tr', { class: 'change' },
          el('td', { rowspan: rowsN, class: 'act-' + ch.action }, ch.action),
          el('td', { rowspan: rowsN, class: 'object' }, name));
        const cells = (f) => [el('td', { class: 'field' }, f[0]), el('td', {}, ...diffCell(f[1].old, f[1].new))];
        if (!shown.length) first.append(el('td', { class: 'field muted' }, ''), el('td', {}, ''));
        else first.append(...cells(shown[0]));
        tb.append(first);
        for (const f of shown.slice(1)) tb.append(el('tr', {}, ...cells(f)));
        if (fields.length > shown.length) tb.append(el('tr', {}, el('td', { colspan: 2, class: 'muted' }, '… ' + (fields.length - shown.length) + ' more fields')));
      }
      const more = g.total > g.changes.length ? el('p', { class: 'muted' }, '… and ' + (g.total - g.changes.length) + ' more') : '';
      const d = el('details', { 'data-type': g.object_type },
        el('summary', {}, g.object_type, el('span', { class: 'muted' }, acts)),
        el('table', { class: 'plan' }, el('thead', {}, el('tr', {}, el('th', {}, 'Action'), el('th', {}, 'Object'), el('th', {}, 'Field'), el('th', {}, 'Old → new'))), tb),
        more);
      // what changes existing objects is open; new objects are one click away
      d.open = plan.groups.length <= 3 || Object.keys(g.actions).some((a) => a !== 'create');
      return d;
    });
    box.replaceChildren(head, ...groups);
  }

  // ---- errors of the last run ----
  function renderErrors(errors) {
    const t = document.getElementById('errors');
    if (!errors.length) {
      replaceBody(t, [el('tr', { class: 'none' }, el('td', { colspan: 4, class: 'muted' }, 'No errors.'))]);
      return;
    }
    replaceBody(t, errors.map((e) => el('tr', { class: 'error', 'data-run': e.run_id },
      el('td', {}, e.stage), el('td', {}, e.object_type), el('td', { class: 'object' }, e.name), el('td', { class: 'detail' }, e.detail))));
  }

  // ---- overview ----
  async function loadOverview() {
    let ov;
    try {
      ov = await getJSON('/admin/api/overview');
    } catch (x) {
      document.getElementById('updated').textContent = String(x.message || x);
      return;
    }
    document.getElementById('version').textContent = ov.version;
    document.getElementById('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
    ensureRows(ov.stages);
    for (const key of ov.stages) if (ov.latest[key]) fromOverview(key, ov.latest[key]);
    for (const r of ov.active) watchRun(r.id);
    renderHistory(ov.stages, ov.history);
    renderPlan(ov.plan);
    renderErrors(ov.errors);
  }
  function scheduleOverview() {
    clearTimeout(overviewTimer);
    overviewTimer = setTimeout(loadOverview, 250);
  }

  // ---- endpoints ----
  async function loadHealth() {
    const t = document.getElementById('endpoints');
    try {
      const h = await getJSON('/admin/api/health');
      replaceBody(t, h.endpoints.length ? h.endpoints.map((e) => el('tr', { 'data-kind': e.kind },
        el('td', {}, e.kind), el('td', {}, e.name), el('td', {}, e.url), el('td', { class: 'health-' + e.status }, e.status), el('td', {}, e.detail)))
        : [el('tr', {}, el('td', { colspan: 5, class: 'muted' }, 'No endpoints registered.'))]);
    } catch (x) {
      replaceBody(t, [el('tr', {}, el('td', { colspan: 5, class: 'muted' }, String(x.message || x)))]);
    }
  }

  // ---- live log ----
  const logBox = () => document.getElementById('log');
  function addLog(e) {
    const box = logBox();
    const stick = box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
    box.append(el('div', { class: e.level }, (e.timestamp || '').replace('T', ' ').slice(0, 23) + ' ' + e.level + ' [' + (e.module || '') + '] ' +
      e.message + (e.attrs ? ' ' + JSON.stringify(e.attrs) : '')));
    while (box.childElementCount > 500) box.firstElementChild.remove();
    if (stick) box.scrollTop = box.scrollHeight;
  }
  async function startLog() {
    let last = 0;
    try {
      const j = await getJSON('/admin/logs?limit=100');
      for (const e of (j.logs || []).slice().reverse()) { addLog(e); last = Math.max(last, e.id); }
    } catch (x) {
      logBox().append(el('div', { class: 'WARNING' }, 'log: ' + (x.message || x)));
      return;
    }
    const es = new EventSource('/admin/logs/stream?newer_than_id=' + last);
    es.addEventListener('log', (m) => { try { addLog(JSON.parse(m.data)); } catch (x) { /* not JSON */ } });
  }

  // ---- the page's own broadcast ----
  function start() {
    const badge = document.getElementById('live');
    const ev = new EventSource('/admin/events');
    ev.onopen = () => { badge.textContent = 'live'; badge.className = 'badge on'; loadOverview(); };
    ev.onerror = () => { badge.textContent = 'offline'; badge.className = 'badge off'; };
    ev.addEventListener('run', (e) => { try { watchRun(JSON.parse(e.data).run_id); } catch (x) { /* not JSON */ } });
    ev.addEventListener('finished', () => scheduleOverview());
    loadOverview();
    loadHealth();
    startLog();
  }
  start();
})();
