// Interface text in English and Chinese. Keys are stable; add both languages together. The
// shell's own text is here; each ledger module's page brings its own (addStrings, kit.js).
export const TEXT = {
  en: {
    title: 'Cairn ledger', skip: 'Skip to content', nav_overview: 'Overview', nav_blocks: 'Blocks', nav_verify: 'Verify',
    search_label: 'Search by height, hash, transaction, record id, digest or reference', search: 'Search', language: '中文',
    chain: 'Chain', suite: 'Crypto suite', height: 'Height', finalized: 'Finalised height', log_size: 'Log size', mempool: 'Waiting transactions',
    organisations: 'Organisations', validators: 'Validators', peers: 'Peers connected', quorum: 'Quorum', faults: 'Faults seen', checkpoint: 'Latest checkpoint', throughput: 'Throughput (last 5 minutes)',
    tx_per_s: 'transactions/s', blocks_per_s: 'blocks/s', live: 'Live', reconnecting: 'Reconnecting…',
    signin_title: 'Members only', signin_help: 'This ledger serves its members only. Sign in with your member key file (it stays in this tab\'s memory and signs each request) or an access token your organisation\'s admin issued.', signin_key: 'Member key file', signin_token: 'Or an access token', signin_button: 'Sign in', signout: 'Sign out', signin_need: 'Choose a key file or paste a token', signin_refused: 'Refused',
    recent_blocks: 'Recent blocks', older: 'Older blocks', time: 'Time', transactions: 'Transactions', records: 'Records', hash: 'Hash', parent: 'Parent',
    block: 'Block', transaction: 'Transaction', status: 'Status', committed: 'committed', pending: 'pending', rejected: 'rejected',
    digest: 'Content digest', receipt: 'Receipt', not_found: 'Nothing found',
    verify_title: 'Verify a receipt or state proof', verify_help: 'Everything is checked in this browser, with its own code, against the validators\' public keys. Once loaded, this page works offline.',
    receipt_file: 'Receipt (JSON or .tlog-proof), leaf receipt or state proof (JSON)', original_file: 'Original file (optional)', trust_file: 'Trust file (optional; default: this chain\'s)',
    verify_button: 'Verify', valid: 'VALID', invalid: 'INVALID', step_file: 'File fingerprint', step_record: 'Record', step_checkpoint: 'Checkpoint',
    step_signatures: 'Signatures by', step_inclusion: 'Inclusion proof', not_checked: 'not checked', need_receipt: 'Choose a receipt file',
    checking: 'Checking…', hashing_file: 'Fingerprinting the file', genesis: 'Genesis hash', disk: 'Disk used',
    verify_state_title: 'State proof', step_header: 'Block header', step_state: 'State proof', step_view: 'Readable value',
    state_has_value: 'At block {height}, {module} key {key} had the value {value}.', state_no_value: 'At block {height}, {module} key {key} had no value.',
    verify_leaf_title: 'Module leaf receipt', step_leaf: 'Logged leaf', leaf_module: 'Module', leaf_kind: 'Kind', leaf_payload_size: 'Payload size',
    leaf_payload_text: 'Payload (text)', leaf_payload_hex: 'Payload (hex)', leaf_index: 'Leaf index',
    leaf_summary: 'Module {module} logged this leaf, of kind {kind}, at leaf index {index} of the log whose {size} leaves a quorum of validators signed.',
    leaf_block: 'This is the chain\'s own block leaf: its payload is a block header.',
    n_records: { one: '{n} record', other: '{n} records' }, n_transactions: { one: '{n} transaction', other: '{n} transactions' },
    n_bytes: { one: '{n} byte', other: '{n} bytes' },
    unknown_receipt: 'This console has no verifier for this file (format {format}): it is not a receipt, leaf receipt or state proof of this chain\'s modules.',
  },
  zh: {
    title: 'Cairn 账本', skip: '跳到正文', nav_overview: '概览', nav_blocks: '区块', nav_verify: '验证',
    search_label: '按高度、哈希、交易、记录编号、摘要或案号搜索', search: '搜索', language: 'English',
    chain: '链', suite: '密码套件', height: '高度', finalized: '最终确认高度', log_size: '日志大小', mempool: '待处理交易',
    organisations: '机构', validators: '验证节点', peers: '已连接的节点', quorum: '法定人数', faults: '发现的违规行为', checkpoint: '最新检查点', throughput: '吞吐量（最近 5 分钟）',
    tx_per_s: '交易/秒', blocks_per_s: '区块/秒', live: '实时', reconnecting: '正在重新连接…',
    signin_title: '仅限成员', signin_help: '本账本仅向成员开放。请使用成员密钥文件（只保存在本标签页的内存中，用于为每个请求签名）或贵机构管理员签发的访问令牌登录。', signin_key: '成员密钥文件', signin_token: '或访问令牌', signin_button: '登录', signout: '退出登录', signin_need: '请选择密钥文件或粘贴令牌', signin_refused: '被拒绝',
    recent_blocks: '最新区块', older: '更早的区块', time: '时间', transactions: '交易', records: '记录', hash: '哈希', parent: '父区块',
    block: '区块', transaction: '交易', status: '状态', committed: '已提交', pending: '待处理', rejected: '已拒绝',
    digest: '内容摘要', receipt: '回执', not_found: '未找到',
    verify_title: '验证回执或状态证明', verify_help: '全部检查都在本浏览器中用独立代码完成，只依赖验证节点的公钥。加载后可离线使用。',
    receipt_file: '回执（JSON 或 .tlog-proof）、日志叶回执或状态证明（JSON）', original_file: '原始文件（可选）', trust_file: '信任文件（可选；默认使用本链的）',
    verify_button: '验证', valid: '有效', invalid: '无效', step_file: '文件摘要', step_record: '记录', step_checkpoint: '检查点',
    step_signatures: '签名机构', step_inclusion: '包含证明', not_checked: '未检查', need_receipt: '请选择回执文件',
    checking: '正在检查…', hashing_file: '正在计算文件摘要', genesis: '创世哈希', disk: '磁盘占用',
    verify_state_title: '状态证明', step_header: '区块头', step_state: '状态证明', step_view: '可读值',
    state_has_value: '在区块 {height}，{module} 模块的键 {key} 的值为 {value}。', state_no_value: '在区块 {height}，{module} 模块的键 {key} 没有值。',
    verify_leaf_title: '模块日志叶回执', step_leaf: '日志叶', leaf_module: '模块', leaf_kind: '类型', leaf_payload_size: '载荷大小',
    leaf_payload_text: '载荷（文本）', leaf_payload_hex: '载荷（十六进制）', leaf_index: '叶序号',
    leaf_summary: '{module} 模块记录了这片类型为 {kind} 的日志叶，叶序号 {index}，所在日志共 {size} 片叶，已由法定人数的验证节点签名。',
    leaf_block: '这是链自身的区块叶：其载荷是区块头。',
    n_records: { other: '{n} 条记录' }, n_transactions: { other: '{n} 笔交易' },
    n_bytes: { other: '{n} 字节' },
    unknown_receipt: '本控制台无法验证此文件（格式 {format}）：它不是本链各模块的回执、日志叶回执或状态证明。',
  },
};

