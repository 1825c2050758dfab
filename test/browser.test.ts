/**
 * The browser bundle (dist/enseal.browser.js) in real headless Chromium, served from localhost (a
 * secure context): it must pick the WebCrypto backend, decrypt our published vectors, round-trip
 * one-shot, streams and ranged reads, reject tampering with ERR_AUTH, decrypt an object made by
 * Node, and run the hash-wasm Argon2id KDF. Chromium comes from Debian (`apt-get install -y
 * chromium`, done by .ci/run); without it this test fails, it never skips.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { aesKey, encrypt } from '../src/index.js';
import { pseudoRandom, toHex } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const files: Record<string, [string, string]> = {
  '/enseal.browser.js': ['../dist/enseal.browser.js', 'text/javascript'],
  '/enseal-v1.json': ['./vectors/enseal-v1.json', 'application/json'],
  '/': ['', 'text/html'],
};
// The page loads the bundle as an ES module and exposes it (a dynamic import inside the
// evaluated function would be rewritten by vitest's transform).
const PAGE = `<!doctype html><title>enseal</title>
<script type="module">import * as enseal from '/enseal.browser.js'; window.enseal = enseal;</script>`;
let server: Server;
let origin = '';
let context: BrowserContext;
let profile = '';

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (CI does)`);
  if (!existsSync(new URL('../dist/enseal.browser.js', import.meta.url))) throw new Error('dist/ is missing: run `npm run build`');
  server = createServer((req, res) => {
    const f = files[req.url ?? ''];
    if (f === undefined) return void res.writeHead(404).end();
    const body = f[0] === '' ? PAGE : readFileSync(new URL(f[0], import.meta.url));
    res.writeHead(200, { 'content-type': f[1] }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  profile = mkdtempSync(join(tmpdir(), 'enseal-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await new Promise((r) => server?.close(r));
  if (profile) rmSync(profile, { recursive: true, force: true });
});

it('runs the browser bundle in Chromium on WebCrypto', async () => {
  const nodeKey = pseudoRandom(32, 77);
  const nodePlain = pseudoRandom(40000, 78);
  const fromNode = await encrypt(nodePlain, { recipients: [aesKey({ id: 'node', key: nodeKey })], context: { from: 'node' } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => 'enseal' in window);
  const result = await page.evaluate(
    async ({ nodeKeyHex, fromNodeHex }) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const e = (window as any).enseal;
      const hex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
      const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
      const out: Record<string, unknown> = { secure: isSecureContext, backends: e.availableBackends(), default: e.getBackend().name };
      // Published vectors.
      const v = await (await fetch('/enseal-v1.json')).json();
      out.vectors = await Promise.all(
        v.positive.map(async (p: { recipients: string[]; ciphertext: string; plaintext: string }) => {
          const k = v.keys[p.recipients[0]];
          const pt = await e.decrypt(hex(p.ciphertext), { keys: [e.aesKey({ id: k.id, key: hex(k.key) })] });
          return toHex(pt) === p.plaintext;
        }),
      );
      // An object made by Node.
      out.fromNode = toHex(await e.decrypt(hex(fromNodeHex), { keys: [e.aesKey({ id: 'node', key: hex(nodeKeyHex) })], context: { from: 'node' } }));
      // Round trips.
      const key = e.aesKey({ id: 'b', key: crypto.getRandomValues(new Uint8Array(32)) });
      const plain = crypto.getRandomValues(new Uint8Array(50000));
      const sealed = await e.encrypt(plain, { recipients: [key] });
      out.oneShot = toHex(await e.decrypt(sealed, { keys: [key] })) === toHex(plain);
      const streamed = await new Response(new Blob([plain]).stream().pipeThrough(e.encryptStream({ recipients: [key] }))).arrayBuffer();
      const back = await new Response(new Blob([streamed]).stream().pipeThrough(e.decryptStream({ keys: [key] }))).arrayBuffer();
      out.streams = toHex(new Uint8Array(back)) === toHex(plain);
      const source = { size: sealed.length, read: async (o: number, n: number) => sealed.slice(o, o + n) };
      out.range = toHex(await e.decryptRange(source, { start: 17000, end: 17099 }, { keys: [key] })) === toHex(plain.slice(17000, 17100));
      const bad = sealed.slice();
      bad[bad.length - 1] ^= 1;
      out.tamper = await e.decrypt(bad, { keys: [key] }).then(() => 'decrypted', (err: { code?: string }) => err.code);
      const pw = e.passphrase({ passphrase: 'browser', kdf: 'argon2id', params: { memoryKiB: 1024, iterations: 1, parallelism: 1 } });
      out.passphrase = (await e.decrypt(await e.encrypt(plain.subarray(0, 10), { recipients: [pw] }), { keys: [pw] })).length;
      return out;
    },
    { nodeKeyHex: toHex(nodeKey), fromNodeHex: toHex(fromNode) },
  );
  expect(errors).toEqual([]);
  expect(result).toEqual({
    secure: true,
    backends: ['webcrypto'],
    default: 'webcrypto',
    vectors: [true, true, true, true],
    fromNode: toHex(nodePlain),
    oneShot: true,
    streams: true,
    range: true,
    tamper: 'ERR_AUTH',
    passphrase: 10,
  });
}, 120_000);
