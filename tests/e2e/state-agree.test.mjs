// The console's state-proof verifier (state-proof.js, imported here in Node) and `cairn verify
// --state-proof` give the same verdict on real state receipts from a real `cairn dev` of each
// suite: content deposited twice (as of now and as of height 1) and content never deposited,
// each VALID, and dozens of tampered copies of each (single-bit flips spread over the proof,
// header, value, key, inclusion hashes and checkpoint; off-by-one numbers; a changed view; a
// trust file of another chain, or of this chain's names with other keys), every one INVALID
// for both. Likewise verify.js's verifyLeafReceipt and `cairn verify --receipt` on the leaf
// receipt (cairn-leaf-receipt-v1) of the block leaf each state receipt carries, and on tampered
// copies of it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SUITES, fromHex, toHex, toBase64, concat } from '../../crates/node/console/encoding.js';
import { sha256 } from '../../crates/node/console/sm.js';
import { verifyStateProof as verifyWith, blockLeaf } from '../../crates/node/console/state-proof.js';
import { stateView } from '/console/modules/evidence/receipt.js';

// The console's verifier as the Verify page runs it: with the evidence module's state view.
const verifyStateProof = (text, trust, file = null) => verifyWith(text, trust, file, { evidence: stateView });
import { verifyLeafReceipt } from '../../crates/node/console/verify.js';
import { ROOT, startDevNode, stopNodes, runCairn, removeDir } from './helpers.mjs';

const SUITE_NAMES = ['ed25519-sha256', 'sm2-sm3'];
const CONTENT = 'contract text for the state agreement test\n';
const NEVER = 'never deposited on this chain\n';

const nodes = [];
const chains = {}; // suite → { node, trust, dir, file, absentFile, proofs: {name: text} }

const startNode = (suite) => startDevNode(nodes, { prefix: `cairn-state-agree-${suite}-`, suite });

async function getText(url) {
  const res = await fetch(url);
  const text = await res.text();
  assert.equal(res.status, 200, `${url}: ${text}`);
  return text;
}

/** `cairn verify --state-proof`: {valid, message} (the first line it prints). */
function cliVerify(proofPath, trustPath, file = null) {
  const r = runCairn(['verify', '--state-proof', proofPath, '--trust', trustPath, ...(file ? ['--file', file] : [])]);
  assert.ok(r.status === 0 || r.status === 1, `cairn verify did not run (status ${r.status}): ${r.stderr}`);
  return { valid: r.status === 0, message: r.stdout.split('\n')[0] };
}

/** state-proof.js: {valid, message}. */
async function jsVerify(text, trustPath, file = null) {
  const r = await verifyStateProof(text, fs.readFileSync(trustPath, 'utf8'), file ? new Uint8Array(fs.readFileSync(file)) : null);
  return { valid: r.valid, message: r.valid ? 'VALID' : `INVALID at ${r.step}: ${r.reason}` };
}

const spread = (n, len) => [...new Set(Array.from({ length: n }, (_, k) => Math.floor(((k + 0.5) / n) * len)))];
/** Hex of `hex`'s bytes with bit `bit` of byte `at` flipped. */
function flipHex(hex, at, bit) {
  const b = fromHex(hex);
  b[at] ^= 1 << bit;
  return toHex(b);
}
function flipBase64(b64, at, bit) {
  const b = Buffer.from(b64, 'base64');
  b[at] ^= 1 << bit;
  return b.toString('base64');
}

/**
 * The tampered copies of a state receipt (parsed JSON): [label, receipt object, trust path or
 * null for the chain's own]. Each must be INVALID.
 */
