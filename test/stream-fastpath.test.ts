/**
 * The synchronous fast paths of issue 10 (stream overhead, per-message cost), on every backend:
 * - streams fed random write sizes and read by a consumer with random delays produce exactly the
 *   bytes of an independent node:crypto reference (HKDF-Expand + one GCM call per chunk with the
 *   C2SP nonces computed here), so the one nonce scratch buffer of the node backend is never
 *   shared between chunks, whatever the timing;
 * - decryption streams release whole authenticated chunks only, also through the fast path;
 * - the node backend's SyncGcm methods agree with its asynchronous ones, append nothing on a
 *   failure and refuse a disposed key; ChunkCipher's sync methods enforce the 2^38-chunk limit;
 * - keyed HMACs (node one-shot hashes, WebCrypto key-once) agree with node:crypto's createHmac;
 * - the node backend's pooled small random draws are fresh each time;
 * - encrypt/decrypt's concurrent key derivation disposes every key on every failure.
 */
import { createCipheriv, createHmac } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aesKey, decrypt, encrypt, getBackend, type KeyProvider } from '../src/index.js';
import * as chunked from '../src/chunked.js';
import { createDecryptStream, createEncryptStream } from '../src/node.js';
import { liveKeyCount } from '../src/backends/live-keys.js';
import { keyedHmacOf, syncGcmOf, syncHmacOf } from '../src/backends/sync.js';
import { ChunkCipher, COBBLESTONE_256, MAX_CHUNKS, deriveMessageKeys } from '../src/format/cobblestone.js';
import type { Bytes } from '../src/bytes.js';
import { BACKENDS, caught, expectCode, pseudoRandom, toHex } from './helpers.js';

const CHUNK = 16384;
const SEALED = CHUNK + 16;
const INFO = Buffer.from('c2sp.org/chunked-encryption@v1+AEAD_AES_256_GCM\0');

/** Independent reference: C2SP Cobblestone-256 with node:crypto only (spec §"Key derivation", §"AEAD usage"). */
function referenceSeal(inputKey: Uint8Array, salt: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const info = Buffer.concat([INFO, salt]);
  const t1 = createHmac('sha512', inputKey).update(Buffer.concat([info, Buffer.of(1)])).digest();
  const t2 = createHmac('sha512', inputKey).update(Buffer.concat([t1, info, Buffer.of(2)])).digest();
  const okm = Buffer.concat([t1, t2]);
  const key = okm.subarray(0, 32);
  const base = okm.subarray(32, 44);
  const parts: Buffer[] = [Buffer.from(salt), okm.subarray(44, 76)];
  const n = Math.floor(plaintext.length / CHUNK) + 1;
  for (let i = 0; i < n; i++) {
    const nonce = Buffer.from(base);
    for (let b = 0, x = i; b < 6; b++, x = Math.floor(x / 256)) nonce[11 - b]! ^= x % 256;
    const c = createCipheriv('aes-256-gcm', key, nonce);
    parts.push(c.update(plaintext.subarray(i * CHUNK, Math.min(plaintext.length, (i + 1) * CHUNK))), c.final(), c.getAuthTag());
  }
  return Buffer.concat(parts);
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes `input` in pieces of `sizes` (cycled) while a consumer reads with the given delays (cycled, ms). */
async function drive(ts: TransformStream<Uint8Array, Uint8Array>, input: Uint8Array, sizes: number[], delays: number[]): Promise<{ out: Uint8Array; error: unknown }> {
  const parts: Uint8Array[] = [];
  const reader = ts.readable.getReader();
  const reading = (async () => {
    for (let i = 0; ; i++) {
      const d = delays[i % delays.length]!;
      if (d > 0) await delay(d);
      const { done, value } = await reader.read();
      if (done) return;
      parts.push(value.slice()); // a copy: a later reuse of the emitted buffer would show up as a mismatch
    }
  })();
  const writer = ts.writable.getWriter();
  let error: unknown;
  try {
    for (let off = 0, i = 0; off < input.length; i++) {
      const n = sizes[i % sizes.length]!;
      await writer.write(input.subarray(off, off + n));
      off += n;
    }
    await writer.close();
  } catch (e) {
    error = e;
  }
  const readError = await caught(reading); // always awaited: its rejection is part of the result
  error ??= readError;
  return { out: Buffer.concat(parts), error };
}

const writeSizes = fc.array(fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1000, max: 70_000 }), fc.constantFrom(CHUNK, SEALED, 4 * CHUNK)), { minLength: 1, maxLength: 5 });
const delays = fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 });

