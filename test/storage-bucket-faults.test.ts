/**
 * Downloads through a store that fails the k-th request, for every k and every fault kind
 * (throw, time out, short body, another object's bytes): each read either returns exactly the
 * right bytes or fails with a typed error, and what a failing read released before erroring is
 * a prefix of the real plaintext made only of whole verified chunks. A store that swaps chunk
 * bytes while keeping size and entity tag is caught by chunk authentication. Uploads through
 * the same faults: see storage-multipart-faults.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { aesKey } from '../src/index.js';
import { EnsealError } from '../src/errors.js';
import { CHUNK_SIZE } from '../src/format/cobblestone.js';
import { encryptedBucket, type EncryptedBucket } from '../src/storage.js';
import type { MemoryFault, MemoryStore } from '../src/storage/memory.js';
import type { ObjectStore } from '../src/storage/store.js';
import { BACKENDS, expectCode, pseudoRandom } from './helpers.js';
import { collect, collectUntilError, expectBytes, smallMemoryStore } from './storage-bucket-helpers.js';

const KEY = aesKey({ id: 'faults', key: pseudoRandom(32, 21) });
const SIZE = 6 * CHUNK_SIZE + 100;
const PLAIN = pseudoRandom(SIZE, 77);
const KINDS: readonly MemoryFault[] = ['throw', 'timeout', 'short', 'other'];
const ALLOWED = new Set(['ERR_STORE', 'ERR_AUTH', 'ERR_TRUNCATED', 'ERR_CONTEXT', 'ERR_HEADER']);

interface Op {
  readonly name: string;
  /** Expected plaintext and where it starts. */
  readonly start: number;
  readonly expected: Uint8Array;
  run(bucket: EncryptedBucket, signal: AbortSignal): Promise<ReadableStream<Uint8Array> | Uint8Array>;
}

const OPS: readonly Op[] = [
  { name: 'whole get', start: 0, expected: PLAIN, run: async (b, signal) => (await b.getObject('target', { signal })).body },
  {
    name: 'range inside the object',
    start: CHUNK_SIZE + 7,
    expected: PLAIN.slice(CHUNK_SIZE + 7, 4 * CHUNK_SIZE + 8),
    run: async (b, signal) => (await b.getObject('target', { range: { start: CHUNK_SIZE + 7, end: 4 * CHUNK_SIZE + 7 }, signal })).body,
  },
  {
    name: 'range to the end',
    start: 2 * CHUNK_SIZE + 1,
    expected: PLAIN.slice(2 * CHUNK_SIZE + 1),
    run: async (b, signal) => (await b.getObject('target', { range: { start: 2 * CHUNK_SIZE + 1 }, signal })).body,
  },
  {
    name: 'reader: range then verifiedSize',
    start: 0,
    expected: PLAIN.slice(0, 10),
    run: async (b, signal) => {
      const r = await b.openObject('target', { signal });
      try {
        const bytes = await r.readBytes({ start: 0, end: 9 });
        expect(await r.verifiedSize()).toBe(SIZE);
        return bytes;
      } finally {
        r.close();
      }
    },
  },
];

async function setup(backend: (typeof BACKENDS)[number]): Promise<{ store: MemoryStore; bucket: EncryptedBucket }> {
  const store = smallMemoryStore({ hangMs: 1000 });
  const bucket = encryptedBucket(store, { recipients: [KEY], keys: [KEY], backend });
  // Same key, same size: the most convincing wrong object a store could serve.
  await bucket.putObject('decoy1', pseudoRandom(SIZE, 78));
  await bucket.putObject('target', PLAIN);
  return { store, bucket };
}

/** Checks the outcome of one faulty read. */
function checkOutcome(op: Op, released: Uint8Array, error: unknown): 'ok' | 'failed' {
  if (error === undefined) {
    expectBytes(released, op.expected, `${op.name}: a read that succeeds returns exactly the plaintext`);
    return 'ok';
  }
  const typed = error instanceof EnsealError ? ALLOWED.has(error.code) : (error as { name?: string }).name === 'TimeoutError';
  expect(typed, `${op.name}: unexpected error ${String(error)}`).toBe(true);
  expect(released.length).toBeLessThanOrEqual(op.expected.length);
  expectBytes(released, op.expected.subarray(0, released.length), `${op.name}: released bytes are a prefix of the plaintext`);
  // Only whole chunks are released: the prefix ends on a chunk boundary (or is everything).
  expect(released.length === 0 || released.length === op.expected.length || (op.start + released.length) % CHUNK_SIZE === 0, `${op.name}: released ${released.length} bytes`).toBe(true);
  return 'failed';
}

