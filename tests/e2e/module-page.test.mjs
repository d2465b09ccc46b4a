// A ledger module brings its own console page: the test kit module (crates/test-kit, built as
// the `cairn-testkit` binary, never shipped) adds #/testkit to the console without a change to
// the shell. Against a real `cairn-testkit dev` node, in headless Chromium: the node lists the
// module and its page, the page shows a value the CLI wrote, its nav link and text come in both
// languages, it joins the header search, and the evidence module's pages still work beside it.
// The value's log leaf has a leaf receipt (GET /v1/leaves/<index>/receipt) that the verify page
// finds VALID, and INVALID with one hex digit of the leaf changed; an evidence leaf has none.
// A page that fails to load, or that claims the shell's routes and text, breaks nothing else.
// Skipped when the binary is not built (unless CAIRN_REQUIRE_TESTKIT is set).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TESTKIT, SHOTS, startDevNode, stopNodes, runCairn, launchBrowser, newPage as openPage, sleep } from './helpers.mjs';

const MISSING = !fs.existsSync(TESTKIT) && !process.env.CAIRN_REQUIRE_TESTKIT;

const nodes = [];
let browser;

const startNode = () => startDevNode(nodes, { prefix: 'cairn-e2e-testkit-', bin: TESTKIT, name: 'cairn-testkit' });

/** Writes a value through the test kit's CLI and waits for its block; returns the node's answer (its one result). */
function put(node, key, value) {
  const r = runCairn(['put', '--node', node.url, '--key', path.join(node.data, 'keys/submitter.key'), '--wait', key, value], TESTKIT);
  assert.equal(r.status, 0, `cairn-testkit put failed: ${r.stderr}`);
  const answer = JSON.parse(r.stdout);
  assert.equal(answer.results?.length, 1, r.stdout);
  assert.equal(answer.results[0].status, 'committed', r.stdout);
  return answer.results[0];
}

/** GET a receipt: {status, type, text}; a 503 (not yet under a signed checkpoint) is retried for up to 10 s. */
async function getReceipt(node, urlPath) {
  const deadline = Date.now() + 10000;
  for (;;) {
    const res = await fetch(`${node.url}${urlPath}`);
    const text = await res.text();
    if (res.status !== 503 || Date.now() > deadline) return { status: res.status, type: res.headers.get('content-type') ?? '', text };
    await sleep(200);
  }
}

