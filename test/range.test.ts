/**
 * Ranged reads fetch only what they need, and never return a short or unauthenticated answer:
 * an I/O-tracking source over a 64 MiB object proves the exact byte intervals each read touches
 * (header prefix, rest of header + preamble, covering chunks, the final chunk once); short reads
 * and truncated objects fail; and the 70 Wycheproof C2SP vectors go through
 * `enseal/chunked`'s `openReader` (whole-message reads, and length authentication via the final
 * chunk as the ValidFinalChunk flag describes).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { aesKey, decryptRange, encrypt, inspect, openReader, RangeNotSatisfiableError, type RandomAccessSource } from '../src/index.js';
import * as chunked from '../src/chunked.js';
import { EnsealError } from '../src/errors.js';
import { liveKeyCount } from '../src/backends/live-keys.js';
import { BACKENDS, expectCode, hex, inflateHex, pseudoRandom, sha512hex, vector, caught } from './helpers.js';

const CHUNK = 16384;
const TAG = 16;
const SEALED = CHUNK + TAG;
const PRE = 56;
const PREFIX = 12;
const KEY = aesKey({ id: 'range', key: pseudoRandom(32, 5) });
const opts = { keys: [KEY], backend: 'node' as const };

type Interval = [offset: number, length: number];

/** A source over `bytes` (optionally pretending to be `size` long) that records every read. */
function tracking(bytes: Uint8Array, size = bytes.length): { source: RandomAccessSource; reads: Interval[] } {
  const reads: Interval[] = [];
  return {
    reads,
    source: {
      size,
      async read(offset, length) {
        reads.push([offset, length]);
        return bytes.slice(offset, Math.min(offset + length, size));
      },
    },
  };
}
const sorted = (r: Interval[]) => [...r].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
const total = (r: Interval[]) => r.reduce((n, [, l]) => n + l, 0);
const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && Buffer.compare(a, b) === 0;


