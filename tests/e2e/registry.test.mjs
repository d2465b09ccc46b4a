// The Registries page (crates/modules/registry/console/page.js) against a real `cairn dev` node,
// in headless Chromium. The data is written with the `cairn registry` CLI: a birth register with
// indexed and personal fields, entries put, amended, suspended and revoked, and a second
// registry titled in Chinese only. The pages walked: the list of registries; one registry with
// its fields and its entries, filtered by holder, by an indexed field and by status, and paged;
// an entry with its status, fields (personal ones as digests only) and history, each version's
// receipt downloaded and VALID in the browser; its credential (both cryptosuites) and QR code,
// its state proof; the credential verify page: VALID with the holder's disclosures, INVALID when
// tampered, revoked after `cairn registry revoke`, never a stale verdict; Chinese throughout;
// the header search.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { CAIRN, SHOTS, launchBrowser, newPage, sleep, startDevNode, stopNodes } from './helpers.mjs';

const nodes = [];
let browser;
let node;
let key;

const G = 'civil-births';
const LAND = 'land-titles';
const WANG = 'did:example:wang-xiaoming';

function cli(args) {
  return execFileSync(CAIRN, ['registry', ...args, '--node', node.url], { encoding: 'utf8', env: { ...process.env, RUST_LOG: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120000 });
}

function write(name, value) {
  const file = path.join(node.dir, name);
  fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return file;
}

const births = (certificate, district, name, birthDate) => ({ certificate, district, name, birthDate });

function put(g, k, holder, fields) {
  cli(['put', '--key', key, '--registry', g, '--entry', k, '--holder', holder, '--fields', write(`${k}.fields.json`, fields), '--disclosures', path.join(node.dir, `${k}.disclosures.json`)]);
}

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  node = await startDevNode(nodes, { prefix: 'cairn-registry-' });
  key = path.join(node.data, 'keys/submitter.key');
  const schema = write('schema.json', {
    type: 'object',
    properties: {
      certificate: { type: 'string', title: 'Certificate number' }, district: { type: 'string' }, name: { type: 'string' }, birthDate: { type: 'string', format: 'date' },
    },
    required: ['certificate', 'district', 'name', 'birthDate'],
    additionalProperties: false,
    'x-cairn-indexed': ['district'],
    'x-cairn-personal': ['name', 'birthDate'],
  });
  cli(['create', '--key', key, '--registry', G, '--title-zh', '出生登记', '--title-en', 'Birth register', '--schema', schema]);
  put(G, 'B000123', WANG, births('B000123', '朝阳区', '王小明', '2026-03-14'));
  put(G, 'B000124', 'did:example:li-hua', births('B000124', '海淀区', '李华', '2026-03-20'));
  put(G, 'B000125', WANG, births('B000125', '朝阳区', '王小明', '2026-03-14'));
  // A corrected birth date: version 2, with new disclosures for the holder.
  cli(['amend', '--key', key, '--registry', G, '--entry', 'B000123', '--fields', write('B000123.v2.json', births('B000123', '朝阳区', '王小明', '2026-03-15')), '--disclosures', path.join(node.dir, 'B000123.disclosures.json')]);
  cli(['suspend', '--key', key, '--registry', G, '--entry', 'B000124', '--reason', 'under-review']);
  cli(['revoke', '--key', key, '--registry', G, '--entry', 'B000125', '--reason', 'duplicate']);
  const land = write('land.json', { type: 'object', properties: { parcel: { type: 'string' } }, required: ['parcel'], 'x-cairn-indexed': ['parcel'] });
  cli(['create', '--key', key, '--registry', LAND, '--title-zh', '土地登记', '--schema', land]);
  put(LAND, 'P-1', '', { parcel: 'CY-001' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  stopNodes(nodes);
});

const json = async (p) => (await fetch(`${node.url}${p}`)).json();
const entryRows = (page) => page.$$eval('#reg-entries-table tbody tr', (trs) => trs.map((tr) => ({ key: tr.dataset.key, status: tr.dataset.status, holder: tr.dataset.holder })));
const rowCount = (page, n) => page.waitForFunction((n) => document.querySelectorAll('#reg-entries-table tbody tr').length === n, n);
const keysOf = async (page) => (await entryRows(page)).map((r) => r.key);
/** Waits for the hash to hold `hashPart` and the list to show the entries `keys` (none: "No entries match"). */
async function filtered(page, hashPart, keys) {
  await page.waitForFunction(([h, keys]) => decodeURIComponent(location.hash).includes(h) && (keys.length
    ? JSON.stringify([...document.querySelectorAll('#reg-entries-table tbody tr')].map((tr) => tr.dataset.key)) === JSON.stringify(keys)
    : /No entries match|没有符合条件/.test(document.querySelector('#reg-entries-count')?.textContent ?? '')), [hashPart, keys]);
}
/** Waits for the entry page of `k` (not the one shown before it). */
const entryShown = (page, k) => page.waitForFunction((k) => document.querySelector('#reg-entry-key')?.textContent === k, k);
const downloaded = async (page, click) => {
  const [d] = await Promise.all([page.waitForEvent('download'), click()]);
  return { name: d.suggestedFilename(), text: fs.readFileSync(await d.path(), 'utf8') };
};

test('the registries, one registry with filters and paging, an entry with its history, receipts, credential and state proof', async () => {
  const page = await newPage(browser, node);
  await page.goto(`${node.url}/#/registry`);
  await page.waitForSelector('#reg-registries');
  assert.ok(await page.$('#nav a[href="#/registry"][aria-current="page"]'), 'the nav link to the page');
  assert.equal(await page.textContent('main h1'), 'Registries');
  const list = await page.$$eval('#reg-registries tbody tr', (trs) => trs.map((tr) => ({ id: tr.dataset.registry, cells: [...tr.cells].map((c) => c.textContent.trim()) })));
  // In the API's order (its index holds ids length-prefixed: the shorter first).
  assert.deepEqual(list.map((r) => r.id), [LAND, G]);
  assert.deepEqual(list[1].cells.slice(0, 6), [G, '出生登记', 'Birth register', 'dev-org', '3 entries', '1']);
  assert.deepEqual(list[0].cells.slice(0, 6), [LAND, '土地登记', '—', 'dev-org', '1 entry', '1']);
  assert.equal(await page.textContent('#reg-count'), '2 registries');
  const reg = await json(`/v1/registry/${G}`);
  assert.equal(await page.getAttribute(`#reg-registries tr[data-registry="${G}"] time`, 'title'), new Date(reg.created_time_ms).toISOString());
  await page.screenshot({ path: path.join(SHOTS, 'registry-list.png'), fullPage: true });

  // One registry: its facts and its schema's fields, which indexed, which personal.
  await page.click(`#reg-registries a[href="#/registry/${G}"]`);
  await page.waitForSelector('#reg-fields');
  assert.equal(await page.textContent('#reg-id'), G);
  assert.equal(await page.textContent('#reg-title-en'), 'Birth register');
  assert.equal(await page.textContent('#reg-authority'), 'dev-org');
  assert.equal(await page.textContent('#reg-entries'), '3 entries');
  const fields = await page.$$eval('#reg-fields tbody tr', (trs) => Object.fromEntries(trs.map((tr) => [tr.dataset.field, { indexed: tr.dataset.indexed, personal: tr.dataset.personal, text: tr.textContent }])));
  assert.deepEqual(Object.keys(fields).sort(), ['birthDate', 'certificate', 'district', 'name']);
  assert.deepEqual([fields.district.indexed, fields.district.personal], ['true', 'false']);
  assert.deepEqual([fields.name.indexed, fields.name.personal], ['false', 'true']);
  assert.deepEqual([fields.certificate.indexed, fields.certificate.personal], ['false', 'false']);
  assert.match(fields.certificate.text, /Certificate number/);
  assert.match(fields.birthDate.text, /string · date/);
  // Its entries, by key, each with its status.
  await rowCount(page, 3);
  assert.deepEqual(await entryRows(page), [
    { key: 'B000123', status: 'active', holder: WANG }, { key: 'B000124', status: 'suspended', holder: 'did:example:li-hua' }, { key: 'B000125', status: 'revoked', holder: WANG },
  ]);
  assert.equal(await page.textContent('#reg-entries-count'), '3 entries shown');
  assert.match(await page.textContent('#reg-entries-table tbody tr:nth-child(2)'), /Suspended.*2.*Suspended \(under-review\)/s);
  await page.screenshot({ path: path.join(SHOTS, 'registry-registry.png'), fullPage: true });

  // By holder.
  await page.selectOption('#reg-f-by', 'holder');
  assert.equal(await page.isVisible('#reg-f-value'), true);
  assert.equal(await page.isVisible('#reg-f-status'), false);
  await page.fill('#reg-f-value', WANG);
  await page.click('#reg-f-submit');
  await filtered(page, `holder=${WANG}`, ['B000123', 'B000125']);
  assert.equal(await page.inputValue('#reg-f-value'), WANG, 'the form keeps the filter');
  // By an indexed field's value.
  await page.selectOption('#reg-f-by', 'field:district');
  await page.fill('#reg-f-value', '海淀区');
  await page.click('#reg-f-submit');
  await filtered(page, 'field=district&value=海淀区', ['B000124']);
  // By status.
  await page.selectOption('#reg-f-by', 'status');
  assert.equal(await page.isVisible('#reg-f-value'), false);
  await page.selectOption('#reg-f-status', 'revoked');
  await page.click('#reg-f-submit');
  await filtered(page, 'status=revoked', ['B000125']);
  assert.deepEqual(await entryRows(page), [{ key: 'B000125', status: 'revoked', holder: WANG }]);
  await page.selectOption('#reg-f-status', 'suspended');
  await page.click('#reg-f-submit');
  await filtered(page, 'status=suspended', ['B000124']);
  // A holder with no entry.
  await page.selectOption('#reg-f-by', 'holder');
  await page.fill('#reg-f-value', 'did:example:nobody');
  await page.click('#reg-f-submit');
  await filtered(page, 'holder=did:example:nobody', []);
  assert.equal(await page.textContent('#reg-entries-count'), 'No entries match.');
  // Cleared: all three again.
  await page.click('#reg-f-clear');
  await page.waitForFunction((g) => location.hash === `#/registry/${g}`, G);
  await rowCount(page, 3);
  // A field that is not indexed: the node's refusal, not an empty list.
  await page.goto(`${node.url}/#/registry/${G}?field=name&value=x`);
  await page.waitForSelector('#reg-problem');
  assert.match(await page.textContent('#reg-problem'), /not indexed.*HTTP 400/);

  // Paged: 2, then the third with More.
  await page.goto(`${node.url}/#/registry/${G}?limit=2`);
  await rowCount(page, 2);
  assert.equal(await page.textContent('#reg-entries-count'), '2 entries shown, more on the next page');
  assert.equal(await page.isVisible('#reg-entries-more'), true);
  await page.click('#reg-entries-more');
  await rowCount(page, 3);
  assert.equal(await page.isHidden('#reg-entries-more'), true);
  assert.deepEqual(await keysOf(page), ['B000123', 'B000124', 'B000125']);
  // Paged and filtered: the holder's two, one a page.
  await page.goto(`${node.url}/#/registry/${G}?limit=1&holder=${encodeURIComponent(WANG)}`);
  await rowCount(page, 1);
  await page.click('#reg-entries-more');
  await rowCount(page, 2);
  assert.deepEqual(await keysOf(page), ['B000123', 'B000125']);
  // A full page may have a next one (the API's next_after says "from here"): an empty one ends it.
  assert.equal(await page.isVisible('#reg-entries-more'), true);
  await page.click('#reg-entries-more');
  await page.waitForSelector('#reg-entries-more', { state: 'hidden' });
  assert.equal(await page.textContent('#reg-entries-count'), '2 entries shown');

  // An entry: version 2 (amended), active, public fields, personal ones as digests only.
  await page.click('#reg-entries-table a[href$="/B000123"]');
  await entryShown(page, 'B000123');
  const entry = await json(`/v1/registry/${G}/entries/B000123`);
  const history = (await json(`/v1/registry/${G}/entries/B000123/history`)).versions;
  assert.equal(await page.textContent('#reg-entry-status'), 'Active');
  assert.equal(await page.getAttribute('#reg-entry-status', 'data-status'), 'active');
  assert.equal(await page.textContent('#reg-entry-version'), '2 · Amended');
  assert.equal(await page.textContent('#reg-entry-holder'), WANG);
  assert.equal(await page.textContent('#reg-entry-digest'), entry.content_digest);
  assert.equal(await page.getAttribute('#reg-entry-time time', 'title'), new Date(entry.time_ms).toISOString());
  const pub = await page.$$eval('#reg-entry-fields tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.deepEqual(pub, [['certificate', 'B000123'], ['district', '朝阳区']]);
  const personal = await page.$$eval('#reg-entry-personal tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.deepEqual(personal.map((r) => r[0]), ['birthDate', 'name']);
  assert.deepEqual(personal.map((r) => r[1]), [entry.content.personal.birthDate, entry.content.personal.name]);
  assert.ok(personal.every((r) => /^[0-9a-f]{64}$/.test(r[1])));
  const mainText = await page.textContent('main');
  assert.ok(!mainText.includes('王小明') && !mainText.includes('2026-03-15'), 'no personal value in the clear');

  // Its history: a timeline, each version's receipt checked here and VALID.
  assert.deepEqual(await page.$$eval('#reg-timeline > li', (lis) => lis.map((li) => [li.dataset.version, li.dataset.action, li.dataset.status])), [['1', 'put', 'active'], ['2', 'amend', 'active']]);
  assert.equal(await page.textContent('#reg-history-count'), '2 versions');
  await page.waitForFunction(() => ['1', '2'].every((v) => document.querySelector(`#reg-verdict-${v}`)), null, { timeout: 30000 });
  assert.equal(await page.textContent('#reg-verdict-1'), 'VALID');
  assert.equal(await page.textContent('#reg-verdict-2'), 'VALID');
  assert.match(await page.textContent('#reg-version-1'), /Version 1 · Registered.*Holder: did:example:wang-xiaoming.*Block \d+ · Log leaf \d+.*Made by dev-org/s);
  assert.match(await page.textContent('#reg-receipt-2'), /This version.*the signed leaf holds this version/s);
  assert.equal(await page.getAttribute('#reg-version-1 time', 'title'), new Date(history[0].time_ms).toISOString());
  assert.match(await page.textContent('#reg-version-1 time'), /\d{2}:\d{2}:\d{2}/);
  // The leaf's own content: digests of the personal fields, nothing in the clear.
  const content1 = JSON.parse(await page.textContent('#reg-version-1 .reg-version-content'));
  assert.deepEqual(content1.fields, { certificate: 'B000123', district: '朝阳区' });
  assert.notEqual(content1.personal.birthDate, entry.content.personal.birthDate, 'version 1 had the other birth date');
  const receipt = await downloaded(page, () => page.click('#reg-receipt-download-1'));
  assert.equal(receipt.name, `${G}-B000123-v1.receipt.json`);
  const r1 = JSON.parse(receipt.text);
  assert.equal(r1.format, 'cairn-leaf-receipt-v1');
  assert.equal(r1.module, 'registry');
  assert.equal(r1.leaf_index, history[0].leaf_index);
  await page.screenshot({ path: path.join(SHOTS, 'registry-entry.png'), fullPage: true });

  // Its credential, in each cryptosuite the chain offers; a QR code of its URL.
  assert.deepEqual(await page.$$eval('#reg-cryptosuite option', (os) => os.map((o) => o.value)), ['eddsa-rdfc-2022', 'eddsa-jcs-2022']);
  assert.equal(await page.inputValue('#reg-credential-version'), '2');
  await page.selectOption('#reg-cryptosuite', 'eddsa-jcs-2022');
  let cred = await downloaded(page, () => page.click('#reg-issue'));
  assert.equal(cred.name, `${G}-B000123-v2.credential.json`);
  let vc = JSON.parse(cred.text);
  write('B000123.jcs.credential.json', cred.text);
  assert.equal(vc.proof.cryptosuite, 'eddsa-jcs-2022');
  assert.equal(vc.credentialSubject.version, 2);
  assert.equal(vc.credentialSubject.id, WANG);
  assert.ok(!cred.text.includes('王小明'), 'the credential holds digests only');
  assert.match(await page.textContent('#reg-issued'), /Credential of version 2, signed with eddsa-jcs-2022 by did:key:/);
  const qr = await page.getAttribute('#reg-credential-qr', 'src');
  assert.equal(new URL(qr, node.url).searchParams.get('text'), vc.id);
  assert.equal(vc.id, `${node.url}/v1/registry/${G}/entries/B000123/credential?version=2`);
  assert.equal(await page.textContent('#reg-credential-url'), vc.id);
  const img = await fetch(new URL(qr, node.url));
  assert.equal(img.status, 200);
  assert.match(img.headers.get('content-type'), /svg/);
  // The earlier version, in the default cryptosuite: kept for the verify test.
  await page.selectOption('#reg-cryptosuite', 'eddsa-rdfc-2022');
  await page.selectOption('#reg-credential-version', '1');
  cred = await downloaded(page, () => page.click('#reg-issue'));
  vc = JSON.parse(cred.text);
  assert.equal(vc.proof.cryptosuite, 'eddsa-rdfc-2022');
  assert.equal(vc.credentialSubject.version, 1);
  await page.selectOption('#reg-credential-version', '2');
  cred = await downloaded(page, () => page.click('#reg-issue'));
  write('B000123.credential.json', cred.text);
  assert.equal(JSON.parse(cred.text).credentialSubject.version, 2);

  // Its state proof.
  const proof = await downloaded(page, () => page.click('#reg-proof-button'));
  assert.equal(proof.name, `${G}-B000123.state-proof.json`);
  const p = JSON.parse(proof.text);
  assert.equal(p.format, 'cairn-state-proof-v1');
  assert.equal(p.module, 'registry');
  assert.equal(p.view.version, 2);
  assert.equal(p.view.status, 'active');
  assert.match(await page.textContent('#reg-proof-done'), new RegExp(`State proof as of block ${p.height}:`));
  await page.screenshot({ path: path.join(SHOTS, 'registry-credential.png'), fullPage: true });
  // The shell's Verify page checks it, the entry's readable view included (this page's state view).
  const proofFile = write('B000123.state-proof.json', proof.text);
  await page.click('#reg-proof a[href="#/verify"]');
  await page.waitForSelector('#receipt-file');
  await page.setInputFiles('#receipt-file', proofFile);
  await page.click('#verify-button');
  await page.waitForSelector('#verdict');
  assert.equal(await page.textContent('#verdict'), 'VALID');
  assert.match(await page.textContent('#state-summary'), new RegExp(`^At block ${p.height}, entry B000123 of registry ${G} was at version 2, Active, with content digest ${entry.content_digest.slice(0, 10)}…`));
  assert.match(await page.textContent('#verify-result'), /Readable value: civil-births \/ B000123 · Version 2 · Active/);
  // A view that says another status than the value's bytes: refused.
  const forged = JSON.parse(proof.text);
  forged.view.status = 'revoked';
  await page.setInputFiles('#receipt-file', write('forged.state-proof.json', JSON.stringify(forged, null, 2)));
  await page.click('#verify-button');
  await page.waitForSelector('#verdict');
  assert.equal(await page.textContent('#verdict'), 'INVALID');
  assert.match(await page.textContent('#verify-reason'), /the proof's view does not match its registry value/);

  // A suspended entry says so, with its reason, and since when.
  await page.goto(`${node.url}/#/registry/${G}/B000124`);
  await entryShown(page, 'B000124');
  assert.equal(await page.textContent('#reg-entry-status'), 'Suspended');
  assert.match(await page.textContent('#reg-entry-since'), /^Reason: under-review · since version 2 \(block \d+, .+\)$/);
  assert.deepEqual(await page.$$eval('#reg-timeline > li', (lis) => lis.map((li) => li.dataset.action)), ['put', 'suspend']);
  await page.waitForSelector('#reg-verdict-2', { timeout: 30000 });
  assert.equal(await page.textContent('#reg-verdict-2'), 'VALID');
  // A revoked one too.
  await page.goto(`${node.url}/#/registry/${G}/B000125`);
  await entryShown(page, 'B000125');
  assert.equal(await page.textContent('#reg-entry-status'), 'Revoked');
  assert.match(await page.textContent('#reg-entry-since'), /Reason: duplicate/);
  // No entry: nothing found.
  await page.goto(`${node.url}/#/registry/${G}/B999999`);
  await page.waitForFunction(() => document.querySelector('main h1')?.textContent === 'Nothing found');
  assert.match(await page.textContent('main'), /has no entry "B999999"/);
  // A registry titled in Chinese only shows that title.
  await page.goto(`${node.url}/#/registry/${LAND}`);
  await page.waitForSelector('#reg-entries-table');
  assert.match(await page.textContent('main h1'), /土地登记/);
  assert.deepEqual(await entryRows(page), [{ key: 'P-1', status: 'active', holder: '' }]);

  // The header search: a registry id opens it, "<registry>/<key>" its entry.
  await page.fill('#search', G);
  await page.press('#search', 'Enter');
  await page.waitForFunction((g) => location.hash === `#/registry/${g}` && document.querySelector('#reg-id')?.textContent === g, G);
  await page.fill('#search', `${G}/B000124`);
  await page.press('#search', 'Enter');
  await page.waitForFunction((g) => location.hash === `#/registry/${g}/B000124`, G);
  await entryShown(page, 'B000124');
  await page.close();
});

/** The verify page's verdict once shown: { verdict, problems, text }. */
async function verdict(page) {
  await page.waitForSelector('#reg-v-verdict', { timeout: 30000 });
  return {
    verdict: await page.textContent('#reg-v-verdict'),
    problems: await page.$$eval('#reg-v-problems li', (lis) => lis.map((li) => li.textContent)),
    text: await page.textContent('#reg-v-result'),
  };
}

test('the verify page: VALID with disclosures, INVALID when tampered, revoked after revocation, never a stale verdict', async () => {
  const good = fs.readFileSync(path.join(node.dir, 'B000123.credential.json'), 'utf8');
  const tampered = JSON.parse(good);
  tampered.credentialSubject.fields.district = '海淀区';
  const page = await newPage(browser, node);
  await page.goto(`${node.url}/#/registry`);
  await page.click('#reg-open-verify');
  await page.waitForSelector('#reg-v-button');
  assert.equal(await page.textContent('main h1'), 'Verify a registry credential');

  // Nothing chosen: said so.
  await page.click('#reg-v-button');
  assert.match(await page.textContent('#reg-v-error'), /Choose, drop or paste a credential first/);

  // The credential file and the holder's disclosures: VALID, the personal fields disclosed.
  await page.setInputFiles('#reg-v-file', path.join(node.dir, 'B000123.credential.json'));
  assert.equal(await page.innerHTML('#reg-v-result'), '', 'a new choice clears the old answer');
  await page.setInputFiles('#reg-v-disclosures', path.join(node.dir, 'B000123.disclosures.json'));
  await page.click('#reg-v-button');
  let v = await verdict(page);
  assert.equal(v.verdict, 'VALID');
  assert.deepEqual(v.problems, []);
  assert.match(await page.textContent('#reg-v-entry'), /civil-births \/ B000123 · Version 2/);
  assert.equal(await page.textContent('#reg-v-revocation'), 'not revoked');
  assert.equal(await page.textContent('#reg-v-suspension'), 'not suspended');
  assert.equal(await page.textContent('#reg-v-issuer'), 'dev-org');
  assert.match(await page.getAttribute('#reg-v-method span', 'title'), /^did:key:z6Mk/);
  assert.equal(await page.textContent('#reg-v-cryptosuite'), 'eddsa-rdfc-2022');
  const disclosed = await page.$$eval('#reg-v-disclosed tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.deepEqual(disclosed.sort(), [['birthDate', '2026-03-15'], ['name', '王小明']]);
  assert.equal(await page.isHidden('#reg-v-progress'), true);
  // An eddsa-rdfc-2022 credential is the node's verdict only; said so.
  assert.match(await page.textContent('#reg-v-browser-rdfc'), /needs a JSON-LD processor/);
  await page.screenshot({ path: path.join(SHOTS, 'registry-verify-valid.png'), fullPage: true });

  // The eddsa-jcs-2022 form is also checked by this browser's own code: proof and both lists.
  const jcsFile = path.join(node.dir, 'B000123.jcs.credential.json');
  const browserFindings = async () => {
    await page.waitForSelector('#reg-v-browser', { timeout: 30000 });
    return { verdict: await page.textContent('#reg-v-browser'),
      findings: await page.$$eval('#reg-v-browser-findings dd', (dds) => dds.map((d) => [d.dataset.what, d.className, d.textContent.split(' ')[0]])) };
  };
  await page.setInputFiles('#reg-v-file', jcsFile);
  await page.click('#reg-v-button');
  assert.equal((await verdict(page)).verdict, 'VALID');
  let b = await browserFindings();
  assert.equal(b.verdict, 'VALID', JSON.stringify(b));
  assert.deepEqual(b.findings, [['proof', 'ok', 'VALID'], ['revocation', 'ok', 'clear'], ['suspension', 'ok', 'clear']]);
  const jcsTampered = JSON.parse(fs.readFileSync(jcsFile, 'utf8'));
  jcsTampered.credentialSubject.holder = 'did:example:someone-else';
  await page.fill('#reg-v-text', JSON.stringify(jcsTampered));
  await page.click('#reg-v-button');
  assert.equal((await verdict(page)).verdict, 'INVALID');
  b = await browserFindings();
  assert.equal(b.verdict, 'INVALID');
  assert.deepEqual(b.findings.map((f) => f.slice(0, 2)), [['proof', 'bad']]);

  // Tampered (another district): the old verdict goes as soon as the text changes; INVALID.
  await page.fill('#reg-v-text', JSON.stringify(tampered, null, 2));
  assert.equal(await page.innerHTML('#reg-v-result'), '');
  await page.click('#reg-v-button');
  v = await verdict(page);
  assert.equal(v.verdict, 'INVALID');
  assert.ok(v.problems.some((p) => /^proof: /.test(p)), JSON.stringify(v.problems));
  assert.equal(await page.locator('#reg-v-disclosed tbody tr').count(), 2, 'the disclosures still match their digests');
  await page.screenshot({ path: path.join(SHOTS, 'registry-verify-tampered.png'), fullPage: true });
  // Not JSON.
  await page.fill('#reg-v-text', '{"credential": ');
  await page.click('#reg-v-button');
  await page.waitForSelector('#reg-v-error');
  assert.match(await page.textContent('#reg-v-error'), /The credential is not JSON/);
  assert.equal(await page.locator('#reg-v-verdict').count(), 0);

  // A slow answer: the verdict is cleared at once when Verify is pressed again, progress shows,
  // and an answer for an input since replaced never shows.
  await page.fill('#reg-v-text', good);
  await page.click('#reg-v-button');
  assert.equal((await verdict(page)).verdict, 'VALID');
  await page.route('**/v1/registry/credentials/verify', async (route) => { await sleep(1500); await route.continue().catch(() => {}); });
  await page.click('#reg-v-button');
  assert.equal(await page.locator('#reg-v-verdict').count(), 0, 'the verdict goes as soon as Verify is pressed');
  assert.equal(await page.isVisible('#reg-v-progress'), true);
  assert.match(await page.textContent('#reg-v-stage'), /Checking the credential/);
  await page.fill('#reg-v-text', JSON.stringify(tampered));
  assert.equal(await page.isHidden('#reg-v-progress'), true);
  await sleep(2500);
  assert.equal(await page.locator('#reg-v-verdict').count(), 0, 'the answer for the replaced input was dropped');
  // Leaving while a check runs, then coming back: a fresh page, no verdict, now or later.
  await page.fill('#reg-v-text', good);
  await page.click('#reg-v-button');
  await page.goto(`${node.url}/#/registry`);
  await page.waitForSelector('#reg-registries');
  await page.goto(`${node.url}/#/registry/verify`);
  await page.waitForSelector('#reg-v-button');
  assert.equal(await page.inputValue('#reg-v-text'), '');
  await sleep(2500);
  assert.equal(await page.locator('#reg-v-verdict').count(), 0, 'no verdict from the earlier visit');
  await page.unroute('**/v1/registry/credentials/verify');
  // A verdict shown, then away and back: gone.
  await page.fill('#reg-v-text', good);
  await page.click('#reg-v-button');
  assert.equal((await verdict(page)).verdict, 'VALID');
  await page.goto(`${node.url}/#/registry/${G}`);
  await page.waitForSelector('#reg-fields');
  await page.goBack();
  await page.waitForSelector('#reg-v-button');
  assert.equal(await page.locator('#reg-v-verdict').count(), 0);

  // Revoked by its registrar: the same credential is now INVALID, its revocation bit set.
  cli(['revoke', '--key', key, '--registry', G, '--entry', 'B000123', '--reason', 'court-order']);
  await page.setInputFiles('#reg-v-file', path.join(node.dir, 'B000123.credential.json'));
  await page.click('#reg-v-button');
  v = await verdict(page);
  assert.equal(v.verdict, 'INVALID');
  assert.deepEqual(v.problems, ['the entry is revoked (version 3)']);
  assert.equal(await page.textContent('#reg-v-revocation'), 'revoked');
  assert.equal(await page.textContent('#reg-v-suspension'), 'not suspended');
  assert.match(await page.textContent('#reg-v-current'), /The entry is now at version 3; this credential states version 2\./);
  // This browser reads the revocation bit from the list itself.
  await page.setInputFiles('#reg-v-file', jcsFile);
  await page.click('#reg-v-button');
  assert.equal((await verdict(page)).verdict, 'INVALID');
  b = await browserFindings();
  assert.equal(b.verdict, 'INVALID');
  assert.deepEqual(b.findings, [['proof', 'ok', 'VALID'], ['revocation', 'bad', 'set'], ['suspension', 'ok', 'clear']]);
  await page.screenshot({ path: path.join(SHOTS, 'registry-verify-revoked.png'), fullPage: true });

  // The entry's page shows the revocation as its third version, its receipt VALID too.
  await page.click('#reg-v-entry a');
  await entryShown(page, 'B000123');
  assert.equal(await page.textContent('#reg-entry-status'), 'Revoked');
  assert.deepEqual(await page.$$eval('#reg-timeline > li', (lis) => lis.map((li) => li.dataset.action)), ['put', 'amend', 'revoke']);
  await page.waitForFunction(() => document.querySelector('#reg-verdict-3'), null, { timeout: 30000 });
  assert.equal(await page.textContent('#reg-verdict-3'), 'VALID');
  assert.match(await page.textContent('#reg-version-3'), /Reason: court-order/);
  await page.close();
});

test('in Chinese: the list, a registry with a filter, an entry, the verify page', async () => {
  const page = await newPage(browser, node);
  await page.goto(`${node.url}/#/registry`);
  await page.waitForSelector('#reg-registries');
  await page.click('#lang');
  await page.waitForFunction(() => document.querySelector('#nav').textContent.includes('登记簿'));
  await page.waitForFunction(() => document.querySelector('main h1')?.textContent === '登记簿');
  assert.equal(await page.textContent('#reg-count'), '2 个登记簿');
  assert.match(await page.textContent(`#reg-registries tr[data-registry="${G}"]`), /出生登记.*dev-org.*3 个条目/s);
  assert.match(await page.textContent('#reg-registries thead'), /编号.*中文名称.*英文名称.*登记机关.*条目.*模式版本/s);
  await page.screenshot({ path: path.join(SHOTS, 'registry-list-zh.png'), fullPage: true });

  await page.goto(`${node.url}/#/registry/${G}`);
  await rowCount(page, 3);
  assert.equal(await page.textContent('#reg-entries-count'), '已显示 3 个条目');
  assert.match(await page.textContent('#reg-fields thead'), /字段.*类型.*可检索.*个人信息/s);
  assert.deepEqual(await page.$$eval('#reg-f-by option', (os) => os.map((o) => o.textContent)), ['全部条目', '持有人', '字段 district', '状态']);
  assert.deepEqual(await page.$$eval('#reg-f-status option', (os) => os.map((o) => o.textContent)), ['正常', '已暂停', '已撤销']);
  await page.selectOption('#reg-f-by', 'status');
  await page.selectOption('#reg-f-status', 'revoked');
  await page.click('#reg-f-submit');
  await filtered(page, 'status=revoked', ['B000123', 'B000125']);
  assert.match(await page.textContent('#reg-entries-table tbody tr:first-child'), /已撤销.*撤销（court-order）/s);

  await page.goto(`${node.url}/#/registry/${G}/B000124`);
  await entryShown(page, 'B000124');
  assert.equal(await page.textContent('#reg-entry-status'), '已暂停');
  assert.match(await page.textContent('#reg-entry-since'), /^原因：under-review · 自版本 2 起（区块 \d+，.+）$/);
  assert.match(await page.textContent('main h1'), /登记条目/);
  await page.waitForFunction(() => document.querySelector('#reg-verdict-2')?.textContent === '有效', null, { timeout: 30000 });
  assert.match(await page.textContent('#reg-version-2'), /版本 2 · 暂停.*持有人：did:example:li-hua.*操作机构：dev-org/s);
  assert.match(await page.textContent('#reg-timeline'), /本版本/);
  assert.equal(await page.textContent('#reg-issue'), '签发凭证');
  await page.screenshot({ path: path.join(SHOTS, 'registry-entry-zh.png'), fullPage: true });

  await page.goto(`${node.url}/#/registry/verify`);
  await page.waitForSelector('#reg-v-button');
  assert.equal(await page.textContent('main h1'), '验证登记凭证');
  const r = await fetch(`${node.url}/v1/registry/${LAND}/entries/P-1/credential`);
  const land = await r.text();
  await page.fill('#reg-v-text', land);
  await page.click('#reg-v-button');
  let v = await verdict(page);
  assert.equal(v.verdict, '有效');
  assert.equal(await page.textContent('#reg-v-revocation'), '未撤销');
  assert.equal(await page.textContent('#reg-v-disclosed'), '未披露个人信息字段。');
  await page.fill('#reg-v-text', fs.readFileSync(path.join(node.dir, 'B000123.credential.json'), 'utf8'));
  await page.click('#reg-v-button');
  v = await verdict(page);
  assert.equal(v.verdict, '无效');
  assert.equal(await page.textContent('#reg-v-revocation'), '已撤销');
  assert.equal(await page.textContent('#reg-v-problems-count'), '1 个问题');
  await page.screenshot({ path: path.join(SHOTS, 'registry-verify-zh.png'), fullPage: true });
  await page.click('#lang');
  await page.waitForFunction(() => document.querySelector('#nav').textContent.includes('Registries'));
  await page.close();
});

test('on an SM2 chain: a cairn-sm2sm3-jcs-2026 credential checked in the browser, then revoked', async () => {
  const sm = await startDevNode(nodes, { prefix: 'cairn-registry-sm2-', suite: 'sm2-sm3' });
  const smKey = path.join(sm.data, 'keys/submitter.key');
  const run = (args) => execFileSync(CAIRN, ['registry', ...args, '--node', sm.url], { encoding: 'utf8', env: { ...process.env, RUST_LOG: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120000 });
  const schema = path.join(sm.dir, 'licence.json');
  fs.writeFileSync(schema, JSON.stringify({ type: 'object', properties: { company: { type: 'string' } }, required: ['company'], 'x-cairn-indexed': ['company'] }));
  const fields = path.join(sm.dir, 'l.json');
  fs.writeFileSync(fields, JSON.stringify({ company: '韩梅梅茶业有限公司' }));
  run(['create', '--key', smKey, '--registry', 'business-licences', '--title-zh', '营业执照', '--schema', schema]);
  run(['put', '--key', smKey, '--registry', 'business-licences', '--entry', '91110000-1', '--holder', 'did:example:tea', '--fields', fields, '--disclosures', path.join(sm.dir, 'd.json')]);
  const vc = await (await fetch(`${sm.url}/v1/registry/business-licences/entries/91110000-1/credential`)).json();
  assert.equal(vc.proof.cryptosuite, 'cairn-sm2sm3-jcs-2026');
  assert.match(vc.issuer.id, /^did:key:z/);
  const page = await newPage(browser, sm);
  const check = async (doc) => {
    await page.goto(`${sm.url}/#/registry/verify`);
    await page.waitForSelector('#reg-v-button');
    await page.fill('#reg-v-text', JSON.stringify(doc));
    await page.click('#reg-v-button');
    await page.waitForSelector('#reg-v-browser', { timeout: 30000 });
    return {
      node: await page.textContent('#reg-v-verdict'), browser: await page.textContent('#reg-v-browser'),
      findings: await page.$$eval('#reg-v-browser-findings dd', (dds) => dds.map((d) => [d.dataset.what, d.className])),
    };
  };
  assert.deepEqual(await check(vc), { node: 'VALID', browser: 'VALID', findings: [['proof', 'ok'], ['revocation', 'ok'], ['suspension', 'ok']] });
  const forged = structuredClone(vc);
  forged.credentialSubject.fields.company = '别的公司';
  assert.deepEqual((await check(forged)).findings, [['proof', 'bad']]);
  run(['revoke', '--key', smKey, '--registry', 'business-licences', '--entry', '91110000-1', '--reason', 'closed']);
  assert.deepEqual(await check(vc), { node: 'INVALID', browser: 'INVALID', findings: [['proof', 'ok'], ['revocation', 'bad'], ['suspension', 'ok']] });
  await page.close();
});
