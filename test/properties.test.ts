/**
 * Property tests (fast-check) on every backend: one-shot and streamed round trips across the
 * chunk-boundary sizes and random sizes, stream/one-shot interoperability, ranged reads against
 * `slice`, HTTP-416 semantics, repeated reads on one reader, cross-backend decryption and
 * byte-identical sealing, odd-offset inputs that are never mutated, and the size arithmetic
 * (`ciphertextSize`, `plaintextSize`, `ciphertextRange`) against real objects.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  aesKey,
  ciphertextRange,
  ciphertextSize,
  decrypt,
  decryptRange,
  decryptStream,
  encrypt,
  encryptStream,
  inspect,
  openReader,
  plaintextSize,
  RangeNotSatisfiableError,
} from '../src/index.js';
import * as chunked from '../src/chunked.js';
import { EnsealError } from '../src/errors.js';
import { liveKeyCount } from '../src/backends/live-keys.js';
import { atOddOffset, BACKENDS, expectCode, pipeBytes, pseudoRandom } from './helpers.js';

const CHUNK = 16384;
const SEALED = CHUNK + 16;
const PRE = 56;
const KEY = aesKey({ id: 'prop', key: pseudoRandom(32, 11) });
const BOUNDARY_SIZES = [0, 1, 16383, 16384, 16385, 32767, 32768, 32769, 49151, 49152, 49153];
/** A boundary size or a random size up to 200 000, with a content seed. */
const sizeArb = fc.oneof(fc.constantFrom(...BOUNDARY_SIZES), fc.integer({ min: 0, max: 200_000 }));
const seedArb = fc.integer({ min: 1, max: 0x7fffffff });
const contextArb = fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== '__proto__'), fc.string({ maxLength: 12 }), { maxKeys: 3 });
const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && Buffer.compare(a, b) === 0;

const memSource = (b: Uint8Array) => ({ size: b.length, read: async (o: number, l: number) => b.slice(o, o + l) });

