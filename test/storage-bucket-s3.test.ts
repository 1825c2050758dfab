/**
 * The encrypting-bucket suite end to end through the S3 adapter (`s3Store` over
 * `@aws-sdk/client-s3`) against s3rver on 127.0.0.1 (plain HTTP on loopback, opted in), plus a
 * multipart upload in 5 MiB parts and a server-side rewrap with CopyObject. s3rver's known gaps
 * (suffix ranges, ListParts, part minimums) are not used by the bucket.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aesKey } from '../src/index.js';
import { encryptedBucket } from '../src/storage.js';
import { s3Store } from '../src/storage/s3.js';
import type { ObjectStore } from '../src/storage/store.js';
import { pseudoRandom } from './helpers.js';
import { collect, counting, expectBytes } from './storage-bucket-helpers.js';
import { bucketSuite, KEY } from './storage-bucket-suite.js';
import { startS3rver, type S3rverHandle } from './storage-servers.js';

let server: S3rverHandle;
let client: S3Client;
let n = 0;

beforeAll(async () => {
  server = await startS3rver();
  client = new S3Client({
    region: 'us-east-1',
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client?.destroy();
  await server?.close();
});

/** An S3 store whose keys live under a fresh prefix (one bucket, isolated tests). */
function prefixed(): ObjectStore {
  const inner = s3Store({ client, bucket: 'b', allowInsecureHttp: true });
  const p = `t${++n}/`;
  return {
    name: inner.name,
    multipart: inner.multipart,
    put: (k, ...a) => inner.put(p + k, ...a),
    get: (k, ...a) => inner.get(p + k, ...a),
    head: (k, ...a) => inner.head(p + k, ...a),
    delete: (k, ...a) => inner.delete(p + k, ...a),
    list(prefix, o) {
      const it = inner.list(p + prefix, o);
      return {
        async *[Symbol.asyncIterator]() {
          for await (const e of it) yield { ...e, key: e.key.slice(p.length) };
        },
      };
    },
    createMultipart: (k, ...a) => inner.createMultipart(p + k, ...a),
    uploadPart: (k, ...a) => inner.uploadPart(p + k, ...a),
    completeMultipart: (k, ...a) => inner.completeMultipart(p + k, ...a),
    abortMultipart: (k, ...a) => inner.abortMultipart(p + k, ...a),
    ...(inner.copy === undefined ? {} : { copy: (s: string, d: string, o: Parameters<NonNullable<ObjectStore['copy']>>[2]) => inner.copy!(p + s, p + d, o) }),
  };
}

bucketSuite('s3rver', 'node', prefixed);

describe('encryptedBucket over s3rver: multipart and server-side rewrap', () => {
  it('a 12 MiB stream goes up in 5 MiB parts in parallel and reads back, whole and ranged', async () => {
    const c = counting(prefixed());
    const bucket = encryptedBucket(c.store, { recipients: [KEY], keys: [KEY], concurrency: 3, partSize: 5 * 1024 * 1024 });
    const plain = pseudoRandom(12 * 1024 * 1024 + 5, 3);
    const r = await bucket.putObject('big.bin', new Response(plain as Uint8Array<ArrayBuffer>).body!);
    expect(r.parts).toBe(3);
    expect(c.requests.byMethod.uploadPart).toBe(3);
    expectBytes(await collect((await bucket.getObject('big.bin')).body), plain);
    c.reset();
    const start = 7 * 1024 * 1024 + 3;
    const got = await bucket.getObject('big.bin', { range: { start, end: start + 1023 } });
    expectBytes(await collect(got.body), plain.slice(start, start + 1024));
    expect(c.requests.total).toBeLessThanOrEqual(2);
    expect(c.bytesOut).toBeLessThan(64 * 1024);
  });

  it('rewrap through CopyObject: payload untouched, new key reads, old key refused', async () => {
    const c = counting(prefixed());
    const K2 = aesKey({ id: 'k2', key: pseudoRandom(32, 2) });
    const bucket = encryptedBucket(c.store, { recipients: [KEY], keys: [KEY] });
    const plain = pseudoRandom(100_000, 4);
    await bucket.putObject('doc', plain);
    const before = await collect((await c.store.get('doc')).body);
    const r = await bucket.rewrapObject('doc', { add: [K2], remove: [KEY.description.split(':').at(-1) ?? ''] });
    expect(r.method).toBe('copy');
    expectBytes(await collect((await c.store.get('doc')).body), before);
    expectBytes(await collect((await encryptedBucket(c.store, { keys: [K2] }).getObject('doc')).body), plain);
    await expect(encryptedBucket(c.store, { keys: [KEY] }).getObject('doc')).rejects.toMatchObject({ code: 'ERR_NO_KEY' });
  });
});
