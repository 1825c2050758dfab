/**
 * Encrypted multipart uploads: the stored object is byte-identical to `encrypt` output given
 * the same randomness (a seeded backend wrapper), parts fall on chunk boundaries and respect
 * the store's minimum part size, parts go up in parallel within the concurrency limit, progress
 * is reported, and an interrupted upload resumed from its file-backed state (a new bucket, as a
 * new process would have) sends only the missing parts and completes byte-identical. The state
 * never holds the data key. With `workers` (a thread count or a pool), the parts are sealed on
 * worker threads: the same bytes, resumes included, and no message key left in any thread.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { aesKey, createPool, encrypt } from '../src/index.js';
import { livePoolKeys } from '../src/pool/session.js';
import { closeSharedPools, sharedPoolOf } from '../src/pool/shared.js';
import { toBase64, toHex } from '../src/bytes.js';
import { CHUNK_SIZE, PREAMBLE_LENGTH, SEALED_CHUNK_SIZE, TAG_LENGTH } from '../src/format/cobblestone.js';
import { encryptedBucket, fileUploadState, memoryUploadState, OBJECT_KEY_CONTEXT, type UploadProgress } from '../src/storage.js';
import type { ObjectStore } from '../src/storage/store.js';
import { BACKENDS, expectCode, pseudoRandom } from './helpers.js';
import { collect, deterministicBackend, expectBytes, MIN_PART, piecewise, smallMemoryStore, tempDir } from './storage-bucket-helpers.js';

const KEY = aesKey({ id: 'mp', key: pseudoRandom(32, 31) });
const CONTEXT = { tenant: 't1' };
const K = Math.ceil(MIN_PART / SEALED_CHUNK_SIZE); // chunks per part the layout chooses
const PART = K * CHUNK_SIZE; // plaintext bytes per part

/** Records the body size of every uploadPart and the highest number of parts in flight. */
function recording(inner: ObjectStore, delayMs = 0) {
  const sizes = new Map<number, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  const store: ObjectStore = {
    ...inner,
    name: inner.name,
    multipart: inner.multipart,
    put: inner.put.bind(inner),
    get: inner.get.bind(inner),
    head: inner.head.bind(inner),
    delete: inner.delete.bind(inner),
    list: inner.list.bind(inner),
    createMultipart: inner.createMultipart.bind(inner),
    completeMultipart: inner.completeMultipart.bind(inner),
    abortMultipart: inner.abortMultipart.bind(inner),
    async uploadPart(key, id, n, body, o) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
        sizes.set(n, body.length);
        return await inner.uploadPart(key, id, n, body, o);
      } finally {
        inFlight--;
      }
    },
  };
  return { store, sizes, maxInFlight: () => maxInFlight };
}

