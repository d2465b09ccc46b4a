// Receipts and state receipts issued by real nodes, kept in testdata/fixtures, still verify in
// the console: verify.js (with the original file) says VALID for every receipt an earlier
// release issued (testdata/fixtures/receipts-v1: made by d311453, before the state layer and
// header v2), and state-proof.js says VALID for the state receipts of this release
// (testdata/fixtures/state-proofs); and verifyLeafReceipt says VALID for a leaf receipt
// (cairn-leaf-receipt-v1) of the block leaf each state receipt carries, INVALID for tampered
// copies. Runs in Node on the console's own modules; needs no binary.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { verifyLeafReceipt } from '../../crates/node/console/verify.js';
import { verifyStateProof as verifyWith, blockLeaf } from '../../crates/node/console/state-proof.js';
import { verifyReceipt, stateView } from '/console/modules/evidence/receipt.js';

// The console's verifier as the Verify page runs it: with the evidence module's state view.
const verifyStateProof = (text, trust, file = null) => verifyWith(text, trust, file, { evidence: stateView });
import { fromHex, toHex } from '../../crates/node/console/encoding.js';
import { ROOT } from './helpers.mjs';

const RECEIPTS = path.join(ROOT, 'testdata/fixtures/receipts-v1');
const STATE = path.join(ROOT, 'testdata/fixtures/state-proofs');
const read = (p) => fs.readFileSync(p, 'utf8');
const dirs = (d) => fs.readdirSync(d).filter((n) => fs.statSync(path.join(d, n)).isDirectory()).sort();

// What the fixtures' make.sh scripts deposited.
const SUITE_OF = { 'ed25519-sha256': 'ed25519-sha256', 'sm2-sm3': 'sm2-sm3', 'testnet-4': 'ed25519-sha256' };
const ALG = { 'ed25519-sha256': 'sha-256', 'sm2-sm3': 'sm3' };

test('the receipt fixtures are all there: two files on each single-node chain, one on the testnet, JSON and tlog-proof', () => {
  assert.deepEqual(dirs(RECEIPTS), ['ed25519-sha256', 'sm2-sm3', 'testnet-4']);
  for (const d of ['ed25519-sha256', 'sm2-sm3']) {
    assert.deepEqual(fs.readdirSync(path.join(RECEIPTS, d)).sort(), ['contract.txt.receipt.json', 'contract.txt.tlog-proof', 'photo.bin.receipt.json', 'photo.bin.tlog-proof', 'trust.json']);
  }
  assert.deepEqual(fs.readdirSync(path.join(RECEIPTS, 'testnet-4')).sort(), ['contract.txt.receipt.json', 'contract.txt.tlog-proof', 'trust.json']);
});

for (const chain of dirs(RECEIPTS)) {
  const trust = read(path.join(RECEIPTS, chain, 'trust.json'));
  for (const name of fs.readdirSync(path.join(RECEIPTS, chain)).filter((n) => n !== 'trust.json').sort()) {
    const original = name.replace(/\.(receipt\.json|tlog-proof)$/, '');
    test(`receipts-v1/${chain}/${name} (issued by an earlier release) is VALID in verify.js with ${original}`, async () => {
      const text = read(path.join(RECEIPTS, chain, name));
      const bytes = new Uint8Array(fs.readFileSync(path.join(RECEIPTS, original)));
      const r = await verifyReceipt(text, trust, bytes);
      assert.equal(r.valid, true, r.reason);
      assert.ok(Object.values(r.steps).every((s) => s.ok === true), JSON.stringify(r.steps));
      assert.equal(r.record.title, original);
      assert.equal(r.record.size, bytes.length);
      assert.equal(r.record.digest_alg, ALG[SUITE_OF[chain]]);
      assert.equal(r.signers.length, JSON.parse(trust).quorum);
      // Without the file it is still VALID (file step unchecked); with the other file, INVALID.
      const noFile = await verifyReceipt(text, trust);
      assert.equal(noFile.valid, true, noFile.reason);
      assert.equal(noFile.steps.file.ok, null);
      const other = new Uint8Array(fs.readFileSync(path.join(RECEIPTS, original === 'contract.txt' ? 'photo.bin' : 'contract.txt')));
      const wrong = await verifyReceipt(text, trust, other);
      assert.equal(wrong.valid, false);
      assert.equal(wrong.steps.file.ok, false);
    });
  }
}

