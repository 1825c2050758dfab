/**
 * The browser bundle (dist/enseal.browser.js) in real headless Chromium, served from localhost (a
 * secure context): it must pick the WebCrypto backend (the node:crypto backend is not in the
 * bundle: `backend: 'node'` is ERR_UNSUPPORTED), decrypt our published vectors, round-trip
 * one-shot, streams and ranged reads, reject tampering with ERR_AUTH, decrypt an object made by
 * Node, and run the hash-wasm Argon2id KDF.
 *
 * Chromium is the npm dev dependency @sparticuz/chromium (extracted to /tmp/chromium on first
 * use; `CHROMIUM_PATH` overrides it). It never skips: a launch failure fails at once with the
 * reason, and afterAll copes with a beforeAll that failed half way.
 */
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumBinary } from './chromium.js';
import { aesKey, encrypt } from '../src/index.js';
import { pseudoRandom, toHex } from './helpers.js';

const BUNDLE = new URL('../dist/enseal.browser.js', import.meta.url);
const files: Record<string, [URL | '', string]> = {
  '/enseal.browser.js': [BUNDLE, 'text/javascript'],
  '/': ['', 'text/html'],
};
// The page loads the bundle as an ES module and exposes it (a dynamic import inside the
// evaluated function would be rewritten by vitest's transform).
const PAGE = `<!doctype html><title>enseal</title>
<script type="module">import * as enseal from '/enseal.browser.js'; window.enseal = enseal;</script>`;
let server: Server | undefined;
let origin = '';
let browser: Browser | undefined;
let context: BrowserContext | undefined;

/** The Chromium to launch: CHROMIUM_PATH, else the binary bundled in @sparticuz/chromium. */

it('the bundle is minified and carries no node:crypto backend', () => {
  const code = readFileSync(BUNDLE, 'utf8');
  // The build swaps src/backends/node.ts for its browser stand-in (and fails if node.ts is still
  // bundled): the stand-in's message is there, the node backend's own is not. (Worker sources
  // embedded as strings may mention node:crypto for when they run under Node: not the backend.)
  expect(code).toContain('the node backend is not available in the browser bundle');
  expect(code).not.toContain('the node backend needs node:crypto');
  // Minified: no doc comments, and long lines (unminified code averages well under 100 characters).
  expect(code).not.toContain('/**');
  expect(code.length / code.split('\n').length).toBeGreaterThan(500);
  expect(gzipSync(code, { level: 9 }).length).toBeLessThan(code.length / 2);
});

