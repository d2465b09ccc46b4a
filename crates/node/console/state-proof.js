// Offline verification of state receipts (cairn-state-proof-v1) in the browser: "at block H,
// this module's key had this value" or "had no value", checked from the validators' keys alone.
// Written from docs/encoding.md ("Block", "Authenticated state", "State receipts"); the receipt
// plumbing (trust file, signed note, quorum, RFC 9162) is verify.js's; a module's values are
// read by its own console files (evidence: /console/modules/evidence/wire.js).

import { SUITES, fromHex, toHex, concat, Reader } from './encoding.js';
import { Invalid, isUint, parseTrust, checkSignedCheckpoint, verifyInclusion, sameJson, fileDigest, strictJson } from './verify.js';

const enc = new TextEncoder();
const FORMAT = 'cairn-state-proof-v1';
const KEYS = ['format', 'chain_id', 'module', 'key', 'value', 'view', 'height', 'header', 'proof', 'leaf_index', 'tree_size', 'inclusion_proof', 'checkpoint'];
export const MAX_DEPTH = 256;
// What the framework lets a module write (crates/state): longer never verifies as a real key.
const MAX_MODULE = 64, MAX_KEY = 1024;
export const EMPTY = new Uint8Array(32);
const PROOF_KINDS = { 0: 'present', 1: 'empty', 2: 'other' };


/** Decodes a block header (v2 only: v1 headers carry no state root). */
export function decodeHeader(bytes) {
  const rd = new Reader(bytes);
  const version = rd.u8('header version');
  if (version !== 2) throw new Error(`header version ${version} is not 2 (only version 2 headers carry a state root)`);
  const h = {
    version, chain_id: rd.str('chain_id', 128), height: rd.u64Exact('height'), parent: rd.hex32('parent'), time_ms: rd.u64Exact('time_ms'),
    tx_count: rd.u32('tx_count'), tx_root: rd.hex32('tx_root'), log_size: rd.u64Exact('log_size'), log_root: rd.hex32('log_root'),
    state_root: rd.fixed(32, 'state_root'),
  };
  rd.finish();
  return h;
}

/** The block leaf that carries a header into the log: `0x02 | str "cairn" | 0x01 | header`. */
export function blockLeaf(header) {
  const module = enc.encode('cairn');
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, module.length);
  return concat(new Uint8Array([2]), len, module, new Uint8Array([1]), header);
}

/** `str module | bytes key`: the namespaced key the tree stores a module's key under. */
export function stateKey(module, key) {
  const m = enc.encode(module);
  const out = new Uint8Array(8 + m.length + key.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, m.length);
  out.set(m, 4);
  dv.setUint32(4 + m.length, key.length);
  out.set(key, 8 + m.length);
  return out;
}

export const leafNode = (hash, keyHash, valueHash) => hash(concat(new Uint8Array([0]), keyHash, valueHash));
const innerNode = (hash, l, r) => hash(concat(new Uint8Array([1]), l, r));
/** Bit i of a key hash, most significant first (0: left). */
const bit = (h, i) => (h[i >> 3] >> (7 - (i & 7))) & 1;
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Decodes state proof bytes; exact length for its kind and depth, nothing left over. */
export function decodeProof(bytes) {
  if (bytes.length < 4) throw new Error('state proof is shorter than its header');
  if (bytes[0] !== 1) throw new Error(`state proof version ${bytes[0]} is not 1`);
  const kind = PROOF_KINDS[bytes[1]];
  if (!kind) throw new Error(`unknown state proof kind ${bytes[1]}`);
  const depth = (bytes[2] << 8) | bytes[3];
  if (depth > MAX_DEPTH) throw new Error(`state proof depth ${depth} is over ${MAX_DEPTH}`);
  const want = 4 + 32 * depth + (kind === 'other' ? 64 : 0);
  if (bytes.length !== want) throw new Error(`state proof is ${bytes.length} bytes, its kind and depth make ${want}`);
  const at = (o) => bytes.subarray(o, o + 32);
  const siblings = Array.from({ length: depth }, (_, i) => at(4 + 32 * i));
  const end = 4 + 32 * depth;
  return { kind, siblings, other: kind === 'other' ? { keyHash: at(end), valueHash: at(end + 32) } : null };
}

/**
 * Checks that the tree with `root` holds `value` (a Uint8Array, or null: absent) for the
 * module's key; `proofBytes` as "State proof bytes" specifies. Throws with the reason.
 */
