// Tampered trust files and receipts that JSON readers disagree on are refused alike by the
// console's verifier and by `cairn verify` (issue 9): a validator listed twice (by name, or its
// key under another name), a quorum lowered below 2f+1 (accepted only when asked for), a member
// named twice in one object, an integer written with a fraction. Uses the testnet receipt of
// testdata/fixtures/receipts-v1 (four validators, quorum 3).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { verifyReceipt } from '/console/modules/evidence/receipt.js';
import { parseTrust } from '../../crates/node/console/verify.js';
import { ROOT, runCairn, tempDir } from './helpers.mjs';

const DIR = path.join(ROOT, 'testdata/fixtures/receipts-v1/testnet-4');
const RECEIPT = fs.readFileSync(path.join(DIR, 'contract.txt.receipt.json'), 'utf8');
const TRUST = JSON.parse(fs.readFileSync(path.join(DIR, 'trust.json'), 'utf8'));
const tmp = tempDir('cairn-trust-tamper');

/** Both verdicts on (receipt text, trust text): [browser valid, CLI valid, CLI output]. */
async function both(receipt, trust, extra = []) {
  const rp = path.join(tmp, `r-${Math.random().toString(16).slice(2)}.json`);
  const tp = path.join(tmp, `t-${Math.random().toString(16).slice(2)}.json`);
  fs.writeFileSync(rp, receipt);
  fs.writeFileSync(tp, trust);
  const cli = runCairn(['verify', '--receipt', rp, '--trust', tp, ...extra]);
  let browser;
  try {
    const acceptQuorum = extra[0] === '--accept-quorum' ? Number(extra[1]) : null;
    browser = (await verifyReceipt(receipt, parseTrust(trust, { acceptQuorum }))).valid;
  } catch {
    browser = false; // the trust file itself was refused
  }
  return [browser, cli.status === 0, cli.stdout + cli.stderr];
}

test('the untouched testnet receipt is VALID in both', async () => {
  const [b, c, out] = await both(RECEIPT, JSON.stringify(TRUST));
  assert.deepEqual([b, c], [true, true], out);
});

test('a validator listed twice, by name or by key, is refused by both', async () => {
  const byName = { ...TRUST, validators: [...TRUST.validators, TRUST.validators[0]] };
  const [b1, c1, o1] = await both(RECEIPT, JSON.stringify(byName));
  assert.deepEqual([b1, c1], [false, false], o1);
  assert.match(o1, /twice/);
  assert.throws(() => parseTrust(JSON.stringify(byName)), /twice/);
  const byKey = { ...TRUST, validators: [...TRUST.validators, { ...TRUST.validators[0], name: `${TRUST.validators[0].name}-again` }] };
  const [b2, c2, o2] = await both(RECEIPT, JSON.stringify(byKey));
  assert.deepEqual([b2, c2], [false, false], o2);
});

test('a quorum lowered below 2f+1 is refused by both, and accepted by both when asked for', async () => {
  const lowered = JSON.stringify({ ...TRUST, quorum: 1 });
  const [b, c, out] = await both(RECEIPT, lowered);
  assert.deepEqual([b, c], [false, false], out);
  assert.match(out, /--accept-quorum 1/);
  const [b2, c2, out2] = await both(RECEIPT, lowered, ['--accept-quorum', '1']);
  assert.deepEqual([b2, c2], [true, true], out2);
  assert.match(out2, /below 2f\+1 = 3, accepted by --accept-quorum/);
});

test('a member named twice or an integer with a fraction is refused by both', async () => {
  const dup = RECEIPT.replace('"leaf_index":', '"leaf_index": 0, "leaf_index":');
  assert.notEqual(dup, RECEIPT);
  const [b1, c1, o1] = await both(dup, JSON.stringify(TRUST));
  assert.deepEqual([b1, c1], [false, false], o1);
  const r = JSON.parse(RECEIPT);
  const fraction = RECEIPT.replace(`"tree_size": ${r.tree_size}`, `"tree_size": ${r.tree_size}.0`);
  assert.notEqual(fraction, RECEIPT, 'the fixture writes tree_size as "tree_size": N');
  const [b2, c2, o2] = await both(fraction, JSON.stringify(TRUST));
  assert.deepEqual([b2, c2], [false, false], o2);
  const trustDup = JSON.stringify(TRUST).replace('"quorum":', '"quorum": 3, "quorum":');
  const [b3, c3, o3] = await both(RECEIPT, trustDup);
  assert.deepEqual([b3, c3], [false, false], o3);
});
