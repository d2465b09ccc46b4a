// The Cairn web console: overview, blocks, transactions, records, deposit and verification.
// A single page with hash routes (#/block/7, #/record/<id>, #/verify?record=<id>, …), served by
// the node from the binary. No framework, no network calls beyond the node itself.

import { t, tn, getLang, setLang, formatTime, formatSize } from './i18n.js';
import { verifyReceipt, parseTrust } from './verify.js';
import { verifyStateProof } from './state-proof.js';
import { SUITES, signDeposit, publicKeyOf, toHex, fromHex } from './encoding.js';
import { Sha256, Sm3 } from './sm.js';

const $ = (sel) => document.querySelector(sel);
const main = () => $('#main');
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const short = (h) => (h && h.length > 20 ? `${h.slice(0, 10)}…${h.slice(-8)}` : h);

/** A time in the viewer's own zone; the exact UTC instant is in the title (hover) and datetime. */
function timeHtml(ms, long = false) {
  const iso = new Date(ms).toISOString();
  return `<time datetime="${iso}" title="${iso}">${esc(formatTime(ms, long))}</time>`;
}
const msOf = (x) => x.time_ms ?? Date.parse(x.time);

/** A size in B/KB/MB/GB; the exact byte count is in the title. */
const sizeHtml = (n) => `<span class="size" title="${esc(tn('n_bytes', n))}">${esc(formatSize(n))}</span>`;

/** A hash shortened in the middle for tables and lists; the full value is in the title. */
const idHtml = (h) => `<span class="mono" title="${esc(h)}">${esc(short(h))}</span>`;

const state = { status: null, genesis: null, trust: null, chart: [], key: null };

async function api(path, opts) {
  const r = await fetch(path, opts);
  const type = r.headers.get('content-type') || '';
  const body = type.includes('json') ? await r.json() : await r.text();
  return { ok: r.ok, status: r.status, body };
}

// ---------- chrome ----------

const ROUTES = [['#/', 'nav_overview'], ['#/blocks', 'nav_blocks'], ['#/deposit', 'nav_deposit'], ['#/verify', 'nav_verify']];

function chrome() {
  document.documentElement.lang = getLang() === 'zh' ? 'zh-CN' : 'en';
  document.title = t('title');
  $('#skip-link').textContent = t('skip');
  $('#search-label').textContent = t('search_label');
  $('#search').setAttribute('aria-label', t('search_label'));
  $('#search').placeholder = t('search_label');
  $('#search-button').textContent = t('search');
  $('#lang').textContent = t('language');
  const here = location.hash.split('?')[0] || '#/';
  $('#nav').innerHTML = ROUTES.map(([href, key]) => {
    const current = here === href || (href !== '#/' && here.startsWith(href));
    return `<a href="${href}" ${current ? 'aria-current="page"' : ''}>${esc(t(key))}</a>`;
  }).join(' ');
}

function setPage(html) {
  main().innerHTML = html;
}

/** Thrown when a page finishes loading after the user already went elsewhere. */
class Stale extends Error {}
let routeSeq = 0;
function newContext() {
  const mine = ++routeSeq;
  return { render(html) { if (mine !== routeSeq) throw new Stale(); setPage(html); } };
}

// ---------- overview ----------

function card(key, value, id) {
  return cardHtml(key, esc(value), id);
}

/**
 * `cls` "id" wraps a long identifier only where it must (after a hyphen first, never the
 * whole-word breaking of break-all); "hash" keeps one line and ends in an ellipsis, the full
 * value still selectable and in the title.
 */
function cardHtml(key, html, id, cls = '', title = '') {
  return `<div class="card"><div class="k">${esc(t(key))}</div><div class="v ${cls}" ${id ? `id="${id}"` : ''} ${title ? `title="${esc(title)}"` : ''}>${html}</div></div>`;
}

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

/** Tables scroll inside their own box, so a phone never scrolls the whole page sideways. */
const scrollBox = (html) => `<div class="table-box">${html}</div>`;

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
  const es = new EventSource('/v1/events');
  es.addEventListener('block', (e) => onBlock(JSON.parse(e.data)));
  es.onerror = () => { const l = $('#live'); if (l) l.textContent = t('reconnecting'); };
  es.onopen = () => { const l = $('#live'); if (l) l.textContent = t('live'); };
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

