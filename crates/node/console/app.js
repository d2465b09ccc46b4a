// The Cairn web console: the shell (overview, blocks, transactions, search and verification)
// and the pages of the ledger modules (the evidence module's deposit and record pages, …),
// loaded from the modules at start-up (kit.js describes a module page). A single page with hash
// routes (#/block/7, #/record/<id>, #/verify?record=<id>, …), served by the node from the
// binary. No framework, no network calls beyond the node itself.

import { t, tn, getLang, setLang, addStrings } from './i18n.js';
import { verifyLeafReceipt, LEAF_RECEIPT_FORMAT, parseTrust } from './verify.js';
import { verifyStateProof } from './state-proof.js';
import { $, esc, short, timeHtml, msOf, sizeHtml, idHtml, fillHtml, api, authFetch, openEvents, setCredential, hasCredential, readKeyFile, card, cardHtml, scrollBox, notFound, hashFile, Stale, newContext, stepHtml, verdictHtml } from './kit.js';

const state = { status: null, genesis: null, trust: null, chart: [], access: 'open' };

// ---------- module pages ----------

/** The shell's own first path segments: a module cannot take them. */
const SHELL_ROUTES = new Set(['', 'blocks', 'block', 'tx', 'search', 'verify']);
/** What the modules' pages added (kit.js describes a page): routes, links and searches. */
const modules = { pages: new Map(), nav: [], search: [], verify: [] };
let ready = false;

/** Loads the page of every module that has one (GET /v1/modules); one that fails is logged and left out. */
async function loadModules() {
  let list = [];
  try {
    const r = await api('/v1/modules');
    if (r.ok && Array.isArray(r.body?.modules)) list = r.body.modules;
    else console.warn(`console: no module list (HTTP ${r.status})`);
  } catch (e) {
    console.warn('console: no module list', e);
  }
  const loaded = await Promise.all(list.filter((m) => m && m.console).map(async (m) => {
    try {
      return { name: String(m.name), page: (await import(m.console)).default };
    } catch (e) {
      console.error(`console: the page of module ${m.name} (${m.console}) did not load`, e);
      return null;
    }
  }));
  for (const m of loaded) {
    if (!m) continue;
    try { installModule(m.name, m.page); } catch (e) { console.error(`console: the page of module ${m.name} is left out: ${e.message}`, e); }
  }
}

function installModule(name, page) {
  if (!page || typeof page !== 'object') throw new Error('its default export is not an object');
  const { strings, nav = [], pages = {}, search, verify } = page;
  // Check the whole shape before taking anything, so a faulty page adds nothing at all.
  if (!Array.isArray(nav) || !nav.every((n) => typeof n?.hash === 'string' && n.hash.startsWith('#/') && typeof n.key === 'string')) throw new Error('nav must be a list of { hash: "#/…", key }');
  if (!pages || typeof pages !== 'object' || !Object.values(pages).every((f) => typeof f === 'function')) throw new Error('pages must map path segments to functions');
  if (search != null && typeof search !== 'function') throw new Error('search must be a function');
  checkVerify(verify);
  addStrings(name, strings);
  for (const [segment, render] of Object.entries(pages)) {
    if (SHELL_ROUTES.has(segment)) console.warn(`console: module ${name}: #/${segment} is the console's own page; the module's is left out`);
    else if (modules.pages.has(segment)) console.warn(`console: module ${name}: #/${segment} is module ${modules.pages.get(segment).module}'s; the later is left out`);
    else modules.pages.set(segment, { module: name, render });
  }
  modules.nav.push(...nav.map((n) => [n.hash, n.key]));
  if (search) modules.search.push({ module: name, search });
  if (verify) modules.verify.push({ module: name, ...verify });
}

/** A page's `verify` hooks (kit.js): every part optional, each of the right shape. */
function checkVerify(verify) {
  if (verify == null) return;
  const fns = (o, names) => o == null || (typeof o === 'object' && names.every((n) => typeof o[n] === 'function'));
  if (typeof verify !== 'object') throw new Error('verify must be an object');
  if (!fns(verify.receipt, ['accepts', 'verify', 'html'])) throw new Error('verify.receipt must have accepts, verify and html functions');
  if (!fns(verify.state, ['view'])) throw new Error('verify.state must have a view function');
  if (verify.preload != null && typeof verify.preload !== 'function') throw new Error('verify.preload must be a function');
}

