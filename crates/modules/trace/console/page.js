// The traceability module's console page (kit.js describes a module page): #/trace lists the
// chain's GS1 EPCIS 2.0 events (GET /epcis/events, filtered by event type, business step,
// identifier and event time, page by page through the Link header) and captures a document
// dropped or chosen there (POST /epcis/capture, signed by the node's agent key; the job polled
// until it finishes); #/trace/event/<leaf or eventID> shows one event with its ledger facts,
// identifiers, JSON-LD, its receipt (checked in this browser) and a QR code of its page;
// #/trace/trace?epc=…&direction=back|forward (GET /epcis/trace) answers where a product came
// from or went, through whom and when: a timeline and a graph of the events. The header search
// opens an event by its ID and offers the trace of an identifier. Served at
// /console/modules/trace/page.js.

import { $, esc, short, t, tn, getLang, locale, formatSize, timeHtml, idHtml, fillHtml, api, authFetch, scrollBox, notFound, stepHtml, verdictHtml } from '/console/kit.js';
import { toHex } from '/console/encoding.js';
import { verifyLeafReceipt } from '/console/verify.js';

const strings = {
  en: {
    nav_trace: 'Traceability',
    trace_title: 'Traceability', trace_help: 'GS1 EPCIS 2.0 events captured by the organisations of this ledger, each one a leaf of the signed log.',
    trace_capture: 'Capture an EPCIS document',
    trace_capture_help: 'Drop or choose an EPCIS 2.0 document (JSON or JSON-LD). This node captures it for its organisation, signed with its own key; a document is one transaction.',
    trace_capture_file: 'EPCIS document', trace_proceed: 'Proceed past errors: capture the valid events and report the others',
    trace_capture_button: 'Capture', trace_need_file: 'Choose a document first',
    trace_sending: 'Sending {file} ({size})…', trace_waiting: 'Accepted as capture job {job}; waiting for its block…',
    trace_still_running: 'Still running after {s} s: the job is at {job}.',
    trace_captured: 'Captured {events} in block {block}.', trace_captured_some: 'Captured {events} in block {block}; {problems}:',
    trace_captured_none: 'Nothing captured; {problems}:', trace_capture_failed: 'The capture failed; {problems}:',
    trace_refused: 'Refused: {title} (HTTP {status})', trace_event_n: 'Event {n}', trace_field: 'field', trace_first_record: 'first recorded as event {leaf}',
    trace_leaves: 'Log leaves:',
    trace_n_events: { one: '{n} event', other: '{n} events' }, trace_n_problems: { one: '{n} problem', other: '{n} problems' },
    trace_n_shown: { one: '{n} event shown', other: '{n} events shown' },
    trace_events: 'Events', trace_f_type: 'Event type', trace_f_any: 'Any', trace_f_bizstep: 'Business step', trace_f_epc: 'Identifier (EPC or class, any role)',
    trace_f_from: 'Event time from', trace_f_to: 'Event time before', trace_f_submit: 'Filter', trace_f_clear: 'Clear filters',
    trace_more: 'More', trace_loading: 'Loading…', trace_none: 'No events match.', trace_more_exist: 'more on the next page',
    trace_event_time: 'Event time', trace_record_time: 'Record time', trace_type: 'Type', trace_biz_step: 'Business step', trace_action: 'Action',
    trace_disposition: 'Disposition', trace_read_point: 'Read point', trace_biz_location: 'Business location', trace_ids: 'Identifiers', trace_where: 'Where',
    trace_organisation: 'Organisation', trace_parties: 'Parties', trace_from_party: 'from {p}', trace_to_party: 'to {p}',
    trace_back: 'Trace back', trace_forward: 'Trace forward',
    trace_event: 'Traceability event', trace_hash_id: 'Event hash ID', trace_event_id: 'Event ID', trace_leaf: 'Log leaf', trace_submitter: 'Submitter key',
    trace_hash_only: 'Hash only: the chain keeps this event’s hash and indexed fields, not its document.',
    trace_role: 'Role', trace_jsonld: 'The event (JSON-LD)', trace_as_captured: 'as captured: {time}',
    trace_receipt: 'Receipt', trace_receipt_download: 'Download receipt (JSON)', trace_receipt_fetching: 'Fetching the receipt…',
    trace_receipt_pending: 'Not yet under a signed checkpoint; trying again…', trace_receipt_none: 'No receipt: {detail}',
    trace_receipt_checked: 'Checked in this browser, with the console’s own code, against the validators’ public keys:',
    trace_checking: 'Checking…', trace_step_event: 'This event', trace_leaf_holds: 'the signed leaf holds this event’s hash ID, organisation, block and record time',
    trace_leaf_differs: 'the signed leaf does not hold this event: its {what} differs', trace_leaf_version: 'the signed leaf is a trace leaf of version {v}, which this page does not read',
    trace_verify_file: 'Verify a receipt file', trace_qr_label: 'QR code that opens this event’s page', trace_public_link: 'This event’s page',
    trace_trace_title: 'Trace', trace_t_epc: 'Identifier (EPC, class or GS1 Digital Link)', trace_t_direction: 'Direction',
    trace_dir_back: 'Back: where it came from', trace_dir_forward: 'Forward: where it went', trace_t_submit: 'Trace',
    trace_summary_back: 'Back from {epc}: {events} recorded by {orgs}, from {first} to {last}.',
    trace_summary_forward: 'Forward from {epc}: {events} recorded by {orgs}, from {first} to {last}.',
    trace_origin: 'Where it came from: {step} by {org} on {time}{place}.', trace_destination: 'Where it went last: {step} by {org} on {time}{place}.',
    trace_at: ' at {place}', trace_nothing: 'No event names {epc}.',
    trace_truncated: 'The trace stopped at a bound (hops, identifiers or events): there may be more.',
    trace_timeline: 'Timeline', trace_graph: 'Graph',
    trace_graph_label: 'The events by time, left to right, one row per organisation; an arrow links two events through an identifier the trace followed.',
    trace_graph_capped: 'The graph shows the first {n} events; the timeline lists them all.',
    trace_graph_start: 'A green ring marks an event that names the identifier traced; each event opens its page.',
    trace_reached: 'Identifiers reached', trace_hop: 'Hop', trace_via: 'Reached through', trace_from_event: 'From event',
    trace_via_start: 'the identifier traced', trace_via_container: 'aggregation (its container)', trace_via_content: 'aggregation (its content)',
    trace_via_transformation: 'transformation', trace_via_transaction: 'transaction',
    trace_search: 'Traceability of {epc}:', trace_search_events: 'its events',
    trace_ty_ObjectEvent: 'ObjectEvent', trace_ty_AggregationEvent: 'AggregationEvent', trace_ty_TransactionEvent: 'TransactionEvent',
    trace_ty_TransformationEvent: 'TransformationEvent', trace_ty_AssociationEvent: 'AssociationEvent',
  },
  zh: {
    nav_trace: '溯源',
    trace_title: '溯源', trace_help: '本账本各机构采集的 GS1 EPCIS 2.0 事件，每个事件都是已签名日志中的一片叶。',
    trace_capture: '采集 EPCIS 文档',
    trace_capture_help: '拖入或选择一份 EPCIS 2.0 文档（JSON 或 JSON-LD）。本节点以其自身密钥、代表本机构采集；一份文档即一笔交易。',
    trace_capture_file: 'EPCIS 文档', trace_proceed: '出错时继续：采集有效的事件，报告其余的问题',
    trace_capture_button: '采集', trace_need_file: '请先选择文档',
    trace_sending: '正在发送 {file}（{size}）…', trace_waiting: '已受理，采集任务 {job}；正在等待出块…',
    trace_still_running: '{s} 秒后仍在进行：任务见 {job}。',
    trace_captured: '已在区块 {block} 采集 {events}。', trace_captured_some: '已在区块 {block} 采集 {events}；{problems}：',
    trace_captured_none: '未采集任何事件；{problems}：', trace_capture_failed: '采集失败；{problems}：',
    trace_refused: '被拒绝：{title}（HTTP {status}）', trace_event_n: '事件 {n}', trace_field: '字段', trace_first_record: '首次记录为事件 {leaf}',
    trace_leaves: '日志叶：',
    trace_n_events: { other: '{n} 个事件' }, trace_n_problems: { other: '{n} 个问题' },
    trace_n_shown: { other: '已显示 {n} 个事件' },
    trace_events: '事件', trace_f_type: '事件类型', trace_f_any: '全部', trace_f_bizstep: '业务步骤', trace_f_epc: '标识（EPC 或类别，任意角色）',
    trace_f_from: '事件时间起', trace_f_to: '事件时间早于', trace_f_submit: '筛选', trace_f_clear: '清除筛选',
    trace_more: '更多', trace_loading: '正在加载…', trace_none: '没有符合条件的事件。', trace_more_exist: '下一页还有',
    trace_event_time: '事件时间', trace_record_time: '记录时间', trace_type: '类型', trace_biz_step: '业务步骤', trace_action: '动作',
    trace_disposition: '处置状态', trace_read_point: '读取点', trace_biz_location: '业务地点', trace_ids: '标识', trace_where: '地点',
    trace_organisation: '机构', trace_parties: '参与方', trace_from_party: '来自 {p}', trace_to_party: '交给 {p}',
    trace_back: '向前溯源', trace_forward: '向后追踪',
    trace_event: '溯源事件', trace_hash_id: '事件哈希标识', trace_event_id: '事件标识', trace_leaf: '日志叶', trace_submitter: '提交者公钥',
    trace_hash_only: '仅哈希：链上只保存该事件的哈希和索引字段，不保存文档本身。',
    trace_role: '角色', trace_jsonld: '事件（JSON-LD）', trace_as_captured: '采集时写作：{time}',
    trace_receipt: '回执', trace_receipt_download: '下载回执（JSON）', trace_receipt_fetching: '正在获取回执…',
    trace_receipt_pending: '尚未被签名检查点覆盖；正在重试…', trace_receipt_none: '没有回执：{detail}',
    trace_receipt_checked: '已在本浏览器中用控制台自己的代码、依据验证节点的公钥检查：',
    trace_checking: '正在检查…', trace_step_event: '本事件', trace_leaf_holds: '已签名的日志叶包含本事件的哈希标识、机构、区块和记录时间',
    trace_leaf_differs: '已签名的日志叶不是本事件：其{what}不同', trace_leaf_version: '已签名的日志叶是版本 {v} 的溯源叶，本页面无法读取',
    trace_verify_file: '验证回执文件', trace_qr_label: '打开本事件页面的二维码', trace_public_link: '本事件的页面',
    trace_trace_title: '追溯', trace_t_epc: '标识（EPC、类别或 GS1 数字链接）', trace_t_direction: '方向',
    trace_dir_back: '向前：它从哪里来', trace_dir_forward: '向后：它到哪里去', trace_t_submit: '追溯',
    trace_summary_back: '从 {epc} 向前溯源：{orgs} 记录的 {events}，时间从 {first} 到 {last}。',
    trace_summary_forward: '从 {epc} 向后追踪：{orgs} 记录的 {events}，时间从 {first} 到 {last}。',
    trace_origin: '源头：{org} 于 {time}{place}进行的{step}。', trace_destination: '最后去向：{org} 于 {time}{place}进行的{step}。',
    trace_at: ' 在 {place} ', trace_nothing: '没有事件涉及 {epc}。',
    trace_truncated: '追溯在某个上限（跳数、标识数或事件数）处停止：可能还有更多。',
    trace_timeline: '时间线', trace_graph: '关系图',
    trace_graph_label: '按时间从左到右排列的事件，每个机构一行；箭头表示两个事件通过追溯所沿用的标识相连。',
    trace_graph_capped: '关系图只显示前 {n} 个事件；时间线列出全部。',
    trace_graph_start: '绿色圆环表示该事件涉及所追溯的标识；点击事件可打开其页面。',
    trace_reached: '追溯到的标识', trace_hop: '跳数', trace_via: '追溯途径', trace_from_event: '来自事件',
    trace_via_start: '追溯的起点', trace_via_container: '聚合（所在容器）', trace_via_content: '聚合（所含内容）',
    trace_via_transformation: '转换', trace_via_transaction: '交易',
    trace_search: '{epc} 的溯源：', trace_search_events: '相关事件',
    trace_ty_ObjectEvent: '对象事件', trace_ty_AggregationEvent: '聚合事件', trace_ty_TransactionEvent: '交易事件',
    trace_ty_TransformationEvent: '转换事件', trace_ty_AssociationEvent: '关联事件',
  },
};

