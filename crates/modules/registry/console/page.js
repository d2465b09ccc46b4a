// The registry module's console page (kit.js describes a module page). Served at
// /console/modules/registry/page.js; the API is /v1/registry (crates/modules/registry/src/routes.rs).
//
//   #/registry                 the chain's registries: id, titles, authority, entries, schema version;
//   #/registry/<g>[?…]         one registry: its schema's fields (indexed, personal) and its entries,
//                              filtered by holder, by an indexed field's value or by status
//                              (?holder= | ?field=&value= | ?status=), paged (?after=&limit=, More);
//   #/registry/<g>/<k>         an entry: its current version and status, holder, public fields, personal
//                              fields as digests only, its history as a timeline with each version's
//                              receipt downloadable and checked in this browser, its credential (issued
//                              by this node, with a QR code of its URL) and its state proof;
//   #/registry/verify          a credential (and the holder's disclosures) checked by this node.
//
// The id "verify" is reserved for this page (crates/modules/registry/src/wire.rs); the trailing slash
// below is only a guard.
// The header search opens a registry by its id, and an entry by "<registry>/<key>".

import { $, esc, t, tn, getLang, timeHtml, idHtml, fillHtml, api, authFetch, scrollBox, notFound, stepHtml } from '/console/kit.js';
import { toHex, Reader } from '/console/encoding.js';
import { verifyLeafReceipt } from '/console/verify.js';
import { BROWSER_SUITES, checkInBrowser } from './vc.js';