for (const backend of BACKENDS) {
  describe(`encrypted multipart upload (${backend})`, () => {
    const lengths = [PART, PART + 1, 3 * PART - 1, 3 * PART, 3 * PART + CHUNK_SIZE + 5];
    for (const len of lengths) {
      it(`${len} bytes: byte-identical to encrypt() with the same randomness, parts on chunk boundaries`, async () => {
        const plain = pseudoRandom(len, len);
        const mem = smallMemoryStore();
        const rec = recording(mem);
        const bucket = encryptedBucket(rec.store, {
          recipients: [KEY],
          keys: [KEY],
          backend: deterministicBackend(backend, 1000),
          context: CONTEXT,
          partSize: 1, // raised to the store minimum
          multipartThreshold: 0,
          concurrency: 3,
        });
        const r = await bucket.putObject('obj', piecewise(plain, [50_000, 3, 70_001]));
        const single = await encrypt(plain, { recipients: [KEY], context: { ...CONTEXT, [OBJECT_KEY_CONTEXT]: 'obj' }, backend: deterministicBackend(backend, 1000) });
        expectBytes(mem.peek('obj')!, single, 'multipart object vs encrypt()');
        expect(r.storedSize).toBe(single.length);
        // Layout: every part but the last holds exactly K chunks (part 1 also the header) and
        // meets the minimum part size.
        const parts = [...rec.sizes.entries()].sort(([a], [b]) => a - b);
        expect(parts.length).toBe(r.parts);
        expect(parts.length).toBe(Math.max(1, Math.ceil(len / PART)));
        const headerLength = single.length - (PREAMBLE_LENGTH + len + (Math.floor(len / CHUNK_SIZE) + 1) * TAG_LENGTH);
        parts.forEach(([n, size], i) => {
          if (i === parts.length - 1) return;
          expect(size, `part ${n}`).toBe((n === 1 ? headerLength + PREAMBLE_LENGTH : 0) + K * SEALED_CHUNK_SIZE);
          expect(size).toBeGreaterThanOrEqual(MIN_PART);
        });
        expectBytes(await collect((await bucket.getObject('obj')).body), plain);
      });
    }

    it('parts go up in parallel, within the concurrency limit, with progress', async () => {
      const plain = pseudoRandom(8 * PART + 10, 3);
      const rec = recording(smallMemoryStore(), 15);
      const bucket = encryptedBucket(rec.store, { recipients: [KEY], keys: [KEY], backend, partSize: PART, concurrency: 3, multipartThreshold: PART });
      const progress: UploadProgress[] = [];
      const r = await bucket.putObject('p', plain, { onProgress: (p) => progress.push(p) });
      expect(r.parts).toBe(9);
      expect(rec.maxInFlight()).toBe(3);
      expect(progress.length).toBe(9);
      for (let i = 1; i < progress.length; i++) expect(progress[i]!.loaded).toBeGreaterThan(progress[i - 1]!.loaded);
      expect(progress.at(-1)).toMatchObject({ loaded: plain.length, total: plain.length });
      expectBytes(await collect((await bucket.getObject('p')).body), plain);

      const seq = recording(smallMemoryStore(), 5);
      await encryptedBucket(seq.store, { recipients: [KEY], backend, partSize: PART, concurrency: 1, multipartThreshold: PART }).putObject('p', plain);
      expect(seq.maxInFlight()).toBe(1);
    });

    it('an interrupted upload resumes from its state file: only missing parts, byte-identical, no data key in the state', async () => {
      const plain = pseudoRandom(6 * PART + 321, 9);
      const path = join(tempDir(), 'upload.json');
      const det = deterministicBackend(backend, 4242);
      const reference = await encrypt(plain, { recipients: [KEY], context: { [OBJECT_KEY_CONTEXT]: 'r' }, backend: deterministicBackend(backend, 4242) });
      const dataKey = pseudoRandom(32, 4243 * 7919); // the seeded backend's first randomBytes(32)

      const store = smallMemoryStore();
      const first = encryptedBucket(store, { recipients: [KEY], keys: [KEY], backend: det, partSize: PART, concurrency: 2, multipartThreshold: PART, retry: { retries: 0 } });
      store.resetStats();
      store.failOn(5, 'throw'); // createMultipart, then parts 1..3 succeed; the 4th request to a part fails
      await expectCode(first.putObject('r', plain, { uploadState: fileUploadState(path), leavePartsOnError: true }), 'ERR_STORE');
      expect(store.keys()).not.toContain('r'); // nothing visible
      expect(store.pendingUploads()).toHaveLength(1);
      const text = readFileSync(path, 'utf8');
      const saved = JSON.parse(text) as { parts: { partNumber: number; etag: string }[] };
      // Completed parts; the part that failed is recorded too, with its digest and no etag (it is
      // recorded before it is sent), and is sent again by the resume.
      const done = saved.parts.filter((p) => p.etag !== '').length;
      expect(saved.parts.length - done).toBeGreaterThanOrEqual(1);
      expect(done).toBeGreaterThanOrEqual(2);
      expect(done).toBeLessThan(7);
      expect(text).not.toContain(toHex(dataKey));
      expect(text).not.toContain(toBase64(dataKey));
      expect(text).not.toContain(toBase64(dataKey).slice(0, 20));

      // A new bucket (a new process): keys unwrap the saved header; the same plaintext again.
      const second = encryptedBucket(store, { recipients: [KEY], keys: [KEY], backend, partSize: PART, concurrency: 2, multipartThreshold: PART });
      store.resetStats();
      const r = await second.putObject('r', piecewise(plain), { uploadState: fileUploadState(path), resume: true });
      expect(r.parts).toBe(7);
      expect(r.uploadedParts).toBe(7 - done);
      expect(store.stats.byOperation.uploadPart).toBe(7 - done);
      expect(store.stats.byOperation.createMultipart).toBe(0);
      expectBytes(store.peek('r')!, reference, 'resumed object vs uninterrupted');
      expect(existsSync(path)).toBe(false); // state cleared on completion
      expect(store.pendingUploads()).toHaveLength(0);
    });

    it('resuming with another plaintext is refused and aborts; resuming needs keys', async () => {
      const plain = pseudoRandom(4 * PART, 10);
      const state = memoryUploadState();
      const store = smallMemoryStore();
      const bucket = encryptedBucket(store, { recipients: [KEY], keys: [KEY], backend, partSize: PART, multipartThreshold: PART, retry: { retries: 0 }, concurrency: 1 });
      store.failOn(4, 'throw');
      await expectCode(bucket.putObject('x', plain, { uploadState: state, leavePartsOnError: true }), 'ERR_STORE');
      expect(state.record?.parts.filter((p) => p.etag !== '').length).toBe(2);
      expect(state.record?.parts.filter((p) => p.etag === '').map((p) => p.partNumber)).toEqual([3]); // recorded before it was sent
      const noKeys = encryptedBucket(store, { recipients: [KEY], backend, partSize: PART, multipartThreshold: PART });
      await expect(noKeys.putObject('x', plain, { uploadState: state, resume: true })).rejects.toThrow(TypeError);
      const other = plain.slice();
      other[5] = (other[5]! + 1) & 0xff;
      await expectCode(bucket.putObject('x', other, { uploadState: state, resume: true }), 'ERR_STATE');
      expect(store.keys()).not.toContain('x');
      expect(store.pendingUploads()).toHaveLength(0); // aborted
      expect(state.record).toBeUndefined();
    });

    it('an upload aborted by its signal is aborted in the store', async () => {
      const ms = smallMemoryStore();
      const rec = recording(ms, 20);
      const bucket = encryptedBucket(rec.store, { recipients: [KEY], backend, partSize: PART, multipartThreshold: PART });
      const ac = new AbortController();
      setTimeout(() => ac.abort(new Error('user abort')), 30);
      await expect(bucket.putObject('a', pseudoRandom(10 * PART, 1), { signal: ac.signal })).rejects.toThrow('user abort');
      await expectCode(bucket.store.head('a'), 'ERR_NOT_FOUND');
      expect(ms.pendingUploads()).toHaveLength(0);
      expect(ms.stats.byOperation.abortMultipart).toBe(1);
    });

    it('an upload whose stream source stalls stops at once when its signal aborts (no wait for more data)', async () => {
      const ms = smallMemoryStore();
      const bucket = encryptedBucket(ms, { recipients: [KEY], backend, partSize: PART, multipartThreshold: PART });
      let cancelled = false;
      const first = pseudoRandom(2 * PART + 5, 3);
      const stalled = new ReadableStream<Uint8Array>({
        start: (c) => c.enqueue(first), // then nothing more, like stdin with no writer
        cancel: () => void (cancelled = true),
      });
      const ac = new AbortController();
      setTimeout(() => ac.abort(new Error('user abort')), 50);
      const t0 = Date.now();
      await expect(bucket.putObject('s', stalled, { signal: ac.signal })).rejects.toThrow('user abort');
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(cancelled).toBe(true);
      expect(ms.pendingUploads()).toHaveLength(0);
      await expectCode(ms.head('s'), 'ERR_NOT_FOUND');
    });
  });
}