const TYPES = ['ObjectEvent', 'AggregationEvent', 'TransactionEvent', 'TransformationEvent', 'AssociationEvent'];

/** CBV 2.0 business steps, with their Chinese names (English shows the CBV name itself). */
const BIZ_STEPS = {
  accepting: '验收', arriving: '到达', assembling: '组装', collecting: '收集', commissioning: '赋码投产', consigning: '托运',
  creating_class_instance: '创建类实例', cycle_counting: '循环盘点', decommissioning: '停用', departing: '离开', destroying: '销毁',
  disassembling: '拆解', dispensing: '配发', encoding: '编码', entering_exiting: '进出', holding: '暂扣', inspecting: '检验',
  installing: '安装', killing: '标签失效', loading: '装货', other: '其他', packing: '装箱', picking: '拣货', receiving: '收货',
  removing: '移除', repackaging: '重新包装', repairing: '维修', replacing: '更换', reserving: '预留', retail_selling: '零售',
  sampling: '抽样', sensor_reporting: '传感器上报', shipping: '发货', staging_outbound: '出库备货', stock_taking: '盘库',
  stocking: '上架', storing: '存储', transporting: '运输', unloading: '卸货', unpacking: '拆箱', void_shipping: '撤销发货',
};

/** Events per page of the list, unless the hash asks for another perPage. */
const PER_PAGE = 20;
/** Most events the graph draws (the timeline lists them all). */
const GRAPH_MAX = 150;
const POLL_MS = 250;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * One run of a part of a page (a query, a capture, a trace, a receipt check): `live()` turns
 * false once the user went to another page (ctx) or started another run of the same part, so
 * an older answer never shows over a newer one.
 */
