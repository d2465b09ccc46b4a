// What the console shell (app.js) and the ledger modules' pages share: escaping, times, sizes,
// ids, the API call, cards, tables, the page context and the interface text. Served at
// /console/kit.js; a module page imports it by that absolute path (and, where it needs them,
// '/console/encoding.js', '/console/sm.js', '/console/i18n.js'), so it shares one instance of
// each with the shell.
//
// A module page. The node lists its modules at GET /v1/modules as
//   {"modules": [{"name": "evidence", "console": "/console/modules/evidence/page.js"}, …]}
// (registration order; "console" null for a module without a page). At start-up the shell
// import()s each page, an ES module whose default export is:
//
//   export default {
//     // Interface text, merged into the shell's table: both languages, the same keys. A key the
//     // shell or an earlier module already has is refused with a console warning (theirs stays),
//     // so prefix keys with the module's name where in doubt. Values as in i18n.js: a string
//     // with {name} placeholders, or plural forms { one, other } for tn().
//     strings: { en: { nav_deposit: 'Deposit', … }, zh: { nav_deposit: '存证', … } },
//     // Links added to the main navigation, between the shell's Blocks and Verify; `key` names
//     // the link's text in `strings`.
//     nav: [{ hash: '#/deposit', key: 'nav_deposit' }],
//     // Pages, keyed by the first segment of the hash path: '#/record/<id>?x=1' calls
//     // pages.record(ctx, ['<id>'], URLSearchParams('x=1')), the remaining segments URI-decoded.
//     // The shell's own segments ('', blocks, block, tx, search, verify) and a segment an earlier
//     // module claimed are refused with a console warning. A page renders with ctx.render(html);
//     // what it throws is shown as "Nothing found" with the error's message.
//     pages: { deposit: async (ctx, parts, params) => { … }, record: async (ctx, [id]) => { … } },
//     // Optional: the module's part of the header search. Given the trimmed query (one the shell
//     // did not already take as a block height, block hash or transaction id), it returns null
//     // (nothing found), an HTML section of results, or { go: '#/…' } to open a page at once.
//     // Sections of several modules are shown in registration order.
//     search: async (ctx, q) => null | '<p>…</p>' | { go: '#/record/…' },
//     // Optional: what the shell's Verify page (#/verify) needs to check this module's proofs.
//     verify: {
//       // Receipts in the module's own formats. accepts(text, format) says whether a receipt
//       // file is one (format: its JSON `format`, or null); verify(text, trust, file) checks it
//       // offline (trust: a parsed trust file; file: the original file as a source object
//       // {size, digest(alg)} or null) and never throws; html(res) words the result, built
//       // with verdictHtml and stepHtml below.
//       receipt: { accepts, verify, html },
//       // The readable view of the module's state values, for state proofs (state-proof.js's
//       // `views`: view(key, value), detail(view), content(view)), and summaryHtml(res): the
//       // words for a valid proof, or null for the shell's.
//       state: { view, detail, content, summaryHtml },
//       // For '#/verify?…' links: the URL of a receipt to fetch and check at once, or null.
//       preload: (params) => null | '/v1/…',
//     },
//   };
//
// Every key is optional. A page that fails to load or has the wrong shape is logged and left
// out; the rest of the console works on.
//
// The page context (`ctx`), new at each route change:
//   ctx.render(html)  puts html in <main>; throws Stale once the user has gone to another page
//                     (the shell drops it), so a slow page never draws over a newer one.
//   ctx.current()     whether this is still the page shown (for work done after rendering).

import { t, tn, getLang, locale, formatTime, formatSize, formatNumber } from './i18n.js';
import { toHex, fromHex, toBase64, publicKeyOf, signRaw } from './encoding.js';
import { Sha256, Sm3 } from './sm.js';

export { t, tn, getLang, locale, formatTime, formatSize, formatNumber };

export const $ = (sel) => document.querySelector(sel);
export const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
export const short = (h) => (h && h.length > 20 ? `${h.slice(0, 10)}…${h.slice(-8)}` : h);