async function recordPage(ctx, id) {
  const r = await api(`/v1/evidence/${encodeURIComponent(id)}`);
  if (!r.ok) return notFound(ctx, r);
  const rec = r.body.record;
  const status = (await api('/v1/status')).body;
  const same = await api(`/v1/evidence?digest=${rec.digest}&limit=100`);
  const meta = Object.entries(rec.metadata).map(([k, v]) => `${esc(k)}: ${esc(v)}`).join('<br>') || '—';
  const covered = r.body.leaf_index < (status.checkpoint_size ?? 0);
  const others = same.body.records.map((x) => `<li><a href="#/record/${x.record.id}">${timeHtml(msOf(x.record))}</a> — ${esc(x.record.organisation)} — ${esc(x.record.title)}${x.record.id === rec.id ? ' ◀' : ''}</li>`).join('');
  const base = encodeURIComponent(rec.title || 'record');
  ctx.render(`<h1>${esc(t('record'))}</h1>
    <dl class="kv" id="record-detail">
      <dt>ID</dt><dd class="mono">${esc(rec.id)}</dd>
      <dt>${esc(t('record_title'))}</dt><dd>${esc(rec.title)}</dd>
      <dt>${esc(t('digest'))}</dt><dd class="mono">${esc(rec.digest_alg)} ${esc(rec.digest)}</dd>
      <dt>${esc(t('size'))}</dt><dd id="record-size">${sizeHtml(rec.size)}</dd>
      <dt>${esc(t('media_type'))}</dt><dd>${esc(rec.media_type)}</dd>
      <dt>${esc(t('reference'))}</dt><dd>${rec.reference ? `<a href="#/search/${encodeURIComponent(rec.reference)}">${esc(rec.reference)}</a>` : '—'}</dd>
      <dt>${esc(t('organisation'))}</dt><dd>${esc(rec.organisation)}</dd>
      <dt>${esc(t('submitter'))}</dt><dd>${idHtml(rec.submitter)}</dd>
      <dt>${esc(t('deposited'))}</dt><dd id="record-time">${timeHtml(msOf(rec), true)}</dd>
      <dt>${esc(t('block'))}</dt><dd><a href="#/block/${rec.block_height}" id="record-block">${rec.block_height}</a></dd>
      <dt>${esc(t('transaction'))}</dt><dd><a href="#/tx/${rec.tx_id}">${idHtml(rec.tx_id)}</a></dd>
      <dt>${esc(t('leaf'))}</dt><dd>${r.body.leaf_index}</dd>
      <dt>${esc(t('metadata'))}</dt><dd>${meta}</dd>
      <dt>${esc(t('receipt_status'))}</dt><dd>${covered ? `<span class="badge">✓</span> ${esc(t('in_checkpoint'))} ${status.checkpoint_size}` : esc(t('pending'))}</dd>
    </dl>
    <p><a href="/v1/evidence/${rec.id}/receipt" download="${base}.receipt.json">${esc(t('download_json'))}</a> ·
       <a href="/v1/evidence/${rec.id}/receipt?format=tlog-proof" download="${base}.tlog-proof">${esc(t('download_tlog'))}</a> ·
       <a href="#/verify?record=${rec.id}">${esc(t('verify_this'))}</a></p>
    <h2 id="same-digest">${esc(t('same_digest'))} (${esc(tn('n_deposits', same.body.records.length))})</h2><ol>${others}</ol>`);
}

