// The console's state-proof verifier (state-proof.js, the code the Verify page runs), in Node:
// against the Rust implementation's vectors (testdata/vectors/state.json: trees, their roots,
// presence and absence proofs, both suites), and on whole state receipts built around those
// trees by state-fixture.mjs: valid ones verify, and every single-bit flip of the proof bytes,
// the header or the value, and every malformation the format forbids, is INVALID.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SUITES, fromHex, toHex } from '../../crates/node/console/encoding.js';
import { verifyStateProof as verifyWith, verifyStateProofBytes, stateRoot, stateKey, decodeProof } from '../../crates/node/console/state-proof.js';
import { stateView } from '/console/modules/evidence/receipt.js';

// The console's verifier as the Verify page runs it: with the evidence module's state view.
const verifyStateProof = (text, trust, file = null) => verifyWith(text, trust, file, { evidence: stateView });
import { stateTree, makeValidators, trustFile, makeChain, evidenceFixture, headerV2, stateKeyOf } from './state-fixture.mjs';
import { ROOT } from './helpers.mjs';

const VECTORS = JSON.parse(fs.readFileSync(path.join(ROOT, 'testdata/vectors/state.json'), 'utf8'));
const SUITE_NAMES = Object.keys(SUITES);

/** Every copy of `bytes` with exactly one bit flipped. */
function* bitFlips(bytes) {
  for (let i = 0; i < bytes.length; i++) {
    for (let b = 0; b < 8; b++) {
      const c = bytes.slice();
      c[i] ^= 1 << b;
      yield { at: `${i}.${b}`, bytes: c };
    }
  }
}

const fails = (f) => { try { f(); return false; } catch { return true; } };

test('the vectors cover both suites, presence and both kinds of absence', () => {
  assert.deepEqual([...new Set(VECTORS.trees.map((t) => t.suite))].sort(), [...SUITE_NAMES].sort());
  const kinds = new Set(VECTORS.trees.flatMap((t) => t.proofs.map((p) => fromHex(p.proof)[1])));
  assert.deepEqual([...kinds].sort(), [0, 1, 2]);
});

for (const tree of VECTORS.trees) {
  const hash = SUITES[tree.suite].hash;
  const pairs = tree.pairs.map((p) => ({ stateKey: fromHex(p.state_key), value: fromHex(p.value) }));
  const root = fromHex(tree.root);

  test(`${tree.suite}: the root of the vector's ${pairs.length} pairs, whatever their order`, () => {
    assert.equal(toHex(stateRoot(hash, pairs)), tree.root);
    assert.equal(toHex(stateRoot(hash, [...pairs].reverse())), tree.root);
    // The fixture's tree builder (used for the receipts below) agrees too.
    assert.equal(toHex(stateTree(hash, pairs).root), tree.root);
    // Deleting a key gives the root of the tree without it: canonical, no leftover inner nodes.
    const fewer = pairs.slice(1);
    assert.equal(toHex(stateRoot(hash, fewer)), toHex(stateRoot(hash, [...fewer].reverse())));
    assert.notEqual(toHex(stateRoot(hash, fewer)), tree.root);
  });

  for (const v of tree.proofs) {
    const key = fromHex(v.key);
    const value = v.value === null ? null : fromHex(v.value);
    const proof = fromHex(v.proof);
    const label = `${tree.suite}: ${v.module} key ${v.key} (${value === null ? 'absent' : 'present'})`;

    test(`${label} verifies, and so does the fixture's own proof of it`, () => {
      assert.equal(toHex(stateKey(v.module, key)), v.state_key);
      const held = tree.pairs.find((p) => p.state_key === v.state_key);
      assert.equal(held?.value ?? null, v.value, 'the proof says what the tree holds');
      const kind = verifyStateProofBytes(hash, root, v.module, key, value, proof);
      assert.equal(kind === 'present', value !== null);
      assert.equal(toHex(stateTree(hash, pairs).prove(fromHex(v.state_key)).proof), v.proof, 'fixture proofs are byte-identical to Rust\'s');
    });

    test(`${label}: every single-bit flip of the proof bytes is rejected`, () => {
      let n = 0;
      for (const f of bitFlips(proof)) {
        assert.ok(fails(() => verifyStateProofBytes(hash, root, v.module, key, value, f.bytes)), `flip at ${f.at} still verifies`);
        n++;
      }
      assert.equal(n, proof.length * 8);
    });

    test(`${label}: the wrong value, key, module, root or suite is rejected`, () => {
      if (value !== null) {
        for (const f of bitFlips(value)) assert.ok(fails(() => verifyStateProofBytes(hash, root, v.module, key, f.bytes, proof)), `value flip at ${f.at}`);
        assert.ok(fails(() => verifyStateProofBytes(hash, root, v.module, key, null, proof)), 'present proof, absent value');
        assert.ok(fails(() => verifyStateProofBytes(hash, root, v.module, key, new Uint8Array(0), proof)), 'empty value');
        for (const f of bitFlips(key)) assert.ok(fails(() => verifyStateProofBytes(hash, root, v.module, f.bytes, value, proof)), `key flip at ${f.at}`);
      } else {
        // (Another key may well be absent by the same proof: absent keys are not flipped.)
        assert.ok(fails(() => verifyStateProofBytes(hash, root, v.module, key, new Uint8Array([0]), proof)), 'absent proof, a value');
      }
      if (value !== null) assert.ok(fails(() => verifyStateProofBytes(hash, root, `${v.module}x`, key, value, proof)), 'another module');
      for (const f of bitFlips(root)) assert.ok(fails(() => verifyStateProofBytes(hash, f.bytes, v.module, key, value, proof)), `root flip at ${f.at}`);
      const other = SUITES[SUITE_NAMES.find((s) => s !== tree.suite)].hash;
      assert.ok(fails(() => verifyStateProofBytes(other, root, v.module, key, value, proof)), 'the other suite\'s hash');
      // Trailing bytes, a truncated proof.
      const longer = new Uint8Array(proof.length + 1); longer.set(proof);
      assert.ok(fails(() => decodeProof(longer)));
      assert.ok(fails(() => decodeProof(proof.subarray(0, proof.length - 1))));
    });
  }
}