describe('encrypted multipart upload on a worker pool (workers)', () => {
  const pool = createPool({ size: 2 });
  afterAll(async () => {
    await pool.close();
    await closeSharedPools();
  });
  const noKeysLeft = async (): Promise<void> => {
    expect(livePoolKeys()).toBe(0);
    expect(await pool.keysHeld()).toBe(0);
    const shared = sharedPoolOf(2);
    if (shared !== undefined) expect(await shared.keysHeld()).toBe(0);
  };

  // 0 and one byte: a single PUT below the threshold (encrypt with workers); the rest multipart,
  // with parts of more than one 64-chunk pool batch (K chunks per part).
  const lengths = [0, 1, PART, 3 * PART - 1, 3 * PART, 2 * PART + 64 * CHUNK_SIZE];
  for (const workers of [2, 'pool'] as const) {
    for (const len of lengths) {
      it(`${len} bytes, workers: ${workers}: byte-identical to encrypt() with the same randomness`, async () => {
        const plain = pseudoRandom(len, len + 17);
        const mem = smallMemoryStore();
        const rec = recording(mem);
        const bucket = encryptedBucket(rec.store, {
          recipients: [KEY],
          keys: [KEY],
          backend: deterministicBackend('node', 77),
          context: CONTEXT,
          partSize: 1,
          multipartThreshold: len < 2 ? 1 : 0,
          concurrency: 3,
          workers: workers === 'pool' ? pool : 2,
        });
        const r = await bucket.putObject('obj', piecewise(plain, [50_000, 3, 70_001]));
        const single = await encrypt(plain, { recipients: [KEY], context: { ...CONTEXT, [OBJECT_KEY_CONTEXT]: 'obj' }, backend: deterministicBackend('node', 77) });
        expectBytes(mem.peek('obj')!, single, 'pooled multipart object vs encrypt()');
        expect(r.parts).toBe(len < 2 ? 1 : Math.max(1, Math.ceil(len / PART)));
        expect(rec.sizes.size).toBe(len < 2 ? 0 : r.parts);
        expectBytes(await collect((await bucket.getObject('obj')).body), plain);
        await noKeysLeft();
      });
    }
  }

  it('K > 64: a part spans several pool batches (parts of 200 chunks)', async () => {
    const plain = pseudoRandom(2 * 200 * CHUNK_SIZE + 999, 5);
    const mem = smallMemoryStore();
    const bucket = encryptedBucket(mem, { recipients: [KEY], backend: deterministicBackend('webcrypto', 5), partSize: 200 * CHUNK_SIZE, multipartThreshold: 0, workers: pool });
    await bucket.putObject('big', plain);
    const single = await encrypt(plain, { recipients: [KEY], context: { [OBJECT_KEY_CONTEXT]: 'big' }, backend: deterministicBackend('webcrypto', 5) });
    expectBytes(mem.peek('big')!, single, 'pooled multipart object vs encrypt()');
    await noKeysLeft();
  });

  it('an interrupted pooled upload resumes on the pool byte-identical; a failed one leaves no key in any thread', async () => {
    const plain = pseudoRandom(5 * PART + 99, 19);
    const reference = await encrypt(plain, { recipients: [KEY], context: { [OBJECT_KEY_CONTEXT]: 'r' }, backend: deterministicBackend('node', 31) });
    const state = memoryUploadState();
    const store = smallMemoryStore();
    const first = encryptedBucket(store, { recipients: [KEY], keys: [KEY], backend: deterministicBackend('node', 31), partSize: PART, concurrency: 2, multipartThreshold: PART, retry: { retries: 0 }, workers: 2 });
    store.failOn(4, 'throw');
    await expectCode(first.putObject('r', plain, { uploadState: state, leavePartsOnError: true }), 'ERR_STORE');
    await noKeysLeft();
    const done = state.record!.parts.filter((p) => p.etag !== '').length;
    expect(done).toBeGreaterThanOrEqual(1);
    const second = encryptedBucket(store, { recipients: [KEY], keys: [KEY], partSize: PART, concurrency: 2, multipartThreshold: PART, workers: pool });
    const r = await second.putObject('r', piecewise(plain), { uploadState: state, resume: true });
    expect(r.uploadedParts).toBe(r.parts - done);
    expectBytes(store.peek('r')!, reference, 'resumed pooled object vs uninterrupted');
    await noKeysLeft();

    const aborted = smallMemoryStore();
    aborted.failOn(3, 'throw');
    await expectCode(encryptedBucket(aborted, { recipients: [KEY], partSize: PART, multipartThreshold: PART, retry: { retries: 0 }, workers: 2 }).putObject('x', plain), 'ERR_STORE');
    expect(aborted.pendingUploads()).toHaveLength(0);
    await noKeysLeft();
  });

  it('a bad workers value is refused when the bucket is made; a closed pool fails the upload (ERR_STATE), aborted', async () => {
    expect(() => encryptedBucket(smallMemoryStore(), { recipients: [KEY], workers: 0 })).toThrow(RangeError);
    expect(() => encryptedBucket(smallMemoryStore(), { recipients: [KEY], workers: 'two' as never })).toThrow(TypeError);
    const closed = createPool({ size: 1 });
    await closed.close();
    const store = smallMemoryStore();
    await expectCode(encryptedBucket(store, { recipients: [KEY], partSize: PART, multipartThreshold: PART, workers: closed }).putObject('c', pseudoRandom(3 * PART, 1)), 'ERR_STATE');
    await expectCode(encryptedBucket(store, { recipients: [KEY], workers: closed }).putObject('d', pseudoRandom(10, 1)), 'ERR_STATE');
    expect(store.keys()).toHaveLength(0);
    expect(store.pendingUploads()).toHaveLength(0);
  });
});
