/**
 * Known-answer tests for the S3EC formats, each object built (or checked) independently of
 * enseal from the documented algorithm with node:crypto: the V3 derived key and commitment
 * (HKDF-SHA-512, salt = message id, IKM = data key, info = 00 73 ‖ "DERIVEKEY"/"COMMITKEY"), the
 * V2 GCM layout and the kms+context encryption context, the RSA pseudo data key, a V1 CBC
 * object, and the CTR counter of a ranged read of a GCM object.
 */
import { constants, createCipheriv, createDecipheriv, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBackend } from '../src/backends/select.js';
import { deriveS3ecV3, openS3ecObject, putS3ecObject, s3ecAesKey, s3ecKmsKey, s3ecRsaKey } from '../src/interop.js';
import { memoryStore } from '../src/storage/memory.js';
import { BACKENDS, expectCode, pseudoRandom } from './helpers.js';
import { FakeAwsKms, KEY_ID, SUITE, arn, nodeAesGcmEdk, nodeDeriveV3, nodeGcmOpen, nodeGcmSeal, readAll } from './interop-s3ec-helpers.js';

const kms = new FakeAwsKms();
beforeAll(async () => void (await kms.server.start()));
afterAll(async () => kms.server.close());

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const unb64 = (s: string): Buffer => Buffer.from(s, 'base64');

