/**
 * `putOssObject` with a stream body and `contentLength`: multipart uploads check the stream
 * against it exactly as the single PUT does (short: `ERR_TRUNCATED`, long: `ERR_STORE`), abort
 * the upload and complete nothing; through the bucket too (`format: 'oss'` above the threshold).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openOssObject, ossRsaKey, putOssObject } from '../src/interop.js';
import { encryptedBucket } from '../src/storage.js';
import { memoryStore } from '../src/storage/memory.js';
import { overlayStore } from '../src/storage/store-overlay.js';
import type { ObjectStore } from '../src/storage/store.js';
import { expectCode } from './helpers.js';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const key = ossRsaKey({ privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, legacy: true });
const LIMITS = { minPartSize: 16, maxPartSize: 1 << 20, maxParts: 10000 };
const collect = async (s: ReadableStream<Uint8Array>): Promise<Uint8Array> => new Uint8Array(await new Response(s).arrayBuffer());

/** A stream of `bytes` in chunks of 7 bytes (so the pieces straddle chunk edges). */
function stream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (off >= bytes.length) return c.close();
      c.enqueue(bytes.slice(off, off + 7));
      off += 7;
    },
  });
}

/** A memory store that counts completed and aborted multipart uploads. */
function counted(): { store: ObjectStore; completed: () => number; aborted: () => number } {
  const inner = memoryStore({ multipart: LIMITS });
  let completed = 0;
  let aborted = 0;
  const store: ObjectStore = {
    ...overlayStore(inner, {}),
    completeMultipart: (...a) => {
      completed += 1;
      return inner.completeMultipart(...a);
    },
    abortMultipart: (...a) => {
      aborted += 1;
      return inner.abortMultipart(...a);
    },
  };
  return { store, completed: () => completed, aborted: () => aborted };
}

describe('putOssObject multipart checks a stream against contentLength', () => {
  for (const [actual, code] of [
    [50, 'ERR_TRUNCATED'],
    [99, 'ERR_TRUNCATED'],
    [0, 'ERR_TRUNCATED'],
    [101, 'ERR_STORE'],
    [150, 'ERR_STORE'],
  ] as const) {
    it(`a stream of ${actual} bytes with contentLength 100: ${code}, aborted, nothing stored`, async () => {
      const c = counted();
      await expectCode(putOssObject(c.store, 'o', stream(new Uint8Array(randomBytes(actual))), { recipients: [key], contentLength: 100, partSize: 32 }), code);
      expect(c.completed()).toBe(0);
      expect(c.aborted()).toBe(1);
      await expectCode(c.store.head('o'), 'ERR_NOT_FOUND');
      // The single PUT gives the same codes.
      await expectCode(putOssObject(c.store, 's', stream(new Uint8Array(randomBytes(actual))), { recipients: [key], contentLength: 100 }), code);
    });
  }

  it('an exact stream (and one whose length is a multiple of the part size) still stores and reads back', async () => {
    for (const n of [100, 96]) {
      const c = counted();
      const plain = new Uint8Array(randomBytes(n));
      await putOssObject(c.store, 'o', stream(plain), { recipients: [key], contentLength: n, partSize: 32 });
      expect(c.completed()).toBe(1);
      const info = await c.store.head('o');
      expect(info.size).toBe(n);
      const r = await openOssObject(c.store, 'o', info, { keys: [key], allowUnauthenticated: true });
      expect(Buffer.from(await collect(r.body)).equals(Buffer.from(plain))).toBe(true);
    }
  });

  it('without contentLength, any length is stored', async () => {
    const c = counted();
    const plain = new Uint8Array(randomBytes(77));
    await putOssObject(c.store, 'o', stream(plain), { recipients: [key], partSize: 32 });
    expect((await c.store.head('o')).size).toBe(77);
  });

  it('bucket.putObject (format oss, multipart): a short stream is ERR_TRUNCATED, not size 100', async () => {
    const c = counted();
    const bucket = encryptedBucket(c.store, { recipients: [key], keys: [key], allowUnauthenticated: true, format: 'oss', multipartThreshold: 64, partSize: 32 });
    await expectCode(bucket.putObject('b', stream(new Uint8Array(randomBytes(50))), { contentLength: 100 }), 'ERR_TRUNCATED');
    await expectCode(bucket.putObject('b', stream(new Uint8Array(randomBytes(150))), { contentLength: 100 }), 'ERR_STORE');
    expect(c.completed()).toBe(0);
    await expectCode(c.store.head('b'), 'ERR_NOT_FOUND');
  });
});
