/**
 * The worker pool (src/pool/): output byte-identical to the single-thread path for random sizes
 * of 0…300 chunks (one-shot, Web streams, Node streams; encrypt and decrypt); a tamper matrix
 * through the pool (no plaintext from a bad chunk or after it); cancellation, a throwing consumer
 * and a destroyed Node stream leave no live thread and no live key (counted three ways: the
 * pool's thread counter, the message keys the threads report holding, and the backend key
 * counter); closing a pool in use fails in-flight work cleanly and later calls with ERR_STATE.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aesKey, createPool, decrypt, decryptStream, encrypt, encryptStream, EnsealError, WorkerPool } from '../src/index.js';
import * as chunked from '../src/chunked.js';
import { createDecryptStream, createEncryptStream } from '../src/node.js';
import { liveKeyCount } from '../src/backends/live-keys.js';
import { livePoolThreads } from '../src/pool/thread.js';
import { livePoolKeys } from '../src/pool/session.js';
import { SHARED_POOL_IDLE_MS, closeSharedPools, setSharedPoolIdleMs, sharedPoolOf } from '../src/pool/shared.js';
import { BACKENDS, caught, expectCode, pipeBytes, pseudoRandom } from './helpers.js';

const CHUNK = 16384;
const SEALED = CHUNK + 16;
const PRE = 56;
const KEY = aesKey({ id: 'pool', key: pseudoRandom(32, 71) });
const INPUT_KEY = pseudoRandom(32, 72);
const SALT = pseudoRandom(24, 73);

const pool = createPool({ size: 2 });
afterAll(async () => {
  await pool.close();
  await closeSharedPools();
});

const eq = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));

/** Waits (bounded) until `f()` is `want`; returns the last value seen. */
async function until(f: () => number, want: number): Promise<number> {
  for (let i = 0; i < 400 && f() !== want; i++) await new Promise((r) => setTimeout(r, 5));
  return f();
}

/** OS threads of this process (Linux), an independent check of thread leaks. */
const osThreads = (): number => readdirSync('/proc/self/task').length;

/** A plaintext length of `chunks` full chunks plus a tail (0 included: exact boundaries). */
const sizeArb = fc.tuple(fc.integer({ min: 0, max: 300 }), fc.oneof(fc.constant(0), fc.integer({ min: 0, max: CHUNK - 1 }))).map(([c, t]) => c * CHUNK + t);

async function nodeThrough(t: NodeJS.ReadWriteStream, input: Uint8Array, write: number): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  const pieces: Uint8Array[] = [];
  for (let o = 0; o < input.length; o += write) pieces.push(input.subarray(o, o + write));
  await pipeline(
    Readable.from(pieces),
    t,
    new Writable({
      write(c: Buffer, _e, cb) {
        parts.push(Buffer.from(c));
        cb();
      },
    }),
  );
  return new Uint8Array(Buffer.concat(parts));
}

