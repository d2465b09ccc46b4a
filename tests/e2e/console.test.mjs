// End-to-end tests of the web console in headless Chromium (Debian's, driven by
// playwright-core) against a real `cairn dev` process. Screenshots of every page go to
// tests/e2e/screenshots (or $CAIRN_SCREENSHOTS).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CAIRN = process.env.CAIRN_BIN ?? path.join(ROOT, 'target/debug/cairn');
const SHOTS = process.env.CAIRN_SCREENSHOTS ?? path.join(ROOT, 'tests/e2e/screenshots');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
fs.mkdirSync(SHOTS, { recursive: true });

const nodes = [];
let browser;

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

async function startNode(suite) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cairn-e2e-${suite}-`));
  const port = await freePort();
  const proc = spawn(CAIRN, ['dev', '--data-dir', path.join(dir, 'data'), '--listen', `127.0.0.1:${port}`, '--suite', suite], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, RUST_LOG: 'warn' } });
  const node = { dir, data: path.join(dir, 'data'), url: `http://127.0.0.1:${port}`, proc };
  nodes.push(node);
  for (let i = 0; i < 300; i++) {
    try { if ((await fetch(`${node.url}/healthz`)).ok) return node; } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`cairn dev did not start on ${node.url}`);
}

/** Runs `cairn verify`; returns {valid, out}. */
function cliVerify(receipt, trust, file) {
  const args = ['verify', '--receipt', receipt, '--trust', trust, ...(file ? ['--file', file] : [])];
  const r = spawnSync(CAIRN, args, { encoding: 'utf8' });
  assert.ok(r.status === 0 || r.status === 1, `cairn verify failed to run: ${r.stderr}`);
  return { valid: r.status === 0, out: r.stdout };
}

async function newPage(node) {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.on('pageerror', (e) => { throw e; });
  await page.goto(`${node.url}/`);
  return page;
}

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
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  for (const n of nodes) {
    n.proc.kill('SIGKILL');
    fs.rmSync(n.dir, { recursive: true, force: true });
  }
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

  // A modified file.
  const modified = path.join(node.dir, 'contract-modified.txt');
  fs.writeFileSync(modified, 'A signed contract, scanned on 2026-11-28.\n');
  await page.setInputFiles('#original-file', modified);
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

  // From the record to its block.
  await page.goto(`${node.url}/#/record/${ids[1]}`);
  await page.waitForSelector('#record-block');
  await page.screenshot({ path: path.join(SHOTS, 'record.png'), fullPage: true });
  const height = await page.textContent('#record-block');
  await page.click('#record-block');
  await page.waitForSelector('#block-height');
  assert.equal(await page.textContent('#block-height'), height);
  await page.screenshot({ path: path.join(SHOTS, 'block.png'), fullPage: true });

  // Search by reference finds both.
  await page.fill('#search', 'case-e2e-1');
  await page.press('#search', 'Enter');
  await page.waitForSelector('#search-results');
  assert.equal(await page.$$eval('#search-results tbody tr', (rows) => rows.length), 2);

  // Overview and blocks pages; then the Chinese interface.
  await page.goto(`${node.url}/#/`);
  await page.waitForSelector('#st-height');
  const shown = Number(await page.textContent('#st-height'));
  assert.ok(shown >= 1);
  // A deposit made elsewhere shows up live, without a reload (server-sent events).
  const more = path.join(node.dir, 'later.txt');
  fs.writeFileSync(more, 'deposited from the command line\n');
  const cli = spawnSync(CAIRN, ['evidence', 'submit', '--node', node.url, '--key', path.join(node.data, 'keys/submitter.key'), '--wait', more], { encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  await page.waitForFunction((h) => Number(document.querySelector('#st-height').textContent) > h, shown);
  await page.screenshot({ path: path.join(SHOTS, 'overview.png'), fullPage: true });
  await page.goto(`${node.url}/#/blocks`);
  await page.waitForSelector('#blocks tbody tr');
  await page.screenshot({ path: path.join(SHOTS, 'blocks.png'), fullPage: true });
  await page.click('#lang');
  await page.waitForFunction(() => document.querySelector('#nav').textContent.includes('概览'));
  await page.screenshot({ path: path.join(SHOTS, 'blocks-zh.png'), fullPage: true });
  await page.click('#lang');

  // A phone-sized screen still shows the verification page without sideways scrolling.
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await phone.goto(`${node.url}/#/verify?record=${ids[0]}`);
  await phone.waitForSelector('#verdict');
  assert.equal(await phone.textContent('#verdict'), 'VALID');
  assert.ok(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'no horizontal overflow on a phone');
  await phone.screenshot({ path: path.join(SHOTS, 'verify-phone.png'), fullPage: true });
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
    const cli = spawnSync(CAIRN, ['evidence', 'submit', '--node', node.url, '--key', path.join(node.data, 'keys/submitter.key'), '--wait', '--out', out, file], { encoding: 'utf8' });
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
      const m = await import('/console/verify.js');
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