describe('a 64 MiB object: ranged reads touch only the header, the covering chunks and the final chunk', () => {
  const N = 64 * 1024 * 1024; // 4096 full chunks + an empty final chunk
  let pt: Uint8Array;
  let ct: Uint8Array;
  let H: number;
  const at = (k: number) => H + PRE + k * SEALED; // stored offset of chunk k
  const LAST = N / CHUNK; // index of the (empty) final chunk: 4096
  const headerReads = (): Interval[] => [[0, PREFIX], [PREFIX, H - PREFIX + PRE]];

  beforeAll(async () => {
    pt = pseudoRandom(N, 64);
    ct = await encrypt(pt, { recipients: [KEY], context: { app: 'range' }, backend: 'node' });
    H = inspect(ct).headerLength;
    expect(ct.length).toBe(at(LAST) + TAG);
  });

  it('a 1-byte range in the middle reads: 12-byte prefix, rest of header + preamble, its chunk, the final chunk', async () => {
    const p = 32 * 1024 * 1024 + 12345;
    const k = Math.floor(p / CHUNK);
    const { source, reads } = tracking(ct);
    const got = await decryptRange(source, { start: p, end: p }, opts);
    expect(got).toEqual(pt.subarray(p, p + 1));
    expect(sorted(reads)).toEqual([...headerReads(), [at(k), SEALED], [at(LAST), TAG]]);
    expect(total(reads)).toBe(H + PRE + SEALED + TAG);
  });

  it('a range spanning two chunks reads exactly those two chunks plus the final chunk', async () => {
    const k = 3000;
    const start = k * CHUNK + 16000;
    const end = (k + 1) * CHUNK + 100;
    const { source, reads } = tracking(ct);
    expect(same(await decryptRange(source, { start, end }, opts), pt.subarray(start, end + 1))).toBe(true);
    expect(sorted(reads)).toEqual([...headerReads(), [at(k), 2 * SEALED], [at(LAST), TAG]]);
    expect(total(reads)).toBe(H + PRE + 2 * SEALED + TAG);
  });

  it('a 200-chunk range reads each covering chunk exactly once (batched), plus the final chunk', async () => {
    const first = 1000;
    const last = 1199;
    const { source, reads } = tracking(ct);
    const got = await decryptRange(source, { start: first * CHUNK + 1, end: last * CHUNK + 5 }, opts);
    expect(same(got, pt.subarray(first * CHUNK + 1, last * CHUNK + 6))).toBe(true);
    const s = sorted(reads);
    expect(s.slice(0, 2)).toEqual(headerReads());
    expect(s[s.length - 1]).toEqual([at(LAST), TAG]);
    const middle = s.slice(2, -1);
    // contiguous, non-overlapping, exactly chunks first..last
    expect(middle[0]![0]).toBe(at(first));
    for (let i = 1; i < middle.length; i++) expect(middle[i]![0]).toBe(middle[i - 1]![0] + middle[i - 1]![1]);
    expect(total(middle)).toBe((last - first + 1) * SEALED);
    for (const [o, l] of middle) expect((o - at(0)) % SEALED === 0 && l % SEALED === 0 && l <= 64 * SEALED).toBe(true);
  });

  it('the last byte: its chunk and the (empty) final chunk, each read once', async () => {
    const { source, reads } = tracking(ct);
    expect(await decryptRange(source, { start: N - 1 }, opts)).toEqual(pt.subarray(N - 1));
    expect(sorted(reads)).toEqual([...headerReads(), [at(LAST - 1), SEALED], [at(LAST), TAG]]);
  });

  it('openReader: header once, final chunk once across several reads and verifiedSize() calls', async () => {
    const { source, reads } = tracking(ct);
    const r = await openReader(source, opts);
    try {
      expect(sorted(reads)).toEqual(headerReads()); // opening reads only the header and preamble
      expect(await r.verifiedSize()).toBe(N);
      expect(await r.verifiedSize()).toBe(N);
      const ranges: [number, number][] = [[0, 0], [5 * CHUNK, 5 * CHUNK + 99], [N - 10, N + 1000], [40_000_000, 40_050_000]];
      for (const [s, e] of ranges) expect(same(await r.read({ start: s, end: e }), pt.subarray(s, Math.min(e, N - 1) + 1))).toBe(true);
      await expectCode(r.read({ start: N }), 'ERR_RANGE');
      expect(reads.filter(([o]) => o === at(LAST))).toEqual([[at(LAST), TAG]]);
      expect(reads.filter(([o]) => o < H + PRE)).toEqual(headerReads());
      expect(reads.filter(([o]) => o === at(0))).toEqual([[at(0), SEALED]]);
      expect(reads.filter(([o]) => o === at(5))).toEqual([[at(5), SEALED]]);
    } finally {
      r.close();
    }
  });

  it('a source that returns fewer bytes than asked → ERR_TRUNCATED, never a short result', async () => {
    const p = 10 * CHUNK + 7;
    // Short at each stage: the prefix, the rest of the header, the covering chunk, the final chunk.
    for (const target of [0, PREFIX, at(10), at(LAST)]) {
      for (const short of [1, TAG - 1]) {
        const reads: Interval[] = [];
        const source: RandomAccessSource = {
          size: ct.length,
          async read(offset, length) {
            reads.push([offset, length]);
            return ct.slice(offset, offset + length - (offset === target ? Math.min(short, length) : 0));
          },
        };
        const e = await expectCode(decryptRange(source, { start: p, end: p + 100 }, opts), 'ERR_TRUNCATED');
        expect(e.message).toMatch(/source returned/);
        expect(reads.some(([o]) => o === target)).toBe(true);
      }
    }
    // A source whose declared size exceeds its data.
    const lying = tracking(ct.subarray(0, at(20)), ct.length);
    await expectCode(decryptRange(lying.source, { start: 0, end: 10 }, opts), 'ERR_TRUNCATED');
  });

  describe('a truncated or spliced object fails every ranged read, even for ranges in intact chunks', () => {
    const ranges = (size: number) => [
      { start: 0, end: 100 },
      { start: 1000 * CHUNK, end: 1000 * CHUNK + 10 },
      { start: 1999 * CHUNK, end: 2000 * CHUNK - 1 },
      { start: Math.max(0, size - 1) },
      { start: size + 5 }, // past the implied size: the object's own error, not a 416
    ];

    it('cut at a chunk boundary (no short final chunk) → ERR_TRUNCATED when opening', async () => {
      for (const k of [0, 1, 2000, LAST]) {
        const { source, reads } = tracking(ct, at(k));
        for (const range of ranges(k * CHUNK)) await expectCode(decryptRange(source, range, opts), 'ERR_TRUNCATED');
        expect(reads.every(([o]) => o === 0)).toBe(true); // rejected from the size before the header's rest is read
      }
    });

    it('cut 1..15 bytes into a chunk → ERR_TRUNCATED', async () => {
      for (const r of [1, 15]) {
        const { source } = tracking(ct, at(2000) + r);
        for (const range of ranges(2000 * CHUNK)) await expectCode(decryptRange(source, range, opts), 'ERR_TRUNCATED');
      }
    });

    it('cut ≥ 16 bytes into chunk 2000 → the partial chunk is taken as final and fails: ERR_AUTH chunk 2000', async () => {
      for (const r of [16, 5000, SEALED - 1]) {
        const size = at(2000) + r;
        const { source } = tracking(ct, size);
        const implied = 2000 * CHUNK + r - TAG;
        for (const range of ranges(implied)) {
          const e = await expectCode(decryptRange(source, range, opts), 'ERR_AUTH');
          expect(e.chunk).toBe(2000);
          expect(e).not.toBeInstanceOf(RangeNotSatisfiableError);
        }
        const reader = await openReader(source, opts);
        expect(reader.size).toBe(implied); // unauthenticated
        expect((await expectCode(reader.verifiedSize(), 'ERR_AUTH')).chunk).toBe(2000);
        // the failure is cached: every later read fails the same way
        expect((await expectCode(reader.read({ start: 0, end: 0 }), 'ERR_AUTH')).chunk).toBe(2000);
        reader.close();
      }
    });

    it('chunks 2000.. dropped but the real final chunk kept → ERR_AUTH at index 2000', async () => {
      const spliced = new Uint8Array(at(2000) + TAG);
      spliced.set(ct.subarray(0, at(2000)));
      spliced.set(ct.subarray(at(LAST)), at(2000));
      const { source } = tracking(spliced);
      for (const range of ranges(2000 * CHUNK)) expect((await expectCode(decryptRange(source, range, opts), 'ERR_AUTH')).chunk).toBe(2000);
    });
  });
});