describe('pool output equals the single-thread output', () => {
  it('enseal/chunked one-shot seal/open, 0…300 chunks (shared pool and workers: 2)', async () => {
    await fc.assert(
      fc.asyncProperty(sizeArb, fc.boolean(), async (n, own) => {
        const pt = pseudoRandom(n, n + 1);
        const workers = own ? 2 : pool;
        const single = await chunked.seal(INPUT_KEY, pt, { salt: SALT, context: 'ctx' });
        const pooled = await chunked.seal(INPUT_KEY, pt, { salt: SALT, context: 'ctx', workers });
        expect(pooled.length).toBe(single.length);
        expect(eq(pooled, single)).toBe(true);
        const opened = await chunked.open(INPUT_KEY, single, { context: 'ctx', workers });
        expect(eq(opened, pt)).toBe(true);
      }),
      { numRuns: 10 },
    );
    // No pool per call: `workers: 2` is one shared pool of 2 threads, besides `pool`.
    expect(livePoolThreads()).toBe(4);
    expect(livePoolKeys()).toBe(0);
    expect(await sharedPoolOf(2)!.keysHeld()).toBe(0);
  });

  it('enseal/chunked Web streams sealStream/openStream, random write sizes', async () => {
    await fc.assert(
      fc.asyncProperty(sizeArb, fc.constantFrom(1, 1000, 16400, 65536, 1 << 20, 3 << 20), async (n, write) => {
        const pt = pseudoRandom(n, n + 3);
        const single = await chunked.seal(INPUT_KEY, pt, { salt: SALT });
        const sealed = await pipeBytes(chunked.sealStream(INPUT_KEY, { salt: SALT, workers: pool }), pt, [write === 1 ? 7777 : write]);
        expect(sealed.error).toBeUndefined();
        expect(eq(sealed.output, single)).toBe(true);
        const opened = await pipeBytes(chunked.openStream(INPUT_KEY, { workers: pool }), single, [write]);
        expect(opened.error).toBeUndefined();
        expect(eq(opened.output, pt)).toBe(true);
      }),
      { numRuns: 8 },
    );
  });

  it('envelope encrypt/decrypt one-shot: pool and single thread read each other, same layout', async () => {
    await fc.assert(
      fc.asyncProperty(sizeArb, async (n) => {
        const pt = pseudoRandom(n, n + 5);
        const single = await encrypt(pt, { recipients: [KEY], context: { a: 'b' } });
        const pooled = await encrypt(pt, { recipients: [KEY], context: { a: 'b' }, workers: pool });
        expect(pooled.length).toBe(single.length);
        expect(eq(await decrypt(pooled, { keys: [KEY], context: { a: 'b' } }), pt)).toBe(true);
        expect(eq(await decrypt(single, { keys: [KEY], workers: pool }), pt)).toBe(true);
      }),
      { numRuns: 6 },
    );
  });

  it('envelope Web streams and Node streams, encrypt and decrypt', async () => {
    await fc.assert(
      fc.asyncProperty(sizeArb, fc.constantFrom(5000, 65536, 1 << 20), async (n, write) => {
        const pt = pseudoRandom(n, n + 7);
        const web = await pipeBytes(encryptStream({ recipients: [KEY], workers: pool }), pt, [write]);
        expect(web.error).toBeUndefined();
        expect(eq(await decrypt(web.output, { keys: [KEY] }), pt)).toBe(true);
        const back = await pipeBytes(decryptStream({ keys: [KEY], workers: pool }), web.output, [write]);
        expect(back.error).toBeUndefined();
        expect(eq(back.output, pt)).toBe(true);
        const nodeSealed = await nodeThrough(createEncryptStream({ recipients: [KEY], workers: pool }), pt, write);
        expect(nodeSealed.length).toBe(web.output.length);
        expect(eq(await decrypt(nodeSealed, { keys: [KEY] }), pt)).toBe(true);
        const single = await encrypt(pt, { recipients: [KEY] });
        expect(eq(await nodeThrough(createDecryptStream({ keys: [KEY], workers: pool }), single, write), pt)).toBe(true);
      }),
      { numRuns: 5 },
    );
  });

  for (const backend of BACKENDS) {
    it(`backend ${backend}: the pool derives the same keys (chunked seal byte-identical, envelope round trip)`, async () => {
      const pt = pseudoRandom(70 * CHUNK + 9, 9);
      const single = await chunked.seal(INPUT_KEY, pt, { salt: SALT, backend });
      expect(eq(await chunked.seal(INPUT_KEY, pt, { salt: SALT, backend, workers: pool }), single)).toBe(true);
      expect(eq(await chunked.open(INPUT_KEY, single, { backend, workers: pool }), pt)).toBe(true);
      const sealed = await encrypt(pt, { recipients: [KEY], backend, workers: pool });
      expect(eq(await decrypt(sealed, { keys: [KEY], backend }), pt)).toBe(true);
      const before = liveKeyCount();
      expect(eq(await decrypt(sealed, { keys: [KEY], backend, workers: pool }), pt)).toBe(true);
      expect(liveKeyCount()).toBe(before);
    });
  }
});

