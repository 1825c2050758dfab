/**
 * Round trips through the encrypting bucket for every format the bucket writes × every wrap
 * algorithm × sizes 0, 1, 15, 16, 17, 16 KiB ± 1, 1 MiB + 3, through memoryStore() and through
 * s3rver (S3 over @aws-sdk/client-s3 on 127.0.0.1), in both directions:
 *   bucket putObject → the format's own reader (openOssObject / openS3ecObject / decrypt),
 *   the format's own writer (putOssObject / putS3ecObject / encrypt) → bucket getObject,
 *   and bucket → bucket (whole and one unaligned range);
 * plus OSS multipart objects of 3 parts and S3EC multipart objects through the bucket.
 */
import { createCipheriv, createDecipheriv, generateKeyPairSync, randomBytes } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aesKey, decrypt, encrypt, kms as kmsProvider, rsaKey } from '../src/index.js';
import type { KmsClient } from '../src/keys/kms.js';
import type { KeyProvider } from '../src/keys/provider.js';
import { openOssObject, openS3ecObject, ossKmsKey, ossRsaKey, putOssObject, putS3ecObject, s3ecAesKey, s3ecKmsKey, s3ecRsaKey } from '../src/interop.js';
import { OBJECT_KEY_CONTEXT, encryptedBucket } from '../src/storage.js';
import type { WriteFormat } from '../src/storage/bucket.js';
import { memoryStore } from '../src/storage/memory.js';
import { s3Store } from '../src/storage/s3.js';
import type { ObjectStore } from '../src/storage/store.js';
import { pseudoRandom } from './helpers.js';
import { FakeAwsKms, KEY_ID, arn } from './interop-s3ec-helpers.js';
import { startS3rver, type S3rverHandle } from './storage-servers.js';

const SIZES = [0, 1, 15, 16, 17, 16 * 1024 - 1, 16 * 1024 + 1, (1 << 20) + 3];

/** A KMS double with alibabaKms' KmsClient contract (blob text = base64 of id ‖ IV ‖ GCM ‖ tag). */
class FakeOssKms implements KmsClient {
  readonly type = 'alibaba';
  readonly master = randomBytes(32);
  readonly keyId = 'key-0001';
  async generateDataKey(keyId: string, context: Record<string, string>) {
    const plaintext = new Uint8Array(randomBytes(32));
    return { plaintext, ...(await this.encrypt(keyId, plaintext, context)) };
  }
  async encrypt(keyId: string, plaintext: Uint8Array, context: Record<string, string>) {
    if (keyId !== this.keyId) throw new Error(`unknown key ${keyId}`);
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.master, iv);
    c.setAAD(Buffer.from(JSON.stringify(context)));
    const blob = Buffer.concat([Buffer.from(this.keyId), iv, c.update(plaintext), c.final(), c.getAuthTag()]);
    return { ciphertext: new Uint8Array(Buffer.from(blob.toString('base64'))), keyId: this.keyId };
  }
  async decrypt(ciphertext: Uint8Array, context: Record<string, string>, keyId?: string) {
    if (keyId !== undefined && keyId !== this.keyId) throw new Error('wrong key');
    const blob = Buffer.from(Buffer.from(ciphertext).toString('utf8'), 'base64');
    const body = blob.subarray(this.keyId.length);
    const d = createDecipheriv('aes-256-gcm', this.master, body.subarray(0, 12));
    d.setAAD(Buffer.from(JSON.stringify(context)));
    d.setAuthTag(body.subarray(body.length - 16));
    return new Uint8Array(Buffer.concat([d.update(body.subarray(12, body.length - 16)), d.final()]));
  }
}

const awsKms = new FakeAwsKms();
const ossKms = new FakeOssKms();
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
let server: S3rverHandle;
let client: S3Client;
let n = 0;

beforeAll(async () => {
  await awsKms.server.start();
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
  await awsKms.server.close();
});

