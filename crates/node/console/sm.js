// Hashes and SM2 for the console, in plain JavaScript so that they run anywhere (also outside
// secure contexts, where WebCrypto is missing): streaming SHA-256 and SM3 (GB/T 32905), and
// SM2 signatures with the default ID 1234567812345678 (GB/T 32918), DER SEQUENCE{r, s}.
// Checked against the GB/T vectors by the end-to-end tests.

const rotl = (x, n) => ((x << n) | (x >>> (32 - n))) >>> 0;

function padBlocks(state, tail, total) {
  // Final blocks: 0x80, zeros, 64-bit big-endian bit length.
  const len = tail.length;
  const padLen = len < 56 ? 64 : 128;
  const buf = new Uint8Array(padLen);
  buf.set(tail);
  buf[len] = 0x80;
  const bits = BigInt(total) * 8n;
  new DataView(buf.buffer).setBigUint64(padLen - 8, bits);
  return buf;
}

class BlockHasher {
  constructor() { this.buf = new Uint8Array(64); this.fill = 0; this.total = 0; }
  update(data) {
    data = data instanceof Uint8Array ? data : new Uint8Array(data);
    this.total += data.length;
    let i = 0;
    if (this.fill) {
      const take = Math.min(64 - this.fill, data.length);
      this.buf.set(data.subarray(0, take), this.fill);
      this.fill += take; i = take;
      if (this.fill < 64) return this;
      this.block(this.buf, 0); this.fill = 0;
    }
    for (; i + 64 <= data.length; i += 64) this.block(data, i);
    if (i < data.length) { this.buf.set(data.subarray(i)); this.fill = data.length - i; }
    return this;
  }
  digest() {
    const last = padBlocks(null, this.buf.subarray(0, this.fill), this.total);
    for (let i = 0; i < last.length; i += 64) this.block(last, i);
    const out = new Uint8Array(32);
    const dv = new DataView(out.buffer);
    this.h.forEach((w, k) => dv.setUint32(4 * k, w));
    return out;
  }
}

const K256 = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

export class Sha256 extends BlockHasher {
  constructor() {
    super();
    this.h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
    this.w = new Uint32Array(64);
  }
  block(d, off) {
    const w = this.w, h = this.h;
    const dv = new DataView(d.buffer, d.byteOffset + off, 64);
    for (let i = 0; i < 16; i++) w[i] = dv.getUint32(4 * i);
    for (let i = 16; i < 64; i++) {
      const s0 = rotl(w[i - 15], 25) ^ rotl(w[i - 15], 14) ^ (w[i - 15] >>> 3);
      const s1 = rotl(w[i - 2], 15) ^ rotl(w[i - 2], 13) ^ (w[i - 2] >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) >>> 0;
    }
    let [a, b, c, e0, e, f, g, hh] = h;
    let dd = e0;
    for (let i = 0; i < 64; i++) {
      const S1 = rotl(e, 26) ^ rotl(e, 21) ^ rotl(e, 7);
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + S1 + ch + K256[i] + w[i]) >>> 0;
      const S0 = rotl(a, 30) ^ rotl(a, 19) ^ rotl(a, 10);
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) >>> 0;
      hh = g; g = f; f = e; e = (dd + t1) >>> 0; dd = c; c = b; b = a; a = (t1 + t2) >>> 0;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += dd; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  }
}

