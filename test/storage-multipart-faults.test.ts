/**
 * Uploads through a store that fails the k-th request, for every k of an uninterrupted upload
 * and every fault kind (throw, time out, short body, another object's bytes), for a single PUT
 * and for a multipart upload:
 * - with retries, the upload succeeds and the object reads back exactly;
 * - without retries, it fails with a typed error, no object (partial or whole) is visible, and
 *   no multipart upload is left behind (it was aborted);
 * - with `leavePartsOnError`, a resumed upload completes byte-identical to an uninterrupted one.
 */
import { describe, expect, it } from 'vitest';
import { aesKey, encrypt } from '../src/index.js';
import { EnsealError } from '../src/errors.js';
import { CHUNK_SIZE, SEALED_CHUNK_SIZE } from '../src/format/cobblestone.js';
import { encryptedBucket, memoryUploadState, OBJECT_KEY_CONTEXT } from '../src/storage.js';
import type { MemoryFault } from '../src/storage/memory.js';
import { BACKENDS, pseudoRandom } from './helpers.js';
import { collect, deterministicBackend, expectBytes, MIN_PART, smallMemoryStore } from './storage-bucket-helpers.js';

const KEY = aesKey({ id: 'mpf', key: pseudoRandom(32, 41) });
const PART = Math.ceil(MIN_PART / SEALED_CHUNK_SIZE) * CHUNK_SIZE;
const KINDS: readonly MemoryFault[] = ['throw', 'timeout', 'short', 'other'];
const CASES = [
  { name: 'single PUT', plain: pseudoRandom(3 * CHUNK_SIZE + 9, 5) },
  { name: 'multipart (4 parts)', plain: pseudoRandom(3 * PART + 1234, 6) },
];
const retryFast = { baseDelayMs: 1, maxDelayMs: 5, requestTimeoutMs: 150 };

for (const backend of BACKENDS) {
  describe(`uploads through a failing store (${backend})`, () => {
    for (const c of CASES) {
      it(`${c.name}: every k, every fault kind, with and without retries`, async () => {
        const opts = { recipients: [KEY], keys: [KEY], backend, partSize: PART, multipartThreshold: PART, concurrency: 2 } as const;
        const clean = smallMemoryStore();
        await encryptedBucket(clean, opts).putObject('obj', c.plain);
        const n = clean.stats.requests;
        expect(n).toBe(c.name === 'single PUT' ? 1 : 6); // createMultipart + 4 parts + complete
        for (let k = 1; k <= n; k++) {
          for (const kind of KINDS) {
            const store = smallMemoryStore({ hangMs: 1000 });
            store.failOn(k, kind);
            const retried = encryptedBucket(store, { ...opts, retry: { retries: 2, ...retryFast } });
            await retried.putObject('obj', c.plain);
            expectBytes(await collect((await retried.getObject('obj')).body), c.plain, `${kind}@${k} retried`);
            expect(store.pendingUploads()).toHaveLength(0);

            const strict = smallMemoryStore({ hangMs: 1000 });
            strict.failOn(k, kind);
            const once = encryptedBucket(strict, { ...opts, retry: { retries: 0, ...retryFast } });
            const e = await once.putObject('obj', c.plain).then(
              () => undefined,
              (err: unknown) => err,
            );
            expect(e, `${kind}@${k} without retries`).toBeInstanceOf(EnsealError);
            expect((e as EnsealError).code).toBe('ERR_STORE');
            expect(strict.keys(), `${kind}@${k}: no visible object`).toEqual([]);
            expect(strict.pendingUploads(), `${kind}@${k}: upload aborted`).toEqual([]);
          }
        }
      });
    }

    it('multipart: after a failure at every k, a resumed upload completes byte-identical', async () => {
      const plain = CASES[1]!.plain;
      const reference = await encrypt(plain, { recipients: [KEY], context: { [OBJECT_KEY_CONTEXT]: 'obj' }, backend: deterministicBackend(backend, 7) });
      // Requests 2..5 are the four parts; a failure at 1 (create) leaves nothing to resume.
      for (let k = 1; k <= 6; k++) {
        const store = smallMemoryStore();
        const state = memoryUploadState();
        const opts = { recipients: [KEY], keys: [KEY], partSize: PART, multipartThreshold: PART, concurrency: 2, retry: { retries: 0, ...retryFast } } as const;
        store.failOn(k, 'throw');
        const first = encryptedBucket(store, { ...opts, backend: deterministicBackend(backend, 7) });
        await expect(first.putObject('obj', plain, { uploadState: state, leavePartsOnError: true })).rejects.toBeInstanceOf(EnsealError);
        expect(store.keys()).toEqual([]);
        const recorded = state.record?.parts.filter((p) => p.etag !== '').length ?? 0; // completed ones
        if (k === 1) expect(state.record).toBeUndefined(); // nothing was created
        // (A failure at create leaves nothing to resume: that run starts afresh, with the same seed.)
        const resumed = encryptedBucket(store, { ...opts, backend: deterministicBackend(backend, 7) });
        const r = await resumed.putObject('obj', plain, { uploadState: state, resume: true });
        expectBytes(store.peek('obj')!, reference, `resume after a failure at request ${k}`);
        expect(r.uploadedParts).toBe(4 - recorded);
        expect(store.pendingUploads()).toHaveLength(0);
      }
    });
  });
}