for (const backend of BACKENDS) {
  describe(`S3EC known answers / ${backend}`, () => {
    it('V3: derived key and commitment equal HKDF-SHA-512 as the spec defines it; a node:crypto-built V3 object decrypts', async () => {
      const dataKey = randomBytes(32);
      const messageId = randomBytes(28);
      const ref = nodeDeriveV3(dataKey, messageId);
      const ours = await deriveS3ecV3(getBackend(backend), dataKey, messageId);
      expect(Buffer.from(ours.key).toString('hex')).toBe(ref.key.toString('hex'));
      expect(Buffer.from(ours.commitment).toString('hex')).toBe(ref.commitment.toString('hex'));
      expect(ours.commitment.length).toBe(28);

      const wrapKey = randomBytes(32);
      const plaintext = pseudoRandom(5000, 3);
      const body = nodeGcmSeal(ref.key, Buffer.alloc(12, 1), plaintext, SUITE);
      const store = memoryStore();
      await store.put('v3.bin', body, {
        metadata: {
          'x-amz-c': '115',
          'x-amz-3': b64(nodeAesGcmEdk(wrapKey, dataKey, '115')),
          'x-amz-w': '02',
          'x-amz-d': b64(ref.commitment),
          'x-amz-i': b64(messageId),
          'x-amz-m': '{}',
        },
      });
      const r = await openS3ecObject(store, 'v3.bin', await store.head('v3.bin'), { keys: [s3ecAesKey({ key: wrapKey })], backend });
      expect(r.authenticated).toBe(true);
      expect(Buffer.from(await readAll(r.body)).equals(Buffer.from(plaintext))).toBe(true);
    });

    it('V3: an enseal-written object is read by a node:crypto reader (unwrap with AAD "115", commitment, fixed IV, AAD 00 73)', async () => {
      const wrapKey = randomBytes(32);
      const store = memoryStore();
      const plaintext = pseudoRandom(1234, 4);
      await putS3ecObject(store, 'o', plaintext, { recipients: [s3ecAesKey({ key: wrapKey, matdesc: { purpose: 'kat' } })], backend });
      const { metadata } = await store.head('o');
      expect(Object.keys(metadata).sort()).toEqual(['x-amz-3', 'x-amz-c', 'x-amz-d', 'x-amz-i', 'x-amz-m', 'x-amz-w']);
      expect(metadata['x-amz-c']).toBe('115');
      expect(metadata['x-amz-w']).toBe('02');
      expect(JSON.parse(metadata['x-amz-m']!)).toEqual({ purpose: 'kat' });
      const edk = unb64(metadata['x-amz-3']!);
      expect(edk.length).toBe(60);
      const dataKey = nodeGcmOpen(wrapKey, edk.subarray(0, 12), edk.subarray(12), Buffer.from('115'));
      const ref = nodeDeriveV3(dataKey, unb64(metadata['x-amz-i']!));
      expect(unb64(metadata['x-amz-d']!).equals(ref.commitment)).toBe(true);
      const got = await store.get('o');
      const body = await readAll(got.body);
      expect(nodeGcmOpen(ref.key, Buffer.alloc(12, 1), body, SUITE).equals(Buffer.from(plaintext))).toBe(true);
    });

    it('V2: GCM layout (ciphertext ‖ 16-byte tag, 12-byte IV, no AAD) and the AES/GCM EDK, both directions', async () => {
      const wrapKey = randomBytes(32);
      const store = memoryStore();
      const plaintext = pseudoRandom(777, 5);
      await putS3ecObject(store, 'o', plaintext, { recipients: [s3ecAesKey({ key: wrapKey })], version: 2, backend });
      const { metadata, size } = await store.head('o');
      expect(size).toBe(777 + 16);
      expect(metadata).toMatchObject({ 'x-amz-cek-alg': 'AES/GCM/NoPadding', 'x-amz-tag-len': '128', 'x-amz-wrap-alg': 'AES/GCM', 'x-amz-matdesc': '{}', 'x-amz-unencrypted-content-length': '777' });
      const iv = unb64(metadata['x-amz-iv']!);
      expect(iv.length).toBe(12);
      const edk = unb64(metadata['x-amz-key-v2']!);
      const dataKey = nodeGcmOpen(wrapKey, edk.subarray(0, 12), edk.subarray(12), Buffer.from('AES/GCM/NoPadding'));
      const body = await readAll((await store.get('o')).body);
      expect(nodeGcmOpen(dataKey, iv, body).equals(Buffer.from(plaintext))).toBe(true);

      // And the other way: a node:crypto-built V2 object.
      const dk2 = randomBytes(32);
      const iv2 = randomBytes(12);
      await store.put('n', nodeGcmSeal(dk2, iv2, plaintext), {
        metadata: {
          'x-amz-key-v2': b64(nodeAesGcmEdk(wrapKey, dk2, 'AES/GCM/NoPadding')),
          'x-amz-iv': b64(iv2),
          'x-amz-cek-alg': 'AES/GCM/NoPadding',
          'x-amz-tag-len': '128',
          'x-amz-wrap-alg': 'AES/GCM',
          'x-amz-matdesc': '{}',
        },
      });
      const r = await openS3ecObject(store, 'n', await store.head('n'), { keys: [s3ecAesKey({ key: wrapKey })], backend });
      expect(Buffer.from(await readAll(r.body)).equals(Buffer.from(plaintext))).toBe(true);
    });

    it('kms+context: the KMS sees the caller context plus aws:x-amz-cek-alg (V2 "AES/GCM/NoPadding", V3 "115"), stored verbatim', async () => {
      const store = memoryStore();
      const key = s3ecKmsKey({ client: kms.client(), keyId: arn(KEY_ID) });
      for (const [version, cek, field] of [[2, 'AES/GCM/NoPadding', 'x-amz-matdesc'], [3, '115', 'x-amz-t']] as const) {
        kms.contexts.length = 0;
        await putS3ecObject(store, `k${version}`, Uint8Array.of(1, 2, 3), { recipients: [key], version, context: { team: 'ops' }, backend });
        const expected = { team: 'ops', 'aws:x-amz-cek-alg': cek };
        expect(kms.contexts).toEqual([{ op: 'TrentService.Encrypt', context: expected }]);
        const { metadata } = await store.head(`k${version}`);
        expect(JSON.parse(metadata[field]!)).toEqual(expected);
        expect(metadata[version === 2 ? 'x-amz-wrap-alg' : 'x-amz-w']).toBe(version === 2 ? 'kms+context' : '12');
        // The stored EDK is the raw CiphertextBlob, opened by the fake KMS's own keyring under that context.
        const edk = unb64(metadata[version === 2 ? 'x-amz-key-v2' : 'x-amz-3']!);
        const dataKey = kms.open(edk, expected);
        expect(dataKey?.length).toBe(32);
        kms.contexts.length = 0;
        const r = await openS3ecObject(store, `k${version}`, await store.head(`k${version}`), { keys: [key], backend });
        expect([...(await readAll(r.body))]).toEqual([1, 2, 3]);
        expect(kms.contexts).toEqual([{ op: 'TrentService.Decrypt', context: expected }]);
      }
      await expect(putS3ecObject(store, 'x', Uint8Array.of(1), { recipients: [key], context: { 'aws:x-amz-cek-alg': '115' } })).rejects.toThrow(TypeError);
    });

    it('RSA-OAEP-SHA1: the EDK decrypts (node:crypto OAEP-SHA-1) to 0x20 ‖ data key ‖ "AES/GCM/NoPadding" / "115"; a node-built one reads', async () => {
      const store = memoryStore();
      const key = s3ecRsaKey({ privateKey: privatePem, legacy: true });
      for (const [version, suffix] of [[2, 'AES/GCM/NoPadding'], [3, '115']] as const) {
        await putS3ecObject(store, `r${version}`, Uint8Array.of(9, 8, 7), { recipients: [key], version, backend });
        const { metadata } = await store.head(`r${version}`);
        const edk = unb64(metadata[version === 2 ? 'x-amz-key-v2' : 'x-amz-3']!);
        expect(edk.length).toBe(256);
        const pseudo = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, edk);
        expect(pseudo.length).toBe(1 + 32 + suffix.length);
        expect(pseudo[0]).toBe(32);
        expect(pseudo.subarray(33).toString()).toBe(suffix);
      }
      // Built by node:crypto: a V2 object with an RSA pseudo data key.
      const dk = randomBytes(32);
      const iv = randomBytes(12);
      const pseudo = Buffer.concat([Buffer.of(32), dk, Buffer.from('AES/GCM/NoPadding')]);
      await store.put('n', nodeGcmSeal(dk, iv, Buffer.from('rsa hello')), {
        metadata: {
          'x-amz-key-v2': b64(publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, pseudo)),
          'x-amz-iv': b64(iv),
          'x-amz-cek-alg': 'AES/GCM/NoPadding',
          'x-amz-tag-len': '128',
          'x-amz-wrap-alg': 'RSA-OAEP-SHA1',
          'x-amz-matdesc': '{}',
        },
      });
      const r = await openS3ecObject(store, 'n', await store.head('n'), { keys: [key], backend });
      expect(Buffer.from(await readAll(r.body)).toString()).toBe('rsa hello');
      // A pseudo data key with the V3 suffix in a V2 object is refused.
      const bad = Buffer.concat([Buffer.of(32), dk, Buffer.from('115')]);
      await store.put('b', nodeGcmSeal(dk, iv, Buffer.from('x')), {
        metadata: { ...(await store.head('n')).metadata, 'x-amz-key-v2': b64(publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, bad)) },
      });
      const e = await expectCode(openS3ecObject(store, 'b', await store.head('b'), { keys: [key], backend }), 'ERR_NO_KEY');
      expect(e.errors.map((x) => (x as { code?: string }).code)).toEqual(['ERR_AUTH']);
      // Without legacy: true reading is refused naming the option.
      const strict = s3ecRsaKey({ privateKey: privatePem });
      const e2 = await expectCode(openS3ecObject(store, 'n', await store.head('n'), { keys: [strict], backend }), 'ERR_NO_KEY');
      expect(String((e2.errors[0] as Error).message)).toMatch(/legacy: true/);
    });

    it('V1: an AES-256-CBC/PKCS5 object with an AESWrap (RFC 3394) key reads only with allowUnauthenticated, whole and by range', async () => {
      const kek = randomBytes(32);
      const dk = randomBytes(32);
      const iv = randomBytes(16);
      const wrap = createCipheriv('id-aes256-wrap', kek, Buffer.alloc(8, 0xa6));
      const edk = Buffer.concat([wrap.update(dk), wrap.final()]);
      const plaintext = pseudoRandom(1000, 6);
      const c = createCipheriv('aes-256-cbc', dk, iv);
      const body = Buffer.concat([c.update(plaintext), c.final()]);
      expect(body.length).toBe(1008);
      const store = memoryStore();
      await store.put('v1', body, {
        metadata: { 'x-amz-key': b64(edk), 'x-amz-iv': b64(iv), 'x-amz-matdesc': '{}', 'x-amz-wrap-alg': 'AESWrap', 'x-amz-unencrypted-content-length': '1000' },
      });
      const keys = [s3ecAesKey({ key: kek })];
      await expectCode(openS3ecObject(store, 'v1', await store.head('v1'), { keys, backend }), 'ERR_UNAUTHENTICATED');
      const r = await openS3ecObject(store, 'v1', await store.head('v1'), { keys, backend, allowUnauthenticated: true });
      expect(r.authenticated).toBe(false);
      expect(r.description.version).toBe(1);
      expect(Buffer.from(await readAll(r.body)).equals(Buffer.from(plaintext))).toBe(true);
      const part = await openS3ecObject(store, 'v1', await store.head('v1'), { keys, backend, allowUnauthenticated: true, range: { start: 990, end: 5000 } });
      expect(Buffer.from(await readAll(part.body)).equals(Buffer.from(plaintext.subarray(990)))).toBe(true);
      expect(part.range).toEqual({ start: 990, end: 999 });
    });

    it('a hand-written V2 instruction file (x-amz-tag-len as a JSON number, no object metadata) reads', async () => {
      const wrapKey = randomBytes(32);
      const dk = randomBytes(32);
      const iv = randomBytes(12);
      const plaintext = pseudoRandom(2048, 8);
      const store = memoryStore();
      await store.put('obj', nodeGcmSeal(dk, iv, plaintext));
      const file = `{"x-amz-key-v2":"${b64(nodeAesGcmEdk(wrapKey, dk, 'AES/GCM/NoPadding'))}","x-amz-iv":"${b64(iv)}","x-amz-cek-alg":"AES/GCM/NoPadding","x-amz-tag-len":128,"x-amz-wrap-alg":"AES/GCM","x-amz-matdesc":"{}"}`;
      await store.put('obj.instruction', Buffer.from(file), { metadata: { 'x-amz-crypto-instr-file': '' } });
      const r = await openS3ecObject(store, 'obj', await store.head('obj'), { keys: [s3ecAesKey({ key: wrapKey })], backend });
      expect(r.description.version).toBe(2);
      expect(r.description.instructionFile).toBe(true);
      expect(Buffer.from(await readAll(r.body)).equals(Buffer.from(plaintext))).toBe(true);
    });

    it('ranged GCM read: bytes [a, …] are AES-CTR under IV ‖ uint32_be(2 + a/16) (checked against node:crypto aes-256-ctr)', async () => {
      const wrapKey = randomBytes(32);
      const dk = randomBytes(32);
      const iv = randomBytes(12);
      const plaintext = pseudoRandom(4096 + 7, 7);
      const sealed = nodeGcmSeal(dk, iv, plaintext);
      const store = memoryStore();
      await store.put('g', sealed, {
        metadata: { 'x-amz-key-v2': b64(nodeAesGcmEdk(wrapKey, dk, 'AES/GCM/NoPadding')), 'x-amz-iv': b64(iv), 'x-amz-cek-alg': 'AES/GCM/NoPadding', 'x-amz-tag-len': '128', 'x-amz-wrap-alg': 'AES/GCM', 'x-amz-matdesc': '{}' },
      });
      for (const [s, e] of [[0, 0], [17, 40], [1600, 1615], [4095, 99999], [33, 4096 + 6]] as [number, number][]) {
        const a = s - (s % 16);
        const counter = Buffer.concat([iv, Buffer.alloc(4)]);
        counter.writeUInt32BE(2 + a / 16, 12);
        const d = createDecipheriv('aes-256-ctr', dk, counter);
        const last = Math.min(e, plaintext.length - 1);
        const expected = d.update(sealed.subarray(a, last + 1)).subarray(s - a);
        expect(expected.equals(Buffer.from(plaintext.subarray(s, last + 1)))).toBe(true);
        const r = await openS3ecObject(store, 'g', await store.head('g'), { keys: [s3ecAesKey({ key: wrapKey })], backend, allowUnauthenticated: true, range: { start: s, end: e } });
        expect(Buffer.from(await readAll(r.body)).equals(expected)).toBe(true);
      }
    });
  });
}
