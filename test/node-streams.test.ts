/**
 * `enseal/node`: `createEncryptStream` / `createDecryptStream` in `pipeline()` between real files,
 * on every backend — round trips, tampering (ERR_AUTH, whole-chunk plaintext prefix only),
 * truncation (ERR_TRUNCATED) — and `fileSource` + `decryptRange` on a real file.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aesKey, ciphertextSize, decryptRange, inspect } from '../src/index.js';
import { createDecryptStream, createEncryptStream, fileSource } from '../src/node.js';
import { EnsealError } from '../src/errors.js';
import { BACKENDS, expectCode, pseudoRandom, caught } from './helpers.js';

const CHUNK = 16384;
const SEALED = CHUNK + 16;
const PRE = 56;
const KEY = aesKey({ id: 'files', key: pseudoRandom(32, 77) });
const CONTEXT = { app: 'node-streams' };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'enseal-node-streams-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A Writable that keeps everything it receives (what a consumer saw before an error). */
function collector(): { sink: Writable; bytes: () => Uint8Array } {
  const parts: Buffer[] = [];
  return {
    sink: new Writable({
      write(chunk: Buffer, _enc, cb) {
        parts.push(Buffer.from(chunk));
        cb();
      },
    }),
    bytes: () => new Uint8Array(Buffer.concat(parts)),
  };
}

const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && Buffer.compare(a, b) === 0;


for (const backend of BACKENDS) {
  describe(`enseal/node / ${backend}`, () => {
    const enc = () => createEncryptStream({ recipients: [KEY], context: CONTEXT, backend });
    const dec = () => createDecryptStream({ keys: [KEY], context: CONTEXT, backend });
    let n = 0;
    const file = (name: string) => join(dir, `${backend}-${n++}-${name}`);

    /** plaintext file → encrypted file; returns the encrypted file's path. */
    async function encryptFile(pt: Uint8Array, highWaterMark?: number): Promise<string> {
      const src = file('plain');
      const dst = file('sealed');
      await writeFile(src, pt);
      await pipeline(createReadStream(src, { highWaterMark }), enc(), createWriteStream(dst));
      return dst;
    }

    for (const size of [0, 1, 100_000, 3 * 1024 * 1024]) {
      it(`file round trip of ${size} bytes`, async () => {
        const pt = pseudoRandom(size, size + 1);
        const sealed = await encryptFile(pt, size > 1000 ? 10_007 : undefined);
        const ct = new Uint8Array(await readFile(sealed));
        const h = inspect(ct).headerLength;
        expect(ct.length).toBe(ciphertextSize(size, h));
        expect(inspect(ct).context).toEqual(CONTEXT);
        const out = file('opened');
        await pipeline(createReadStream(sealed, { highWaterMark: 7777 }), dec(), createWriteStream(out));
        expect(same(new Uint8Array(await readFile(out)), pt)).toBe(true);
      });
    }

    describe('a 3 MiB object on disk', () => {
      const size = 3 * 1024 * 1024 + 500; // 192 full chunks + a 500-byte final chunk
      const pt = pseudoRandom(size, 3);
      let sealed: string;
      let ct: Uint8Array;
      let h: number;
      const chunkAt = (k: number) => h + PRE + k * SEALED;
      beforeAll(async () => {
        sealed = await encryptFile(pt);
        ct = new Uint8Array(await readFile(sealed));
        h = inspect(ct).headerLength;
      });

      for (const [where, k, off] of [
        ['a body byte of chunk 0', 0, 100],
        ['a body byte of chunk 5', 5, 9000],
        ['the tag of chunk 100', 100, SEALED - 1],
        ['the final chunk', 192, 3],
      ] as const) {
        it(`a flipped bit in ${where} rejects the pipeline with ERR_AUTH (chunk ${k}); output is a whole-chunk prefix`, async () => {
          const bad = ct.slice();
          bad[chunkAt(k) + off]! ^= 0x10;
          const path = file('corrupt');
          await writeFile(path, bad);
          const { sink, bytes } = collector();
          const e = await caught(pipeline(createReadStream(path, { highWaterMark: 20_000 }), dec(), sink));
          expect(e).toBeInstanceOf(EnsealError);
          expect((e as EnsealError).code).toBe('ERR_AUTH');
          expect((e as EnsealError).chunk).toBe(k);
          const out = bytes();
          expect(out.length % CHUNK).toBe(0);
          expect(out.length).toBeLessThanOrEqual(k * CHUNK);
          expect(same(out, pt.subarray(0, out.length))).toBe(true);
        });
      }

      it('a flipped preamble bit rejects with ERR_AUTH before any plaintext', async () => {
        const bad = ct.slice();
        bad[h + 30]! ^= 1;
        const path = file('corrupt-preamble');
        await writeFile(path, bad);
        const { sink, bytes } = collector();
        const e = await caught(pipeline(createReadStream(path), dec(), sink));
        expect(e).toBeInstanceOf(EnsealError);
        expect((e as EnsealError).code).toBe('ERR_AUTH');
        expect((e as EnsealError).chunk).toBeUndefined();
        expect(bytes().length).toBe(0);
      });

      for (const k of [1, 50, 192]) {
        it(`a file cut right after full chunk ${k - 1} rejects with ERR_TRUNCATED; output is at most ${k} chunks`, async () => {
          const path = file('cut');
          await writeFile(path, ct);
          await truncate(path, chunkAt(k));
          const { sink, bytes } = collector();
          const e = await caught(pipeline(createReadStream(path, { highWaterMark: 16_400 }), dec(), sink));
          expect(e).toBeInstanceOf(EnsealError);
          expect((e as EnsealError).code).toBe('ERR_TRUNCATED');
          const out = bytes();
          expect(out.length % CHUNK).toBe(0);
          expect(out.length).toBeLessThanOrEqual(k * CHUNK);
          expect(same(out, pt.subarray(0, out.length))).toBe(true);
        });
      }

      it('a file cut inside the header rejects with ERR_TRUNCATED and no output', async () => {
        const path = file('cut-header');
        await writeFile(path, ct.subarray(0, h - 1));
        const { sink, bytes } = collector();
        await expectCode(pipeline(createReadStream(path), dec(), sink), 'ERR_TRUNCATED');
        expect(bytes().length).toBe(0);
      });

      it('fileSource + decryptRange on the real file', async () => {
        const src = await fileSource(sealed);
        try {
          expect(src.size).toBe(ct.length);
          const o = { keys: [KEY], backend, context: CONTEXT };
          for (const [start, end] of [[0, 0], [0, 99], [CHUNK - 1, CHUNK], [1_000_000, 1_234_567], [size - 1, size - 1], [size - 600, size + 10_000]] as const) {
            expect(same(await decryptRange(src, { start, end }, o), pt.subarray(start, Math.min(end, size - 1) + 1))).toBe(true);
          }
          expect(same(await decryptRange(src, { start: 0 }, o), pt)).toBe(true);
          await expectCode(decryptRange(src, { start: size }, o), 'ERR_RANGE');
          await expectCode(decryptRange(src, { start: 0 }, { ...o, context: { app: 'other' } }), 'ERR_CONTEXT');
        } finally {
          await src.close();
        }
      });

      it('fileSource on a cut file: every range fails (ERR_TRUNCATED at a chunk boundary, ERR_AUTH mid-chunk)', async () => {
        const o = { keys: [KEY], backend };
        const boundary = file('cut-boundary');
        await writeFile(boundary, ct.subarray(0, chunkAt(100)));
        const midChunk = file('cut-mid');
        await writeFile(midChunk, ct.subarray(0, chunkAt(100) + 5000));
        for (const [path, code] of [[boundary, 'ERR_TRUNCATED'], [midChunk, 'ERR_AUTH']] as const) {
          const src = await fileSource(path);
          try {
            for (const start of [0, 50 * CHUNK, 99 * CHUNK + 5]) {
              const e = await expectCode(decryptRange(src, { start, end: start + 10 }, o), code);
              if (code === 'ERR_AUTH') expect(e.chunk).toBe(100);
            }
          } finally {
            await src.close();
          }
        }
      });
    });
  });
}