/** A time in the viewer's own zone; the exact UTC instant is in the title (hover) and datetime. */
export function timeHtml(ms, long = false) {
  const iso = new Date(ms).toISOString();
  return `<time datetime="${iso}" title="${iso}">${esc(formatTime(ms, long))}</time>`;
}
/** The time of a block or record in milliseconds, from `time_ms` or the ISO `time`. */
export const msOf = (x) => x.time_ms ?? Date.parse(x.time);

/** A size in B/KB/MB/GB; the exact byte count is in the title. */
export const sizeHtml = (n) => `<span class="size" title="${esc(tn('n_bytes', n))}">${esc(formatSize(n))}</span>`;

/** A hash shortened in the middle for tables and lists; the full value is in the title. */
export const idHtml = (h) => `<span class="mono" title="${esc(h)}">${esc(short(h))}</span>`;

/** Fills `{name}` in an escaped text with ready HTML (links, times). */
export const fillHtml = (key, parts) => esc(t(key)).replace(/\{(\w+)\}/g, (m, k) => parts[k] ?? m);

// ---------- access (a node that serves members only) ----------

/**
 * The reader's credential, sent with every call to the node: a member key (each request is
 * signed, RFC 9421: label `cairn`, ("@method" "@path" "@query")) or an access token
 * (`Authorization: Bearer`). The token is kept for this tab's session; a key only in memory
 * (a reload asks for it again).
 */
let credential = null;
const TOKEN_KEY = 'cairn.token';
try { const tok = sessionStorage.getItem(TOKEN_KEY); if (tok) credential = { token: tok }; } catch { /* no storage */ }

/** Sets (or, with null, forgets) the credential: { token } or { key: { suite, secret, pub } }. */
export function setCredential(c) {
  credential = c;
  try { if (c?.token) sessionStorage.setItem(TOKEN_KEY, c.token); else sessionStorage.removeItem(TOKEN_KEY); } catch { /* no storage */ }
}
export const hasCredential = () => credential !== null;

/** Reads a `cairn-key-v1` key file's text: { suite, secret, pub }, or throws why not. */
export async function readKeyFile(text) {
  const k = JSON.parse(text);
  if (k.format !== 'cairn-key-v1') throw new Error('not a Cairn key file');
  const secret = fromHex(k.secret_key);
  const pub = toHex(await publicKeyOf(k.suite, secret));
  if (pub !== k.public_key) throw new Error('public_key does not belong to secret_key');
  return { suite: k.suite, secret, pub };
}

const ALG = { 'ed25519-sha256': 'ed25519', 'sm2-sm3': 'sm2-sm3' };

/** The headers that carry the credential for `method` on `path` (with its query). */
async function authHeaders(method, path) {
  if (!credential) return {};
  if (credential.token) return { authorization: `Bearer ${credential.token}` };
  const url = new URL(path, location.href);
  const { suite, secret, pub } = credential.key;
  const params = `("@method" "@path" "@query");created=${Math.floor(Date.now() / 1000)};keyid="${pub}";alg="${ALG[suite]}"`;
  const base = `"@method": ${method}\n"@path": ${url.pathname}\n"@query": ${url.search || '?'}\n"@signature-params": ${params}`;
  const signature = await signRaw(suite, secret, new TextEncoder().encode(base));
  return { 'signature-input': `cairn=${params}`, signature: `cairn=:${toBase64(signature)}:` };
}

/** `fetch` with the reader's credential; a `401` tells the shell (event `cairn-unauthorized`). */
export async function authFetch(path, opts = {}) {
  const method = (opts.method || 'GET').toUpperCase();
  const headers = { ...(opts.headers || {}), ...(await authHeaders(method, path)) };
  const r = await fetch(path, { ...opts, headers });
  if (r.status === 401) globalThis.dispatchEvent(new CustomEvent('cairn-unauthorized', { detail: r.clone() }));
  return r;
}

/**
 * The node's live feed (`GET /v1/events`, server-sent events) read with `fetch`, so it carries
 * the credential as every other call does (an EventSource cannot). Calls `on(event, data)` per
 * event and `onState(true|false)` as it connects and drops; reconnects after a drop.
 */