function tamperings(r, suite) {
  const out = [];
  const put = (label, f, trust = null) => { const c = structuredClone(r); f(c); out.push([label, c, trust]); };
  // Bit flips in the hex fields, at positions spread over each.
  const fields = { proof: 4, header: 8, key: 3, ...(r.value !== null ? { value: 4 } : {}) };
  for (const [field, n] of Object.entries(fields)) {
    const len = r[field].length / 2;
    spread(n, len).forEach((at, k) => { const bit = (k * 3 + 1) % 8; put(`${field} byte ${at} bit ${bit}`, (c) => { c[field] = flipHex(c[field], at, bit); }); });
  }
  // Header fields by name: version, height, log_size, state_root (chain_id's length decides where they sit).
  const hb = fromHex(r.header);
  const idLen = new DataView(hb.buffer).getUint32(1);
  const hOff = { version: 0, 'height (low byte)': 1 + 4 + idLen + 7, 'log_size (low byte)': 1 + 4 + idLen + 8 + 32 + 8 + 4 + 32 + 7, 'state_root (first byte)': hb.length - 32 };
  for (const [name, at] of Object.entries(hOff)) put(`header ${name} bit 0`, (c) => { c.header = flipHex(c.header, at, 0); });
  // Each inclusion hash.
  r.inclusion_proof.forEach((h, i) => put(`inclusion_proof[${i}] byte ${i * 11 % 32} bit ${i % 8}`, (c) => { c.inclusion_proof[i] = flipHex(h, (i * 11) % 32, i % 8); }));
  // The checkpoint: its signature (key id and signature bytes), its root, its size.
  const [body, sigs] = r.checkpoint.split('\n\n');
  const m = sigs.match(/^(\u2014 \S+ )(\S+)\n$/);
  assert.ok(m, `one signature line: ${JSON.stringify(sigs)}`);
  const blob = Buffer.from(m[2], 'base64');
  for (const at of [1, 4, 5 + Math.floor((blob.length - 5) / 2), blob.length - 1]) {
    put(`checkpoint signature byte ${at} bit 2`, (c) => { c.checkpoint = `${body}\n\n${m[1]}${flipBase64(m[2], at, 2)}\n`; });
  }
  const [origin, size, root] = body.split('\n');
  put('checkpoint root bit 5 of byte 9', (c) => { c.checkpoint = `${origin}\n${size}\n${flipBase64(root, 9, 5)}\n\n${sigs}`; });
  put('checkpoint size + 1', (c) => { c.checkpoint = `${origin}\n${Number(size) + 1}\n${root}\n\n${sigs}`; });
  // The numbers beside the proof.
  for (const k of ['tree_size', 'leaf_index', 'height']) {
    put(`${k} + 1`, (c) => { c[k] += 1; });
    put(`${k} - 1`, (c) => { c[k] -= 1; });
  }
  // The readable view.
  put('view digest bit 0 of byte 0', (c) => { c.view.digest = flipHex(c.view.digest, 0, 0); });
  put('view digest_alg of the other suite', (c) => { c.view.digest_alg = c.view.digest_alg === 'sm3' ? 'sha-256' : 'sm3'; });
  if (r.view.deposited) {
    for (const k of ['deposits', 'first_height', 'first_time_ms', 'last_height']) put(`view ${k} + 1`, (c) => { c.view[k] += 1; });
    put('view first_record index + 1', (c) => { c.view.first_record = c.view.first_record.replace(/-(\d+)$/, (_, i) => `-${Number(i) + 1}`); });
    put('view says not deposited', (c) => { c.view = { digest_alg: c.view.digest_alg, digest: c.view.digest, deposited: false }; });
  } else {
    put('view says deposited', (c) => { c.view.deposited = true; });
    put('view with deposits 0', (c) => { c.view.deposits = 0; });
  }
  // Trust files of other chains: the other node's (other suite), and a chain of this suite.
  const otherSuite = SUITE_NAMES.find((s) => s !== suite);
  put(`trust file of the ${otherSuite} node`, () => {}, chains[otherSuite].trust);
  put(`trust file of another ${suite} chain (testdata fixture)`, () => {}, path.join(ROOT, 'testdata/fixtures/state-proofs', suite, 'trust.json'));
  put('trust file with this chain\'s id, origin and names but another chain\'s keys', () => {}, chains[suite].impostor);
  return out;
}

/**
 * A trust file claiming this chain (its chain id, origin and validator names) with another
 * chain's keys: `keysFrom`'s public keys, the vkeys recomputed for the new names (docs/encoding.md,
 * "Checkpoints"), so the file itself is well-formed and only the keys are wrong.
 */
function impostorTrust(own, keysFrom) {
  const mine = JSON.parse(fs.readFileSync(own, 'utf8'));
  const theirs = JSON.parse(fs.readFileSync(keysFrom, 'utf8'));
  assert.equal(mine.suite, theirs.suite);
  const type = mine.suite === 'sm2-sm3' ? concat(new Uint8Array([0xff]), new TextEncoder().encode('cairn.dev/sm2-sm3-note-v1')) : new Uint8Array([1]);
  const validators = theirs.validators.map((v, i) => {
    const name = mine.validators[i % mine.validators.length].name;
    const key = fromHex(v.public_key);
    const id = sha256(concat(new TextEncoder().encode(name), new Uint8Array([0x0a]), type, key)).subarray(0, 4);
    const { public_key_pem, ...rest } = v;
    return { ...rest, name, vkey: `${name}+${toHex(id)}+${toBase64(concat(type, key))}`, ...(public_key_pem ? { public_key_pem } : {}) };
  });
  return { ...theirs, chain_id: mine.chain_id, origin: mine.origin, ...(mine.genesis_hash ? { genesis_hash: mine.genesis_hash } : {}), validators };
}

