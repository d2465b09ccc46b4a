// Registry credentials checked in this browser, with its own code (not the node's): the JCS
// cryptosuites, eddsa-jcs-2022 (W3C vc-di-eddsa) and cairn-sm2sm3-jcs-2026 (docs/encoding.md,
// "Credentials"), and each credential's Bitstring Status List entries (the list credential
// fetched in its JCS form, its proof and issuer checked, its GZIP'd bits read). A credential in
// eddsa-rdfc-2022 needs a JSON-LD processor to canonicalize; this page leaves it to the node's
// verdict. Served at /console/modules/registry/vc.js.

import { sha256, sm3, sm2Verify } from '/console/sm.js';

export const BROWSER_SUITES = ['eddsa-jcs-2022', 'cairn-sm2sm3-jcs-2026'];

/** RFC 8785: ECMAScript's own number and string forms, members sorted by UTF-16 code units. */
export function jcs(v) {
  if (Array.isArray(v)) return `[${v.map(jcs).join(',')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${jcs(v[k])}`).join(',')}}`;
  if (typeof v === 'number' && !Number.isFinite(v)) throw new Error('a number JCS cannot write');
  return JSON.stringify(v);
}

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
function base58(s) {
  let n = 0n;
  for (const c of s) {
    const d = B58.indexOf(c);
    if (d < 0) throw new Error('not base58btc');
    n = n * 58n + BigInt(d);
  }
  const out = [];
  while (n > 0n) { out.unshift(Number(n & 0xffn)); n >>= 8n; }
  for (const c of s) { if (c !== '1') break; out.unshift(0); }
  return Uint8Array.from(out);
}

const P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFFn;
const B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93n;
const big = (b) => b.reduce((n, x) => (n << 8n) | BigInt(x), 0n);
const bytes32 = (n) => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * (31 - i))) & 0xffn));
function powMod(b, e, m) { let r = 1n; b %= m; while (e > 0n) { if (e & 1n) r = (r * b) % m; b = (b * b) % m; e >>= 1n; } return r; }

/** The key a did:key verification method (`did:key:z…#z…`) names: { suite, key bytes }. */
export function resolveDidKey(method) {
  const m = /^did:key:(z[1-9A-HJ-NP-Za-km-z]{1,64})#(z[1-9A-HJ-NP-Za-km-z]{1,64})$/.exec(method ?? '');
  if (!m || m[1] !== m[2]) throw new Error('not a did:key verification method whose fragment is the key');
  const b = base58(m[1].slice(1));
  if (b[0] === 0xed && b[1] === 0x01 && b.length === 34) return { suite: 'ed25519-sha256', key: b.subarray(2) };
  if (b[0] === 0x86 && b[1] === 0x24 && b.length === 35 && (b[2] === 2 || b[2] === 3)) {
    // SM2's p ≡ 3 (mod 4): y = (x³ + ax + b)^((p+1)/4), the root of the right parity.
    const x = big(b.subarray(3));
    if (x >= P) throw new Error('not a point of SM2’s curve');
    const rhs = (((x * x) % P) * x + (P - 3n) * x + B) % P;
    let y = powMod(rhs, (P + 1n) / 4n, P);
    if ((y * y) % P !== rhs) throw new Error('not a point of SM2’s curve');
    if (Number(y & 1n) !== (b[2] & 1)) y = P - y;
    return { suite: 'sm2-sm3', key: Uint8Array.from([4, ...bytes32(x), ...bytes32(y)]) };
  }
  throw new Error('neither an Ed25519 nor an SM2 multikey');
}

const utf8 = (s) => new TextEncoder().encode(s);

async function signatureHolds(suite, key, msg, sig) {
  if (suite === 'sm2-sm3') { try { return sm2Verify(key, msg, sig); } catch { return false; } }
  if (sig.length !== 64) return false;
  try {
    const k = await crypto.subtle.importKey('raw', key, { name: 'Ed25519' }, false, ['verify']);
    return await crypto.subtle.verify('Ed25519', k, sig, msg);
  } catch { return false; }
}

const sameJson = (a, b) => jcs(a) === jcs(b);