export class Sm3 extends BlockHasher {
  constructor() {
    super();
    this.h = new Uint32Array([0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600, 0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e]);
    this.w = new Uint32Array(68);
  }
  block(d, off) {
    const w = this.w, v = this.h;
    const dv = new DataView(d.buffer, d.byteOffset + off, 64);
    for (let i = 0; i < 16; i++) w[i] = dv.getUint32(4 * i);
    const p1 = (x) => (x ^ rotl(x, 15) ^ rotl(x, 23)) >>> 0;
    const p0 = (x) => (x ^ rotl(x, 9) ^ rotl(x, 17)) >>> 0;
    for (let j = 16; j < 68; j++) w[j] = (p1(w[j - 16] ^ w[j - 9] ^ rotl(w[j - 3], 15)) ^ rotl(w[j - 13], 7) ^ w[j - 6]) >>> 0;
    let [A, B, C, D, E, F, G, H] = v;
    for (let j = 0; j < 64; j++) {
      const T = j < 16 ? 0x79cc4519 : 0x7a879d8a;
      const ss1 = rotl((rotl(A, 12) + E + rotl(T, j % 32)) >>> 0, 7);
      const ss2 = (ss1 ^ rotl(A, 12)) >>> 0;
      const ff = j < 16 ? A ^ B ^ C : (A & B) | (A & C) | (B & C);
      const gg = j < 16 ? E ^ F ^ G : (E & F) | (~E & G);
      const tt1 = (ff + D + ss2 + (w[j] ^ w[j + 4])) >>> 0;
      const tt2 = (gg + H + ss1 + w[j]) >>> 0;
      D = C; C = rotl(B, 9); B = A; A = tt1; H = G; G = rotl(F, 19); F = E; E = p0(tt2);
    }
    v[0] ^= A; v[1] ^= B; v[2] ^= C; v[3] ^= D; v[4] ^= E; v[5] ^= F; v[6] ^= G; v[7] ^= H;
  }
}

export const sha256 = (data) => new Sha256().update(data).digest();
export const sm3 = (data) => new Sm3().update(data).digest();

// ---- SM2 over the recommended curve (GB/T 32918.5) ----

const P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFFn;
const A = P - 3n;
const B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93n;
const N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123n;
const GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7n;
const GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0n;
export const SM2_DEFAULT_ID = '1234567812345678';

const mod = (x, m = P) => { const r = x % m; return r < 0n ? r + m : r; };
function modInv(x, m = P) {
  // Extended Euclid.
  let [a, b, u, v] = [mod(x, m), m, 1n, 0n];
  while (a !== 0n) { const q = b / a; [a, b] = [b - q * a, a]; [u, v] = [v - q * u, u]; }
  if (b !== 1n) throw new Error('not invertible');
  return mod(v, m);
}

// Jacobian coordinates; Z = 0 is the point at infinity.
function dbl([X, Y, Z]) {
  if (Z === 0n || Y === 0n) return [0n, 1n, 0n];
  const delta = mod(Z * Z), gamma = mod(Y * Y), beta = mod(X * gamma);
  const alpha = mod(3n * (X - delta) * (X + delta));
  const X3 = mod(alpha * alpha - 8n * beta);
  const Z3 = mod((Y + Z) * (Y + Z) - gamma - delta);
  const Y3 = mod(alpha * (4n * beta - X3) - 8n * gamma * gamma);
  return [X3, Y3, Z3];
}
function add(p1, p2) {
  const [X1, Y1, Z1] = p1, [X2, Y2, Z2] = p2;
  if (Z1 === 0n) return p2;
  if (Z2 === 0n) return p1;
  const Z1Z1 = mod(Z1 * Z1), Z2Z2 = mod(Z2 * Z2);
  const U1 = mod(X1 * Z2Z2), U2 = mod(X2 * Z1Z1);
  const S1 = mod(Y1 * Z2 * Z2Z2), S2 = mod(Y2 * Z1 * Z1Z1);
  const H = mod(U2 - U1), r = mod(2n * (S2 - S1));
  if (H === 0n) return r === 0n ? dbl(p1) : [0n, 1n, 0n];
  const I = mod(4n * H * H), J = mod(H * I), V = mod(U1 * I);
  const X3 = mod(r * r - J - 2n * V);
  const Y3 = mod(r * (V - X3) - 2n * S1 * J);
  const Z3 = mod(((Z1 + Z2) * (Z1 + Z2) - Z1Z1 - Z2Z2) * H);
  return [X3, Y3, Z3];
}
function mul(k, pt) {
  let acc = [0n, 1n, 0n];
  for (let i = BigInt(k.toString(2).length) - 1n; i >= 0n; i--) {
    acc = dbl(acc);
    if ((k >> i) & 1n) acc = add(acc, pt);
  }
  return acc;
}
function affine([X, Y, Z]) {
  if (Z === 0n) return null;
  const zi = modInv(Z), zi2 = mod(zi * zi);
  return [mod(X * zi2), mod(Y * zi2 * zi)];
}