export function verifyStateProofBytes(hash, root, module, key, value, proofBytes) {
  const p = decodeProof(proofBytes);
  const keyHash = hash(stateKey(module, key));
  const depth = p.siblings.length;
  let node;
  if (p.kind === 'present') {
    if (value === null) throw new Error('the proof says the key is present, but the value is null');
    node = leafNode(hash, keyHash, hash(value));
  } else {
    if (value !== null) throw new Error('the proof says the key is absent, but a value is given');
    if (p.kind === 'empty') node = EMPTY;
    else {
      const o = p.other.keyHash;
      let onPath = !same(o, keyHash);
      for (let i = 0; i < depth && onPath; i++) onPath = bit(o, i) === bit(keyHash, i);
      if (!onPath) throw new Error("the other leaf in the absence proof is not on the key's path");
      node = leafNode(hash, o, p.other.valueHash);
    }
  }
  for (let i = depth - 1; i >= 0; i--) node = bit(keyHash, i) ? innerNode(hash, p.siblings[i], node) : innerNode(hash, node, p.siblings[i]);
  if (!same(node, root)) throw new Error("the state proof does not lead to the block's state root");
  return p.kind;
}

/**
 * The root of the canonical tree over [{stateKey, value}] (bytes; stateKey as stateKey()
 * makes it): an empty subtree is 32 zero bytes, a lone key its leaf node wherever it sits, two
 * or more keys an inner node. For tests and vectors; the console never builds trees.
 */
export function stateRoot(hash, entries) {
  const leaves = entries.map((e) => ({ k: hash(e.stateKey), v: hash(e.value) }));
  const build = (list, depth) => {
    if (list.length === 0) return EMPTY;
    if (list.length === 1) return leafNode(hash, list[0].k, list[0].v);
    if (depth >= MAX_DEPTH) throw new Error('two keys with the same hash');
    return innerNode(hash, build(list.filter((l) => !bit(l.k, depth)), depth + 1), build(list.filter((l) => bit(l.k, depth)), depth + 1));
  };
  return build(leaves, 0);
}

/** Parses the JSON strictly: known keys only, all present, types and lowercase hex as specified. */
function parseReceipt(input) {
  const r = typeof input === 'string' ? strictJson(input) : input;
  if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new Error('not an object');
  const unknown = Object.keys(r).find((k) => !KEYS.includes(k));
  if (unknown) throw new Error(`unknown field \`${unknown}\``);
  const missing = KEYS.find((k) => !(k in r));
  if (missing) throw new Error(`missing field \`${missing}\``);
  for (const k of ['format', 'chain_id', 'module', 'key', 'header', 'proof', 'checkpoint']) if (typeof r[k] !== 'string') throw new Error(`\`${k}\` is not a string`);
  for (const k of ['height', 'leaf_index', 'tree_size']) if (!isUint(r[k])) throw new Error(`\`${k}\` is not an unsigned integer`);
  if (r.format !== FORMAT) throw new Error(`format ${JSON.stringify(r.format)} is not ${FORMAT}`);
  if (!r.module || enc.encode(r.module).length > MAX_MODULE) throw new Error(`module name must be 1–${MAX_MODULE} bytes`);
  // A lone surrogate would be hashed as U+FFFD: refuse it, as a strict JSON reader does.
  if (/\p{Cs}/u.test(r.module)) throw new Error('module name is not valid Unicode');
  if (r.value !== null && typeof r.value !== 'string') throw new Error('`value` is neither hex nor null');
  if (!Array.isArray(r.inclusion_proof)) throw new Error('`inclusion_proof` is not a list');
  const hexOf = (k, s) => { try { return fromHex(s); } catch (e) { throw new Error(`\`${k}\` is ${e.message}`); } };
  const key = hexOf('key', r.key);
  if (key.length > MAX_KEY) throw new Error(`key is over ${MAX_KEY} bytes`);
  const proof = r.inclusion_proof.map((h) => { const b = hexOf('inclusion_proof', h); if (b.length !== 32) throw new Error('inclusion_proof: expected 32-byte hashes'); return b; });
  return { r, key, value: r.value === null ? null : hexOf('value', r.value), header: hexOf('header', r.header), proof: hexOf('proof', r.proof), inclusion: proof };
}

/**
 * Verifies a state receipt (JSON text or object) against a trust file (parsed or not).
 * `views` holds, by module name, the modules whose values this verifier can read, as their
 * console files export them (`stateView`): {view(key, value) → the readable view, or throws;
 * detail(view) → a short text; content(view) → {digest_alg, digest} when the key names a file's
 * content}; other modules' views are shown unchecked. A file (bytes or a source as verify.js's
 * fileDigest takes) is checked against the content a view names. Returns {valid, step, reason, steps, module,
 * key, value, view, height, time_ms, signers}; `steps` are header, checkpoint, signatures,
 * inclusion, state, view and file, each {ok: true|false|null, detail}. Never throws.
 */
