/**
 * The WASM core in headless Chromium (dist/enseal.browser.js): once from a page over plain
 * http:// on a non-secure origin (`http://enseal.test:PORT/`, mapped to 127.0.0.1 with
 * `--host-resolver-rules`, so it stays on loopback) where `crypto.subtle` is missing and the
 * default backend must be the WASM core; once from localhost (secure) where `backend: 'wasm'`
 * must give the same bytes as WebCrypto, and once more from localhost with `backend: 'webcrypto'`.
 * Each runs Wycheproof AES-GCM (96-bit IVs), the enseal-v1 vectors, round trips (one-shot,
 * streams, ranges through a reader at chunk boundaries, a stream cut into odd writes), tamper
 * checks and integrity in the same pass (checksumStream, integrityCheck on encryptStream); the
 * non-secure page also checks that the missing WebCrypto backend says ERR_UNSUPPORTED.
 *
 * Chromium comes from @sparticuz/chromium (as in test/browser.test.ts; `CHROMIUM_PATH`
 * overrides it). A launch failure fails the suite with its reason.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumBinary } from './chromium.js';

const BUNDLE = new URL('../dist/enseal.browser.js', import.meta.url);
const files: Record<string, [URL | '', string]> = {
  '/enseal.browser.js': [BUNDLE, 'text/javascript'],
  '/enseal-v1.json': [new URL('./vectors/enseal-v1.json', import.meta.url), 'application/json'],
  '/aes_gcm_test.json': [new URL('./vectors/wycheproof/aes_gcm_test.json', import.meta.url), 'application/json'],
  '/': ['', 'text/html'],
};
const PAGE = `<!doctype html><title>enseal wasm</title>
<script type="module">import * as enseal from '/enseal.browser.js'; window.enseal = enseal;</script>`;
let server: Server | undefined;
let port = 0;
let browser: Browser | undefined;
let context: BrowserContext | undefined;


interface PageResult {
  secure: boolean;
  subtle: boolean;
  backends: string[];
  defaultBackend: string;
  gcm: { total: number; failed: number[] };
  vectors: boolean[];
  roundTrips: boolean[];
  sameAsWebCrypto: boolean | null;
  tamper: string;
  ranges: boolean[];
  integrity: { crcEngine: string; crcSame: boolean; md5Abc: string; sha256Same: boolean | null; streamed: boolean };
  webcryptoWhereMissing: string | null;
}

/** Runs the checks inside a page at `url` with backend `backend` (undefined: the default). */
async function runPage(url: string, backend: 'wasm' | 'webcrypto' | undefined): Promise<PageResult> {
  // One context for the whole file (the sparticuz build runs Chromium single-process: closing a
  // context can take the browser down); one page per check.
  const page = await context!.newPage();
  try {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(url);
    await page.waitForFunction(() => 'enseal' in window, undefined, { timeout: 30_000 });
    const result = await page.evaluate(async (backend) => {
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
      const out: Record<string, unknown> = {
        secure: isSecureContext,
        subtle: typeof globalThis.crypto?.subtle?.encrypt === 'function',
        backends: e.availableBackends(),
        defaultBackend: e.getBackend().name,
      };
      const opts = backend === undefined ? {} : { backend };
      // Wycheproof AES-GCM, every 96-bit IV case, through the synchronous API.
      await e.ready();
      const w = e.wasmSync();
      const groups = (await (await fetch('/aes_gcm_test.json')).json()).testGroups.filter((g: { ivSize: number }) => g.ivSize === 96);
      const failed: number[] = [];
      let total = 0;
      for (const g of groups) {
        for (const t of g.tests) {
          total++;
          const sealed = hex(t.ct + t.tag);
          let ok: boolean;
          if (t.result === 'valid') {
            ok = toHex(w.gcmSeal(hex(t.key), hex(t.iv), hex(t.msg), hex(t.aad))) === t.ct + t.tag && toHex(w.gcmOpen(hex(t.key), hex(t.iv), sealed, hex(t.aad))) === t.msg;
          } else {
            try {
              w.gcmOpen(hex(t.key), hex(t.iv), sealed, hex(t.aad));
              ok = false;
            } catch (err) {
              ok = (err as { code?: string }).code === 'ERR_AUTH';
            }
          }
          if (!ok) failed.push(t.tcId);
        }
      }
      out.gcm = { total, failed };
      // enseal-v1 vectors.
      const v = await (await fetch('/enseal-v1.json')).json();
      out.vectors = await Promise.all(
        v.positive.map(async (p: { recipients: string[]; ciphertext: string; plaintext: string; context: Record<string, string> }) => {
          const k = v.keys[p.recipients[0]!];
          const pt = await e.decrypt(hex(p.ciphertext), { keys: [e.aesKey({ id: k.id, key: hex(k.key) })], context: p.context, ...opts });
          return toHex(pt) === p.plaintext;
        }),
      );
      // Round trips: one-shot, streams, a range.
      const key = e.aesKey({ id: 'w', key: crypto.getRandomValues(new Uint8Array(32)) });
      const plain = crypto.getRandomValues(new Uint8Array(50000));
      const sealed = await e.encrypt(plain, { recipients: [key], ...opts });
      const trips: boolean[] = [toHex(await e.decrypt(sealed, { keys: [key], ...opts })) === toHex(plain)];
      const streamed = new Uint8Array(await drain(streamOf(plain).pipeThrough(e.encryptStream({ recipients: [key], ...opts }))));
      const back = new Uint8Array(await drain(streamOf(streamed).pipeThrough(e.decryptStream({ keys: [key], ...opts }))));
      trips.push(toHex(back) === toHex(plain));
      const source = { size: sealed.length, read: async (o: number, n: number) => sealed.slice(o, o + n) };
      trips.push(toHex(await e.decryptRange(source, { start: 20000, end: 33000 }, { keys: [key], ...opts })) === toHex(plain.subarray(20000, 33001)));
      out.roundTrips = trips;
      // Ranges around chunk boundaries, through a reader, and the stream cut into odd writes.
      const reader = await e.openReader(source, { keys: [key], ...opts });
      const cuts: [number, number][] = [[0, 0], [16383, 16384], [16384, 32767], [1, 49999], [49999, 49999]];
      const ranges: boolean[] = [];
      for (const [a, b] of cuts) ranges.push(toHex(await reader.read({ start: a, end: b })) === toHex(plain.subarray(a, b + 1)));
      const odd = new ReadableStream<Uint8Array>({
        start(c) {
          for (let off = 0; off < sealed.length; off += 4099) c.enqueue(sealed.slice(off, off + 4099));
          c.close();
        },
      });
      ranges.push(toHex(new Uint8Array(await drain(odd.pipeThrough(e.decryptStream({ keys: [key], ...opts }))))) === toHex(plain));
      out.ranges = ranges;
      // Integrity in the same pass: the tap, and digests of both sides of an encryptStream.
      const tap = e.checksumStream({ crc64: true, md5: true, sha256: true });
      await drain(streamOf(plain).pipeThrough(tap));
      const d = await tap.digests;
      const md5Tap = e.checksumStream({ md5: true });
      await drain(streamOf(new TextEncoder().encode('abc')).pipeThrough(md5Tap));
      const check = e.integrityCheck({ plaintext: { crc64: true }, ciphertext: { crc64: true } });
      const sealed2 = new Uint8Array(await drain(streamOf(plain).pipeThrough(e.encryptStream({ recipients: [key], ...opts, integrity: check }))));
      const both = await check.digests;
      out.integrity = {
        crcEngine: (await e.createCrc64()).engine,
        crcSame: d.crc64 === new e.Crc64('js').update(plain).digest().toString() && both.plaintext.crc64 === d.crc64 && both.ciphertext.crc64 === e.crc64(sealed2).toString(),
        md5Abc: (await md5Tap.digests).md5,
        sha256Same: out.subtle ? d.sha256 === toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', plain))) : null,
        streamed: toHex(await e.decrypt(sealed2, { keys: [key], ...opts })) === toHex(plain),
      };
      // A backend the page lacks says ERR_UNSUPPORTED (never a crash).
      out.webcryptoWhereMissing = out.subtle ? null : await e.encrypt(plain, { recipients: [key], backend: 'webcrypto' }).then(() => 'encrypted', (err: { code?: string }) => err.code ?? String(err));
      // The same bytes as WebCrypto where WebCrypto exists.
      if (out.subtle) {
        const k = crypto.getRandomValues(new Uint8Array(32));
        const iv = crypto.getRandomValues(new Uint8Array(12));
        const aad = crypto.getRandomValues(new Uint8Array(33));
        const ck = await crypto.subtle.importKey('raw', k, 'AES-GCM', false, ['encrypt']);
        const web = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad }, ck, plain));
        out.sameAsWebCrypto = toHex(w.gcmSeal(k, iv, plain, aad)) === toHex(web);
      } else {
        out.sameAsWebCrypto = null;
      }
      // Tampering.
      const bad = sealed.slice();
      bad[bad.length - 20] ^= 1;
      out.tamper = await e.decrypt(bad, { keys: [key], ...opts }).then(() => 'decrypted', (err: { code?: string }) => err.code);
      return out;
    }, backend);
    expect(errors).toEqual([]);
    return result as unknown as PageResult;
  } finally {
    await page.close().catch(() => undefined);
  }
}

