// The governance module's console page (kit.js describes a module page): #/governance lists
// open and past proposals with their votes and outcome, the organisations and their member keys
// with roles; #/proposal/<id> shows one proposal. An admin loads a key file (kept in this page
// only) to vote, or to propose an organisation, a member key, a removal or new roles: the
// transaction is encoded and signed in the browser (the canonical bytes of
// crates/modules/governance/src/action.rs) and submitted. Served at
// /console/modules/governance/page.js.

import { esc, t, api, scrollBox, notFound, idHtml, readKeyFile } from '/console/kit.js';
import { Writer, fromHex, signTx } from '/console/encoding.js';

const strings = {
  en: {
    nav_governance: 'Governance',
    gov_title: 'Governance', gov_open: 'Open proposals', gov_past: 'Past proposals', gov_orgs: 'Organisations', gov_members: 'Member keys',
    gov_none: 'None', gov_id: 'No.', gov_action: 'Action', gov_status: 'Status', gov_votes: 'Votes', gov_outcome: 'Outcome', gov_expires: 'Open until block',
    gov_org: 'Organisation', gov_roles: 'Roles', gov_every_right: 'every right (genesis)', gov_key: 'Key', gov_since: 'Since block',
    gov_proposal: 'Proposal', gov_proposer: 'Proposed by', gov_made: 'Made at block', gov_electorate: 'Who votes', gov_threshold: 'Share that must approve',
    gov_applied: 'applied at block {h}', gov_failed: 'not applied at block {h}: {why}',
    st_open: 'open', st_passed: 'passed', st_rejected: 'rejected', st_expired: 'expired', st_active: 'active', st_frozen: 'frozen', st_removed: 'removed',
    gov_act: 'Act as an admin', gov_key_file: 'Admin key file (kept in this page only)', gov_key_ready: 'Signing as {key} ({org})',
    gov_approve: 'Approve', gov_reject: 'Reject', gov_propose: 'Propose', gov_kind: 'Kind',
    k_add_organisation: 'Add an organisation', k_remove_organisation: 'Remove an organisation', k_add_member: 'Add a member key',
    k_remove_member: 'Remove a member key', k_set_roles: 'Set a key’s roles', k_rotate_key: 'Rotate a key', k_set_parameter: 'Set a parameter', k_validator_set: 'Change validators',
    gov_f_id: 'Organisation id', gov_f_name: 'Name', gov_f_admin: 'Admin public key (hex)', gov_f_key: 'Public key (hex)', gov_f_roles: 'Roles (comma separated)',
    gov_f_blocks: 'Open for blocks', gov_sent: 'Committed in block {h}', gov_need_key: 'Load an admin key file first',
  },
  zh: {
    nav_governance: '治理',
    gov_title: '治理', gov_open: '进行中的提案', gov_past: '已结束的提案', gov_orgs: '机构', gov_members: '成员密钥',
    gov_none: '无', gov_id: '编号', gov_action: '事项', gov_status: '状态', gov_votes: '投票', gov_outcome: '结果', gov_expires: '截止区块',
    gov_org: '机构', gov_roles: '角色', gov_every_right: '全部权限（创世）', gov_key: '密钥', gov_since: '起始区块',
    gov_proposal: '提案', gov_proposer: '提案人', gov_made: '提出于区块', gov_electorate: '投票机构', gov_threshold: '通过比例',
    gov_applied: '已于区块 {h} 生效', gov_failed: '未能在区块 {h} 生效：{why}',
    st_open: '进行中', st_passed: '已通过', st_rejected: '已否决', st_expired: '已过期', st_active: '有效', st_frozen: '已冻结', st_removed: '已移除',
    gov_act: '以管理员身份操作', gov_key_file: '管理员密钥文件（仅保存在本页面）', gov_key_ready: '签名密钥 {key}（{org}）',
    gov_approve: '赞成', gov_reject: '反对', gov_propose: '提出提案', gov_kind: '类型',
    k_add_organisation: '接纳机构', k_remove_organisation: '移除机构', k_add_member: '添加成员密钥',
    k_remove_member: '移除成员密钥', k_set_roles: '设置密钥角色', k_rotate_key: '轮换密钥', k_set_parameter: '修改参数', k_validator_set: '变更验证节点',
    gov_f_id: '机构标识', gov_f_name: '名称', gov_f_admin: '管理员公钥（十六进制）', gov_f_key: '公钥（十六进制）', gov_f_roles: '角色（逗号分隔）',
    gov_f_blocks: '开放区块数', gov_sent: '已在区块 {h} 提交', gov_need_key: '请先加载管理员密钥文件',
  },
};