describe('a failed read stops fetching', () => {
  const n = 300 * CHUNK + 10; // 300 full chunks: a whole-object read takes 5 batches of ≤ 64
  const pt = pseudoRandom(n, 9);
  const sealedObject = encrypt(pt, { recipients: [KEY], backend: 'node' });

  /** A source with slow chunk reads, logging whether each read came after `read()` settled. */
  function slowSource(ct: Uint8Array, H: number) {
    const state = { settled: false, readsAfter: 0, reads: 0 };
    const finalAt = H + PRE + 300 * SEALED;
    const source: RandomAccessSource = {
      size: ct.length,
      async read(o, l) {
        state.reads++;
        if (state.settled) state.readsAfter++;
        if (o >= H + PRE && o < finalAt) await new Promise((r) => setTimeout(r, 15));
        return ct.slice(o, o + l);
      },
    };
    return { source, state };
  }

  for (const backend of BACKENDS) {
    it(`${backend}: when the final chunk fails, no covering chunk is read after read() rejected`, async () => {
      const ct = (await sealedObject).slice();
      const H = inspect(ct).headerLength;
      ct[H + PRE + 300 * SEALED + 3]! ^= 1; // corrupt the final chunk
      const { source, state } = slowSource(ct, H);
      const r = await openReader(source, { keys: [KEY], backend });
      const e = await expectCode(r.read({ start: 0 }), 'ERR_AUTH');
      state.settled = true;
      expect(e.chunk).toBe(300);
      await new Promise((res) => setTimeout(res, 150)); // time for 5+ more slow batches
      expect(state.readsAfter).toBe(0);
      expect(state.reads).toBeLessThan(2 + 1 + 5); // header (2), final (1), not every batch
      r.close();
    });

    it(`${backend}: a failing covering chunk and a failing final chunk → the final chunk's error`, async () => {
      const ct = (await sealedObject).slice();
      const H = inspect(ct).headerLength;
      ct[H + PRE + 10 * SEALED + 3]! ^= 1;
      ct[H + PRE + 300 * SEALED + 3]! ^= 1;
      for (const range of [{ start: 0 }, { start: 10 * CHUNK, end: 10 * CHUNK }]) {
        const e = await expectCode(decryptRange(slowSource(ct, H).source, range, { keys: [KEY], backend }), 'ERR_AUTH');
        expect(e.chunk).toBe(300);
      }
    });
  }
});

