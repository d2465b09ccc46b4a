// Offline receipt verification in the browser, independent of the node: the same checks as
// `cairn verify` (crates/types/src/receipt.rs), written again from the format documents. What
// every receipt checks (trust file, signed checkpoint and its quorum, RFC 9162 inclusion, a
// file's digest), and, by verifyLeafReceipt, a module's leaf receipt (cairn-leaf-receipt-v1: any
// module's version 2 envelope leaf in the signed log). A module's own receipt formats are
// verified by its console files, on these parts (evidence: /console/modules/evidence/receipt.js).

import { sha256, sm2Verify } from './sm.js';
import { SUITES, DIGEST_ALGS, fromHex, fromBase64, toBase64, toHex, concat, Reader } from './encoding.js';

const enc = new TextEncoder();
const SM2_TYPE = concat(new Uint8Array([0xff]), enc.encode('cairn.dev/sm2-sm3-note-v1'));

/** A failed check, naming the step it failed at. */
export class Invalid extends Error {
  constructor(step, message) { super(message); this.step = step; }
}

export const isUint = (v) => Number.isSafeInteger(v) && v >= 0;

function keyId(name, type, key) {
  return sha256(concat(enc.encode(name), new Uint8Array([0x0a]), type, key)).subarray(0, 4);
}

/** Parses and checks a trust file (JSON text or object). */
/** 2f+1 of n = 3f+1 validators (1 for a single node), as crates/types/src/genesis.rs computes it. */
export const safeQuorum = (n) => Math.min(2 * Math.floor(Math.max(n - 1, 0) / 3) + 1, Math.max(n, 1));

/**
 * Parses a trust file as `cairn verify` does: refused when it lists a validator's name or key
 * twice, or asks for fewer signatures than 2f+1 of its validators (unless `acceptQuorum` is at
 * most its quorum, as `cairn verify --accept-quorum K`).
 */
export function parseTrust(input, { acceptQuorum = null } = {}) {
  const t = typeof input === 'string' ? strictJson(input) : input;
  if (t.format !== 'cairn-trust-v1') throw new Error('not a Cairn trust file (format cairn-trust-v1)');
  if (!SUITES[t.suite]) throw new Error(`unknown suite ${t.suite}`);
  if (!Array.isArray(t.validators) || !isUint(t.quorum) || t.quorum < 1 || t.quorum > t.validators.length) throw new Error('quorum must be between 1 and the number of validators');
  const names = new Set(), keys = new Set();
  for (const v of t.validators) {
    if (names.has(v.name)) throw new Error(`trust file lists validator ${v.name} twice`);
    if (keys.has(String(v.public_key).toLowerCase())) throw new Error(`trust file lists the key of validator ${v.name} twice`);
    names.add(v.name);
    keys.add(String(v.public_key).toLowerCase());
  }
  const safe = safeQuorum(t.validators.length);
  if (t.quorum < safe && !(acceptQuorum !== null && t.quorum >= acceptQuorum)) {
    throw new Error(`trust file asks for ${t.quorum} of ${t.validators.length} signatures, fewer than the ${safe} (2f+1) that make a checkpoint final`);
  }
  const verifiers = t.validators.map((v) => {
    const key = fromHex(v.public_key);
    const type = t.suite === 'ed25519-sha256' ? new Uint8Array([1]) : SM2_TYPE;
    if (key.length !== SUITES[t.suite].keyLen) throw new Error(`validator ${v.name}: bad key length`);
    const id = keyId(v.name, type, key);
    const vkey = `${v.name}+${toHex(id)}+${toBase64(concat(type, key))}`;
    if (vkey !== v.vkey) throw new Error(`validator ${v.name}: vkey does not match public key`);
    return { name: v.name, organisation: v.organisation, key, keyId: toHex(id) };
  });
  return { chainId: t.chain_id, origin: t.origin, suite: t.suite, quorum: t.quorum, verifiers };
}

/**
 * JSON.parse under the rule every Cairn verifier applies (crates/types/src/strict_json.rs): no
 * object with a member named twice and no number with a fraction or exponent, so that this
 * verifier and `cairn verify` read a file alike. Throws with the reason.
 */