/** The loaded admin key and the chain's status, kept while the console is open. */
const state = { key: null, status: null };

// ---------- canonical bytes (crates/modules/governance/src/action.rs) ----------

const roleList = (w, roles) => { const r = [...new Set(roles)].sort(); w.u32(r.length); for (const x of r) w.str(x); return w; };

/** An action's canonical bytes from its JSON form (the node's GovernanceAction). */
export function encodeAction(a) {
  const w = new Writer();
  switch (a.type) {
    case 'add-organisation':
      w.u8(1).str(a.id).str(a.name).u32(a.members.length);
      for (const m of a.members) roleList(w.bytes(fromHex(m.key)), m.roles);
      break;
    case 'remove-organisation': w.u8(2).str(a.id); break;
    case 'add-member': roleList(w.u8(3).str(a.organisation).bytes(fromHex(a.key)), a.roles); break;
    case 'remove-member': w.u8(4).str(a.organisation).bytes(fromHex(a.key)); break;
    case 'set-roles': roleList(w.u8(5).str(a.organisation).bytes(fromHex(a.key)), a.roles); break;
    case 'rotate-key': w.u8(6).str(a.organisation).bytes(fromHex(a.old_key)).bytes(fromHex(a.new_key)); break;
    case 'set-parameter': w.u8(7).str(a.name).u64(a.value); break;
    case 'validator-set': w.u8(8); break;
    default: throw new Error(`unknown action ${a.type}`);
  }
  return w.finish();
}

async function submit(method, args) {
  if (!state.key) throw new Error(t('gov_need_key'));
  const s = state.status ?? (state.status = (await api('/v1/status')).body);
  const tx = await signTx({ suite: s.suite, secret: state.key.secret, chainId: s.chain_id, module: 'governance', method, args });
  const framed = new Uint8Array(4 + tx.bytes.length);
  new DataView(framed.buffer).setUint32(0, tx.bytes.length);
  framed.set(tx.bytes, 4);
  const r = await api('/v1/transactions?wait=true', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: framed });
  const res = r.body?.results?.[0];
  if (res?.error) throw new Error(`${res.error.code}: ${res.error.detail}`);
  if (!r.ok || res?.status !== 'committed') throw new Error(r.body?.detail ?? `HTTP ${r.status}`);
  return res;
}

// ---------- views ----------

const statusHtml = (s) => `<span class="badge st-${esc(s)}">${esc(t(`st_${s}`))}</span>`;

function actionText(a) {
  const what = t(`k_${a.type.replaceAll('-', '_')}`);
  const detail = a.id ?? a.organisation ?? a.name ?? '';
  const key = a.key ?? a.old_key;
  return `${esc(what)}${detail ? ` <b>${esc(detail)}</b>` : ''}${key ? ` ${idHtml(key)}` : ''}`;
}

function outcomeText(p) {
  if (!p.outcome) return '—';
  return esc(p.outcome.applied ? t('gov_applied').replace('{h}', p.outcome.height) : t('gov_failed').replace('{h}', p.outcome.height).replace('{why}', p.outcome.reason));
}

const votesText = (p) => Object.entries(p.votes).map(([o, v]) => `${esc(o)}: ${esc(t(v === 'approve' ? 'gov_approve' : 'gov_reject'))}`).join(', ') || '—';

function proposalRows(list) {
  if (!list.length) return `<p>${esc(t('gov_none'))}</p>`;
  const rows = list.map((p) => `<tr data-proposal="${p.id}"><td><a href="#/proposal/${p.id}">${p.id}</a></td><td>${actionText(p.action)}</td>
    <td>${statusHtml(p.status)}</td><td>${p.approvals}/${p.electorate.length} (${esc(p.threshold)})</td><td>${p.expires_height}</td><td>${outcomeText(p)}</td></tr>`).join('');
  return scrollBox(`<table><thead><tr><th>${esc(t('gov_id'))}</th><th>${esc(t('gov_action'))}</th><th>${esc(t('gov_status'))}</th><th>${esc(t('gov_votes'))}</th><th>${esc(t('gov_expires'))}</th><th>${esc(t('gov_outcome'))}</th></tr></thead><tbody>${rows}</tbody></table>`);
}