describe('a 3-chunk object whose last byte lies in the final chunk', () => {
  it('reading the last byte reads the final chunk once and no other chunk', async () => {
    const n = 2 * CHUNK + 1000;
    const pt = pseudoRandom(n, 3);
    const ct = await encrypt(pt, { recipients: [KEY], backend: 'node' });
    const H = inspect(ct).headerLength;
    for (const range of [{ start: n - 1 }, { start: n - 1, end: n - 1 }, { start: 2 * CHUNK, end: n + 50 }]) {
      const { source, reads } = tracking(ct);
      expect(same(await decryptRange(source, range, opts), pt.subarray(range.start))).toBe(true);
      expect(sorted(reads)).toEqual([[0, PREFIX], [PREFIX, H - PREFIX + PRE], [H + PRE + 2 * SEALED, 1000 + TAG]]);
    }
  });
});

// ------------------------------------------------------------------------------------------
// Wycheproof C2SP vectors through enseal/chunked's openReader

interface C2spTest {
  tcId: number; comment: string; key: string; ctx: string; ct: string;
  msgLength?: number; msgSha512?: string; result: 'valid' | 'invalid'; flags: string[];
}
const files: [string, chunked.ChunkedSuite][] = [
  ['c2sp_chunked_encryption_aes_256_gcm_test.json', chunked.COBBLESTONE_256],
  ['c2sp_chunked_encryption_aes_128_gcm_test.json', chunked.COBBLESTONE_128],
];

for (const [file, suite] of files) {
  const tests: C2spTest[] = vector(`wycheproof/${file}`).testGroups[0].tests;
  for (const backend of BACKENDS) {
    describe(`Wycheproof ${suite.name} via openReader / ${backend}`, () => {
      it('has 35 vectors, every one exercised below', () => expect(tests).toHaveLength(35));
      for (const t of tests) {
        const label = `tc${t.tcId} ${t.result} ${t.comment} [${t.flags.join(',')}]`;
        const o = { context: hex(t.ctx), suite, backend };
        const open = () => {
          const ct = inflateHex(t.ct);
          return chunked.openReader(hex(t.key), { size: ct.length, read: async (off, len) => ct.slice(off, off + len) }, o);
        };

        it(label, async () => {
          if (t.flags.includes('InvalidKeySize')) {
            await expect(open()).rejects.toThrow(RangeError);
            return;
          }
          if (t.flags.includes('HeaderFailure')) {
            expect(await caught(open())).toBeInstanceOf(EnsealError);
            return;
          }
          if (t.result === 'valid') {
            const r = await open();
            expect(await r.verifiedSize()).toBe(t.msgLength);
            if (t.msgLength === 0) {
              await expectCode(r.read(0), 'ERR_RANGE');
            } else {
              const pt = await r.read(0);
              expect(pt.length).toBe(t.msgLength);
              expect(sha512hex(pt)).toBe(t.msgSha512);
              // and in two pieces through the same reader
              const cut = Math.floor(t.msgLength! / 3);
              const again = Buffer.concat([cut > 0 ? await r.read(0, cut - 1) : new Uint8Array(0), await r.read(cut)]);
              expect(sha512hex(again)).toBe(t.msgSha512);
            }
            r.close();
            return;
          }
          // Invalid: reading the whole message fails (at opening, or at the read).
          expect(await caught(open().then((r) => r.read(0)))).toBeInstanceOf(EnsealError);
          // Length authentication via the final chunk succeeds exactly for ValidFinalChunk.
          const verified = await caught(open().then((r) => r.verifiedSize()));
          if (t.flags.includes('ValidFinalChunk')) {
            expect(verified).toBeUndefined();
            const r = await open();
            expect(await r.verifiedSize()).toBe(r.size);
            if (t.flags.includes('PartialPlaintext')) {
              // The valid prefix is readable by random access; the bad chunk is not.
              expect(sha512hex(await r.read(0, t.msgLength! - 1))).toBe(t.msgSha512);
              expect(await caught(r.read(t.msgLength!, t.msgLength!))).toBeInstanceOf(EnsealError);
            }
            r.close();
          } else {
            expect(verified).toBeInstanceOf(EnsealError);
          }
        });
      }
    });
  }
}

