/**
 * Writer → reader round trips of S3EC objects: V2 and V3 × every wrap algorithm (kms+context
 * through a local AWS KMS stand-in spoken to by `awsKms`, AES/GCM, RSA-OAEP-SHA1) × sizes 0, 1,
 * 15, 16, 17, 16 KiB ± 1, 1 MiB + 3, through memoryStore() on every backend (whole reads, and a
 * ranged read of each object with allowUnauthenticated), instruction-file objects, multipart
 * objects, and the same matrix through s3rver (the S3 adapter over @aws-sdk/client-s3).
 */
import { generateKeyPairSync } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../src/backends/backend.js';
import { S3EC_INSTRUCTION_MARKER, detectS3ecFormat, openS3ecObject, putS3ecObject, s3ecAesKey, s3ecKmsKey, s3ecRsaKey, type S3ecKeyring } from '../src/interop.js';
import { decrypt, encrypt } from '../src/index.js';
import { memoryStore } from '../src/storage/memory.js';
import { s3Store } from '../src/storage/s3.js';
import type { ObjectStore } from '../src/storage/store.js';
import { BACKENDS, expectCode, pseudoRandom } from './helpers.js';
import { FakeAwsKms, KEY_ID, arn, readAll } from './interop-s3ec-helpers.js';
import { startS3rver, type S3rverHandle } from './storage-servers.js';

const SIZES = [0, 1, 15, 16, 17, 16383, 16384, 16385, 1024 * 1024 + 3];
const kms = new FakeAwsKms();
let s3rver: S3rverHandle;
let s3client: S3Client;
beforeAll(async () => {
  await kms.server.start();
  s3rver = await startS3rver();
  s3client = new S3Client({
    region: 'us-east-1',
    endpoint: s3rver.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
});
afterAll(async () => {
  s3client?.destroy();
  await s3rver?.close();
  await kms.server.close();
});

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const wrapKey = new Uint8Array(pseudoRandom(32, 99));

function keyrings(): Record<string, S3ecKeyring> {
  return {
    'kms+context': s3ecKmsKey({ client: kms.client(), keyId: arn(KEY_ID), context: { app: 'roundtrip' } }),
    'AES/GCM': s3ecAesKey({ key: wrapKey, matdesc: { kek: 'one' } }),
    'RSA-OAEP-SHA1': s3ecRsaKey({ privateKey: privatePem, legacy: true, matdesc: { rsa: 'yes' } }),
  };
}

async function roundTrip(store: ObjectStore, backend: BackendName | undefined, version: 2 | 3, ring: S3ecKeyring, size: number, key: string): Promise<void> {
  const plaintext = pseudoRandom(size, size + version);
  const put = await putS3ecObject(store, key, plaintext, { recipients: [ring], version, ...(backend === undefined ? {} : { backend }) });
  const info = await store.head(key);
  expect(info.size).toBe(size + 16);
  expect(detectS3ecFormat(info.metadata)).toBe(version === 3 ? 's3ec-v3' : 's3ec-v2');
  expect(info.metadata).toEqual(put.metadata);
  const r = await openS3ecObject(store, key, info, { keys: [ring], ...(backend === undefined ? {} : { backend }) });
  expect(r.size).toBe(size);
  expect(r.authenticated).toBe(true);
  const got = await readAll(r.body);
  expect(got.length).toBe(size);
  expect(Buffer.from(got).equals(Buffer.from(plaintext))).toBe(true);
  if (size > 0) {
    const start = Math.floor(size / 3);
    const end = Math.min(size - 1, start + 20000);
    await expectCode(openS3ecObject(store, key, info, { keys: [ring], range: { start, end } }), 'ERR_UNAUTHENTICATED');
    const part = await openS3ecObject(store, key, info, { keys: [ring], range: { start, end }, allowUnauthenticated: true, ...(backend === undefined ? {} : { backend }) });
    expect(part.authenticated).toBe(false);
    expect(Buffer.from(await readAll(part.body)).equals(Buffer.from(plaintext.subarray(start, end + 1)))).toBe(true);
  }
}

for (const backend of BACKENDS) {
  describe(`S3EC round trips through memoryStore / ${backend}`, () => {
    for (const version of [2, 3] as const) {
      for (const wrap of ['kms+context', 'AES/GCM', 'RSA-OAEP-SHA1'] as const) {
        it(`V${version} × ${wrap} × sizes ${SIZES.join(', ')}`, async () => {
          const store = memoryStore();
          const ring = keyrings()[wrap]!;
          for (const size of SIZES) await roundTrip(store, backend, version, ring, size, `o-${size}`);
        });
      }
    }

    it('instruction files: V2 keeps every field in <key>.instruction, V3 keeps x-amz-c/d/i on the object', async () => {
      const store = memoryStore();
      for (const [version, wrap] of [[2, 'AES/GCM'], [3, 'AES/GCM'], [2, 'kms+context'], [3, 'RSA-OAEP-SHA1']] as const) {
        const ring = keyrings()[wrap]!;
        const plaintext = pseudoRandom(5000, version);
        const key = `i-${version}-${wrap.replace(/\W/g, '')}`;
        await putS3ecObject(store, key, plaintext, { recipients: [ring], version, instructionFile: true, metadata: { owner: 'me' }, backend });
        const info = await store.head(key);
        const own = Object.keys(info.metadata).sort();
        expect(own).toEqual(version === 3 ? ['owner', 'x-amz-c', 'x-amz-d', 'x-amz-i'] : ['owner']);
        expect(detectS3ecFormat(info.metadata)).toBe(version === 3 ? 's3ec-v3-instruction' : 'none');
        const file = await store.head(`${key}.instruction`);
        expect(file.metadata).toEqual({ [S3EC_INSTRUCTION_MARKER]: '' });
        const body = JSON.parse(Buffer.from(await readAll((await store.get(`${key}.instruction`)).body)).toString()) as Record<string, string>;
        for (const n of ['x-amz-c', 'x-amz-d', 'x-amz-i']) expect(Object.hasOwn(body, n)).toBe(false);
        expect(Object.hasOwn(body, version === 3 ? 'x-amz-3' : 'x-amz-key-v2')).toBe(true);
        const r = await openS3ecObject(store, key, info, { keys: [ring], backend });
        expect(r.description.instructionFile).toBe(true);
        expect(Buffer.from(await readAll(r.body)).equals(Buffer.from(plaintext))).toBe(true);
        await expectCode(openS3ecObject(store, key, info, { keys: [ring], instructionFile: false }), 'ERR_HEADER');
      }
    });

    it('multipart: one GCM stream across parts in order, the tag at the end of the last part', async () => {
      const store = memoryStore({ multipart: { minPartSize: 64 * 1024 } });
      const ring = keyrings()['AES/GCM']!;
      const plaintext = pseudoRandom(3 * 64 * 1024 - 16 - 5, 8); // sealed: 3 parts, the last 5 bytes short
      for (const version of [2, 3] as const) {
        const before = store.stats.byOperation.uploadPart;
        await putS3ecObject(store, `m${version}`, plaintext, { recipients: [ring], version, partSize: 64 * 1024, backend });
        expect(store.stats.byOperation.uploadPart - before).toBe(3);
        expect(store.stats.byOperation.completeMultipart).toBe(version - 1);
        const r = await openS3ecObject(store, `m${version}`, await store.head(`m${version}`), { keys: [ring], backend });
        expect(Buffer.from(await readAll(r.body)).equals(Buffer.from(plaintext))).toBe(true);
      }
      await expect(putS3ecObject(store, 'bad', plaintext, { recipients: [ring], partSize: 64 * 1024 + 8 })).rejects.toThrow(RangeError);
    });

    it('stream bodies, and the S3EC keyrings still work as ordinary enseal providers', async () => {
      const store = memoryStore();
      const ring = s3ecAesKey({ key: wrapKey, id: 'both' });
      const plaintext = pseudoRandom(70000, 11);
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < plaintext.length; i += 9999) c.enqueue(plaintext.slice(i, i + 9999));
          c.close();
        },
      });
      await putS3ecObject(store, 's', stream, { recipients: [ring], backend });
      const r = await openS3ecObject(store, 's', await store.head('s'), { keys: [ring], backend });
      expect(Buffer.from(await readAll(r.body)).equals(Buffer.from(plaintext))).toBe(true);
      const sealed = await encrypt(plaintext.subarray(0, 100), { recipients: [ring], backend });
      expect(Buffer.from(await decrypt(sealed, { keys: [ring], backend })).equals(Buffer.from(plaintext.subarray(0, 100)))).toBe(true);
      const big = new ReadableStream<Uint8Array>({ start(c) { c.enqueue(new Uint8Array(2000)); c.close(); } });
      await expectCode(putS3ecObject(store, 'big', big, { recipients: [ring], maxBuffer: 1000 }), 'ERR_LIMIT');
      await expectCode(store.head('big'), 'ERR_NOT_FOUND');
    });
  });
}

