/**
 * Server-side encryption requested through the encrypting bucket (issue 7 item 5a): the `sse`
 * option reaches every store request of a put (single PUT, createMultipart, each uploadPart)
 * and of a get (every ranged GET, for SSE-C), and the store's answer is surfaced in `sse`.
 */
import { describe, expect, it } from 'vitest';
import { aesKey } from '../src/index.js';
import { encryptedBucket } from '../src/storage.js';
import type { ObjectStore, ServerSideEncryption } from '../src/storage/store.js';
import { pseudoRandom } from './helpers.js';
import { collect, expectBytes, MIN_PART, smallMemoryStore } from './storage-bucket-helpers.js';

const KEY = aesKey({ id: 'sse', key: pseudoRandom(32, 71) });

/** Records the `sse` option of every request. */
function recordingSse(inner: ObjectStore) {
  const seen: { op: string; sse: ServerSideEncryption | undefined }[] = [];
  const store: ObjectStore = {
    name: inner.name,
    multipart: inner.multipart,
    put: (k, b, o) => (seen.push({ op: 'put', sse: o?.sse }), inner.put(k, b, o)),
    get: (k, o) => (seen.push({ op: 'get', sse: o?.sse }), inner.get(k, o)),
    head: (k, o) => (seen.push({ op: 'head', sse: o?.sse }), inner.head(k, o)),
    delete: (k, o) => inner.delete(k, o),
    list: (p, o) => inner.list(p, o),
    createMultipart: (k, o) => (seen.push({ op: 'createMultipart', sse: o?.sse }), inner.createMultipart(k, o)),
    uploadPart: (k, id, n, b, o) => (seen.push({ op: 'uploadPart', sse: o?.sse }), inner.uploadPart(k, id, n, b, o)),
    completeMultipart: (k, id, p, o) => inner.completeMultipart(k, id, p, o),
    abortMultipart: (k, id, o) => inner.abortMultipart(k, id, o),
  };
  return { store, seen };
}

describe('encryptedBucket passes server-side encryption through', () => {
  const kmsSse: ServerSideEncryption = { provider: 'oss', algorithm: 'KMS', keyId: 'cmk-1' };

  it('single PUT and multipart requests carry sse; responses surface it', async () => {
    const { store, seen } = recordingSse(smallMemoryStore());
    const bucket = encryptedBucket(store, { recipients: [KEY], keys: [KEY], partSize: MIN_PART, multipartThreshold: MIN_PART });
    await bucket.putObject('small', pseudoRandom(100, 1), { sse: kmsSse });
    await bucket.putObject('big', pseudoRandom(3 * MIN_PART, 2), { sse: kmsSse });
    expect(seen.filter((s) => ['put', 'createMultipart', 'uploadPart'].includes(s.op)).every((s) => s.sse === kmsSse)).toBe(true);
    expect(seen.filter((s) => s.op === 'uploadPart').length).toBe(3);
    const got = await bucket.getObject('big', { range: { start: 5, end: 9 } });
    expect(got.sse).toEqual({ algorithm: 'KMS', keyId: 'cmk-1' });
    expect((await bucket.headObject('small')).sse).toEqual({ algorithm: 'KMS', keyId: 'cmk-1' });
  });

  it('SSE-C: the key goes with every GET of a ranged read', async () => {
    const { store, seen } = recordingSse(smallMemoryStore());
    const ssec: ServerSideEncryption = { provider: 's3', algorithm: 'SSE-C', key: pseudoRandom(32, 9) };
    const bucket = encryptedBucket(store, { recipients: [KEY], keys: [KEY] });
    const plain = pseudoRandom(5 * 16384, 3);
    await bucket.putObject('c', plain, { sse: ssec });
    seen.length = 0;
    const cold = encryptedBucket(store, { keys: [KEY] });
    const got = await cold.getObject('c', { range: { start: 3 * 16384, end: 3 * 16384 + 10 }, sse: ssec });
    expectBytes(await collect(got.body), plain.slice(3 * 16384, 3 * 16384 + 11));
    expect(seen.map((s) => s.op)).toEqual(['get', 'get']);
    expect(seen.every((s) => s.sse === ssec)).toBe(true);
    expect(got.sse).toEqual({ algorithm: 'SSE-C' });
  });
});