// Everything below needs Chromium; the check above does not.
describe('in headless Chromium', () => {
  beforeAll(async () => {
    if (!existsSync(BUNDLE)) throw new Error('dist/enseal.browser.js is missing: run `npm run build` (`npm test` does when needed)');
    const { executablePath, args } = await chromiumBinary();
    server = createServer((req, res) => {
      const f = files[req.url ?? ''];
      if (f === undefined) return void res.writeHead(404).end();
      const body = f[0] === '' ? PAGE : readFileSync(f[0]);
      res.writeHead(200, { 'content-type': f[1] }).end(body);
    });
    const s = server;
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(0, '127.0.0.1', resolve);
    });
    origin = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    try {
      browser = await chromium.launch({ executablePath, headless: true, args, timeout: 30_000 });
    } catch (e) {
      throw new Error(`Chromium (${executablePath}) did not launch: ${String(e)}`, { cause: e });
    }
    context = await browser.newContext();
  }, 60_000);

  afterAll(async () => {
    // Each step only if beforeAll got that far; none of them can wait forever.
    await context?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    const s = server;
    if (s?.listening) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }, 30_000);

  it('runs the browser bundle in Chromium on WebCrypto', async () => {
    const nodeKey = pseudoRandom(32, 77);
    const nodePlain = pseudoRandom(40000, 78);
    const fromNode = await encrypt(nodePlain, { recipients: [aesKey({ id: 'node', key: nodeKey })], context: { from: 'node' } });
    if (context === undefined) throw new Error('Chromium did not start (see the beforeAll error)');
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => 'enseal' in window);
    const result = await page.evaluate(
      async ({ nodeKeyHex, fromNodeHex, vectorsJson }) => {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const e = (window as any).enseal;
        const hex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
        // Streams built and drained by hand: Blob/Response bodies go through Chromium's blob
        // storage, which intermittently fails ("Failed to fetch") on a loaded machine.
        const streamOf = (b: Uint8Array) => new ReadableStream<Uint8Array>({ start(c) { c.enqueue(b); c.close(); } });
        const drain = async (s: ReadableStream<Uint8Array>) => {
          const r = s.getReader();
          const parts: Uint8Array[] = [];
          let n = 0;
          for (;;) {
            const { done, value } = await r.read();
            if (done) break;
            parts.push(value);
            n += value.length;
          }
          const out = new Uint8Array(n);
          let o = 0;
          for (const p of parts) { out.set(p, o); o += p.length; }
          return out;
        };
        const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
        const out: Record<string, unknown> = { secure: isSecureContext, backends: e.availableBackends(), default: e.getBackend().name };
        out.nodeBackend = await e
          .encrypt(new Uint8Array(1), { recipients: [e.aesKey({ id: 'n', key: new Uint8Array(32) })], backend: 'node' })
          .then(() => 'encrypted', (err: { code?: string }) => err.code);
        // Published vectors (handed in, not fetched: no request that a loaded machine can drop).
        const v = JSON.parse(vectorsJson);
        out.vectors = await Promise.all(
          v.positive.map(async (p: { recipients: string[]; ciphertext: string; plaintext: string }) => {
            const k = v.keys[p.recipients[0]!];
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
        const streamed = await drain(streamOf(plain).pipeThrough(e.encryptStream({ recipients: [key] })));
        const back = await drain(streamOf(streamed).pipeThrough(e.decryptStream({ keys: [key] })));
        out.streams = toHex(new Uint8Array(back)) === toHex(plain);
        const source = { size: sealed.length, read: async (o: number, n: number) => sealed.slice(o, o + n) };
        out.range = toHex(await e.decryptRange(source, { start: 17000, end: 17099 }, { keys: [key] })) === toHex(plain.slice(17000, 17100));
        const bad = sealed.slice();
        bad[bad.length - 1] ^= 1;
        out.tamper = await e.decrypt(bad, { keys: [key] }).then(() => 'decrypted', (err: { code?: string }) => err.code);
        const pw = e.passphrase({ passphrase: 'browser', kdf: 'argon2id', params: { memoryKiB: 1024, iterations: 1, parallelism: 1 } });
        out.passphrase = (await e.decrypt(await e.encrypt(plain.subarray(0, 10), { recipients: [pw] }), { keys: [pw] })).length;
        // A view of a detached buffer (Chromium has ArrayBuffer#detached): refused, and one
        // transferred while WebCrypto encrypts it fails the call instead of sealing less.
        const gone = crypto.getRandomValues(new Uint8Array(64));
        structuredClone(gone.buffer, { transfer: [gone.buffer] });
        out.detached = await e.encrypt(gone, { recipients: [key] }).then(() => 'encrypted', (err: Error) => err.name);
        const moving = new Uint8Array(200000);
        const sealing = e.encrypt(moving, { recipients: [key] });
        structuredClone(moving.buffer, { transfer: [moving.buffer] });
        out.detachedDuring = await sealing.then(() => 'encrypted', (err: { code?: string }) => err.code);
        return out;
      },
      { nodeKeyHex: toHex(nodeKey), fromNodeHex: toHex(fromNode), vectorsJson: readFileSync(new URL('./vectors/enseal-v1.json', import.meta.url), 'utf8') },
    );
    expect(errors).toEqual([]);
    // Whatever else this browser offers (the WebAssembly backend), never node, and WebCrypto by default.
    const { backends, ...rest } = result;
    expect(backends).toContain('webcrypto');
    expect(backends).not.toContain('node');
    expect(rest).toEqual({
      secure: true,
      default: 'webcrypto',
      nodeBackend: 'ERR_UNSUPPORTED',
      vectors: [true, true, true, true],
      fromNode: toHex(nodePlain),
      oneShot: true,
      streams: true,
      range: true,
      tamper: 'ERR_AUTH',
      passphrase: 10,
      detached: 'TypeError',
      detachedDuring: 'ERR_STATE',
    });
  }, 120_000);
});