before(async () => {
  for (const suite of SUITE_NAMES) {
    const node = await startNode(suite);
    const file = path.join(node.dir, 'contract.txt');
    fs.writeFileSync(file, CONTENT);
    const absentFile = path.join(node.dir, 'never.txt');
    fs.writeFileSync(absentFile, NEVER);
    const key = path.join(node.data, 'keys/submitter.key');
    for (let i = 0; i < 2; i++) {
      const r = runCairn(['evidence', 'submit', '--node', node.url, '--key', key, '--wait', file]);
      assert.equal(r.status, 0, r.stderr);
    }
    const digest = toHex(SUITES[suite].hash(new TextEncoder().encode(CONTENT)));
    const never = toHex(SUITES[suite].hash(new TextEncoder().encode(NEVER)));
    const proofs = {
      present: await getText(`${node.url}/v1/evidence/state?digest=${digest}`),
      'present-at-1': await getText(`${node.url}/v1/evidence/state?digest=${digest}&height=1`),
      absent: await getText(`${node.url}/v1/evidence/state?digest=${never}`),
    };
    // The same receipt by the other two ways: `cairn evidence prove` and the generic endpoint.
    const proved = path.join(node.dir, 'proved.json');
    const p = runCairn(['evidence', 'prove', '--node', node.url, '--file', file, '--out', proved]);
    assert.equal(p.status, 0, p.stderr);
    const present = JSON.parse(proofs.present);
    const generic = await getText(`${node.url}/v1/state/proof?module=evidence&key=${present.key}`);
    const trust = path.join(node.data, 'trust.json');
    const impostor = path.join(node.dir, 'impostor-trust.json');
    fs.writeFileSync(impostor, JSON.stringify(impostorTrust(trust, path.join(ROOT, 'testdata/fixtures/state-proofs', suite, 'trust.json')), null, 2));
    chains[suite] = { node, impostor, dir: node.dir, trust, file, absentFile, digest, never, proofs, proved: fs.readFileSync(proved, 'utf8'), generic };
  }
});

after(() => {
  stopNodes(nodes);
});

