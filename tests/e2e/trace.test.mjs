// The Traceability page (crates/modules/trace/console/page.js) against a real `cairn dev`
// node, in headless Chromium: a farm → processor → shelf EPCIS document captured through the
// page's capture form (the job polled to its end), listed, filtered by business step and paged;
// the sold can traced back to the farm (timeline and graph) and forward from the farm's milk;
// an event's page with its ledger facts, its receipt downloaded and checked in the browser, and
// its QR code; refusals (a bad field, proceed past errors, a duplicate) shown with the event
// and field; Chinese too. Last, an independent EPCIS 2.0 client, the npm package epcis2.js,
// builds a document and captures it with its own capture call (skipped when not installed).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SHOTS, launchBrowser, newPage, sleep, startDevNode, stopNodes } from './helpers.mjs';

const CONTEXT = 'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld';
const MILK = 'urn:epc:class:lgtin:4012345.011111.MILK-B1';
const can = (i) => `urn:epc:id:sgtin:4012345.022222.${i}`;
const FARM = 'urn:epc:id:sgln:4012345.00001.0', PLANT = 'urn:epc:id:sgln:4012345.00002.0', SHOP = 'urn:epc:id:sgln:4012345.00003.0';
const party = (n) => `urn:epc:id:pgln:4012345.0000${n}`;

const nodes = [];
let browser;
let node;

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  node = await startDevNode(nodes, { prefix: 'cairn-trace-' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  stopNodes(nodes);
});

const ev = (type, day, fields) => ({ type, eventTime: `2026-04-0${day}T09:00:00.000+08:00`, eventTimeZoneOffset: '+08:00', ...fields });
const doc = (events) => ({ '@context': [CONTEXT], type: 'EPCISDocument', schemaVersion: '2.0', creationDate: '2026-04-10T00:00:00Z', epcisBody: { eventList: events } });

/** The farm's milk batch, made into two cans at the processor, shipped to the shop, one can sold. */
function farmToShelf() {
  const milk = [{ epcClass: MILK, quantity: 1000, uom: 'LTR' }];
  const cans = [can(1), can(2)];
  return doc([
    ev('ObjectEvent', 1, { action: 'ADD', bizStep: 'commissioning', quantityList: milk, bizLocation: { id: FARM } }),
    ev('ObjectEvent', 2, { action: 'OBSERVE', bizStep: 'shipping', quantityList: milk, readPoint: { id: FARM }, sourceList: [{ type: 'owning_party', source: party(1) }], destinationList: [{ type: 'owning_party', destination: party(2) }] }),
    ev('ObjectEvent', 3, { action: 'OBSERVE', bizStep: 'receiving', quantityList: milk, readPoint: { id: PLANT } }),
    ev('TransformationEvent', 4, { bizStep: 'commissioning', inputQuantityList: milk, outputEPCList: cans, readPoint: { id: PLANT } }),
    ev('ObjectEvent', 5, { action: 'OBSERVE', bizStep: 'shipping', epcList: cans, readPoint: { id: PLANT }, sourceList: [{ type: 'owning_party', source: party(2) }], destinationList: [{ type: 'owning_party', destination: party(3) }] }),
    ev('ObjectEvent', 6, { action: 'OBSERVE', bizStep: 'receiving', epcList: cans, readPoint: { id: SHOP } }),
    ev('ObjectEvent', 7, { action: 'OBSERVE', bizStep: 'retail_selling', epcList: [can(2)], bizLocation: { id: SHOP } }),
  ]);
}

/** Writes a document into the node's temp dir: its path. */
function writeDoc(name, value) {
  const file = path.join(node.dir, name);
  fs.writeFileSync(file, JSON.stringify(value, null, 2));
  return file;
}

const rows = (page) => page.$$eval('#trace-events tbody tr', (trs) => trs.map((tr) => ({ id: tr.dataset.eventId, bizStep: tr.dataset.bizStep, type: tr.dataset.type })));
const rowCount = (page, n) => page.waitForFunction((n) => document.querySelectorAll('#trace-events tbody tr').length === n, n);
const timeline = (page) => page.$$eval('#trace-timeline li', (lis) => lis.map((li) => ({ leaf: Number(li.dataset.leaf), bizStep: li.dataset.bizStep, type: li.dataset.type, text: li.textContent.replace(/\s+/g, ' ') })));

