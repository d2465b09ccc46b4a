// Helpers shared by the e2e tests: the repository's paths and binaries, free ports, `dev` nodes
// and their clean-up, running the CLI, Chromium and its pages, temp dirs. Not a test file itself
// (node --test picks up *.test.mjs only).

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The repository root.
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// The cairn binary: $CAIRN_BIN, else the debug build.
export const CAIRN = process.env.CAIRN_BIN ?? path.join(ROOT, 'target/debug/cairn');
// The test kit's node binary: $CAIRN_TESTKIT_BIN, else the debug build.
export const TESTKIT = process.env.CAIRN_TESTKIT_BIN ?? path.join(ROOT, 'target/debug/cairn-testkit');
// Where screenshots go: $CAIRN_SCREENSHOTS, else tests/e2e/screenshots (created by the files that take them).
export const SHOTS = process.env.CAIRN_SCREENSHOTS ?? path.join(ROOT, 'tests/e2e/screenshots');
// The Chromium to drive: $CHROMIUM, else Debian's.
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

// Resolves after `ms` milliseconds.
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A port on 127.0.0.1 the OS just handed out (bound on port 0, then closed; not retried).
export function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

// A new directory under the system's temp dir, its name `prefix` and random characters.
export function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// Removes a directory and all it holds; nothing to do if it is gone.
export function removeDir(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
}

// Runs `bin args…` (cairn by default) to its end: spawnSync's result, output as UTF-8 text.
export function runCairn(args, bin = CAIRN) {
  return spawnSync(bin, args, { encoding: 'utf8' });
}

// Starts `bin dev` (--suite if given) in tempDir(prefix) on a free port, in `nodes` at once so stopNodes also clears a failed start; waits 300 × 50 ms for /healthz, then throws "<name> dev did not start".
export async function startDevNode(nodes, { prefix, suite, bin = CAIRN, name = 'cairn' }) {
  const dir = tempDir(prefix);
  const port = await freePort();
  const proc = spawn(bin, ['dev', '--data-dir', path.join(dir, 'data'), '--listen', `127.0.0.1:${port}`, ...(suite ? ['--suite', suite] : [])], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, RUST_LOG: 'warn' } });
  const node = { dir, data: path.join(dir, 'data'), url: `http://127.0.0.1:${port}`, proc };
  nodes.push(node);
  for (let i = 0; i < 300; i++) {
    try { if ((await fetch(`${node.url}/healthz`)).ok) return node; } catch { /* not up yet */ }
    await sleep(50);
  }
  throw new Error(`${name} dev did not start on ${node.url}`);
}

// SIGKILLs every node startDevNode added to `nodes` and removes its temp dir.
export function stopNodes(nodes) {
  for (const n of nodes) {
    n.proc.kill('SIGKILL');
    removeDir(n.dir);
  }
}

// Launches headless Chromium ($CHROMIUM) through playwright-core, loaded only here so tests without a browser do not need it.
export async function launchBrowser() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// A 1100×900 page in Shanghai time (UTC+8) open at the node's console; an error thrown in the page fails the test, and with collectWarnings page.warnings gathers the console's own warnings and errors (those starting "console:").
export async function newPage(browser, node, { collectWarnings = false } = {}) {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 }, timezoneId: 'Asia/Shanghai' });
  page.on('pageerror', (e) => { throw e; });
  if (collectWarnings) {
    page.warnings = [];
    page.on('console', (m) => { if (['warning', 'error'].includes(m.type()) && m.text().startsWith('console:')) page.warnings.push(m.text()); });
  }
  await page.goto(`${node.url}/`);
  return page;
}