// ---------- chrome ----------

/** Overview and Blocks, the modules' links, then Verify. */
const routes = () => [['#/', 'nav_overview'], ['#/blocks', 'nav_blocks'], ...modules.nav, ['#/verify', 'nav_verify']];

function chrome() {
  document.documentElement.lang = getLang() === 'zh' ? 'zh-CN' : 'en';
  document.title = t('title');
  $('#skip-link').textContent = t('skip');
  $('#search-label').textContent = t('search_label');
  $('#search').setAttribute('aria-label', t('search_label'));
  $('#search').placeholder = t('search_label');
  $('#search-button').textContent = t('search');
  $('#lang').textContent = t('language');
  $('#signout').textContent = t('signout');
  $('#signout').hidden = !(state.access === 'members' && hasCredential());
  const here = location.hash.split('?')[0] || '#/';
  $('#nav').innerHTML = routes().map(([href, key]) => {
    const current = here === href || (href !== '#/' && here.startsWith(href));
    return `<a href="${href}" ${current ? 'aria-current="page"' : ''}>${esc(t(key))}</a>`;
  }).join(' ');
}

// ---------- overview ----------

async function overview(ctx) {
  const [s, g, cp, b] = await Promise.all([api('/v1/status'), api('/v1/genesis'), api('/v1/checkpoint'), api('/v1/blocks?limit=100')]);
  state.status = s.body;
  state.genesis = g.body;
  // Seed the chart with the recent blocks, so it shows the last minutes, not only from now on.
  const seen = new Set(state.chart.map((p) => p.h));
  for (const blk of b.body.blocks) {
    if (!seen.has(blk.height)) state.chart.push({ s: Math.floor(blk.time_ms / 1000), txs: blk.tx_count, h: blk.height });
  }
  const st = s.body;
  const members = g.body.organisations.map((o) => `<li>${esc(o.name)} <span class="muted">(${esc(o.id)})</span></li>`).join('');
  const validators = g.body.validators.map((v) => `<li>${esc(v.name)} <span class="muted">— ${esc(v.organisation)}</span></li>`).join('');
  ctx.render(`
    <h1>${esc(t('nav_overview'))} <span class="badge" id="live">${esc(t('live'))}</span></h1>
    <div class="grid">
      ${cardHtml('chain', esc(st.chain_id), 'st-chain', 'id', st.chain_id)}${cardHtml('suite', esc(st.suite), 'st-suite', 'id')}${card('height', st.height, 'st-height')}
      ${card('finalized', st.finalized_height, 'st-final')}${card('log_size', st.log_size, 'st-log')}${card('mempool', st.mempool_txs, 'st-mempool')}
      ${st.genesis_hash ? cardHtml('genesis', esc(st.genesis_hash), 'st-genesis', 'hash', st.genesis_hash) : ''}${st.disk_bytes != null ? cardHtml('disk', sizeHtml(st.disk_bytes), 'st-disk') : ''}
      ${st.consensus ? card('peers', `${st.consensus.peers_connected} / ${st.consensus.validators - 1}`, 'st-peers') + card('quorum', `${st.consensus.quorum} / ${st.consensus.validators}`) + card('faults', st.consensus.faults, 'st-faults') : ''}
    </div>
    <h2>${esc(t('throughput'))}</h2>
    <canvas id="chart" width="768" height="160" role="img" aria-label="${esc(t('throughput'))}"></canvas>
    <p class="muted" id="chart-legend"></p>
    <div class="grid">
      <div><h2>${esc(t('organisations'))}</h2><ul>${members}</ul></div>
      <div><h2>${esc(t('validators'))}</h2><ul>${validators}</ul></div>
    </div>
    <h2>${esc(t('checkpoint'))}</h2><pre id="checkpoint">${esc(cp.ok ? cp.body : '—')}</pre>
    <h2>${esc(t('recent_blocks'))}</h2>${blocksTable(b.body.blocks.slice(0, 10), 'recent-blocks')}`);
  drawChart();
}