function keyForm() {
  const who = state.key ? esc(t('gov_key_ready').replace('{key}', state.key.pub.slice(0, 12) + '…').replace('{org}', state.key.org ?? '?')) : '';
  return `<section class="panel"><h2>${esc(t('gov_act'))}</h2>
    <label>${esc(t('gov_key_file'))} <input type="file" id="gov-key" accept=".key,application/json"></label> <span id="gov-key-state">${who}</span></section>`;
}

function proposeForm() {
  const kinds = ['add-organisation', 'remove-organisation', 'add-member', 'remove-member', 'set-roles'];
  return `<section class="panel"><h2>${esc(t('gov_propose'))}</h2><form id="gov-propose">
    <label>${esc(t('gov_kind'))} <select name="type">${kinds.map((k) => `<option value="${k}">${esc(t(`k_${k.replaceAll('-', '_')}`))}</option>`).join('')}</select></label>
    <label>${esc(t('gov_f_id'))} <input name="id" pattern="[a-z0-9._-]{1,64}"></label>
    <label>${esc(t('gov_f_name'))} <input name="name"></label>
    <label>${esc(t('gov_f_key'))} <input name="key" class="mono"></label>
    <label>${esc(t('gov_f_roles'))} <input name="roles" placeholder="evidence.depositor"></label>
    <label>${esc(t('gov_f_blocks'))} <input name="blocks" type="number" min="1" value="1000"></label>
    <button type="submit">${esc(t('gov_propose'))}</button> <span id="gov-propose-state"></span></form></section>`;
}

function actionFromForm(f) {
  const roles = (f.roles.value || '').split(',').map((x) => x.trim()).filter(Boolean);
  const org = f.id.value.trim();
  switch (f.type.value) {
    case 'add-organisation': return { type: 'add-organisation', id: org, name: f.name.value.trim(), members: [{ key: f.key.value.trim(), roles: [...roles, 'org.admin'] }] };
    case 'remove-organisation': return { type: 'remove-organisation', id: org };
    case 'add-member': return { type: 'add-member', organisation: org, key: f.key.value.trim(), roles };
    case 'remove-member': return { type: 'remove-member', organisation: org, key: f.key.value.trim() };
    default: return { type: 'set-roles', organisation: org, key: f.key.value.trim(), roles };
  }
}

function wireKey(ctx, rerender) {
  document.getElementById('gov-key')?.addEventListener('change', async (e) => {
    const out = document.getElementById('gov-key-state');
    try {
      const k = await readKeyFile(await e.target.files[0].text());
      const m = await api(`/v1/governance/members/${k.pub}`);
      state.key = { ...k, org: m.ok ? m.body.organisation : null };
      if (ctx.current()) rerender();
    } catch (err) { out.textContent = err.message; }
  });
}