test('state proof bytes deeper than 256 are refused before anything is hashed', () => {
  const p = new Uint8Array(4 + 32 * 257);
  p.set([1, 1, 1, 1]); // version 1, kind 1 (empty), depth 257
  assert.throws(() => decodeProof(p), /over 256/);
  const ok = new Uint8Array(4 + 32 * 256);
  ok.set([1, 1, 1, 0]); // depth 256 decodes
  assert.equal(decodeProof(ok).siblings.length, 256);
});

// ---------- whole receipts ----------

const CHAIN = 'cairn-state-test';

async function chainFor(suite, { validators = 3, quorum = 2, signers } = {}) {
  const vs = await makeValidators(suite, CHAIN, validators);
  const trust = trustFile(suite, CHAIN, vs, quorum);
  const vectorTree = VECTORS.trees.find((t) => t.suite === suite);
  const ev = evidenceFixture(suite);
  const pairs = [...vectorTree.pairs.map((p) => ({ stateKey: fromHex(p.state_key), value: fromHex(p.value) })), ...ev.pairs];
  const chain = await makeChain({ suite, chainId: CHAIN, validators: vs, pairs, signers: signers?.(vs) });
  return { vs, trust, ev, chain, vectorTree };
}

const mutate = (r, f) => { const c = structuredClone(r); f(c); return c; };