async function attempt(op: Op, bucket: EncryptedBucket): Promise<{ released: Uint8Array; error: unknown }> {
  const signal = AbortSignal.timeout(400);
  try {
    const out = await op.run(bucket, signal);
    if (out instanceof Uint8Array) return { released: out, error: undefined };
    const { bytes, error } = await collectUntilError(out);
    return { released: bytes, error };
  } catch (e) {
    return { released: new Uint8Array(0), error: e };
  }
}

for (const backend of BACKENDS) {
  describe(`downloads through a failing store (${backend})`, () => {
    for (const op of OPS) {
      it(`${op.name}: every k, every fault kind`, async () => {
        const { store, bucket } = await setup(backend);
        store.resetStats();
        const clean = await attempt(op, bucket);
        expect(clean.error).toBeUndefined();
        expectBytes(clean.released, op.expected);
        const n = store.stats.requests;
        expect(n).toBeGreaterThanOrEqual(1);
        expect(n).toBeLessThanOrEqual(3);
        let failures = 0;
        for (let k = 1; k <= n; k++) {
          for (const kind of KINDS) {
            // A fresh bucket each time: no cached hint changes the request sequence.
            const fresh = encryptedBucket(store, { keys: [KEY], backend });
            store.clearFaults();
            store.resetStats();
            store.failOn(k, kind);
            const { released, error } = await attempt(op, fresh);
            if (checkOutcome(op, released, error) === 'failed') failures++;
            expect(store.stats.requests, `fault ${kind} at request ${k} was reached`).toBeGreaterThanOrEqual(k);
          }
        }
        // Every injected fault made the read fail (none was silently absorbed into wrong bytes).
        expect(failures).toBe(n * KINDS.length);
      });
    }

    it('a store that swaps chunk bytes but keeps size and entity tag: ERR_AUTH after only verified chunks', async () => {
      const { store } = await setup(backend);
      const decoy = store.peek('decoy1')!;
      expect(decoy.length).toBe(store.peek('target')!.length); // same header and payload sizes
      // Serve the target's header (first GET) but the decoy's bytes for every later range.
      let gets = 0;
      const lying: ObjectStore = {
        ...store,
        name: store.name,
        multipart: store.multipart,
        async get(key, o) {
          const r = await store.get(key, o);
          if (++gets === 1 || o?.range === undefined) return r;
          await r.body.cancel();
          const start = o.range.start;
          const end = Math.min(o.range.end ?? decoy.length - 1, decoy.length - 1);
          // Chunks 0..1 genuine, the rest from the decoy: the first swapped chunk fails.
          const real = store.peek('target')!;
          const mixed = real.slice(start, end + 1);
          const swapFrom = start + 2 * (CHUNK_SIZE + 16);
          for (let i = swapFrom; i <= end; i++) mixed[i - start] = decoy[i]!;
          return { ...r, body: new Response(mixed).body! };
        },
      };
      const bucket = encryptedBucket(lying, { keys: [KEY], backend });
      const got = await bucket.getObject('target', { range: { start: 0, end: SIZE - 1 } });
      const { bytes, error } = await collectUntilError(got.body);
      expect(error).toBeInstanceOf(EnsealError);
      expect((error as EnsealError).code).toBe('ERR_AUTH');
      expect((error as EnsealError).chunk).toBe(2);
      expectBytes(bytes, PLAIN.subarray(0, bytes.length));
      expect(bytes.length % CHUNK_SIZE).toBe(0);
      expect(bytes.length).toBeLessThanOrEqual(2 * CHUNK_SIZE);
    });

    it('a truncated stored object fails, with a typed error, however it is read', async () => {
      const { store, bucket } = await setup(backend);
      const raw = store.peek('target')!;
      for (const cut of [1, 15, 16, 17, CHUNK_SIZE + 16, 2 * (CHUNK_SIZE + 16) + 56]) {
        await store.put('target', raw.subarray(0, raw.length - cut));
        const whole = await bucket.getObject('target').then((r) => collect(r.body)).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(whole, `cut ${cut}`).toBeInstanceOf(EnsealError);
        expect(['ERR_TRUNCATED', 'ERR_AUTH']).toContain((whole as EnsealError).code);
        const r = await bucket.openObject('target').catch((e: unknown) => e);
        if (r instanceof EnsealError) {
          expect(['ERR_TRUNCATED', 'ERR_AUTH']).toContain(r.code);
          continue;
        }
        const reader = r as Awaited<ReturnType<EncryptedBucket['openObject']>>;
        await expect(reader.verifiedSize()).rejects.toBeInstanceOf(EnsealError);
        await expect(reader.readBytes({ start: reader.size - 1 })).rejects.toBeInstanceOf(EnsealError);
        reader.close();
      }
      await expectCode(bucket.getObject('missing', { range: { start: 0, end: 0 } }), 'ERR_NOT_FOUND');
    });
  });
}