for (const backend of BACKENDS) {
  describe(`properties / ${backend}`, () => {
    const enc = (pt: Uint8Array, context?: Record<string, string>) => encrypt(pt, { recipients: [KEY], backend, context });
    const dec = (ct: Uint8Array) => decrypt(ct, { keys: [KEY], backend });

    it('decrypt(encrypt(x)) = x at every chunk-boundary size, with the predicted length', async () => {
      for (const n of BOUNDARY_SIZES) {
        const pt = pseudoRandom(n, n + 1);
        const ct = await enc(pt);
        const h = inspect(ct).headerLength;
        expect(ct.length, `size ${n}`).toBe(ciphertextSize(n, h));
        expect(plaintextSize(ct.length, h)).toBe(n);
        expect(same(await dec(ct), pt), `size ${n}`).toBe(true);
      }
    });

    it('decrypt(encrypt(x)) = x for random sizes up to 200 000 and random contexts', async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 200_000 }), seedArb, contextArb, async (n, seed, context) => {
          const pt = pseudoRandom(n, seed);
          const ct = await enc(pt, context);
          expect(inspect(ct).context).toEqual(context);
          expect(same(await decrypt(ct, { keys: [KEY], backend, context }), pt)).toBe(true);
        }),
        { numRuns: 40 },
      );
    });

    it('encryptStream → decryptStream round trip with random write sizes', async () => {
      const writes = fc.array(fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1000, max: 50_000 })), { minLength: 1, maxLength: 6 })
        .filter((ws) => ws.some((w) => w >= 1000)); // bounded number of writes for large inputs
      await fc.assert(
        fc.asyncProperty(sizeArb, seedArb, writes, writes, async (n, seed, encWrites, decWrites) => {
          const pt = pseudoRandom(n, seed);
          const e = await pipeBytes(encryptStream({ recipients: [KEY], backend }), pt, encWrites);
          expect(e.error).toBeUndefined();
          expect(e.output.length).toBe(ciphertextSize(n, inspect(e.output).headerLength));
          const d = await pipeBytes(decryptStream({ keys: [KEY], backend }), e.output, decWrites);
          expect(d.error).toBeUndefined();
          expect(same(d.output, pt)).toBe(true);
        }),
        { numRuns: 40 },
      );
    });

    it('byte-by-byte and tiny writes for small inputs (both directions)', async () => {
      const tiny = fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 4 });
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 600 }), seedArb, fc.oneof(fc.constant([1]), tiny), fc.oneof(fc.constant([1]), tiny), async (n, seed, ew, dw) => {
          const pt = pseudoRandom(n, seed);
          const e = await pipeBytes(encryptStream({ recipients: [KEY], backend }), pt, ew);
          expect(e.error).toBeUndefined();
          const d = await pipeBytes(decryptStream({ keys: [KEY], backend }), e.output, dw);
          expect(d.error).toBeUndefined();
          expect(same(d.output, pt)).toBe(true);
        }),
        { numRuns: 30 },
      );
    });

    it('streamed encryption decrypts one-shot, and one-shot encryption decrypts streamed', async () => {
      await fc.assert(
        fc.asyncProperty(sizeArb, seedArb, fc.integer({ min: 1, max: 70_000 }), async (n, seed, w) => {
          const pt = pseudoRandom(n, seed);
          const streamed = await pipeBytes(encryptStream({ recipients: [KEY], backend }), pt, [w]);
          expect(streamed.error).toBeUndefined();
          expect(same(await dec(streamed.output), pt)).toBe(true);
          const d = await pipeBytes(decryptStream({ keys: [KEY], backend }), await enc(pt), [w]);
          expect(d.error).toBeUndefined();
          expect(same(d.output, pt)).toBe(true);
        }),
        { numRuns: 30 },
      );
    });

    describe('ranged reads', () => {
      // Objects of several shapes: one byte, one full chunk + empty final, 6 full + short final.
      const objects = Promise.all(
        [1, 100, CHUNK, 2 * CHUNK + 1, 100_003].map(async (n) => {
          const pt = pseudoRandom(n, n);
          return { pt, ct: await enc(pt) };
        }),
      );
      const objIndex = fc.integer({ min: 0, max: 4 });

      it('decryptRange(source, {start, end}) = plaintext.slice(start, end + 1); end past the size clamps', async () => {
        const objs = await objects;
        await fc.assert(
          fc.asyncProperty(objIndex, fc.double({ min: 0, max: 1, noNaN: true }), fc.option(fc.integer({ min: 0, max: 120_000 })), async (i, f, len) => {
            const { pt, ct } = objs[i]!;
            const start = Math.min(pt.length - 1, Math.floor(f * pt.length));
            const end = len === null ? undefined : start + len; // may run past the end
            const got = await decryptRange(memSource(ct), end === undefined ? { start } : { start, end }, { keys: [KEY], backend });
            expect(same(got, pt.slice(start, end === undefined ? undefined : end + 1))).toBe(true);
          }),
          { numRuns: 150 },
        );
      });

      it('start ≥ size → RangeNotSatisfiableError (ERR_RANGE) carrying the size', async () => {
        const objs = [...(await objects), { pt: new Uint8Array(0), ct: await enc(new Uint8Array(0)) }];
        await fc.assert(
          fc.asyncProperty(fc.integer({ min: 0, max: objs.length - 1 }), fc.integer({ min: 0, max: 100_000 }), fc.option(fc.integer({ min: 0, max: 10 })), async (i, extra, len) => {
            const { pt, ct } = objs[i]!;
            const start = pt.length + extra;
            const range = len === null ? { start } : { start, end: start + len };
            const e = await expectCode(decryptRange(memSource(ct), range, { keys: [KEY], backend }), 'ERR_RANGE');
            expect(e).toBeInstanceOf(RangeNotSatisfiableError);
            expect((e as RangeNotSatisfiableError).size).toBe(pt.length);
          }),
          { numRuns: 60 },
        );
      });

      it('openReader: several reads on one reader, each equal to the slice', async () => {
        const objs = await objects;
        const rangeArb = fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 40_000 }));
        await fc.assert(
          fc.asyncProperty(objIndex, fc.array(rangeArb, { minLength: 2, maxLength: 8 }), async (i, ranges) => {
            const { pt, ct } = objs[i]!;
            const r = await openReader(memSource(ct), { keys: [KEY], backend });
            try {
              expect(r.size).toBe(pt.length);
              for (const [f, len] of ranges) {
                const start = Math.min(pt.length - 1, Math.floor(f * pt.length));
                expect(same(await r.read({ start, end: start + len }), pt.slice(start, start + len + 1))).toBe(true);
              }
              expect(await r.verifiedSize()).toBe(pt.length);
              await expectCode(r.read({ start: pt.length }), 'ERR_RANGE');
            } finally {
              r.close();
            }
          }),
          { numRuns: 40 },
        );
      });

      it('ciphertextRange(start, end, headerLength) covers exactly the chunks holding those bytes', async () => {
        const { pt, ct } = (await objects)[4]!; // 7 chunks, the last one short
        const h = inspect(ct).headerLength;
        const finalAt = h + PRE + Math.floor(pt.length / CHUNK) * SEALED;
        await fc.assert(
          fc.asyncProperty(fc.integer({ min: 0, max: pt.length - 1 }), fc.integer({ min: 0, max: 40_000 }), async (start, len) => {
            const end = Math.min(pt.length - 1, start + len);
            const r = ciphertextRange(start, end, h);
            const first = Math.floor(start / CHUNK);
            const last = Math.floor(end / CHUNK);
            expect(r).toEqual({ start: h + PRE + first * SEALED, end: h + PRE + (last + 1) * SEALED - 1 });
            expect(ciphertextRange(start, end)).toEqual({ start: r.start - h, end: r.end - h });
            // The bytes at both ends of the range are needed: modifying them fails the read, as
            // the chunk that holds them.
            const o = { keys: [KEY], backend };
            for (const [at, chunk] of [[r.start, first], [Math.min(r.end, ct.length - 1), last]] as const) {
              const bad = ct.slice();
              bad[at]! ^= 0x01;
              expect((await expectCode(decryptRange(memSource(bad), { start, end }, o), 'ERR_AUTH')).chunk).toBe(chunk);
            }
            // The bytes just outside it are not (unless they belong to the final chunk, which every
            // ranged read authenticates).
            for (const at of [r.start - 1, r.end + 1]) {
              if (at < h + PRE || at >= finalAt) continue;
              const other = ct.slice();
              other[at]! ^= 0x01;
              expect(same(await decryptRange(memSource(other), { start, end }, o), pt.slice(start, end + 1))).toBe(true);
            }
          }),
          { numRuns: 30 },
        );
      });
    });

    it('an object encrypted with this backend decrypts identically on every backend (one-shot, stream, range)', async () => {
      await fc.assert(
        fc.asyncProperty(sizeArb, seedArb, async (n, seed) => {
          const pt = pseudoRandom(n, seed);
          const ct = await enc(pt);
          for (const other of BACKENDS) {
            expect(same(await decrypt(ct, { keys: [KEY], backend: other }), pt)).toBe(true);
            const d = await pipeBytes(decryptStream({ keys: [KEY], backend: other }), ct, [5000]);
            expect(d.error).toBeUndefined();
            expect(same(d.output, pt)).toBe(true);
            if (n > 0) expect(same(await decryptRange(memSource(ct), { start: n >> 1 }, { keys: [KEY], backend: other }), pt.slice(n >> 1))).toBe(true);
          }
        }),
        { numRuns: 25 },
      );
    });

    it('inputs given as subarrays at odd offsets work and are never mutated', async () => {
      await fc.assert(
        fc.asyncProperty(sizeArb, seedArb, async (n, seed) => {
          const pt = atOddOffset(pseudoRandom(n, seed));
          const ptAll = new Uint8Array(pt.buffer).slice(); // the whole backing buffer, padding included
          const ct = await enc(pt);
          expect(same(new Uint8Array(pt.buffer), ptAll)).toBe(true);

          const oddCt = atOddOffset(ct);
          const ctAll = new Uint8Array(oddCt.buffer).slice();
          expect(same(await dec(oddCt), pt)).toBe(true);
          if (n > 0) expect(same(await decryptRange(memSource(oddCt), { start: 0 }, { keys: [KEY], backend }), pt)).toBe(true);

          // Streams: every written piece is an odd-offset subarray of a larger buffer.
          const pieces = async (ts: TransformStream<Uint8Array, Uint8Array>, input: Uint8Array, size: number) => {
            const parts: Uint8Array[] = [];
            const reading = ts.readable.pipeTo(new WritableStream({ write: (p) => void parts.push(p) }));
            const w = ts.writable.getWriter();
            const written: [Uint8Array, Uint8Array][] = [];
            for (let off = 0; off < input.length; off += size) {
              const p = atOddOffset(input.subarray(off, off + size));
              written.push([p, new Uint8Array(p.buffer).slice()]);
              await w.write(p);
            }
            await w.close();
            await reading;
            for (const [p, copy] of written) expect(same(new Uint8Array(p.buffer), copy)).toBe(true);
            return new Uint8Array(Buffer.concat(parts));
          };
          const sct = await pieces(encryptStream({ recipients: [KEY], backend }), pt, 7001);
          expect(same(await pieces(decryptStream({ keys: [KEY], backend }), sct, 9001), pt)).toBe(true);
          expect(same(new Uint8Array(pt.buffer), ptAll)).toBe(true);
          expect(same(new Uint8Array(oddCt.buffer), ctAll)).toBe(true);

          // enseal/chunked: key, salt, context and message at odd offsets.
          const key = atOddOffset(pseudoRandom(32, seed + 1));
          const salt = atOddOffset(pseudoRandom(24, seed + 2));
          const context = atOddOffset(pseudoRandom(9, seed + 3));
          const inputs = [key, salt, context].map((b) => new Uint8Array(b.buffer).slice());
          const c = await chunked.seal(key, pt, { salt, context, backend });
          expect(same(c, await chunked.seal(key.slice(), pt.slice(), { salt: salt.slice(), context: context.slice(), backend }))).toBe(true);
          expect(same(await chunked.open(key, atOddOffset(c), { context, backend }), pt)).toBe(true);
          [key, salt, context].forEach((b, i) => expect(same(new Uint8Array(b.buffer), inputs[i]!)).toBe(true));
          expect(same(new Uint8Array(pt.buffer), ptAll)).toBe(true);
        }),
        { numRuns: 20 },
      );
    });

    it('ciphertextSize / plaintextSize agree with real output lengths', async () => {
      await fc.assert(
        fc.asyncProperty(sizeArb, seedArb, contextArb, async (n, seed, context) => {
          const pt = pseudoRandom(n, seed);
          const ct = await enc(pt, context);
          const h = inspect(ct).headerLength;
          expect(ct.length).toBe(ciphertextSize(n, h));
          expect(ciphertextSize(n)).toBe(ct.length - h);
          expect(plaintextSize(ct.length, h)).toBe(n);
          expect(plaintextSize(ct.length - h)).toBe(n);
          const c = await chunked.seal(pseudoRandom(32, seed), pt, { backend });
          expect(c.length).toBe(chunked.ciphertextSize(n));
          expect(chunked.plaintextSize(c.length)).toBe(n);
        }),
        { numRuns: 30 },
      );
    });

    it('a stream stopped at any byte (cancel, abort or a bad chunk) holds no key afterwards', async () => {
      const sealedObject = await enc(pseudoRandom(3 * CHUNK + 500, 5), {});
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('encrypt', 'decrypt'),
          fc.constantFrom('cancel', 'abort', 'error'),
          fc.integer({ min: 0, max: sealedObject.length }),
          fc.integer({ min: 1, max: 20_000 }),
          async (kind, end, stopAt, step) => {
            const before = liveKeyCount();
            const ts = kind === 'encrypt' ? encryptStream({ recipients: [KEY], backend }) : decryptStream({ keys: [KEY], backend });
            const input = kind === 'encrypt' ? pseudoRandom(stopAt, 6) : sealedObject.subarray(0, stopAt);
            const reader = ts.readable.getReader();
            const writer = ts.writable.getWriter();
            const reading = (async () => {
              for (;;) if ((await reader.read()).done) return;
            })().catch(() => undefined);
            for (let off = 0; off < input.length; off += step) await writer.write(input.slice(off, off + step));
            if (end === 'cancel') await reader.cancel(new Error('stop'));
            else if (end === 'abort') await writer.abort(new Error('stop'));
            else await writer.write(42 as never).catch(() => undefined);
            await reading;
            for (let i = 0; i < 200 && liveKeyCount() !== before; i++) await new Promise((r) => setTimeout(r, 2));
            expect(liveKeyCount()).toBe(before);
          },
        ),
        { numRuns: 25 },
      );
    });
  });
}

