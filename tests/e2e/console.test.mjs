// End-to-end tests of the web console in headless Chromium (Debian's, driven by
// playwright-core) against a real `cairn dev` process. Screenshots of every page go to
// tests/e2e/screenshots (or $CAIRN_SCREENSHOTS).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { makeValidators, trustFile, makeChain, evidenceFixture } from './state-fixture.mjs';
import { SHOTS, startDevNode, stopNodes, runCairn, launchBrowser, newPage as openPage } from './helpers.mjs';

fs.mkdirSync(SHOTS, { recursive: true });

const nodes = [];
let browser;

const startNode = (suite) => startDevNode(nodes, { prefix: `cairn-e2e-${suite}-`, suite });

/** Runs `cairn verify`; returns {valid, out}. */
function cliVerify(receipt, trust, file) {
  const args = ['verify', '--receipt', receipt, '--trust', trust, ...(file ? ['--file', file] : [])];
  const r = runCairn(args);
  assert.ok(r.status === 0 || r.status === 1, `cairn verify failed to run: ${r.stderr}`);
  return { valid: r.status === 0, out: r.stdout };
}

// Pages run in Shanghai time (UTC+8), so shown times can be checked against the UTC they come from.
const newPage = (node) => openPage(browser, node);

async function depositThroughPage(page, node, files, reference) {
  await page.goto(`${node.url}/#/deposit`);
  try { await page.waitForSelector('#key-file', { timeout: 10000 }); } catch (e) {
    await page.screenshot({ path: path.join(SHOTS, 'debug-deposit.png') });
    throw new Error(`deposit page did not render: ${(await page.content()).slice(-800)}`);
  }
  await page.setInputFiles('#key-file', path.join(node.data, 'keys/submitter.key'));
  await page.waitForFunction(() => document.querySelector('#key-status').textContent.length > 0);
  assert.match(await page.textContent('#key-status'), /Key loaded|密钥已加载/);
  await page.setInputFiles('#deposit-files', files);
  await page.fill('#deposit-reference', reference);
  await page.click('#deposit-button');
  await page.waitForFunction((n) => document.querySelectorAll('.receipt-card').length === n, files.length, { timeout: 30000 });
  return page.$$eval('.receipt-card', (cards) => cards.map((c) => c.dataset.recordId));
}

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  stopNodes(nodes);
});