describe('tamper matrix through the pool', () => {
  const N = 150; // three batches of 64 chunks
  const pt = pseudoRandom(N * CHUNK + 1234, 11);
  let sealed: Uint8Array;
  const payload = async () => (sealed ??= await chunked.seal(INPUT_KEY, pt, { salt: SALT }));
  const at = (k: number) => PRE + k * SEALED;
  const flip = (b: Uint8Array, i: number) => {
    const c = b.slice();
    c[i] = (c[i] as number) ^ 1;
    return c;
  };
  const swap = (b: Uint8Array, k: number) => {
    const c = b.slice();
    c.set(b.subarray(at(k + 1), at(k + 2)), at(k));
    c.set(b.subarray(at(k), at(k + 1)), at(k + 1));
    return c;
  };
  type Case = { name: string; make: (b: Uint8Array) => Uint8Array; code: 'ERR_AUTH' | 'ERR_TRUNCATED'; chunk?: number };
  const cases: Case[] = [
    { name: 'flip a byte of chunk 0', make: (b) => flip(b, at(0) + 5), code: 'ERR_AUTH', chunk: 0 },
    { name: 'flip a tag byte of chunk 63 (end of batch 0)', make: (b) => flip(b, at(64) - 1), code: 'ERR_AUTH', chunk: 63 },
    { name: 'flip a byte of chunk 64 (start of batch 1)', make: (b) => flip(b, at(64)), code: 'ERR_AUTH', chunk: 64 },
    { name: 'flip a byte of chunk 100', make: (b) => flip(b, at(100) + 999), code: 'ERR_AUTH', chunk: 100 },
    { name: 'flip a byte of the final chunk', make: (b) => flip(b, b.length - 20), code: 'ERR_AUTH', chunk: N },
    { name: 'swap chunks 70 and 71', make: (b) => swap(b, 70), code: 'ERR_AUTH', chunk: 70 },
    { name: 'drop the final chunk (ends on a full chunk)', make: (b) => b.subarray(0, at(N)), code: 'ERR_TRUNCATED' },
    { name: 'cut inside chunk 90 (a long "final" chunk fails)', make: (b) => b.subarray(0, at(90) + 5000), code: 'ERR_AUTH', chunk: 90 },
    { name: 'cut 10 bytes after chunk 128 (shorter than a tag)', make: (b) => b.subarray(0, at(128) + 10), code: 'ERR_TRUNCATED' },
    { name: 'drop chunk 5 (everything after shifts)', make: (b) => new Uint8Array([...b.subarray(0, at(5)), ...b.subarray(at(6))]), code: 'ERR_AUTH', chunk: 5 },
  ];
  for (const c of cases) {
    it(`${c.name}: typed error, nothing from the bad chunk or after it`, async () => {
      const bad = c.make(await payload());
      const e1 = await expectCode(chunked.open(INPUT_KEY, bad, { workers: pool }), c.code);
      if (c.chunk !== undefined) expect(e1.chunk).toBe(c.chunk);
      for (const write of [65536, 1 << 20, 5 << 20]) {
        const { output, error } = await pipeBytes(chunked.openStream(INPUT_KEY, { workers: pool }), bad, [write]);
        expect(error).toBeInstanceOf(EnsealError);
        expect((error as EnsealError).code).toBe(c.code);
        const limit = c.chunk ?? N;
        expect(output.length).toBeLessThanOrEqual(limit * CHUNK);
        expect(output.length % (64 * CHUNK)).toBe(0); // whole authenticated batches only
        expect(eq(output, pt.subarray(0, output.length))).toBe(true);
      }
    });
  }

  it('the same through the envelope decryptStream and createDecryptStream', async () => {
    const object = await encrypt(pt, { recipients: [KEY] });
    const h = object.length - (await payload()).length;
    const bad = flip(object, h + at(100) + 3);
    await expectCode(decrypt(bad, { keys: [KEY], workers: pool }), 'ERR_AUTH');
    const web = await pipeBytes(decryptStream({ keys: [KEY], workers: pool }), bad, [65536]);
    expect((web.error as EnsealError).code).toBe('ERR_AUTH');
    expect(web.output.length).toBeLessThanOrEqual(100 * CHUNK);
    expect(eq(web.output, pt.subarray(0, web.output.length))).toBe(true);
    const threads = livePoolThreads();
    const err = await caught(nodeThrough(createDecryptStream({ keys: [KEY], workers: 2 }), bad, 65536));
    expect((err as EnsealError).code).toBe('ERR_AUTH');
    expect(await until(livePoolKeys, 0)).toBe(0);
    expect(await sharedPoolOf(2)!.keysHeld()).toBe(0);
    expect(livePoolThreads()).toBe(sharedPoolOf(2) === undefined ? threads : Math.max(threads, 4));
  });

  it('a wrong key or context fails the commitment before any batch', async () => {
    const p = await payload();
    await expectCode(chunked.open(pseudoRandom(32, 5), p, { workers: pool }), 'ERR_AUTH');
    const { output, error } = await pipeBytes(chunked.openStream(INPUT_KEY, { context: 'other', workers: pool }), p, [65536]);
    expect((error as EnsealError).code).toBe('ERR_AUTH');
    expect(output.length).toBe(0);
    expect(livePoolKeys()).toBe(0);
  });
});