async function searchPage(ctx, q) {
  q = q.trim();
  if (/^\d+$/.test(q)) return (location.hash = `#/block/${q}`);
  if (/^[0-9a-f]{64}-\d+$/.test(q)) return (location.hash = `#/record/${q}`);
  if (/^[0-9a-f]{64}$/.test(q)) {
    if ((await api(`/v1/transactions/${q}`)).ok) return (location.hash = `#/tx/${q}`);
    if ((await api(`/v1/blocks/${q}`)).ok) return (location.hash = `#/block/${q}`);
  }
  const r = /^[0-9a-f]{64}$/.test(q) ? await api(`/v1/evidence?digest=${q}`) : await api(`/v1/evidence?reference=${encodeURIComponent(q)}`);
  const list = r.ok ? r.body.records : [];
  ctx.render(`<h1>${esc(t('search'))}: ${esc(q)}</h1>${list.length ? `<p id="search-count">${esc(tn('n_found', list.length))}</p>${scrollBox(`<table id="search-results"><thead><tr><th>${esc(t('time'))}</th><th>${esc(t('record_title'))}</th><th>${esc(t('organisation'))}</th><th>${esc(t('block'))}</th></tr></thead><tbody>${list
    .map((x) => `<tr><td><a href="#/record/${x.record.id}">${timeHtml(msOf(x.record))}</a></td><td>${esc(x.record.title)}</td><td>${esc(x.record.organisation)}</td><td><a href="#/block/${x.record.block_height}">${x.record.block_height}</a></td></tr>`)
    .join('')}</tbody></table>`)}` : `<p>${esc(t('not_found'))}</p>`}`);
}

function notFound(ctx, r) {
  ctx.render(`<h1>${esc(t('not_found'))}</h1><p>${esc(r.body?.detail ?? r.status)}</p>`);
}

// ---------- deposit ----------

async function depositPage(ctx) {
  if (!state.status) state.status = (await api('/v1/status')).body;
  ctx.render(`<h1>${esc(t('deposit_title'))}</h1><p>${esc(t('deposit_help'))}</p>
    <label for="key-file">${esc(t('key_file'))}</label><input type="file" id="key-file" accept=".key,.json,application/json">
    <p id="key-status" class="muted" role="status">${state.key ? esc(t('key_loaded')) : ''}</p>
    <label for="deposit-files">${esc(t('files'))}</label>
    <div class="drop" id="drop"><input type="file" id="deposit-files" multiple></div>
    <label for="deposit-title">${esc(t('title_field'))}</label><input type="text" id="deposit-title" maxlength="512">
    <label for="deposit-reference">${esc(t('reference_field'))}</label><input type="text" id="deposit-reference" maxlength="256">
    <p><button type="button" id="deposit-button">${esc(t('deposit_button'))}</button></p>
    <p id="deposit-stage" role="status"></p><progress id="deposit-progress" value="0" max="1" hidden></progress>
    <div id="deposit-results"></div>`);
  $('#key-file').addEventListener('change', loadKey);
  const drop = $('#drop');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); $('#deposit-files').files = e.dataTransfer.files; });
  $('#deposit-button').addEventListener('click', () => deposit().catch((e) => { $('#deposit-stage').textContent = e.message; }));
}

async function loadKey() {
  const f = $('#key-file').files[0];
  const out = $('#key-status');
  try {
    const k = JSON.parse(await f.text());
    if (k.format !== 'cairn-key-v1') throw new Error('not a Cairn key file');
    if (k.suite !== state.status.suite) throw new Error(t('key_wrong_suite'));
    const secret = fromHex(k.secret_key);
    const pub = toHex(await publicKeyOf(k.suite, secret));
    if (pub !== k.public_key) throw new Error('public_key does not belong to secret_key');
    state.key = { suite: k.suite, secret, pub };
    out.textContent = `${t('key_loaded')}: ${short(pub)}`;
  } catch (e) {
    state.key = null;
    out.textContent = e.message;
  }
}

async function hashFile(file, alg, onProgress) {
  const h = alg === 'sm3' ? new Sm3() : new Sha256();
  const CHUNK = 1 << 20; // 1 MiB: frequent progress, and the page stays responsive
  for (let off = 0; off < file.size; off += CHUNK) {
    h.update(new Uint8Array(await file.slice(off, off + CHUNK).arrayBuffer()));
    onProgress(Math.min(off + CHUNK, file.size));
  }
  return toHex(h.digest());
}