const toBig = (bytes) => bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
function fromBig(x, len = 32) {
  const out = new Uint8Array(len);
  for (let i = len - 1; i >= 0; i--) { out[i] = Number(x & 0xffn); x >>= 8n; }
  return out;
}
const concat = (...parts) => { const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0)); let o = 0; for (const p of parts) { out.set(p, o); o += p.length; } return out; };

/** Parses a 65-byte uncompressed public key; throws unless it is on the curve. */
export function sm2PublicKey(bytes) {
  if (bytes.length !== 65 || bytes[0] !== 4) throw new Error('SM2 public key must be 65 bytes, uncompressed');
  const x = toBig(bytes.subarray(1, 33)), y = toBig(bytes.subarray(33));
  if (x >= P || y >= P || mod(y * y - (x * x * x + A * x + B)) !== 0n) throw new Error('SM2 public key is not on the curve');
  return [x, y];
}

function za(pub) {
  const id = new TextEncoder().encode(SM2_DEFAULT_ID);
  const entl = new Uint8Array([(id.length * 8) >> 8, (id.length * 8) & 0xff]);
  return sm3(concat(entl, id, fromBig(A), fromBig(B), fromBig(GX), fromBig(GY), fromBig(pub[0]), fromBig(pub[1])));
}

function derInt(x) {
  let b = fromBig(x);
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  b = b.subarray(i);
  if (b[0] & 0x80) b = concat(new Uint8Array([0]), b);
  return concat(new Uint8Array([2, b.length]), b);
}
export function derEncode(r, s) {
  const body = concat(derInt(r), derInt(s));
  return concat(new Uint8Array([0x30, body.length]), body);
}
/** Strict DER SEQUENCE{r, s}: anything that does not re-encode byte for byte is refused. */
export function derDecode(sig) {
  try {
    if (sig[0] !== 0x30 || sig[1] !== sig.length - 2) return null;
    let o = 2;
    const ints = [];
    for (let k = 0; k < 2; k++) {
      if (sig[o] !== 2) return null;
      const len = sig[o + 1];
      ints.push(toBig(sig.subarray(o + 2, o + 2 + len)));
      o += 2 + len;
    }
    if (o !== sig.length) return null;
    const again = derEncode(ints[0], ints[1]);
    if (again.length !== sig.length || again.some((b, i) => b !== sig[i])) return null;
    return ints;
  } catch { return null; }
}

/** SM2 verification of `msg` (bytes) under `pubBytes` (65 bytes) with the default ID. */
export function sm2Verify(pubBytes, msg, sigDer) {
  let pub;
  try { pub = sm2PublicKey(pubBytes); } catch { return false; }
  const rs = derDecode(sigDer);
  if (!rs) return false;
  const [r, s] = rs;
  if (r < 1n || r >= N || s < 1n || s >= N) return false;
  const e = toBig(sm3(concat(za(pub), msg)));
  const t = mod(r + s, N);
  if (t === 0n) return false;
  const pt = affine(add(mul(s, [GX, GY, 1n]), mul(t, [pub[0], pub[1], 1n])));
  if (!pt) return false;
  return mod(e + pt[0], N) === r;
}

/** SM2 public key (65 bytes) of a 32-byte secret. */
export function sm2PublicFromSecret(secret) {
  const d = toBig(secret);
  if (d < 1n || d >= N - 1n) throw new Error('SM2 secret out of range');
  const [x, y] = affine(mul(d, [GX, GY, 1n]));
  return concat(new Uint8Array([4]), fromBig(x), fromBig(y));
}

/** SM2 signature (DER) with a fresh random nonce. */
export function sm2Sign(secret, msg) {
  const d = toBig(secret);
  const pub = sm2PublicKey(sm2PublicFromSecret(secret));
  const e = toBig(sm3(concat(za(pub), msg)));
  for (;;) {
    const kb = new Uint8Array(32);
    globalThis.crypto.getRandomValues(kb);
    const k = mod(toBig(kb), N);
    if (k === 0n) continue;
    const [x1] = affine(mul(k, [GX, GY, 1n]));
    const r = mod(e + x1, N);
    if (r === 0n || r + k === N) continue;
    const s = mod(modInv(1n + d, N) * (k - r * d), N);
    if (s === 0n) continue;
    return derEncode(r, s);
  }
}