/** Who brought each key: the shell for the table above, else the module's name. */
const OWNER = new Map(Object.keys(TEXT.en).map((k) => [k, 'the console']));

/**
 * Merges a module's text (`{ en: {…}, zh: {…} }`) into the table. A key the shell or another
 * module already has is refused with a warning (the first keeps it), and so is a language the
 * console does not have; a key missing in one language falls back to English there (warned).
 */
export function addStrings(source, strings) {
  if (strings == null) return;
  if (typeof strings !== 'object') throw new Error('strings must be an object of languages');
  for (const l of Object.keys(strings)) if (!(l in TEXT)) console.warn(`console: module ${source}: no language ${l} in the console; its text is left out`);
  const keys = new Set(Object.keys(TEXT).flatMap((l) => Object.keys(strings[l] ?? {})));
  for (const key of keys) {
    if (OWNER.has(key)) {
      console.warn(`console: module ${source}: text key ${key} is already ${OWNER.get(key)}'s; theirs is kept`);
      continue;
    }
    OWNER.set(key, `module ${source}`);
    for (const l of Object.keys(TEXT)) {
      if (strings[l] && key in strings[l]) TEXT[l][key] = strings[l][key];
      else console.warn(`console: module ${source}: text key ${key} has no ${l} text`);
    }
  }
}

let lang = (globalThis.localStorage && localStorage.getItem('cairn.lang')) || ((globalThis.navigator?.language || '').startsWith('zh') ? 'zh' : 'en');
export const getLang = () => lang;
export function setLang(l) { lang = l; try { localStorage.setItem('cairn.lang', l); } catch { /* private mode */ } }
export const locale = () => (lang === 'zh' ? 'zh-CN' : 'en');
const fill = (s, vars) => s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));

/** The text for `key`, with `{name}` placeholders filled from `vars`. */
export function t(key, vars) {
  const s = TEXT[lang][key] ?? TEXT.en[key] ?? key;
  return vars ? fill(s, vars) : s;
}

/** A count with its noun in the right plural form: "1 record", "2 records", "2 条记录". */
export function tn(key, n) {
  const forms = TEXT[lang][key] ?? TEXT.en[key];
  return fill(forms[new Intl.PluralRules(locale()).select(n)] ?? forms.other, { n: formatNumber(n) });
}

export const formatNumber = (n) => new Intl.NumberFormat(locale()).format(n);

/**
 * A time in the viewer's own time zone (the browser's), 24-hour clock; `long` adds the zone's
 * name. Callers put the UTC ISO form in a title, so the exact instant stays one hover away.
 */
export function formatTime(ms, long = false) {
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: long ? 'long' : 'medium', hourCycle: 'h23' }).format(new Date(ms));
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** 300000 → "293 KB": binary units, with one decimal below 100 where it tells something. */
export function formatSize(bytes) {
  let v = bytes, u = 0;
  while (v >= 1023.5 && u < UNITS.length - 1) { v /= 1024; u++; }
  const digits = u > 0 && v < 100 ? 1 : 0;
  return `${new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(v)} ${UNITS[u]}`;
}