const runs = {};
function startRun(ctx, part) {
  const mine = (runs[part] = (runs[part] ?? 0) + 1);
  return () => ctx.current() && runs[part] === mine;
}

/** The page's own layout (the shell's style.css has none for these), added once. */
function addStyle() {
  if (document.getElementById('trace-style')) return;
  document.head.insertAdjacentHTML('beforeend', `<style id="trace-style">
    .trace-form { display: grid; grid-template-columns: repeat(auto-fit, minmax(13rem, 1fr)); gap: 0 1rem; align-items: end; max-width: 64rem; }
    .trace-form label { margin: .6rem 0 .2rem; }
    .trace-form input, .trace-form select { width: 100%; padding: .4rem; font: inherit; border: 1px solid #8895a2; border-radius: 4px; background: #fff; }
    .trace-form .buttons { display: flex; gap: .5rem; padding-top: .6rem; }
    #trace-events td.place .mono { white-space: normal; word-break: break-all; }
    .trace-problems li { margin: .3rem 0; } .trace-problems .where { font-weight: 600; }
    ol.trace-timeline { list-style: none; padding: 0 0 0 1rem; margin: .5rem 0 .5rem .4rem; border-left: 3px solid var(--line); }
    ol.trace-timeline li { position: relative; padding: .2rem 0 .7rem .4rem; }
    ol.trace-timeline li::before { content: ''; position: absolute; left: -1.55rem; top: .55rem; width: .8rem; height: .8rem; border-radius: 50%; background: var(--accent); border: 2px solid #fff; }
    ol.trace-timeline li.start::before { background: var(--ok); }
    ol.trace-timeline .what { font-weight: 600; }
    .trace-graph-box { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
    #trace-graph text { font: 11px system-ui, "PingFang SC", "Microsoft YaHei", sans-serif; fill: var(--fg); }
    #trace-graph .lane { font-weight: 600; fill: var(--muted); }
    #trace-graph a:focus circle, #trace-graph a:hover circle { stroke: #ffbf47; stroke-width: 4; }
    #trace-event-qr { width: 160px; height: 160px; }
    .trace-qr { display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; }
  </style>`);
}

// ---------- words for EPCIS values ----------

/** A CBV value's short name: "urn:epcglobal:cbv:bizstep:shipping" and "https://ref.gs1.org/cbv/BizStep-shipping" are "shipping". */
function cbvShort(v, urn, web) {
  if (typeof v !== 'string') return '';
  if (v.startsWith(urn)) return v.slice(urn.length);
  if (v.startsWith(`https://ref.gs1.org/cbv/${web}-`)) return v.slice(`https://ref.gs1.org/cbv/${web}-`.length);
  return v;
}
const bizStepShort = (v) => cbvShort(v, 'urn:epcglobal:cbv:bizstep:', 'BizStep');
const dispositionShort = (v) => cbvShort(v, 'urn:epcglobal:cbv:disp:', 'Disp');

/** A business step in words: the CBV name in English, its Chinese name in Chinese (the CBV name in the title). */
function bizStepText(v) {
  const s = bizStepShort(v);
  return getLang() === 'zh' && BIZ_STEPS[s] ? BIZ_STEPS[s] : s;
}
function bizStepHtml(v) {
  const s = bizStepShort(v);
  if (!s) return '—';
  return `<span class="biz-step" title="${esc(v)}">${esc(bizStepText(v))}</span>`;
}
const typeText = (ty) => (TYPES.includes(ty) ? t(`trace_ty_${ty}`) : String(ty ?? ''));
const typeHtml = (ty) => `<span title="${esc(ty)}">${esc(typeText(ty))}</span>`;
const viaText = (via) => {
  const key = { start: 'trace_via_start', 'aggregation (container)': 'trace_via_container', 'aggregation (content)': 'trace_via_content', transformation: 'trace_via_transformation', transaction: 'trace_via_transaction' }[via];
  return key ? t(key) : via;
};

/** An identifier, shortened where long, with the full value in its title. */
const idText = (id) => (id.length > 48 ? `<span class="mono" title="${esc(id)}">${esc(`${id.slice(0, 30)}…${id.slice(-14)}`)}</span>` : `<span class="mono">${esc(id)}</span>`);