export async function verifyStateProof(input, trustInput, file = null, views = {}) {
  const names = ['header', 'checkpoint', 'signatures', 'inclusion', 'state', 'view', 'file'];
  const steps = Object.fromEntries(names.map((n) => [n, { ok: null, detail: '' }]));
  const out = { valid: false, step: null, reason: '', steps, module: null, key: null, value: null, view: null, height: null, time_ms: null, signers: [] };
  let current = 'header';
  try {
    const trust = typeof trustInput === 'object' && trustInput?.verifiers ? trustInput : parseTrust(trustInput);
    const hash = SUITES[trust.suite].hash;

    // 1. The receipt and its block header.
    let p;
    try { p = parseReceipt(input); } catch (e) { throw new Invalid('header', `state proof is malformed: ${e.message}`); }
    const { r } = p;
    if (r.chain_id !== trust.chainId) throw new Invalid('header', `state proof is for chain ${JSON.stringify(r.chain_id)}, the trust file is for ${JSON.stringify(trust.chainId)}`);
    let h;
    try { h = decodeHeader(p.header); } catch (e) { throw new Invalid('header', `the header does not decode: ${e.message}`); }
    if (h.chain_id !== trust.chainId) throw new Invalid('header', `the header is for chain ${JSON.stringify(h.chain_id)}, the trust file is for ${JSON.stringify(trust.chainId)}`);
    if (h.height !== r.height) throw new Invalid('header', `the proof says height ${r.height}, its header says ${h.height}`);
    // The block leaf sits right after the block's transaction leaves, at the header's log_size.
    if (r.leaf_index !== h.log_size) throw new Invalid('header', `leaf_index ${r.leaf_index} is not the header's log_size ${h.log_size}`);
    steps.header = { ok: true, detail: `block ${h.height} · ${new Date(h.time_ms).toISOString()}` };
    Object.assign(out, { height: h.height, time_ms: h.time_ms });

    // 2. The checkpoint and its signatures.
    const { cp, signers } = await checkSignedCheckpoint(r.checkpoint, trust, steps);
    out.signers = signers;

    // 3. The header is in the signed log, as its block leaf.
    current = 'inclusion';
    if (r.tree_size !== cp.size) throw new Invalid('inclusion', `state proof says tree size ${r.tree_size}, its checkpoint says ${cp.size}`);
    try {
      verifyInclusion(hash, r.leaf_index, cp.size, hash(concat(new Uint8Array([0]), blockLeaf(p.header))), p.inclusion, cp.root);
    } catch (e) { throw new Invalid('inclusion', `the block leaf's inclusion proof does not lead to the signed root: ${e.message}`); }
    steps.inclusion = { ok: true, detail: `block leaf ${r.leaf_index} of ${cp.size}` };

    // 4. The key's value (or its absence) under the header's state root.
    current = 'state';
    let kind;
    try { kind = verifyStateProofBytes(hash, h.state_root, r.module, p.key, p.value, p.proof); } catch (e) { throw new Invalid('state', `state proof: ${e.message}`); }
    steps.state = { ok: true, detail: `${r.module} · ${p.value === null ? `absent (${kind === 'empty' ? 'empty subtree' : 'another key\'s leaf'})` : 'present'} · depth ${(p.proof[2] << 8) | p.proof[3]}` };
    Object.assign(out, { module: r.module, key: r.key, value: r.value, view: r.view });

    // 5. The readable view must say what the value bytes say, for modules we can read.
    current = 'view';
    const reader = views[r.module];
    if (reader) {
      let view;
      try { view = reader.view(p.key, p.value); } catch (e) { throw new Invalid('view', `the ${r.module} value does not decode: ${e.message}`); }
      if (!sameJson(view, r.view)) throw new Invalid('view', `the proof's view does not match its ${r.module} value`);
      out.view = view;
      steps.view = { ok: true, detail: reader.detail ? reader.detail(view) : r.module };
    } else {
      steps.view = { ok: null, detail: `module ${r.module}: its view is not checked` };
    }

    // 6. The file, for a module whose key names content by its digest (evidence).
    current = 'file';
    if (file) {
      const named = reader?.content?.(out.view);
      if (!named) throw new Invalid('file', `a file can only be checked against a state proof about a content digest (evidence), not ${r.module}`);
      const { got } = await fileDigest(file, named.digest_alg);
      if (got !== named.digest) throw new Invalid('file', `the file's ${named.digest_alg} digest ${got} is not the proof's ${named.digest}`);
      steps.file = { ok: true, detail: `${named.digest_alg} ${got}` };
    }
    out.valid = true;
  } catch (e) {
    out.step = e instanceof Invalid ? e.step : current;
    steps[out.step] = { ok: false, detail: e.message };
    out.reason = e.message;
  }
  return out;
}