test('the state-proof fixtures are all there: present, present as of height 1, and absent, per suite', () => {
  assert.deepEqual(dirs(STATE), ['ed25519-sha256', 'sm2-sm3']);
  for (const d of dirs(STATE)) assert.deepEqual(fs.readdirSync(path.join(STATE, d)).sort(), ['absent.json', 'present-at-1.json', 'present.json', 'trust.json']);
});

for (const suite of dirs(STATE)) {
  const trust = read(path.join(STATE, suite, 'trust.json'));
  // The files testdata/fixtures/state-proofs/make.sh proved (the first deposited twice).
  const contract = new TextEncoder().encode('contract text, version 1\n');
  const never = new TextEncoder().encode('never deposited\n');
  const expected = {
    present: { height: 2, deposited: true, deposits: 2, first_height: 1, last_height: 2, file: contract },
    'present-at-1': { height: 1, deposited: true, deposits: 1, first_height: 1, last_height: 1, file: contract },
    absent: { height: 2, deposited: false, file: never },
  };
  for (const [name, want] of Object.entries(expected)) {
    test(`state-proofs/${suite}/${name}.json is VALID in state-proof.js, with and without its file`, async () => {
      const text = read(path.join(STATE, suite, `${name}.json`));
      const r = await verifyStateProof(text, trust);
      assert.equal(r.valid, true, r.reason);
      assert.equal(r.module, 'evidence');
      assert.equal(r.height, want.height);
      assert.equal(r.view.digest_alg, ALG[suite]);
      assert.equal(r.view.deposited, want.deposited);
      if (want.deposited) {
        for (const k of ['deposits', 'first_height', 'last_height']) assert.equal(r.view[k], want[k], k);
      } else {
        assert.equal(r.value, null);
      }
      assert.equal(r.signers.length, 1);
      for (const s of ['header', 'checkpoint', 'signatures', 'inclusion', 'state', 'view']) assert.equal(r.steps[s].ok, true, s);
      const withFile = await verifyStateProof(text, trust, want.file);
      assert.equal(withFile.valid, true, withFile.reason);
      assert.equal(withFile.steps.file.ok, true);
      // The other file is not the proven content.
      const wrong = await verifyStateProof(text, trust, want.file === contract ? never : contract);
      assert.equal(wrong.valid, false);
      assert.equal(wrong.step, 'file');
    });
  }
}

test('each suite\'s present and present-at-1 fixtures are about the same content and the same first deposit', async () => {
  for (const suite of dirs(STATE)) {
    const trust = read(path.join(STATE, suite, 'trust.json'));
    const now = await verifyStateProof(read(path.join(STATE, suite, 'present.json')), trust);
    const then = await verifyStateProof(read(path.join(STATE, suite, 'present-at-1.json')), trust);
    assert.equal(now.view.digest, then.view.digest);
    assert.equal(now.view.first_record, then.view.first_record);
    assert.equal(now.view.first_time_ms, then.view.first_time_ms);
  }
});

/** The leaf receipt of the block leaf a state receipt carries: module cairn, kind 1, the header as payload. */
function blockLeafReceipt(stateProof) {
  const p = JSON.parse(stateProof);
  return {
    format: 'cairn-leaf-receipt-v1', chain_id: p.chain_id, module: 'cairn', kind: 1, leaf_index: p.leaf_index,
    leaf: toHex(blockLeaf(fromHex(p.header))), tree_size: p.tree_size, inclusion_proof: p.inclusion_proof, checkpoint: p.checkpoint,
  };
}