function blocksTable(blocks, id) {
  const rows = blocks.map(blockRow).join('');
  return scrollBox(`<table id="${id}"><thead><tr><th>${esc(t('height'))}</th><th>${esc(t('time'))}</th><th>${esc(t('transactions'))}</th><th>${esc(t('log_size'))}</th><th>${esc(t('hash'))}</th></tr></thead><tbody>${rows}</tbody></table>`);
}

function blockRow(b) {
  return `<tr><td><a href="#/block/${b.height}">${b.height}</a></td><td>${timeHtml(msOf(b))}</td><td>${b.tx_count}</td><td>${b.log_size}</td><td>${idHtml(b.hash)}</td></tr>`;
}

function onBlock(ev) {
  const now = Math.floor(Date.now() / 1000);
  state.chart.push({ s: Math.floor(ev.time_ms / 1000) || now, txs: ev.tx_count, h: ev.height });
  state.chart = state.chart.filter((p) => p.s > now - 300);
  const h = $('#st-height');
  if (h) {
    h.textContent = ev.height; $('#st-final').textContent = ev.height; $('#st-log').textContent = ev.log_size;
    const tb = $('#recent-blocks tbody');
    if (tb) {
      tb.insertAdjacentHTML('afterbegin', blockRow({ height: ev.height, time_ms: ev.time_ms, tx_count: ev.tx_count, log_size: ev.log_size, hash: ev.hash }));
      while (tb.rows.length > 10) tb.deleteRow(-1);
    }
    api('/v1/checkpoint').then((cp) => { if (cp.ok && $('#checkpoint')) $('#checkpoint').textContent = cp.body; });
    drawChart();
  }
}

function drawChart() {
  const c = $('#chart');
  if (!c) return;
  const ctx = c.getContext('2d');
  const W = c.width, H = c.height, now = Math.floor(Date.now() / 1000);
  // 60 buckets of 5 s over the last 5 minutes.
  const txs = new Array(60).fill(0), blocks = new Array(60).fill(0);
  for (const p of state.chart) {
    const i = 59 - Math.floor((now - p.s) / 5);
    if (i >= 0 && i < 60) { txs[i] += p.txs / 5; blocks[i] += 1 / 5; }
  }
  const max = Math.max(1, ...txs);
  ctx.clearRect(0, 0, W, H);
  ctx.strokeStyle = '#d0d7de'; ctx.beginPath(); ctx.moveTo(0, H - 20.5); ctx.lineTo(W, H - 20.5); ctx.stroke();
  const line = (data, scale, color) => {
    ctx.strokeStyle = color; ctx.lineWidth = 2; ctx.beginPath();
    data.forEach((v, i) => { const x = (i / 59) * (W - 10) + 5, y = H - 20 - (v / scale) * (H - 40); i ? ctx.lineTo(x, y) : ctx.moveTo(x, y); });
    ctx.stroke();
  };
  line(txs, max, '#0b5cad');
  line(blocks, Math.max(1, ...blocks), '#0a6b2e');
  ctx.fillStyle = '#16202a'; ctx.font = '12px system-ui'; ctx.fillText(`${max.toFixed(1)} ${t('tx_per_s')}`, 8, 14);
  const legend = $('#chart-legend');
  if (legend) legend.textContent = `— ${t('tx_per_s')} (blue), ${t('blocks_per_s')} (green); now ${txs[59].toFixed(1)} ${t('tx_per_s')}`;
}

function startEvents() {
  openEvents((event, data) => { if (event === 'block') onBlock(JSON.parse(data)); }, (up) => {
    const l = $('#live');
    if (l) l.textContent = t(up ? 'live' : 'reconnecting');
  });
  setInterval(drawChart, 5000);
}

// ---------- blocks, transactions, records ----------

async function blocksPage(ctx, params) {
  const before = params.get('before');
  const r = await api(`/v1/blocks?limit=20${before ? `&before=${encodeURIComponent(before)}` : ''}`);
  const blocks = r.body.blocks;
  const last = blocks.length ? blocks[blocks.length - 1].height : 0;
  ctx.render(`<h1>${esc(t('nav_blocks'))}</h1>${blocksTable(blocks, 'blocks')}
    ${last > 1 ? `<p><a href="#/blocks?before=${last}">${esc(t('older'))} →</a></p>` : ''}`);
}