describe('cancellation, throwing consumers and destroyed streams leave no thread and no key', () => {
  const big = pseudoRandom(16 << 20, 21);
  let bigSealed: Uint8Array;
  const sealedBig = async () => (bigSealed ??= await encrypt(big, { recipients: [KEY] }));

  // `workers: 2` runs on the shared pool of 2 threads: start it first, so that every count below
  // is against a baseline that includes it (and a leak would show as more threads).
  beforeAll(async () => {
    await encrypt(new Uint8Array(1), { recipients: [KEY], workers: 2 });
  });

  async function settledClean(threadsBefore: number, keysBefore: number): Promise<void> {
    expect(await until(livePoolThreads, threadsBefore)).toBe(threadsBefore);
    expect(await until(livePoolKeys, 0)).toBe(0);
    expect(await until(liveKeyCount, keysBefore)).toBe(keysBefore);
    expect(await pool.keysHeld()).toBe(0); // every thread wiped every message key
    expect(await sharedPoolOf(2)!.keysHeld()).toBe(0);
  }

  for (const dir of ['encrypt', 'decrypt'] as const) {
    for (const workers of ['own', 'shared'] as const) {
      it(`${dir}Stream cancelled mid-stream (workers: ${workers === 'own' ? 2 : 'pool'})`, async () => {
        const threads = livePoolThreads();
        const keys = liveKeyCount();
        const w = workers === 'own' ? 2 : pool;
        const ts = dir === 'encrypt' ? encryptStream({ recipients: [KEY], workers: w }) : decryptStream({ keys: [KEY], workers: w });
        const input = dir === 'encrypt' ? big : await sealedBig();
        const reader = ts.readable.getReader();
        const writer = ts.writable.getWriter();
        const writing = (async () => {
          for (let o = 0; o < input.length; o += 65536) await writer.write(input.subarray(o, o + 65536));
        })();
        const failed = caught(writing);
        let got = 0;
        while (got < 2 << 20) {
          const r = await reader.read();
          if (r.done) break;
          got += r.value.length;
        }
        expect(livePoolThreads()).toBe(threads); // `workers: 2` started no pool of its own
        expect(livePoolKeys()).toBe(1);
        await reader.cancel(new Error('consumer gone'));
        expect(await failed).toBeDefined(); // the writer saw the cancellation: the stream did not run to its end
        await settledClean(threads, keys);
      });
    }
  }

  it('a throwing consumer in pipeline() (Node streams, workers: 2) and a destroyed Transform', async () => {
    const threads = livePoolThreads();
    const keys = liveKeyCount();
    const tasks = osThreads();
    let seen = 0;
    const err = await caught(
      pipeline(
        Readable.from((function* () {
          for (let o = 0; o < big.length; o += 65536) yield big.subarray(o, o + 65536);
        })()),
        createEncryptStream({ recipients: [KEY], workers: 2 }),
        new Writable({
          write(c: Buffer, _e, cb) {
            seen += c.length;
            cb(seen > 1 << 20 ? new Error('disk full') : null);
          },
        }),
      ),
    );
    expect((err as Error).message).toBe('disk full');
    await settledClean(threads, keys);
    const t = createDecryptStream({ keys: [KEY], workers: 2 });
    t.write(await sealedBig());
    await new Promise((r) => setTimeout(r, 50));
    t.destroy();
    await settledClean(threads, keys);
    for (let i = 0; i < 200 && osThreads() > tasks; i++) await new Promise((r) => setTimeout(r, 10));
    expect(osThreads()).toBeLessThanOrEqual(tasks);
  });

  it('a consumer that throws while reading a Web stream (pipeTo into a failing sink)', async () => {
    const threads = livePoolThreads();
    const keys = liveKeyCount();
    const src = new ReadableStream<Uint8Array>({
      start(c) {
        for (let o = 0; o < big.length; o += 1 << 20) c.enqueue(big.slice(o, o + (1 << 20)));
        c.close();
      },
    });
    let n = 0;
    const sink = new WritableStream<Uint8Array>({
      write() {
        if (++n === 3) throw new Error('sink failed');
      },
    });
    const e = await caught(src.pipeThrough(chunked.sealStream(INPUT_KEY, { workers: 2 })).pipeTo(sink));
    expect((e as Error).message).toBe('sink failed');
    await settledClean(threads, keys);
  });
});