for (const suite of SUITE_NAMES) {
  test(`${suite}: state receipts for deposited and never-deposited content, and another module's key, are VALID`, async () => {
    const { trust, ev, chain, vectorTree } = await chainFor(suite);
    for (const { key, view } of ev.views) {
      const r = chain.receipt('evidence', key, view);
      const res = await verifyStateProof(JSON.stringify(r, null, 2), trust);
      assert.equal(res.valid, true, res.reason);
      assert.deepEqual(res.view, view);
      assert.equal(res.module, 'evidence');
      assert.equal(res.height, 7);
      assert.equal(res.value, view.deposited ? r.value : null);
      assert.equal(res.signers.length, 3);
      assert.ok(Object.values(res.steps).every((s) => s.ok !== false));
    }
    const v = vectorTree.proofs[0];
    const res = await verifyStateProof(chain.receipt(v.module, fromHex(v.key), { anything: true }), trust);
    assert.equal(res.valid, true, res.reason);
    assert.equal(res.steps.view.ok, null, 'an unknown module\'s view is shown unchecked');
  });

  test(`${suite}: every bit flip of a receipt's proof, header and value bytes is INVALID`, async () => {
    const { trust, ev, chain } = await chainFor(suite, { validators: 1, quorum: 1 });
    const parsed = (await import('../../crates/node/console/verify.js')).parseTrust(trust);
    for (const { key, view } of [ev.views[1], ev.views[2]]) {
      const r = chain.receipt('evidence', key, view);
      for (const field of ['proof', 'header', ...(r.value ? ['value'] : [])]) {
        for (const f of bitFlips(fromHex(r[field]))) {
          const res = await verifyStateProof(mutate(r, (c) => { c[field] = toHex(f.bytes); }), parsed);
          assert.equal(res.valid, false, `${field} flip at ${f.at} still VALID`);
        }
      }
    }
  });

  test(`${suite}: malformed, mismatched and under-signed state receipts are INVALID at the right step`, async () => {
    const { trust, ev, chain } = await chainFor(suite);
    const { key, view } = ev.views[1];
    const good = chain.receipt('evidence', key, view);
    const absent = chain.receipt('evidence', ev.views[2].key, ev.views[2].view);
    const cases = [
      ['unknown key', mutate(good, (c) => { c.extra = 1; }), 'header', /unknown field `extra`/],
      ['missing key', mutate(good, (c) => { delete c.view; }), 'header', /missing field `view`/],
      ['uppercase hex', mutate(good, (c) => { c.proof = c.proof.toUpperCase(); }), 'header', /hex/],
      ['odd-length hex', mutate(good, (c) => { c.key += '0'; }), 'header', /hex/],
      ['wrong format', mutate(good, (c) => { c.format = 'cairn-receipt-v1'; }), 'header', /format/],
      ['a module name with a lone surrogate', mutate(good, (c) => { c.module = 'evidence\ud800'; }), 'header', /Unicode/],
      ['a value that is not hex', mutate(good, (c) => { c.value = 42; }), 'header', /value/],
      ['an inclusion hash of 31 bytes', mutate(good, (c) => { c.inclusion_proof[0] = c.inclusion_proof[0].slice(2); }), 'header', /32-byte/],
      ['other chain', mutate(good, (c) => { c.chain_id = 'other'; }), 'header', /chain/],
      ['height differs from the header', mutate(good, (c) => { c.height += 1; }), 'header', /height/],
      ['leaf_index is not log_size', mutate(good, (c) => { c.leaf_index += 1; }), 'header', /log_size/],
      ['header with a trailing byte', mutate(good, (c) => { c.header += '00'; }), 'header', /left over/],
      ['a version 1 header', mutate(good, (c) => { c.header = toHex(headerV2({ chainId: CHAIN, height: 7, timeMs: 0, txCount: 2, logSize: 5, version: 1 })); }), 'header', /version 1 is not 2/],
      ['a header of another chain', mutate(good, (c) => { c.header = toHex(headerV2({ chainId: 'other', height: 7, timeMs: 0, txCount: 2, logSize: 5, stateRoot: new Uint8Array(32) })); }), 'header', /header is for chain/],
      ['tree_size differs from the checkpoint', mutate(good, (c) => { c.tree_size += 1; }), 'inclusion', /tree size/],
      ['an inclusion hash dropped', mutate(good, (c) => { c.inclusion_proof.pop(); }), 'inclusion', /inclusion/],
      ['a proof with a trailing byte', mutate(good, (c) => { c.proof += '00'; }), 'state', /bytes/],
      ['a value with a present key dropped', mutate(good, (c) => { c.value = null; }), 'state', /present/],
      ['an absent key given a value', mutate(absent, (c) => { c.value = good.value; }), 'state', /absent/],
      ['the view says more deposits', mutate(good, (c) => { c.view.deposits += 1; }), 'view', /view/],
      ['the view says absent for a present value', mutate(good, (c) => { c.view = { digest_alg: view.digest_alg, digest: view.digest, deposited: false }; }), 'view', /view/],
      ['the view of another digest', mutate(absent, (c) => { c.view.digest = view.digest; }), 'view', /view/],
      ['the view with an extra field', mutate(good, (c) => { c.view.note = 'x'; }), 'view', /view/],
      ['a signature line removed below quorum', mutate(good, (c) => { c.checkpoint = c.checkpoint.replace(/\n\u2014 [^\n]*\n\u2014 [^\n]*\n$/, '\n'); }), 'signatures', /required/],
    ];
    for (const [label, r, step, reason] of cases) {
      const res = await verifyStateProof(JSON.stringify(r), trust);
      assert.equal(res.valid, false, `${label}: VALID`);
      assert.equal(res.step, step, `${label}: failed at ${res.step} (${res.reason})`);
      assert.match(res.reason, reason, label);
      assert.equal(res.steps[step].ok, false);
    }
    const other = await makeValidators(suite, CHAIN, 3, 'other keys');
    const res = await verifyStateProof(good, trustFile(suite, CHAIN, other, 2));
    assert.equal(res.valid, false, 'validators the trust file does not know');
    assert.equal(res.step, 'signatures');
    const notJson = await verifyStateProof('{"format": "cairn-state-proof-v1",', trust);
    assert.equal(notJson.valid, false);
  });

  test(`${suite}: a checkpoint signed by fewer validators than the quorum is INVALID`, async () => {
    const { trust, ev, chain } = await chainFor(suite, { validators: 3, quorum: 2, signers: (vs) => vs.slice(0, 1) });
    const res = await verifyStateProof(chain.receipt('evidence', ev.views[0].key, ev.views[0].view), trust);
    assert.equal(res.valid, false);
    assert.match(res.reason, /1 valid signatures from trusted keys, 2 required/);
  });

  test(`${suite}: with the original file, an evidence state proof checks the file is the proven content`, async () => {
    const { trust, ev, chain } = await chainFor(suite);
    const r = chain.receipt('evidence', ev.views[1].key, ev.views[1].view);
    const good = await verifyStateProof(r, trust, new TextEncoder().encode(ev.contents[1]));
    assert.equal(good.valid, true, good.reason);
    assert.equal(good.steps.file.ok, true);
    const bad = await verifyStateProof(r, trust, new TextEncoder().encode(ev.contents[0]));
    assert.equal(bad.valid, false);
    assert.equal(bad.step, 'file');
  });
}

test('the fixture builds the state keys state-proof.js hashes', () => {
  assert.equal(toHex(stateKeyOf('evidence', new Uint8Array([1, 2]))), toHex(stateKey('evidence', new Uint8Array([1, 2]))));
});