async function deposit() {
  const stage = $('#deposit-stage'), bar = $('#deposit-progress'), results = $('#deposit-results');
  const files = [...$('#deposit-files').files];
  if (!state.key) return (stage.textContent = t('need_key'));
  if (!files.length) return (stage.textContent = t('need_files'));
  const suite = state.status.suite, alg = SUITES[suite].digestAlg;
  const total = files.reduce((n, f) => n + f.size, 0) || 1;
  let done = 0;
  bar.hidden = false; bar.max = total; bar.value = 0;
  stage.textContent = `${t('hashing')}: ${tn('n_files', files.length)}, ${formatSize(total)}`;
  const title = $('#deposit-title').value.trim(), reference = $('#deposit-reference').value.trim();
  const records = [];
  for (const f of files) {
    const before = done;
    const digest = await hashFile(f, alg, (n) => { bar.value = before + n; });
    done += f.size;
    records.push({ digest_alg: alg, digest, size: f.size, media_type: f.type || 'application/octet-stream', title: title || f.name, reference: reference || null, metadata: {} });
  }
  stage.textContent = t('signing');
  bar.max = records.length; bar.value = 0;
  for (let i = 0; i < records.length; i += 1000) {
    const chunk = records.slice(i, i + 1000);
    const tx = await signDeposit({ suite, secret: state.key.secret, chainId: state.status.chain_id, records: chunk });
    const framed = new Uint8Array(4 + tx.bytes.length);
    new DataView(framed.buffer).setUint32(0, tx.bytes.length);
    framed.set(tx.bytes, 4);
    stage.textContent = t('waiting_commit');
    const r = await api('/v1/transactions?wait=true', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: framed });
    if (!r.ok) throw new Error(r.body.detail ?? `HTTP ${r.status}`);
    const res = r.body.results[0];
    if (res.status !== 'committed') throw new Error(res.error?.detail ?? res.status);
    for (const [k, id] of res.record_ids.entries()) results.insertAdjacentHTML('beforeend', await receiptCard(id, files[i + k].name, res.block_height));
    bar.value = i + chunk.length;
  }
  stage.textContent = `${t('deposit_done')}: ${tn('n_records', records.length)} ✓`;
}

async function receiptCard(id, name, height) {
  const [json, tlog] = await Promise.all([api(`/v1/evidence/${id}/receipt`), api(`/v1/evidence/${id}/receipt?format=tlog-proof`)]);
  const jsonUrl = URL.createObjectURL(new Blob([JSON.stringify(json.body, null, 2)], { type: 'application/json' }));
  const tlogUrl = URL.createObjectURL(new Blob([tlog.body], { type: 'text/plain' }));
  const verifyUrl = `${location.origin}/#/verify?record=${id}`;
  return `<div class="receipt-card" data-record-id="${esc(id)}">
    <img src="/v1/qr?text=${encodeURIComponent(verifyUrl)}" alt="${esc(t('qr_label'))}">
    <div><strong>${esc(name)}</strong> — <span class="badge">${esc(t('committed'))}</span> ${esc(t('block'))} <a href="#/block/${height}">${height}</a><br>
    <a class="mono" href="#/record/${id}">${esc(short(id))}</a><br>
    <a href="${jsonUrl}" download="${esc(name)}.receipt.json">${esc(t('download_json'))}</a> ·
    <a href="${tlogUrl}" download="${esc(name)}.tlog-proof">${esc(t('download_tlog'))}</a> ·
    <a href="#/verify?record=${id}">${esc(t('verify_this'))}</a></div></div>`;
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
    const r = await fetch(`/v1/evidence/${encodeURIComponent(record)}/receipt`);
    if (!r.ok) return show(run, `<p>${esc(t('not_found'))}</p>`);
    preloaded = await r.text();
    await runVerify(run, preloaded);
  }
}

const isStateProof = (text) => {
  try { return JSON.parse(text)?.format === 'cairn-state-proof-v1'; } catch { return false; }
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
    if (isStateProof(text)) show(run, stateResultHtml(await verifyStateProof(text, trust, file)));
    else show(run, receiptResultHtml(await verifyReceipt(text, trust, file)));
  } catch (e) {
    if (!(e instanceof Superseded)) show(run, `<div class="verdict invalid" id="verdict">${esc(t('invalid'))}</div><p id="verify-reason">${esc(e.message)}</p>`);
  }
}

/** Fills `{name}` in an escaped text with ready HTML (links, times). */
const fillHtml = (key, parts) => esc(t(key)).replace(/\{(\w+)\}/g, (m, k) => parts[k] ?? m);

