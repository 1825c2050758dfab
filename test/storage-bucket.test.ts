/**
 * The encrypting bucket over every store kind (memory, fs) and every backend: round trips of
 * bytes and of streams of unknown length (single PUT and multipart), the stored body is a
 * complete enseal object, ranged reads equal the plaintext slice (fast-check), and a ranged
 * read costs at most 2 requests and moves only the chunks it needs — including a 1 GiB object
 * whose ciphertext a memory store computes on demand.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aesKey, decrypt, inspect } from '../src/index.js';
import { getBackend } from '../src/backends/select.js';
import { sealHeader } from '../src/envelope/options.js';
import { COBBLESTONE_256, CHUNK_SIZE, PREAMBLE_LENGTH, SALT_LENGTH, SEALED_CHUNK_SIZE, deriveMessageKeys, sealedSize } from '../src/format/cobblestone.js';
import { encryptedBucket, METADATA_PLAINTEXT_SIZE, OBJECT_KEY_CONTEXT } from '../src/storage.js';
import { memoryStore } from '../src/storage/memory.js';
import { BACKENDS, expectCode, pseudoRandom } from './helpers.js';
import { collect, counting, expectBytes, MIN_PART, piecewise, STORE_KINDS } from './storage-bucket-helpers.js';

const KEY = aesKey({ id: 'bucket-k1', key: pseudoRandom(32, 11) });
const OTHER = aesKey({ id: 'bucket-k2', key: pseudoRandom(32, 12) });
const SIZES = [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 1024 * 1024 + 3];

for (const backend of BACKENDS) {
  for (const kind of STORE_KINDS) {
    describe(`encryptedBucket over ${kind.name} (${backend})`, () => {
      const make = () => {
        const c = counting(kind.make());
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
          const { c, bucket } = make();
          const plain = pseudoRandom(size, size + 1);
          const copy = plain.slice();
          const put = await bucket.putObject('dir/a.bin', plain, { metadata: { owner: 'ana' } });
          expectBytes(plain, copy); // input not modified
          expect(put.size).toBe(size);
          expect(put.parts).toBe(size > 200 * 1024 ? Math.ceil(size / (4 * CHUNK_SIZE)) : 1);
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
        const { bucket } = make();
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
        const { bucket } = make();
        await bucket.putObject('small', pseudoRandom(10, 3));
        await expectCode(bucket.getObject('small', { range: { start: 10 } }), 'ERR_RANGE');
        await bucket.putObject('empty', new Uint8Array(0));
        await expectCode(bucket.getObject('empty', { range: { start: 0 } }), 'ERR_RANGE');
        expectBytes(await collect((await bucket.getObject('empty')).body), new Uint8Array(0));
        await expectCode(bucket.getObject('missing'), 'ERR_NOT_FOUND');
      });

      it('a range not touching the end makes at most 2 store requests; the final chunk only when asked', async () => {
        const { c, bucket } = make();
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
        const { c, bucket } = make();
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
        const { c, bucket } = make();
        c.reset();
        await expect(bucket.putObject('k', new Uint8Array(1), { metadata: { Bad: 'x' } })).rejects.toThrow(TypeError);
        await expect(bucket.putObject('k', new Uint8Array(1), { metadata: { a: 'line\r\nx-evil: 1' } })).rejects.toThrow(TypeError);
        await expect(bucket.putObject('k', new Uint8Array(1), { metadata: { 'enseal-format': '2' } })).rejects.toThrow(TypeError);
        await expect(bucket.putObject('k', new Uint8Array(1), { metadata: { a: 'x'.repeat(3000) } })).rejects.toThrow(TypeError);
        expect(c.requests.total).toBe(0);
      });

      it('wrong keys and a store serving another object are refused', async () => {
        const { c, bucket } = make();
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
        const { bucket } = make();
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
}

describe('a 1 KiB ranged read of a 1 GiB object (computed on demand by a memory store)', () => {
  it('moves under 64 KiB in at most 2 requests, and the bytes are right', async () => {
    const backend = getBackend('node');
    const key = 'huge.bin';
    const size = 1024 ** 3;
    const context = { [OBJECT_KEY_CONTEXT]: key };
    const { header, bound, dataKey } = await sealHeader({ recipients: [KEY], context }, backend);
    const salt = backend.randomBytes(SALT_LENGTH);
    const { cipher, commitment } = await deriveMessageKeys(backend, COBBLESTONE_256, dataKey, salt, bound);
    dataKey.fill(0);
    const prefix = new Uint8Array([...header, ...salt, ...commitment]);
    const chunksAt = prefix.length;
    const stored = header.length + sealedSize(size);
    const lastIndex = size / CHUNK_SIZE; // the empty final chunk
    const plainChunk = (i: number): Uint8Array => {
      const p = new Uint8Array(i === lastIndex ? 0 : CHUNK_SIZE);
      for (let j = 0; j < p.length; j++) p[j] = (i * 31 + j * 7) & 0xff;
      return p;
    };
    const sealedChunks = new Map<number, Uint8Array>();
    const sealedChunk = async (i: number) => {
      let s = sealedChunks.get(i);
      if (s === undefined) sealedChunks.set(i, (s = await cipher.seal(i, plainChunk(i))));
      return s;
    };
    const store = memoryStore();
    store.putComputed(key, {
      size: stored,
      async read(start, end) {
        const out = new Uint8Array(end - start);
        for (let pos = start; pos < end; ) {
          if (pos < chunksAt) {
            const n = Math.min(end, chunksAt) - pos;
            out.set(prefix.subarray(pos, pos + n), pos - start);
            pos += n;
            continue;
          }
          const i = Math.floor((pos - chunksAt) / SEALED_CHUNK_SIZE);
          const at = chunksAt + i * SEALED_CHUNK_SIZE;
          const s = await sealedChunk(i);
          const n = Math.min(end, at + s.length) - pos;
          out.set(s.subarray(pos - at, pos - at + n), pos - start);
          pos += n;
        }
        return out;
      },
    });
    const bucket = encryptedBucket(store, { keys: [KEY], backend: 'node' });
    const start = 700 * 1024 * 1024 + 12345;
    store.resetStats();
    const got = await bucket.getObject(key, { range: { start, end: start + 1023 } });
    const bytes = await collect(got.body);
    const expected = new Uint8Array(1024);
    for (let k = 0; k < 1024; k++) {
      const p = start + k;
      expected[k] = (Math.floor(p / CHUNK_SIZE) * 31 + (p % CHUNK_SIZE) * 7) & 0xff;
    }
    expectBytes(bytes, expected);
    expect(got.size).toBe(size);
    expect(store.stats.requests).toBeLessThanOrEqual(2);
    expect(store.stats.bytesOut).toBeLessThan(64 * 1024);
    // With a reader, verifying the length costs one more small request (the empty final chunk).
    store.resetStats();
    const reader = await bucket.openObject(key);
    expectBytes(await reader.readBytes({ start, end: start + 1023 }), expected);
    expect(await reader.verifiedSize()).toBe(size);
    expect(store.stats.requests).toBe(3);
    expect(store.stats.bytesOut).toBeLessThan(64 * 1024);
    reader.close();
    // After getObject's body settled, verifiedSize opens the object again (2 small requests).
    store.resetStats();
    expect(await got.verifiedSize()).toBe(size);
    expect(store.stats.requests).toBe(2);
    cipher.dispose();
  });
});