for (const suite of SUITE_NAMES) {
  test(`${suite}: state-proof.js and cairn verify --state-proof agree on real state receipts and at least 24 tampered copies of each`, async (t) => {
    const c = chains[suite];
    const alg = SUITES[suite].digestAlg;
    // What the node served is what was deposited.
    const views = Object.fromEntries(Object.entries(c.proofs).map(([k, t]) => [k, JSON.parse(t)]));
    assert.deepEqual(JSON.parse(c.proved), views.present, 'cairn evidence prove gives the receipt /v1/evidence/state serves');
    assert.deepEqual(JSON.parse(c.generic), views.present, '/v1/state/proof gives the receipt /v1/evidence/state serves');
    assert.equal(views.present.view.digest, c.digest);
    assert.equal(views.present.view.digest_alg, alg);
    assert.equal(views.present.view.deposits, 2);
    assert.equal(views.present.view.first_height, 1);
    assert.equal(views.present.view.last_height, 2);
    assert.equal(views.present.height, 2);
    assert.equal(views['present-at-1'].height, 1);
    assert.equal(views['present-at-1'].view.deposits, 1);
    assert.equal(views['present-at-1'].view.first_record, views.present.view.first_record);
    assert.deepEqual(views.absent.view, { digest_alg: alg, digest: c.never, deposited: false });
    assert.equal(views.absent.value, null);

    const dir = fs.mkdtempSync(path.join(c.dir, 'tampered-'));
    const results = [];
    const check = async (label, text, trust, expectValid, file = null) => {
      const p = path.join(dir, `${results.length}.json`);
      fs.writeFileSync(p, text);
      const js = await jsVerify(text, trust, file);
      const cli = cliVerify(p, trust, file);
      results.push({ label, expectValid, js, cli, file: p });
    };
    for (const [name, text] of Object.entries(c.proofs)) {
      await check(`${name}`, text, c.trust, true);
      const r = JSON.parse(text);
      const variants = tamperings(r, suite);
      assert.ok(variants.length >= 24, `${name}: only ${variants.length} tampered copies`);
      for (const [label, obj, trust] of variants) await check(`${name}: ${label}`, JSON.stringify(obj, null, 2), trust ?? c.trust, false);
    }
    // With the original file beside the proof of its content.
    await check('present, with the deposited file', c.proofs.present, c.trust, true, c.file);
    await check('absent, with the never-deposited file', c.proofs.absent, c.trust, true, c.absentFile);

    const disagree = results.filter((x) => x.js.valid !== x.cli.valid);
    const wrong = results.filter((x) => x.js.valid !== x.expectValid || x.cli.valid !== x.expectValid);
    const show = (x) => `  ${x.label} (${x.file}): state-proof.js ${x.js.message} | cairn verify ${x.cli.message}`;
    // CAIRN_STATE_AGREE_LOG=file: every case and both verdicts, to read.
    if (process.env.CAIRN_STATE_AGREE_LOG) fs.appendFileSync(process.env.CAIRN_STATE_AGREE_LOG, results.map((x) => `${suite} ${show(x)}\n`).join(''));
    assert.equal(disagree.length, 0, `state-proof.js and cairn verify disagree on ${disagree.length} of ${results.length}:\n${disagree.map(show).join('\n')}`);
    assert.equal(wrong.length, 0, `unexpected verdicts on ${wrong.length} of ${results.length}:\n${wrong.map(show).join('\n')}`);
    assert.ok(results.filter((x) => !x.expectValid).length >= 3 * 24);
    t.diagnostic(`${results.length} cases (${results.filter((x) => x.expectValid).length} VALID, ${results.filter((x) => !x.expectValid).length} tampered INVALID), both verifiers agree on all`);
    removeDir(dir);
  });

  // With the original file, both check that it is the content the proof is about.
  test(`${suite}: a state proof checked with a file of other content is INVALID for both`, async () => {
    const c = chains[suite];
    const p = path.join(c.dir, 'present.state-proof.json');
    fs.writeFileSync(p, c.proofs.present);
    for (const [label, proof, file] of [['present proof, never-deposited file', p, c.absentFile]]) {
      const js = await jsVerify(fs.readFileSync(proof, 'utf8'), c.trust, file);
      const cli = cliVerify(proof, c.trust, file);
      assert.equal(js.valid, false, `${label}: state-proof.js ${js.message}`);
      assert.equal(cli.valid, js.valid, `${label}: state-proof.js ${js.message} | cairn verify ${cli.message}`);
    }
  });
}

/** `cairn verify --receipt` (a leaf receipt): {valid, message} (the first line it prints). */
function cliVerifyReceipt(receiptPath, trustPath) {
  const r = runCairn(['verify', '--receipt', receiptPath, '--trust', trustPath]);
  assert.ok(r.status === 0 || r.status === 1, `cairn verify did not run (status ${r.status}): ${r.stderr}`);
  return { valid: r.status === 0, message: r.stdout.split('\n')[0] || r.stderr.trim() };
}

/** The leaf receipt of the block leaf a state receipt carries: module cairn, kind 1, the header as payload. */
function blockLeafReceipt(p) {
  return {
    format: 'cairn-leaf-receipt-v1', chain_id: p.chain_id, module: 'cairn', kind: 1, leaf_index: p.leaf_index,
    leaf: toHex(blockLeaf(fromHex(p.header))), tree_size: p.tree_size, inclusion_proof: p.inclusion_proof, checkpoint: p.checkpoint,
  };
}

