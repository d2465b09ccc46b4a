// The evidence module's console page (kit.js describes a module page): the record page
// (#/record/<id>), the deposit page (#/deposit: the files are hashed in the browser, the deposit
// signed there with the user's key file and submitted) and the evidence part of the header
// search (record ids, content digests, references), and what the shell's Verify page needs for
// evidence receipts and digest state proofs (receipt.js checks them, this page words them).
// Served at /console/modules/evidence/page.js.

import { $, esc, short, t, tn, formatSize, timeHtml, msOf, sizeHtml, idHtml, fillHtml, api, scrollBox, notFound, hashFile, stepHtml, verdictHtml } from '/console/kit.js';
import { SUITES, publicKeyOf, toHex, fromHex } from '/console/encoding.js';
import { signDeposit } from './wire.js';
import { verifyReceipt, isEvidenceReceipt, stateView } from './receipt.js';

const strings = {
  en: {
    nav_deposit: 'Deposit',
    record: 'Evidence record', record_title: 'Title', size: 'Size', media_type: 'Media type', reference: 'Reference', organisation: 'Organisation',
    submitter: 'Submitter key', metadata: 'Metadata', deposited: 'Deposited', leaf: 'Log leaf', receipt_status: 'Receipt status',
    in_checkpoint: 'covered by the signed checkpoint of size', download_json: 'Download receipt (JSON)', download_tlog: 'Download receipt (tlog-proof)',
    verify_this: 'Verify this receipt', same_digest: 'Every deposit of this content',
    deposit_title: 'Deposit evidence', deposit_help: 'Files are fingerprinted in this browser and never uploaded. Only the digest, size and the details below are recorded.',
    key_file: 'Signing key file (kept in this page only)', key_loaded: 'Key loaded', key_wrong_suite: 'This key is for another suite than the chain',
    files: 'Files to deposit', title_field: 'Title (default: file name)', reference_field: 'Reference (case number, contract id)',
    deposit_button: 'Fingerprint, sign and deposit', hashing: 'Fingerprinting', signing: 'Signing and submitting', waiting_commit: 'Waiting for the block',
    deposit_done: 'Deposited and committed', need_key: 'Load a key file first', need_files: 'Choose at least one file',
    qr_label: 'QR code that opens the verification page of this record',
    n_found: { one: '{n} record found', other: '{n} records found' }, n_files: { one: '{n} file', other: '{n} files' },
    n_deposits: { one: '{n} deposit', other: '{n} deposits' },
    evidence_first: 'Deposited first in record {record} at block {first} ({time}); {deposits} as of block {height}, the last at block {last}.',
    evidence_none: 'Not deposited as of block {height}.',
  },
  zh: {
    nav_deposit: '存证',
    record: '存证记录', record_title: '标题', size: '大小', media_type: '媒体类型', reference: '案号/编号', organisation: '机构',
    submitter: '提交者公钥', metadata: '元数据', deposited: '存证时间', leaf: '日志叶子', receipt_status: '回执状态',
    in_checkpoint: '已被签名检查点覆盖，日志大小', download_json: '下载回执（JSON）', download_tlog: '下载回执（tlog-proof）',
    verify_this: '验证此回执', same_digest: '相同内容的全部存证',
    deposit_title: '提交存证', deposit_help: '文件只在本浏览器中计算摘要，不会上传。链上只记录摘要、大小和下列信息。',
    key_file: '签名密钥文件（仅保存在本页面）', key_loaded: '密钥已加载', key_wrong_suite: '该密钥与本链的密码套件不符',
    files: '要存证的文件', title_field: '标题（默认：文件名）', reference_field: '案号或合同编号',
    deposit_button: '计算摘要、签名并提交', hashing: '正在计算摘要', signing: '正在签名并提交', waiting_commit: '正在等待出块',
    deposit_done: '已存证并提交', need_key: '请先加载密钥文件', need_files: '请至少选择一个文件',
    qr_label: '打开此记录验证页面的二维码',
    n_found: { other: '找到 {n} 条记录' }, n_files: { other: '{n} 个文件' },
    n_deposits: { other: '{n} 次存证' },
    evidence_first: '首次存证于区块 {first}（{time}）的记录 {record}；截至区块 {height} 共 {deposits}，最近一次在区块 {last}。',
    evidence_none: '截至区块 {height}，尚未存证。',
  },
};