describe('shared pools behind workers: n', () => {
  it('repeated calls reuse one pool per thread count; each message still gets and wipes its own key', async () => {
    await encrypt(new Uint8Array(1), { recipients: [KEY], workers: 2 });
    const shared = sharedPoolOf(2)!;
    expect(shared).toBeInstanceOf(WorkerPool);
    const threads = livePoolThreads();
    const pt = pseudoRandom(3 * 64 * CHUNK + 5, 51);
    for (let i = 0; i < 4; i++) {
      const sealed = await encrypt(pt, { recipients: [KEY], workers: 2 });
      expect(eq(await decrypt(sealed, { keys: [KEY], workers: 2 }), pt)).toBe(true);
      expect(sharedPoolOf(2)).toBe(shared);
      expect(livePoolThreads()).toBe(threads);
      expect(await shared.keysHeld()).toBe(0);
    }
    await encrypt(pt, { recipients: [KEY], workers: 1 }); // another size, another pool
    expect(sharedPoolOf(1)).not.toBe(shared);
    expect(sharedPoolOf(1)!.size).toBe(1);
    expect(livePoolThreads()).toBe(threads + 1);
  });

  it('an idle shared pool closes itself; a closed or broken one is replaced, not reused', async () => {
    const before = SHARED_POOL_IDLE_MS;
    setSharedPoolIdleMs(30);
    try {
      await encrypt(new Uint8Array(10), { recipients: [KEY], workers: 3 });
      const threads = livePoolThreads();
      expect(sharedPoolOf(3)).toBeDefined();
      expect(await until(livePoolThreads, threads - 3)).toBe(threads - 3);
      expect(sharedPoolOf(3)).toBeUndefined();
      // A message open on it keeps it up past the timeout.
      const ts = chunked.sealStream(INPUT_KEY, { salt: SALT, workers: 3 });
      const out = new Response(ts.readable).arrayBuffer();
      const writer = ts.writable.getWriter();
      await writer.write(new Uint8Array(100));
      await new Promise((r) => setTimeout(r, 100));
      expect(sharedPoolOf(3)).toBeDefined();
      expect(livePoolThreads()).toBe(threads);
      await writer.close();
      expect(eq(new Uint8Array(await out), await chunked.seal(INPUT_KEY, new Uint8Array(100), { salt: SALT }))).toBe(true);
      expect(await until(livePoolThreads, threads - 3)).toBe(threads - 3);
      expect(sharedPoolOf(3)).toBeUndefined();
    } finally {
      setSharedPoolIdleMs(before);
    }
    await encrypt(new Uint8Array(1), { recipients: [KEY], workers: 2 });
    const old = sharedPoolOf(2)!;
    await old.close(); // as if a thread had died: the pool is closed
    const pt = pseudoRandom(70 * CHUNK, 52);
    expect(eq(await chunked.open(INPUT_KEY, await chunked.seal(INPUT_KEY, pt, { workers: 2 }), { workers: 2 }), pt)).toBe(true);
    expect(sharedPoolOf(2)).not.toBe(old);
    expect(sharedPoolOf(2)!.closed).toBe(false);
  });

  it('stream output batches are buffers of their own, exactly their length (nothing downstream is recycled)', async () => {
    const pt = pseudoRandom(5 * 64 * CHUNK + 77, 53);
    const parts: Uint8Array[] = [];
    const src = (data: Uint8Array) =>
      new ReadableStream<Uint8Array>({
        start(c) {
          for (let o = 0; o < data.length; o += 65536) c.enqueue(data.slice(o, o + 65536));
          c.close();
        },
      });
    await src(pt)
      .pipeThrough(chunked.sealStream(INPUT_KEY, { salt: SALT, workers: 2 }))
      .pipeTo(new WritableStream({ write: (c) => void parts.push(c) }));
    const sealed = new Uint8Array(Buffer.concat(parts));
    expect(eq(sealed, await chunked.seal(INPUT_KEY, pt, { salt: SALT }))).toBe(true);
    const batches = parts.filter((p) => p.length >= SEALED);
    expect(batches.length).toBe(5);
    const opened: Uint8Array[] = [];
    await src(sealed)
      .pipeThrough(chunked.openStream(INPUT_KEY, { workers: 2 }))
      .pipeTo(new WritableStream({ write: (c) => void opened.push(c) }));
    expect(eq(new Uint8Array(Buffer.concat(opened)), pt)).toBe(true);
    for (const b of [...batches, ...opened.filter((p) => p.length > 0)]) {
      expect(b.byteOffset).toBe(0);
      expect(b.buffer.byteLength).toBe(b.length);
    }
    const all = [...batches, ...opened].map((b) => b.buffer);
    expect(new Set(all).size).toBe(all.length);
  });

  it('an idle shared pool does not keep a Node process alive (dist/)', () => {
    if (!existsSync(new URL('../dist/pool/shared.js', import.meta.url))) throw new Error('dist/ is missing the pool: run `npm run build`');
    const script = [
      "import { aesKey, encrypt, decrypt } from './dist/index.js';",
      'const key = aesKey({ id: "k", key: new Uint8Array(32) });',
      'const pt = new Uint8Array(3 << 20).fill(7);',
      'const back = await decrypt(await encrypt(pt, { recipients: [key], workers: 2 }), { keys: [key], workers: 2 });',
      'console.log(JSON.stringify({ ok: back.length === pt.length && back.every((b) => b === 7) }));',
    ].join('\n');
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8', timeout: 30_000 });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ ok: true });
    expect(Date.now() - t0).toBeLessThan(5_000); // exits once the work is done, not after the 10 s idle timeout
  }, 30_000);
});

