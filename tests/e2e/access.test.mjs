// The console against a node that serves members only (issue 9): it asks the reader to sign
// in; a member key file signs every request (RFC 9421) and shows the ledger, live feed
// included; an access token does the same; a wrong token is refused with the node's reason;
// signing out brings the sign-in page back.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { CAIRN, freePort, launchBrowser, removeDir, runCairn, sleep, startDevNode, stopNodes } from './helpers.mjs';

const nodes = [];
let browser;
let node;

/** Restarts a dev node's data folder with `[access] mode = "members"` on a fresh port. */
async function asMembersNode(dev) {
  dev.proc.kill('SIGKILL');
  await new Promise((r) => dev.proc.once('exit', r));
  fs.appendFileSync(path.join(dev.data, 'config.toml'), '\n[access]\nmode = "members"\n');
  const port = await freePort();
  const proc = spawn(CAIRN, ['dev', '--data-dir', dev.data, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, RUST_LOG: 'warn' } });
  const n = { dir: dev.dir, data: dev.data, url: `http://127.0.0.1:${port}`, proc };
  nodes.push(n);
  for (let i = 0; i < 300; i++) {
    try { if ((await fetch(`${n.url}/healthz`)).ok) return n; } catch { /* not up yet */ }
    await sleep(50);
  }
  throw new Error(`members node did not start on ${n.url}`);
}

before(async () => {
  const dev = await startDevNode(nodes, { prefix: 'cairn-access-' });
  node = await asMembersNode(dev);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  stopNodes(nodes);
});

async function openConsole() {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.on('pageerror', (e) => { throw e; });
  await page.goto(`${node.url}/`);
  await page.waitForSelector('#signin-button');
  return page;
}

test('the node refuses the API without a credential, and the console asks to sign in', async () => {
  assert.equal((await fetch(`${node.url}/v1/status`)).status, 401);
  const page = await openConsole();
  assert.match(await page.textContent('h1'), /Members only/);
  await page.close();
});

test('a member key file signs every request: overview, live feed and a record page', async () => {
  const page = await openConsole();
  await page.setInputFiles('#signin-key', path.join(node.data, 'keys/submitter.key'));
  await page.click('#signin-button');
  await page.waitForSelector('#st-chain');
  const found = JSON.parse(runCairn(['--auth-key', path.join(node.data, 'keys/submitter.key'), 'evidence', 'get', '--node', node.url, '--reference', 'none']).stdout);
  assert.deepEqual(found.records, []);
  // A deposit from the CLI: the live feed (a signed stream) moves the height on the page.
  const before = Number(await page.textContent('#st-height'));
  const file = path.join(node.dir, 'doc.txt');
  fs.writeFileSync(file, 'members only');
  const out = runCairn(['evidence', 'submit', '--node', node.url, '--key', path.join(node.data, 'keys/submitter.key'), '--wait', file]);
  assert.equal(out.status, 0, out.stderr);
  const record = JSON.parse(out.stdout).record.id;
  await page.waitForFunction((h) => Number(document.querySelector('#st-height')?.textContent) > h, before, { timeout: 15000 });
  assert.match(await page.textContent('#live'), /Live/);
  // A module page reads with the same signature.
  await page.goto(`${node.url}/#/record/${record}`);
  await page.waitForFunction((id) => document.querySelector('main').textContent.includes(id.slice(0, 10)), record);
  assert.doesNotMatch(await page.textContent('main'), /Nothing found/);
  // Signing out: the sign-in page again.
  await page.click('#signout');
  await page.waitForSelector('#signin-button');
  await page.close();
});

test('an access token signs in; a wrong one is refused with the node\'s reason', async () => {
  const issued = runCairn(['token', 'issue', '--key', path.join(node.data, 'keys/submitter.key'), '--genesis', path.join(node.data, 'genesis.json'), '--service', 'console-test']);
  assert.equal(issued.status, 0, issued.stderr);
  const token = issued.stdout.trim();
  const page = await openConsole();
  await page.fill('#signin-token', `${token.slice(0, -2)}xx`);
  await page.click('#signin-button');
  await page.waitForFunction(() => /Refused/.test(document.querySelector('#signin-status').textContent));
  await page.fill('#signin-token', token);
  await page.click('#signin-button');
  await page.waitForSelector('#st-chain');
  assert.match(await page.textContent('#st-chain'), /cairn-dev-/);
  await page.close();
});

after(() => { for (const n of nodes) removeDir(n.dir); });