async function blockPage(ctx, id) {
  const r = await api(`/v1/blocks/${encodeURIComponent(id)}`);
  if (!r.ok) return notFound(ctx, r);
  const b = r.body;
  const txs = b.transactions.map((x) => `<li><a class="mono" href="#/tx/${x}">${esc(x)}</a></li>`).join('');
  ctx.render(`<h1>${esc(t('block'))} ${b.height}</h1>
    <dl class="kv" id="block-detail">
      <dt>${esc(t('height'))}</dt><dd id="block-height">${b.height}</dd>
      <dt>${esc(t('hash'))}</dt><dd class="mono">${esc(b.hash)}</dd>
      <dt>${esc(t('parent'))}</dt><dd class="mono">${b.height > 1 ? `<a href="#/block/${b.height - 1}">${esc(b.parent)}</a>` : esc(b.parent)}</dd>
      <dt>${esc(t('time'))}</dt><dd id="block-time">${timeHtml(msOf(b), true)}</dd>
      <dt>${esc(t('log_size'))}</dt><dd>${b.log_size}</dd>
      <dt>${esc(t('status'))}</dt><dd><span class="badge">${esc(t('committed'))}</span></dd>
    </dl>
    <h2 id="block-txs">${esc(tn('n_transactions', b.tx_count))}</h2><ul>${txs}</ul>`);
}

async function txPage(ctx, id) {
  const r = await api(`/v1/transactions/${encodeURIComponent(id)}`);
  if (!r.ok) return notFound(ctx, r);
  const x = r.body;
  const n = Math.min(x.leaf_count ?? 0, 200);
  const recs = Array.from({ length: n }, (_, i) => `<li><a class="mono" href="#/record/${x.id}-${i}">${esc(short(x.id))}-${i}</a></li>`).join('');
  ctx.render(`<h1>${esc(t('transaction'))}</h1>
    <dl class="kv"><dt>${esc(t('hash'))}</dt><dd class="mono">${esc(x.id)}</dd>
      <dt>${esc(t('status'))}</dt><dd>${esc(t(x.status))}${x.error ? ` — ${esc(x.error.detail)}` : ''}</dd>
      ${x.block_height ? `<dt>${esc(t('block'))}</dt><dd><a href="#/block/${x.block_height}">${x.block_height}</a></dd>` : ''}
    </dl>${n ? `<h2 id="tx-records">${esc(tn('n_records', x.leaf_count))}</h2><ul>${recs}</ul>` : ''}`);
}

/**
 * Heights, block hashes and transaction ids open their page; anything else goes to the modules'
 * searches (records, digests, references for evidence), whose results are shown together.
 */
async function searchPage(ctx, q) {
  q = q.trim();
  if (/^\d+$/.test(q)) return (location.hash = `#/block/${q}`);
  if (/^[0-9a-f]{64}$/.test(q)) {
    if ((await api(`/v1/transactions/${q}`)).ok) return (location.hash = `#/tx/${q}`);
    if ((await api(`/v1/blocks/${q}`)).ok) return (location.hash = `#/block/${q}`);
  }
  const found = [];
  for (const { module, search } of modules.search) {
    let r = null;
    try { r = await search(ctx, q); } catch (e) {
      if (e instanceof Stale) throw e;
      console.error(`console: module ${module}'s search failed`, e);
    }
    if (r && typeof r === 'object' && typeof r.go === 'string') return (location.hash = r.go);
    if (typeof r === 'string' && r) found.push(r);
  }
  ctx.render(`<h1>${esc(t('search'))}: ${esc(q)}</h1>${found.length ? found.join('') : `<p>${esc(t('not_found'))}</p>`}`);
}

// ---------- verify ----------

async function loadTrust() {
  try {
    const r = await api('/v1/trust');
    if (r.ok) { state.trust = r.body; localStorage.setItem('cairn.trust', JSON.stringify(r.body)); return; }
  } catch { /* offline */ }
  const cached = localStorage.getItem('cairn.trust');
  if (cached) state.trust = JSON.parse(cached);
}

/**
 * Bumped by every input change, Verify press and page change: a check still running under an
 * older number drops its verdict rather than show it over newer inputs (or on a later visit).
 */
let verifySeq = 0;
class Superseded extends Error {}