/** Whether an identifier names a class (a lot, a product) rather than one instance: an EPC class URN, or a GS1 Digital Link with a GTIN and no serial. */
const isClass = (id) => /^urn:epc:class:/.test(id) || (/^https?:\/\/[^/]+\/01\/\d{14}(\/|$)/.test(id) && !/\/21\//.test(id));

const eventHref = (id) => `#/trace/event/${encodeURIComponent(id)}`;
const traceHref = (epc, direction = 'back') => `#/trace/trace?epc=${encodeURIComponent(epc)}&direction=${direction}`;

/** The identifiers an event names, as captured: EPCs, parent, inputs, outputs, classes. */
function eventIds(e) {
  const out = [];
  for (const k of ['epcList', 'childEPCs', 'inputEPCList', 'outputEPCList']) for (const x of Array.isArray(e[k]) ? e[k] : []) if (typeof x === 'string') out.push(x);
  if (typeof e.parentID === 'string') out.push(e.parentID);
  for (const k of ['quantityList', 'childQuantityList', 'inputQuantityList', 'outputQuantityList']) {
    for (const q of Array.isArray(e[k]) ? e[k] : []) if (typeof q?.epcClass === 'string') out.push(q.epcClass);
  }
  return [...new Set(out)];
}

/** Up to three identifiers, each a link to its trace back; the rest counted. */
function idsCell(e) {
  const ids = eventIds(e);
  if (!ids.length) return '—';
  const shown = ids.slice(0, 3).map((id) => `<a class="trace-back" href="${traceHref(id)}" title="${esc(`${t('trace_back')}: ${id}`)}">${idText(id)}</a>`).join('<br>');
  return ids.length > 3 ? `${shown}<br><span class="muted">+${ids.length - 3}</span>` : shown;
}

/** The parties of a transfer (sourceList, destinationList), as captured. */
function partiesHtml(e) {
  const list = (xs, field, key) => (Array.isArray(xs) ? xs : []).filter((x) => typeof x?.[field] === 'string').map((x) => fillHtml(key, { p: idText(x[field]) }));
  const parts = [...list(e?.sourceList, 'source', 'trace_from_party'), ...list(e?.destinationList, 'destination', 'trace_to_party')];
  return parts.join(' ');
}

/** A problem (RFC 7807, or one of a capture job's errors): where it is, then what. */
function problemItem(p) {
  const where = [];
  if (p.eventIndex != null) where.push(esc(t('trace_event_n', { n: p.eventIndex })));
  if (p.field) where.push(`${esc(t('trace_field'))} <code>${esc(p.field)}</code>`);
  const first = p.firstRecord?.leafIndex != null ? ` (<a href="#/trace/event/${p.firstRecord.leafIndex}">${esc(t('trace_first_record', { leaf: p.firstRecord.leafIndex }))}</a>)` : '';
  return `<li data-event-index="${esc(p.eventIndex ?? '')}" data-field="${esc(p.field ?? '')}">${where.length ? `<span class="where">${where.join(' · ')}</span>: ` : ''}${esc(p.detail ?? p.code ?? '')}${first}${p.code ? ` <span class="muted mono">${esc(p.code)}</span>` : ''}</li>`;
}

// ---------- #/trace: the events and the capture ----------

/** The SimpleEventQuery of the hash (every parameter goes to the API as it is), with a page size. */
function queryOf(params) {
  const q = new URLSearchParams(params);
  if (!q.has('perPage')) q.set('perPage', String(PER_PAGE));
  return q;
}

/** A datetime-local input's value (the viewer's zone) for an ISO instant, and back. */
function localInput(iso) {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
const isoOf = (local) => (local ? new Date(local).toISOString() : '');

function filterForm(params) {
  const ty = params.get('eventType') ?? '';
  const steps = Object.keys(BIZ_STEPS).map((s) => `<option value="${s}">${getLang() === 'zh' ? esc(BIZ_STEPS[s]) : ''}</option>`).join('');
  return `<form id="trace-filter" class="trace-form">
    <div><label for="trace-f-type">${esc(t('trace_f_type'))}</label><select id="trace-f-type"><option value="">${esc(t('trace_f_any'))}</option>${TYPES.map((x) => `<option value="${x}" ${x === ty ? 'selected' : ''}>${esc(typeText(x))}</option>`).join('')}</select></div>
    <div><label for="trace-f-bizstep">${esc(t('trace_f_bizstep'))}</label><input type="text" id="trace-f-bizstep" list="trace-bizsteps" value="${esc(params.get('EQ_bizStep') ?? '')}" autocomplete="off"><datalist id="trace-bizsteps">${steps}</datalist></div>
    <div><label for="trace-f-epc">${esc(t('trace_f_epc'))}</label><input type="text" id="trace-f-epc" class="mono" value="${esc(params.get('MATCH_anyEPC') ?? params.get('MATCH_anyEPCClass') ?? '')}" placeholder="urn:epc:id:sgtin:…"></div>
    <div><label for="trace-f-from">${esc(t('trace_f_from'))}</label><input type="datetime-local" id="trace-f-from" value="${esc(localInput(params.get('GE_eventTime')))}"></div>
    <div><label for="trace-f-to">${esc(t('trace_f_to'))}</label><input type="datetime-local" id="trace-f-to" value="${esc(localInput(params.get('LT_eventTime')))}"></div>
    <div class="buttons"><button type="submit" id="trace-f-submit">${esc(t('trace_f_submit'))}</button><button type="button" class="secondary" id="trace-f-clear">${esc(t('trace_f_clear'))}</button></div>
  </form>`;
}

function captureForm() {
  return `<h2>${esc(t('trace_capture'))}</h2><p>${esc(t('trace_capture_help'))}</p>
    <label for="trace-capture-file">${esc(t('trace_capture_file'))}</label>
    <div class="drop" id="trace-drop"><input type="file" id="trace-capture-file" accept=".json,.jsonld,application/json,application/ld+json"></div>
    <p><label style="font-weight:normal"><input type="checkbox" id="trace-capture-proceed"> ${esc(t('trace_proceed'))}</label></p>
    <p><button type="button" id="trace-capture-button">${esc(t('trace_capture_button'))}</button></p>
    <p id="trace-capture-stage" role="status"></p><progress id="trace-capture-progress" hidden></progress>
    <div id="trace-capture-result" aria-live="polite"></div>`;
}

async function listPage(ctx, params) {
  addStyle();
  ctx.render(`<h1>${esc(t('trace_title'))}</h1><p>${esc(t('trace_help'))}</p>
    <p><a href="#/trace/trace" id="trace-open-trace">${esc(t('trace_trace_title'))} →</a></p>
    <h2>${esc(t('trace_events'))}</h2>${filterForm(params)}
    <div id="trace-results" aria-live="polite"></div>
    ${captureForm()}`);
  wireFilter(ctx, params);
  wireCapture(ctx, params);
  await loadEvents(ctx, params);
}

function wireFilter(ctx, params) {
  $('#trace-filter').addEventListener('submit', (e) => {
    e.preventDefault();
    // The filters' parameters are replaced; others of the hash (perPage, EQ_action, …) stay.
    const q = new URLSearchParams(params);
    const set = (k, v) => (v ? q.set(k, v) : q.delete(k));
    set('eventType', $('#trace-f-type').value);
    set('EQ_bizStep', $('#trace-f-bizstep').value.trim());
    // An identifier in any role: an instance's (MATCH_anyEPC) or a class's (MATCH_anyEPCClass).
    const epc = $('#trace-f-epc').value.trim();
    set('MATCH_anyEPC', isClass(epc) ? '' : epc);
    set('MATCH_anyEPCClass', isClass(epc) ? epc : '');
    set('GE_eventTime', isoOf($('#trace-f-from').value));
    set('LT_eventTime', isoOf($('#trace-f-to').value));
    const qs = q.toString();
    const hash = qs ? `#/trace?${qs}` : '#/trace';
    if (location.hash === hash) loadEvents(ctx, q); // the same query again: run it afresh
    else location.hash = hash;
  });
  $('#trace-f-clear').addEventListener('click', () => {
    $('#trace-filter').reset();
    if (location.hash === '#/trace') loadEvents(ctx, new URLSearchParams());
    else location.hash = '#/trace';
  });
}

/** The URL of the next page from a Link header (`<…>; rel="next"`), or null. */
function nextLink(header) {
  const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(header ?? '');
  return m ? m[1] : null;
}

/** Fetches one page of events: { ok, status, body, events, next }. */
async function fetchEvents(url) {
  const r = await authFetch(url, { headers: { accept: 'application/json' } });
  const type = r.headers.get('content-type') || '';
  const body = type.includes('json') ? await r.json() : await r.text();
  const events = body?.epcisBody?.queryResults?.resultsBody?.eventList ?? [];
  return { ok: r.ok, status: r.status, body, events, next: r.ok ? nextLink(r.headers.get('link')) : null };
}

function eventRow(e) {
  const id = e.eventID ?? '';
  const place = e.bizLocation?.id ?? e.readPoint?.id;
  return `<tr data-event-id="${esc(id)}" data-biz-step="${esc(bizStepShort(e.bizStep))}" data-type="${esc(e.type)}">
    <td><a href="${eventHref(id)}">${timeHtml(Date.parse(e.eventTime))}</a></td><td>${typeHtml(e.type)}${e.action ? ` ${esc(e.action)}` : ''}</td><td>${bizStepHtml(e.bizStep)}</td>
    <td>${idsCell(e)}</td><td class="place">${place ? idText(place) : '—'}</td></tr>`;
}

const problemHtml = (r) => `<div id="trace-problem"><p class="bad">${esc(t('trace_refused', { title: r.body?.title ?? '', status: r.status }))}</p>
  <ul class="trace-problems">${problemItem(typeof r.body === 'object' && r.body ? r.body : { detail: String(r.body) })}</ul></div>`;

async function loadEvents(ctx, params) {
  const live = startRun(ctx, 'events');
  const out = $('#trace-results');
  out.innerHTML = `<p class="muted" id="trace-loading">${esc(t('trace_loading'))}</p>`;
  let r;
  try { r = await fetchEvents(`/epcis/events?${queryOf(params)}`); } catch (e) { r = { ok: false, status: 0, body: { detail: e.message } }; }
  if (!live()) return;
  if (!r.ok) { out.innerHTML = problemHtml(r); return; }
  if (!r.events.length) { out.innerHTML = `<p id="trace-count">${esc(t('trace_none'))}</p>`; return; }
  out.innerHTML = `<p id="trace-count"></p>${scrollBox(`<table id="trace-events"><thead><tr><th>${esc(t('trace_event_time'))}</th><th>${esc(t('trace_type'))}</th><th>${esc(t('trace_biz_step'))}</th><th>${esc(t('trace_ids'))}</th><th>${esc(t('trace_where'))}</th></tr></thead><tbody></tbody></table>`)}
    <p><button type="button" class="secondary" id="trace-more" hidden>${esc(t('trace_more'))}</button></p>`;
  const body = out.querySelector('#trace-events tbody'), more = out.querySelector('#trace-more'), count = out.querySelector('#trace-count');
  let next = null;
  const show = (page) => {
    body.insertAdjacentHTML('beforeend', page.events.map(eventRow).join(''));
    next = page.next;
    more.hidden = !next;
    const n = body.rows.length;
    count.textContent = next ? `${tn('trace_n_shown', n)}, ${t('trace_more_exist')}` : tn('trace_n_shown', n);
  };
  show(r);
  more.addEventListener('click', async () => {
    if (!next) return;
    more.disabled = true;
    let page;
    try { page = await fetchEvents(next); } catch (e) { page = { ok: false, status: 0, body: { detail: e.message } }; }
    if (!live()) return;
    more.disabled = false;
    if (!page.ok) { more.hidden = true; more.insertAdjacentHTML('afterend', problemHtml(page)); return; }
    show(page);
  });
}

function wireCapture(ctx, params) {
  const input = $('#trace-capture-file'), drop = $('#trace-drop');
  const clear = () => { startRun(ctx, 'capture'); $('#trace-capture-result').innerHTML = ''; $('#trace-capture-stage').textContent = ''; $('#trace-capture-progress').hidden = true; };
  input.addEventListener('change', clear);
  $('#trace-capture-proceed').addEventListener('change', clear);
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); input.files = e.dataTransfer.files; clear(); });
  $('#trace-capture-button').addEventListener('click', () => capture(ctx, params));
}

