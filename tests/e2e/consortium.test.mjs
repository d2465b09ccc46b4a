// The console's receipt verifier (verify.js, the code the page runs) on receipts from a
// four-validator network: a checkpoint cosigned by a quorum is VALID; with one signature
// removed it falls short of the quorum, and `cairn verify` agrees on both.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { verifyReceipt } from '/console/modules/evidence/receipt.js';
import { CAIRN, tempDir, removeDir, sleep } from './helpers.mjs';

async function waitFor(what, f, ms = 60000) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
    } catch {}
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

// True if nothing listens on 127.0.0.1:port (we can bind it ourselves).
function portFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

// A base port with `n` free ports after it, below Linux's ephemeral range (32768 and up),
// where a node's outgoing connection could take a port another validator is about to bind.
async function freePorts(n) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 12000);
    let free = true;
    for (let i = 0; i < n && free; i++) free = await portFree(base + i);
    if (free) return base;
  }
  throw new Error('no run of free ports found in 100 tries');
}

// The last lines of every validator's log: what a failed start-up said.
function nodeLogs(netDir) {
  return [1, 2, 3, 4]
    .map((i) => {
      const f = path.join(netDir, `validator-${i}`, 'node.log');
      const text = fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '(no log)';
      return `--- validator-${i}/node.log (tail)\n${text.split('\n').slice(-15).join('\n')}`;
    })
    .join('\n');
}

function cairnVerify(receipt, trust) {
  try {
    return execFileSync(CAIRN, ['verify', '--receipt', receipt, '--trust', trust], { encoding: 'utf8', env: { ...process.env, RUST_LOG: 'warn' } });
  } catch (e) {
    return e.stdout;
  }
}

for (const suite of ['ed25519-sha256', 'sm2-sm3']) {
  test(`${suite}: quorum-cosigned receipts from four validators verify in the page's verifier and in cairn verify`, async () => {
    const dir = tempDir('cairn-consortium-');
    const base = await freePorts(8);
    const netDir = path.join(dir, 'net');
    execFileSync(CAIRN, ['testnet', 'init', '--validators', '4', '--dir', netDir, '--suite', suite, '--p2p-port', String(base), '--api-port', String(base + 4)]);
    const up = spawn(CAIRN, ['testnet', 'up', '--dir', netDir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let upErr = '';
    up.stderr.on('data', (d) => (upErr += d));
    const upExited = new Promise((resolve) => up.on('exit', resolve));
    // If the network stops by itself (a node failed to start), fail now and say why.
    const upFailed = upExited.then((code) => {
      throw new Error(`cairn testnet up exited (${code}) before the test ended: ${upErr}\n${nodeLogs(netDir)}`);
    });
    upFailed.catch(() => {});
    try {
      const urls = [0, 1, 2, 3].map((i) => `http://127.0.0.1:${base + 4 + i}`);
      for (const u of urls) {
        const ready = waitFor('a final block', async () => (await (await fetch(`${u}/v1/status`)).json()).height >= 1).catch((e) => {
          throw new Error(`${e.message} at ${u}\n${nodeLogs(netDir)}`);
        });
        await Promise.race([ready, upFailed]);
      }
      const file = path.join(dir, 'minutes.txt');
      fs.writeFileSync(file, `minutes of the ${suite} consortium meeting\n`);
      const out = path.join(dir, 'receipts');
      execFileSync(CAIRN, ['evidence', 'submit', '--node', urls[2], '--key', path.join(netDir, 'validator-3/keys/submitter.key'), '--wait', '--out', out, file], { env: { ...process.env, RUST_LOG: 'warn' }, timeout: 120000 });
      const trust = fs.readFileSync(path.join(netDir, 'trust.json'), 'utf8');
      const receiptPath = path.join(out, 'minutes.txt.receipt.json');
      const receipt = fs.readFileSync(receiptPath, 'utf8');
      const ok = await verifyReceipt(receipt, trust, new Uint8Array(fs.readFileSync(file)));
      assert.equal(ok.valid, true, ok.reason);
      assert.match(cairnVerify(receiptPath, path.join(netDir, 'trust.json')), /^VALID/);

      // Keep two signatures: 2 of 4 is below the quorum of 3.
      const r = JSON.parse(receipt);
      const lines = r.checkpoint.split('\n');
      const sigs = lines.filter((l) => l.startsWith('— '));
      assert.equal(sigs.length >= 3, true, 'a quorum of validators cosigned');
      const keep = sigs.slice(0, 2);
      r.checkpoint = lines.filter((l) => !l.startsWith('— ') || keep.includes(l)).join('\n');
      const short = JSON.stringify(r, null, 2);
      const shortPath = path.join(out, 'short.receipt.json');
      fs.writeFileSync(shortPath, short);
      const bad = await verifyReceipt(short, trust);
      assert.equal(bad.valid, false);
      assert.match(cairnVerify(shortPath, path.join(netDir, 'trust.json')), /^INVALID: .*signature/);
    } finally {
      if (up.exitCode === null && up.signalCode === null) up.kill('SIGINT');
      await upExited;
      removeDir(dir);
    }
  });
}
