// The evidence module's receipts, verified offline in the browser as `cairn verify` does
// (crates/modules/evidence/src/receipt.rs): a JSON receipt (cairn-receipt-v1) or a C2SP
// tlog-proof@v1 text whose extra line is the record's leaf, a trust file, and optionally the
// original file. Built on the shell's receipt checks (/console/verify.js); served at
// /console/modules/evidence/receipt.js.

import { SUITES, fromHex, concat } from '/console/encoding.js';
import { Invalid, isUint, parseTrust, parseTlogProof, sameJson, checkSignedCheckpoint, verifyInclusion, fileDigest, strictJson } from '/console/verify.js';
import { decodeEvidenceLeaf, evidenceView } from './wire.js';

export const RECEIPT_FORMAT = 'cairn-receipt-v1';
const TLOG_PROOF = 'c2sp.org/tlog-proof@v1';
const RECEIPT_KEYS = ['format', 'chain_id', 'record', 'leaf_index', 'leaf', 'tree_size', 'inclusion_proof', 'checkpoint'];
const RECORD_KEYS = ['id', 'digest_alg', 'digest', 'size', 'media_type', 'title', 'reference', 'metadata', 'organisation', 'submitter', 'tx_id', 'index_in_tx', 'block_height', 'time_ms', 'time'];

/** Whether a receipt text is one of evidence's forms (by its format; it may still be malformed). */
export const isEvidenceReceipt = (text, format) => format === RECEIPT_FORMAT || text.trimStart().startsWith(TLOG_PROOF);

/** How state proofs of evidence values are read (state-proof.js's `views`). */
export const stateView = {
  view: evidenceView,
  detail: (v) => `${v.digest_alg} ${v.digest}`,
  content: (v) => ({ digest_alg: v.digest_alg, digest: v.digest }),
};

/**
 * Verifies an evidence receipt (JSON cairn-receipt-v1 or a C2SP tlog-proof@v1 text) against a
 * trust file, and optionally the original file. Returns {valid, reason, steps, record,
 * signers}; `steps` lists, in order, file, record, checkpoint, signatures, inclusion, each
 * {ok: true|false|null, detail}. Never throws.
 */
export async function verifyReceipt(text, trustInput, fileBytes = null) {
  // `fileBytes`: a Uint8Array, or a source object as fileDigest takes.
  const steps = { file: { ok: null, detail: '' }, record: { ok: null, detail: '' }, checkpoint: { ok: null, detail: '' }, signatures: { ok: null, detail: '' }, inclusion: { ok: null, detail: '' } };
  const out = { valid: false, reason: '', steps, record: null, signers: [] };
  let current = 'record';
  try {
    const trust = typeof trustInput === 'object' && trustInput.verifiers ? trustInput : parseTrust(trustInput);
    const suite = trust.suite;
    const hash = SUITES[suite].hash;

    // 0. Parse either form.
    let leaf, index, treeSize = null, proof, note, claimed = null;
    if (text.startsWith(TLOG_PROOF)) {
      let p;
      try { p = parseTlogProof(text); } catch (e) { throw new Invalid('record', `receipt is malformed: ${e.message}`); }
      if (!p.extra) throw new Invalid('record', 'receipt is malformed: tlog proof has no extra line with the leaf');
      ({ extra: leaf, index, proof, checkpoint: note } = p);
    } else {
      let r;
      try {
        r = strictJson(text);
        if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new Error('not an object');
        const keys = Object.keys(r);
        const unknown = keys.find((k) => !RECEIPT_KEYS.includes(k));
        if (unknown) throw new Error(`unknown field \`${unknown}\``);
        const missing = RECEIPT_KEYS.find((k) => !(k in r));
        if (missing) throw new Error(`missing field \`${missing}\``);
        if (typeof r.format !== 'string' || typeof r.chain_id !== 'string' || typeof r.checkpoint !== 'string') throw new Error('invalid type');
        if (!isUint(r.leaf_index) || !isUint(r.tree_size) || !Array.isArray(r.inclusion_proof)) throw new Error('invalid type');
        leaf = fromHex(r.leaf);
        proof = r.inclusion_proof.map((h) => { const b = fromHex(h); if (b.length !== 32) throw new Error('expected a 32-byte hash'); return b; });
        if (typeof r.record !== 'object' || r.record === null) throw new Error('invalid record');
        const rk = Object.keys(r.record);
        const bad = rk.find((k) => !RECORD_KEYS.includes(k));
        if (bad) throw new Error(`unknown field \`${bad}\``);
      } catch (e) {
        throw new Invalid('record', `receipt is malformed: ${e.message}`);
      }
      if (r.format !== RECEIPT_FORMAT) throw new Invalid('record', `receipt is malformed: format ${JSON.stringify(r.format)} is not ${RECEIPT_FORMAT}`);
      if (r.chain_id !== trust.chainId) throw new Invalid('record', `receipt is for chain ${JSON.stringify(r.chain_id)}, the trust file is for ${JSON.stringify(trust.chainId)}`);
      ({ leaf_index: index, tree_size: treeSize, checkpoint: note } = r);
      claimed = { reference: null, ...r.record };
    }

    // 1. The record: the logged leaf; a JSON receipt's readable record must be exactly it.
    let record;
    try { record = decodeEvidenceLeaf(leaf, suite); } catch (e) { throw new Invalid('record', `the leaf bytes do not decode: ${e.message}`); }
    if (claimed && !sameJson(claimed, record)) throw new Invalid('record', "the receipt's record does not match the logged leaf");
    out.record = record;
    steps.record = { ok: true, detail: `${record.title} · ${record.organisation} · ${record.time} · block ${record.block_height}` };

    // 2. The file.
    current = 'file';
    if (fileBytes) {
      const { got, size } = await fileDigest(fileBytes, record.digest_alg);
      if (got !== record.digest) throw new Invalid('file', `the file's ${record.digest_alg} digest ${got} differs from the recorded ${record.digest}`);
      if (size !== record.size) throw new Invalid('file', `the file is ${size} bytes long, the record says ${record.size}`);
      steps.file = { ok: true, detail: `${record.digest_alg} ${got}` };
    } else {
      steps.file = { ok: null, detail: 'no file given' };
    }

    // 3. The checkpoint and its signatures.
    const { cp, signers } = await checkSignedCheckpoint(note, trust, steps);
    out.signers = signers;
    if (treeSize !== null && treeSize !== cp.size) throw new Invalid('inclusion', `receipt says tree size ${treeSize}, its checkpoint says ${cp.size}`);

    // 4. The inclusion proof.
    current = 'inclusion';
    try {
      verifyInclusion(hash, index, cp.size, hash(concat(new Uint8Array([0]), leaf)), proof, cp.root);
    } catch (e) { throw new Invalid('inclusion', `inclusion proof does not lead to the signed root: ${e.message}`); }
    steps.inclusion = { ok: true, detail: `leaf ${index} of ${cp.size}` };
    out.valid = true;
  } catch (e) {
    const step = e instanceof Invalid ? e.step : current;
    steps[step] = { ok: false, detail: e.message };
    out.reason = e.message;
  }
  return out;
}
