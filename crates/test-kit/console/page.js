// The test kit module's console page (kit.js describes a module page), for the tests of module
// pages: #/testkit asks for a key, #/testkit/<key> shows the value stored under it
// (GET /v1/testkit/values/{key}), the header search finds a key, and the Verify page reads its
// state values in state proofs (`verify.state`, as the crate's `state_view` does). Not shipped:
// the test kit crate is only built for tests.

import { $, esc, t, api, notFound, fillHtml } from '/console/kit.js';

const strings = {
  en: {
    nav_testkit: 'Test kit', testkit_title: 'Test kit value', testkit_help: 'Shows the value the test kit module stores under a key.',
    testkit_key: 'Key', testkit_value: 'Value', testkit_written: 'Last written at block', testkit_show: 'Show',
    testkit_none: 'No value is stored under the key {key}.', testkit_found: 'Test kit value',
    testkit_state: 'At block {height}, the test kit stored {value} under this key (written at block {written}).', testkit_state_none: 'At block {height}, the test kit stored nothing under this key.',
  },
  zh: {
    nav_testkit: '测试模块', testkit_title: '测试模块的值', testkit_help: '显示测试模块在某个键下存储的值。',
    testkit_key: '键', testkit_value: '值', testkit_written: '最近写入的区块', testkit_show: '显示',
    testkit_none: '键 {key} 下没有存储值。', testkit_found: '测试模块的值',
    testkit_state: '在区块 {height}，测试模块在此键下存储的值为 {value}（写入于区块 {written}）。', testkit_state_none: '在区块 {height}，测试模块在此键下没有存储值。',
  },
};

const valueUrl = (key) => `/v1/testkit/values/${encodeURIComponent(key)}`;
const pageUrl = (key) => `#/testkit/${encodeURIComponent(key)}`;

/** The form that opens #/testkit/<key>. */
function formHtml(key = '') {
  return `<form id="testkit-form">
    <label for="testkit-key">${esc(t('testkit_key'))}</label><input type="text" id="testkit-key" value="${esc(key)}" autocomplete="off">
    <p><button type="submit" id="testkit-show">${esc(t('testkit_show'))}</button></p></form>`;
}

function bindForm() {
  $('#testkit-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const key = $('#testkit-key').value.trim();
    if (key) location.hash = pageUrl(key);
  });
}

async function testkitPage(ctx, parts) {
  const key = parts.join('/');
  if (!key) {
    ctx.render(`<h1 id="testkit-title">${esc(t('nav_testkit'))}</h1><p>${esc(t('testkit_help'))}</p>${formHtml()}`);
    return bindForm();
  }
  const r = await api(valueUrl(key));
  if (r.status === 404) {
    ctx.render(`<h1 id="testkit-title">${esc(t('testkit_title'))}</h1><p id="testkit-none">${esc(t('testkit_none', { key }))}</p>${formHtml(key)}`);
    return bindForm();
  }
  if (!r.ok) return notFound(ctx, r);
  const v = r.body;
  ctx.render(`<h1 id="testkit-title">${esc(t('testkit_title'))}</h1>
    <dl class="kv" id="testkit-detail">
      <dt>${esc(t('testkit_key'))}</dt><dd class="mono" id="testkit-shown-key">${esc(v.key)}</dd>
      <dt>${esc(t('testkit_value'))}</dt><dd id="testkit-value">${esc(v.value)}</dd>
      <dt>${esc(t('testkit_written'))}</dt><dd><a href="#/block/${esc(v.height)}" id="testkit-height">${esc(v.height)}</a></dd>
    </dl>${formHtml()}`);
  bindForm();
}

/** A query that is a stored key shows its value among the search results. */
async function search(ctx, q) {
  const r = await api(valueUrl(q));
  if (!r.ok) return null;
  return `<h2>${esc(t('testkit_found'))}</h2><p id="testkit-search"><a href="${pageUrl(r.body.key)}">${esc(r.body.key)}</a> = ${esc(r.body.value)}</p>`;
}

/** A stored value's readable view, as the crate's `state_view` gives it: `u64 height | UTF-8 value`. */
function stateView(key, value) {
  if (value === null) return { present: false };
  if (value.length < 8) throw new Error('a value is u64 height | value');
  const height = Number(new DataView(value.buffer, value.byteOffset, 8).getBigUint64(0));
  return { present: true, value: new TextDecoder().decode(value.subarray(8)), height };
}

function stateSummaryHtml(res) {
  const v = res.view;
  if (!v.present) return fillHtml('testkit_state_none', { height: res.height });
  return fillHtml('testkit_state', { height: res.height, value: `<span id="testkit-state-value">${esc(v.value)}</span>`, written: v.height });
}

export default {
  strings,
  nav: [{ hash: '#/testkit', key: 'nav_testkit' }],
  pages: { testkit: testkitPage },
  search,
  verify: { state: { view: stateView, detail: (v) => (v.present ? v.value : '—'), summaryHtml: stateSummaryHtml } },
};