describe('size arithmetic (pure)', () => {
  it('ciphertextSize(n) = 56 + n + 16 × (⌊n/16384⌋ + 1), and plaintextSize inverts it', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 2 ** 40 })), fc.integer({ min: 0, max: 65536 }), (n, h) => {
        const c = ciphertextSize(n, h);
        expect(c).toBe(h + PRE + n + 16 * (Math.floor(n / CHUNK) + 1));
        expect(plaintextSize(c, h)).toBe(n);
        expect(chunked.plaintextSize(chunked.ciphertextSize(n))).toBe(n);
      }),
      { numRuns: 2000 },
    );
  });

  it('plaintextSize rejects every length no object has (no short final chunk of ≥ 16 bytes) with ERR_TRUNCATED', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 15 }), (chunks, rest) => {
        const len = PRE + chunks * SEALED + rest;
        expect(() => plaintextSize(len)).toThrow(EnsealError);
        try {
          plaintextSize(len);
        } catch (e) {
          expect((e as EnsealError).code).toBe('ERR_TRUNCATED');
        }
      }),
      { numRuns: 300 },
    );
    for (const len of [0, 1, 55, 56, 71]) expect(() => plaintextSize(len)).toThrow(EnsealError);
    expect(plaintextSize(72)).toBe(0);
  });
});

describe('chunked.seal with a fixed salt is byte-identical on every backend', () => {
  it('for random keys, salts, contexts, suites and sizes', async () => {
    await fc.assert(
      fc.asyncProperty(sizeArb, seedArb, fc.uint8Array({ maxLength: 40 }), fc.boolean(), async (n, seed, context, use128) => {
        const suite = use128 ? chunked.COBBLESTONE_128 : chunked.COBBLESTONE_256;
        const key = pseudoRandom(suite.keyLengthInBytes, seed);
        const salt = pseudoRandom(24, seed ^ 0x5a5a);
        const pt = pseudoRandom(n, seed + 7);
        const outs = await Promise.all(BACKENDS.map((backend) => chunked.seal(key, pt, { salt, context, suite, backend })));
        for (const o of outs) expect(same(o, outs[0]!)).toBe(true);
        expect(outs[0]!.subarray(0, 24)).toEqual(salt);
        // and streamed sealing with the same salt gives the same bytes
        const s = await pipeBytes(chunked.sealStream(key, { salt, context, suite, backend: 'webcrypto' }), pt, [10_000]);
        expect(same(s.output, outs[0]!)).toBe(true);
      }),
      { numRuns: 25 },
    );
  });
});