function stepHtml(key, s, detailHtml = null) {
  const mark = s.ok === true ? ['ok', '✓'] : s.ok === false ? ['bad', '✗'] : ['skip-step', '–'];
  return `<li><span class="${mark[0]}">${mark[1]}</span> <strong>${esc(t(key))}</strong>: ${s.ok === true && detailHtml ? detailHtml : esc(s.detail || t('not_checked'))}</li>`;
}

function verdictHtml(res) {
  return `<div class="verdict ${res.valid ? 'valid' : 'invalid'}" id="verdict">${esc(res.valid ? t('valid') : t('invalid'))}</div>
      ${res.valid ? '' : `<p id="verify-reason">${esc(res.reason)}</p>`}`;
}

function receiptResultHtml(res) {
  const r = res.record;
  // The record's time in the viewer's zone (verify.js writes UTC, as `cairn verify` does).
  const recordDetail = r && `${esc(r.title)} · ${esc(r.organisation)} · ${timeHtml(r.time_ms, true)} · ${esc(t('block'))} ${r.block_height}`;
  return `${verdictHtml(res)}
      <ol class="steps">${stepHtml('step_file', res.steps.file)}${stepHtml('step_record', res.steps.record, recordDetail)}${stepHtml('step_inclusion', res.steps.inclusion)}${stepHtml('step_checkpoint', res.steps.checkpoint)}${stepHtml('step_signatures', res.steps.signatures)}</ol>
      ${r ? `<p><a href="#/record/${esc(r.id)}">${esc(r.title)}</a></p>` : ''}`;
}

/** What a valid state proof says, in words: for evidence, whether and where the content was deposited. */
function stateSummaryHtml(res) {
  const v = res.view;
  const block = (h) => `<a href="#/block/${h}">${h}</a>`;
  if (res.module === 'evidence' && v.deposited) {
    return fillHtml('evidence_first', {
      record: `<a href="#/record/${esc(v.first_record)}">${idHtml(v.first_record)}</a>`, first: block(v.first_height),
      time: timeHtml(v.first_time_ms), deposits: esc(tn('n_deposits', v.deposits)), height: block(res.height), last: block(v.last_height),
    });
  }
  if (res.module === 'evidence') return fillHtml('evidence_none', { height: block(res.height) });
  const parts = { height: block(res.height), module: esc(res.module), key: idHtml(res.key), value: res.value === null ? '' : idHtml(res.value) };
  return fillHtml(res.value === null ? 'state_no_value' : 'state_has_value', parts);
}

function stateResultHtml(res) {
  const s = res.steps;
  const digest = res.view?.digest ? `<p id="state-digest"><span class="muted">${esc(t('digest'))}:</span> <span class="mono">${esc(res.view.digest_alg)} ${esc(res.view.digest)}</span></p>` : '';
  const headerDetail = res.height !== null && `${esc(t('block'))} ${res.height} · ${timeHtml(res.time_ms, true)}`;
  return `<h2>${esc(t('verify_state_title'))}</h2>${verdictHtml(res)}
      ${res.valid ? `<p id="state-summary">${stateSummaryHtml(res)}</p>${digest}` : ''}
      <ol class="steps">${s.file.ok === null ? '' : stepHtml('step_file', s.file)}${stepHtml('step_header', s.header, headerDetail)}${stepHtml('step_inclusion', s.inclusion)}${stepHtml('step_checkpoint', s.checkpoint)}${stepHtml('step_signatures', s.signatures)}${stepHtml('step_state', s.state)}${stepHtml('step_view', s.view)}</ol>`;
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
      case 'record': return await recordPage(ctx, decodeURIComponent(parts[1]));
      case 'search': return await searchPage(ctx, decodeURIComponent(parts.slice(1).join('/')));
      case 'deposit': return await depositPage(ctx);
      case 'verify': return await verifyPage(ctx, params);
      default: return notFound(ctx, { status: 404 });
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
$('#lang').addEventListener('click', () => { setLang(getLang() === 'zh' ? 'en' : 'zh'); route(); });
window.addEventListener('hashchange', route);
await loadTrust();
startEvents();
route();