async function capture(ctx, params) {
  const live = startRun(ctx, 'capture');
  const stage = $('#trace-capture-stage'), bar = $('#trace-capture-progress'), out = $('#trace-capture-result');
  out.innerHTML = '';
  const file = $('#trace-capture-file').files[0];
  if (!file) { stage.textContent = t('trace_need_file'); return; }
  const proceed = $('#trace-capture-proceed').checked;
  bar.hidden = false;
  bar.removeAttribute('value'); // indeterminate until the job is done
  stage.textContent = t('trace_sending', { file: file.name, size: formatSize(file.size) });
  const done = (html) => { if (!live()) return; bar.hidden = true; stage.textContent = ''; out.innerHTML = html; };
  try {
    const headers = { 'content-type': 'application/json', accept: 'application/json' };
    if (proceed) headers['GS1-Capture-Error-Behaviour'] = 'proceed';
    const r = await api('/epcis/capture', { method: 'POST', headers, body: file });
    if (!live()) return;
    if (r.status !== 202) return done(problemHtml(r));
    const location_ = r.body.location ?? `/epcis/capture/${r.body.captureID}`;
    const jobLink = `<a href="${esc(location_)}" class="mono">${esc(short(r.body.captureID))}</a>`;
    stage.innerHTML = fillHtml('trace_waiting', { job: jobLink });
    const started = Date.now();
    for (;;) {
      const j = await api(location_);
      if (!live()) return;
      if (!j.ok) return done(problemHtml(j));
      if (!j.body.running) {
        done(jobHtml(j.body));
        // The list below shows what was just captured.
        if (j.body.eventCount) loadEvents(ctx, params);
        return;
      }
      if (Date.now() - started > 120000) return done(`<p id="trace-capture-running">${fillHtml('trace_still_running', { s: 120, job: jobLink })}</p>`);
      await sleep(POLL_MS);
    }
  } catch (e) {
    done(`<div id="trace-capture-problem"><p class="bad">${esc(e.message)}</p></div>`);
  }
}

/** A finished capture job in words: what was captured where, and each problem. */
function jobHtml(job) {
  const n = job.eventCount ?? 0;
  const block = job.height != null ? `<a href="#/block/${job.height}">${job.height}</a>` : '—';
  const events = esc(tn('trace_n_events', n));
  const leaves = n ? `<p class="muted" id="trace-capture-leaves">${esc(t('trace_leaves'))} ${Array.from({ length: Math.min(n, 50) }, (_, i) => job.firstLeaf + i).map((l) => `<a href="#/trace/event/${l}">${l}</a>`).join(' ')}${n > 50 ? ' …' : ''}</p>` : '';
  const errors = job.errors ?? [];
  if (job.success) return `<p id="trace-capture-success"><span class="badge">✓</span> ${fillHtml('trace_captured', { events, block })}</p>${leaves}`;
  const problems = esc(tn('trace_n_problems', errors.length));
  const head = n ? fillHtml('trace_captured_some', { events, block, problems }) : fillHtml(job.height == null && errors.some((e) => e.code) ? 'trace_capture_failed' : 'trace_captured_none', { problems });
  return `<div id="trace-capture-problem"><p class="bad">${head}</p><ul class="trace-problems" id="trace-capture-errors">${errors.map(problemItem).join('')}</ul></div>${leaves}`;
}

// ---------- #/trace/event/<leaf or eventID> ----------