for (const suite of dirs(STATE)) {
  test(`state-proofs/${suite}: the leaf receipt of its block leaf is VALID in verifyLeafReceipt, its tampered copies INVALID`, async () => {
    const trust = read(path.join(STATE, suite, 'trust.json'));
    const sp = read(path.join(STATE, suite, 'present.json'));
    const lr = blockLeafReceipt(sp);
    const r = await verifyLeafReceipt(JSON.stringify(lr, null, 2), trust);
    assert.equal(r.valid, true, r.reason);
    assert.equal(r.module, 'cairn');
    assert.equal(r.kind, 1);
    assert.equal(toHex(r.payload), JSON.parse(sp).header);
    assert.equal(r.payload_hex, JSON.parse(sp).header);
    assert.equal(r.leaf_index, lr.leaf_index);
    assert.equal(r.tree_size, lr.tree_size);
    assert.equal(r.signers.length, JSON.parse(trust).quorum);
    for (const s of ['leaf', 'checkpoint', 'signatures', 'inclusion']) assert.equal(r.steps[s].ok, true, s);
    assert.equal(r.steps.file.ok, null);
    // An evidence receipt verifier does not take it, nor a leaf receipt one an evidence receipt.
    assert.equal((await verifyReceipt(JSON.stringify(lr), trust)).valid, false);
    const evidence = read(path.join(RECEIPTS, suite, 'contract.txt.receipt.json'));
    assert.equal((await verifyLeafReceipt(evidence, read(path.join(RECEIPTS, suite, 'trust.json')))).valid, false);
    const flip = (hex, at) => hex.slice(0, at) + (hex[at] === '0' ? '1' : '0') + hex.slice(at + 1);
    const cases = [
      ['leaf: last hex digit (payload)', (c) => { c.leaf = flip(c.leaf, c.leaf.length - 1); }, 'inclusion'],
      ['leaf: the kind byte', (c) => { c.leaf = flip(c.leaf, 21); }, 'leaf'],
      ['leaf: version 1', (c) => { c.leaf = `01${c.leaf.slice(2)}`; }, 'leaf'],
      ['leaf: module name over 64 bytes', (c) => { c.leaf = `0200000041${c.leaf.slice(10)}`; }, 'leaf'],
      ['leaf: empty', (c) => { c.leaf = ''; }, 'leaf'],
      ['leaf: uppercase hex', (c) => { c.leaf = c.leaf.toUpperCase(); }, 'leaf'],
      ['kind 2', (c) => { c.kind = 2; }, 'leaf'],
      ['kind 257', (c) => { c.kind = 257; }, 'leaf'],
      ['module evidence', (c) => { c.module = 'evidence'; }, 'leaf'],
      ['format cairn-receipt-v1', (c) => { c.format = 'cairn-receipt-v1'; }, 'leaf'],
      ['another chain', (c) => { c.chain_id = `${c.chain_id}x`; }, 'leaf'],
      ['an unknown field', (c) => { c.note = 'x'; }, 'leaf'],
      ['no kind', (c) => { delete c.kind; }, 'leaf'],
      ['tree_size + 1', (c) => { c.tree_size += 1; }, 'inclusion'],
      ['leaf_index - 1', (c) => { c.leaf_index -= 1; }, 'inclusion'],
      ['inclusion_proof[0] flipped', (c) => { c.inclusion_proof[0] = flip(c.inclusion_proof[0], 0); }, 'inclusion'],
      ['checkpoint size + 1', (c) => { const [o, n, ...rest] = c.checkpoint.split('\n'); c.checkpoint = [o, Number(n) + 1, ...rest].join('\n'); }, 'signatures'],
    ];
    for (const [label, f, step] of cases) {
      const c = structuredClone(lr);
      f(c);
      const v = await verifyLeafReceipt(JSON.stringify(c), trust);
      assert.equal(v.valid, false, label);
      assert.equal(v.step, step, `${label}: ${v.reason}`);
    }
    // A leaf receipt is checked alone: an original file is refused.
    const withFile = await verifyLeafReceipt(JSON.stringify(lr), trust, new TextEncoder().encode('x'));
    assert.equal(withFile.valid, false);
    assert.equal(withFile.step, 'file');
  });
}