test('deposit two files in the page, verify with the file, catch a modified file and a tampered receipt, browse to the block', async () => {
  const node = await startNode('ed25519-sha256');
  const page = await newPage(node);
  const a = path.join(node.dir, 'contract.txt');
  const b = path.join(node.dir, 'photo.bin');
  fs.writeFileSync(a, 'A signed contract, scanned on 2026-11-27.\n');
  fs.writeFileSync(b, Buffer.alloc(300_000, 7));
  const ids = await depositThroughPage(page, node, [a, b], 'case-e2e-1');
  assert.equal(ids.length, 2);
  // Each receipt comes with a QR code (served by the node) that opens its verification page.
  await page.waitForFunction(() => [...document.querySelectorAll('.receipt-card img')].every((i) => i.complete && i.naturalWidth > 0));
  assert.match(await page.getAttribute('.receipt-card img', 'src'), /^\/v1\/qr\?text=.*verify%3Frecord%3D/);
  await page.screenshot({ path: path.join(SHOTS, 'deposit.png'), fullPage: true });

  // The receipt as the user would download it.
  const receiptPath = path.join(node.dir, 'contract.receipt.json');
  fs.writeFileSync(receiptPath, await (await fetch(`${node.url}/v1/evidence/${ids[0]}/receipt`)).text());
  const trustPath = path.join(node.data, 'trust.json');
  assert.equal(cliVerify(receiptPath, trustPath, a).valid, true, 'cairn verify accepts the page-made deposit');

  await page.goto(`${node.url}/#/verify`);
  await page.setInputFiles('#receipt-file', receiptPath);
  await page.setInputFiles('#original-file', a);
  await page.click('#verify-button');
  await page.waitForSelector('#verdict');
  assert.equal(await page.textContent('#verdict'), 'VALID');
  await page.screenshot({ path: path.join(SHOTS, 'verify-valid.png'), fullPage: true });
  // The record step shows the deposit time in the viewer's zone.
  assert.match(await page.textContent('.steps'), /GMT\+8/);
  // Pressing Verify again takes the old verdict down at once (read in the same task as the click).
  const rightAfterClick = await page.evaluate(() => { document.querySelector('#verify-button').click(); return { verdict: document.querySelector('#verdict')?.textContent ?? null, checking: !!document.querySelector('#verify-checking') }; });
  assert.deepEqual(rightAfterClick, { verdict: null, checking: true });
  await page.waitForSelector('#verdict');
  assert.equal(await page.textContent('#verdict'), 'VALID');

  // A modified file: choosing it clears the VALID verdict before anything is pressed.
  const modified = path.join(node.dir, 'contract-modified.txt');
  fs.writeFileSync(modified, 'A signed contract, scanned on 2026-11-28.\n');
  await page.setInputFiles('#original-file', modified);
  assert.equal(await page.$('#verdict'), null, 'a new file clears the old verdict');
  await page.click('#verify-button');
  await page.waitForFunction(() => document.querySelector('#verdict')?.textContent === 'INVALID');
  assert.match(await page.textContent('#verify-reason'), /digest .* differs from the recorded/);
  await page.screenshot({ path: path.join(SHOTS, 'verify-modified-file.png'), fullPage: true });

  // A tampered receipt: the title changed.
  const tampered = path.join(node.dir, 'tampered.receipt.json');
  const r = JSON.parse(fs.readFileSync(receiptPath, 'utf8'));
  r.record.title = 'another contract';
  fs.writeFileSync(tampered, JSON.stringify(r, null, 2));
  await page.setInputFiles('#original-file', a);
  await page.setInputFiles('#receipt-file', tampered);
  await page.click('#verify-button');
  await page.waitForFunction(() => document.querySelector('#verify-reason')?.textContent.includes('does not match the logged leaf'));
  assert.equal(await page.textContent('#verdict'), 'INVALID');
  assert.equal(cliVerify(tampered, trustPath, a).valid, false);
  await page.screenshot({ path: path.join(SHOTS, 'verify-tampered-receipt.png'), fullPage: true });

  // A large file: hashing shows its progress, and no verdict, until it is done.
  const large = path.join(node.dir, 'large.bin');
  fs.writeFileSync(large, Buffer.alloc(48 << 20, 1));
  await page.setInputFiles('#receipt-file', receiptPath);
  await page.setInputFiles('#original-file', large);
  await page.click('#verify-button');
  await page.waitForFunction(() => /^\d+%$/.test(document.querySelector('#verify-percent')?.textContent ?? ''));
  assert.equal(await page.$('#verdict'), null, 'no verdict while hashing');
  await page.screenshot({ path: path.join(SHOTS, 'verify-hashing.png'), fullPage: true });
  await page.waitForFunction(() => document.querySelector('#verdict')?.textContent === 'INVALID', null, { timeout: 30000 });
  // Leaving mid-check and coming back: the old check never writes a verdict on the new page,
  // and a finished verdict is not kept for the next visit either.
  await page.click('#verify-button');
  await page.waitForSelector('#verify-percent');
  await page.goto(`${node.url}/#/blocks`);
  await page.goto(`${node.url}/#/verify`);
  await page.waitForSelector('#verify-button');
  await page.waitForTimeout(4000);
  assert.equal(await page.textContent('#verify-result'), '', 'a check from an earlier visit shows nothing');

  // From the record to its block. Sizes in human units, times in the viewer's zone (UTC+8),
  // the exact values on hover; counts with the right plural.
  await page.goto(`${node.url}/#/record/${ids[1]}`);
  await page.waitForSelector('#record-block');
  await page.screenshot({ path: path.join(SHOTS, 'record.png'), fullPage: true });
  assert.equal(await page.textContent('#record-size'), '293 KB');
  assert.equal(await page.getAttribute('#record-size span', 'title'), '300,000 bytes');
  const rec = (await (await fetch(`${node.url}/v1/evidence/${ids[1]}`)).json()).record;
  assert.equal(await page.getAttribute('#record-time time', 'title'), rec.time);
  const shownHour = Number((await page.textContent('#record-time')).match(/(\d\d):\d\d:\d\d/)[1]);
  assert.equal(shownHour, (new Date(rec.time).getUTCHours() + 8) % 24);
  assert.match(await page.textContent('#record-time'), /GMT\+8/);
  assert.match(await page.textContent('#same-digest'), /\(1 deposit\)$/);
  const height = await page.textContent('#record-block');
  await page.click('#record-block');
  await page.waitForSelector('#block-height');
  assert.equal(await page.textContent('#block-height'), height);
  assert.equal(await page.textContent('#block-txs'), '1 transaction');
  assert.equal(await page.getAttribute('#block-time time', 'title'), (await (await fetch(`${node.url}/v1/blocks/${height}`)).json()).time);
  await page.screenshot({ path: path.join(SHOTS, 'block.png'), fullPage: true });
  await page.goto(`${node.url}/#/tx/${ids[0].split('-')[0]}`);
  await page.waitForSelector('#tx-records');
  assert.equal(await page.textContent('#tx-records'), '2 records');

  // Search by reference finds both.
  await page.fill('#search', 'case-e2e-1');
  await page.press('#search', 'Enter');
  await page.waitForSelector('#search-results');
  assert.equal(await page.$$eval('#search-results tbody tr', (rows) => rows.length), 2);
  assert.equal(await page.textContent('#search-count'), '2 records found');

  // Overview and blocks pages; then the Chinese interface.
  await page.goto(`${node.url}/#/`);
  await page.waitForSelector('#st-height');
  const shown = Number(await page.textContent('#st-height'));
  assert.ok(shown >= 1);
  // A deposit made elsewhere shows up live, without a reload (server-sent events).
  const more = path.join(node.dir, 'later.txt');
  fs.writeFileSync(more, 'deposited from the command line\n');
  const cli = runCairn(['evidence', 'submit', '--node', node.url, '--key', path.join(node.data, 'keys/submitter.key'), '--wait', more]);
  assert.equal(cli.status, 0, cli.stderr);
  await page.waitForFunction((h) => Number(document.querySelector('#st-height').textContent) > h, shown);
  await page.screenshot({ path: path.join(SHOTS, 'overview.png'), fullPage: true });
  await page.goto(`${node.url}/#/blocks`);
  await page.waitForSelector('#blocks tbody tr');
  await page.screenshot({ path: path.join(SHOTS, 'blocks.png'), fullPage: true });
  await page.click('#lang');
  await page.waitForFunction(() => document.querySelector('#nav').textContent.includes('概览'));
  await page.screenshot({ path: path.join(SHOTS, 'blocks-zh.png'), fullPage: true });
  await page.goto(`${node.url}/#/block/${height}`);
  await page.waitForSelector('#block-txs');
  assert.equal(await page.textContent('#block-txs'), '1 笔交易');
  await page.goto(`${node.url}/#/tx/${ids[0].split('-')[0]}`);
  await page.waitForSelector('#tx-records');
  assert.equal(await page.textContent('#tx-records'), '2 条记录');
  await page.goto(`${node.url}/#/record/${ids[1]}`);
  await page.waitForSelector('#record-size');
  assert.match(await page.getAttribute('#record-size span', 'title'), /^300,000 字节$/);
  assert.match(await page.textContent('#record-time'), /^\d{4}年\d{1,2}月\d{1,2}日/);
  await page.click('#lang');

  // A phone-sized screen still shows the verification page without sideways scrolling.
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await phone.goto(`${node.url}/#/verify?record=${ids[0]}`);
  await phone.waitForSelector('#verdict');
  assert.equal(await phone.textContent('#verdict'), 'VALID');
  assert.ok(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'no horizontal overflow on a phone');
  await phone.screenshot({ path: path.join(SHOTS, 'verify-phone.png'), fullPage: true });
  // Nor the overview (long ids in cards) or the blocks table.
  for (const [route, ready] of [['#/', '#st-height'], ['#/blocks', '#blocks tbody tr']]) {
    await phone.goto(`${node.url}/${route}`);
    await phone.waitForSelector(ready);
    assert.ok(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), `no horizontal overflow on a phone at ${route}`);
  }
  await phone.screenshot({ path: path.join(SHOTS, 'blocks-phone.png'), fullPage: true });
  await phone.close();

  // Once loaded, the verifier works with the network gone.
  const offlineContext = await browser.newContext();
  const offline = await offlineContext.newPage();
  await offline.goto(`${node.url}/#/verify`);
  await offline.waitForSelector('#verify-button');
  await offlineContext.setOffline(true);
  await offline.setInputFiles('#receipt-file', receiptPath);
  await offline.setInputFiles('#original-file', a);
  await offline.click('#verify-button');
  await offline.waitForSelector('#verdict');
  assert.equal(await offline.textContent('#verdict'), 'VALID');
  await offlineContext.close();
  await page.close();
});