/** The version 2 envelope a module's leaf is, as hex: `0x02 | str module | u8 kind | payload`. */
function envelopeHex(module, kind, payload) {
  const m = Buffer.from(module, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(m.length);
  return Buffer.concat([Buffer.from([2]), len, m, Buffer.from([kind]), payload]).toString('hex');
}

/** `str s` of the canonical encoding: u32 big-endian length, then the UTF-8 bytes. */
function strBytes(s) {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

/**
 * A page in Shanghai time; errors thrown in the page fail the test, and the console's own
 * warnings and errors about module pages (they start with "console:") are collected.
 */
const newPage = (node) => openPage(browser, node, { collectWarnings: true });

const navLinks = (page) => page.$$eval('#nav a', (as) => as.map((a) => ({ href: a.getAttribute('href'), text: a.textContent, current: a.getAttribute('aria-current') })));

after(async () => {
  await browser?.close();
  stopNodes(nodes);
});

test('a module page from the test kit crate: listed, served, routed, translated, searched; the evidence pages still work', async (t) => {
  if (MISSING) return t.skip(`no test kit binary at ${TESTKIT} (build it, or set CAIRN_TESTKIT_BIN; CAIRN_REQUIRE_TESTKIT makes this a failure)`);
  fs.mkdirSync(SHOTS, { recursive: true });
  browser = await launchBrowser();
  const node = await startNode();
  const key = 'greeting-问候', value = 'hello <world> & 世界';
  const written = put(node, key, value);
  assert.ok(Number.isSafeInteger(written.first_leaf) && written.first_leaf >= 0, `put answer without first_leaf: ${JSON.stringify(written)}`);

  // The node lists the module with its page, serves the page as JavaScript, and documents the API.
  const list = await (await fetch(`${node.url}/v1/modules`)).json();
  const testkit = list.modules.find((m) => m.name === 'testkit');
  assert.ok(testkit, `testkit is not among ${JSON.stringify(list.modules)}`);
  assert.match(testkit.console, /^\/console\/modules\/testkit\/[\w.-]+\.js$/);
  const evidence = list.modules.find((m) => m.name === 'evidence');
  assert.match(evidence?.console ?? '', /^\/console\/modules\/evidence\//, 'the evidence module keeps its page');
  const served = await fetch(`${node.url}${testkit.console}`);
  assert.equal(served.status, 200);
  assert.match(served.headers.get('content-type'), /^text\/javascript/);
  assert.match(await served.text(), /export default/);
  assert.equal((await fetch(`${node.url}/console/modules/testkit/no-such-file.js`)).status, 404);
  assert.equal((await fetch(`${node.url}/console/modules/no-such-module/page.js`)).status, 404);
  const openapi = await (await fetch(`${node.url}/v1/openapi.json`)).json();
  assert.ok(openapi.paths['/v1/testkit/values/{key}'], 'the test kit route is in the OpenAPI document');
  const stored = await (await fetch(`${node.url}/v1/testkit/values/${encodeURIComponent(key)}`)).json();
  assert.equal(stored.key, key);
  assert.equal(stored.value, value);
  assert.ok(Number.isSafeInteger(stored.height) && stored.height >= 1);

  // The page shows the value (as text, escaped), with its nav link between Blocks and Verify.
  const page = await newPage(node);
  await page.goto(`${node.url}/#/testkit/${encodeURIComponent(key)}`);
  await page.waitForSelector('#testkit-value');
  assert.equal(await page.textContent('#testkit-value'), value);
  assert.equal(await page.textContent('#testkit-height'), String(stored.height));
  await page.screenshot({ path: path.join(SHOTS, 'testkit-value.png'), fullPage: true });
  let nav = await navLinks(page);
  const at = (href) => nav.findIndex((l) => l.href === href);
  assert.deepEqual(nav.find((l) => l.href === '#/testkit'), { href: '#/testkit', text: 'Test kit', current: 'page' });
  assert.ok(at('#/blocks') < at('#/testkit') && at('#/testkit') < at('#/verify'), `nav order: ${JSON.stringify(nav)}`);
  assert.ok(at('#/blocks') < at('#/deposit') && at('#/deposit') < at('#/verify'), `nav order: ${JSON.stringify(nav)}`);

  // #/testkit alone asks for a key and opens its page; a key with no value says so.
  await page.click('#nav a[href="#/testkit"]');
  await page.waitForSelector('#testkit-key');
  assert.equal(await page.$('#testkit-value'), null);
  await page.fill('#testkit-key', key);
  await page.press('#testkit-key', 'Enter');
  await page.waitForSelector('#testkit-value');
  assert.equal(await page.evaluate(() => location.hash), `#/testkit/${encodeURIComponent(key)}`);
  assert.equal(await page.textContent('#testkit-value'), value);
  await page.goto(`${node.url}/#/testkit/never-written`);
  await page.waitForSelector('#testkit-none');
  assert.match(await page.textContent('#testkit-none'), /never-written/);

  // The header search asks the module too.
  await page.fill('#search', key);
  await page.press('#search', 'Enter');
  await page.waitForSelector('#testkit-search');
  assert.match(await page.textContent('#testkit-search'), /hello <world> & 世界$/);

  // In Chinese, the module's text too.
  await page.goto(`${node.url}/#/testkit/${encodeURIComponent(key)}`);
  await page.waitForSelector('#testkit-value');
  await page.click('#lang');
  await page.waitForFunction(() => document.querySelector('#nav').textContent.includes('测试模块'));
  assert.equal(await page.textContent('#testkit-title'), '测试模块的值');
  assert.equal(await page.textContent('#testkit-value'), value);
  nav = await navLinks(page);
  assert.equal(nav.find((l) => l.href === '#/deposit').text, '存证');
  await page.screenshot({ path: path.join(SHOTS, 'testkit-value-zh.png'), fullPage: true });
  await page.click('#lang');
  await page.waitForFunction(() => document.querySelector('#nav').textContent.includes('Test kit'));

  // The evidence module's pages work on this node beside it: the deposit form, a record, search.
  await page.goto(`${node.url}/#/deposit`);
  await page.waitForSelector('#key-file');
  assert.equal(await page.textContent('main h1'), 'Deposit evidence');
  const file = path.join(node.dir, 'contract.txt');
  fs.writeFileSync(file, 'deposited beside the test kit\n');
  await page.setInputFiles('#key-file', path.join(node.data, 'keys/submitter.key'));
  await page.waitForFunction(() => document.querySelector('#key-status').textContent.length > 0);
  assert.match(await page.textContent('#key-status'), /Key loaded/);
  await page.setInputFiles('#deposit-files', file);
  await page.fill('#deposit-reference', 'case-testkit-1');
  await page.click('#deposit-button');
  await page.waitForSelector('.receipt-card', { timeout: 30000 });
  const id = await page.getAttribute('.receipt-card', 'data-record-id');
  await page.goto(`${node.url}/#/record/${id}`);
  await page.waitForSelector('#record-block');
  assert.match(await page.textContent('#same-digest'), /\(1 deposit\)$/);
  await page.fill('#search', 'case-testkit-1');
  await page.press('#search', 'Enter');
  await page.waitForSelector('#search-results');
  assert.equal(await page.textContent('#search-count'), '1 record found');

  // The put's leaf has its own receipt (cairn-leaf-receipt-v1), which the verify page checks in
  // the browser: VALID, module testkit, the put's arguments as its payload; one hex digit of
  // the leaf changed, INVALID.
  const lr = await getReceipt(node, `/v1/leaves/${written.first_leaf}/receipt`);
  assert.equal(lr.status, 200, `GET /v1/leaves/${written.first_leaf}/receipt: ${lr.text}`);
  assert.match(lr.type, /json/);
  const receipt = JSON.parse(lr.text);
  assert.deepEqual(Object.keys(receipt).sort(), ['chain_id', 'checkpoint', 'format', 'inclusion_proof', 'kind', 'leaf', 'leaf_index', 'module', 'tree_size']);
  assert.equal(receipt.format, 'cairn-leaf-receipt-v1');
  assert.equal(receipt.module, 'testkit');
  assert.equal(receipt.kind, 1);
  assert.equal(receipt.leaf_index, written.first_leaf);
  assert.ok(receipt.tree_size > receipt.leaf_index);
  const payload = Buffer.concat([strBytes(key), strBytes(value)]);
  assert.equal(receipt.leaf, envelopeHex('testkit', 1, payload), 'the leaf is the envelope of the put\'s arguments');
  const leafPath = path.join(node.dir, 'testkit-leaf.receipt.json');
  fs.writeFileSync(leafPath, lr.text);
  await page.goto(`${node.url}/#/verify`);
  await page.waitForSelector('#verify-button');
  await page.setInputFiles('#receipt-file', leafPath);
  await page.click('#verify-button');
  await page.waitForSelector('#verdict');
  assert.equal(await page.textContent('#verdict'), 'VALID', await page.textContent('#verify-result'));
  assert.equal(await page.textContent('#leaf-module'), 'testkit');
  assert.equal(await page.textContent('#leaf-kind'), '1');
  assert.equal(await page.textContent('#leaf-index'), String(written.first_leaf));
  assert.equal(await page.textContent('#leaf-payload-size'), `${payload.length} bytes`);
  assert.equal(await page.getAttribute('#leaf-payload', 'data-encoding'), 'text');
  assert.ok((await page.textContent('#leaf-payload')).includes(value), 'the payload is shown as text');
  assert.match(await page.textContent('#leaf-summary'), /testkit/);
  await page.screenshot({ path: path.join(SHOTS, 'testkit-leaf-receipt.png'), fullPage: true });
  const tampered = { ...receipt, leaf: receipt.leaf.slice(0, -1) + (receipt.leaf.endsWith('0') ? '1' : '0') };
  const tamperedPath = path.join(node.dir, 'testkit-leaf-tampered.receipt.json');
  fs.writeFileSync(tamperedPath, JSON.stringify(tampered, null, 2));
  await page.setInputFiles('#receipt-file', tamperedPath);
  assert.equal(await page.$('#verdict'), null, 'a new receipt clears the old verdict');
  await page.click('#verify-button');
  await page.waitForSelector('#verdict');
  assert.equal(await page.textContent('#verdict'), 'INVALID');
  assert.match(await page.textContent('#verify-reason'), /inclusion/);
  assert.equal(await page.$('#leaf-module'), null, 'an INVALID leaf receipt shows no summary');

  // The module's page lends the Verify page the view of its state values (`verify.state`): a
  // state proof of the put's key is VALID and said in the module's words; one whose view lies
  // about the value is INVALID at the readable-value step.
  const sp = await getReceipt(node, `/v1/state/proof?module=testkit&key=${Buffer.from(key).toString('hex')}`);
  assert.equal(sp.status, 200, sp.text);
  const spPath = path.join(node.dir, 'testkit.state-proof.json');
  fs.writeFileSync(spPath, sp.text);
  await page.setInputFiles('#receipt-file', spPath);
  await page.click('#verify-button');
  await page.waitForSelector('#verdict');
  assert.equal(await page.textContent('#verdict'), 'VALID', await page.textContent('#verify-result'));
  assert.equal(await page.textContent('#testkit-state-value'), value);
  const lying = JSON.parse(sp.text);
  lying.view = { ...lying.view, value: 'not what was written' };
  const lyingPath = path.join(node.dir, 'testkit-lying.state-proof.json');
  fs.writeFileSync(lyingPath, JSON.stringify(lying, null, 2));
  await page.setInputFiles('#receipt-file', lyingPath);
  await page.click('#verify-button');
  await page.waitForSelector('#verdict');
  assert.equal(await page.textContent('#verdict'), 'INVALID');
  assert.match(await page.textContent('#verify-reason'), /view does not match its testkit value/);

  // An evidence record's leaf is not a module envelope: no leaf receipt for it (its own
  // receipt is at /v1/evidence/<id>/receipt).
  const er = await getReceipt(node, `/v1/evidence/${id}/receipt`);
  assert.equal(er.status, 200, er.text);
  const evidenceLeaf = JSON.parse(er.text).leaf_index;
  assert.ok(Number.isSafeInteger(evidenceLeaf), er.text);
  const notModule = await getReceipt(node, `/v1/leaves/${evidenceLeaf}/receipt`);
  assert.equal(notModule.status, 400, notModule.text);
  assert.match(notModule.type, /^application\/problem\+json/);
  assert.equal(JSON.parse(notModule.text).code, 'not-a-module-leaf');
  assert.deepEqual(page.warnings, [], 'no module page was refused anything');
  await page.close();

  // A module page that does not load leaves the rest of the console working.
  const broken = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  broken.on('pageerror', (e) => { throw e; });
  const logged = [];
  broken.on('console', (m) => { if (m.text().startsWith('console:')) logged.push(m.text()); });
  await broken.route(`**${testkit.console}`, (r) => r.fulfill({ status: 200, contentType: 'text/javascript', body: 'export default {' }));
  await broken.goto(`${node.url}/#/deposit`);
  await broken.waitForSelector('#key-file');
  assert.equal((await navLinks(broken)).find((l) => l.href === '#/testkit'), undefined);
  assert.ok(logged.some((l) => l.includes('testkit')), `the failure is logged: ${JSON.stringify(logged)}`);
  await broken.goto(`${node.url}/#/testkit/${encodeURIComponent(key)}`);
  await broken.waitForFunction(() => document.querySelector('main h1')?.textContent === 'Nothing found');
  await broken.close();

  // A module page cannot take the shell's routes or text, nor another module's.
  const greedy = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  greedy.on('pageerror', (e) => { throw e; });
  const warned = [];
  greedy.on('console', (m) => { if (m.type() === 'warning' && m.text().startsWith('console:')) warned.push(m.text()); });
  const body = `export default {
    strings: { en: { title: 'Taken', nav_deposit: 'Taken', nav_greedy: 'Greedy' }, zh: { title: '占用', nav_deposit: '占用', nav_greedy: '贪心' } },
    nav: [{ hash: '#/greedy', key: 'nav_greedy' }],
    pages: { verify: async (ctx) => ctx.render('<h1 id="greedy">taken</h1>'), record: async (ctx) => ctx.render('<h1 id="greedy">taken</h1>'), greedy: async (ctx) => ctx.render('<h1 id="greedy">mine</h1>') },
  };`;
  await greedy.route(`**${testkit.console}`, (r) => r.fulfill({ status: 200, contentType: 'text/javascript', body }));
  await greedy.goto(`${node.url}/#/greedy`);
  await greedy.waitForSelector('#greedy');
  assert.equal(await greedy.textContent('#greedy'), 'mine');
  assert.equal(await greedy.title(), 'Cairn ledger');
  assert.equal((await navLinks(greedy)).find((l) => l.href === '#/greedy').text, 'Greedy');
  await greedy.goto(`${node.url}/#/verify`);
  await greedy.waitForSelector('#verify-button');
  const expected = ['text key title', '#/verify'];
  // Between modules the one registered first keeps what both claim.
  if (list.modules.indexOf(evidence) < list.modules.indexOf(testkit)) {
    assert.equal((await navLinks(greedy)).find((l) => l.href === '#/deposit').text, 'Deposit');
    await greedy.goto(`${node.url}/#/record/${id}`);
    await greedy.waitForSelector('#record-block');
    expected.push('text key nav_deposit', '#/record');
  }
  for (const what of expected) assert.ok(warned.some((w) => w.includes(what)), `no warning about ${what}: ${JSON.stringify(warned)}`);
  await greedy.close();
});