const resultBox = (run) => (run === verifySeq ? $('#verify-result') : null);
/** `busy` while checking: screen readers then wait for the verdict instead of reading each percent. */
function show(run, html, busy = false) {
  const out = resultBox(run);
  if (!out) return;
  out.innerHTML = html;
  out.setAttribute('aria-busy', String(busy));
}
function clearVerdict() {
  verifySeq++;
  const out = $('#verify-result');
  if (out) { out.innerHTML = ''; out.setAttribute('aria-busy', 'false'); }
}
/** Replaces any verdict at once with "Checking…", and the hashing percentage once known. */
function showChecking(run, fraction = null) {
  const pct = fraction === null ? '' : ` ${esc(t('hashing_file'))} <progress max="1" value="${fraction}"></progress> <span id="verify-percent">${Math.floor(fraction * 100)}%</span>`;
  show(run, `<p id="verify-checking" class="muted">${esc(t('checking'))}${pct}</p>`, true);
}

async function verifyPage(ctx, params) {
  ctx.render(`<h1>${esc(t('verify_title'))}</h1><p>${esc(t('verify_help'))}</p>
    <label for="receipt-file">${esc(t('receipt_file'))}</label><input type="file" id="receipt-file" accept=".json,.tlog-proof,text/plain,application/json">
    <label for="original-file">${esc(t('original_file'))}</label><input type="file" id="original-file">
    <label for="trust-file">${esc(t('trust_file'))}</label><input type="file" id="trust-file" accept=".json,application/json">
    <p><button type="button" id="verify-button">${esc(t('verify_button'))}</button></p>
    <div id="verify-result" role="status" aria-live="polite"></div>`);
  for (const id of ['#receipt-file', '#original-file', '#trust-file']) $(id).addEventListener('change', clearVerdict);
  let preloaded = null;
  $('#verify-button').addEventListener('click', () => {
    const rf = $('#receipt-file').files[0];
    if (!rf && !preloaded) { clearVerdict(); $('#verify-result').textContent = t('need_receipt'); return; }
    const run = ++verifySeq;
    showChecking(run);
    runVerify(run, rf ?? preloaded);
  });
  const record = params.get('record');
  if (record) {
    const run = ++verifySeq;
    showChecking(run);
    const r = await authFetch(`/v1/evidence/${encodeURIComponent(record)}/receipt`);
    if (!r.ok) return show(run, `<p>${esc(t('not_found'))}</p>`);
    preloaded = await r.text();
    await runVerify(run, preloaded);
  }
}

/** The `format` of a JSON file (state proof, leaf receipt, receipt), or null. */
const formatOf = (text) => {
  try { const f = JSON.parse(text)?.format; return typeof f === 'string' ? f : null; } catch { return null; }
};

/** The original file as the verifiers take it: hashed in chunks with progress, stopping once superseded. */
function fileSource(run, file) {
  return {
    size: file.size,
    digest: (alg) => {
      showChecking(run, 0);
      return hashFile(file, alg, (n) => {
        if (run !== verifySeq) throw new Superseded();
        showChecking(run, n / (file.size || 1));
      });
    },
  };
}

async function runVerify(run, source) {
  try {
    const text = typeof source === 'string' ? source : await source.text();
    const tf = $('#trust-file').files[0];
    const trust = parseTrust(tf ? JSON.parse(await tf.text()) : state.trust);
    const of = $('#original-file').files[0];
    const file = of ? fileSource(run, of) : null;
    const format = formatOf(text);
    const own = modules.verify.find((v) => v.receipt?.accepts(text, format));
    if (format === 'cairn-state-proof-v1') show(run, stateResultHtml(await verifyStateProof(text, trust, file, stateViews())));
    else if (format === LEAF_RECEIPT_FORMAT) show(run, leafResultHtml(await verifyLeafReceipt(text, trust, file)));
    else if (own) show(run, own.receipt.html(await own.receipt.verify(text, trust, file)));
    else show(run, verdictHtml({ valid: false, reason: t('unknown_receipt', { format: format ?? '—' }) }));
  } catch (e) {
    if (!(e instanceof Superseded)) show(run, `<div class="verdict invalid" id="verdict">${esc(t('invalid'))}</div><p id="verify-reason">${esc(e.message)}</p>`);
  }
}

