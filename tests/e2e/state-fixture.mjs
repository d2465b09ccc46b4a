// Builds state receipts (cairn-state-proof-v1) around a state tree, the way a node would, so the
// console's state-proof verifier can be checked end to end without a node that serves them: a
// v2 block header holding the tree's root, its block leaf in a small RFC 9162 log, a checkpoint
// cosigned by a set of validators, and the trust file for them. Written from docs/encoding.md
// on its own (it does not use state-proof.js), so the two check each other.

import { SUITES, Writer, toHex, fromHex, toBase64, concat } from '../../crates/node/console/encoding.js';
import { sha256, sm2Sign, sm2PublicFromSecret } from '../../crates/node/console/sm.js';

const enc = new TextEncoder();
const u8 = (...b) => new Uint8Array(b);
const bitOf = (h, i) => (h[i >> 3] >> (7 - (i & 7))) & 1;

export const stateKeyOf = (module, key) => new Writer().str(module).bytes(key).finish();

// ---------- the sparse Merkle tree ----------

/** Root of the canonical subtree over `leaves` ({k: key hash, v: value hash}) at `depth`. */
function subtree(hash, leaves, depth) {
  if (leaves.length === 0) return new Uint8Array(32);
  if (leaves.length === 1) return hash(concat(u8(0), leaves[0].k, leaves[0].v));
  const l = leaves.filter((x) => !bitOf(x.k, depth)), r = leaves.filter((x) => bitOf(x.k, depth));
  return hash(concat(u8(1), subtree(hash, l, depth + 1), subtree(hash, r, depth + 1)));
}

/** A tree over [{stateKey, value}]: its root, and proof(stateKey) → proof bytes and value. */
export function stateTree(hash, pairs) {
  const leaves = pairs.map((p) => ({ k: hash(p.stateKey), v: hash(p.value), value: p.value }));
  return {
    root: subtree(hash, leaves, 0),
    prove(stateKey) {
      const k = hash(stateKey);
      const siblings = [];
      let here = leaves;
      for (let depth = 0; ; depth++) {
        const head = (kind, extra = []) => concat(u8(1, kind, siblings.length >> 8, siblings.length & 255), ...siblings, ...extra);
        if (here.length === 0) return { proof: head(1), value: null };
        if (here.length === 1) {
          const [only] = here;
          if (toHex(only.k) === toHex(k)) return { proof: head(0), value: only.value };
          return { proof: head(2, [only.k, only.v]), value: null };
        }
        const side = bitOf(k, depth);
        siblings.push(subtree(hash, here.filter((x) => bitOf(x.k, depth) !== side), depth + 1));
        here = here.filter((x) => bitOf(x.k, depth) === side);
      }
    },
  };
}

// ---------- the log ----------

const largestPow2Below = (n) => { let k = 1; while (k * 2 < n) k *= 2; return k; };
function mth(hash, leaves) {
  if (leaves.length === 1) return hash(concat(u8(0), leaves[0]));
  const k = largestPow2Below(leaves.length);
  return hash(concat(u8(1), mth(hash, leaves.slice(0, k)), mth(hash, leaves.slice(k))));
}
/** RFC 9162 inclusion path of leaf m, leaf's sibling first. */
function path(hash, m, leaves) {
  if (leaves.length === 1) return [];
  const k = largestPow2Below(leaves.length);
  return m < k ? [...path(hash, m, leaves.slice(0, k)), mth(hash, leaves.slice(k))] : [...path(hash, m - k, leaves.slice(k)), mth(hash, leaves.slice(0, k))];
}

// ---------- validators, checkpoint, trust file ----------

const SM2_TYPE = concat(u8(0xff), enc.encode('cairn.dev/sm2-sm3-note-v1'));

/** `n` validators of `suite` with deterministic names; Ed25519 keys are fresh, SM2 keys come from `seed`. */
export async function makeValidators(suite, chainId, n, seed = '') {
  const out = [];
  for (let i = 1; i <= n; i++) {
    const name = `cairn/${chainId}/validator-${i}`;
    if (suite === 'sm2-sm3') {
      const secret = sha256(enc.encode(`sm2 secret ${seed} ${chainId} ${i}`));
      out.push({ name, organisation: `org-${i}`, type: SM2_TYPE, pub: sm2PublicFromSecret(secret), sign: async (m) => sm2Sign(secret, m) });
    } else {
      const kp = await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
      const pub = new Uint8Array(await crypto.subtle.exportKey('raw', kp.publicKey));
      out.push({ name, organisation: `org-${i}`, type: u8(1), pub, sign: async (m) => new Uint8Array(await crypto.subtle.sign('Ed25519', kp.privateKey, m)) });
    }
  }
  for (const v of out) v.keyId = sha256(concat(enc.encode(v.name), u8(0x0a), v.type, v.pub)).subarray(0, 4);
  return out;
}