export function strictJson(text) {
  let i = 0;
  const fail = (why) => { throw new Error(`${why} at offset ${i}`); };
  const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i])) i++; };
  const string = () => {
    const start = i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) fail('unterminated string');
    i++;
    return JSON.parse(text.slice(start, i));
  };
  const value = (depth) => {
    if (depth > 64) fail('nested deeper than 64');
    ws();
    const c = text[i];
    if (c === '{') {
      i++; ws();
      const seen = new Set();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a member name');
        const k = string();
        if (seen.has(k)) fail(`member ${JSON.stringify(k)} appears twice in one object`);
        seen.add(k);
        ws();
        if (text[i++] !== ':') fail('expected :');
        value(depth + 1);
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return; }
        fail('expected , or }');
      }
    }
    if (c === '[') {
      i++; ws();
      if (text[i] === ']') { i++; return; }
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return; }
        fail('expected , or ]');
      }
    }
    if (c === '"') return string();
    const m = /^-?(0|[1-9][0-9]*)([.eE][-+0-9.eE]*)?/.exec(text.slice(i, i + 400));
    if (m) {
      if (m[2]) fail(`the number ${m[0]} is not an integer written as one (no fraction, no exponent)`);
      i += m[0].length;
      return;
    }
    for (const lit of ['true', 'false', 'null']) if (text.startsWith(lit, i)) { i += lit.length; return; }
    fail('not JSON');
  };
  value(0);
  ws();
  if (i !== text.length) fail('trailing characters after the JSON');
  return JSON.parse(text);
}

/** Splits a signed note into its body and signature lines (c2sp.org/signed-note). */
export function parseNote(text) {
  if (text.length > 65536) throw new Error('note too large');
  if (/[\u0000-\u0009\u000b-\u001f]/.test(text)) throw new Error('control character');
  if (!text.endsWith('\n')) throw new Error('does not end in newline');
  const split = text.lastIndexOf('\n\n');
  if (split < 0) throw new Error('no blank line before signatures');
  const body = text.slice(0, split + 1);
  const sigLines = text.slice(split + 2).split('\n').slice(0, -1);
  const sigs = sigLines.map((line) => {
    if (!line.startsWith('\u2014 ')) throw new Error('signature line must start with em dash');
    const rest = line.slice(2);
    const sp = rest.indexOf(' ');
    if (sp < 0) throw new Error('signature line lacks a signature');
    const name = rest.slice(0, sp);
    if (!name || /[\s+]/.test(name)) throw new Error('bad key name');
    const blob = fromBase64(rest.slice(sp + 1));
    if (blob.length < 5) throw new Error('signature too short');
    return { name, keyId: toHex(blob.subarray(0, 4)), sig: blob.subarray(4) };
  });
  if (!sigs.length) throw new Error('no signatures');
  if (sigs.length > 64) throw new Error('too many signatures');
  return { body, sigs };
}

/** The origin, tree size and root of a checkpoint note's body. */
export function parseCheckpoint(body) {
  const lines = body.slice(0, -1).split('\n');
  const [origin, size, root, ...ext] = lines;
  if (!origin) throw new Error('empty origin');
  if (size === undefined || !/^(0|[1-9][0-9]*)$/.test(size)) throw new Error('size is not a decimal without leading zeros');
  if (root === undefined) throw new Error('no root line');
  const r = fromBase64(root);
  if (r.length !== 32) throw new Error('root is not a base64 32-byte hash');
  if (ext.some((e) => e === '')) throw new Error('empty extension line');
  return { origin, size: Number(size), root: r };
}

