// Registry credentials checked by an independent W3C VC library: Digital Bazaar's
// `@digitalbazaar/vc` with the `eddsa-rdfc-2022` and `eddsa-jcs-2022` cryptosuites, did:key
// resolved by `@digitalbazaar/did-method-key`, status by `@digitalbazaar/vc-bitstring-status-list`.
// A real `cairn dev` node; the registry written with the `cairn registry` CLI. The credential
// verifies, its status list says clear; every single-bit flip of the credential's bytes is
// refused; after `cairn registry suspend` the status shows suspended, after reinstate clear,
// after `revoke` revoked (and our own `cairn registry credential --verify` agrees each time).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import * as vc from '@digitalbazaar/vc';
import { DataIntegrityProof } from '@digitalbazaar/data-integrity';
import { cryptosuite as rdfc } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import { createVerifyCryptosuite as jcsVerify } from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import { driver as didKeyDriver } from '@digitalbazaar/did-method-key';
import { checkStatus } from '@digitalbazaar/vc-bitstring-status-list';
import { contexts as credentialContexts } from '@digitalbazaar/credentials-context';
import { CAIRN, startDevNode, stopNodes } from './helpers.mjs';

const nodes = [];
let node;
const didKey = didKeyDriver();
didKey.use({ multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from });

const G = 'civil-births';
const K = 'B000123';