/** An S3 store whose keys live under a fresh prefix of bucket b. */
let n = 0;
function s3rverStore(): ObjectStore {
  const inner = s3Store({ client: s3client, bucket: 'b', allowInsecureHttp: true });
  const p = `s3ec${++n}/`;
  return {
    name: inner.name,
    multipart: inner.multipart,
    put: (k, ...a) => inner.put(p + k, ...a),
    get: (k, ...a) => inner.get(p + k, ...a),
    head: (k, ...a) => inner.head(p + k, ...a),
    delete: (k, ...a) => inner.delete(p + k, ...a),
    list: (prefix, o) => inner.list(p + prefix, o),
    createMultipart: (k, ...a) => inner.createMultipart(p + k, ...a),
    uploadPart: (k, ...a) => inner.uploadPart(p + k, ...a),
    completeMultipart: (k, ...a) => inner.completeMultipart(p + k, ...a),
    abortMultipart: (k, ...a) => inner.abortMultipart(p + k, ...a),
  };
}

describe('S3EC round trips through s3rver (S3 adapter)', () => {
  for (const version of [2, 3] as const) {
    for (const wrap of ['kms+context', 'AES/GCM', 'RSA-OAEP-SHA1'] as const) {
      it(`V${version} × ${wrap} × sizes ${SIZES.join(', ')}`, async () => {
        const store = s3rverStore();
        const ring = keyrings()[wrap]!;
        for (const size of SIZES) await roundTrip(store, undefined, version, ring, size, `o-${size}`);
      }, 60_000);
    }
  }

  it('instruction-file objects', async () => {
    const store = s3rverStore();
    for (const version of [2, 3] as const) {
      const ring = keyrings()['AES/GCM']!;
      const plaintext = pseudoRandom(3000, version);
      await putS3ecObject(store, `i${version}`, plaintext, { recipients: [ring], version, instructionFile: true });
      const info = await store.head(`i${version}`);
      const r = await openS3ecObject(store, `i${version}`, info, { keys: [ring] });
      expect(Buffer.from(await readAll(r.body)).equals(Buffer.from(plaintext))).toBe(true);
    }
  }, 60_000);
});