/** Parses a C2SP tlog-proof@v1 text: {index, extra (the leaf bytes, or null), proof, checkpoint}. */
export function parseTlogProof(text) {
  const header = 'c2sp.org/tlog-proof@v1\n';
  if (!text.startsWith(header)) throw new Error('missing c2sp.org/tlog-proof@v1 header');
  const rest = text.slice(header.length);
  const cut = rest.indexOf('\n\n');
  if (cut < 0) throw new Error('no blank line before the checkpoint');
  const lines = rest.slice(0, cut).split('\n');
  let extra = null;
  if (lines[0]?.startsWith('extra ')) extra = fromBase64(lines.shift().slice(6));
  const idx = lines.shift();
  if (!idx?.startsWith('index ') || !/^(0|[1-9][0-9]*)$/.test(idx.slice(6))) throw new Error('missing or malformed index line');
  const proof = lines.map((l) => { const h = fromBase64(l); if (h.length !== 32) throw new Error('proof line is not a 32-byte hash'); return h; });
  return { extra, index: Number(idx.slice(6)), proof, checkpoint: rest.slice(cut + 2) };
}

/** Deep equality of parsed JSON values (object key order ignored). */
export function sameJson(a, b) {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const ka = Object.keys(a).sort(), kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && sameJson(a[k], b[k]));
}

async function verifySig(suite, key, msg, sig) {
  if (suite === 'sm2-sm3') return sm2Verify(key, msg, sig);
  if (sig.length !== 64) return false;
  try {
    const k = await globalThis.crypto.subtle.importKey('raw', key, { name: 'Ed25519' }, false, ['verify']);
    return await globalThis.crypto.subtle.verify('Ed25519', k, sig, msg);
  } catch { return false; }
}

