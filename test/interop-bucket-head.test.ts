/**
 * `headObject` for every format (enseal, OSS current RSA and KMS, OSS legacy, S3EC V1/V2/V3, an
 * instruction file): the format, sizes, the user's metadata without the format's fields, and
 * which key provider would read it — with no secret and no wrapped-key bytes anywhere in the
 * JSON (scanned for the data keys, wrapping keys, wrapped values and IVs, hex and base64). Also:
 * an S3EC V1 (AES-CBC, AESWrap) object built here with node:crypto reads through the bucket only
 * with the opt-in.
 */
import { createCipheriv, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { aesKey } from '../src/index.js';
import { ossKmsKey, ossRsaKey, putOssObject, putS3ecObject, s3ecAesKey, s3ecRsaKey } from '../src/interop.js';
import { encryptedBucket } from '../src/storage.js';
import { memoryStore } from '../src/storage/memory.js';
import { expectCode, pseudoRandom } from './helpers.js';

const dir = new URL('./vectors/oss-sdk-samples/', import.meta.url);
const storedMeta = (name: string): Record<string, string> => {
  const raw = JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as Record<string, string>;
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k.toLowerCase().replace(/^x-oss-meta-/, ''), v]));
};
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const collect = async (s: ReadableStream<Uint8Array>): Promise<Uint8Array> => new Uint8Array(await new Response(s).arrayBuffer());

/** Every secret or wrapped value, in the encodings a leak would take. */
function forms(values: Uint8Array[]): string[] {
  return values.flatMap((v) => [Buffer.from(v).toString('hex'), Buffer.from(v).toString('base64').replace(/=+$/, '')]).filter((s) => s.length >= 16);
}
function expectNoSecrets(desc: unknown, secrets: Uint8Array[], metadata: Record<string, string>, fields: string[]): void {
  const text = JSON.stringify(desc);
  for (const f of forms(secrets)) expect(text.includes(f), `leaks ${f.slice(0, 12)}…`).toBe(false);
  for (const name of fields) if (Object.hasOwn(metadata, name)) expect(text.includes(metadata[name]!), `leaks ${name}`).toBe(false);
}

/** An S3EC V1 object written from the documented algorithm: AESWrap(RFC 3394) data key, AES-256-CBC, PKCS#5. */
function v1Object(kek: Uint8Array, dataKey: Uint8Array, iv: Uint8Array, plain: Uint8Array): { body: Uint8Array; metadata: Record<string, string> } {
  const w = createCipheriv('id-aes256-wrap', kek, Buffer.from('A6A6A6A6A6A6A6A6', 'hex'));
  const edk = Buffer.concat([w.update(dataKey), w.final()]);
  const c = createCipheriv('aes-256-cbc', dataKey, iv);
  const body = new Uint8Array(Buffer.concat([c.update(plain), c.final()]));
  return {
    body,
    metadata: { 'x-amz-key': edk.toString('base64'), 'x-amz-iv': Buffer.from(iv).toString('base64'), 'x-amz-matdesc': '{}', 'x-amz-wrap-alg': 'AESWrap', 'x-amz-unencrypted-content-length': String(plain.length), owner: 'ana' },
  };
}