/** What the trace leaf's payload says (crates/modules/trace/src/wire.rs, EventEntry::encode_payload), as far as this page compares it. */
function leafFacts(p) {
  const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
  let o = 0;
  const version = p[o]; o += 1;
  if (version !== 1) return { version };
  const tx = toHex(p.subarray(o, o + 32)); o += 32;
  o += 4; // the event's index in its capture
  const height = Number(dv.getBigUint64(o)); o += 8;
  const timeMs = Number(dv.getBigUint64(o)); o += 8;
  const orgLen = dv.getUint32(o); o += 4;
  const organisation = new TextDecoder().decode(p.subarray(o, o + orgLen)); o += orgLen;
  o += 4 + dv.getUint32(o); // the submitter's key
  const hash = toHex(p.subarray(o, o + 32));
  return { version, tx, height, timeMs, organisation, hash };
}

/** Whether the verified leaf is this event: a step for the verdict. */
function eventStep(res, s) {
  let f;
  try { f = leafFacts(res.payload); } catch (e) { return { ok: false, detail: e.message }; }
  if (f.version !== 1) return { ok: false, detail: t('trace_leaf_version', { v: f.version }) };
  const hash = /^ni:\/\/\/sha-256;([0-9a-f]{64})/.exec(s.eventHashID)?.[1];
  const differs = [[f.hash === hash, t('trace_hash_id')], [f.organisation === s.organisation, t('trace_organisation')], [f.height === s.height, t('block')],
    [f.timeMs === Date.parse(s.recordTime), t('trace_record_time')], [f.tx === s.txID, t('transaction')]].find(([same]) => !same);
  return differs ? { ok: false, detail: t('trace_leaf_differs', { what: differs[1] }) } : { ok: true, detail: t('trace_leaf_holds') };
}

async function checkReceipt(ctx, s) {
  const live = startRun(ctx, 'receipt');
  const box = $('#trace-event-receipt-box');
  const url = `/v1/trace/events/${s.leafIndex}/receipt`;
  let text = null;
  for (let tries = 0; ; tries++) {
    let r;
    try { r = await authFetch(url); } catch (e) { r = { ok: false, status: 0, json: async () => ({ detail: e.message }) }; }
    if (!live()) return;
    if (r.ok) { text = await r.text(); break; }
    if (r.status === 503 && tries < 60) { box.innerHTML = `<p class="muted" id="trace-receipt-pending">${esc(t('trace_receipt_pending'))}</p>`; await sleep(1000); continue; }
    const p = await r.json().catch(() => ({}));
    box.innerHTML = `<p id="trace-receipt-none">${esc(t('trace_receipt_none', { detail: p.detail ?? `HTTP ${r.status}` }))}</p>`;
    return;
  }
  if (!live()) return;
  const blob = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  box.innerHTML = `<p><a id="trace-event-receipt" href="${blob}" download="trace-event-${s.leafIndex}.receipt.json" data-url="${esc(url)}">${esc(t('trace_receipt_download'))}</a> ·
      <a href="#/verify">${esc(t('trace_verify_file'))}</a></p>
    <p class="muted">${esc(t('trace_receipt_checked'))}</p><div id="trace-event-check" role="status"><p class="muted">${esc(t('trace_checking'))}</p></div>`;
  const trust = await api('/v1/trust');
  const res = await verifyLeafReceipt(text, trust.ok ? trust.body : null);
  if (!live()) return;
  const mine = res.valid ? eventStep(res, s) : { ok: null, detail: '' };
  if (mine.ok === false) Object.assign(res, { valid: false, reason: mine.detail });
  const st = res.steps;
  box.querySelector('#trace-event-check').innerHTML = `${verdictHtml(res)}
    <ol class="steps">${stepHtml('step_leaf', st.leaf)}${stepHtml('step_inclusion', st.inclusion)}${stepHtml('step_checkpoint', st.checkpoint)}${stepHtml('step_signatures', st.signatures)}${stepHtml('trace_step_event', mine)}</ol>`;
}

async function eventPage(ctx, id) {
  addStyle();
  if (!id) return notFound(ctx, { status: 404 });
  const r = await api(`/v1/trace/events/${encodeURIComponent(id)}`);
  if (!r.ok) return notFound(ctx, r);
  const s = r.body;
  const ev = s.event ?? {};
  const pageUrl = `${location.origin}/#/trace/event/${s.leafIndex}`;
  const dd = (key, html, elId = '') => `<dt>${esc(t(key))}</dt><dd${elId ? ` id="${elId}"` : ''}>${html || '—'}</dd>`;
  const capturedTime = typeof ev.eventTime === 'string' ? ` <span class="muted">(${esc(t('trace_as_captured', { time: ev.eventTime }))})</span>` : '';
  const ids = s.identifiers.map((x) => `<tr><td>${esc(x.role)}</td><td>${idText(x.id)}</td><td><a href="${traceHref(x.id, 'back')}">${esc(t('trace_back'))}</a> · <a href="${traceHref(x.id, 'forward')}">${esc(t('trace_forward'))}</a></td></tr>`).join('');
  const parties = partiesHtml(ev);
  ctx.render(`<h1>${esc(t('trace_event'))} <span class="muted">${esc(typeText(s.type))}</span></h1>
    ${s.hashOnly ? `<p class="muted" id="trace-event-hash-only">${esc(t('trace_hash_only'))}</p>` : ''}
    <dl class="kv" id="trace-event-detail">
      ${dd('trace_hash_id', `<span class="mono">${esc(s.eventHashID)}</span>`, 'trace-event-hash')}
      ${dd('trace_event_id', `<span class="mono">${esc(s.eventID)}</span>`, 'trace-event-id')}
      ${dd('trace_type', typeHtml(s.type), 'trace-event-type')}
      ${dd('trace_event_time', `${timeHtml(Date.parse(s.eventTime), true)}${capturedTime}`, 'trace-event-time')}
      ${dd('trace_record_time', timeHtml(Date.parse(s.recordTime), true), 'trace-event-record-time')}
      ${dd('trace_organisation', esc(s.organisation), 'trace-event-org')}
      ${dd('block', `<a href="#/block/${s.height}">${s.height}</a>`, 'trace-event-block')}
      ${dd('transaction', `<a href="#/tx/${esc(s.txID)}">${idHtml(s.txID)}</a>`)}
      ${dd('trace_leaf', String(s.leafIndex), 'trace-event-leaf')}
      ${dd('trace_submitter', idHtml(s.submitter))}
      ${dd('trace_biz_step', bizStepHtml(s.bizStep), 'trace-event-bizstep')}
      ${dd('trace_action', esc(s.action ?? ''))}
      ${dd('trace_disposition', esc(dispositionShort(s.disposition)))}
      ${dd('trace_read_point', s.readPoint ? idText(s.readPoint) : '')}
      ${dd('trace_biz_location', s.bizLocation ? idText(s.bizLocation) : '')}
      ${parties ? dd('trace_parties', parties, 'trace-event-parties') : ''}
    </dl>
    <h2>${esc(t('trace_ids'))}</h2>${scrollBox(`<table id="trace-event-ids"><thead><tr><th>${esc(t('trace_role'))}</th><th>ID</th><th></th></tr></thead><tbody>${ids}</tbody></table>`)}
    <h2>${esc(t('trace_receipt'))}</h2>
    <div class="trace-qr"><img id="trace-event-qr" src="/v1/qr?text=${encodeURIComponent(pageUrl)}" alt="${esc(t('trace_qr_label'))}">
      <p>${esc(t('trace_public_link'))}:<br><a id="trace-event-url" class="mono" href="${esc(pageUrl)}">${esc(pageUrl)}</a></p></div>
    <div id="trace-event-receipt-box" aria-live="polite"><p class="muted">${esc(t('trace_receipt_fetching'))}</p></div>
    <h2>${esc(t('trace_jsonld'))}</h2><pre id="trace-event-jsonld">${esc(JSON.stringify(ev, null, 2))}</pre>`);
  await checkReceipt(ctx, s);
}