test('the in-browser verifier and cairn verify agree on a shared set of valid and tampered receipts', async () => {
  const cases = [];
  for (const suite of ['ed25519-sha256', 'sm2-sm3']) {
    const node = await startNode(suite);
    const page = await newPage(node);
    const file = path.join(node.dir, 'evidence.txt');
    fs.writeFileSync(file, `evidence for ${suite}\n`);
    // One deposit through the page (browser hashing and signing), one through the CLI.
    const [pageId] = await depositThroughPage(page, node, [file], `agree-${suite}`);
    const out = path.join(node.dir, 'receipts');
    const cli = runCairn(['evidence', 'submit', '--node', node.url, '--key', path.join(node.data, 'keys/submitter.key'), '--wait', '--out', out, file]);
    assert.equal(cli.status, 0, cli.stderr);
    const trust = path.join(node.data, 'trust.json');
    const modified = path.join(node.dir, 'modified.txt');
    fs.writeFileSync(modified, `evidence for ${suite}!\n`);
    const receipts = {
      'page.json': await (await fetch(`${node.url}/v1/evidence/${pageId}/receipt`)).text(),
      'page.tlog-proof': await (await fetch(`${node.url}/v1/evidence/${pageId}/receipt?format=tlog-proof`)).text(),
      'cli.json': fs.readFileSync(path.join(out, 'evidence.txt.receipt.json'), 'utf8'),
      'cli.tlog-proof': fs.readFileSync(path.join(out, 'evidence.txt.tlog-proof'), 'utf8'),
    };
    for (const [name, text] of Object.entries(receipts)) {
      const variants = { original: text };
      // Flip one bit at 24 positions spread over the receipt.
      for (let k = 0; k < 24; k++) {
        const i = Math.floor(((k + 0.5) / 24) * text.length);
        const c = text.charCodeAt(i);
        if (c > 127) continue;
        variants[`flip@${i}`] = text.slice(0, i) + String.fromCharCode(c ^ 1) + text.slice(i + 1);
      }
      for (const [variant, body] of Object.entries(variants)) {
        const p = path.join(node.dir, `${name}.${variant}`);
        fs.writeFileSync(p, body);
        cases.push({ suite, label: `${suite}/${name}/${variant}`, path: p, text: body, trust, file });
        if (variant === 'original') cases.push({ suite, label: `${suite}/${name}/modified-file`, path: p, text: body, trust, file: modified });
      }
    }
    await page.close();
  }
  // A receipt checked against another chain's trust file.
  const other = cases.find((c) => c.suite === 'sm2-sm3');
  cases.push({ ...cases[0], label: 'ed25519 receipt vs sm2 trust file', trust: other.trust });

  const page = await newPage(nodes[nodes.length - 1]);
  let valid = 0;
  for (const c of cases) {
    const cliResult = cliVerify(c.path, c.trust, c.file).valid;
    const browserResult = await page.evaluate(async ({ text, trust, file }) => {
      const m = await import('/console/modules/evidence/receipt.js');
      const r = await m.verifyReceipt(text, trust, file ? new Uint8Array(file) : null);
      return r.valid;
    }, { text: c.text, trust: fs.readFileSync(c.trust, 'utf8'), file: c.file ? [...fs.readFileSync(c.file)] : null });
    assert.equal(browserResult, cliResult, `verdicts differ on ${c.label}: browser ${browserResult}, cairn verify ${cliResult}`);
    if (cliResult) valid++;
  }
  assert.equal(valid, 8, 'each suite: page and CLI receipts, JSON and tlog-proof, are valid with their file');
  assert.ok(cases.length > 150, `only ${cases.length} cases`);
  await page.close();
});