/** Checks a credential's one JCS-suite proof; its key, or throws why not. */
export async function checkProof(doc) {
  const proof = doc?.proof;
  if (!proof || typeof proof !== 'object' || Array.isArray(proof)) throw new Error('no single proof');
  if (proof.type !== 'DataIntegrityProof' || proof.proofPurpose !== 'assertionMethod') throw new Error('not an assertionMethod DataIntegrityProof');
  const known = ['type', 'cryptosuite', 'created', 'verificationMethod', 'proofPurpose', 'proofValue', '@context'];
  if (Object.keys(proof).some((k) => !known.includes(k))) throw new Error('a proof member this check does not know');
  const cs = proof.cryptosuite;
  if (!BROWSER_SUITES.includes(cs)) throw new Error(`this browser does not check ${cs}`);
  const { suite, key } = resolveDidKey(proof.verificationMethod);
  if ((cs === 'eddsa-jcs-2022') !== (suite === 'ed25519-sha256')) throw new Error(`${cs} with a ${suite} key`);
  const issuer = typeof doc.issuer === 'object' ? doc.issuer?.id : doc.issuer;
  if (typeof issuer === 'string' && issuer.startsWith('did:') && !proof.verificationMethod.startsWith(`${issuer}#`)) throw new Error('the proof’s key is not the issuer’s');
  if (!sameJson(proof['@context'], doc['@context'])) throw new Error('the proof’s @context is not the document’s');
  if (typeof proof.proofValue !== 'string' || !proof.proofValue.startsWith('z')) throw new Error('proofValue is z + base58btc');
  const sig = base58(proof.proofValue.slice(1));
  const { proofValue, ...config } = proof;
  const { proof: _, ...unsecured } = doc;
  const hash = suite === 'sm2-sm3' ? sm3 : sha256;
  const data = new Uint8Array(64);
  data.set(hash(utf8(jcs(config))), 0);
  data.set(hash(utf8(jcs(unsecured))), 32);
  if (!(await signatureHolds(suite, key, data, sig))) throw new Error('the signature does not verify');
  return { suite, key, cryptosuite: cs, method: proof.verificationMethod };
}

async function gunzip(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function base64url(s) {
  const b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4));
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
}

/**
 * The credential checked here: its proof, then each status entry against its list (fetched in
 * its JCS form with `fetchJson`), whose proof must hold and be by the same key. Each finding is
 * { what, ok, detail }.
 */
export async function checkInBrowser(doc, fetchJson) {
  const findings = [];
  let signer;
  try {
    signer = await checkProof(doc);
    findings.push({ what: 'proof', ok: true, detail: `${signer.cryptosuite}, ${signer.method}` });
  } catch (e) {
    findings.push({ what: 'proof', ok: false, detail: e.message });
    return findings;
  }
  for (const entry of Array.isArray(doc.credentialStatus) ? doc.credentialStatus : doc.credentialStatus ? [doc.credentialStatus] : []) {
    const purpose = entry?.statusPurpose;
    try {
      if (entry.type !== 'BitstringStatusListEntry') throw new Error(`status type ${entry.type}`);
      const index = Number(entry.statusListIndex);
      if (!/^\d+$/.test(entry.statusListIndex ?? '') || !Number.isSafeInteger(index)) throw new Error('statusListIndex is a decimal string');
      const url = new URL(entry.statusListCredential);
      if (signer.cryptosuite === 'eddsa-jcs-2022') url.searchParams.set('cryptosuite', 'eddsa-jcs-2022');
      const list = await fetchJson(url.pathname + url.search);
      const listSigner = await checkProof(list);
      if (listSigner.method !== signer.method) throw new Error('its list is signed by another key than the credential');
      const subject = list.credentialSubject ?? {};
      if (subject.type !== 'BitstringStatusList' || subject.statusPurpose !== purpose) throw new Error('its list is for another purpose');
      if (typeof subject.encodedList !== 'string' || !subject.encodedList.startsWith('u')) throw new Error('encodedList is multibase base64url');
      const bits = await gunzip(base64url(subject.encodedList.slice(1)));
      if (bits.length < 16384) throw new Error('the list is shorter than 131,072 entries');
      if (index >= bits.length * 8) throw new Error('index past the list’s end');
      const set = (bits[index >> 3] & (0x80 >> (index & 7))) !== 0;
      findings.push({ what: purpose, ok: !set, set, detail: '' });
    } catch (e) {
      findings.push({ what: purpose ?? 'status', ok: false, detail: e.message });
    }
  }
  return findings;
}