describe('pool lifecycle', () => {
  it('close() while in use: in-flight work fails with ERR_STATE, later use too; close is idempotent', async () => {
    const p = createPool({ size: 2 });
    const threads = livePoolThreads();
    // Large enough (64 MiB each) that neither finishes in the 30 ms before the close, even on an
    // idle machine (the pool alone needs longer to start its threads and seal that much).
    const running = encrypt(pseudoRandom(64 << 20, 31), { recipients: [KEY], workers: p });
    const streaming = pipeBytes(chunked.sealStream(INPUT_KEY, { workers: p }), pseudoRandom(64 << 20, 32), [1 << 20]);
    const runningFailed = caught(running);
    await new Promise((r) => setTimeout(r, 30));
    const closing = p.close();
    expect(p.close()).toBe(closing);
    await closing;
    expect((await runningFailed as EnsealError).code).toBe('ERR_STATE');
    const s = await streaming;
    expect((s.error as EnsealError).code).toBe('ERR_STATE');
    expect(p.closed).toBe(true);
    expect(livePoolThreads()).toBe(threads - 2);
    expect(livePoolKeys()).toBe(0);
    await expectCode(encrypt(new Uint8Array(10), { recipients: [KEY], workers: p }), 'ERR_STATE');
    await expectCode(chunked.open(INPUT_KEY, await chunked.seal(INPUT_KEY, new Uint8Array(3)), { workers: p }), 'ERR_STATE');
    const ws = await pipeBytes(encryptStream({ recipients: [KEY], workers: p }), new Uint8Array(100));
    expect((ws.error as EnsealError).code).toBe('ERR_STATE');
    await expectCode(p.keysHeld(), 'ERR_STATE');
  });

  it('Symbol.asyncDispose closes the pool', async () => {
    const threads = livePoolThreads();
    {
      await using p = createPool({ size: 1, maxQueue: 1 });
      expect(p).toBeInstanceOf(WorkerPool);
      expect(livePoolThreads()).toBe(threads + 1);
      const pt = pseudoRandom(3 * 64 * CHUNK, 3);
      expect(eq(await chunked.open(INPUT_KEY, await chunked.seal(INPUT_KEY, pt, { workers: p }), { workers: p }), pt)).toBe(true);
    }
    expect(livePoolThreads()).toBe(threads);
  });

  it('maxQueue bounds the jobs pending in a shared pool across concurrent messages', async () => {
    await using p = createPool({ size: 1, maxQueue: 2 });
    const pts = [0, 1, 2, 3].map((i) => pseudoRandom(5 * 64 * CHUNK + i, 40 + i));
    const outs = await Promise.all(pts.map((pt) => chunked.seal(INPUT_KEY, pt, { salt: SALT, workers: p })));
    for (let i = 0; i < 4; i++) expect(eq(outs[i]!, await chunked.seal(INPUT_KEY, pts[i]!, { salt: SALT }))).toBe(true);
  });

  it('bad options are API misuse, named, and start nothing', async () => {
    const threads = livePoolThreads();
    for (const bad of [-1, 0, 1.5, 65, Number.NaN]) {
      const e = await caught(encrypt(new Uint8Array(1), { recipients: [KEY], workers: bad }));
      expect(e).toBeInstanceOf(RangeError);
      expect(String(e)).toMatch(/workers/);
    }
    expect(await caught(decrypt(new Uint8Array(1), { keys: [KEY], workers: 'two' as never }))).toBeInstanceOf(TypeError);
    expect(() => encryptStream({ recipients: [KEY], workers: {} as never })).toThrow(TypeError);
    expect(() => chunked.openStream(INPUT_KEY, { workers: -2 })).toThrow(RangeError);
    expect(() => createPool({ size: 0 })).toThrow(RangeError);
    expect(() => createPool({ size: 2.5 })).toThrow(TypeError);
    expect(() => createPool({ maxQueue: 0 })).toThrow(RangeError);
    expect(() => new (WorkerPool as unknown as new (...a: unknown[]) => WorkerPool)()).toThrow(TypeError); // the constructor checks too
    expect(livePoolThreads()).toBe(threads);
  });
});