async function governancePage(ctx) {
  const [open, all, orgs, members] = await Promise.all([api('/v1/governance/proposals?open=true'), api('/v1/governance/proposals?limit=100'), api('/v1/governance/organisations'), api('/v1/governance/members')]);
  if (!all.ok) return notFound(ctx, all);
  const past = all.body.proposals.filter((p) => p.status !== 'open');
  const orgRows = orgs.body.organisations.map((o) => `<tr><td>${esc(o.id)}</td><td>${esc(o.name)}</td><td>${statusHtml(o.status)}</td><td>${o.keys.length}</td></tr>`).join('');
  const memberRows = members.body.members.map((m) => `<tr><td>${idHtml(m.key)}</td><td>${esc(m.organisation)}</td><td>${m.roles === null ? esc(t('gov_every_right')) : esc(m.roles.join(', ') || '—')}</td><td>${statusHtml(m.status)}</td><td>${m.since_height}</td></tr>`).join('');
  ctx.render(`<h1>${esc(t('gov_title'))}</h1>
    <h2>${esc(t('gov_open'))}</h2><div id="gov-open">${proposalRows(open.body.proposals)}</div>
    ${keyForm()}${state.key ? proposeForm() : ''}
    <h2>${esc(t('gov_past'))}</h2><div id="gov-past">${proposalRows(past)}</div>
    <h2>${esc(t('gov_orgs'))}</h2>${scrollBox(`<table id="gov-orgs"><thead><tr><th>ID</th><th>${esc(t('gov_f_name'))}</th><th>${esc(t('gov_status'))}</th><th>${esc(t('gov_members'))}</th></tr></thead><tbody>${orgRows}</tbody></table>`)}
    <h2>${esc(t('gov_members'))}</h2>${scrollBox(`<table id="gov-members"><thead><tr><th>${esc(t('gov_key'))}</th><th>${esc(t('gov_org'))}</th><th>${esc(t('gov_roles'))}</th><th>${esc(t('gov_status'))}</th><th>${esc(t('gov_since'))}</th></tr></thead><tbody>${memberRows}</tbody></table>`)}`);
  wireKey(ctx, () => governancePage(ctx));
  document.getElementById('gov-propose')?.addEventListener('submit', async (e) => {
    e.preventDefault();
    const out = document.getElementById('gov-propose-state');
    try {
      const h = (await api('/v1/status')).body.height;
      const expires = h + Math.max(1, Number(e.target.blocks.value) || 1000);
      const action = encodeAction(actionFromForm(e.target));
      const args = new Writer().bytes(action).u64(expires).finish();
      const res = await submit('propose', args);
      out.textContent = t('gov_sent').replace('{h}', res.block_height);
      if (ctx.current()) governancePage(ctx);
    } catch (err) { out.textContent = err.message; }
  });
}

async function proposalPage(ctx, [id]) {
  const r = await api(`/v1/governance/proposals/${encodeURIComponent(id ?? '')}`);
  if (!r.ok) return notFound(ctx, r);
  const p = r.body;
  const canVote = state.key && p.status === 'open' && p.electorate.includes(state.key.org);
  ctx.render(`<h1>${esc(t('gov_proposal'))} ${p.id}</h1>
    <dl class="kv" id="proposal-detail">
      <dt>${esc(t('gov_action'))}</dt><dd>${actionText(p.action)}</dd>
      <dt>${esc(t('gov_status'))}</dt><dd id="proposal-status">${statusHtml(p.status)}</dd>
      <dt>${esc(t('gov_proposer'))}</dt><dd>${esc(p.organisation)} ${idHtml(p.proposer)}</dd>
      <dt>${esc(t('gov_made'))}</dt><dd><a href="#/block/${p.made_height}">${p.made_height}</a></dd>
      <dt>${esc(t('gov_expires'))}</dt><dd>${p.expires_height}</dd>
      <dt>${esc(t('gov_electorate'))}</dt><dd>${esc(p.electorate.join(', '))}</dd>
      <dt>${esc(t('gov_threshold'))}</dt><dd>${esc(p.threshold)} (${p.approvals}/${p.electorate.length})</dd>
      <dt>${esc(t('gov_votes'))}</dt><dd id="proposal-votes">${votesText(p)}</dd>
      <dt>${esc(t('gov_outcome'))}</dt><dd id="proposal-outcome">${outcomeText(p)}</dd>
      <dt>TX</dt><dd><a href="#/tx/${p.tx_id}">${idHtml(p.tx_id)}</a></dd>
    </dl>${keyForm()}
    ${canVote ? `<p><button id="vote-approve">${esc(t('gov_approve'))}</button> <button id="vote-reject">${esc(t('gov_reject'))}</button> <span id="vote-state"></span></p>` : ''}`);
  wireKey(ctx, () => proposalPage(ctx, [id]));
  for (const [btn, v] of [['vote-approve', 1], ['vote-reject', 2]]) {
    document.getElementById(btn)?.addEventListener('click', async () => {
      const out = document.getElementById('vote-state');
      try {
        await submit('vote', new Writer().u64(p.id).u8(v).finish());
        if (ctx.current()) proposalPage(ctx, [id]);
      } catch (err) { out.textContent = err.message; }
    });
  }
}

export default {
  strings,
  nav: [{ hash: '#/governance', key: 'nav_governance' }],
  pages: { governance: governancePage, proposal: proposalPage },
};
