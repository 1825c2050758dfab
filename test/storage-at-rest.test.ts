/**
 * `atRestEncryption` over memory and fs stores, with LocalKms playing the store's KMS: what
 * reaches the inner store is ciphertext (an enseal object under a per-object data key), reads
 * decrypt, ranged reads fetch only the covering chunks and equal the plaintext slice, responses
 * declare `sse: { algorithm, keyId }` (bucket default, per-request override), multipart uploads
 * through the wrapper assemble one encrypted object, and stored-data tampering fails.
 */
import fc from 'fast-check';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decrypt, inspect } from '../src/index.js';
import { CHUNK_SIZE, SEALED_CHUNK_SIZE } from '../src/format/cobblestone.js';
import { kms } from '../src/keys/kms.js';
import { LocalKms } from '../src/kms-local.js';
import { atRestEncryption } from '../src/storage/at-rest.js';
import { encryptedBucket } from '../src/storage.js';
import type { ObjectStore } from '../src/storage/store.js';
import { BACKENDS, expectCode, pseudoRandom } from './helpers.js';
import { collect, counting, expectBytes, MIN_PART, STORE_KINDS, tempDir } from './storage-bucket-helpers.js';

let local: LocalKms;
let storeKey: string;
let cmk: string;

beforeAll(async () => {
  local = await LocalKms.open(join(tempDir(), 'kms.json'), { create: true });
  storeKey = (await local.createKey({ alias: 'oss-managed' })).id;
  cmk = (await local.createKey({ alias: 'tenant-cmk' })).id;
});

const PLAIN = pseudoRandom(5 * CHUNK_SIZE + 321, 61);