describe('real runtimes (dist/): worker_threads and Web Workers', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const bin = (name: string) => fileURLToPath(new URL(`../node_modules/.bin/${name}`, import.meta.url));
  const probe = 'test/runtimes/pool-smoke.mjs';
  const run = (exe: string, args: string[]) => {
    if (!existsSync(new URL('../dist/pool/pool.js', import.meta.url))) throw new Error('dist/ is missing the pool: run `npm run build`');
    const r = spawnSync(exe, args, { cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });
    const line = `${r.stdout}`.trim().split('\n').pop() ?? '';
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    return JSON.parse(line) as Record<string, unknown>;
  };
  const good = { identical: true, opened: true, roundTrip: true, tamper: 'ERR_AUTH:70', afterClose: 'ERR_STATE' };
  const cases: [string, string, string[]][] = [
    ['bun, worker_threads', bin('bun'), [probe]],
    ['bun, Web Workers', bin('bun'), [probe, 'web']],
    ['deno, worker_threads', bin('deno'), ['run', '-A', probe]],
    ['deno, Web Workers (module workers)', bin('deno'), ['run', '-A', probe, 'web']],
  ];
  for (const [name, exe, args] of cases) {
    it(name, () => {
      expect(run(exe, args)).toMatchObject(good);
    }, 90_000);
  }
  it('node without worker_threads and without Web Workers: ERR_UNSUPPORTED, no crash', () => {
    expect(run(process.execPath, [probe, 'web'])).toMatchObject({ unsupported: 'ERR_UNSUPPORTED' });
  }, 90_000);
});