describe('fileSource: one size, and a closed source answers ERR_STATE', () => {
  it('read after close() is ERR_STATE; close() is idempotent; bad arguments are RangeError', async () => {
    const path = join(dir, 'file-source-close');
    await writeFile(path, pseudoRandom(1000, 5));
    const src = await fileSource(path);
    expect(src.size).toBe(1000);
    expect(await src.read(10, 5)).toEqual(pseudoRandom(1000, 5).subarray(10, 15));
    await expect(src.read(-1, 5)).rejects.toThrow(RangeError);
    await expect(src.read(0, 1.5)).rejects.toThrow(RangeError);
    const closing = src.close();
    expect(src.close()).toBe(closing); // the same promise
    await closing;
    await src.close();
    await expectCode(src.read(0, 10), 'ERR_STATE');
  });

  it('a read in flight when close() is called rejects with ERR_STATE', async () => {
    const path = join(dir, 'file-source-inflight');
    await writeFile(path, pseudoRandom(4 << 20, 6));
    const src = await fileSource(path);
    const reading = src.read(0, 4 << 20);
    const closing = src.close();
    await expectCode(reading, 'ERR_STATE');
    await closing;
  });

  it('the size is taken once: a file that grows after opening is read as it was', async () => {
    const path = join(dir, 'file-source-grows');
    const pt = pseudoRandom(50_000, 7);
    const key = aesKey({ id: 'grow', key: pseudoRandom(32, 8) });
    const { encrypt } = await import('../src/index.js');
    const ct = await encrypt(pt, { recipients: [key] });
    await writeFile(path, ct);
    const src = await fileSource(path);
    try {
      await writeFile(path, new Uint8Array([...ct, ...pseudoRandom(20_000, 9)])); // appended after opening
      expect(src.size).toBe(ct.length);
      expect(same(await decryptRange(src, { start: 0 }, { keys: [key] }), pt)).toBe(true);
    } finally {
      await src.close();
    }
  });
});
