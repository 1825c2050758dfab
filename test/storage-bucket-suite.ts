/**
 * The encrypting-bucket suite, a function of the store and the backend: it runs over memory and
 * fs (storage-bucket.test.ts) and over s3rver through the S3 adapter (storage-bucket-s3.test.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aesKey, decrypt, inspect } from '../src/index.js';
import type { BackendName } from '../src/backends/backend.js';
import { CHUNK_SIZE, PREAMBLE_LENGTH, SEALED_CHUNK_SIZE } from '../src/format/cobblestone.js';
import { chunksPerPart, encryptedBucket, METADATA_PLAINTEXT_SIZE, OBJECT_KEY_CONTEXT } from '../src/storage.js';
import type { ObjectStore } from '../src/storage/store.js';
import { expectCode, pseudoRandom } from './helpers.js';
import { collect, counting, expectBytes, MIN_PART, piecewise } from './storage-bucket-helpers.js';

export const KEY = aesKey({ id: 'bucket-k1', key: pseudoRandom(32, 11) });
const OTHER = aesKey({ id: 'bucket-k2', key: pseudoRandom(32, 12) });
const SIZES = [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 1024 * 1024 + 3];

/**
 * Registers the bucket suite for one store kind and backend.
 * @param label - store name for test titles
 * @param backend - crypto backend
 * @param makeStore - a fresh (or at least isolated) store per test
 */