for (const backend of BACKENDS) {
  for (const kind of STORE_KINDS) {
    describe(`atRestEncryption over ${kind.name} (${backend})`, () => {
      const make = () => {
        const c = counting(kind.make());
        const store = atRestEncryption(c.store, { provider: local, defaultKeyId: storeKey, keyIds: [cmk], backend, partSize: MIN_PART });
        return { c, inner: c.store, store };
      };

      it('stores ciphertext, reads plaintext, declares SSE (default AES256, per-request KMS key)', async () => {
        const { inner, store } = make();
        await store.put('a.bin', PLAIN, { metadata: { owner: 'ana' } });
        const raw = await collect((await inner.get('a.bin')).body);
        expect(raw.length).toBeGreaterThan(PLAIN.length);
        expect(Buffer.from(raw).includes(Buffer.from(PLAIN.subarray(0, 64)))).toBe(false);
        expect(inspect(raw).recipients[0]).toMatchObject({ type: 'kms-local', keyId: storeKey });
        expectBytes(await decrypt(raw, { keys: [kms({ client: local, keyId: storeKey })] }), PLAIN);

        const got = await store.get('a.bin');
        expectBytes(await collect(got.body), PLAIN);
        expect(got.size).toBe(PLAIN.length);
        expect(got.metadata).toEqual({ owner: 'ana' });
        expect(got.sse).toEqual({ algorithm: 'AES256', keyId: storeKey });
        const head = await store.head('a.bin');
        expect(head).toMatchObject({ size: PLAIN.length, metadata: { owner: 'ana' }, sse: { algorithm: 'AES256', keyId: storeKey } });

        await store.put('k.bin', PLAIN, { sse: { provider: 'oss', algorithm: 'KMS', keyId: cmk } });
        expect((await store.head('k.bin')).sse).toEqual({ algorithm: 'KMS', keyId: cmk });
        const rawK = await collect((await inner.get('k.bin')).body);
        expect(inspect(rawK).recipients[0]?.keyId).toBe(cmk);
        await store.put('s3.bin', PLAIN, { sse: { provider: 's3', algorithm: 'aws:kms' } });
        expect((await store.head('s3.bin')).sse).toEqual({ algorithm: 'KMS', keyId: storeKey });
        await expect(store.put('x', PLAIN, { sse: { provider: 'oss', algorithm: 'KMS', keyId: 'lk-00000000000000000000000000000000' } })).rejects.toThrow(TypeError);
        await expectCode(store.put('x', PLAIN, { sse: { provider: 'oss', algorithm: 'SM4' } }), 'ERR_UNSUPPORTED');

        const kmsDefault = atRestEncryption(inner, { provider: local, defaultKeyId: cmk, defaultAlgorithm: 'KMS', backend });
        await kmsDefault.put('d.bin', PLAIN.subarray(0, 10));
        expect((await kmsDefault.head('d.bin')).sse).toEqual({ algorithm: 'KMS', keyId: cmk });
      });

      it('ranged reads equal the plaintext slice and fetch only the covering chunks', async () => {
        const { c, store } = make();
        await store.put('r.bin', PLAIN);
        await fc.assert(
          fc.asyncProperty(fc.nat(PLAIN.length - 1), fc.nat(2 * CHUNK_SIZE), async (start, len) => {
            c.reset();
            const got = await store.get('r.bin', { range: { start, end: start + len } });
            expectBytes(await collect(got.body), PLAIN.slice(start, start + len + 1));
            expect(got.range).toEqual({ start, end: Math.min(start + len, PLAIN.length - 1) });
            expect(c.requests.total).toBeLessThanOrEqual(2);
            const chunks = Math.floor(Math.min(start + len, PLAIN.length - 1) / CHUNK_SIZE) - Math.floor(start / CHUNK_SIZE) + 1;
            // Header guess + covering chunks; or, for a range near the start, one GET of at most 48 KiB.
            expect(c.bytesOut).toBeLessThanOrEqual(Math.max(4096 + 56 + chunks * SEALED_CHUNK_SIZE, 48 * 1024));
          }),
          { numRuns: 25 },
        );
        await expectCode(store.get('r.bin', { range: { start: PLAIN.length } }), 'ERR_RANGE');
        await expectCode(store.get('nope'), 'ERR_NOT_FOUND');
      });

      it('multipart through the wrapper: one encrypted object; staging hidden and cleaned', async () => {
        const { inner, store } = make();
        const { uploadId } = await store.createMultipart('m.bin', { metadata: { part: 'yes' }, sse: { provider: 'oss', algorithm: 'KMS', keyId: cmk } });
        const p1 = PLAIN.subarray(0, MIN_PART);
        const p2 = PLAIN.subarray(MIN_PART);
        const e2 = await store.uploadPart('m.bin', uploadId, 2, p2);
        const e1 = await store.uploadPart('m.bin', uploadId, 1, p1);
        const listed: string[] = [];
        for await (const e of store.list('')) listed.push(e.key);
        expect(listed).toEqual([]); // staged parts are not objects
        await store.completeMultipart('m.bin', uploadId, [
          { partNumber: 1, etag: e1.etag },
          { partNumber: 2, etag: e2.etag },
        ]);
        expectBytes(await collect((await store.get('m.bin')).body), PLAIN);
        expect((await store.head('m.bin')).sse).toEqual({ algorithm: 'KMS', keyId: cmk });
        const innerKeys: string[] = [];
        for await (const e of inner.list('')) innerKeys.push(e.key);
        expect(innerKeys).toEqual(['m.bin']);
        const entries = [];
        for await (const e of store.list('')) entries.push(e);
        expect(entries).toMatchObject([{ key: 'm.bin', size: PLAIN.length }]);

        const { uploadId: id2 } = await store.createMultipart('n.bin');
        await store.uploadPart('n.bin', id2, 1, p1);
        await store.abortMultipart('n.bin', id2);
        const after: string[] = [];
        for await (const e of inner.list('')) after.push(e.key);
        expect(after).toEqual(['m.bin']);
        await expectCode(store.uploadPart('n.bin', id2, 1, p1), 'ERR_STORE');
      });

      it('tampered stored bytes fail authentication; a swapped object is refused', async () => {
        const { inner, store } = make();
        await store.put('t.bin', PLAIN);
        await store.put('u.bin', PLAIN);
        const raw = await collect((await inner.get('t.bin')).body);
        const md = (await inner.head('t.bin')).metadata;
        const bad = raw.slice();
        bad[raw.length - 100]! ^= 1;
        await inner.put('t.bin', bad, { metadata: md });
        await expect(collect((await store.get('t.bin')).body)).rejects.toMatchObject({ code: 'ERR_AUTH' });
        await inner.put('t.bin', await collect((await inner.get('u.bin')).body), { metadata: md });
        await expectCode(store.get('t.bin'), 'ERR_CONTEXT');
      });

      it('an encrypting bucket on top of an at-rest store: both layers, one round trip', async () => {
        const { store } = make();
        const key = kms({ client: local, keyId: cmk });
        const bucket = encryptedBucket(store as ObjectStore, { recipients: [key], keys: [key], backend });
        await bucket.putObject('double', PLAIN);
        expectBytes(await collect((await bucket.getObject('double', { range: { start: 7, end: CHUNK_SIZE * 2 } })).body), PLAIN.slice(7, CHUNK_SIZE * 2 + 1));
      });
    });
  }
}