test('a farm-to-shelf document captured from the page is listed, filtered, paged, traced and verified, in Chinese too', async () => {
  const page = await newPage(browser, node);
  await page.goto(`${node.url}/#/trace`);
  await page.waitForSelector('#trace-count');
  assert.match(await page.textContent('#trace-count'), /No events match/);
  assert.ok(await page.$('#nav a[href="#/trace"][aria-current="page"]'), 'the nav link to the page');

  // Capture through the form: progress, then the finished job.
  await page.setInputFiles('#trace-capture-file', writeDoc('farm-to-shelf.jsonld', farmToShelf()));
  await page.click('#trace-capture-button');
  await page.waitForSelector('#trace-capture-success', { timeout: 30000 });
  assert.match(await page.textContent('#trace-capture-success'), /Captured 7 events in block \d+\./);
  assert.equal(await page.locator('#trace-capture-leaves a').count(), 7);
  assert.equal(await page.isHidden('#trace-capture-progress'), true);

  // The list below shows them, oldest record first, each linked to its event page.
  await rowCount(page, 7);
  const all = await rows(page);
  assert.deepEqual(all.map((r) => r.bizStep), ['commissioning', 'shipping', 'receiving', 'commissioning', 'shipping', 'receiving', 'retail_selling']);
  assert.ok(all.every((r) => r.id.startsWith('ni:///sha-256;')), 'eventIDs default to hash IDs');
  assert.match(await page.textContent('#trace-count'), /^7 events shown$/);
  // Event time in Shanghai time, the UTC instant on hover.
  const first = page.locator('#trace-events tbody tr').first().locator('td time').first();
  assert.equal(await first.getAttribute('title'), '2026-04-01T01:00:00.000Z');
  assert.match(await first.textContent(), /09:00:00/);
  await page.screenshot({ path: path.join(SHOTS, 'trace-list.png'), fullPage: true });

  // Filtered by business step: only the two shipments, and the filter is in the address.
  await page.fill('#trace-f-bizstep', 'shipping');
  await page.click('#trace-f-submit');
  await page.waitForFunction(() => location.hash.includes('EQ_bizStep=shipping'));
  await rowCount(page, 2);
  assert.deepEqual((await rows(page)).map((r) => r.bizStep), ['shipping', 'shipping']);
  assert.equal(await page.inputValue('#trace-f-bizstep'), 'shipping');
  // By event type and time range (the viewer's time: Shanghai): the transformation alone.
  await page.fill('#trace-f-bizstep', '');
  await page.selectOption('#trace-f-type', 'TransformationEvent');
  await page.fill('#trace-f-from', '2026-04-04T00:00');
  await page.fill('#trace-f-to', '2026-04-05T00:00');
  await page.click('#trace-f-submit');
  await page.waitForFunction(() => location.hash.includes('eventType=TransformationEvent'));
  await rowCount(page, 1);
  assert.match(await page.evaluate(() => decodeURIComponent(location.hash)), /GE_eventTime=2026-04-03T16:00:00.000Z/);
  // By identifier (any role): the sold can's four events.
  await page.click('#trace-f-clear');
  await page.waitForFunction(() => location.hash === '#/trace');
  await rowCount(page, 7);
  await page.fill('#trace-f-epc', can(2));
  await page.click('#trace-f-submit');
  await rowCount(page, 4);
  assert.match(await page.evaluate(() => location.hash), /MATCH_anyEPC=/);
  // A class (the farm's milk lot) goes as MATCH_anyEPCClass: its three events and the transformation's input.
  await page.fill('#trace-f-epc', MILK);
  await page.click('#trace-f-submit');
  await page.waitForFunction(() => location.hash.includes('MATCH_anyEPCClass=') && !location.hash.includes('MATCH_anyEPC='));
  await rowCount(page, 4);
  assert.deepEqual((await rows(page)).map((r) => r.type), ['ObjectEvent', 'ObjectEvent', 'ObjectEvent', 'TransformationEvent']);

  // Paging through the Link header: 3, 6, then all 7 and no More.
  await page.goto(`${node.url}/#/trace?perPage=3`);
  await rowCount(page, 3);
  assert.equal(await page.isVisible('#trace-more'), true);
  assert.match(await page.textContent('#trace-count'), /3 events shown, more on the next page/);
  await page.click('#trace-more');
  await rowCount(page, 6);
  await page.click('#trace-more');
  await rowCount(page, 7);
  assert.equal(await page.isHidden('#trace-more'), true);
  assert.equal(new Set((await rows(page)).map((r) => r.id)).size, 7, 'no event twice across pages');

  // A bad query shows the repository's problem, not an empty list.
  await page.goto(`${node.url}/#/trace?EQ_colour=red`);
  await page.waitForSelector('#trace-problem');
  assert.match(await page.textContent('#trace-problem'), /HTTP 400.*EQ_colour is not a SimpleEventQuery parameter/s);

  // Back from the sold can: the trace view, reached from the sale's row.
  await page.goto(`${node.url}/#/trace?EQ_bizStep=retail_selling`);
  await rowCount(page, 1);
  await page.click('#trace-events tbody tr a.trace-back');
  await page.waitForFunction(() => location.hash.startsWith('#/trace/trace?') && document.querySelectorAll('#trace-timeline li').length === 7);
  let items = await timeline(page);
  assert.deepEqual(items.map((i) => i.bizStep), ['commissioning', 'shipping', 'receiving', 'commissioning', 'shipping', 'receiving', 'retail_selling']);
  assert.equal(items[0].type, 'ObjectEvent');
  assert.match(items[0].text, /commissioning · ObjectEvent ADD Organisation: dev-org · Where: https:\/\/id\.gs1\.org\/414\//);
  assert.match(items[1].text, /from urn:epc:id:pgln:4012345\.00001 to urn:epc:id:pgln:4012345\.00002/);
  assert.match(items[6].text, /retail_selling/);
  assert.match(await page.textContent('#trace-summary'), /^Back from https:\/\/id\.gs1\.org\/01\/04012345222227\/21\/2: 7 events recorded by dev-org, from .+ to .+\.$/);
  assert.match(await page.textContent('#trace-ends'), /^Where it came from: commissioning by dev-org on .+ at https:\/\/id\.gs1\.org\/414\/4012345000016\.$/);
  assert.equal(await page.inputValue('#trace-t-epc'), can(2));
  // The graph: a node per event, left to right in time; the transformation linked to the milk's events.
  assert.equal(await page.locator('#trace-graph .trace-node').count(), 7);
  const xs = await page.$$eval('#trace-graph .trace-node circle', (cs) => cs.map((c) => Number(c.getAttribute('cx'))));
  assert.deepEqual(xs, [...xs].sort((a, b) => a - b));
  const transformation = items[3].leaf;
  const edges = await page.$$eval('#trace-graph .trace-edge', (ps) => ps.map((p) => [Number(p.dataset.from), Number(p.dataset.to)]));
  // One connected history: every event on an arrow, arrows from earlier to later, the milk's
  // last event before the transformation leading into it.
  const order = new Map(items.map((i, k) => [i.leaf, k]));
  for (const i of items) assert.ok(edges.some(([a, b]) => a === i.leaf || b === i.leaf), `leaf ${i.leaf} on no arrow: ${JSON.stringify(edges)}`);
  assert.ok(edges.every(([a, b]) => order.get(a) < order.get(b)), JSON.stringify(edges));
  assert.ok(edges.some(([a, b]) => a === items[2].leaf && b === transformation), JSON.stringify(edges));
  await page.screenshot({ path: path.join(SHOTS, 'trace-back.png'), fullPage: true });

  // Forward from the farm's milk, from the form: the old answer is gone, the new one ends at the sale.
  await page.fill('#trace-t-epc', MILK);
  await page.selectOption('#trace-t-direction', 'forward');
  await page.click('#trace-t-submit');
  await page.waitForFunction(() => /^Forward from/.test(document.querySelector('#trace-summary')?.textContent ?? ''));
  items = await timeline(page);
  assert.equal(items.length, 7);
  assert.equal(items.at(-1).bizStep, 'retail_selling');
  assert.match(await page.textContent('#trace-ends'), /^Where it went last: retail_selling by dev-org/);

  // The farm's commissioning, from the timeline: its event page.
  const farm = items[0];
  await page.click(`#trace-timeline li[data-leaf="${farm.leaf}"] a`);
  await page.waitForSelector('#trace-event-hash');
  const facts = await (await fetch(`${node.url}/v1/trace/events/${farm.leaf}`)).json();
  assert.equal(await page.textContent('#trace-event-hash'), facts.eventHashID);
  assert.match(facts.eventHashID, /^ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=CBV2\.0$/);
  assert.equal(await page.textContent('#trace-event-org'), 'dev-org');
  assert.equal(await page.textContent('#trace-event-block'), String(facts.height));
  assert.equal(await page.textContent('#trace-event-leaf'), String(farm.leaf));
  assert.equal(await page.getAttribute('#trace-event-record-time time', 'title'), facts.recordTime);
  assert.equal(await page.getAttribute('#trace-event-time time', 'title'), '2026-04-01T01:00:00.000Z');
  assert.match(await page.textContent('#trace-event-time'), /09:00:00.*as captured: 2026-04-01T09:00:00\.000\+08:00/);
  assert.match(await page.textContent('#trace-event-ids'), /https:\/\/id\.gs1\.org\/01\/04012345111118\/10\/MILK-B1/);
  assert.deepEqual(JSON.parse(await page.textContent('#trace-event-jsonld')).quantityList, farmToShelf().epcisBody.eventList[0].quantityList);
  // Its receipt: downloaded as a leaf receipt of this leaf, and VALID in this browser.
  await page.waitForSelector('#trace-event-receipt', { timeout: 30000 });
  assert.equal(await page.getAttribute('#trace-event-receipt', 'download'), `trace-event-${farm.leaf}.receipt.json`);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#trace-event-receipt')]);
  const receipt = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
  assert.equal(receipt.format, 'cairn-leaf-receipt-v1');
  assert.equal(receipt.module, 'trace');
  assert.equal(receipt.leaf_index, farm.leaf);
  await page.waitForSelector('#verdict');
  assert.equal(await page.textContent('#verdict'), 'VALID');
  assert.match(await page.textContent('#trace-event-check'), /This event.*holds this event’s hash ID, organisation, block and record time/s);
  // Its QR code opens this event's page.
  const qr = await page.getAttribute('#trace-event-qr', 'src');
  assert.equal(new URL(qr, node.url).searchParams.get('text'), `${node.url}/#/trace/event/${farm.leaf}`);
  const img = await fetch(new URL(qr, node.url));
  assert.equal(img.status, 200);
  assert.match(img.headers.get('content-type'), /svg/);
  await page.screenshot({ path: path.join(SHOTS, 'trace-event.png'), fullPage: true });

  // The header search: an identifier offers its events and its trace; a hash ID opens its event.
  await page.fill('#search', can(2));
  await page.press('#search', 'Enter');
  await page.waitForSelector('#trace-search');
  assert.match(await page.textContent('#trace-search'), /Traceability of urn:epc:id:sgtin:4012345\.022222\.2:\s+its events ·\s+Trace back · Trace forward/);
  await page.click('#trace-search a[href^="#/trace/trace"]');
  await page.waitForFunction(() => document.querySelectorAll('#trace-timeline li').length === 7);
  await page.fill('#search', facts.eventHashID);
  await page.press('#search', 'Enter');
  await page.waitForFunction((leaf) => location.hash === `#/trace/event/${leaf}`, farm.leaf);
  await page.waitForSelector('#verdict');

  // In Chinese: the same event page, then the trace.
  await page.click('#lang');
  await page.waitForFunction(() => document.querySelector('#nav').textContent.includes('溯源'));
  await page.waitForFunction(() => document.querySelector('main h1')?.textContent.includes('溯源事件'));
  await page.waitForFunction(() => document.querySelector('#verdict')?.textContent === '有效');
  assert.match(await page.textContent('#trace-event-bizstep'), /赋码投产/);
  await page.goto(`${node.url}/#/trace/trace?epc=${encodeURIComponent(can(2))}&direction=back`);
  await page.waitForFunction(() => document.querySelectorAll('#trace-timeline li').length === 7);
  assert.match(await page.textContent('#trace-summary'), /^从 .+ 向前溯源：dev-org 记录的 7 个事件，时间从 .+ 到 .+。$/);
  assert.match(await page.textContent('#trace-ends'), /^源头：dev-org 于 .+进行的赋码投产。$/);
  assert.match((await timeline(page)).at(-1).text, /零售/);
  await page.screenshot({ path: path.join(SHOTS, 'trace-zh.png'), fullPage: true });
  await page.goto(`${node.url}/#/trace`);
  await rowCount(page, 7);
  assert.match(await page.textContent('#trace-count'), /^已显示 7 个事件$/);
  await page.click('#lang');
  await page.waitForFunction(() => document.querySelector('#nav').textContent.includes('Traceability'));
  await page.close();
});

test('refusals name the event and field; proceed past errors captures the rest; a duplicate names its first record', async () => {
  const page = await newPage(browser, node);
  await page.goto(`${node.url}/#/trace`);
  await page.waitForSelector('#trace-capture-file');
  const good = ev('ObjectEvent', 8, { action: 'OBSERVE', bizStep: 'inspecting', epcList: [can(9)] });
  const bad = ev('ObjectEvent', 8, { action: 'OBSERVE', bizStep: 'teleporting', epcList: [can(8)] });

  // Without a file: said so.
  await page.click('#trace-capture-button');
  assert.match(await page.textContent('#trace-capture-stage'), /Choose a document first/);

  // Rolled back: the 400 problem's event, field and detail.
  await page.setInputFiles('#trace-capture-file', writeDoc('bad.jsonld', doc([good, bad])));
  await page.click('#trace-capture-button');
  await page.waitForSelector('#trace-problem');
  assert.match(await page.textContent('#trace-problem'), /Refused: Bad Request \(HTTP 400\)/);
  const li = page.locator('#trace-problem li');
  assert.equal(await li.getAttribute('data-event-index'), '1');
  assert.equal(await li.getAttribute('data-field'), '/bizStep');
  assert.match(await li.textContent(), /^Event 1 · field \/bizStep: event 1, field \/bizStep: does not match the EPCIS 2\.0 schema/);

  // Another choice clears the old answer at once.
  await page.setInputFiles('#trace-capture-file', writeDoc('bad-again.jsonld', doc([good, bad])));
  assert.equal(await page.innerHTML('#trace-capture-result'), '');

  // Proceed past errors: the good event is captured, the bad one reported from the job.
  await page.check('#trace-capture-proceed');
  await page.click('#trace-capture-button');
  await page.waitForSelector('#trace-capture-problem', { timeout: 30000 });
  assert.match(await page.textContent('#trace-capture-problem'), /Captured 1 event in block \d+; 1 problem:/);
  assert.equal(await page.locator('#trace-capture-errors li[data-event-index="1"][data-field="/bizStep"]').count(), 1);
  assert.equal(await page.locator('#trace-capture-success').count(), 0);
  assert.equal(await page.locator('#trace-problem').count(), 0, 'the earlier refusal is gone');

  // The farm's document again: a 409 naming where the event was first recorded.
  await page.uncheck('#trace-capture-proceed');
  await page.setInputFiles('#trace-capture-file', writeDoc('again.jsonld', farmToShelf()));
  await page.click('#trace-capture-button');
  await page.waitForSelector('#trace-problem');
  assert.match(await page.textContent('#trace-problem'), /HTTP 409.*Event 0: event 0: event hash ID ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=CBV2\.0 was recorded already.*first recorded as event \d+/s);
  assert.equal(await page.locator('#trace-capture-problem').count(), 0);

  // Not JSON at all.
  const junk = path.join(node.dir, 'junk.json');
  fs.writeFileSync(junk, 'not json');
  await page.setInputFiles('#trace-capture-file', junk);
  await page.click('#trace-capture-button');
  await page.waitForSelector('#trace-problem');
  assert.match(await page.textContent('#trace-problem'), /HTTP 400.*not JSON/s);
  await page.screenshot({ path: path.join(SHOTS, 'trace-capture-refused.png'), fullPage: true });
  await page.close();
});

test('a slow answer never shows over a newer query or trace', async () => {
  const page = await newPage(browser, node);
  const slow = (match) => page.route(match, async (route) => { await sleep(1500); await route.continue().catch(() => {}); });
  await slow((u) => u.pathname === '/epcis/events' && u.searchParams.get('EQ_bizStep') === 'receiving');
  await slow((u) => u.pathname === '/epcis/trace' && u.searchParams.get('direction') === 'back');

  await page.goto(`${node.url}/#/trace?EQ_bizStep=receiving`);
  await page.waitForSelector('#trace-loading');
  await page.goto(`${node.url}/#/trace?EQ_bizStep=shipping`);
  await rowCount(page, 2);
  await sleep(2000);
  assert.deepEqual((await rows(page)).map((r) => r.bizStep), ['shipping', 'shipping'], 'the slower receiving answer was dropped');

  await page.goto(`${node.url}/#/trace/trace?epc=${encodeURIComponent(can(2))}&direction=back`);
  await page.waitForSelector('#trace-loading');
  await page.fill('#trace-t-epc', MILK);
  await page.selectOption('#trace-t-direction', 'forward');
  await page.click('#trace-t-submit');
  await page.waitForFunction(() => /^Forward from/.test(document.querySelector('#trace-summary')?.textContent ?? ''));
  await sleep(2000);
  assert.match(await page.textContent('#trace-summary'), /^Forward from/, 'the slower back trace was dropped');
  await page.close();
});

test('an independent EPCIS 2.0 client, epcis2.js, builds a document and captures it with its own capture call', async () => {
  // A devDependency of tests/e2e (its placeholder dependency fs@0.0.1-security is overridden
  // with a stub in package.json: npm's registry refuses that name; Node's own fs is used).
  const epcis = (await import('epcis2.js')).default;
  const { setup, capture, CaptureResponse, EPCISDocument, ObjectEvent, ReadPoint, cbv } = epcis;
  // Its own settings: the binding's root, no other header than its default content type.
  setup({ apiUrl: `${node.url}/epcis`, documentValidation: true });
  const epc = 'urn:epc:id:sgtin:0614141.107346.424242';
  const event = new ObjectEvent()
    .setEventTime('2026-05-01T10:00:00.000+02:00')
    .addEPC(epc)
    .setAction(cbv.actionTypes.observe)
    .setBizStep(cbv.bizSteps.shipping)
    .setReadPoint(new ReadPoint().setId('urn:epc:id:sgln:0614141.00777.0'));
  const document = new EPCISDocument().addEvent(event);
  assert.equal(document.isValid(), true, 'valid against epcis2.js’s own copy of the EPCIS 2.0 schema');
  const res = await capture(document);
  assert.equal(res.status, 202, await res.clone().text());
  // Its own capture-job polling (GET {apiUrl}/capture/{id}).
  const job = new CaptureResponse(res);
  await job.pollForTheCaptureToFinish(120, 250);
  assert.equal(job.getRunningStatus(), false);
  assert.equal(job.getSuccessStatus(), true, JSON.stringify(job.getErrors()));
  const q = await fetch(`${node.url}/epcis/events?MATCH_epc=${encodeURIComponent(epc)}`);
  assert.equal(q.status, 200);
  const list = (await q.json()).epcisBody.queryResults.resultsBody.eventList;
  assert.equal(list.length, 1, JSON.stringify(list));
  assert.deepEqual(list[0].epcList, [epc]);
  assert.equal(list[0].bizStep, 'shipping');
  assert.equal(list[0].action, 'OBSERVE');
  assert.equal(list[0].eventTimeZoneOffset, '+02:00');
  assert.deepEqual(list[0].readPoint, { id: 'urn:epc:id:sgln:0614141.00777.0' });
});
