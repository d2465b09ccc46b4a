// The Governance page (issue 10): it lists organisations, member keys and proposals; an admin
// loads a key file in the page and proposes (a member key added: its own organisation decides,
// so it applies at once) and votes (a rotation proposed by a key without the admin role waits
// for an admin's approval, given from the page); in Chinese too.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SHOTS, launchBrowser, newPage, runCairn, startDevNode, stopNodes } from './helpers.mjs';

const nodes = [];
let browser;
let node;

before(async () => {
  node = await startDevNode(nodes, { prefix: 'cairn-gov-' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  stopNodes(nodes);
});

function keyFile(name) {
  const out = path.join(node.dir, `${name}.key`);
  const r = runCairn(['keys', 'generate', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  return { path: out, pub: JSON.parse(fs.readFileSync(out, 'utf8')).public_key };
}

test('an admin proposes from the page and the change applies; a pending rotation is approved from the page', async () => {
  const page = await newPage(browser, node);
  await page.goto(`${node.url}/#/governance`);
  await page.waitForSelector('#gov-orgs');
  assert.match(await page.textContent('#gov-orgs'), /dev-org/);
  assert.equal(await page.locator('#gov-members tbody tr').count(), 1);

  await page.setInputFiles('#gov-key', path.join(node.data, 'keys/submitter.key'));
  await page.waitForSelector('#gov-propose');
  const clerk = keyFile('clerk');
  await page.selectOption('#gov-propose select[name=type]', 'add-member');
  await page.fill('#gov-propose input[name=id]', 'dev-org');
  await page.fill('#gov-propose input[name=key]', clerk.pub);
  await page.fill('#gov-propose input[name=roles]', 'evidence.depositor');
  await page.click('#gov-propose button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('#gov-members tbody tr').length === 2);
  assert.match(await page.textContent('#gov-past'), /applied at block/);

  // The clerk (no admin role) proposes rotating its own key: open until an admin approves.
  const next = keyFile('clerk-next');
  const r = runCairn(['gov', 'propose', '--node', node.url, '--key', clerk.path, 'rotate-key', '--org', 'dev-org', '--new-key', next.pub]);
  assert.equal(r.status, 0, r.stderr);
  const id = JSON.parse(r.stdout).id;
  assert.equal(JSON.parse(r.stdout).status, 'open');
  await page.goto(`${node.url}/#/proposal/${id}`);
  await page.waitForSelector('#gov-key');
  await page.setInputFiles('#gov-key', path.join(node.data, 'keys/submitter.key'));
  await page.waitForSelector('#vote-approve');
  assert.match(await page.textContent('#proposal-status'), /open/);
  await page.click('#vote-approve');
  await page.waitForFunction(() => /applied at block/.test(document.querySelector('#proposal-outcome')?.textContent ?? ''));
  assert.match(await page.textContent('#proposal-votes'), /dev-org: Approve/);
  const m = await (await fetch(`${node.url}/v1/governance/members/${next.pub}`)).json();
  assert.equal(m.status, 'active');
  assert.deepEqual(m.roles, ['evidence.depositor']);
  const old = await (await fetch(`${node.url}/v1/governance/members/${clerk.pub}`)).json();
  assert.equal(old.status, 'removed');

  // In Chinese.
  await page.click('#lang');
  await page.waitForFunction(() => document.querySelector('#nav').textContent.includes('治理'));
  await page.goto(`${node.url}/#/governance`);
  await page.waitForSelector('#gov-orgs');
  assert.match(await page.textContent('main h1'), /治理/);
  assert.match(await page.textContent('#gov-past'), /已于区块 \d+ 生效/);
  await page.screenshot({ path: path.join(SHOTS, 'governance-zh.png'), fullPage: true });
  await page.click('#lang');
  await page.close();
});
