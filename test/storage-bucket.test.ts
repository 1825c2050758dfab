/**
 * The encrypting bucket over every store kind (memory, fs) and every backend: round trips of
 * bytes and of streams of unknown length (single PUT and multipart), the stored body is a
 * complete enseal object, ranged reads equal the plaintext slice (fast-check), and a ranged
 * read costs at most 2 requests and moves only the chunks it needs — including a 1 GiB object
 * whose ciphertext a memory store computes on demand.
 */
import { describe, expect, it } from 'vitest';
import { getBackend } from '../src/backends/select.js';
import { sealHeader } from '../src/envelope/options.js';
import { COBBLESTONE_256, CHUNK_SIZE, SALT_LENGTH, SEALED_CHUNK_SIZE, deriveMessageKeys, sealedSize } from '../src/format/cobblestone.js';
import { encryptedBucket, OBJECT_KEY_CONTEXT } from '../src/storage.js';
import { memoryStore } from '../src/storage/memory.js';
import { BACKENDS } from './helpers.js';
import { collect, expectBytes, STORE_KINDS } from './storage-bucket-helpers.js';
import { bucketSuite, KEY } from './storage-bucket-suite.js';

for (const backend of BACKENDS) {
  for (const kind of STORE_KINDS) bucketSuite(kind.name, backend, () => kind.make());
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