/** Tampered copies of a leaf receipt: [label, receipt object, trust path or null]. Each must be INVALID. */
function leafTamperings(r, suite) {
  const out = [];
  const put = (label, f, trust = null) => { const c = structuredClone(r); f(c); out.push([label, c, trust]); };
  const len = r.leaf.length / 2;
  spread(8, len).forEach((at, k) => { const bit = (k * 3 + 1) % 8; put(`leaf byte ${at} bit ${bit}`, (c) => { c.leaf = flipHex(c.leaf, at, bit); }); });
  put('leaf version 1', (c) => { c.leaf = `01${c.leaf.slice(2)}`; });
  put('leaf with its module name over 64 bytes long', (c) => { c.leaf = `0200000041${c.leaf.slice(10)}`; });
  put('leaf with an empty module name', (c) => { c.leaf = `0200000000${c.leaf.slice(20)}`; });
  put('leaf empty', (c) => { c.leaf = ''; });
  put('leaf in uppercase hex', (c) => { c.leaf = c.leaf.toUpperCase(); });
  put('kind 2', (c) => { c.kind = 2; });
  put('kind 256', (c) => { c.kind = 256; });
  put('module evidence', (c) => { c.module = 'evidence'; });
  put('format cairn-receipt-v1', (c) => { c.format = 'cairn-receipt-v1'; });
  put('another chain id', (c) => { c.chain_id = `${c.chain_id}x`; });
  put('an unknown field', (c) => { c.record = null; });
  put('no kind field', (c) => { delete c.kind; });
  for (const k of ['tree_size', 'leaf_index']) {
    put(`${k} + 1`, (c) => { c[k] += 1; });
    put(`${k} - 1`, (c) => { c[k] -= 1; });
  }
  r.inclusion_proof.forEach((h, i) => put(`inclusion_proof[${i}] byte ${(i * 7) % 32} bit ${i % 8}`, (c) => { c.inclusion_proof[i] = flipHex(h, (i * 7) % 32, i % 8); }));
  const [body, sigs] = r.checkpoint.split('\n\n');
  const [origin, size, root] = body.split('\n');
  put('checkpoint root bit 5 of byte 9', (c) => { c.checkpoint = `${origin}\n${size}\n${flipBase64(root, 9, 5)}\n\n${sigs}`; });
  put('checkpoint size + 1', (c) => { c.checkpoint = `${origin}\n${Number(size) + 1}\n${root}\n\n${sigs}`; });
  const m = sigs.match(/^(\u2014 \S+ )(\S+)\n$/);
  assert.ok(m, `one signature line: ${JSON.stringify(sigs)}`);
  put('checkpoint signature last byte bit 2', (c) => { c.checkpoint = `${body}\n\n${m[1]}${flipBase64(m[2], Buffer.from(m[2], 'base64').length - 1, 2)}\n`; });
  const otherSuite = SUITE_NAMES.find((s) => s !== suite);
  put(`trust file of the ${otherSuite} node`, () => {}, chains[otherSuite].trust);
  put('trust file with this chain\'s id, origin and names but another chain\'s keys', () => {}, chains[suite].impostor);
  return out;
}

for (const suite of SUITE_NAMES) {
  test(`${suite}: verifyLeafReceipt and cairn verify --receipt agree on a block leaf's leaf receipt and its tampered copies`, async (t) => {
    const c = chains[suite];
    const dir = fs.mkdtempSync(path.join(c.dir, 'leaf-'));
    const results = [];
    const check = async (label, obj, trust, expectValid) => {
      const text = JSON.stringify(obj, null, 2);
      const p = path.join(dir, `${results.length}.json`);
      fs.writeFileSync(p, text);
      const r = await verifyLeafReceipt(text, fs.readFileSync(trust, 'utf8'));
      const js = { valid: r.valid, message: r.valid ? `VALID (module ${r.module}, kind ${r.kind})` : `INVALID at ${r.step}: ${r.reason}` };
      results.push({ label, expectValid, js, cli: cliVerifyReceipt(p, trust), file: p });
    };
    for (const name of ['present', 'present-at-1']) {
      const lr = blockLeafReceipt(JSON.parse(c.proofs[name]));
      await check(name, lr, c.trust, true);
      const variants = leafTamperings(lr, suite);
      assert.ok(variants.length >= 24, `${name}: only ${variants.length} tampered copies`);
      for (const [label, obj, trust] of variants) await check(`${name}: ${label}`, obj, trust ?? c.trust, false);
    }
    const disagree = results.filter((x) => x.js.valid !== x.cli.valid);
    const wrong = results.filter((x) => x.js.valid !== x.expectValid || x.cli.valid !== x.expectValid);
    const show = (x) => `  ${x.label} (${x.file}): verify.js ${x.js.message} | cairn verify ${x.cli.message}`;
    if (process.env.CAIRN_STATE_AGREE_LOG) fs.appendFileSync(process.env.CAIRN_STATE_AGREE_LOG, results.map((x) => `${suite} leaf ${show(x)}\n`).join(''));
    assert.equal(disagree.length, 0, `verify.js and cairn verify disagree on ${disagree.length} of ${results.length}:\n${disagree.map(show).join('\n')}`);
    assert.equal(wrong.length, 0, `unexpected verdicts on ${wrong.length} of ${results.length}:\n${wrong.map(show).join('\n')}`);
    t.diagnostic(`${results.length} leaf receipt cases (${results.filter((x) => x.expectValid).length} VALID), both verifiers agree on all`);
    removeDir(dir);
  });
}