/** The chain's status (suite, chain id) once fetched, and the signing key once loaded: kept while the console is open. */
const state = { status: null, key: null };

// ---------- record ----------

async function recordPage(ctx, [id]) {
  if (id === undefined) return notFound(ctx, { status: 404 });
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

// ---------- search ----------

/** A record id opens its record; a digest (64 hex digits) or any other text lists the records with that digest or reference. */
async function search(ctx, q) {
  if (/^[0-9a-f]{64}-\d+$/.test(q)) return { go: `#/record/${q}` };
  const r = /^[0-9a-f]{64}$/.test(q) ? await api(`/v1/evidence?digest=${q}`) : await api(`/v1/evidence?reference=${encodeURIComponent(q)}`);
  const list = r.ok ? r.body.records : [];
  if (!list.length) return null;
  return `<p id="search-count">${esc(tn('n_found', list.length))}</p>${scrollBox(`<table id="search-results"><thead><tr><th>${esc(t('time'))}</th><th>${esc(t('record_title'))}</th><th>${esc(t('organisation'))}</th><th>${esc(t('block'))}</th></tr></thead><tbody>${list
    .map((x) => `<tr><td><a href="#/record/${x.record.id}">${timeHtml(msOf(x.record))}</a></td><td>${esc(x.record.title)}</td><td>${esc(x.record.organisation)}</td><td><a href="#/block/${x.record.block_height}">${x.record.block_height}</a></td></tr>`)
    .join('')}</tbody></table>`)}`;
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

// ---------- verify (hooks of the shell's Verify page) ----------

function receiptResultHtml(res) {
  const r = res.record;
  // The record's time in the viewer's zone (receipt.js writes UTC, as `cairn verify` does).
  const recordDetail = r && `${esc(r.title)} · ${esc(r.organisation)} · ${timeHtml(r.time_ms, true)} · ${esc(t('block'))} ${r.block_height}`;
  return `${verdictHtml(res)}
      <ol class="steps">${stepHtml('step_file', res.steps.file)}${stepHtml('step_record', res.steps.record, recordDetail)}${stepHtml('step_inclusion', res.steps.inclusion)}${stepHtml('step_checkpoint', res.steps.checkpoint)}${stepHtml('step_signatures', res.steps.signatures)}</ol>
      ${r ? `<p><a href="#/record/${esc(r.id)}">${esc(r.title)}</a></p>` : ''}`;
}

/** A valid digest state proof in words: whether and where the content was deposited. */
function stateSummaryHtml(res) {
  const v = res.view;
  const block = (h) => `<a href="#/block/${h}">${h}</a>`;
  if (!v.deposited) return fillHtml('evidence_none', { height: block(res.height) });
  return fillHtml('evidence_first', {
    record: `<a href="#/record/${esc(v.first_record)}">${idHtml(v.first_record)}</a>`, first: block(v.first_height),
    time: timeHtml(v.first_time_ms), deposits: esc(tn('n_deposits', v.deposits)), height: block(res.height), last: block(v.last_height),
  });
}

const verify = {
  receipt: { accepts: isEvidenceReceipt, verify: verifyReceipt, html: receiptResultHtml },
  state: { ...stateView, summaryHtml: stateSummaryHtml },
  // '#/verify?record=<id>' (the record page's link): that record's receipt.
  preload: (params) => (params.get('record') ? `/v1/evidence/${encodeURIComponent(params.get('record'))}/receipt` : null),
};

export default {
  strings,
  nav: [{ hash: '#/deposit', key: 'nav_deposit' }],
  pages: { deposit: depositPage, record: recordPage },
  search,
  verify,
};
