// Interface text in English and Chinese. Keys are stable; add both languages together.
export const TEXT = {
  en: {
    title: 'Cairn ledger', skip: 'Skip to content', nav_overview: 'Overview', nav_blocks: 'Blocks', nav_deposit: 'Deposit', nav_verify: 'Verify',
    search_label: 'Search by height, hash, transaction, record id, digest or reference', search: 'Search', language: '中文',
    chain: 'Chain', suite: 'Crypto suite', height: 'Height', finalized: 'Finalised height', log_size: 'Log size', mempool: 'Waiting transactions',
    organisations: 'Organisations', validators: 'Validators', peers: 'Peers connected', quorum: 'Quorum', faults: 'Faults seen', checkpoint: 'Latest checkpoint', throughput: 'Throughput (last 5 minutes)',
    tx_per_s: 'transactions/s', blocks_per_s: 'blocks/s', live: 'Live', reconnecting: 'Reconnecting…',
    recent_blocks: 'Recent blocks', older: 'Older blocks', time: 'Time', transactions: 'Transactions', records: 'Records', hash: 'Hash', parent: 'Parent',
    block: 'Block', transaction: 'Transaction', status: 'Status', committed: 'committed', pending: 'pending', rejected: 'rejected',
    record: 'Evidence record', digest: 'Content digest', size: 'Size', media_type: 'Media type', reference: 'Reference', organisation: 'Organisation',
    submitter: 'Submitter key', metadata: 'Metadata', deposited: 'Deposited', leaf: 'Log leaf', receipt: 'Receipt', receipt_status: 'Receipt status',
    in_checkpoint: 'covered by the signed checkpoint of size', download_json: 'Download receipt (JSON)', download_tlog: 'Download receipt (tlog-proof)',
    verify_this: 'Verify this receipt', same_digest: 'Every deposit of this content', not_found: 'Nothing found',
    deposit_title: 'Deposit evidence', deposit_help: 'Files are fingerprinted in this browser and never uploaded. Only the digest, size and the details below are recorded.',
    key_file: 'Signing key file (kept in this page only)', key_loaded: 'Key loaded', key_wrong_suite: 'This key is for another suite than the chain',
    files: 'Files to deposit', title_field: 'Title (default: file name)', reference_field: 'Reference (case number, contract id)',
    deposit_button: 'Fingerprint, sign and deposit', hashing: 'Fingerprinting', signing: 'Signing and submitting', waiting_commit: 'Waiting for the block',
    deposit_done: 'Deposited and committed', need_key: 'Load a key file first', need_files: 'Choose at least one file',
    qr_label: 'QR code that opens the verification page of this record',
    verify_title: 'Verify a receipt or state proof', verify_help: 'Everything is checked in this browser, with its own code, against the validators\' public keys. Once loaded, this page works offline.',
    receipt_file: 'Receipt (JSON or .tlog-proof) or state proof (JSON)', original_file: 'Original file (optional)', trust_file: 'Trust file (optional; default: this chain\'s)',
    verify_button: 'Verify', valid: 'VALID', invalid: 'INVALID', step_file: 'File fingerprint', step_record: 'Record', step_checkpoint: 'Checkpoint',
    step_signatures: 'Signatures by', step_inclusion: 'Inclusion proof', not_checked: 'not checked', need_receipt: 'Choose a receipt file',
    record_title: 'Title', checking: 'Checking…', hashing_file: 'Fingerprinting the file', genesis: 'Genesis hash', disk: 'Disk used',
    verify_state_title: 'State proof', step_header: 'Block header', step_state: 'State proof', step_view: 'Readable value',
    evidence_first: 'Deposited first in record {record} at block {first} ({time}); {deposits} as of block {height}, the last at block {last}.',
    evidence_none: 'Not deposited as of block {height}.',
    state_has_value: 'At block {height}, {module} key {key} had the value {value}.', state_no_value: 'At block {height}, {module} key {key} had no value.',
    n_records: { one: '{n} record', other: '{n} records' }, n_transactions: { one: '{n} transaction', other: '{n} transactions' },
    n_deposits: { one: '{n} deposit', other: '{n} deposits' }, n_bytes: { one: '{n} byte', other: '{n} bytes' },
    n_found: { one: '{n} record found', other: '{n} records found' }, n_files: { one: '{n} file', other: '{n} files' },
  },
  zh: {
    title: 'Cairn 账本', skip: '跳到正文', nav_overview: '概览', nav_blocks: '区块', nav_deposit: '存证', nav_verify: '验证',
    search_label: '按高度、哈希、交易、记录编号、摘要或案号搜索', search: '搜索', language: 'English',
    chain: '链', suite: '密码套件', height: '高度', finalized: '最终确认高度', log_size: '日志大小', mempool: '待处理交易',
    organisations: '机构', validators: '验证节点', peers: '已连接的节点', quorum: '法定人数', faults: '发现的违规行为', checkpoint: '最新检查点', throughput: '吞吐量（最近 5 分钟）',
    tx_per_s: '交易/秒', blocks_per_s: '区块/秒', live: '实时', reconnecting: '正在重新连接…',
    recent_blocks: '最新区块', older: '更早的区块', time: '时间', transactions: '交易', records: '记录', hash: '哈希', parent: '父区块',
    block: '区块', transaction: '交易', status: '状态', committed: '已提交', pending: '待处理', rejected: '已拒绝',
    record: '存证记录', digest: '内容摘要', size: '大小', media_type: '媒体类型', reference: '案号/编号', organisation: '机构',
    submitter: '提交者公钥', metadata: '元数据', deposited: '存证时间', leaf: '日志叶子', receipt: '回执', receipt_status: '回执状态',
    in_checkpoint: '已被签名检查点覆盖，日志大小', download_json: '下载回执（JSON）', download_tlog: '下载回执（tlog-proof）',
    verify_this: '验证此回执', same_digest: '相同内容的全部存证', not_found: '未找到',
    deposit_title: '提交存证', deposit_help: '文件只在本浏览器中计算摘要，不会上传。链上只记录摘要、大小和下列信息。',
    key_file: '签名密钥文件（仅保存在本页面）', key_loaded: '密钥已加载', key_wrong_suite: '该密钥与本链的密码套件不符',
    files: '要存证的文件', title_field: '标题（默认：文件名）', reference_field: '案号或合同编号',
    deposit_button: '计算摘要、签名并提交', hashing: '正在计算摘要', signing: '正在签名并提交', waiting_commit: '正在等待出块',
    deposit_done: '已存证并提交', need_key: '请先加载密钥文件', need_files: '请至少选择一个文件',
    qr_label: '打开此记录验证页面的二维码',
    verify_title: '验证回执或状态证明', verify_help: '全部检查都在本浏览器中用独立代码完成，只依赖验证节点的公钥。加载后可离线使用。',
    receipt_file: '回执（JSON 或 .tlog-proof）或状态证明（JSON）', original_file: '原始文件（可选）', trust_file: '信任文件（可选；默认使用本链的）',
    verify_button: '验证', valid: '有效', invalid: '无效', step_file: '文件摘要', step_record: '记录', step_checkpoint: '检查点',
    step_signatures: '签名机构', step_inclusion: '包含证明', not_checked: '未检查', need_receipt: '请选择回执文件',
    record_title: '标题', checking: '正在检查…', hashing_file: '正在计算文件摘要', genesis: '创世哈希', disk: '磁盘占用',
    verify_state_title: '状态证明', step_header: '区块头', step_state: '状态证明', step_view: '可读值',
    evidence_first: '首次存证于区块 {first}（{time}）的记录 {record}；截至区块 {height} 共 {deposits}，最近一次在区块 {last}。',
    evidence_none: '截至区块 {height}，尚未存证。',
    state_has_value: '在区块 {height}，{module} 模块的键 {key} 的值为 {value}。', state_no_value: '在区块 {height}，{module} 模块的键 {key} 没有值。',
    n_records: { other: '{n} 条记录' }, n_transactions: { other: '{n} 笔交易' },
    n_deposits: { other: '{n} 次存证' }, n_bytes: { other: '{n} 字节' },
    n_found: { other: '找到 {n} 条记录' }, n_files: { other: '{n} 个文件' },
  },
};

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