const strings = {
  en: {
    nav_registry: 'Registries',
    reg_title: 'Registries', reg_help: 'Authoritative registries kept on this ledger: every entry with its full history, its receipts, state proofs and verifiable credentials.',
    reg_id: 'ID', reg_authority: 'Authority', reg_entries: 'Entries', reg_schema_version: 'Schema version', reg_created: 'Created',
    reg_none: 'No registry yet.', reg_more: 'More', reg_loading: 'Loading…', reg_verify_link: 'Verify a credential',
    reg_n_registries: { one: '{n} registry', other: '{n} registries' }, reg_n_entries: { one: '{n} entry', other: '{n} entries' },
    reg_n_shown: { one: '{n} entry shown', other: '{n} entries shown' }, reg_more_exist: 'more on the next page',
    reg_n_versions: { one: '{n} version', other: '{n} versions' }, reg_n_problems: { one: '{n} problem', other: '{n} problems' },
    reg_registry: 'Registry', reg_title_zh: 'Title (Chinese)', reg_title_en: 'Title (English)', reg_created_at: 'block {block}, {time}',
    reg_fields: 'Fields (schema version {v})', reg_field: 'Field', reg_type: 'Type', reg_description: 'Description', reg_required: 'Required',
    reg_indexed: 'Indexed', reg_personal: 'Personal', reg_yes: 'yes',
    reg_personal_help: 'Personal fields are on the chain only as salted digests: the holder keeps the values, and reveals one by handing over its disclosure.',
    reg_schema_json: 'The schema (JSON Schema)',
    reg_f_by: 'Filter by', reg_f_all: 'All entries', reg_f_holder: 'Holder', reg_f_field: 'Field {field}', reg_f_status: 'Status', reg_f_value: 'Value',
    reg_f_submit: 'Filter', reg_f_clear: 'Clear filter', reg_f_one: 'One filter at a time: a holder, the value of an indexed field, or a status.',
    reg_no_entries: 'No entries match.', reg_key: 'Key', reg_holder: 'Holder', reg_status: 'Status', reg_version: 'Version', reg_last_change: 'Last change',
    reg_updated: 'Changed', reg_no_holder: 'none',
    reg_st_active: 'Active', reg_st_suspended: 'Suspended', reg_st_revoked: 'Revoked',
    reg_act_put: 'Registered', reg_act_amend: 'Amended', reg_act_transfer: 'Transferred', reg_act_suspend: 'Suspended', reg_act_reinstate: 'Reinstated', reg_act_revoke: 'Revoked',
    reg_entry: 'Registry entry', reg_current_version: 'Current version', reg_reason: 'Reason', reg_content_digest: 'Content digest',
    reg_status_index: 'Status list index', reg_created_block: 'Created at block', reg_leaf: 'Log leaf',
    reg_since: 'since version {v} (block {block}, {time})', reg_public_fields: 'Public fields', reg_personal_fields: 'Personal fields (digests only)',
    reg_digest: 'Digest', reg_value: 'Value', reg_no_fields: 'None.',
    reg_history: 'History', reg_made_by: 'Made by {org}',
    reg_receipt_download: 'Download receipt (JSON)', reg_receipt_pending: 'Not yet under a signed checkpoint; trying again…', reg_receipt_none: 'No receipt: {detail}',
    reg_receipt_checked: 'Each version’s receipt is checked in this browser, with the console’s own code, against the validators’ public keys.',
    reg_checking: 'Checking…', reg_steps: 'What was checked', reg_step_version: 'This version',
    reg_leaf_holds: 'the signed leaf holds this version: registry, key, version, action, status, reason, holder, content digest, block and time',
    reg_leaf_differs: 'the signed leaf does not hold this version: its {what} differs', reg_leaf_unknown: 'the signed leaf is a registry leaf of version {v}, which this page does not read',
    reg_version_content: 'Content of this version (from its signed leaf)', reg_verify_file: 'Verify a receipt or proof file',
    reg_credential: 'Credential', reg_credential_help: 'A W3C Verifiable Credential of this entry, signed by this node for the registry’s authority. Personal fields are in it only as digests.',
    reg_cryptosuite: 'Proof cryptosuite', reg_issue: 'Issue credential', reg_issuing: 'Issuing…',
    reg_issued: 'Credential of version {v}, signed with {suite} by {method}.', reg_credential_download: 'Download credential (JSON)',
    reg_credential_qr: 'QR code of the credential’s URL', reg_credential_url: 'The credential’s URL',
    reg_refused: 'Refused: {detail} (HTTP {status})',
    reg_proof: 'State proof', reg_proof_help: 'A state proof shows, from the validators’ signatures alone, this entry’s version, content digest and status as of a block.',
    reg_proof_download: 'Download state proof (JSON)', reg_proof_fetching: 'Fetching the proof…', reg_proof_done: 'State proof as of block {height}:',
    reg_state_entry: 'At block {height}, entry {key} of registry {registry} was at version {version}, {status}, with content digest {digest}.',
    reg_state_none: 'At block {height}, registry {registry} had no entry {key}.',
    reg_v_title: 'Verify a registry credential',
    reg_v_help: 'Paste or drop a credential issued from a registry of this ledger and, if you have it, the holder’s disclosures file. This node checks its proof, that its issuer is a member key of the registry’s authority, the entry’s status now, and each disclosure against its digest.',
    reg_v_credential: 'Credential (JSON file)', reg_v_paste: 'Or paste the credential here', reg_v_disclosures: 'The holder’s disclosures file (optional)',
    reg_v_button: 'Verify', reg_v_need: 'Choose, drop or paste a credential first', reg_v_checking: 'Checking the credential…',
    reg_v_not_json: '{what} is not JSON: {detail}', reg_v_not_disclosures: 'The disclosures file holds no "disclosures" list',
    reg_v_the_credential: 'The credential', reg_v_the_disclosures: 'The disclosures file',
    reg_v_revocation: 'Revocation', reg_v_suspension: 'Suspension',
    reg_v_revoked: 'revoked', reg_v_not_revoked: 'not revoked', reg_v_suspended: 'suspended', reg_v_not_suspended: 'not suspended', reg_v_unknown: 'unknown',
    reg_v_newer: 'The entry is now at version {v}; this credential states version {c}.',
    reg_v_issuer: 'Issuer', reg_v_method: 'Verification method', reg_v_entry: 'Entry', reg_v_disclosed: 'Disclosed fields', reg_v_none_disclosed: 'No personal field disclosed.',
    reg_v_as_of: 'Checked by this node as of block {height}.', reg_v_failed: 'The check failed: {detail}',
    reg_v_browser: 'Checked in this browser', reg_v_browser_help: 'This page’s own code checked the proof (JCS, the suite’s hash, the did:key’s signature) and each status list (fetched from this node, its proof and signer checked, its bit read).',
    reg_v_browser_rdfc: 'This browser checks eddsa-jcs-2022 and SM2 credentials itself; an eddsa-rdfc-2022 credential needs a JSON-LD processor, so the verdict above is the node’s. Issue the eddsa-jcs-2022 form to check one here.',
    reg_v_b_proof: 'Proof', reg_v_b_set: 'set', reg_v_b_clear: 'clear',
  },
  zh: {
    nav_registry: '登记簿',
    reg_title: '登记簿', reg_help: '本账本上的权威登记簿：每个条目都有完整的历史、回执、状态证明和可验证凭证。',
    reg_id: '编号', reg_authority: '登记机关', reg_entries: '条目', reg_schema_version: '模式版本', reg_created: '创建',
    reg_none: '尚无登记簿。', reg_more: '更多', reg_loading: '正在加载…', reg_verify_link: '验证凭证',
    reg_n_registries: { other: '{n} 个登记簿' }, reg_n_entries: { other: '{n} 个条目' },
    reg_n_shown: { other: '已显示 {n} 个条目' }, reg_more_exist: '下一页还有',
    reg_n_versions: { other: '{n} 个版本' }, reg_n_problems: { other: '{n} 个问题' },
    reg_registry: '登记簿', reg_title_zh: '中文名称', reg_title_en: '英文名称', reg_created_at: '区块 {block}，{time}',
    reg_fields: '字段（模式版本 {v}）', reg_field: '字段', reg_type: '类型', reg_description: '说明', reg_required: '必填',
    reg_indexed: '可检索', reg_personal: '个人信息', reg_yes: '是',
    reg_personal_help: '个人信息字段在链上只保存加盐摘要：字段值由持有人保管，持有人出示某项披露即可公开该字段。',
    reg_schema_json: '数据模式（JSON Schema）',
    reg_f_by: '筛选方式', reg_f_all: '全部条目', reg_f_holder: '持有人', reg_f_field: '字段 {field}', reg_f_status: '状态', reg_f_value: '值',
    reg_f_submit: '筛选', reg_f_clear: '清除筛选', reg_f_one: '每次按一种条件筛选：持有人、某个可检索字段的值或状态。',
    reg_no_entries: '没有符合条件的条目。', reg_key: '条目编号', reg_holder: '持有人', reg_status: '状态', reg_version: '版本', reg_last_change: '最近操作',
    reg_updated: '变更时间', reg_no_holder: '无',
    reg_st_active: '正常', reg_st_suspended: '已暂停', reg_st_revoked: '已撤销',
    reg_act_put: '登记', reg_act_amend: '变更', reg_act_transfer: '转移', reg_act_suspend: '暂停', reg_act_reinstate: '恢复', reg_act_revoke: '撤销',
    reg_entry: '登记条目', reg_current_version: '当前版本', reg_reason: '原因', reg_content_digest: '内容摘要',
    reg_status_index: '状态列表序号', reg_created_block: '创建区块', reg_leaf: '日志叶',
    reg_since: '自版本 {v} 起（区块 {block}，{time}）', reg_public_fields: '公开字段', reg_personal_fields: '个人信息字段（仅摘要）',
    reg_digest: '摘要', reg_value: '值', reg_no_fields: '无。',
    reg_history: '历史', reg_made_by: '操作机构：{org}',
    reg_receipt_download: '下载回执（JSON）', reg_receipt_pending: '尚未被签名检查点覆盖；正在重试…', reg_receipt_none: '没有回执：{detail}',
    reg_receipt_checked: '每个版本的回执都已在本浏览器中用控制台自己的代码、依据验证节点的公钥检查。',
    reg_checking: '正在检查…', reg_steps: '检查项', reg_step_version: '本版本',
    reg_leaf_holds: '已签名的日志叶包含本版本的登记簿、条目编号、版本、操作、状态、原因、持有人、内容摘要、区块和时间',
    reg_leaf_differs: '已签名的日志叶不是本版本：其{what}不同', reg_leaf_unknown: '已签名的日志叶是版本 {v} 的登记叶，本页面无法读取',
    reg_version_content: '本版本的内容（取自其已签名的日志叶）', reg_verify_file: '验证回执或证明文件',
    reg_credential: '凭证', reg_credential_help: '本条目的 W3C 可验证凭证，由本节点代表登记机关签名。其中个人信息字段只以摘要出现。',
    reg_cryptosuite: '证明套件', reg_issue: '签发凭证', reg_issuing: '正在签发…',
    reg_issued: '版本 {v} 的凭证，由 {method} 以 {suite} 签名。', reg_credential_download: '下载凭证（JSON）',
    reg_credential_qr: '凭证网址的二维码', reg_credential_url: '凭证网址',
    reg_refused: '被拒绝：{detail}（HTTP {status}）',
    reg_proof: '状态证明', reg_proof_help: '状态证明仅凭验证节点的签名即可表明：截至某个区块，本条目的版本、内容摘要和状态。',
    reg_proof_download: '下载状态证明（JSON）', reg_proof_fetching: '正在获取证明…', reg_proof_done: '截至区块 {height} 的状态证明：',
    reg_state_entry: '在区块 {height}，登记簿 {registry} 的条目 {key} 处于版本 {version}，状态为{status}，内容摘要为 {digest}。',
    reg_state_none: '在区块 {height}，登记簿 {registry} 没有条目 {key}。',
    reg_v_title: '验证登记凭证',
    reg_v_help: '粘贴或拖入本账本登记簿签发的凭证；如有持有人的披露文件，也可一并提供。本节点会检查凭证的证明、签发者是否为该登记簿登记机关的成员密钥、条目当前的状态，以及每项披露是否与其摘要相符。',
    reg_v_credential: '凭证（JSON 文件）', reg_v_paste: '或在此粘贴凭证', reg_v_disclosures: '持有人的披露文件（可选）',
    reg_v_button: '验证', reg_v_need: '请先选择、拖入或粘贴凭证', reg_v_checking: '正在检查凭证…',
    reg_v_not_json: '{what}不是 JSON：{detail}', reg_v_not_disclosures: '披露文件中没有 "disclosures" 列表',
    reg_v_the_credential: '凭证', reg_v_the_disclosures: '披露文件',
    reg_v_revocation: '撤销', reg_v_suspension: '暂停',
    reg_v_revoked: '已撤销', reg_v_not_revoked: '未撤销', reg_v_suspended: '已暂停', reg_v_not_suspended: '未暂停', reg_v_unknown: '未知',
    reg_v_newer: '该条目现为版本 {v}；本凭证记载的是版本 {c}。',
    reg_v_issuer: '签发者', reg_v_method: '验证方法', reg_v_entry: '条目', reg_v_disclosed: '已披露字段', reg_v_none_disclosed: '未披露个人信息字段。',
    reg_v_as_of: '本节点截至区块 {height} 的检查结果。', reg_v_failed: '检查失败：{detail}',
    reg_v_browser: '本浏览器的检查', reg_v_browser_help: '本页面用自己的代码检查了证明（JCS、套件的哈希、did:key 的签名）和每个状态列表（从本节点获取，检查其证明和签名者，读取其位）。',
    reg_v_browser_rdfc: '本浏览器自行检查 eddsa-jcs-2022 和 SM2 凭证；eddsa-rdfc-2022 凭证需要 JSON-LD 处理器，因此上面是节点的结论。签发 eddsa-jcs-2022 形式即可在此检查。',
    reg_v_b_proof: '证明', reg_v_b_set: '已置位', reg_v_b_clear: '未置位',
  },
};

/** Entries per page of a registry's list, unless the hash asks for another limit. */
const PER_PAGE = 20;
/** Registries per page of the list (the API's default). */
const REGISTRIES_PER_PAGE = 50;
/** A registry id (wire.rs, valid_registry_id). */
const REGISTRY_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
const STATUSES = ['active', 'suspended', 'revoked'];
const ACTIONS = ['put', 'amend', 'transfer', 'suspend', 'reinstate', 'revoke'];
/** Codes of actions and statuses in a version leaf (crates/modules/registry/src/wire.rs). */
const ACTION_CODES = { put: 1, amend: 2, transfer: 3, suspend: 4, reinstate: 5, revoke: 6 };
const STATUS_CODES = { active: 1, suspended: 2, revoked: 3 };
/** Cryptosuites a node signs credentials with, by the chain's suite (cairn-vc). */
const CRYPTOSUITES = { 'ed25519-sha256': ['eddsa-rdfc-2022', 'eddsa-jcs-2022'], 'sm2-sm3': ['cairn-sm2sm3-jcs-2026'] };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * One run of a part of a page (a listing, a check, an issue): `live()` turns false once the
 * user went to another page (ctx) or started another run of the same part, so an older answer
 * never shows over a newer one.
 */