// ---------- #/trace/trace?epc=…&direction=back|forward ----------

function traceForm(epc, direction) {
  return `<form id="trace-trace-form" class="trace-form">
    <div style="grid-column: span 2"><label for="trace-t-epc">${esc(t('trace_t_epc'))}</label><input type="text" id="trace-t-epc" class="mono" value="${esc(epc)}" required placeholder="urn:epc:id:sgtin:…"></div>
    <div><label for="trace-t-direction">${esc(t('trace_t_direction'))}</label><select id="trace-t-direction">
      <option value="back" ${direction !== 'forward' ? 'selected' : ''}>${esc(t('trace_dir_back'))}</option>
      <option value="forward" ${direction === 'forward' ? 'selected' : ''}>${esc(t('trace_dir_forward'))}</option></select></div>
    <div class="buttons"><button type="submit" id="trace-t-submit">${esc(t('trace_t_submit'))}</button></div></form>`;
}

async function tracePage(ctx, params) {
  addStyle();
  const epc = params.get('epc') ?? '';
  const direction = params.get('direction') === 'forward' ? 'forward' : 'back';
  ctx.render(`<h1>${esc(t('trace_trace_title'))}</h1>${traceForm(epc, direction)}<div id="trace-answer" aria-live="polite"></div>`);
  $('#trace-trace-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const hash = traceHref($('#trace-t-epc').value.trim(), $('#trace-t-direction').value);
    if (location.hash === hash) runTrace(ctx, $('#trace-t-epc').value.trim(), $('#trace-t-direction').value);
    else location.hash = hash;
  });
  if (epc) await runTrace(ctx, epc, direction);
}

async function runTrace(ctx, epc, direction) {
  const live = startRun(ctx, 'trace');
  const out = $('#trace-answer');
  out.innerHTML = `<p class="muted" id="trace-loading">${esc(t('trace_loading'))}</p>`;
  const r = await api(`/epcis/trace?epc=${encodeURIComponent(epc)}&direction=${direction}&receipts=false`);
  if (!live()) return;
  if (!r.ok) { out.innerHTML = problemHtml(r); return; }
  out.innerHTML = traceHtml(r.body);
}

/** Organisations in the order they first appear. */
const orgsOf = (events) => [...new Set(events.map((e) => e.organisation))];
const listText = (xs) => new Intl.ListFormat(locale(), { type: 'conjunction' }).format(xs);

function traceHtml(tr) {
  const events = [...tr.events].sort((a, b) => Date.parse(a.eventTime) - Date.parse(b.eventTime) || a.leafIndex - b.leafIndex);
  const epcHtml = `<span class="mono">${esc(tr.epc)}</span>`;
  const truncated = tr.truncated ? `<p class="bad" id="trace-truncated">${esc(t('trace_truncated'))}</p>` : '';
  if (!events.length) return `<p id="trace-summary">${fillHtml('trace_nothing', { epc: epcHtml })}</p>${truncated}`;
  const first = events[0], last = events[events.length - 1];
  const orgs = orgsOf(events);
  const at = (e) => { const p = e.bizLocation || e.readPoint; return p ? fillHtml('trace_at', { place: idText(p) }) : ''; };
  const ends = (key, e) => fillHtml(key, { step: `<a href="#/trace/event/${e.leafIndex}">${esc(bizStepText(e.bizStep) || typeText(e.type))}</a>`, org: esc(e.organisation), time: timeHtml(Date.parse(e.eventTime)), place: at(e) });
  const summary = `<p id="trace-summary">${fillHtml(tr.direction === 'forward' ? 'trace_summary_forward' : 'trace_summary_back', {
    epc: epcHtml, events: esc(tn('trace_n_events', events.length)), orgs: esc(listText(orgs)), first: timeHtml(Date.parse(first.eventTime)), last: timeHtml(Date.parse(last.eventTime)),
  })}</p><p id="trace-ends">${tr.direction === 'forward' ? ends('trace_destination', last) : ends('trace_origin', first)}</p>`;
  const startIds = new Set([tr.epc]);
  const names = (e) => e.identifiers.some((x) => startIds.has(x.id));
  const items = events.map((e) => {
    const parties = partiesHtml(e.event);
    return `<li data-leaf="${e.leafIndex}" data-biz-step="${esc(bizStepShort(e.bizStep))}" data-type="${esc(e.type)}" data-organisation="${esc(e.organisation)}" ${names(e) ? 'class="start"' : ''}>
      <a href="#/trace/event/${e.leafIndex}">${timeHtml(Date.parse(e.eventTime))}</a> · <span class="what">${bizStepHtml(e.bizStep)}</span> · ${typeHtml(e.type)}${e.action ? ` ${esc(e.action)}` : ''}
      <br><span class="muted">${esc(t('trace_organisation'))}:</span> ${esc(e.organisation)}${e.bizLocation || e.readPoint ? ` · <span class="muted">${esc(t('trace_where'))}:</span> ${idText(e.bizLocation || e.readPoint)}` : ''}${parties ? ` · ${parties}` : ''}</li>`;
  }).join('');
  const reached = tr.identifiers.map((x) => `<tr><td>${idText(x.id)}</td><td>${x.hop}</td><td>${esc(viaText(x.via))}</td><td>${x.fromLeaf != null ? `<a href="#/trace/event/${x.fromLeaf}">${x.fromLeaf}</a>` : '—'}</td>
    <td><a href="${traceHref(x.id, 'back')}">${esc(t('trace_back'))}</a> · <a href="${traceHref(x.id, 'forward')}">${esc(t('trace_forward'))}</a></td></tr>`).join('');
  return `${summary}${truncated}
    <h2>${esc(t('trace_timeline'))}</h2><ol class="trace-timeline" id="trace-timeline">${items}</ol>
    <h2>${esc(t('trace_graph'))}</h2>${graphHtml(events, tr.edges, names)}
    <h2>${esc(t('trace_reached'))}</h2>${scrollBox(`<table id="trace-identifiers"><thead><tr><th>ID</th><th>${esc(t('trace_hop'))}</th><th>${esc(t('trace_via'))}</th><th>${esc(t('trace_from_event'))}</th><th></th></tr></thead><tbody>${reached}</tbody></table>`)}`;
}