/** An S3 store under a fresh key prefix of the one s3rver bucket. */
function s3rverStore(): ObjectStore {
  const inner = s3Store({ client, bucket: 'b', allowInsecureHttp: true });
  const p = `rt${++n}/`;
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

interface Case {
  readonly format: WriteFormat;
  readonly wrap: string;
  readonly key: () => KeyProvider;
  readonly s3ecVersion?: 2 | 3;
}

const CASES: Case[] = [
  { format: 'enseal', wrap: 'aesKey (AES-256-GCM wrap)', key: () => aesKey({ id: 'a1', key: new Uint8Array(pseudoRandom(32, 5)) }) },
  { format: 'enseal', wrap: 'rsaKey (RSA-OAEP-SHA-256)', key: () => rsaKey({ privateKey: privatePem }) },
  { format: 'enseal', wrap: 'kms (KMS)', key: () => kmsProvider({ client: ossKms, keyId: ossKms.keyId }) },
  { format: 'oss', wrap: 'RSA/NONE/PKCS1Padding', key: () => ossRsaKey({ privateKey: privatePem, legacy: true }) },
  { format: 'oss', wrap: 'RSA/NONE/OAEPWithSHA-1AndMGF1Padding', key: () => ossRsaKey({ privateKey: privatePem, legacy: true, wrap: 'oaep-sha1' }) },
  { format: 'oss', wrap: 'KMS/ALICLOUD single base64', key: () => ossKmsKey({ client: ossKms, keyId: ossKms.keyId, encoding: 'single' }) },
  { format: 'oss', wrap: 'KMS/ALICLOUD double base64', key: () => ossKmsKey({ client: ossKms, keyId: ossKms.keyId, encoding: 'double' }) },
  ...([2, 3] as const).flatMap((v): Case[] => [
    { format: 's3ec', s3ecVersion: v, wrap: `V${v} AES/GCM`, key: () => s3ecAesKey({ key: new Uint8Array(pseudoRandom(32, 9)), matdesc: { kek: 'one' } }) },
    { format: 's3ec', s3ecVersion: v, wrap: `V${v} RSA-OAEP-SHA1`, key: () => s3ecRsaKey({ privateKey: privatePem, legacy: true }) },
    { format: 's3ec', s3ecVersion: v, wrap: `V${v} kms+context`, key: () => s3ecKmsKey({ client: awsKms.client(), keyId: arn(KEY_ID), context: { app: 'bucket' } }) },
  ]),
];

const collect = async (s: ReadableStream<Uint8Array>): Promise<Uint8Array> => new Uint8Array(await new Response(s).arrayBuffer());
const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

async function roundTrips(store: ObjectStore, c: Case): Promise<void> {
  const k = c.key();
  const bucket = encryptedBucket(store, {
    recipients: [k],
    keys: [k],
    format: c.format,
    allowUnauthenticated: true,
    ...(c.s3ecVersion === undefined ? {} : { s3ec: { version: c.s3ecVersion } }),
  });
  for (const size of SIZES) {
    const plain = pseudoRandom(size, size + 11);
    const label = `${c.wrap}, ${size} bytes`;
    // bucket → bucket
    const put = await bucket.putObject(`o${size}`, plain, { metadata: { owner: 'ana' } });
    expect(put.size, label).toBe(size);
    const got = await bucket.getObject(`o${size}`);
    const expectedFormat = c.format === 's3ec' ? `s3ec-v${c.s3ecVersion}` : c.format;
    expect(got.format, label).toBe(expectedFormat);
    expect(got.authenticated, label).toBe(c.format !== 'oss');
    expect(got.metadata, label).toEqual({ owner: 'ana' });
    expect(same(await collect(got.body), plain), label).toBe(true);
    if (size > 20) {
      const r = await bucket.getObject(`o${size}`, { range: { start: 3, end: size - 5 } });
      expect(same(await collect(r.body), plain.subarray(3, size - 4)), label).toBe(true);
    }
    // bucket → the format's own reader
    const info = await store.head(`o${size}`);
    let direct: Uint8Array;
    if (c.format === 'oss') direct = await collect((await openOssObject(store, `o${size}`, info, { keys: [k], allowUnauthenticated: true })).body);
    else if (c.format === 's3ec') direct = await collect((await openS3ecObject(store, `o${size}`, info, { keys: [k] })).body);
    else direct = await decrypt(await collect((await store.get(`o${size}`)).body), { keys: [k], context: { [OBJECT_KEY_CONTEXT]: `o${size}` } });
    expect(same(direct, plain), label).toBe(true);
    // the format's own writer → bucket
    if (c.format === 'oss') await putOssObject(store, `w${size}`, plain, { recipients: [k] });
    else if (c.format === 's3ec') await putS3ecObject(store, `w${size}`, plain, { recipients: [k], version: c.s3ecVersion! });
    else {
      const sealed = await encrypt(plain, { recipients: [k], context: { [OBJECT_KEY_CONTEXT]: `w${size}` } });
      await store.put(`w${size}`, sealed);
    }
    const back = await bucket.getObject(`w${size}`);
    expect(back.format, label).toBe(expectedFormat);
    expect(same(await collect(back.body), plain), label).toBe(true);
  }
}

for (const [storeName, make] of [['memoryStore', () => memoryStore()], ['s3rver', s3rverStore]] as const) {
  describe(`bucket round trips through ${storeName}`, () => {
    for (const c of CASES) {
      it(`${c.format} / ${c.wrap}: every size, both directions`, async () => {
        await roundTrips(make(), c);
      }, 120_000);
    }
  });
}

describe('multipart foreign objects through the bucket', () => {
  it('an OSS object of 3 parts: part-size recorded, parts continue one CTR stream, readable by openOssObject and by range across part boundaries', async () => {
    const store = memoryStore({ multipart: { minPartSize: 16 } });
    const k = ossRsaKey({ privateKey: privatePem, legacy: true });
    const bucket = encryptedBucket(store, { recipients: [k], keys: [k], format: 'oss', partSize: 16 * 1024, multipartThreshold: 16 * 1024, allowUnauthenticated: true });
    const plain = pseudoRandom(40 * 1024 + 7, 77);
    const r = await bucket.putObject('mp.bin', plain);
    expect(r.parts).toBe(3);
    expect(store.stats.byOperation.uploadPart).toBe(3);
    expect(store.stats.byOperation.completeMultipart).toBe(1);
    const info = await store.head('mp.bin');
    expect(info.metadata['client-side-encryption-part-size']).toBe(String(16 * 1024));
    expect(info.metadata['client-side-encryption-data-size']).toBe(String(plain.length));
    expect(same(await collect((await openOssObject(store, 'mp.bin', info, { keys: [k], allowUnauthenticated: true })).body), plain)).toBe(true);
    const cross = await bucket.getObject('mp.bin', { range: { start: 16 * 1024 - 5, end: 32 * 1024 + 9 } });
    expect(same(await collect(cross.body), plain.subarray(16 * 1024 - 5, 32 * 1024 + 10))).toBe(true);
    // A stream body of unknown length goes multipart too.
    let i = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(ctl) {
        if (i >= plain.length) return ctl.close();
        ctl.enqueue(plain.slice(i, i + 5000));
        i += 5000;
      },
    });
    const s = await bucket.putObject('mp2.bin', stream);
    expect(s.size).toBe(plain.length);
    expect(s.parts).toBe(3);
    expect(same(await collect((await bucket.getObject('mp2.bin')).body), plain)).toBe(true);
  });

  it('an S3EC V3 object above the threshold goes up in parts (tag at the end of the last) and reads back authenticated', async () => {
    const store = memoryStore({ multipart: { minPartSize: 16 } });
    const k = s3ecAesKey({ key: new Uint8Array(32).fill(3) });
    const bucket = encryptedBucket(store, { recipients: [k], keys: [k], format: 's3ec', partSize: 16 * 1024, multipartThreshold: 16 * 1024 });
    const plain = pseudoRandom(40 * 1024, 78);
    const r = await bucket.putObject('mp.bin', plain);
    expect(r.parts).toBe(3);
    expect(store.stats.byOperation.uploadPart).toBe(3);
    const got = await bucket.getObject('mp.bin');
    expect(got.authenticated).toBe(true);
    expect(await got.verifiedSize()).toBe(plain.length);
    expect(same(await collect(got.body), plain)).toBe(true);
  });

  it('writing a foreign format needs exactly one keyring of that format among the recipients (TypeError before any request)', async () => {
    const store = memoryStore();
    const a = aesKey({ id: 'x', key: new Uint8Array(32) });
    const bucket = encryptedBucket(store, { recipients: [a], keys: [a] });
    await expect(bucket.putObject('x', new Uint8Array(3), { format: 'oss' })).rejects.toThrow(TypeError);
    await expect(bucket.putObject('x', new Uint8Array(3), { format: 's3ec' })).rejects.toThrow(TypeError);
    await expect(bucket.putObject('x', new Uint8Array(3), { metadata: { 'x-amz-key-v2': 'a' } })).rejects.toThrow(TypeError);
    expect(store.stats.requests).toBe(0);
  });
});
