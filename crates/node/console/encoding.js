// Cairn's canonical encoding (docs/encoding.md) in JavaScript: its readers and writers, and
// building and signing transactions. Kept byte-for-byte with the Rust codec; the end-to-end
// tests deposit through it and verify with `cairn verify`. A module's own wire types live in
// its console files (evidence: /console/modules/evidence/wire.js).

import { sha256, sm3, sm2Sign, sm2PublicFromSecret } from './sm.js';

export const SUITES = {
  'ed25519-sha256': { code: 1, hash: sha256, digestAlg: 'sha-256', keyLen: 32 },
  'sm2-sm3': { code: 2, hash: sm3, digestAlg: 'sm3', keyLen: 65 },
};
export const DIGEST_ALGS = { 'sha-256': { code: 1, hash: sha256 }, 'sm3': { code: 2, hash: sm3 } };

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
/** Strict: lowercase, even length. Throws otherwise. */
export function fromHex(s) {
  if (typeof s !== 'string' || !/^([0-9a-f]{2})*$/.test(s)) throw new Error('not lowercase hex');
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(2 * i, 2), 16);
  return out;
}
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
export function toBase64(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[n >> 18] + B64[(n >> 12) & 63] + (i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=') + (i + 2 < bytes.length ? B64[n & 63] : '=');
  }
  return out;
}
/** Strict standard base64: the text must be exactly what toBase64 would produce. */
export function fromBase64(s) {
  if (typeof s !== 'string' || s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw new Error('not base64');
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const n = [0, 1, 2, 3].reduce((acc, k) => (acc << 6) | (s[i + k] === '=' ? 0 : B64.indexOf(s[i + k])), 0);
    for (const b of [n >> 16, (n >> 8) & 255, n & 255]) if (o < out.length) out[o++] = b;
  }
  if (toBase64(out) !== s) throw new Error('not canonical base64');
  return out;
}
export const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
};

export class Writer {
  constructor() { this.parts = []; }
  u8(v) { this.parts.push(new Uint8Array([v])); return this; }
  u32(v) { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v); this.parts.push(b); return this; }
  u64(v) { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(v)); this.parts.push(b); return this; }
  fixed(bytes) { this.parts.push(bytes); return this; }
  bytes(bytes) { return this.u32(bytes.length).fixed(bytes); }
  str(s) { return this.bytes(enc.encode(s)); }
  optStr(s) { return s == null ? this.u8(0) : this.u8(1).str(s); }
  finish() { return concat(...this.parts); }
}

export class Reader {
  constructor(bytes) { this.b = bytes; this.o = 0; this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength); }
  need(n, what) { if (this.o + n > this.b.length) throw new Error(`input ends early while reading ${what}`); }
  u8(w) { this.need(1, w); return this.b[this.o++]; }
  u32(w) { this.need(4, w); const v = this.dv.getUint32(this.o); this.o += 4; return v; }
  u64(w) { this.need(8, w); const v = this.dv.getBigUint64(this.o); this.o += 8; return Number(v); }
  /** A u64 as a Number; refuses what a Number cannot hold exactly (it would compare falsely). */
  u64Exact(w) { this.need(8, w); const v = this.dv.getBigUint64(this.o); if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${w} is too large`); this.o += 8; return Number(v); }
  hex32(w) { return toHex(this.fixed(32, w)); }
  fixed(n, w) { this.need(n, w); const v = this.b.subarray(this.o, this.o + n); this.o += n; return v; }
  bytes(w, max) { const n = this.u32(w); if (n > max) throw new Error(`${w} is ${n} long, the limit is ${max}`); return this.fixed(n, w); }
  str(w, max) { try { return dec.decode(this.bytes(w, max)); } catch (e) { throw new Error(`invalid ${w}: ${e.message}`); } }
  optStr(w, max) { const t = this.u8(w); if (t === 0) return null; if (t === 1) return this.str(w, max); throw new Error(`invalid ${w}: option tag`); }
  finish() { if (this.o !== this.b.length) throw new Error(`${this.b.length - this.o} bytes left over after the value`); }
}

/** The order of strings by their UTF-8 bytes (canonical map keys). */
export function byteOrder(a, b) {
  const x = enc.encode(a), y = enc.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/** RFC 3339 UTC with milliseconds, as the node writes it. */
export function formatTime(ms) {
  return new Date(ms).toISOString();
}

const SIG_PREFIX = enc.encode('CAIRN-SIG-V1\0transaction\0');

/**
 * Builds and signs a transaction calling `module.method` with `args` (its canonical bytes);
 * returns {bytes, id}. A module's page encodes its own arguments (docs/encoding.md,
 * "Transactions").
 */
export async function signTx({ suite, secret, chainId, module, method, args, ttlMs = 600000 }) {
  const s = SUITES[suite];
  const signer = await publicKeyOf(suite, secret);
  const nonce = new Uint8Array(8);
  globalThis.crypto.getRandomValues(nonce);
  const body = new Writer()
    .u8(1).str(chainId).u8(s.code).bytes(signer)
    .fixed(nonce).u64(Date.now() + ttlMs)
    .str(module).str(method).bytes(args)
    .finish();
  const message = concat(SIG_PREFIX, enc.encode(chainId), new Uint8Array([0]), body);
  const signature = await sign(suite, secret, message);
  const bytes = new Writer().fixed(body).bytes(signature).finish();
  return { bytes, id: toHex(s.hash(body)) };
}

const ED25519_PKCS8_PREFIX = fromHex('302e020100300506032b657004220420');

async function edKey(secret) {
  return globalThis.crypto.subtle.importKey('pkcs8', concat(ED25519_PKCS8_PREFIX, secret), { name: 'Ed25519' }, true, ['sign']);
}

export async function publicKeyOf(suite, secret) {
  if (suite === 'sm2-sm3') return sm2PublicFromSecret(secret);
  const key = await edKey(secret);
  const jwk = await globalThis.crypto.subtle.exportKey('jwk', key);
  return fromBase64(jwk.x.replace(/-/g, '+').replace(/_/g, '/') + '=');
}

/** Signs `message` exactly, with the suite's algorithm (Ed25519; SM2 with the default ID, DER). */
export async function signRaw(suite, secret, message) {
  return sign(suite, secret, message);
}

async function sign(suite, secret, message) {
  if (suite === 'sm2-sm3') return sm2Sign(secret, message);
  const key = await edKey(secret);
  return new Uint8Array(await globalThis.crypto.subtle.sign('Ed25519', key, message));
}