/**
 * The trace as an SVG: one node per event, left to right in event-time order, one row per
 * organisation; the answer's edges as arrows from the earlier event to the later (the way the
 * goods went), each titled with the identifier that links them.
 */
function graphHtml(all, edges, names) {
  const events = all.slice(0, GRAPH_MAX);
  const capped = all.length > events.length ? `<p class="muted" id="trace-graph-capped">${esc(t('trace_graph_capped', { n: GRAPH_MAX }))}</p>` : '';
  const orgs = orgsOf(events);
  const DX = 96, LANE = 110, LEFT = 130, TOP = 70, R = 11;
  const width = LEFT + Math.max(events.length - 1, 0) * DX + 80, height = TOP + orgs.length * LANE;
  const pos = new Map(events.map((e, i) => [e.leafIndex, { x: LEFT + i * DX, y: TOP + orgs.indexOf(e.organisation) * LANE + 10, i }]));
  const color = { ObjectEvent: '#0b5cad', AggregationEvent: '#7a4bb5', TransactionEvent: '#b5651d', TransformationEvent: '#0a6b2e', AssociationEvent: '#8a6d00' };
  const day = new Intl.DateTimeFormat(locale(), { month: 'short', day: 'numeric' });
  // One arrow per pair of events, naming every identifier that links them.
  const pairs = new Map();
  for (const e of edges) {
    const a = pos.get(e.from), b = pos.get(e.to);
    if (!a || !b || a === b) continue;
    const [p, q] = a.i <= b.i ? [e.from, e.to] : [e.to, e.from];
    const k = `${p}-${q}`;
    if (!pairs.has(k)) pairs.set(k, { from: p, to: q, ids: new Set(), via: e.via });
    pairs.get(k).ids.add(e.identifier);
  }
  const arrows = [...pairs.values()].map((x) => {
    const a = pos.get(x.from), b = pos.get(x.to);
    const lift = Math.min(20 + Math.abs(b.i - a.i) * 14, TOP - 8);
    // The same row: an arc over the events between; another row: an S-curve, entering from the left.
    const path = a.y === b.y
      ? `M ${a.x} ${a.y - R} Q ${(a.x + b.x) / 2} ${a.y - R - lift * 2} ${b.x} ${b.y - R - 2}`
      : `M ${a.x + R} ${a.y} C ${(a.x + b.x) / 2} ${a.y} ${(a.x + b.x) / 2} ${b.y} ${b.x - R - 2} ${b.y}`;
    return `<path class="trace-edge" data-from="${x.from}" data-to="${x.to}" d="${path}" fill="none" stroke="#8895a2" stroke-width="1.5" marker-end="url(#trace-arrow)"><title>${esc(`${viaText(x.via)}: ${[...x.ids].join(', ')}`)}</title></path>`;
  }).join('');
  const lanes = orgs.map((o, k) => `<text class="lane" x="8" y="${TOP + k * LANE + 14}">${esc(o.length > 18 ? `${o.slice(0, 17)}…` : o)}<title>${esc(o)}</title></text>
    <line x1="${LEFT - 20}" x2="${width - 30}" y1="${TOP + k * LANE + 10}" y2="${TOP + k * LANE + 10}" stroke="#d0d7de" stroke-dasharray="4 4"/>`).join('');
  const nodes = events.map((e) => {
    const { x, y } = pos.get(e.leafIndex);
    const label = bizStepText(e.bizStep) || typeText(e.type);
    const title = `${typeText(e.type)} · ${label} · ${e.organisation} · ${new Date(Date.parse(e.eventTime)).toISOString()}`;
    return `<a href="#/trace/event/${e.leafIndex}" class="trace-node" data-leaf="${e.leafIndex}"><title>${esc(title)}</title>
      <circle cx="${x}" cy="${y}" r="${R}" fill="${color[e.type] ?? '#4a5866'}" stroke="${names(e) ? '#0a6b2e' : '#fff'}" stroke-width="${names(e) ? 4 : 2}"/>
      <text x="${x}" y="${y + R + 16}" text-anchor="middle">${esc(label.length > 16 ? `${label.slice(0, 15)}…` : label)}</text>
      <text x="${x}" y="${y + R + 30}" text-anchor="middle" class="muted" fill="#4a5866">${esc(day.format(new Date(Date.parse(e.eventTime))))}</text></a>`;
  }).join('');
  return `<div class="trace-graph-box"><svg id="trace-graph" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(t('trace_graph_label'))}">
    <defs><marker id="trace-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#8895a2"/></marker></defs>
    ${lanes}${arrows}${nodes}</svg></div>
    <p class="muted" id="trace-graph-legend">${esc(t('trace_graph_label'))} ${esc(t('trace_graph_start'))}</p>${capped}`;
}

// ---------- routes and search ----------

async function page(ctx, parts, params) {
  switch (parts[0]) {
    case undefined: case '': return listPage(ctx, params);
    case 'event': return eventPage(ctx, parts.slice(1).join('/'));
    case 'trace': return tracePage(ctx, params);
    default: return notFound(ctx, { status: 404 });
  }
}

/** An event ID or hash ID opens its event; an identifier gets the links to its events and trace. */
async function search(ctx, q) {
  if (/^(ni:\/\/\/|urn:uuid:)/.test(q)) {
    const r = await api(`/v1/trace/events/${encodeURIComponent(q)}`);
    return r.ok ? { go: `#/trace/event/${r.body.leafIndex}` } : null;
  }
  if (!/^(urn:epc:(id|class|idpat):|https?:\/\/[^/]+\/(00|01|253|255|414|417|8003|8004|8006|8010|8017|8018)\/)/.test(q)) return null;
  const match = isClass(q) ? 'MATCH_anyEPCClass' : 'MATCH_anyEPC';
  const r = await api(`/epcis/events?${new URLSearchParams({ [match]: q, perPage: '1' })}`);
  if (!r.ok || !(r.body?.epcisBody?.queryResults?.resultsBody?.eventList ?? []).length) return null;
  return `<p id="trace-search">${fillHtml('trace_search', { epc: `<span class="mono">${esc(q)}</span>` })}
    <a href="#/trace?${new URLSearchParams({ [match]: q })}">${esc(t('trace_search_events'))}</a> ·
    <a href="${traceHref(q, 'back')}">${esc(t('trace_back'))}</a> · <a href="${traceHref(q, 'forward')}">${esc(t('trace_forward'))}</a></p>`;
}

export default {
  strings,
  nav: [{ hash: '#/trace', key: 'nav_trace' }],
  pages: { trace: page },
  search,
};