function cli(args) {
  return execFileSync(CAIRN, ['registry', ...args, '--node', node.url], { encoding: 'utf8', env: { ...process.env, RUST_LOG: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120000 });
}

function write(name, value) {
  const file = path.join(node.dir, name);
  fs.writeFileSync(file, JSON.stringify(value, null, 2));
  return file;
}

/** Loads only what a verifier may: the VC 2.0 context (embedded), did:key, this node's URLs. */
async function documentLoader(url) {
  if (credentialContexts.has(url)) return { contextUrl: null, documentUrl: url, document: credentialContexts.get(url) };
  if (url.startsWith('did:key:')) return { contextUrl: null, documentUrl: url, document: await didKey.get({ url }) };
  if (url.startsWith(`${node.url}/`)) {
    const r = await fetch(url);
    assert.equal(r.status, 200, `${url}: ${r.status}`);
    return { contextUrl: null, documentUrl: url, document: await r.json() };
  }
  throw new Error(`the verifier refuses to load ${url}`);
}

// Both W3C cryptosuites: a credential and its status list may use either.
const suite = [new DataIntegrityProof({ cryptosuite: rdfc }), new DataIntegrityProof({ cryptosuite: jcsVerify() })];

async function verify(credential) {
  return vc.verifyCredential({ credential, suite, documentLoader, checkStatus: async (o) => checkStatus({ ...o, suite, verifyBitstringStatusListCredential: true, verifyMatchingIssuers: true }) });
}

/** The purposes whose bit is set, from the library's status results. */
function setPurposes(result) {
  assert.ok(result.statusResult, 'status was checked');
  const results = result.statusResult.results ?? [result.statusResult];
  return results.filter((r) => r.status === true).map((r) => r.credentialStatus.statusPurpose).sort();
}

async function credential(suite) {
  const r = await fetch(`${node.url}/v1/registry/${G}/entries/${K}/credential${suite ? `?cryptosuite=${suite}` : ''}`);
  assert.equal(r.status, 200, await r.clone().text());
  return r.json();
}

function ourVerdict(cred) {
  const file = write('cred.json', cred);
  const r = spawnSync(CAIRN, ['registry', 'credential', '--verify', file, '--node', node.url], { encoding: 'utf8', env: { ...process.env, RUST_LOG: 'warn' } });
  return r.stdout.trim();
}

before(async () => {
  node = await startDevNode(nodes, { prefix: 'cairn-vc-' });
  const key = path.join(node.data, 'keys/submitter.key');
  const schema = write('schema.json', {
    type: 'object',
    properties: {
      certificate: { type: 'string' }, district: { type: 'string' }, name: { type: 'string' }, birthDate: { type: 'string', format: 'date' },
    },
    required: ['certificate', 'district', 'name', 'birthDate'],
    additionalProperties: false,
    'x-cairn-indexed': ['district'],
    'x-cairn-personal': ['name', 'birthDate'],
  });
  cli(['create', '--key', key, '--registry', G, '--title-zh', '出生登记', '--title-en', 'Birth register', '--schema', schema]);
  const fields = write('fields.json', { certificate: K, district: '朝阳区', name: '王小明', birthDate: '2026-03-14' });
  cli(['put', '--key', key, '--registry', G, '--entry', K, '--holder', 'did:example:wang-xiaoming', '--fields', fields, '--disclosures', path.join(node.dir, 'disclosures.json')]);
});

after(() => stopNodes(nodes));

test('the credential verifies with @digitalbazaar/vc in both cryptosuites, status clear', async () => {
  for (const suite of ['eddsa-rdfc-2022', 'eddsa-jcs-2022']) {
    const cred = await credential(suite === 'eddsa-rdfc-2022' ? undefined : suite);
    assert.equal(cred.proof.cryptosuite, suite);
    assert.equal(cred.credentialSubject.id, 'did:example:wang-xiaoming');
    assert.equal(cred.credentialSubject.fields.district, '朝阳区');
    assert.ok(!JSON.stringify(cred).includes('王小明'), 'personal fields are digests only');
    const result = await verify(cred);
    assert.equal(result.verified, true, JSON.stringify(result.error ?? result, null, 1));
    assert.deepEqual(setPurposes(result), []);
  }
  const cred = await credential();
  assert.equal(ourVerdict(cred), 'VALID');
  // The holder discloses a personal field: cairn checks it against the credential's digest.
  const d = spawnSync(CAIRN, ['registry', 'credential', '--verify', path.join(node.dir, 'cred.json'), '--disclosures', path.join(node.dir, 'disclosures.json'), '--node', node.url], { encoding: 'utf8' });
  assert.equal(d.stdout.trim(), 'VALID', d.stderr);
  assert.match(d.stderr, /disclosed name: "王小明"/);
});

test('every single-bit flip of the credential is refused', async () => {
  const cred = await credential();
  const bytes = Buffer.from(JSON.stringify(cred));
  let refused = 0, unparsable = 0;
  for (let i = 0; i < bytes.length; i++) {
    for (let b = 0; b < 8; b++) {
      const flipped = Buffer.from(bytes);
      flipped[i] ^= 1 << b;
      let doc;
      try {
        doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(flipped));
      } catch {
        unparsable++;
        continue;
      }
      let ok = false;
      try {
        ok = (await verify(doc)).verified === true;
      } catch { /* refused by throwing */ }
      assert.equal(ok, false, `flipping bit ${b} of byte ${i} (${JSON.stringify(String.fromCharCode(bytes[i]))}) was accepted`);
      refused++;
    }
  }
  assert.equal(refused + unparsable, bytes.length * 8);
  assert.ok(refused > bytes.length, `${refused} verified flips`);
});

test('suspended, reinstated and revoked entries show so to the independent verifier', async () => {
  const key = path.join(node.data, 'keys/submitter.key');
  const before = await credential();
  cli(['suspend', '--key', key, '--registry', G, '--entry', K, '--reason', 'under-review']);
  let r = await verify(before);
  assert.deepEqual(setPurposes(r), ['suspension']);
  assert.match(ourVerdict(before), /^INVALID: .*suspended/);
  cli(['reinstate', '--key', key, '--registry', G, '--entry', K]);
  r = await verify(before);
  assert.deepEqual(setPurposes(r), []);
  assert.equal(ourVerdict(before), 'VALID');
  cli(['revoke', '--key', key, '--registry', G, '--entry', K, '--reason', 'void']);
  r = await verify(before);
  assert.deepEqual(setPurposes(r), ['revocation']);
  assert.match(ourVerdict(before), /^INVALID: .*revoked/);
  // The current version's credential says it too, and its proof still holds.
  const now = await credential();
  assert.equal(now.credentialSubject.entryStatus, 'revoked');
  assert.equal((await verify(now)).statusResult.verified, true);
});
