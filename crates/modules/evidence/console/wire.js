// The evidence module's wire types in JavaScript (docs/encoding.md, "Evidence records",
// "Evidence state"): deposit arguments, record leaves and digest state values. Kept
// byte-for-byte with crates/modules/evidence/src/wire.rs. Served at
// /console/modules/evidence/wire.js; imports the shell's codec by its absolute path.

import { SUITES, DIGEST_ALGS, Writer, Reader, fromHex, toHex, formatTime, byteOrder, signTx } from '/console/encoding.js';

/** Appends a record's canonical bytes (the deposit arguments' element). */
export function encodeRecord(w, r) {
  w.u8(DIGEST_ALGS[r.digest_alg].code).fixed(fromHex(r.digest)).u64(r.size).str(r.media_type).str(r.title).optStr(r.reference ?? null);
  const keys = Object.keys(r.metadata ?? {}).sort(byteOrder);
  w.u32(keys.length);
  for (const k of keys) w.str(k).str(r.metadata[k]);
}

function decodeRecord(rd) {
  const alg = { 1: 'sha-256', 2: 'sm3' }[rd.u8('digest_alg')];
  if (!alg) throw new Error('invalid digest_alg: unknown digest algorithm');
  const digest = toHex(rd.fixed(32, 'digest'));
  const size = rd.u64('size');
  const media_type = rd.str('media_type', 128);
  const title = rd.str('title', 512);
  const reference = rd.optStr('reference', 256);
  const n = rd.u32('metadata');
  if (n > 32) throw new Error('metadata has too many entries');
  const metadata = {};
  let last = null;
  for (let i = 0; i < n; i++) {
    const k = rd.str('metadata key', 64), v = rd.str('metadata value', 1024);
    if (last !== null && byteOrder(last, k) >= 0) throw new Error('invalid metadata: keys must be unique and sorted');
    last = k;
    metadata[k] = v;
  }
  return { digest_alg: alg, digest, size, media_type, title, reference, metadata };
}

/** Decodes an evidence-record leaf into the record view the node serves (EvidenceView). */
export function decodeEvidenceLeaf(leaf, suite) {
  const rd = new Reader(leaf);
  if (rd.u8('leaf version') !== 1) throw new Error('unsupported leaf version');
  if (rd.u8('leaf kind') !== 1) throw new Error('the leaf is not an evidence record');
  const txId = toHex(rd.fixed(32, 'tx_id'));
  const index = rd.u32('index_in_tx');
  const height = rd.u64('height');
  const timeMs = rd.u64('time_ms');
  const organisation = rd.str('organisation', 128);
  const submitter = rd.bytes('submitter', 128);
  if (submitter.length !== SUITES[suite].keyLen) throw new Error('invalid submitter: not a valid public key');
  const record = decodeRecord(rd);
  rd.finish();
  return {
    id: `${txId}-${index}`,
    ...record,
    organisation,
    submitter: toHex(submitter),
    tx_id: txId,
    index_in_tx: index,
    block_height: height,
    time_ms: timeMs,
    time: formatTime(timeMs),
  };
}

/** Builds and signs an `evidence.deposit` transaction; returns {bytes, id, recordIds}. */
export async function signDeposit({ suite, secret, chainId, records, ttlMs = 600000 }) {
  const args = new Writer().u32(records.length);
  for (const r of records) encodeRecord(args, r);
  const { bytes, id } = await signTx({ suite, secret, chainId, module: 'evidence', method: 'deposit', args: args.finish(), ttlMs });
  return { bytes, id, recordIds: records.map((_, i) => `${id}-${i}`) };
}


const DIGEST_CODES = { 1: 'sha-256', 2: 'sm3' };

/** The evidence module's readable view of (key, value), as "Evidence state" specifies. */
export function evidenceView(key, value) {
  if (key.length !== 33) throw new Error(`an evidence key is 33 bytes (digest algorithm and digest), not ${key.length}`);
  const digest_alg = DIGEST_CODES[key[0]];
  if (!digest_alg) throw new Error(`unknown digest algorithm ${key[0]} in the evidence key`);
  const base = { digest_alg, digest: toHex(key.subarray(1)) };
  if (value === null) return { ...base, deposited: false };
  const rd = new Reader(value);
  const version = rd.u8('value version');
  if (version !== 1) throw new Error(`evidence state version ${version} is not 1`);
  const tx = rd.hex32('first tx_id');
  const index = rd.u32('first index_in_tx');
  const view = { ...base, deposited: true, first_record: `${tx}-${index}`, first_height: rd.u64Exact('first height'), first_time_ms: rd.u64Exact('first time_ms'), deposits: rd.u64Exact('deposits'), last_height: rd.u64Exact('last height') };
  rd.finish();
  // A kept digest has been deposited at least once, and not last before first.
  if (view.deposits === 0 || view.last_height < view.first_height) throw new Error('evidence state has no deposits, or its last before its first');
  return view;
}