/** RFC 9162 inclusion check of `leafHash` at `index` in a tree of `size`; throws if it fails. */
export function verifyInclusion(hash, index, size, leafHash, proof, root) {
  if (index >= size) throw new Error(`leaf index ${index} is not below tree size ${size}`);
  const node = (l, r) => hash(concat(new Uint8Array([1]), l, r));
  let fn = BigInt(index), sn = BigInt(size - 1), r = leafHash;
  for (const p of proof) {
    if (sn === 0n) throw new Error('proof has the wrong number of hashes');
    if ((fn & 1n) === 1n || fn === sn) {
      r = node(p, r);
      if ((fn & 1n) === 0n) while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else {
      r = node(r, p);
    }
    fn >>= 1n; sn >>= 1n;
  }
  if (sn !== 0n) throw new Error('proof has the wrong number of hashes');
  if (toHex(r) !== toHex(root)) throw new Error('computed root does not match the expected root');
}

/**
 * Checks a parsed note's signatures against the trust file's keys; returns the signers (name,
 * organisation) or throws an Invalid at step "signatures" below the quorum or on a bad signature.
 */
export async function checkQuorum(trust, parsed) {
  const signed = new Set();
  const msg = enc.encode(parsed.body);
  for (const s of parsed.sigs) {
    for (const v of trust.verifiers) {
      if (v.name === s.name && v.keyId === s.keyId) {
        if (!(await verifySig(trust.suite, v.key, msg, s.sig))) throw new Invalid('signatures', `checkpoint signatures: signature by ${v.name} does not verify`);
        signed.add(v.name);
      }
    }
  }
  const need = Math.max(trust.quorum, 1);
  if (signed.size < need) throw new Invalid('signatures', `checkpoint signatures: note has ${signed.size} valid signatures from trusted keys, ${need} required`);
  return trust.verifiers.filter((v) => signed.has(v.name)).map((v) => ({ name: v.name, organisation: v.organisation }));
}

/**
 * A receipt's signed checkpoint: this chain's origin and a quorum of distinct trust-file
 * validators. Fills `steps.checkpoint` and `steps.signatures`; every failure names its step.
 */
export async function checkSignedCheckpoint(note, trust, steps) {
  let parsed, cp;
  try { parsed = parseNote(note); cp = parseCheckpoint(parsed.body); } catch (e) { throw new Invalid('checkpoint', `checkpoint: ${e.message}`); }
  if (cp.origin !== trust.origin) throw new Invalid('checkpoint', `checkpoint origin ${JSON.stringify(cp.origin)} is not this chain's ${JSON.stringify(trust.origin)}`);
  steps.checkpoint = { ok: true, detail: `${cp.origin} · size ${cp.size}` };
  let signers;
  try { signers = await checkQuorum(trust, parsed); } catch (e) { throw e instanceof Invalid ? e : new Invalid('signatures', e.message); }
  steps.signatures = { ok: true, detail: signers.map((s) => `${s.organisation} (${s.name})`).join(', ') };
  return { cp, signers };
}

/**
 * The original file's digest and length: from its bytes, or from a source object
 * {size, digest(alg) → Promise<hex>} that hashes in chunks (the console, with progress).
 */
export async function fileDigest(file, alg) {
  if (file instanceof Uint8Array) return { got: toHex(DIGEST_ALGS[alg].hash(file)), size: file.length };
  return { got: await file.digest(alg), size: file.size };
}

// ---------- leaf receipts (cairn-leaf-receipt-v1) ----------

export const LEAF_RECEIPT_FORMAT = 'cairn-leaf-receipt-v1';
const LEAF_RECEIPT_KEYS = ['format', 'chain_id', 'module', 'kind', 'leaf_index', 'leaf', 'tree_size', 'inclusion_proof', 'checkpoint'];
/** The longest module name a version 2 envelope carries (bytes of UTF-8). */
const MAX_LEAF_MODULE = 64;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Whether `text` is a JSON leaf receipt (by its format; it may still be malformed otherwise). */
export function isLeafReceipt(text) {
  try { return JSON.parse(text)?.format === LEAF_RECEIPT_FORMAT; } catch { return false; }
}

/**
 * The parts of a version 2 envelope, `0x02 | str module | u8 kind | payload` (docs/encoding.md,
 * "Log leaves"): {module, kind, payload}; throws with the reason.
 */
export function decodeEnvelope(leaf) {
  const rd = new Reader(leaf);
  const version = rd.u8('leaf version');
  if (version !== 2) throw new Error(`leaf version ${version} is not a module envelope (version 2)`);
  const module = rd.str('leaf module', MAX_LEAF_MODULE);
  if (!module) throw new Error('invalid leaf module: empty');
  const kind = rd.u8('leaf kind');
  return { module, kind, payload: leaf.subarray(rd.o) };
}

/** Parses a leaf receipt strictly: exactly its keys, their types, lowercase hex. */
function parseLeafReceipt(input) {
  const r = typeof input === 'string' ? strictJson(input) : input;
  if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new Error('not an object');
  const unknown = Object.keys(r).find((k) => !LEAF_RECEIPT_KEYS.includes(k));
  if (unknown) throw new Error(`unknown field \`${unknown}\``);
  const missing = LEAF_RECEIPT_KEYS.find((k) => !(k in r));
  if (missing) throw new Error(`missing field \`${missing}\``);
  for (const k of ['format', 'chain_id', 'module', 'leaf', 'checkpoint']) if (typeof r[k] !== 'string') throw new Error(`\`${k}\` is not a string`);
  for (const k of ['leaf_index', 'tree_size']) if (!isUint(r[k])) throw new Error(`\`${k}\` is not an unsigned integer`);
  if (!isUint(r.kind) || r.kind > 255) throw new Error('`kind` is not an integer from 0 to 255');
  // A lone surrogate is not a string a strict JSON reader accepts.
  if (/\p{Cs}/u.test(r.module)) throw new Error('`module` is not valid Unicode');
  if (!Array.isArray(r.inclusion_proof)) throw new Error('`inclusion_proof` is not a list');
  const hexOf = (k, s) => { try { return fromHex(s); } catch (e) { throw new Error(`\`${k}\` is ${e.message}`); } };
  const leaf = hexOf('leaf', r.leaf);
  const proof = r.inclusion_proof.map((h) => { const b = hexOf('inclusion_proof', h); if (b.length !== 32) throw new Error('inclusion_proof: expected 32-byte hashes'); return b; });
  return { r, leaf, proof };
}

/**
 * Verifies a module leaf receipt (cairn-leaf-receipt-v1: JSON text or object) against a trust
 * file (parsed or not), as `cairn verify` does (crates/types/src/receipt.rs,
 * verify_leaf_receipt): the leaf is a version 2 envelope of the receipt's module and kind, a
 * quorum signed the checkpoint, and the leaf is at leaf_index in its tree. The payload's meaning
 * is the module's and is not checked. A leaf has no original file: one given is INVALID at
 * step "file". Returns {valid, step, reason, steps, module, kind, payload (Uint8Array),
 * payload_text (the payload as a string when it is valid UTF-8, else null), payload_hex,
 * leaf_index, tree_size, signers}; `steps` are leaf, checkpoint, signatures, inclusion and
 * file, each {ok: true|false|null, detail}. Never throws.
 */
export async function verifyLeafReceipt(text, trustInput, file = null) {
  const names = ['leaf', 'checkpoint', 'signatures', 'inclusion', 'file'];
  const steps = Object.fromEntries(names.map((n) => [n, { ok: null, detail: '' }]));
  const out = { valid: false, step: null, reason: '', steps, module: null, kind: null, payload: null, payload_text: null, payload_hex: null, leaf_index: null, tree_size: null, signers: [] };
  let current = 'leaf';
  try {
    const trust = typeof trustInput === 'object' && trustInput?.verifiers ? trustInput : parseTrust(trustInput);
    const hash = SUITES[trust.suite].hash;

    // 1. The receipt: its format and chain.
    let p;
    try { p = parseLeafReceipt(text); } catch (e) { throw new Invalid('leaf', `receipt is malformed: ${e.message}`); }
    const { r, leaf, proof } = p;
    if (r.format !== LEAF_RECEIPT_FORMAT) throw new Invalid('leaf', `receipt is malformed: format ${JSON.stringify(r.format)} is not ${LEAF_RECEIPT_FORMAT}`);
    if (r.chain_id !== trust.chainId) throw new Invalid('leaf', `receipt is for chain ${JSON.stringify(r.chain_id)}, the trust file is for ${JSON.stringify(trust.chainId)}`);

    // 2. The leaf: a version 2 envelope naming the receipt's module and kind.
    let env;
    try { env = decodeEnvelope(leaf); } catch (e) { throw new Invalid('leaf', `the leaf bytes do not decode: ${e.message}`); }
    if (env.module !== r.module || env.kind !== r.kind) {
      throw new Invalid('leaf', `the receipt's module and kind (${JSON.stringify(r.module)}, ${r.kind}) do not match the logged leaf's (${JSON.stringify(env.module)}, ${env.kind})`);
    }
    let payloadText = null;
    try { payloadText = strictUtf8.decode(env.payload); } catch { /* not text: shown as hex */ }
    Object.assign(out, { module: env.module, kind: env.kind, payload: env.payload, payload_text: payloadText, payload_hex: toHex(env.payload) });
    steps.leaf = { ok: true, detail: `module ${env.module} · kind ${env.kind} · ${env.payload.length} bytes` };

    // 3. The checkpoint and its signatures; the receipt's tree size is the checkpoint's.
    const { cp, signers } = await checkSignedCheckpoint(r.checkpoint, trust, steps);
    out.signers = signers;
    if (r.tree_size !== cp.size) throw new Invalid('inclusion', `receipt says tree size ${r.tree_size}, its checkpoint says ${cp.size}`);

    // 4. The inclusion proof binds the leaf to the signed root.
    current = 'inclusion';
    try {
      verifyInclusion(hash, r.leaf_index, cp.size, hash(concat(new Uint8Array([0]), leaf)), proof, cp.root);
    } catch (e) { throw new Invalid('inclusion', `inclusion proof does not lead to the signed root: ${e.message}`); }
    steps.inclusion = { ok: true, detail: `leaf ${r.leaf_index} of ${cp.size}` };
    Object.assign(out, { leaf_index: r.leaf_index, tree_size: cp.size });

    // 5. A module's leaf is not a file's fingerprint.
    current = 'file';
    if (file) throw new Invalid('file', `a leaf receipt is checked alone: an original file goes with evidence receipts, not a leaf of module ${env.module}`);
    out.valid = true;
  } catch (e) {
    out.step = e instanceof Invalid ? e.step : current;
    steps[out.step] = { ok: false, detail: e.message };
    out.reason = e.message;
  }
  return out;
}