export function openEvents(on, onState) {
  const run = async () => {
    try {
      const r = await authFetch('/v1/events', { headers: { accept: 'text/event-stream' } });
      if (!r.ok || !r.body) throw new Error(`HTTP ${r.status}`);
      onState(true);
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let end;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, end);
          buf = buf.slice(end + 2);
          let event = 'message';
          const data = [];
          for (const line of frame.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          }
          if (data.length) on(event, data.join('\n'));
        }
      }
    } catch { /* dropped: reconnect below */ }
    onState(false);
    setTimeout(run, 2000);
  };
  run();
}

/** A call to the node's API: { ok, status, body } with body parsed when JSON, else text. */
export async function api(path, opts) {
  const r = await authFetch(path, opts);
  const type = r.headers.get('content-type') || '';
  const body = type.includes('json') ? await r.json() : await r.text();
  return { ok: r.ok, status: r.status, body };
}

/** A card with a label (a text key) and a plain-text value. */
export function card(key, value, id) {
  return cardHtml(key, esc(value), id);
}

/**
 * `cls` "id" wraps a long identifier only where it must (after a hyphen first, never the
 * whole-word breaking of break-all); "hash" keeps one line and ends in an ellipsis, the full
 * value still selectable and in the title.
 */
export function cardHtml(key, html, id, cls = '', title = '') {
  return `<div class="card"><div class="k">${esc(t(key))}</div><div class="v ${cls}" ${id ? `id="${id}"` : ''} ${title ? `title="${esc(title)}"` : ''}>${html}</div></div>`;
}

/** Tables scroll inside their own box, so a phone never scrolls the whole page sideways. */
export const scrollBox = (html) => `<div class="table-box">${html}</div>`;

/** "Nothing found", with the problem's detail (an API answer) or its status. */
export function notFound(ctx, r) {
  ctx.render(`<h1>${esc(t('not_found'))}</h1><p>${esc(r.body?.detail ?? r.status)}</p>`);
}

/** A file's digest (hex), read in 1 MiB chunks; `onProgress(bytesDone)` after each (it may throw to stop). */
export async function hashFile(file, alg, onProgress) {
  const h = alg === 'sm3' ? new Sm3() : new Sha256();
  const CHUNK = 1 << 20; // 1 MiB: frequent progress, and the page stays responsive
  for (let off = 0; off < file.size; off += CHUNK) {
    h.update(new Uint8Array(await file.slice(off, off + CHUNK).arrayBuffer()));
    onProgress(Math.min(off + CHUNK, file.size));
  }
  return toHex(h.digest());
}

// ---------- the page context ----------

/** Thrown when a page finishes loading after the user already went elsewhere. */
export class Stale extends Error {}
let routeSeq = 0;

/** A new page context; every older one goes stale. The shell makes one per route change. */
export function newContext() {
  const mine = ++routeSeq;
  return {
    render(html) { if (mine !== routeSeq) throw new Stale(); $('#main').innerHTML = html; },
    current: () => mine === routeSeq,
  };
}

// ---------- verdicts (the Verify page's results) ----------

/** One checked step: ✓, ✗ or –, its name (a string key) and what was found. */
export function stepHtml(key, s, detailHtml = null) {
  const mark = s.ok === true ? ['ok', '✓'] : s.ok === false ? ['bad', '✗'] : ['skip-step', '–'];
  return `<li><span class="${mark[0]}">${mark[1]}</span> <strong>${esc(t(key))}</strong>: ${s.ok === true && detailHtml ? detailHtml : esc(s.detail || t('not_checked'))}</li>`;
}

/** VALID or INVALID, with the reason when invalid. */
export function verdictHtml(res) {
  return `<div class="verdict ${res.valid ? 'valid' : 'invalid'}" id="verdict">${esc(res.valid ? t('valid') : t('invalid'))}</div>
      ${res.valid ? '' : `<p id="verify-reason">${esc(res.reason)}</p>`}`;
}