// ------------------------------------------------------------------------------------------
// One snapshot of `size`; closed readers answer ERR_STATE

/** A source over `data` whose `size` getter returns `sizes[i]` on its i-th call (the last one after). */
function shifting(data: Uint8Array, sizes: readonly number[], delayMs = 0) {
  let calls = 0;
  const source: RandomAccessSource = {
    get size() {
      return sizes[Math.min(calls++, sizes.length - 1)]!;
    },
    async read(offset, length) {
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      return data.slice(offset, offset + length);
    },
  };
  return { source, calls: () => calls };
}

/** A source whose reads wait until released (to hold a read in flight). */
function gated(data: Uint8Array) {
  let open = false;
  const waiting: (() => void)[] = [];
  const source: RandomAccessSource = {
    size: data.length,
    async read(offset, length) {
      if (!open) await new Promise<void>((r) => waiting.push(r));
      return data.slice(offset, offset + length);
    },
  };
  return {
    source,
    hold: () => (open = false),
    release: () => {
      open = true;
      for (const w of waiting.splice(0)) w();
    },
    waiting: () => waiting.length,
  };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

for (const backend of BACKENDS) {
  describe(`readers take one snapshot of source.size / ${backend}`, () => {
    const n = 3 * CHUNK + 1234;
    const pt = pseudoRandom(n, 21);
    const o = { keys: [KEY], backend };
    const ctP = encrypt(pt, { recipients: [KEY], backend });
    const inputKey = pseudoRandom(32, 22);
    const payloadP = chunked.seal(inputKey, pt, { backend });

    /** Both entry points, over the same shifting sizes. */
    const entries = async () => {
      const ct = await ctP;
      const payload = await payloadP;
      return [
        { name: 'openReader', bytes: ct, open: (s: RandomAccessSource) => openReader(s, o) },
        { name: 'enseal/chunked openReader', bytes: payload, open: (s: RandomAccessSource) => chunked.openReader(inputKey, s, { backend }) },
      ];
    };
    const read = async (r: { read(range: { start: number; end?: number }): Promise<Uint8Array> } | chunked.ChunkedRandomReader, start: number, end?: number) =>
      'header' in r ? (r as { read(range: { start: number; end?: number }): Promise<Uint8Array> }).read({ start, end }) : (r as chunked.ChunkedRandomReader).read(start, end);

    it('the true size first, then a shrinking or growing size: correct bytes, the true verified size, one getter call', async () => {
      for (const { name, bytes, open } of await entries()) {
        const L = bytes.length;
        for (const later of [L - SEALED - 100, L - 17, L - 1, 0, L + 1, L + 5000, L + SEALED]) {
          const { source, calls } = shifting(bytes, [L, later]);
          const r = await open(source);
          const label = `${name}, size ${L} then ${later}`;
          expect(r.size, label).toBe(n);
          expect(await r.verifiedSize(), label).toBe(n);
          expect(same(await read(r as never, 0), pt), label).toBe(true);
          expect(same(await read(r as never, n - 10, n + 100), pt.subarray(n - 10)), label).toBe(true);
          expect(same(await read(r as never, CHUNK + 3, 2 * CHUNK + 9), pt.subarray(CHUNK + 3, 2 * CHUNK + 10)), label).toBe(true);
          await expectCode(read(r as never, n), 'ERR_RANGE');
          expect(calls(), label).toBe(1);
          r.close();
        }
      }
    });

    it('a wrong size first (shrunk or grown), the true size after: a typed failure, never a shorter verified length', async () => {
      for (const { name, bytes, open } of await entries()) {
        const L = bytes.length;
        for (const first of [L - 1, L - 16, L - 1250, L - SEALED, L - SEALED - 1, L + 1, L + 16, L + 3000]) {
          const { source, calls } = shifting(bytes, [first, L]);
          const label = `${name}, size ${first} then ${L}`;
          const outcome = await caught(
            (async () => {
              const r = await open(source);
              try {
                const got = await read(r as never, 0);
                return { verified: await r.verifiedSize(), got };
              } finally {
                r.close();
              }
            })(),
          );
          expect(outcome, label).toBeInstanceOf(EnsealError);
          expect(['ERR_AUTH', 'ERR_TRUNCATED'], label).toContain((outcome as EnsealError).code);
          expect(calls(), label).toBe(1);
        }
      }
    });

    it('property: for any sequence of sizes, either the snapshot is the true size and every read is right, or it fails typed', async () => {
      const fc = await import('fast-check');
      const all = await entries();
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...all),
          fc.array(fc.integer({ min: -2 * SEALED, max: 2 * SEALED }), { minLength: 1, maxLength: 4 }),
          fc.boolean(),
          fc.integer({ min: 0, max: n - 1 }),
          async (entry, deltas, trueFirst, start) => {
            const L = entry.bytes.length;
            const sizes = deltas.map((d, i) => Math.max(0, i === 0 && trueFirst ? L : L + d));
            const { source, calls } = shifting(entry.bytes, sizes);
            try {
              const r = await entry.open(source);
              try {
                const verified = await r.verifiedSize();
                const got = await read(r as never, start, start + 20000);
                expect(sizes[0]).toBe(L); // success only for the true size
                expect(verified).toBe(n);
                expect(same(got, pt.subarray(start, start + 20001))).toBe(true);
              } finally {
                r.close();
              }
            } catch (e) {
              if (!(e instanceof EnsealError)) throw e;
              expect(sizes[0]).not.toBe(L);
              expect(['ERR_AUTH', 'ERR_TRUNCATED', 'ERR_HEADER']).toContain(e.code);
            }
            expect(calls()).toBe(1);
          },
        ),
        { numRuns: 60 },
      );
    });

    it('a size that is not a non-negative integer is refused (RangeError) from the one read', async () => {
      for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) {
        const { source, calls } = shifting(await ctP, [bad, (await ctP).length]);
        await expect(openReader(source, o)).rejects.toThrow(RangeError);
        expect(calls()).toBe(1);
      }
    });
  });

  describe(`a closed reader answers ERR_STATE, never zeros / ${backend}`, () => {
    const n = 3 * CHUNK + 1234; // the final chunk holds bytes 3·CHUNK ..
    const pt = pseudoRandom(n, 31);
    const o = { keys: [KEY], backend };
    const ctP = encrypt(pt, { recipients: [KEY], backend });
    const inputKey = pseudoRandom(32, 32);
    const payloadP = chunked.seal(inputKey, pt, { backend });
    const readers = async () => [
      { name: 'openReader', open: (s: RandomAccessSource) => openReader(s, o), bytes: await ctP, at: (r: never, s: number, e?: number) => (r as { read(x: object): Promise<Uint8Array> }).read({ start: s, end: e }) },
      { name: 'enseal/chunked openReader', open: (s: RandomAccessSource) => chunked.openReader(inputKey, s, { backend }), bytes: await payloadP, at: (r: never, s: number, e?: number) => (r as chunked.ChunkedRandomReader).read(s, e) },
    ];

    it('after close(): reads inside the cached final chunk, elsewhere, past the end, and verifiedSize() are ERR_STATE; close() is idempotent', async () => {
      for (const { name, open, bytes, at } of await readers()) {
        const before = liveKeyCount();
        const r = await open({ size: bytes.length, read: async (off, len) => bytes.slice(off, off + len) });
        expect(liveKeyCount()).toBe(before + 1);
        expect(same(await at(r as never, n - 100), pt.subarray(n - 100)), name).toBe(true); // caches the final chunk
        r.close();
        expect(liveKeyCount()).toBe(before);
        r.close();
        expect(liveKeyCount()).toBe(before);
        for (const [s, e] of [[n - 100, undefined], [3 * CHUNK, 3 * CHUNK + 5], [n - 1, n - 1], [0, 10], [CHUNK, 2 * CHUNK], [n, undefined]] as const) {
          await expectCode(at(r as never, s, e), 'ERR_STATE');
        }
        await expectCode(r.verifiedSize(), 'ERR_STATE');
      }
    });

    it('a read in flight when close() is called rejects with ERR_STATE (final chunk, covering chunk, large range)', async () => {
      for (const { name, open, bytes, at } of await readers()) {
        // [start, end, whether the final chunk is cached before the read]
        for (const [start, end, cached] of [
          [n - 100, n - 1, false], // only the final chunk, being fetched
          [10, 20, true], // a covering chunk in flight, the final chunk already cached
          [10, 20, false], // both in flight
          [0, n - 1, false], // the whole object
          [3 * CHUNK - 5, n - 1, true], // the end of a covering chunk in flight, the rest from the cache
        ] as const) {
          const g = gated(bytes);
          g.release();
          const r = await open(g.source);
          if (cached) await r.verifiedSize();
          g.hold();
          const p = at(r as never, start, end).then(
            (b) => ({ resolved: b }),
            (e: unknown) => ({ rejected: e }),
          );
          await tick();
          r.close(); // while the read waits on the source (or, from the cache, right after it was issued)
          g.release();
          const result = await p;
          expect('rejected' in result, `${name} ${start}..${end} cached=${cached}: must not resolve`).toBe(true);
          expect((result as { rejected: EnsealError }).rejected).toMatchObject({ code: 'ERR_STATE' });
        }
      }
    });

    it('verifiedSize() in flight when close() is called rejects with ERR_STATE', async () => {
      for (const { open, bytes } of await readers()) {
        const g = gated(bytes);
        g.release();
        const r = await open(g.source);
        g.hold();
        const p = caught(r.verifiedSize());
        await tick();
        expect(g.waiting()).toBe(1); // the final chunk read is in flight
        r.close();
        g.release();
        expect(await p).toMatchObject({ code: 'ERR_STATE' });
      }
    });

    it('a read issued and closed in the same tick rejects, even when every byte is cached', async () => {
      for (const { open, bytes, at } of await readers()) {
        const r = await open({ size: bytes.length, read: async (off, len) => bytes.slice(off, off + len) });
        await r.verifiedSize();
        const p = at(r as never, 3 * CHUNK + 1, 3 * CHUNK + 50);
        r.close();
        await expectCode(p, 'ERR_STATE');
      }
    });
  });
}

describe('a large range is allocated only after the length authenticated', () => {
  it('a source claiming petabytes behind a valid header fails on the final chunk, before any big allocation', async () => {
    const ct = await encrypt(pseudoRandom(100, 1), { recipients: [KEY], backend: 'node' });
    const H = inspect(ct).headerLength;
    const claimed = H + PRE + 2 ** 36 * SEALED + 5000; // 2^36 chunks: ~1.1 PB
    const source: RandomAccessSource = {
      size: claimed,
      async read(offset, length) {
        if (offset < ct.length) return ct.slice(offset, offset + length);
        return new Uint8Array(length); // zeros for the "final chunk"
      },
    };
    const r = await openReader(source, opts);
    expect(r.size).toBeGreaterThan(2 ** 50);
    const e = await expectCode(r.read({ start: 0, end: 2 ** 40 }), 'ERR_AUTH'); // not a RangeError from new Uint8Array
    expect(e.chunk).toBe(2 ** 36);
    r.close();
  });
});