describe('headObject describes every format without secrets', () => {
  it('enseal: format enseal, recipients, no interop part', async () => {
    const store = memoryStore();
    const raw = new Uint8Array(pseudoRandom(32, 1));
    const k = aesKey({ id: 'k1', key: raw });
    const b = encryptedBucket(store, { recipients: [k], keys: [k] });
    await b.putObject('e', pseudoRandom(100, 2), { metadata: { owner: 'ana' } });
    const h = await b.headObject('e');
    expect(h.format).toBe('enseal');
    expect(h.interop).toBeUndefined();
    expect(h.size).toBe(100);
    expect(h.metadata).toEqual({ owner: 'ana' });
    expectNoSecrets(h, [raw], {}, []);
  });

  it('OSS SDK samples (current and legacy): RSA key needed, with legacy: true; no wrapped key in the JSON; no GET', async () => {
    for (const [data, meta, format, wrap] of [
      ['encrypted_go_example.jpg', 'encrypted_go_example_meta.json', 'oss', 'RSA/NONE/PKCS1Padding'],
      ['deprecated_encrypted_1MB_a_rsa', 'deprecated_encrypted_1MB_a_meta_rsa.json', 'oss-legacy', 'RSA/NONE/OAEPWithSHA-1AndMGF1Padding'],
    ] as const) {
      const store = memoryStore();
      const md = storedMeta(meta);
      await store.put(data, new Uint8Array(readFileSync(new URL(data, dir))), { metadata: md });
      store.resetStats();
      const h = await encryptedBucket(store).headObject(data);
      expect(store.stats.byOperation.get).toBe(0);
      expect(h.format).toBe(format);
      expect(h.authenticated).toBe(false);
      expect(h.interop?.wrapAlgorithm).toBe(wrap);
      expect(h.interop?.contentCipher).toBe('AES-256-CTR');
      expect(h.interop?.wrappedKeyLength).toBe(128);
      expect(h.interop?.keyProvider).toMatch(/RSA-1024 private key \(ossRsaKey\(\{ privateKey, legacy: true \}\)/);
      expect(h.size).toBe(h.storedSize);
      for (const name of Object.keys(h.metadata)) expect(name.startsWith('client-side-encryption-') || name.startsWith('oss-')).toBe(false);
      expectNoSecrets(h, [], md, ['client-side-encryption-key', 'client-side-encryption-start', 'oss-crypto-key', 'oss-crypto-start']);
    }
  });

  it('OSS written by the bucket: RSA with matdesc, KMS (the key is not named), MD5 and multipart facts', async () => {
    const store = memoryStore({ multipart: { minPartSize: 16 } });
    const rsa = ossRsaKey({ privateKey: privatePem, legacy: true, matdesc: { team: 'ops' } });
    const b = encryptedBucket(store, { recipients: [rsa], keys: [rsa], format: 'oss', oss: { md5: true } });
    await b.putObject('r', pseudoRandom(100, 3));
    const h = await b.headObject('r');
    expect(h.interop?.keyProvider).toBe('an RSA-2048 private key (ossRsaKey({ privateKey, legacy: true }), PKCS#1 v1.5) whose matdesc is {"team":"ops"}');
    expect(h.interop?.md5).toBe(true);
    expect(h.interop?.matdesc).toEqual({ team: 'ops' });
    const md = (await store.head('r')).metadata;
    expectNoSecrets(h, [], md, ['client-side-encryption-key', 'client-side-encryption-start', 'client-side-encryption-unencrypted-content-md5']);
    const client = { type: 'alibaba', generateDataKey: async () => { throw new Error('unused'); }, encrypt: async (_k: string, p: Uint8Array) => ({ ciphertext: new TextEncoder().encode(Buffer.from(p).toString('base64')), keyId: 'k' }), decrypt: async (c: Uint8Array) => new Uint8Array(Buffer.from(new TextDecoder().decode(c), 'base64')) };
    const kmsKey = ossKmsKey({ client, keyId: 'k' });
    await putOssObject(store, 'k', pseudoRandom(40, 4), { recipients: [kmsKey], partSize: 16 });
    const hk = await b.headObject('k');
    expect(hk.interop?.keyProvider).toMatch(/^an Alibaba Cloud KMS key \(ossKmsKey\(\{ client: alibabaKms\(…\), keyId \}\)\) with no matdesc .*the object does not name the key$/);
    expect(hk.interop?.multipart).toEqual({ partSize: 16, dataSize: 40 });
  });

  it('S3EC V2 and V3 (metadata and instruction file), RSA and AES: version, commitment, key provider; no EDK, IV, message id or commitment in the JSON', async () => {
    const store = memoryStore();
    const wrapKey = new Uint8Array(pseudoRandom(32, 5));
    const aes = s3ecAesKey({ key: wrapKey, matdesc: { kek: 'one' } });
    const rsa = s3ecRsaKey({ privateKey: privatePem, legacy: true });
    const b = encryptedBucket(store, { keys: [aes, rsa] });
    await putS3ecObject(store, 'v2', pseudoRandom(50, 6), { recipients: [aes], version: 2 });
    await putS3ecObject(store, 'v3', pseudoRandom(50, 7), { recipients: [rsa], version: 3, metadata: { owner: 'ana' } });
    await putS3ecObject(store, 'v3i', pseudoRandom(50, 8), { recipients: [aes], version: 3, instructionFile: true });
    const h2 = await b.headObject('v2');
    expect([h2.format, h2.size, h2.interop?.keyCommitting, h2.interop?.authenticatedWholeRead]).toEqual(['s3ec-v2', 50, false, true]);
    expect(h2.interop?.keyProvider).toBe('an AES-256 key (s3ecAesKey({ key }), AES/GCM) whose material description is {"kek":"one"}');
    const h3 = await b.headObject('v3');
    expect([h3.format, h3.interop?.keyCommitting, h3.metadata]).toEqual(['s3ec-v3', true, { owner: 'ana' }]);
    expect(h3.interop?.keyProvider).toMatch(/^an RSA-2048 private key \(s3ecRsaKey\(\{ privateKey, legacy: true \}\), RSA-OAEP-SHA1\)/);
    const h3i = await b.headObject('v3i');
    expect([h3i.format, h3i.interop?.instructionFile]).toEqual(['s3ec-v3', true]);
    const file = JSON.parse(new TextDecoder().decode(store.peek('v3i.instruction'))) as Record<string, string>;
    for (const [key, h] of [['v2', h2], ['v3', h3], ['v3i', h3i]] as const) {
      const md = { ...(await store.head(key)).metadata, ...(key === 'v3i' ? file : {}) };
      expectNoSecrets(h, [wrapKey], md, ['x-amz-key-v2', 'x-amz-iv', 'x-amz-3', 'x-amz-d', 'x-amz-i']);
    }
    // The V2 instruction-file case: no S3EC names on the object at all.
    await putS3ecObject(store, 'v2i', pseudoRandom(10, 9), { recipients: [aes], version: 2, instructionFile: true });
    expect((await b.headObject('v2i')).format).toBe('s3ec-v2');
    expect((await b.getObject('v2i')).format).toBe('s3ec-v2');
  });

  it('S3EC V1 (AES-CBC, built with node:crypto): described, read only with the opt-in; a V1 KMS object names its CMK', async () => {
    const store = memoryStore();
    const kek = new Uint8Array(pseudoRandom(32, 10));
    const dataKey = new Uint8Array(pseudoRandom(32, 11));
    const iv = new Uint8Array(pseudoRandom(16, 12));
    const plain = pseudoRandom(1000, 13);
    const o = v1Object(kek, dataKey, iv, plain);
    await store.put('v1', o.body, { metadata: o.metadata });
    const b = encryptedBucket(store, { keys: [s3ecAesKey({ key: kek })] });
    const h = await b.headObject('v1');
    expect([h.format, h.size, h.interop?.contentCipher, h.interop?.authenticatedWholeRead, h.metadata]).toEqual(['s3ec-v1', 1000, 'AES-256-CBC', false, { owner: 'ana' }]);
    expectNoSecrets(h, [kek, dataKey, iv], o.metadata, ['x-amz-key', 'x-amz-iv']);
    await expectCode(b.getObject('v1'), 'ERR_UNAUTHENTICATED');
    await expectCode(b.openObject('v1'), 'ERR_UNAUTHENTICATED');
    const r = await b.getObject('v1', { allowUnauthenticated: true });
    expect([r.format, r.authenticated]).toEqual(['s3ec-v1', false]);
    expect(Buffer.compare(Buffer.from(await collect(r.body)), Buffer.from(plain))).toBe(0);
    const arn = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    await store.put('v1k', o.body, { metadata: { ...o.metadata, 'x-amz-wrap-alg': 'kms', 'x-amz-matdesc': JSON.stringify({ kms_cmk_id: arn }) } });
    expect((await b.headObject('v1k')).interop?.keyProvider).toBe(`AWS KMS key ${arn} (s3ecKmsKey({ client: awsKms(…), keyId }))`);
  });

  it('mixed metadata is ERR_HEADER in headObject, getObject and openObject', async () => {
    const store = memoryStore();
    const go = storedMeta('encrypted_go_example_meta.json');
    await store.put('m', new Uint8Array(100), { metadata: { ...go, 'x-amz-key-v2': 'AAAA' } });
    await store.put('m2', new Uint8Array(100), { metadata: { 'x-amz-key': 'AAAA', 'x-amz-key-v2': 'AAAA' } });
    const b = encryptedBucket(store, { keys: [aesKey({ id: 'x', key: new Uint8Array(32) })], allowUnauthenticated: true });
    for (const k of ['m', 'm2']) {
      await expectCode(b.headObject(k), 'ERR_HEADER');
      await expectCode(b.getObject(k), 'ERR_HEADER');
      await expectCode(b.openObject(k), 'ERR_HEADER');
    }
  });
});