const runs = {};
function startRun(ctx, part) {
  const mine = (runs[part] = (runs[part] ?? 0) + 1);
  return () => ctx.current() && runs[part] === mine;
}

function addStyle() {
  if (document.getElementById('registry-style')) return;
  document.head.insertAdjacentHTML('beforeend', `<style id="registry-style">
    .reg-form { display: grid; grid-template-columns: repeat(auto-fit, minmax(13rem, 1fr)); gap: 0 1rem; align-items: end; max-width: 56rem; }
    .reg-form label { margin: .6rem 0 .2rem; }
    .reg-form input, .reg-form select, .reg-verify textarea { width: 100%; padding: .4rem; font: inherit; border: 1px solid #8895a2; border-radius: 4px; background: #fff; box-sizing: border-box; }
    .reg-form .buttons { display: flex; gap: .5rem; padding-top: .6rem; }
    .reg-status { display: inline-block; padding: 0 .45rem; border-radius: 4px; font-size: .85rem; font-weight: 700; border: 1px solid; }
    .reg-status.active { background: #e3f4e8; color: var(--ok); }
    .reg-status.suspended { background: #fff4d6; color: #7a5200; }
    .reg-status.revoked { background: #fbe7e8; color: var(--bad); }
    .reg-banner { font-size: 1.4rem; font-weight: 800; padding: .4rem 1rem; border-radius: 6px; display: inline-block; margin: .3rem 0; border: 2px solid; }
    .reg-banner.active { background: #e3f4e8; color: var(--ok); }
    .reg-banner.suspended { background: #fff4d6; color: #7a5200; }
    .reg-banner.revoked { background: #fbe7e8; color: var(--bad); }
    ol.reg-timeline { list-style: none; padding: 0 0 0 1rem; margin: .5rem 0 .5rem .4rem; border-left: 3px solid var(--line); }
    ol.reg-timeline > li { position: relative; padding: .2rem 0 1rem .4rem; }
    ol.reg-timeline > li::before { content: ''; position: absolute; left: -1.55rem; top: .55rem; width: .8rem; height: .8rem; border-radius: 50%; background: var(--ok); border: 2px solid #fff; }
    ol.reg-timeline > li.suspended::before { background: #c48a00; } ol.reg-timeline > li.revoked::before { background: var(--bad); }
    ol.reg-timeline .what { font-weight: 600; }
    ol.reg-timeline .verdict { font-size: 1rem; padding: .1rem .6rem; margin: .3rem 0 0; }
    .reg-verify textarea { min-height: 9rem; font-family: ui-monospace, monospace; font-size: .85rem; }
    .reg-qr { display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; } #reg-credential-qr { width: 160px; height: 160px; }
  </style>`);
}

// ---------- words and links ----------

