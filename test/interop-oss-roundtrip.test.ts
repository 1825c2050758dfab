/**
 * Writer → reader round trips of OSS objects for every wrap algorithm (RSA PKCS#1 v1.5, RSA-OAEP-
 * SHA-1, KMS/ALICLOUD single and double base64) × sizes 0, 1, 15, 16, 17, 16 KiB ± 1, 1 MiB + 3,
 * single PUT (bytes and stream bodies) and multipart with 3 parts, through memoryStore(), on every
 * backend; and each object re-read by an independent reader in this file (node:crypto raw RSA /
 * OAEP + AES-256-CTR, the fake KMS's own table) to show that the SDKs' algorithm reads it.
 */
import { constants, createCipheriv, createDecipheriv, createHash, generateKeyPairSync, privateDecrypt, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BackendName } from '../src/backends/backend.js';
import type { KmsClient } from '../src/keys/kms.js';
import { memoryStore } from '../src/storage/memory.js';
import { openOssObject, ossKmsKey, ossRsaKey, putOssObject, sealOssObject } from '../src/interop.js';
import { decrypt, encrypt } from '../src/index.js';
import { BACKENDS, expectCode, pseudoRandom } from './helpers.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const publicPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;

/**
 * A KMS test double with the KmsClient contract of alibabaKms: blobs are base64 text of
 * IV ‖ AES-256-GCM(master, plaintext) ‖ tag, Decrypt must name the key the blob was made under.
 */
class FakeOssKms implements KmsClient {
  readonly type = 'alibaba';
  readonly master = randomBytes(32);
  readonly keyId = 'key-0001';
  calls = 0;
  async generateDataKey(keyId: string, context: Record<string, string>) {
    const plaintext = new Uint8Array(randomBytes(32));
    return { plaintext, ...(await this.encrypt(keyId, plaintext, context)) };
  }
  async encrypt(keyId: string, plaintext: Uint8Array, context: Record<string, string>) {
    if (keyId !== this.keyId && keyId !== 'alias/oss') throw new Error(`unknown key ${keyId}`);
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.master, iv);
    c.setAAD(Buffer.from(JSON.stringify(context)));
    const blob = Buffer.concat([Buffer.from(this.keyId), iv, c.update(plaintext), c.final(), c.getAuthTag()]);
    return { ciphertext: new Uint8Array(Buffer.from(blob.toString('base64'))), keyId: this.keyId };
  }
  /** The independent reader's KMS: decrypts a blob text. */
  open(text: string, context: Record<string, string> = {}): Buffer {
    const blob = Buffer.from(text, 'base64');
    const body = blob.subarray(this.keyId.length);
    const d = createDecipheriv('aes-256-gcm', this.master, body.subarray(0, 12));
    d.setAAD(Buffer.from(JSON.stringify(context)));
    d.setAuthTag(body.subarray(body.length - 16));
    return Buffer.concat([d.update(body.subarray(12, body.length - 16)), d.final()]);
  }
  async decrypt(ciphertext: Uint8Array, context: Record<string, string>, keyId?: string) {
    this.calls += 1;
    if (keyId !== undefined && keyId !== this.keyId) throw new Error('wrong key');
    return new Uint8Array(this.open(Buffer.from(ciphertext).toString('utf8'), context));
  }
  resolveKeyId(id: string) {
    return id === 'alias/oss' ? this.keyId : id;
  }
}

const SIZES = [0, 1, 15, 16, 17, 16 * 1024 - 1, 16 * 1024 + 1, (1 << 20) + 3];
const collect = async (s: ReadableStream<Uint8Array>): Promise<Buffer> => Buffer.from(await new Response(s).arrayBuffer());
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const streamOf = (b: Uint8Array, step: number): ReadableStream<Uint8Array> => {
  let i = 0;
  return new ReadableStream({
    pull(c) {
      if (i >= b.length) return c.close();
      c.enqueue(b.slice(i, i + step));
      i += step;
    },
  });
};

/** RSAES-PKCS1-v1_5 decryption by hand: node:crypto raw RSA, then the padding checked here. */
function pkcs1Decrypt(b64: string): Buffer {
  const em = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, Buffer.from(b64, 'base64'));
  expect(em[0]).toBe(0);
  expect(em[1]).toBe(2);
  const sep = em.indexOf(0, 2);
  expect(sep).toBeGreaterThanOrEqual(10);
  return em.subarray(sep + 1);
}