describe('the WASM core in headless Chromium', () => {
  beforeAll(async () => {
    if (!existsSync(BUNDLE)) throw new Error('dist/enseal.browser.js is missing: run `npm run build`');
    const { executablePath, args } = await chromiumBinary(['--host-resolver-rules=MAP enseal.test 127.0.0.1']);
    server = createServer((req, res) => {
      const f = files[req.url ?? ''];
      if (f === undefined) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': f[1] }).end(f[0] === '' ? PAGE : readFileSync(f[0]));
    });
    const s = server;
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(0, '127.0.0.1', resolve);
    });
    port = (s.address() as AddressInfo).port;
    try {
      browser = await chromium.launch({ executablePath, headless: true, args, timeout: 30_000 });
    } catch (e) {
      throw new Error(`Chromium (${executablePath}) did not launch: ${String(e)}`, { cause: e });
    }
    context = await browser.newContext();
  }, 90_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    const s = server;
    if (s?.listening) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }, 30_000);

  it('a non-secure origin over plain http:// has no crypto.subtle, and the default is the WASM core', async () => {
    const r = await runPage(`http://enseal.test:${port}/`, undefined);
    expect(r.secure).toBe(false);
    expect(r.subtle).toBe(false);
    expect(r.backends).toEqual(['wasm']);
    expect(r.defaultBackend).toBe('wasm');
    expect(r.sameAsWebCrypto).toBeNull();
    expect(r.gcm).toEqual({ total: 197, failed: [] });
    expect(r.vectors).toEqual([true, true, true, true]);
    expect(r.roundTrips).toEqual([true, true, true]);
    expect(r.tamper).toBe('ERR_AUTH');
    expect(r.ranges).toEqual([true, true, true, true, true, true]);
    expect(r.integrity).toEqual({ crcEngine: 'wasm', crcSame: true, md5Abc: 'kAFQmDzST7DWlj99KOF/cg==', sha256Same: null, streamed: true });
    expect(r.webcryptoWhereMissing).toBe('ERR_UNSUPPORTED');
  }, 120_000);

  it("on localhost (secure) backend: 'wasm' passes the same checks next to WebCrypto", async () => {
    const r = await runPage(`http://127.0.0.1:${port}/`, 'wasm');
    expect(r.secure).toBe(true);
    expect(r.subtle).toBe(true);
    expect(r.backends).toEqual(['webcrypto', 'wasm']);
    expect(r.defaultBackend).toBe('webcrypto');
    expect(r.sameAsWebCrypto).toBe(true);
    expect(r.gcm).toEqual({ total: 197, failed: [] });
    expect(r.vectors).toEqual([true, true, true, true]);
    expect(r.roundTrips).toEqual([true, true, true]);
    expect(r.tamper).toBe('ERR_AUTH');
    expect(r.ranges).toEqual([true, true, true, true, true, true]);
    expect(r.integrity).toEqual({ crcEngine: 'wasm', crcSame: true, md5Abc: 'kAFQmDzST7DWlj99KOF/cg==', sha256Same: true, streamed: true });
  }, 120_000);

  it("on localhost backend: 'webcrypto' passes the same vectors, round trips, ranges and streams", async () => {
    const r = await runPage(`http://127.0.0.1:${port}/`, 'webcrypto');
    expect(r.secure).toBe(true);
    expect(r.defaultBackend).toBe('webcrypto');
    expect(r.sameAsWebCrypto).toBe(true);
    expect(r.gcm).toEqual({ total: 197, failed: [] });
    expect(r.vectors).toEqual([true, true, true, true]);
    expect(r.roundTrips).toEqual([true, true, true]);
    expect(r.tamper).toBe('ERR_AUTH');
    expect(r.ranges).toEqual([true, true, true, true, true, true]);
    expect(r.integrity).toEqual({ crcEngine: 'wasm', crcSame: true, md5Abc: 'kAFQmDzST7DWlj99KOF/cg==', sha256Same: true, streamed: true });
  }, 120_000);
});