export function bucketSuite(label: string, backend: BackendName, makeStore: () => ObjectStore | Promise<ObjectStore>): void {
  describe(`encryptedBucket over ${label} (${backend})`, () => {
    const make = async () => {
      const c = counting(await makeStore());
      const bucket = encryptedBucket(c.store, {
        recipients: [KEY],
        keys: [KEY],
        backend,
        partSize: MIN_PART,
        multipartThreshold: 200 * 1024,
        context: { app: 'test' },
      });
      return { c, bucket };
    };

    for (const size of SIZES) {
      it(`round trip of ${size} bytes as bytes and as a stream of unknown length`, async () => {
        const { c, bucket } = await make();
        const plain = pseudoRandom(size, size + 1);
        const copy = plain.slice();
        const put = await bucket.putObject('dir/a.bin', plain, { metadata: { owner: 'ana' } });
        expectBytes(plain, copy); // input not modified
        expect(put.size).toBe(size);
        expect(put.parts).toBe(size > 200 * 1024 ? Math.ceil(size / (chunksPerPart(c.store.multipart, MIN_PART) * CHUNK_SIZE)) : 1);
        const got = await bucket.getObject('dir/a.bin');
        expectBytes(await collect(got.body), plain);
        expect(got.size).toBe(size);
        expect(got.metadata).toEqual({ owner: 'ana' });
        expect(await got.verifiedSize()).toBe(size);

        const streamed = await bucket.putObject('dir/s.bin', piecewise(plain));
        expect(streamed.size).toBe(size);
        expectBytes(await collect((await bucket.getObject('dir/s.bin')).body), plain);

        // The stored body is a complete enseal object: it decrypts without any metadata.
        const raw = await collect((await c.store.get('dir/s.bin')).body);
        expect(raw.length).toBe(put.storedSize);
        expectBytes(await decrypt(raw, { keys: [KEY] }), plain);
        expect(inspect(raw).context).toEqual({ app: 'test', [OBJECT_KEY_CONTEXT]: 'dir/s.bin' });

        const head = await bucket.headObject('dir/a.bin');
        expect(head.size).toBe(size);
        expect(head.metadata).toEqual({ owner: 'ana' });
        expect(head.recipients.map((r) => r.keyId)).toEqual(['bucket-k1']);
        expect(head.authenticated).toBe(false);
      });
    }

    it('ranged reads equal the slice of the plaintext (fast-check)', async () => {
      const { bucket } = await make();
      const size = 5 * CHUNK_SIZE + 777;
      const plain = pseudoRandom(size, 99);
      await bucket.putObject('r.bin', plain);
      await fc.assert(
        fc.asyncProperty(fc.nat(size - 1), fc.nat(3 * CHUNK_SIZE), async (start, len) => {
          const end = start + len;
          const got = await bucket.getObject('r.bin', { range: { start, end } });
          expect(got.range).toEqual({ start, end: Math.min(end, size - 1) });
          expectBytes(await collect(got.body), plain.slice(start, end + 1));
        }),
        { numRuns: 40 },
      );
      const open = await bucket.getObject('r.bin', { range: { start: size - 5 } });
      expectBytes(await collect(open.body), plain.slice(size - 5));
    });

    it('a start at or past the end is ERR_RANGE, like the store’s 416', async () => {
      const { bucket } = await make();
      await bucket.putObject('small', pseudoRandom(10, 3));
      await expectCode(bucket.getObject('small', { range: { start: 10 } }), 'ERR_RANGE');
      await bucket.putObject('empty', new Uint8Array(0));
      await expectCode(bucket.getObject('empty', { range: { start: 0 } }), 'ERR_RANGE');
      expectBytes(await collect((await bucket.getObject('empty')).body), new Uint8Array(0));
      await expectCode(bucket.getObject('missing'), 'ERR_NOT_FOUND');
    });

    it('a range not touching the end makes at most 2 store requests; the final chunk only when asked', async () => {
      const { c, bucket } = await make();
      const size = 40 * CHUNK_SIZE + 100;
      const plain = pseudoRandom(size, 5);
      await bucket.putObject('big.bin', plain);
      // A fresh bucket (no cached hints), as another process would be.
      const cold = encryptedBucket(c.store, { keys: [KEY], backend, context: { app: 'test' } });
      c.reset();
      const got = await cold.getObject('big.bin', { range: { start: 20 * CHUNK_SIZE + 5, end: 21 * CHUNK_SIZE + 9 } });
      expectBytes(await collect(got.body), plain.slice(20 * CHUNK_SIZE + 5, 21 * CHUNK_SIZE + 10));
      expect(c.requests.total).toBeLessThanOrEqual(2);
      expect(c.requests.byMethod).toEqual({ get: 2 });
      // Header guess (4 KiB + preamble) plus exactly the two covering chunks.
      expect(c.bytesOut).toBeLessThanOrEqual(4096 + PREAMBLE_LENGTH + 2 * SEALED_CHUNK_SIZE);

      c.reset();
      const reader = await cold.openObject('big.bin');
      expect(reader.sizeVerified).toBe(false);
      expectBytes(await reader.readBytes({ start: 0, end: 99 }), plain.slice(0, 100));
      const before = c.requests.total;
      expect(await reader.verifiedSize()).toBe(size);
      expect(await reader.verifiedSize()).toBe(size); // cached
      expect(c.requests.total).toBe(before + 1);
      reader.close();
      await expectCode(reader.readBytes({ start: 0, end: 1 }), 'ERR_STATE');

      // A range reaching the end includes the final chunk in the same GET: still 2 requests.
      c.reset();
      const tail = await cold.getObject('big.bin', { range: { start: size - 20000 } });
      expectBytes(await collect(tail.body), plain.slice(size - 20000));
      expect(c.requests.total).toBe(2);
      expect(await tail.verifiedSize()).toBe(size);
      expect(c.requests.total).toBe(2);
    });

    it('a marker that disagrees with the object is refused, and headObject needs no GET when metadata has the marker', async () => {
      const { c, bucket } = await make();
      await bucket.putObject('m.bin', pseudoRandom(1000, 1), { metadata: { x: 'y' } });
      c.reset();
      const cold = encryptedBucket(c.store, { keys: [KEY], backend, context: { app: 'test' } });
      const head = await cold.headObject('m.bin', { recipients: false });
      expect(head.size).toBe(1000);
      expect(c.requests.byMethod).toEqual({ head: 1 });
      // Forge the plaintext-size hint: the object itself decides, the mismatch is reported.
      const raw = await collect((await c.store.get('m.bin')).body);
      const md = { ...(await c.store.head('m.bin')).metadata, [METADATA_PLAINTEXT_SIZE]: '5' };
      await c.store.put('m.bin', raw, { metadata: md });
      await expectCode(cold.getObject('m.bin'), 'ERR_HEADER');
      await expectCode(cold.getObject('m.bin', { range: { start: 0, end: 1 } }), 'ERR_HEADER');
    });

    it('user metadata is validated before any request', async () => {
      const { c, bucket } = await make();
      c.reset();
      await expect(bucket.putObject('k', new Uint8Array(1), { metadata: { Bad: 'x' } })).rejects.toThrow(TypeError);
      await expect(bucket.putObject('k', new Uint8Array(1), { metadata: { a: 'line\r\nx-evil: 1' } })).rejects.toThrow(TypeError);
      await expect(bucket.putObject('k', new Uint8Array(1), { metadata: { 'enseal-format': '2' } })).rejects.toThrow(TypeError);
      await expect(bucket.putObject('k', new Uint8Array(1), { metadata: { a: 'x'.repeat(3000) } })).rejects.toThrow(TypeError);
      expect(c.requests.total).toBe(0);
    });

    it('wrong keys and a store serving another object are refused', async () => {
      const { c, bucket } = await make();
      await bucket.putObject('one', pseudoRandom(100, 1));
      await bucket.putObject('two', pseudoRandom(100, 2));
      const stranger = encryptedBucket(c.store, { keys: [OTHER], backend, context: { app: 'test' } });
      await expectCode(stranger.getObject('one'), 'ERR_NO_KEY');
      // Same master key, but the bodies swapped: the key binding refuses it.
      const one = await collect((await c.store.get('one')).body);
      const two = await collect((await c.store.get('two')).body);
      await c.store.put('one', two);
      await expectCode(bucket.getObject('one'), 'ERR_CONTEXT');
      await expectCode(bucket.getObject('one', { range: { start: 0, end: 3 } }), 'ERR_CONTEXT');
      await c.store.put('one', one); // copied back without metadata: still decrypts
      expectBytes(await collect((await bucket.getObject('one')).body), pseudoRandom(100, 1));
      // A different expected context fails before any key is used.
      const ctx = encryptedBucket(c.store, { keys: [KEY], backend, context: { app: 'other' } });
      await expectCode(ctx.getObject('one'), 'ERR_CONTEXT');
    });

    it('lists and deletes', async () => {
      const { bucket } = await make();
      await bucket.putObject('p/1', pseudoRandom(10, 1));
      await bucket.putObject('p/2', pseudoRandom(20, 2));
      await bucket.putObject('q/3', pseudoRandom(30, 3));
      const keys: string[] = [];
      for await (const e of bucket.listObjects('p/')) keys.push(e.key);
      expect(keys).toEqual(['p/1', 'p/2']);
      await bucket.deleteObject('p/1');
      await expectCode(bucket.getObject('p/1'), 'ERR_NOT_FOUND');
    });
  });
}