test('the Verify page checks state proofs: content deposited, never deposited, a tampered proof, in English and Chinese', async () => {
  const node = await startNode('ed25519-sha256');
  const page = await newPage(node);
  // State receipts of a made-up chain (tests/e2e/state-fixture.mjs), with its own trust file.
  const suite = 'ed25519-sha256', chainId = 'cairn-state-e2e';
  const vs = await makeValidators(suite, chainId, 3);
  const ev = evidenceFixture(suite);
  const chain = await makeChain({ suite, chainId, validators: vs, pairs: ev.pairs });
  const write = (name, obj) => { const p = path.join(node.dir, name); fs.writeFileSync(p, typeof obj === 'string' ? obj : JSON.stringify(obj, null, 2)); return p; };
  const trust = write('state-trust.json', trustFile(suite, chainId, vs, 2));
  const present = chain.receipt('evidence', ev.views[1].key, ev.views[1].view);
  const files = {
    present: write('present.state-proof.json', present),
    absent: write('absent.state-proof.json', chain.receipt('evidence', ev.views[2].key, ev.views[2].view)),
    tampered: write('tampered.state-proof.json', { ...present, proof: present.proof.slice(0, -1) + (present.proof.endsWith('0') ? '1' : '0') }),
  };
  const content = write('photo.jpg', ev.contents[1]);
  const other = write('other.txt', ev.contents[0]);
  const check = async (proof, original) => {
    await page.goto(`${node.url}/#/blocks`);
    await page.goto(`${node.url}/#/verify`);
    await page.waitForSelector('#verify-button');
    await page.setInputFiles('#receipt-file', proof);
    await page.setInputFiles('#trust-file', trust);
    if (original) await page.setInputFiles('#original-file', original);
    await page.click('#verify-button');
    await page.waitForSelector('#verdict');
    return { verdict: await page.textContent('#verdict'), summary: await page.$eval('#state-summary', (e) => e.textContent).catch(() => null), reason: await page.$eval('#verify-reason', (e) => e.textContent).catch(() => null) };
  };

  let r = await check(files.present, content);
  assert.equal(r.verdict, 'VALID', r.reason);
  assert.match(r.summary, /^Deposited first in record [0-9a-f]{10}…[0-9a-f]{6}-4 at block 5 \(.*\); 3 deposits as of block 7, the last at block 7\.$/);
  await page.screenshot({ path: path.join(SHOTS, 'verify-state-present.png'), fullPage: true });
  r = await check(files.absent);
  assert.equal(r.verdict, 'VALID', r.reason);
  assert.equal(r.summary, 'Not deposited as of block 7.');
  r = await check(files.tampered);
  assert.equal(r.verdict, 'INVALID');
  assert.match(r.reason, /state proof/);
  await page.screenshot({ path: path.join(SHOTS, 'verify-state-tampered.png'), fullPage: true });
  r = await check(files.present, other);
  assert.equal(r.verdict, 'INVALID', 'the proof is about other content than the file');
  assert.match(r.reason, /is not the proof's/);

  await page.click('#lang');
  await page.waitForFunction(() => document.querySelector('#nav').textContent.includes('概览'));
  r = await check(files.present);
  assert.equal(r.verdict, '有效');
  assert.match(r.summary, /^首次存证于区块 5（.*）的记录 .*-4；截至区块 7 共 3 次存证，最近一次在区块 7。$/);
  r = await check(files.absent);
  assert.equal(r.summary, '截至区块 7，尚未存证。');
  await page.screenshot({ path: path.join(SHOTS, 'verify-state-absent-zh.png'), fullPage: true });
  await page.click('#lang');
  await page.close();
});