const enc = encodeURIComponent;
const apiOf = (g) => `/v1/registry/${enc(g)}`;
const entryApi = (g, k) => `${apiOf(g)}/entries/${enc(k)}`;
/** A registry's page; one named "verify" (the verify page's segment) gets a trailing slash. */
const registryHref = (g, params) => `#/registry/${enc(g)}${g === 'verify' ? '/' : ''}${params && String(params) ? `?${params}` : ''}`;
const entryHref = (g, k) => `#/registry/${enc(g)}/${enc(k)}`;
const statusText = (s) => (STATUSES.includes(s) ? t(`reg_st_${s}`) : String(s ?? ''));
const statusHtml = (s) => `<span class="reg-status ${esc(s)}" data-status="${esc(s)}">${esc(statusText(s))}</span>`;
const actionText = (a) => (ACTIONS.includes(a) ? t(`reg_act_${a}`) : String(a ?? ''));
/** A registry's title in the viewer's language (the other when it has none). */
const titleOf = (r) => (getLang() === 'zh' ? r.title?.zh || r.title?.en : r.title?.en || r.title?.zh) || '';
const valueHtml = (v) => (typeof v === 'string' ? esc(v) : `<code>${esc(JSON.stringify(v))}</code>`);
/** A label before its value: "Reason: ", "原因：". */
const labelHtml = (key) => `<span class="muted">${esc(t(key))}${getLang() === 'zh' ? '：' : ': '}</span>`;
/** A remark in brackets after a word: " (x)", "（x）". */
const bracketHtml = (html) => (getLang() === 'zh' ? `<span class="muted">（${html}）</span>` : ` <span class="muted">(${html})</span>`);
const fileName = (s) => String(s).replace(/[\\/:*?"<>|\s]+/g, '_');

/** A problem answer (RFC 7807) in words. */
function problemHtml(r, id = 'reg-problem') {
  const detail = typeof r.body === 'object' && r.body ? r.body.detail ?? r.body.title ?? '' : String(r.body ?? '');
  return `<p class="bad" id="${id}">${esc(t('reg_refused', { detail, status: r.status }))}</p>`;
}

/** A call that never throws: a network failure is an answer with status 0. */
async function call(path, opts) {
  try { return await api(path, opts); } catch (e) { return { ok: false, status: 0, body: { detail: e.message } }; }
}

/** A link that downloads `text` as `name`. */
function blobLink(id, text, name, label, type = 'application/json') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  return `<a id="${id}" href="${url}" download="${esc(name)}">${esc(label)}</a>`;
}

// ---------- #/registry ----------

async function listPage(ctx) {
  addStyle();
  const r = await call(`/v1/registry?limit=${REGISTRIES_PER_PAGE}`);
  if (!r.ok) return notFound(ctx, r);
  const rows = (list) => list.map((g) => `<tr data-registry="${esc(g.id)}">
      <td><a class="mono" href="${registryHref(g.id)}">${esc(g.id)}</a></td>
      <td><span lang="zh-CN">${esc(g.title?.zh || '—')}</span></td><td><span lang="en">${esc(g.title?.en || '—')}</span></td>
      <td>${esc(g.authority)}</td><td class="num">${esc(tn('reg_n_entries', g.entries))}</td><td>${g.schema_version}</td>
      <td>${timeHtml(g.created_time_ms)} · <a href="#/block/${g.created_height}">${g.created_height}</a></td></tr>`).join('');
  const list = r.body.registries ?? [];
  ctx.render(`<h1>${esc(t('reg_title'))}</h1><p>${esc(t('reg_help'))}</p>
    <p><a href="#/registry/verify" id="reg-open-verify">${esc(t('reg_verify_link'))} →</a></p>
    ${list.length ? `<p id="reg-count">${esc(tn('reg_n_registries', list.length))}</p>${scrollBox(`<table id="reg-registries"><thead><tr><th>${esc(t('reg_id'))}</th><th>${esc(t('reg_title_zh'))}</th><th>${esc(t('reg_title_en'))}</th>
      <th>${esc(t('reg_authority'))}</th><th>${esc(t('reg_entries'))}</th><th>${esc(t('reg_schema_version'))}</th><th>${esc(t('reg_created'))}</th></tr></thead><tbody>${rows(list)}</tbody></table>`)}
      <p><button type="button" class="secondary" id="reg-more" ${list.length < REGISTRIES_PER_PAGE ? 'hidden' : ''}>${esc(t('reg_more'))}</button></p>`
    : `<p id="reg-count">${esc(t('reg_none'))}</p>`}`);
  const more = $('#reg-more');
  if (!more) return;
  const live = startRun(ctx, 'registries');
  let last = list.at(-1)?.id;
  more.addEventListener('click', async () => {
    more.disabled = true;
    const p = await call(`/v1/registry?${new URLSearchParams({ after: last, limit: String(REGISTRIES_PER_PAGE) })}`);
    if (!live()) return;
    more.disabled = false;
    if (!p.ok) { more.hidden = true; more.insertAdjacentHTML('afterend', problemHtml(p)); return; }
    const page = p.body.registries ?? [];
    $('#reg-registries tbody').insertAdjacentHTML('beforeend', rows(page));
    last = page.at(-1)?.id ?? last;
    more.hidden = page.length < REGISTRIES_PER_PAGE;
    $('#reg-count').textContent = tn('reg_n_registries', $('#reg-registries tbody').rows.length);
  });
}

// ---------- #/registry/<g> ----------

const schemaType = (p) => [Array.isArray(p?.type) ? p.type.join(' | ') : p?.type, p?.format, p?.enum ? `enum: ${p.enum.map((x) => JSON.stringify(x)).join(', ')}` : null].filter(Boolean).join(' · ');

function fieldsHtml(schema) {
  const props = schema?.properties ?? {};
  const indexed = new Set(schema?.['x-cairn-indexed'] ?? []), personal = new Set(schema?.['x-cairn-personal'] ?? []), required = new Set(schema?.required ?? []);
  const yes = (b) => (b ? `<span class="ok">✓</span> ${esc(t('reg_yes'))}` : '');
  const rows = Object.entries(props).map(([name, p]) => `<tr data-field="${esc(name)}" data-indexed="${indexed.has(name)}" data-personal="${personal.has(name)}">
      <td class="mono">${esc(name)}</td><td>${esc(schemaType(p))}</td><td>${esc(p?.title ?? p?.description ?? '')}</td>
      <td>${yes(required.has(name))}</td><td class="indexed">${yes(indexed.has(name))}</td><td class="personal">${yes(personal.has(name))}</td></tr>`).join('');
  return scrollBox(`<table id="reg-fields"><thead><tr><th>${esc(t('reg_field'))}</th><th>${esc(t('reg_type'))}</th><th>${esc(t('reg_description'))}</th><th>${esc(t('reg_required'))}</th>
    <th>${esc(t('reg_indexed'))}</th><th>${esc(t('reg_personal'))}</th></tr></thead><tbody>${rows}</tbody></table>`);
}

/** The filter of a registry page's hash: { by: '' | 'holder' | 'field:<name>' | 'status', value }. */
function filterOf(params) {
  if (params.get('holder') != null) return { by: 'holder', value: params.get('holder') };
  if (params.get('field') != null) return { by: `field:${params.get('field')}`, value: params.get('value') ?? '' };
  if (params.get('status') != null) return { by: 'status', value: params.get('status') };
  return { by: '', value: '' };
}

function filterForm(indexed, f) {
  const opt = (v, label) => `<option value="${esc(v)}" ${v === f.by ? 'selected' : ''}>${esc(label)}</option>`;
  const byStatus = f.by === 'status';
  return `<form id="reg-filter" class="reg-form">
    <div><label for="reg-f-by">${esc(t('reg_f_by'))}</label><select id="reg-f-by">${opt('', t('reg_f_all'))}${opt('holder', t('reg_f_holder'))}${indexed.map((n) => opt(`field:${n}`, t('reg_f_field', { field: n }))).join('')}${opt('status', t('reg_f_status'))}</select></div>
    <div id="reg-f-value-box" ${f.by && !byStatus ? '' : 'hidden'}><label for="reg-f-value">${esc(t('reg_f_value'))}</label><input type="text" id="reg-f-value" value="${esc(byStatus ? '' : f.value)}" autocomplete="off"></div>
    <div id="reg-f-status-box" ${byStatus ? '' : 'hidden'}><label for="reg-f-status">${esc(t('reg_f_status'))}</label><select id="reg-f-status">${STATUSES.map((s) => `<option value="${s}" ${byStatus && f.value === s ? 'selected' : ''}>${esc(statusText(s))}</option>`).join('')}</select></div>
    <div class="buttons"><button type="submit" id="reg-f-submit">${esc(t('reg_f_submit'))}</button><button type="button" class="secondary" id="reg-f-clear">${esc(t('reg_f_clear'))}</button></div>
  </form><p class="muted">${esc(t('reg_f_one'))}</p>`;
}

async function registryPage(ctx, g, params) {
  addStyle();
  const r = await call(apiOf(g));
  if (!r.ok) return notFound(ctx, r);
  const reg = r.body;
  const schema = reg.schema ?? {};
  const indexed = schema['x-cairn-indexed'] ?? [];
  const dd = (key, html, id = '') => `<dt>${esc(t(key))}</dt><dd${id ? ` id="${id}"` : ''}>${html || '—'}</dd>`;
  ctx.render(`<h1>${esc(t('reg_registry'))} <span class="muted">${esc(titleOf(reg))}</span></h1>
    <p><a href="#/registry">← ${esc(t('reg_title'))}</a> · <a href="#/registry/verify">${esc(t('reg_verify_link'))}</a></p>
    <dl class="kv" id="reg-detail">
      ${dd('reg_id', `<span class="mono">${esc(reg.id)}</span>`, 'reg-id')}
      ${dd('reg_title_zh', esc(reg.title?.zh), 'reg-title-zh')}
      ${dd('reg_title_en', esc(reg.title?.en), 'reg-title-en')}
      ${dd('reg_authority', esc(reg.authority), 'reg-authority')}
      ${dd('reg_entries', esc(tn('reg_n_entries', reg.entries)), 'reg-entries')}
      ${dd('reg_schema_version', String(reg.schema_version), 'reg-schema-version')}
      ${dd('reg_created', fillHtml('reg_created_at', { block: `<a href="#/block/${reg.created_height}">${reg.created_height}</a>`, time: timeHtml(reg.created_time_ms, true) }))}
    </dl>
    <h2>${esc(t('reg_fields', { v: reg.schema_version }))}</h2>${fieldsHtml(schema)}
    <p class="muted">${esc(t('reg_personal_help'))}</p>
    <details><summary>${esc(t('reg_schema_json'))}</summary><pre id="reg-schema">${esc(JSON.stringify(schema, null, 2))}</pre></details>
    <h2>${esc(t('reg_entries'))}</h2>${filterForm(indexed, filterOf(params))}
    <div id="reg-results" aria-live="polite"></div>`);
  wireFilter(ctx, g, params);
  await loadEntries(ctx, g, params);
}

function wireFilter(ctx, g, params) {
  const by = $('#reg-f-by');
  const show = () => {
    $('#reg-f-value-box').hidden = !by.value || by.value === 'status';
    $('#reg-f-status-box').hidden = by.value !== 'status';
  };
  by.addEventListener('change', show);
  const go = (q) => {
    const hash = registryHref(g, q);
    if (location.hash === hash) loadEntries(ctx, g, q); // the same query again: run it afresh
    else location.hash = hash;
  };
  $('#reg-filter').addEventListener('submit', (e) => {
    e.preventDefault();
    // A new filter starts at the first page; the page size of the hash stays.
    const q = new URLSearchParams();
    if (params.get('limit')) q.set('limit', params.get('limit'));
    const value = $('#reg-f-value').value.trim();
    if (by.value === 'holder') q.set('holder', value);
    else if (by.value.startsWith('field:')) { q.set('field', by.value.slice(6)); q.set('value', value); }
    else if (by.value === 'status') q.set('status', $('#reg-f-status').value);
    go(q);
  });
  $('#reg-f-clear').addEventListener('click', () => { $('#reg-filter').reset(); show(); go(new URLSearchParams()); });
}

function entryRow(g, e) {
  return `<tr data-key="${esc(e.key)}" data-status="${esc(e.status)}" data-holder="${esc(e.holder)}">
    <td><a class="mono" href="${entryHref(g, e.key)}">${esc(e.key)}</a></td><td>${e.holder ? `<span class="mono">${esc(e.holder)}</span>` : `<span class="muted">${esc(t('reg_no_holder'))}</span>`}</td>
    <td>${statusHtml(e.status)}</td><td>${e.version}</td><td>${esc(actionText(e.action))}${e.reason ? bracketHtml(esc(e.reason)) : ''}</td>
    <td>${timeHtml(e.time_ms)}</td><td><a href="#/block/${e.height}">${e.height}</a></td></tr>`;
}

/** The API query of a registry page's hash: its filter, after and limit (the API refuses anything else). */
function entriesQuery(params) {
  const q = new URLSearchParams();
  for (const k of ['holder', 'field', 'value', 'status', 'after']) if (params.get(k) != null) q.set(k, params.get(k));
  q.set('limit', params.get('limit') || String(PER_PAGE));
  return q;
}

async function loadEntries(ctx, g, params) {
  const live = startRun(ctx, 'entries');
  const out = $('#reg-results');
  out.innerHTML = `<p class="muted" id="reg-loading">${esc(t('reg_loading'))}</p>`;
  const q = entriesQuery(params);
  const r = await call(`${apiOf(g)}/entries?${q}`);
  if (!live()) return;
  if (!r.ok) { out.innerHTML = problemHtml(r); return; }
  if (!r.body.entries.length) { out.innerHTML = `<p id="reg-entries-count">${esc(t('reg_no_entries'))}</p>`; return; }
  out.innerHTML = `<p id="reg-entries-count"></p>${scrollBox(`<table id="reg-entries-table"><thead><tr><th>${esc(t('reg_key'))}</th><th>${esc(t('reg_holder'))}</th><th>${esc(t('reg_status'))}</th>
    <th>${esc(t('reg_version'))}</th><th>${esc(t('reg_last_change'))}</th><th>${esc(t('reg_updated'))}</th><th>${esc(t('block'))}</th></tr></thead><tbody></tbody></table>`)}
    <p><button type="button" class="secondary" id="reg-entries-more" hidden>${esc(t('reg_more'))}</button></p>`;
  const body = out.querySelector('tbody'), more = out.querySelector('#reg-entries-more'), count = out.querySelector('#reg-entries-count');
  let next = null;
  const show = (page) => {
    body.insertAdjacentHTML('beforeend', page.entries.map((e) => entryRow(g, e)).join(''));
    next = page.next_after;
    more.hidden = next == null;
    const n = body.rows.length;
    count.textContent = next != null ? `${tn('reg_n_shown', n)}, ${t('reg_more_exist')}` : tn('reg_n_shown', n);
  };
  show(r.body);
  more.addEventListener('click', async () => {
    if (next == null) return;
    more.disabled = true;
    q.set('after', next);
    const p = await call(`${apiOf(g)}/entries?${q}`);
    if (!live()) return;
    more.disabled = false;
    if (!p.ok) { more.hidden = true; more.insertAdjacentHTML('afterend', problemHtml(p)); return; }
    show(p.body);
  });
}

// ---------- #/registry/<g>/<k> ----------

/** A version leaf's payload (wire.rs, VersionLeaf::encode_payload), read as far as this page compares it. */
function versionLeaf(payload) {
  const rd = new Reader(payload);
  const leafVersion = rd.u8('leaf version');
  if (leafVersion !== 1) return { leafVersion };
  const f = { leafVersion, tx: toHex(rd.fixed(32, 'tx_id')), registry: rd.str('registry', 64), key: rd.str('key', 256), organisation: rd.str('organisation', 256) };
  rd.bytes('signer', 256);
  Object.assign(f, {
    version: rd.u32('version'), action: rd.u8('action'), status: rd.u8('status'), reason: rd.str('reason', 256), holder: rd.str('holder', 256),
    schemaVersion: rd.u32('schema_version'), digest: toHex(rd.fixed(32, 'content_digest')), height: rd.u64Exact('height'), timeMs: rd.u64Exact('time_ms'), leaf: rd.u64Exact('leaf'),
  });
  f.content = new TextDecoder().decode(rd.bytes('content', 16 * 1024));
  rd.finish();
  return f;
}

/** Whether the verified leaf is this version of this entry: a step for the verdict, and the leaf's facts. */
function versionStep(res, g, k, v) {
  let f;
  try { f = versionLeaf(res.payload); } catch (e) { return { step: { ok: false, detail: e.message } }; }
  if (f.leafVersion !== 1) return { step: { ok: false, detail: t('reg_leaf_unknown', { v: f.leafVersion }) } };
  const differs = [
    [f.registry === g, t('reg_registry')], [f.key === k, t('reg_key')], [f.version === v.version, t('reg_version')],
    [f.action === ACTION_CODES[v.action], t('reg_last_change')], [f.status === STATUS_CODES[v.status], t('reg_status')], [f.reason === v.reason, t('reg_reason')],
    [f.holder === v.holder, t('reg_holder')], [f.digest === v.content_digest, t('reg_content_digest')], [f.height === v.height, t('block')],
    [f.timeMs === v.time_ms, t('reg_updated')], [f.leaf === v.leaf_index && res.leaf_index === v.leaf_index, t('reg_leaf')],
  ].find(([same]) => !same);
  return { step: differs ? { ok: false, detail: t('reg_leaf_differs', { what: differs[1] }) } : { ok: true, detail: t('reg_leaf_holds') }, facts: differs ? null : f };
}

function versionItem(v) {
  const bits = [
    v.reason ? `${labelHtml('reg_reason')}<span class="reason">${esc(v.reason)}</span>` : '',
    `${labelHtml('reg_holder')}${v.holder ? `<span class="mono">${esc(v.holder)}</span>` : esc(t('reg_no_holder'))}`,
    timeHtml(v.time_ms, true),
    `${esc(t('block'))} <a href="#/block/${v.height}">${v.height}</a>`,
    `${esc(t('reg_leaf'))} ${v.leaf_index}`,
  ].filter(Boolean).join(' · ');
  return `<li class="${esc(v.status)}" data-version="${v.version}" data-action="${esc(v.action)}" data-status="${esc(v.status)}" id="reg-version-${v.version}">
    <span class="what">${esc(t('reg_version'))} ${v.version} · ${esc(actionText(v.action))}</span> ${statusHtml(v.status)}<br>${bits}
    <br>${labelHtml('reg_content_digest')}${idHtml(v.content_digest)} <span class="made-by"></span>
    <div class="reg-receipt" id="reg-receipt-${v.version}" aria-live="polite"><p class="muted">${esc(t('reg_checking'))}</p></div></li>`;
}

async function entryPage(ctx, g, k) {
  addStyle();
  const [reg, r, hist, status] = await Promise.all([call(apiOf(g)), call(entryApi(g, k)), call(`${entryApi(g, k)}/history`), call('/v1/status')]);
  if (!reg.ok) return notFound(ctx, reg);
  if (!r.ok) return notFound(ctx, r);
  const e = r.body;
  const personalNames = new Set(reg.body.schema?.['x-cairn-personal'] ?? []);
  const fields = Object.entries(e.content?.fields ?? {});
  const personal = Object.entries(e.content?.personal ?? {});
  const versions = hist.ok ? hist.body.versions : [];
  const suites = CRYPTOSUITES[status.body?.suite] ?? [];
  // When the current status began: the first version of the run of versions with it.
  let since = e;
  for (let i = versions.length - 1; i >= 0 && versions[i].status === e.status; i--) since = versions[i];
  const dd = (key, html, id = '') => `<dt>${esc(t(key))}</dt><dd${id ? ` id="${id}"` : ''}>${html || '—'}</dd>`;
  const banner = `<div class="reg-banner ${esc(e.status)}" id="reg-entry-status" data-status="${esc(e.status)}">${esc(statusText(e.status))}</div>
    <p id="reg-entry-since">${e.reason && e.status !== 'active' ? `${labelHtml('reg_reason')}<strong>${esc(e.reason)}</strong> · ` : ''}${fillHtml('reg_since', { v: String(since.version), block: `<a href="#/block/${since.height}">${since.height}</a>`, time: timeHtml(since.time_ms) })}</p>`;
  const fieldRows = fields.map(([n, v]) => `<tr data-field="${esc(n)}"><td class="mono">${esc(n)}</td><td>${valueHtml(v)}</td></tr>`).join('');
  const personalRows = personal.map(([n, d]) => `<tr data-field="${esc(n)}"><td class="mono">${esc(n)}${personalNames.has(n) ? '' : ' ?'}</td><td class="mono" title="${esc(d)}">${esc(d)}</td></tr>`).join('');
  const versionOptions = versions.map((v) => `<option value="${v.version}" ${v.version === e.version ? 'selected' : ''}>${v.version} · ${esc(actionText(v.action))} · ${esc(statusText(v.status))}</option>`).join('')
    || `<option value="${e.version}">${e.version}</option>`;
  ctx.render(`<h1>${esc(t('reg_entry'))} <span class="mono">${esc(k)}</span></h1>
    <p><a href="${registryHref(g)}">← ${esc(titleOf(reg.body) || g)}</a></p>
    ${banner}
    <dl class="kv" id="reg-entry-detail">
      ${dd('reg_registry', `<a href="${registryHref(g)}" class="mono">${esc(g)}</a> · ${esc(titleOf(reg.body))}`, 'reg-entry-registry')}
      ${dd('reg_key', `<span class="mono">${esc(k)}</span>`, 'reg-entry-key')}
      ${dd('reg_current_version', `${e.version} · ${esc(actionText(e.action))}`, 'reg-entry-version')}
      ${dd('reg_status', statusHtml(e.status), 'reg-entry-status-cell')}
      ${dd('reg_holder', e.holder ? `<span class="mono">${esc(e.holder)}</span>` : esc(t('reg_no_holder')), 'reg-entry-holder')}
      ${dd('reg_authority', esc(reg.body.authority), 'reg-entry-authority')}
      ${dd('reg_updated', timeHtml(e.time_ms, true), 'reg-entry-time')}
      ${dd('block', `<a href="#/block/${e.height}">${e.height}</a>`, 'reg-entry-block')}
      ${dd('reg_schema_version', String(e.schema_version))}
      ${dd('reg_content_digest', `<span class="mono">${esc(e.content_digest)}</span>`, 'reg-entry-digest')}
      ${dd('reg_created_block', `<a href="#/block/${e.created_height}">${e.created_height}</a>`)}
      ${dd('reg_status_index', String(e.status_index))}
    </dl>
    <h2>${esc(t('reg_public_fields'))}</h2>${fieldRows ? scrollBox(`<table id="reg-entry-fields"><thead><tr><th>${esc(t('reg_field'))}</th><th>${esc(t('reg_value'))}</th></tr></thead><tbody>${fieldRows}</tbody></table>`) : `<p id="reg-entry-fields">${esc(t('reg_no_fields'))}</p>`}
    <h2>${esc(t('reg_personal_fields'))}</h2>${personalRows ? scrollBox(`<table id="reg-entry-personal"><thead><tr><th>${esc(t('reg_field'))}</th><th>${esc(t('reg_digest'))}</th></tr></thead><tbody>${personalRows}</tbody></table>`) : `<p id="reg-entry-personal">${esc(t('reg_no_fields'))}</p>`}
    <p class="muted">${esc(t('reg_personal_help'))}</p>
    <h2>${esc(t('reg_history'))} <span class="muted" id="reg-history-count">${esc(tn('reg_n_versions', versions.length))}</span></h2>
    ${hist.ok ? `<p class="muted">${esc(t('reg_receipt_checked'))} <a href="#/verify">${esc(t('reg_verify_file'))}</a></p><ol class="reg-timeline" id="reg-timeline">${versions.map(versionItem).join('')}</ol>` : problemHtml(hist)}
    <h2>${esc(t('reg_credential'))}</h2><p>${esc(t('reg_credential_help'))}</p>
    <form id="reg-credential-form" class="reg-form">
      <div><label for="reg-cryptosuite">${esc(t('reg_cryptosuite'))}</label><select id="reg-cryptosuite">${suites.map((s) => `<option value="${s}">${s}</option>`).join('')}</select></div>
      <div><label for="reg-credential-version">${esc(t('reg_version'))}</label><select id="reg-credential-version">${versionOptions}</select></div>
      <div class="buttons"><button type="submit" id="reg-issue">${esc(t('reg_issue'))}</button></div>
    </form>
    <div id="reg-credential" aria-live="polite"></div>
    <h2>${esc(t('reg_proof'))}</h2><p>${esc(t('reg_proof_help'))}</p>
    <p><button type="button" class="secondary" id="reg-proof-button">${esc(t('reg_proof_download'))}</button></p>
    <div id="reg-proof" aria-live="polite"></div>`);
  $('#reg-credential-form').addEventListener('submit', (ev) => { ev.preventDefault(); issue(ctx, g, k); });
  $('#reg-proof-button').addEventListener('click', () => proof(ctx, g, k));
  if (hist.ok) await checkVersions(ctx, g, k, versions);
}

/** Clicks a download link (what a button that downloads does, once the file is fetched). */
const download = (a) => a?.click();

async function issue(ctx, g, k) {
  const live = startRun(ctx, 'credential');
  const out = $('#reg-credential');
  const suite = $('#reg-cryptosuite').value, version = $('#reg-credential-version').value;
  out.innerHTML = `<p class="muted" id="reg-issuing">${esc(t('reg_issuing'))}</p>`;
  const q = new URLSearchParams({ version });
  if (suite) q.set('cryptosuite', suite);
  let r, text;
  try { r = await authFetch(`${entryApi(g, k)}/credential?${q}`); text = await r.text(); } catch (e) { r = { ok: false, status: 0 }; text = JSON.stringify({ detail: e.message }); }
  if (!live()) return;
  let body;
  try { body = JSON.parse(text); } catch { body = { detail: text }; }
  if (!r.ok) { out.innerHTML = problemHtml({ status: r.status, body }, 'reg-credential-problem'); return; }
  const url = String(body.id ?? '');
  const name = `${fileName(g)}-${fileName(k)}-v${body.credentialSubject?.version ?? version}.credential.json`;
  out.innerHTML = `<p id="reg-issued">${fillHtml('reg_issued', { v: esc(body.credentialSubject?.version ?? version), suite: `<span class="mono">${esc(body.proof?.cryptosuite ?? suite)}</span>`, method: idHtml(String(body.proof?.verificationMethod ?? '')) })}</p>
    <p>${blobLink('reg-credential-download', text, name, t('reg_credential_download'))} · <a href="#/registry/verify">${esc(t('reg_verify_link'))}</a></p>
    <div class="reg-qr"><img id="reg-credential-qr" src="/v1/qr?text=${enc(url)}" alt="${esc(t('reg_credential_qr'))}">
      <p>${esc(t('reg_credential_url'))}:<br><a id="reg-credential-url" class="mono" href="${esc(url)}">${esc(url)}</a></p></div>`;
  download($('#reg-credential-download'));
}

async function proof(ctx, g, k) {
  const live = startRun(ctx, 'proof');
  const out = $('#reg-proof');
  out.innerHTML = `<p class="muted">${esc(t('reg_proof_fetching'))}</p>`;
  let r, text;
  try { r = await authFetch(`${entryApi(g, k)}/proof`); text = await r.text(); } catch (e) { r = { ok: false, status: 0 }; text = JSON.stringify({ detail: e.message }); }
  if (!live()) return;
  let body;
  try { body = JSON.parse(text); } catch { body = { detail: text }; }
  if (!r.ok) { out.innerHTML = problemHtml({ status: r.status, body }, 'reg-proof-problem'); return; }
  out.innerHTML = `<p id="reg-proof-done">${esc(t('reg_proof_done', { height: body.height }))} ${blobLink('reg-proof-download', text, `${fileName(g)}-${fileName(k)}.state-proof.json`, t('reg_proof_download'))} · <a href="#/verify">${esc(t('reg_verify_file'))}</a></p>`;
  download($('#reg-proof-download'));
}

/** Each version's receipt: from the history, or (not yet under a checkpoint then) fetched until it is; checked here. */
async function checkVersions(ctx, g, k, versions) {
  const live = startRun(ctx, 'receipts');
  const trust = await call('/v1/trust');
  for (const v of versions) {
    if (!live()) return;
    const box = $(`#reg-receipt-${v.version}`);
    let text = v.receipt ? JSON.stringify(v.receipt, null, 2) : null;
    for (let tries = 0; !text; tries++) {
      let r;
      try { r = await authFetch(`/v1/leaves/${v.leaf_index}/receipt`); } catch (e) { r = { ok: false, status: 0, text: async () => JSON.stringify({ detail: e.message }) }; }
      if (!live()) return;
      if (r.ok) { text = await r.text(); break; }
      if (r.status === 503 && tries < 60) { box.innerHTML = `<p class="muted reg-receipt-pending">${esc(t('reg_receipt_pending'))}</p>`; await sleep(1000); continue; }
      let p = {};
      try { p = JSON.parse(await r.text()); } catch { /* no detail */ }
      box.innerHTML = `<p class="reg-receipt-none">${esc(t('reg_receipt_none', { detail: p.detail ?? `HTTP ${r.status}` }))}</p>`;
      break;
    }
    if (!text) continue;
    const res = await verifyLeafReceipt(text, trust.ok ? trust.body : null);
    if (!live()) return;
    const mine = res.valid ? versionStep(res, g, k, v) : { step: { ok: null, detail: '' } };
    if (mine.step.ok === false) Object.assign(res, { valid: false, reason: mine.step.detail });
    const st = res.steps;
    let content = '';
    if (mine.facts) {
      box.parentElement.querySelector('.made-by').textContent = `· ${t('reg_made_by', { org: mine.facts.organisation })}`;
      let pretty = mine.facts.content;
      try { pretty = JSON.stringify(JSON.parse(pretty), null, 2); } catch { /* shown as it is */ }
      content = `<details><summary>${esc(t('reg_version_content'))}</summary><pre class="reg-version-content">${esc(pretty)}</pre></details>`;
    }
    box.innerHTML = `<div class="verdict ${res.valid ? 'valid' : 'invalid'}" id="reg-verdict-${v.version}">${esc(res.valid ? t('valid') : t('invalid'))}</div>
      ${blobLink(`reg-receipt-download-${v.version}`, text, `${fileName(g)}-${fileName(k)}-v${v.version}.receipt.json`, t('reg_receipt_download'))}
      ${res.valid ? '' : `<p class="reg-verify-reason">${esc(res.reason)}</p>`}
      <details ${res.valid ? '' : 'open'}><summary>${esc(t('reg_steps'))}</summary><ol class="steps">${stepHtml('step_leaf', st.leaf)}${stepHtml('step_inclusion', st.inclusion)}${stepHtml('step_checkpoint', st.checkpoint)}${stepHtml('step_signatures', st.signatures)}${stepHtml('reg_step_version', mine.step)}</ol></details>${content}`;
  }
}

// ---------- #/registry/verify ----------

function verifyPageHtml() {
  return `<h1>${esc(t('reg_v_title'))}</h1><p>${esc(t('reg_v_help'))}</p>
    <p><a href="#/registry">← ${esc(t('reg_title'))}</a></p>
    <div class="reg-verify">
      <label for="reg-v-file">${esc(t('reg_v_credential'))}</label>
      <div class="drop" id="reg-v-drop"><input type="file" id="reg-v-file" accept=".json,.jsonld,application/json,application/vc,application/ld+json">
        <label for="reg-v-text" style="font-weight:normal">${esc(t('reg_v_paste'))}</label><textarea id="reg-v-text" spellcheck="false" autocomplete="off"></textarea></div>
      <label for="reg-v-disclosures">${esc(t('reg_v_disclosures'))}</label>
      <div class="drop" id="reg-v-drop-disclosures"><input type="file" id="reg-v-disclosures" accept=".json,application/json"></div>
      <p><button type="button" id="reg-v-button">${esc(t('reg_v_button'))}</button></p>
    </div>
    <p id="reg-v-stage" role="status"></p><progress id="reg-v-progress" hidden></progress>
    <div id="reg-v-result" aria-live="polite"></div>`;
}

async function verifyPage(ctx) {
  addStyle();
  // A fresh page each visit: nothing chosen, no verdict (an answer still on its way from an
  // earlier visit belongs to a stale context and is dropped).
  ctx.render(verifyPageHtml());
  const file = $('#reg-v-file'), text = $('#reg-v-text'), disclosures = $('#reg-v-disclosures');
  /** Any new input: the verdict on the old one goes at once, and an answer still coming is dropped. */
  const clear = () => { startRun(ctx, 'verify'); $('#reg-v-result').innerHTML = ''; $('#reg-v-stage').textContent = ''; $('#reg-v-progress').hidden = true; };
  // A chosen or dropped file fills the text box (Verify waits for it to be read).
  let reading = Promise.resolve();
  const readCredential = () => {
    clear();
    const f = file.files[0];
    if (!f) return;
    const mine = startRun(ctx, 'read');
    reading = f.text().then((body) => { if (mine()) text.value = body; }, () => {});
  };
  file.addEventListener('change', readCredential);
  text.addEventListener('input', clear);
  disclosures.addEventListener('change', clear);
  const dropZone = (zone, input, then) => {
    zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
    zone.addEventListener('dragleave', () => zone.classList.remove('over'));
    zone.addEventListener('drop', (e) => { e.preventDefault(); zone.classList.remove('over'); if (e.dataTransfer.files.length) { input.files = e.dataTransfer.files; then(); } });
  };
  dropZone($('#reg-v-drop'), file, readCredential);
  dropZone($('#reg-v-drop-disclosures'), disclosures, clear);
  $('#reg-v-button').addEventListener('click', () => verify(ctx, () => reading));
}

async function verify(ctx, reading) {
  const live = startRun(ctx, 'verify');
  const stage = $('#reg-v-stage'), bar = $('#reg-v-progress'), out = $('#reg-v-result');
  out.innerHTML = '';
  bar.hidden = false;
  bar.removeAttribute('value'); // indeterminate until the node answers
  stage.textContent = t('reg_v_checking');
  const fail = (html) => { if (!live()) return; bar.hidden = true; stage.textContent = ''; out.innerHTML = html; };
  await reading();
  if (!live()) return;
  const source = $('#reg-v-text').value.trim();
  if (!source) return fail(`<p class="bad" id="reg-v-error">${esc(t('reg_v_need'))}</p>`);
  let credential, disclosures;
  try { credential = JSON.parse(source); } catch (e) { return fail(`<p class="bad" id="reg-v-error">${esc(t('reg_v_not_json', { what: t('reg_v_the_credential'), detail: e.message }))}</p>`); }
  const dfile = $('#reg-v-disclosures').files[0];
  if (dfile) {
    let doc;
    const dtext = await dfile.text();
    if (!live()) return;
    try { doc = JSON.parse(dtext); } catch (e) { return fail(`<p class="bad" id="reg-v-error">${esc(t('reg_v_not_json', { what: t('reg_v_the_disclosures'), detail: e.message }))}</p>`); }
    disclosures = Array.isArray(doc) ? doc : doc?.disclosures;
    if (!Array.isArray(disclosures)) return fail(`<p class="bad" id="reg-v-error">${esc(t('reg_v_not_disclosures'))}</p>`);
  }
  const body = JSON.stringify(disclosures ? { credential, disclosures } : { credential });
  const r = await call('/v1/registry/credentials/verify', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  if (!live()) return;
  if (!r.ok) return fail(`<p class="bad" id="reg-v-error">${esc(t('reg_v_failed', { detail: `${r.body?.detail ?? r.body} (HTTP ${r.status})` }))}</p>`);
  // This browser's own check, for the suites it can canonicalize (JCS).
  let own = `<p class="muted" id="reg-v-browser-rdfc">${esc(t('reg_v_browser_rdfc'))}</p>`;
  if (BROWSER_SUITES.includes(credential?.proof?.cryptosuite)) {
    const fetchJson = async (path) => { const x = await call(path); if (!x.ok) throw new Error(`${path}: HTTP ${x.status}`); return typeof x.body === 'string' ? JSON.parse(x.body) : x.body; };
    const findings = await checkInBrowser(credential, fetchJson).catch((e) => [{ what: 'proof', ok: false, detail: e.message }]);
    if (!live()) return;
    own = browserHtml(findings);
  }
  fail(verdictHtml(r.body) + own);
}

/** What this browser's own check found. */
function browserHtml(findings) {
  const valid = findings.every((f) => f.ok);
  const label = (w) => t(w === 'proof' ? 'reg_v_b_proof' : w === 'revocation' ? 'reg_v_revocation' : w === 'suspension' ? 'reg_v_suspension' : 'reg_v_unknown');
  const rows = findings.map((f) => `<dt>${esc(label(f.what))}</dt><dd class="${f.ok ? 'ok' : 'bad'}" data-what="${esc(f.what)}">${esc(f.set === undefined ? (f.ok ? t('valid') : t('invalid')) : t(f.set ? 'reg_v_b_set' : 'reg_v_b_clear'))}${f.detail ? ` <span class="muted">${esc(f.detail)}</span>` : ''}</dd>`).join('');
  return `<h3>${esc(t('reg_v_browser'))}</h3><div class="verdict ${valid ? 'valid' : 'invalid'}" id="reg-v-browser">${esc(valid ? t('valid') : t('invalid'))}</div>
    <dl class="kv" id="reg-v-browser-findings">${rows}</dl><p class="muted">${esc(t('reg_v_browser_help'))}</p>`;
}

/** The node's verdict on a credential, in words. */
function verdictHtml(v) {
  const dd = (key, html, id = '') => `<dt>${esc(t(key))}</dt><dd${id ? ` id="${id}"` : ''}>${html || '—'}</dd>`;
  const st = v.status ?? {};
  const word = (set, yes, no) => (set === true ? `<span class="bad">${esc(t(yes))}</span>` : set === false ? `<span class="ok">${esc(t(no))}</span>` : esc(t('reg_v_unknown')));
  const problems = v.problems ?? [];
  const disclosed = Object.entries(v.disclosed ?? {});
  const entryLink = v.registry && v.key ? `<a href="${entryHref(v.registry, v.key)}" class="mono">${esc(v.registry)} / ${esc(v.key)}</a>${v.version != null ? ` · ${esc(t('reg_version'))} ${esc(v.version)}` : ''}` : '';
  return `<div class="verdict ${v.valid ? 'valid' : 'invalid'}" id="reg-v-verdict">${esc(v.valid ? t('valid') : t('invalid'))}</div>
    ${problems.length ? `<h3 id="reg-v-problems-count">${esc(tn('reg_n_problems', problems.length))}</h3><ul id="reg-v-problems">${problems.map((p) => `<li class="bad">${esc(p)}</li>`).join('')}</ul>` : ''}
    <dl class="kv" id="reg-v-facts">
      ${dd('reg_v_entry', entryLink, 'reg-v-entry')}
      ${dd('reg_v_revocation', word(st.revocation, 'reg_v_revoked', 'reg_v_not_revoked'), 'reg-v-revocation')}
      ${dd('reg_v_suspension', word(st.suspension, 'reg_v_suspended', 'reg_v_not_suspended'), 'reg-v-suspension')}
      ${st.current_version != null ? dd('reg_current_version', esc(t('reg_v_newer', { v: st.current_version, c: v.version })), 'reg-v-current') : ''}
      ${dd('reg_v_issuer', esc(v.authority ?? ''), 'reg-v-issuer')}
      ${dd('reg_v_method', v.verification_method ? idHtml(v.verification_method) : '', 'reg-v-method')}
      ${dd('reg_cryptosuite', v.cryptosuite ? `<span class="mono">${esc(v.cryptosuite)}</span>` : '', 'reg-v-cryptosuite')}
    </dl>
    <h3>${esc(t('reg_v_disclosed'))}</h3>${disclosed.length ? scrollBox(`<table id="reg-v-disclosed"><thead><tr><th>${esc(t('reg_field'))}</th><th>${esc(t('reg_value'))}</th></tr></thead><tbody>${disclosed.map(([n, x]) => `<tr data-field="${esc(n)}"><td class="mono">${esc(n)}</td><td>${valueHtml(x)}</td></tr>`).join('')}</tbody></table>`) : `<p class="muted" id="reg-v-disclosed">${esc(t('reg_v_none_disclosed'))}</p>`}
    <p class="muted" id="reg-v-as-of">${esc(t('reg_v_as_of', { height: v.as_of_height }))}</p>`;
}

// ---------- state proofs (the shell's Verify page) ----------

const ACTION_NAMES = Object.fromEntries(Object.entries(ACTION_CODES).map(([n, c]) => [c, n]));
const STATUS_NAMES = Object.fromEntries(Object.entries(STATUS_CODES).map(([n, c]) => [c, n]));
const PURPOSE_NAMES = { 1: 'revocation', 2: 'suspension' };
const strictText = new TextDecoder('utf-8', { fatal: true });
const jsonOf = (bytes) => JSON.parse(strictText.decode(bytes));

/** A version as the node's JSON names it (json.rs, version_json), read from its encoding (wire.rs, Version). */
function readVersion(rd) {
  const version = rd.u32('version');
  const action = ACTION_NAMES[rd.u8('action')], status = STATUS_NAMES[rd.u8('status')];
  if (!action) throw new Error('unknown action');
  if (!status) throw new Error('unknown status');
  const v = { version, action, status, reason: rd.str('reason', 256), holder: rd.str('holder', 256), schema_version: rd.u32('schema_version'),
    content_digest: toHex(rd.fixed(32, 'content_digest')), height: rd.u64Exact('height'), time_ms: rd.u64Exact('time_ms'), leaf_index: rd.u64Exact('leaf') };
  if (v.version === 0 || v.schema_version === 0) throw new Error('versions start at 1');
  return v;
}

const whole = (bytes, read) => { const rd = new Reader(bytes); const v = read(rd); rd.finish(); return v; };
const registryIdOf = (rd) => { const g = rd.str('registry', 64); if (!REGISTRY_ID.test(g) || g === 'credentials') throw new Error(`registry id ${JSON.stringify(g)} is not [a-z0-9][a-z0-9-]*`); return g; };
const entryKeyOf = (rd) => { const k = rd.str('key', 256); if (!k || k.trim() !== k) throw new Error('an entry key is not empty and has no space at an end'); return k; };

/**
 * The readable view of a registry state value, as the node writes it in a state proof
 * (json.rs, state_view): a registry, a schema version, an entry, a version, a chunk of a status
 * list or a content, each from its key (wire.rs, StateKey) and value bytes; throws why not.
 */
function registryStateView(key, value) {
  if (!key.length) throw new Error('an empty key');
  const tag = String.fromCharCode(key[0]);
  if (tag === 'c') {
    if (key.length !== 33) throw new Error('a content key is "c" and a 32-byte digest');
    return { content_digest: toHex(key.subarray(1)), content: value === null ? null : jsonOf(value) };
  }
  return whole(key.subarray(1), (rd) => {
    const registry = registryIdOf(rd);
    switch (tag) {
      case 'g': return { registry, exists: value !== null, value: value === null ? null : whole(value, (v) => {
        const r = { id: registry, authority: v.str('authority', 256), title: { zh: v.str('title_zh', 256), en: v.str('title_en', 256) } };
        return { ...r, schema_version: v.u32('schema_version'), entries: v.u64Exact('entries'), created_height: v.u64Exact('created_height'), created_time_ms: v.u64Exact('created_time_ms') };
      }) };
      case 's': return { registry, schema_version: rd.u32('schema version'), schema: value === null ? null : jsonOf(value) };
      case 'e': {
        const k = entryKeyOf(rd);
        if (value === null) return { registry, key: k, exists: false };
        return whole(value, (v) => ({ ...readVersion(v), registry, key: k, status_index: v.u64Exact('status_index'), created_height: v.u64Exact('created_height'), exists: true }));
      }
      case 'v': {
        const k = entryKeyOf(rd);
        return { registry, key: k, version: rd.u32('version'), value: value === null ? null : whole(value, readVersion) };
      }
      case 'b': {
        const purpose = PURPOSE_NAMES[rd.u8('purpose')];
        if (!purpose) throw new Error('unknown status purpose');
        return { registry, purpose, chunk: rd.u32('chunk'), bits: value === null ? null : toHex(value) };
      }
      default: throw new Error(`unknown registry state key tag ${key[0]}`);
    }
  });
}

/** A valid proof of an entry, in words (null for the shell's words on other keys). */
function stateSummaryHtml(res) {
  const v = res.view;
  if (!v || v.exists === undefined || v.key === undefined) return null;
  const parts = { height: `<a href="#/block/${res.height}">${res.height}</a>`, registry: `<a href="${registryHref(v.registry)}" class="mono">${esc(v.registry)}</a>`, key: `<a href="${entryHref(v.registry, v.key)}" class="mono">${esc(v.key)}</a>` };
  if (!v.exists) return fillHtml('reg_state_none', parts);
  return fillHtml('reg_state_entry', { ...parts, version: esc(v.version), status: statusHtml(v.status), digest: idHtml(v.content_digest) });
}

const stateView = {
  view: registryStateView,
  detail: (v) => (v.key !== undefined && v.exists !== undefined ? `${v.registry} / ${v.key}${v.exists ? ` · ${t('reg_version')} ${v.version} · ${statusText(v.status)}` : ''}` : `${v.registry ?? v.content_digest}`),
  summaryHtml: stateSummaryHtml,
};

// ---------- routes and search ----------

async function page(ctx, parts, params) {
  const [g, k, ...rest] = parts;
  if (g === undefined || g === '') return listPage(ctx);
  if (g === 'verify' && parts.length === 1) return verifyPage(ctx);
  if (k === undefined || (k === '' && !rest.length)) return registryPage(ctx, g, params);
  // An entry key may hold '/': the hash encodes it, but take a bare one as it is.
  return entryPage(ctx, g, [k, ...rest].join('/'));
}

/** A registry's id opens it; "<registry>/<key>" opens the entry. */
async function search(ctx, q) {
  if (REGISTRY_ID.test(q)) {
    const r = await call(apiOf(q));
    return r.ok ? { go: registryHref(q) } : null;
  }
  const m = /^([a-z0-9][a-z0-9-]{0,63})\/(.+)$/.exec(q);
  if (m) {
    const r = await call(entryApi(m[1], m[2]));
    return r.ok ? { go: entryHref(m[1], m[2]) } : null;
  }
  return null;
}

export default {
  strings,
  nav: [{ hash: '#/registry', key: 'nav_registry' }],
  pages: { registry: page },
  search,
  verify: { state: stateView },
};