for (const backend of BACKENDS) {
  describe(`stream fast paths / ${backend}`, () => {
    it('sealStream over random write sizes and consumer delays = the independent node:crypto reference, byte for byte', async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 6 * CHUNK + 100 }), fc.integer({ min: 1, max: 1e9 }), writeSizes, delays, async (n, seed, sizes, ds) => {
          const key = pseudoRandom(32, seed);
          const salt = pseudoRandom(24, seed + 1);
          const pt = pseudoRandom(n, seed + 2);
          const { out, error } = await drive(chunked.sealStream(key, { salt, backend }), pt, sizes, ds);
          expect(error).toBeUndefined();
          expect(toHex(out)).toBe(toHex(referenceSeal(key, salt, pt)));
        }),
        { numRuns: 25 },
      );
    });

    it('openStream and decryptStream over random write sizes and consumer delays return the plaintext', async () => {
      const k = aesKey({ id: 'fast', key: pseudoRandom(32, 77) });
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 6 * CHUNK + 100 }), fc.integer({ min: 1, max: 1e9 }), writeSizes, delays, async (n, seed, sizes, ds) => {
          const key = pseudoRandom(32, seed);
          const pt = pseudoRandom(n, seed + 2);
          const sealed = referenceSeal(key, pseudoRandom(24, seed + 1), pt);
          const a = await drive(chunked.openStream(key, { backend }), sealed, sizes, ds);
          expect(a.error).toBeUndefined();
          expect(toHex(a.out)).toBe(toHex(pt));
          const object = await encrypt(pt, { recipients: [k], backend: 'node' });
          const b = await drive((await import('../src/index.js')).decryptStream({ keys: [k], backend }), object, sizes, ds);
          expect(b.error).toBeUndefined();
          expect(toHex(b.out)).toBe(toHex(pt));
        }),
        { numRuns: 15 },
      );
    });

    it('a tampered chunk: only the whole chunks before it are released, then ERR_AUTH with its index', async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: SEALED - 1 }), writeSizes, delays, async (bad, at, sizes, ds) => {
          const key = pseudoRandom(32, bad);
          const pt = pseudoRandom(5 * CHUNK + 10, 3);
          const sealed = referenceSeal(key, pseudoRandom(24, 4), pt);
          sealed[56 + bad * SEALED + Math.min(at, (bad === 5 ? 26 : SEALED) - 1)]! ^= 0x20;
          const { out, error } = await drive(chunked.openStream(key, { backend }), sealed, sizes, ds);
          expect(error).toMatchObject({ code: 'ERR_AUTH', chunk: bad });
          expect(out.length % CHUNK).toBe(0);
          expect(out.length).toBeLessThanOrEqual(bad * CHUNK);
          expect(toHex(out)).toBe(toHex(pt.subarray(0, out.length)));
        }),
        { numRuns: 20 },
      );
    });

    it('createEncryptStream / createDecryptStream over random write sizes: every other backend decrypts the output', async () => {
      const k = aesKey({ id: 'node-fast', key: pseudoRandom(32, 78) });
      const sink = (parts: Uint8Array[]) => new Writable({ write: (c, _e, cb) => (parts.push(Uint8Array.from(c)), cb()) });
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 5 * CHUNK + 100 }), writeSizes, async (n, sizes) => {
          const pt = pseudoRandom(n, n + 5);
          const pieces = (b: Uint8Array): Uint8Array[] => {
            const out: Uint8Array[] = [];
            for (let off = 0, i = 0; off < b.length; i++) out.push(b.subarray(off, (off += sizes[i % sizes.length]!)));
            return out;
          };
          const ct: Uint8Array[] = [];
          await pipeline(Readable.from(pieces(pt)), createEncryptStream({ recipients: [k], backend }), sink(ct));
          const object = Buffer.concat(ct);
          for (const other of BACKENDS) expect(toHex(await decrypt(object, { keys: [k], backend: other }))).toBe(toHex(pt));
          const back: Uint8Array[] = [];
          await pipeline(Readable.from(pieces(object)), createDecryptStream({ keys: [k], backend }), sink(back));
          expect(toHex(Buffer.concat(back))).toBe(toHex(pt));
        }),
        { numRuns: 10 },
      );
    });

    it('Web streams emit plain Uint8Arrays (slice() copies), Node streams Buffers, on the fast path too', async () => {
      const k = aesKey({ id: 'kinds', key: pseudoRandom(32, 79) });
      const pt = pseudoRandom(3 * CHUNK + 5, 80);
      const { encryptStream, decryptStream } = await import('../src/index.js');
      const name = (proto: unknown): string => (proto === Uint8Array.prototype ? 'Uint8Array' : proto === Buffer.prototype ? 'Buffer' : 'other');
      const kinds = async (ts: TransformStream<Uint8Array, Uint8Array>, input: Uint8Array): Promise<{ protos: Set<unknown>; out: Uint8Array }> => {
        const protos = new Set<unknown>();
        const parts: Uint8Array[] = [];
        const reader = ts.readable.getReader();
        const reading = (async () => {
          for (let r = await reader.read(); !r.done; r = await reader.read()) {
            protos.add(Object.getPrototypeOf(r.value));
            const copy = r.value.slice();
            r.value.fill(0); // a consumer may wipe what it read: its copy must survive
            parts.push(copy);
          }
        })();
        const writer = ts.writable.getWriter();
        await writer.write(input.slice(0, 20_000));
        await writer.write(input.slice(20_000));
        await writer.close();
        await reading;
        return { protos, out: Buffer.concat(parts) };
      };
      const sealed = await kinds(encryptStream({ recipients: [k], backend }), pt);
      expect([...sealed.protos].map(name)).toEqual(['Uint8Array']);
      const opened = await kinds(decryptStream({ keys: [k], backend }), sealed.out);
      expect([...opened.protos].map(name)).toEqual(['Uint8Array']);
      expect(toHex(opened.out)).toBe(toHex(pt));
      const chunkedOut = await kinds(chunked.sealStream(pseudoRandom(32, 81), { backend }), pt);
      expect([...chunkedOut.protos].map(name)).toEqual(['Uint8Array']);
      const nodeProtos = new Set<unknown>();
      const back: Uint8Array[] = [];
      await pipeline(
        Readable.from([sealed.out.subarray(0, 30_000), sealed.out.subarray(30_000)]),
        createDecryptStream({ keys: [k], backend }),
        new Writable({ write: (c, _e, cb) => (nodeProtos.add(Object.getPrototypeOf(c)), back.push(Uint8Array.from(c)), cb()) }),
      );
      expect([...nodeProtos].map(name)).toEqual(['Buffer']);
      expect(toHex(Buffer.concat(back))).toBe(toHex(pt));
    });

    it('ChunkCipher sync methods exist exactly on node; they equal the async ones and enforce the 2^38 limit', async () => {
      const { cipher } = await deriveMessageKeys(getBackend(backend), COBBLESTONE_256, pseudoRandom(32, 9), new Uint8Array(24), new Uint8Array(0));
      try {
        expect(cipher.sync).toBe(backend === 'node');
        if (!cipher.sync) {
          expect(() => cipher.sealChunksSync(0, [], [])).toThrow(TypeError);
          return;
        }
        const pts = [pseudoRandom(CHUNK, 1), pseudoRandom(CHUNK, 2), pseudoRandom(7, 3)];
        const pieces: Bytes[] = [];
        cipher.sealChunksSync(5, pts, pieces);
        expect(toHex(Buffer.concat(pieces))).toBe(toHex(Buffer.concat(await cipher.sealChunks(5, pts))));
        expect(toHex(cipher.sealSync(9, pts[2]!))).toBe(toHex(await cipher.seal(9, pts[2]!)));
        const sealed = [Buffer.concat(pieces.slice(0, 2)), Buffer.concat(pieces.slice(2, 4)), Buffer.concat(pieces.slice(4))];
        const opened: Bytes[] = [];
        cipher.openChunksSync(5, sealed, opened);
        expect(opened.map(toHex)).toEqual(pts.map(toHex));
        // A failing chunk: nothing appended, ERR_AUTH names the absolute index.
        const bad = sealed.map((s) => Uint8Array.from(s));
        bad[1]![3]! ^= 1;
        const out: Bytes[] = [pseudoRandom(3, 1) as Bytes];
        let e: unknown;
        try {
          cipher.openChunksSync(5, bad, out);
        } catch (err) {
          e = err;
        }
        expect(e).toMatchObject({ code: 'ERR_AUTH', chunk: 6 });
        expect(out).toHaveLength(1);
        expect(() => cipher.openSync(7, bad[1]!)).toThrow(expect.objectContaining({ code: 'ERR_AUTH', chunk: 7 }));
        expect(() => cipher.sealChunksSync(MAX_CHUNKS - 1, [pts[2]!, pts[2]!], [])).toThrow(expect.objectContaining({ code: 'ERR_LIMIT' }));
        const last: Bytes[] = [];
        cipher.sealChunksSync(MAX_CHUNKS - 1, [pts[2]!], last); // the last allowed index
        expect(toHex(Buffer.concat(last))).toBe(toHex(await cipher.seal(MAX_CHUNKS - 1, pts[2]!)));
      } finally {
        cipher.dispose();
      }
      expect(() => cipher.sealChunksSync(0, [], [])).toThrow(expect.objectContaining({ code: 'ERR_STATE' }));
      expect(() => cipher.openChunksSync(0, [], [])).toThrow(expect.objectContaining({ code: 'ERR_STATE' }));
    });

    it('keyed HMAC fast paths agree with createHmac (SHA-256/384/512; empty, short, block-size and long keys)', async () => {
      const b = getBackend(backend);
      const sync = syncHmacOf(b);
      const keyed = keyedHmacOf(b);
      // node and webcrypto: the SHA-2 module's keyed HMAC (src/backends/wasm-sha2.ts); webcrypto
      // also keeps its WebCrypto key-once HMAC (used where WebAssembly cannot run).
      expect(sync !== undefined).toBe(backend === 'node' || backend === 'webcrypto');
      expect(keyed !== undefined).toBe(backend === 'webcrypto');
      for (const hash of ['SHA-256', 'SHA-384', 'SHA-512'] as const) {
        for (const kl of [0, 1, 32, 64, 128, 129, 300]) {
          const key = pseudoRandom(kl, kl + 1);
          for (const mac of [sync?.(hash, key), keyed !== undefined ? await keyed(hash, key) : undefined]) {
            if (mac === undefined) continue;
            for (const dl of [0, 1, 100, 1000]) {
              const data = pseudoRandom(dl, dl + 7);
              const want = createHmac(hash.replace('-', '').toLowerCase(), key).update(data).digest('hex');
              expect(toHex(await mac.mac(data)), `${hash} key ${kl} data ${dl}`).toBe(want);
            }
            mac.dispose();
            mac.dispose();
            await expectCode(Promise.resolve().then(() => mac.mac(new Uint8Array(1))), 'ERR_STATE');
          }
        }
      }
      // A backend whose hmac is replaced loses the fast path (so spies and wrappers see every call).
      const wrapped = { ...b, hmac: (h: 'SHA-256', k: Uint8Array, d: Uint8Array) => b.hmac(h, k, d) };
      expect(syncHmacOf(wrapped)).toBeUndefined();
      expect(keyedHmacOf(wrapped)).toBeUndefined();
      expect(syncHmacOf({ ...b }) !== undefined).toBe(backend !== 'wasm'); // a plain copy keeps it
    });

    it('a GCM key re-wrapped in another object has no sync methods (its own seal/open are used)', async () => {
      const k = await getBackend(backend).aesGcm(pseudoRandom(32, 4));
      expect(syncGcmOf(k) !== undefined).toBe(backend === 'node');
      expect(syncGcmOf({ ...k })).toBeUndefined();
      const c = new ChunkCipher({ seal: k.seal.bind(k), open: k.open.bind(k), sealBatch: k.sealBatch.bind(k), openBatch: k.openBatch.bind(k), dispose: () => k.dispose() }, new Uint8Array(12));
      expect(c.sync).toBe(false);
      c.dispose();
    });

    it('encrypt / decrypt: a failing recipient, a bad header MAC or a bad commitment leave no key alive', async () => {
      const good = aesKey({ id: 'good', key: pseudoRandom(32, 11) });
      const failing: KeyProvider = { description: 'failing', wrap: async () => { await delay(2); throw new Error('wrap failed'); }, unwrap: async () => null };
      const before = liveKeyCount();
      expect(await caught(encrypt(pseudoRandom(100, 1), { recipients: [good, failing], backend }))).toMatchObject({ message: 'wrap failed' });
      const object = await encrypt(pseudoRandom(40_000, 2), { recipients: [good], backend });
      const h = object.length - (40_000 + 56 + 3 * 16);
      const badMac = object.slice();
      badMac[h - 1]! ^= 1;
      await expectCode(decrypt(badMac, { keys: [good], backend }), 'ERR_AUTH');
      const badCommit = object.slice();
      badCommit[h + 30]! ^= 1;
      expect(await caught(decrypt(badCommit, { keys: [good], backend }))).toMatchObject({ code: 'ERR_AUTH', message: expect.stringContaining('commitment') });
      const truncated = object.subarray(0, h + 40);
      await expectCode(decrypt(truncated, { keys: [good], backend }), 'ERR_TRUNCATED');
      const badChunk = object.slice();
      badChunk[h + 56 + SEALED + 1]! ^= 1;
      expect(await caught(decrypt(badChunk, { keys: [good], backend }))).toMatchObject({ code: 'ERR_AUTH', chunk: 1 });
      for (let i = 0; i < 200 && liveKeyCount() !== before; i++) await delay(5);
      expect(liveKeyCount()).toBe(before);
    });
  });
}

describe('node backend: pooled small random draws', () => {
  it('every draw is fresh (no repeats across pool refills), lengths are exact, large draws bypass the pool', () => {
    const b = getBackend('node');
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) seen.add(toHex(b.randomBytes(12 + (i % 3) * 10)));
    expect(seen.size).toBe(300);
    for (const n of [0, 1, 63, 64, 65, 1000, 70_000]) expect(b.randomBytes(n)).toHaveLength(n);
    expect(b.randomBytes(64).some((x) => x !== 0)).toBe(true);
    expect(() => b.randomBytes(-1)).toThrow(RangeError);
  });
});