/** The state views of the modules whose pages read them (state-proof.js's `views`). */
const stateViews = () => Object.fromEntries(modules.verify.filter((v) => v.state).map((v) => [v.module, v.state]));

/** What a valid state proof says, in words: the module's own (evidence: whether and where the content was deposited), else the key and its value. */
function stateSummaryHtml(res) {
  const own = modules.verify.find((v) => v.module === res.module)?.state?.summaryHtml?.(res);
  if (own) return own;
  const block = (h) => `<a href="#/block/${h}">${h}</a>`;
  const parts = { height: block(res.height), module: esc(res.module), key: idHtml(res.key), value: res.value === null ? '' : idHtml(res.value) };
  return fillHtml(res.value === null ? 'state_no_value' : 'state_has_value', parts);
}

function stateResultHtml(res) {
  const s = res.steps;
  const content = res.view && modules.verify.find((v) => v.module === res.module)?.state?.content?.(res.view);
  const digest = content ? `<p id="state-digest"><span class="muted">${esc(t('digest'))}:</span> <span class="mono">${esc(content.digest_alg)} ${esc(content.digest)}</span></p>` : '';
  const headerDetail = res.height !== null && `${esc(t('block'))} ${res.height} · ${timeHtml(res.time_ms, true)}`;
  return `<h2>${esc(t('verify_state_title'))}</h2>${verdictHtml(res)}
      ${res.valid ? `<p id="state-summary">${stateSummaryHtml(res)}</p>${digest}` : ''}
      <ol class="steps">${s.file.ok === null ? '' : stepHtml('step_file', s.file)}${stepHtml('step_header', s.header, headerDetail)}${stepHtml('step_inclusion', s.inclusion)}${stepHtml('step_checkpoint', s.checkpoint)}${stepHtml('step_signatures', s.signatures)}${stepHtml('step_state', s.state)}${stepHtml('step_view', s.view)}</ol>`;
}

/**
 * A payload that is UTF-8, as a JSON string: quoted, with control characters, quotes and
 * backslashes escaped, so that bytes a page would not show (NUL, length prefixes) are visible.
 */
const payloadTextHtml = (s) => esc(JSON.stringify(s));

/** What a valid leaf receipt proves: module, kind and payload of a leaf in the signed log. */
function leafResultHtml(res) {
  const s = res.steps;
  const leafDetail = res.module !== null && `${esc(t('leaf_module'))} <span class="mono">${esc(res.module)}</span> · ${esc(t('leaf_kind'))} ${res.kind} · ${esc(tn('n_bytes', res.payload.length))}`;
  let summary = '';
  if (res.valid) {
    const payload = res.payload_text !== null
      ? `<dt>${esc(t('leaf_payload_text'))}</dt><dd><pre id="leaf-payload" data-encoding="text">${payloadTextHtml(res.payload_text)}</pre></dd>`
      : `<dt>${esc(t('leaf_payload_hex'))}</dt><dd><pre id="leaf-payload" data-encoding="hex">${esc(res.payload_hex)}</pre></dd>`;
    const block = res.module === 'cairn' && res.kind === 1 ? `<p id="leaf-block" class="muted">${esc(t('leaf_block'))}</p>` : '';
    summary = `<p id="leaf-summary">${esc(t('leaf_summary', { module: res.module, kind: res.kind, index: res.leaf_index, size: res.tree_size }))}</p>${block}
      <dl class="kv" id="leaf-detail">
        <dt>${esc(t('leaf_module'))}</dt><dd id="leaf-module" class="mono">${esc(res.module)}</dd>
        <dt>${esc(t('leaf_kind'))}</dt><dd id="leaf-kind">${res.kind}</dd>
        <dt>${esc(t('leaf_payload_size'))}</dt><dd id="leaf-payload-size">${esc(tn('n_bytes', res.payload.length))}</dd>
        ${payload}
        <dt>${esc(t('leaf_index'))}</dt><dd id="leaf-index">${res.leaf_index}</dd>
        <dt>${esc(t('log_size'))}</dt><dd id="leaf-tree-size">${res.tree_size}</dd>
        <dt>${esc(t('step_signatures'))}</dt><dd id="leaf-signers">${esc(res.signers.map((x) => `${x.organisation} (${x.name})`).join(', '))}</dd>
      </dl>`;
  }
  return `<h2>${esc(t('verify_leaf_title'))}</h2>${verdictHtml(res)}${summary}
      <ol class="steps">${s.file.ok === null ? '' : stepHtml('step_file', s.file)}${stepHtml('step_leaf', s.leaf, leafDetail)}${stepHtml('step_inclusion', s.inclusion)}${stepHtml('step_checkpoint', s.checkpoint)}${stepHtml('step_signatures', s.signatures)}</ol>`;
}