type Wrap = 'pkcs1' | 'oaep-sha1' | 'kms-single' | 'kms-double';
const WRAPS: Wrap[] = ['pkcs1', 'oaep-sha1', 'kms-single', 'kms-double'];

function suite(name: BackendName): void {
  const kmsClient = new FakeOssKms();
  const writer = (w: Wrap) =>
    w === 'pkcs1' || w === 'oaep-sha1'
      ? ossRsaKey({ publicKey: publicPem, wrap: w, matdesc: { owner: 'ops', desc: 'rt' } })
      : ossKmsKey({ client: kmsClient, keyId: 'alias/oss', encoding: w === 'kms-double' ? 'double' : 'single' });
  // WebCrypto has no raw RSA: PKCS#1 v1.5 runs on node:crypto there.
  const reader = (w: Wrap) =>
    w === 'pkcs1' || w === 'oaep-sha1'
      ? ossRsaKey({ privateKey: privatePem, legacy: true, matdesc: { desc: 'rt', owner: 'ops' }, ...(name === 'webcrypto' && w === 'pkcs1' ? { rsaBackend: 'node' as const } : {}) })
      : ossKmsKey({ client: kmsClient, keyId: 'alias/oss' });

  /** The independent reader: what the SDKs do, with node:crypto only. */
  const independent = (w: Wrap, md: Record<string, string>, body: Uint8Array): Buffer => {
    const unwrap = (v: string): Buffer => {
      if (w === 'pkcs1') return pkcs1Decrypt(v);
      if (w === 'oaep-sha1') return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from(v, 'base64'));
      return kmsClient.open(w === 'kms-double' ? Buffer.from(v, 'base64').toString('utf8') : v);
    };
    const key = unwrap(md['client-side-encryption-key']!);
    const iv = unwrap(md['client-side-encryption-start']!);
    expect(key).toHaveLength(32);
    expect(iv).toHaveLength(16);
    expect(iv.subarray(8, 12).toString('hex')).toBe('00000000'); // what the Java and Go readers need
    const d = createDecipheriv('aes-256-ctr', key, iv);
    return Buffer.concat([d.update(body), d.final()]);
  };

  describe(`OSS round trips / ${name}`, () => {
    for (const w of WRAPS) {
      it(`${w}: sealOssObject → store → openOssObject, and the independent reader, for sizes ${SIZES.join(', ')}`, async () => {
        const store = memoryStore();
        for (const n of SIZES) {
          const plain = pseudoRandom(n, n + 1);
          const { body, metadata } = await sealOssObject(plain, { recipients: [writer(w)], md5: true, backend: name });
          expect(body).toHaveLength(n);
          expect(metadata['client-side-encryption-cek-alg']).toBe('AES/CTR/NoPadding');
          expect(metadata['client-side-encryption-unencrypted-content-length']).toBe(String(n));
          expect(metadata['client-side-encryption-unencrypted-content-md5']).toBe(createHash('md5').update(plain).digest('base64'));
          if (w === 'pkcs1' || w === 'oaep-sha1') expect(metadata['client-side-encryption-matdesc']).toBe('{"desc":"rt","owner":"ops"}'); // compact, sorted
          await store.put(`o${n}`, body, { metadata });
          const info = await store.head(`o${n}`);
          const r = await openOssObject(store, `o${n}`, info, { keys: [reader(w)], allowUnauthenticated: true, backend: name });
          expect(r.md5Checked).toBe(true);
          expect(hex(await collect(r.body)), `size ${n}`).toBe(hex(plain));
          expect(hex(independent(w, metadata, body)), `independent, size ${n}`).toBe(hex(plain));
          if (n > 20) {
            const ranged = await openOssObject(store, `o${n}`, info, { keys: [reader(w)], allowUnauthenticated: true, backend: name, range: { start: 3, end: n - 2 } });
            expect(hex(await collect(ranged.body))).toBe(hex(plain.subarray(3, n - 1)));
          }
        }
      });

      it(`${w}: putOssObject multipart with 3 parts from a stream body, and a single PUT from a stream`, async () => {
        const partSize = 16 * 1024;
        const plain = pseudoRandom(2 * partSize + 333, 5);
        const store = memoryStore({ multipart: { minPartSize: partSize } });
        const put = await putOssObject(store, 'mp', streamOf(plain, 1000), { recipients: [writer(w)], partSize, contentLength: plain.length, backend: name });
        expect(store.stats.byOperation.uploadPart).toBe(3);
        expect(put.metadata['client-side-encryption-part-size']).toBe(String(partSize));
        const info = await store.head('mp');
        const body = await collect((await store.get('mp')).body);
        expect(hex(independent(w, info.metadata, body))).toBe(hex(plain));
        const r = await openOssObject(store, 'mp', info, { keys: [reader(w)], allowUnauthenticated: true, backend: name, range: { start: partSize - 7, end: 2 * partSize + 9 } });
        expect(hex(await collect(r.body))).toBe(hex(plain.subarray(partSize - 7, 2 * partSize + 10)));
        await putOssObject(store, 'single', streamOf(plain, 777), { recipients: [writer(w)], backend: name });
        const one = await openOssObject(store, 'single', await store.head('single'), { keys: [reader(w)], allowUnauthenticated: true, backend: name });
        expect(hex(await collect(one.body))).toBe(hex(plain));
      });
    }

    it('KMS: strict under keyId (another key is refused); legacy Python "kms" objects need a client with decryptText', async () => {
      const plain = pseudoRandom(3000, 8);
      const store = memoryStore();
      const { body, metadata } = await sealOssObject(plain, { recipients: [ossKmsKey({ client: kmsClient, keyId: 'alias/oss' })], backend: name });
      await store.put('k', body, { metadata });
      const info = await store.head('k');
      const e = await expectCode(openOssObject(store, 'k', info, { keys: [ossKmsKey({ client: kmsClient, keyId: 'key-9999' })], allowUnauthenticated: true, backend: name }), 'ERR_NO_KEY');
      expect(e.errors).toHaveLength(1);
      // A legacy object made by hand the PY 2.10 way: key = blob of the CEK, start = blob of the decimal "7".
      const cek = randomBytes(32);
      const enc = async (m: Uint8Array): Promise<string> => Buffer.from((await kmsClient.encrypt('key-0001', m, {})).ciphertext).toString('utf8');
      const counter = Buffer.alloc(16);
      counter[15] = 7;
      const c = createCipheriv('aes-256-ctr', cek, counter);
      await store.put('legacy', Buffer.concat([c.update(plain), c.final()]), {
        metadata: { 'oss-crypto-key': await enc(cek), 'oss-crypto-start': await enc(new TextEncoder().encode('7')), 'oss-cek-alg': 'AES/GCM/NoPadding', 'oss-wrap-alg': 'kms' },
      });
      const linfo = await store.head('legacy');
      const plainClient = await expectCode(openOssObject(store, 'legacy', linfo, { keys: [ossKmsKey({ client: kmsClient, keyId: 'alias/oss' })], allowUnauthenticated: true, backend: name }), 'ERR_NO_KEY');
      expect((plainClient.errors[0] as { code?: string }).code).toBe('ERR_UNSUPPORTED');
      const textClient = Object.assign(Object.create(kmsClient) as FakeOssKms, {
        decryptText: async (ct: Uint8Array, ctx: Record<string, string>) => kmsClient.open(Buffer.from(ct).toString('utf8'), ctx).toString('utf8'),
      });
      const r = await openOssObject(store, 'legacy', linfo, { keys: [ossKmsKey({ client: textClient, keyId: 'alias/oss' })], allowUnauthenticated: true, backend: name, range: { start: 33, end: 2000 } });
      expect(hex(await collect(r.body))).toBe(hex(plain.subarray(33, 2001)));
    });

    it('property: any range of any object equals the slice of the plaintext (fast-check)', async () => {
      const store = memoryStore();
      const plain = pseudoRandom(5000, 13);
      const { body, metadata } = await sealOssObject(plain, { recipients: [writer('oaep-sha1')], backend: name });
      await store.put('p', body, { metadata });
      const info = await store.head('p');
      const rd = reader('oaep-sha1');
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 4999 }), fc.integer({ min: 0, max: 6000 }), async (start, len) => {
          const r = await openOssObject(store, 'p', info, { keys: [rd], allowUnauthenticated: true, backend: name, range: { start, end: start + len } });
          expect(hex(await collect(r.body))).toBe(hex(plain.subarray(start, start + len + 1)));
        }),
        { numRuns: 60 },
      );
    });

    it('cancelling the plaintext stream cancels the store body', async () => {
      const store = memoryStore();
      const plain = pseudoRandom(1 << 20, 14);
      const { body, metadata } = await sealOssObject(plain, { recipients: [writer('oaep-sha1')], backend: name });
      await store.put('c', body, { metadata });
      const r = await openOssObject(store, 'c', await store.head('c'), { keys: [reader('oaep-sha1')], allowUnauthenticated: true, backend: name });
      const rdr = r.body.getReader();
      const first = await rdr.read();
      expect(first.done).toBe(false);
      await rdr.cancel('enough');
      expect(store.stats.bytesOut).toBeLessThan(1 << 20); // the rest of the object was never delivered
    });

    it('an ossRsaKey / ossKmsKey is also an ordinary enseal key provider', async () => {
      const data = pseudoRandom(100, 3);
      const rsa = ossRsaKey({ privateKey: privatePem, publicKey: publicPem });
      expect(hex(await decrypt(await encrypt(data, { recipients: [rsa], backend: name }), { keys: [rsa], backend: name }))).toBe(hex(data));
      const k = ossKmsKey({ client: kmsClient, keyId: 'alias/oss' });
      expect(hex(await decrypt(await encrypt(data, { recipients: [k], backend: name }), { keys: [k], backend: name }))).toBe(hex(data));
    });

    it('matdesc selects among several RSA keys as the SDKs do; the fallback is a key without matdesc', async () => {
      const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const otherPem = other.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
      const store = memoryStore();
      const plain = pseudoRandom(5000, 11);
      const { body, metadata } = await sealOssObject(plain, { recipients: [ossRsaKey({ publicKey: publicPem, wrap: 'oaep-sha1' })], matdesc: { who: 'a' }, backend: name });
      await store.put('m', body, { metadata });
      const info = await store.head('m');
      const wrong = ossRsaKey({ privateKey: otherPem, legacy: true, matdesc: { who: 'b' } });
      const right = ossRsaKey({ privateKey: privatePem, legacy: true, matdesc: { who: 'a' } });
      const r = await openOssObject(store, 'm', info, { keys: [wrong, right], allowUnauthenticated: true, backend: name });
      expect(hex(await collect(r.body))).toBe(hex(plain));
      // Only keys of another matdesc: nothing claims the object.
      const none = await expectCode(openOssObject(store, 'm', info, { keys: [wrong], allowUnauthenticated: true, backend: name }), 'ERR_NO_KEY');
      expect(none.errors).toHaveLength(0);
      // A fallback key of the wrong pair fails (OAEP), the next fallback wins.
      const fallbackWrong = ossRsaKey({ privateKey: otherPem, legacy: true });
      const fallbackRight = ossRsaKey({ privateKey: privatePem, legacy: true });
      const r2 = await openOssObject(store, 'm', info, { keys: [fallbackWrong, fallbackRight], allowUnauthenticated: true, backend: name });
      expect(hex(await collect(r2.body))).toBe(hex(plain));
    });

    it('writing refuses misuse: two recipients, a part size not a multiple of 16, md5 with a stream, OSS names in metadata, a 1024-bit key', async () => {
      const store = memoryStore({ multipart: { minPartSize: 16 } });
      const rsa = ossRsaKey({ publicKey: publicPem });
      await expect(sealOssObject(new Uint8Array(1), { recipients: [rsa, rsa], backend: name })).rejects.toThrow(TypeError);
      await expect(sealOssObject(new Uint8Array(1), { recipients: [], backend: name })).rejects.toThrow(TypeError);
      await expect(putOssObject(store, 'x', new Uint8Array(100), { recipients: [rsa], partSize: 40, backend: name })).rejects.toThrow(RangeError);
      await expect(putOssObject(store, 'x', streamOf(new Uint8Array(10), 5), { recipients: [rsa], md5: true, backend: name })).rejects.toThrow(TypeError);
      await expect(putOssObject(store, 'x', new Uint8Array(1), { recipients: [rsa], metadata: { 'client-side-encryption-key': 'x' }, backend: name })).rejects.toThrow(TypeError);
      const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
      await expect(sealOssObject(new Uint8Array(1), { recipients: [ossRsaKey({ publicKey: small, wrap: 'oaep-sha1' })], backend: name })).rejects.toThrow(RangeError);
      expect(store.pendingUploads?.() ?? []).toHaveLength(0);
    });
  });
}

for (const name of BACKENDS) suite(name);