export function trustFile(suite, chainId, validators, quorum) {
  return {
    format: 'cairn-trust-v1', chain_id: chainId, origin: `cairn/${chainId}`, suite, quorum,
    validators: validators.map((v) => ({ name: v.name, organisation: v.organisation, public_key: toHex(v.pub), vkey: `${v.name}+${toHex(v.keyId)}+${toBase64(concat(v.type, v.pub))}` })),
  };
}

async function checkpoint(chainId, size, root, signers) {
  const body = `cairn/${chainId}\n${size}\n${toBase64(root)}\n`;
  const lines = [];
  for (const v of signers) lines.push(`\u2014 ${v.name} ${toBase64(concat(v.keyId, await v.sign(enc.encode(body))))}\n`);
  return `${body}\n${lines.join('')}`;
}

// ---------- headers and receipts ----------

export function headerV2({ chainId, height, timeMs, txCount, logSize, stateRoot, version = 2 }) {
  const w = new Writer().u8(version).str(chainId).u64(height).fixed(new Uint8Array(32).fill(0x11)).u64(timeMs)
    .u32(txCount).fixed(new Uint8Array(32).fill(0x22)).u64(logSize).fixed(new Uint8Array(32).fill(0x33));
  if (version === 2) w.fixed(stateRoot);
  return w.finish();
}

export const blockLeafOf = (header) => concat(new Writer().u8(2).str('cairn').u8(1).finish(), header);

/** The evidence module's key and value for a digest's state (docs/encoding.md, "Evidence state"). */
export function evidenceKey(alg, digestHex) {
  return concat(u8(alg === 'sm3' ? 2 : 1), fromHex(digestHex));
}
export function evidenceValue({ txId, index, firstHeight, firstTimeMs, deposits, lastHeight }) {
  return new Writer().u8(1).fixed(fromHex(txId)).u32(index).u64(firstHeight).u64(firstTimeMs).u64(deposits).u64(lastHeight).finish();
}

/**
 * A chain of one interesting block: `pairs` is the state after it, the log holds `before`
 * transaction leaves, the block leaf, and `after` more leaves, all under one checkpoint signed
 * by `signers` (default: every validator). Returns receipt(module, key, view) → the JSON object.
 */
export async function makeChain({ suite, chainId, validators, pairs, height = 7, timeMs = Date.UTC(2026, 10, 27, 6, 30), before = 5, after = 3, signers = validators }) {
  const hash = SUITES[suite].hash;
  const tree = stateTree(hash, pairs);
  const header = headerV2({ chainId, height, timeMs, txCount: 2, logSize: before, stateRoot: tree.root });
  const leaves = [];
  for (let i = 0; i < before; i++) leaves.push(enc.encode(`transaction leaf ${i}`));
  leaves.push(blockLeafOf(header));
  for (let i = 0; i < after; i++) leaves.push(enc.encode(`later leaf ${i}`));
  const note = await checkpoint(chainId, leaves.length, mth(hash, leaves), signers);
  const inclusion = path(hash, before, leaves).map(toHex);
  return {
    tree, header,
    receipt(module, key, view) {
      const { proof, value } = tree.prove(stateKeyOf(module, key));
      return {
        format: 'cairn-state-proof-v1', chain_id: chainId, module, key: toHex(key), value: value && toHex(value), view, height,
        header: toHex(header), proof: toHex(proof), leaf_index: before, tree_size: leaves.length, inclusion_proof: inclusion, checkpoint: note,
      };
    },
  };
}

/** A few evidence digests deposited on the chain, and one never deposited, with their views. */
export function evidenceFixture(suite) {
  const alg = SUITES[suite].digestAlg;
  const digest = (s) => toHex(SUITES[suite].hash(enc.encode(s)));
  const deposited = [
    { d: digest('contract.pdf'), txId: digest('tx a'), index: 0, firstHeight: 3, firstTimeMs: Date.UTC(2026, 10, 27, 1, 2, 3), deposits: 1, lastHeight: 3 },
    { d: digest('photo.jpg'), txId: digest('tx b'), index: 4, firstHeight: 5, firstTimeMs: Date.UTC(2026, 10, 27, 2, 0, 0), deposits: 3, lastHeight: 7 },
  ];
  const pairs = deposited.map((x) => ({ stateKey: stateKeyOf('evidence', evidenceKey(alg, x.d)), value: evidenceValue(x) }));
  const views = deposited.map((x) => ({
    key: evidenceKey(alg, x.d),
    view: { digest_alg: alg, digest: x.d, deposited: true, first_record: `${x.txId}-${x.index}`, first_height: x.firstHeight, first_time_ms: x.firstTimeMs, deposits: x.deposits, last_height: x.lastHeight },
  }));
  const never = digest('never deposited');
  views.push({ key: evidenceKey(alg, never), view: { digest_alg: alg, digest: never, deposited: false } });
  return { pairs, views, contents: ['contract.pdf', 'photo.jpg', 'never deposited'] };
}
