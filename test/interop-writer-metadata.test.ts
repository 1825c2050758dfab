/**
 * The standalone writers refuse user metadata from the other format families up front (the
 * bucket's error type, `TypeError`), before anything is stored: an object they stored with such
 * names would read as mixed metadata (`ERR_HEADER`), i.e. be unreadable.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ossRsaKey, putOssObject, putS3ecObject, s3ecAesKey } from '../src/interop.js';
import { encryptedBucket } from '../src/storage.js';
import { memoryStore } from '../src/storage/memory.js';
import { caught } from './helpers.js';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ossKey = ossRsaKey({ privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, legacy: true });
const s3ecKey = s3ecAesKey({ key: new Uint8Array(randomBytes(32)) });
const BODY = new TextEncoder().encode('hi');

const OSS_NAMES = ['client-side-encryption-note', 'client-side-encryption-key', 'oss-wrap-alg', 'oss-crypto-key', 'unencrypted-content-length', 'unencrypted-content-md5'];
const S3EC_NAMES = ['x-amz-key', 'x-amz-key-v2', 'x-amz-iv', 'x-amz-c', 'x-amz-3', 'x-amz-crypto-instr-file'];
const ENSEAL_NAMES = ['enseal-foo', 'enseal-format'];

async function expectRefused(p: Promise<unknown>, name: string): Promise<void> {
  const e = await caught(p);
  expect(e, `"${name}" was accepted`).toBeInstanceOf(TypeError);
  expect((e as Error).message).toContain(name);
}

describe('putS3ecObject refuses OSS, S3EC and enseal names in metadata', () => {
  for (const name of [...OSS_NAMES, ...S3EC_NAMES, ...ENSEAL_NAMES]) {
    it(`"${name}"`, async () => {
      const store = memoryStore();
      for (const instructionFile of [false, true]) {
        await expectRefused(putS3ecObject(store, 's', BODY, { recipients: [s3ecKey], metadata: { owner: 'ana', [name]: 'x' }, instructionFile }), name);
      }
      expect(await caught(store.head('s'))).toBeDefined(); // nothing stored
      expect(await caught(store.head('s.instruction'))).toBeDefined();
    });
  }
});

describe('putOssObject refuses OSS, S3EC and enseal names in metadata', () => {
  for (const name of [...OSS_NAMES, ...S3EC_NAMES, ...ENSEAL_NAMES]) {
    it(`"${name}"`, async () => {
      const store = memoryStore({ multipart: { minPartSize: 16, maxPartSize: 1 << 20, maxParts: 10000 } });
      await expectRefused(putOssObject(store, 'o', BODY, { recipients: [ossKey], metadata: { owner: 'ana', [name]: 'x' } }), name);
      await expectRefused(putOssObject(store, 'o', new Response(BODY).body!, { recipients: [ossKey], metadata: { [name]: 'x' }, partSize: 16 }), name);
      expect(await caught(store.head('o'))).toBeDefined();
    });
  }
});

describe('what the writers accept, the bucket reads', () => {
  it('ordinary user metadata round-trips through bucket.getObject for both writers', async () => {
    const store = memoryStore();
    await putS3ecObject(store, 's', BODY, { recipients: [s3ecKey], metadata: { owner: 'ana', 'x-amz-other': 'y' } });
    await putOssObject(store, 'o', BODY, { recipients: [ossKey], metadata: { owner: 'bo', 'oss-note': 'z' } });
    const bucket = encryptedBucket(store, { keys: [s3ecKey, ossKey], allowUnauthenticated: true });
    for (const [k, owner] of [['s', 'ana'], ['o', 'bo']] as const) {
      const r = await bucket.getObject(k);
      expect(Buffer.from(new Uint8Array(await new Response(r.body).arrayBuffer())).toString()).toBe('hi');
      expect(r.metadata.owner).toBe(owner);
    }
  });

  it('a non-string value or a non-object is a TypeError', async () => {
    const store = memoryStore();
    expect(await caught(putS3ecObject(store, 's', BODY, { recipients: [s3ecKey], metadata: { a: 1 } as never }))).toBeInstanceOf(TypeError);
    expect(await caught(putOssObject(store, 'o', BODY, { recipients: [ossKey], metadata: [] as never }))).toBeInstanceOf(TypeError);
  });
});