// ---------- router ----------

async function route() {
  verifySeq++; // a check still running on the page left behind must not show up later
  chrome();
  const ctx = newContext();
  const [path, query] = (location.hash || '#/').split('?');
  const params = new URLSearchParams(query || '');
  const parts = path.replace(/^#\/?/, '').split('/');
  try {
    switch (parts[0]) {
      case '': return await overview(ctx);
      case 'blocks': return await blocksPage(ctx, params);
      case 'block': return await blockPage(ctx, parts[1]);
      case 'tx': return await txPage(ctx, parts[1]);
      case 'search': return await searchPage(ctx, decodeURIComponent(parts.slice(1).join('/')));
      case 'verify': return await verifyPage(ctx, params);
      default: {
        const page = modules.pages.get(parts[0]);
        if (!page) return notFound(ctx, { status: 404 });
        return await page.render(ctx, parts.slice(1).map(decodeURIComponent), params);
      }
    }
  } catch (e) {
    if (e instanceof Stale) return;
    try { ctx.render(`<h1>${esc(t('not_found'))}</h1><p>${esc(e.message)}</p>`); } catch { /* stale */ }
  }
}

$('#search-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const q = $('#search').value.trim();
  if (q) location.hash = `#/search/${encodeURIComponent(q)}`;
});
$('#lang').addEventListener('click', () => { setLang(getLang() === 'zh' ? 'en' : 'zh'); if (signingIn) signIn(); else if (ready) route(); });
window.addEventListener('hashchange', () => { if (ready && !signingIn) route(); });

// ---------- access: a node that serves members only ----------

let signingIn = false;
let started = false;

/** The sign-in page: a member key file or an access token, checked against GET /v1/status. */
function signIn(message = '') {
  signingIn = true;
  chrome();
  newContext().render(`<h1>${esc(t('signin_title'))}</h1><p>${esc(t('signin_help'))}</p>
    <p><label for="signin-key">${esc(t('signin_key'))}</label><br><input type="file" id="signin-key" accept=".key,.json,application/json"></p>
    <p><label for="signin-token">${esc(t('signin_token'))}</label><br><input type="password" id="signin-token" autocomplete="off" size="60"></p>
    <p><button type="button" id="signin-button">${esc(t('signin_button'))}</button></p>
    <p id="signin-status" role="status">${esc(message)}</p>`);
  $('#signin-button').addEventListener('click', async () => {
    const out = $('#signin-status');
    try {
      const file = $('#signin-key').files[0];
      const token = $('#signin-token').value.trim();
      if (file) setCredential({ key: await readKeyFile(await file.text()) });
      else if (token) setCredential({ token });
      else { out.textContent = t('signin_need'); return; }
      const r = await api('/v1/status');
      if (!r.ok) { setCredential(null); out.textContent = `${t('signin_refused')}: ${r.body?.detail ?? r.status}`; return; }
      signingIn = false;
      start();
    } catch (e) {
      setCredential(null);
      out.textContent = e.message;
    }
  });
}

/** Loads the modules' pages and the trust file, opens the live feed, shows the page (once). */
async function start() {
  if (started) { route(); return; }
  started = true;
  // The first page waits for the modules' pages (its route may be one of theirs) and the trust file.
  await Promise.all([loadTrust(), loadModules()]);
  ready = true;
  startEvents();
  route();
}

$('#signout').addEventListener('click', () => { setCredential(null); signIn(); });
// A refused call (a token that expired, a key removed) brings the sign-in page back.
globalThis.addEventListener('cairn-unauthorized', () => { if (state.access === 'members' && !signingIn) signIn(); });
try {
  const r = await fetch('/v1/access');
  if (r.ok) state.access = (await r.json()).mode;
} catch { /* an older node: open */ }
if (state.access === 'members' && !hasCredential()) signIn();
else start();
