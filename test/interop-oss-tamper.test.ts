/**
 * Tampered and malformed OSS metadata and bodies each give their typed error: the codec's
 * ERR_HEADER cases (cek-alg, unknown wrap algorithm, mixed current/legacy or OSS/enseal, partial,
 * non-canonical numbers, oversized values, bad base64, matdesc), and at read time a modified IV,
 * wrapped key, MD5 mismatch, body bit flips and short bodies — over every backend.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { BackendName } from '../src/backends/backend.js';
import { memoryStore } from '../src/storage/memory.js';
import { decodeOssMetadata, detectFormat, encodeOssMetadata, openOssObject, ossRsaKey, sealOssObject } from '../src/interop.js';
import { EnsealError } from '../src/errors.js';
import { BACKENDS, expectCode, pseudoRandom } from './helpers.js';

const dir = new URL('./vectors/oss-sdk-samples/', import.meta.url);
const sampleMeta = (name: string): Record<string, string> =>
  Object.fromEntries(Object.entries(JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as Record<string, string>).map(([k, v]) => [k.replace(/^x-oss-meta-/, ''), v]));
const GO = sampleMeta('encrypted_go_example_meta.json');
const LEGACY = sampleMeta('deprecated_encrypted_1MB_a_meta_rsa.json');

/** Asserts ERR_HEADER whose message names `field`. */
function headerError(md: Record<string, string>, field: string): EnsealError {
  let err: unknown;
  try {
    decodeOssMetadata(md);
  } catch (e) {
    err = e;
  }
  expect(err, `expected ERR_HEADER for ${field}`).toBeInstanceOf(EnsealError);
  expect((err as EnsealError).code).toBe('ERR_HEADER');
  expect((err as EnsealError).message).toContain(`"${field}"`);
  return err as EnsealError;
}
const P = 'client-side-encryption-';
const without = (md: Record<string, string>, k: string): Record<string, string> => Object.fromEntries(Object.entries(md).filter(([n]) => n !== k));

describe('OSS metadata codec: rejections (ERR_HEADER naming the field)', () => {
  it('decodes the samples, and round-trips what it encodes', () => {
    const d = decodeOssMetadata(GO)!;
    expect(d).toMatchObject({ format: 'oss', wrapAlgorithm: 'RSA/NONE/PKCS1Padding', startEncoding: 'iv', matdesc: undefined });
    expect(d.wrappedKey).toHaveLength(128);
    const l = decodeOssMetadata(LEGACY)!;
    expect(l).toMatchObject({ format: 'oss-legacy', wrapAlgorithm: 'RSA/NONE/OAEPWithSHA-1AndMGF1Padding', startEncoding: 'decimal', cekAlgLabel: 'AES/GCM/NoPadding' });
    const md = encodeOssMetadata({ wrapAlgorithm: 'KMS/ALICLOUD', wrappedKey: new Uint8Array(40).fill(1), wrappedStart: new Uint8Array(40).fill(2), matdesc: { b: '2', a: '1' }, unencryptedContentLength: 48, dataSize: 48, partSize: 32 });
    expect(md[`${P}matdesc`]).toBe('{"a":"1","b":"2"}');
    const back = decodeOssMetadata(md)!;
    expect(back).toMatchObject({ wrapAlgorithm: 'KMS/ALICLOUD', unencryptedContentLength: 48, dataSize: 48, partSize: 32, matdesc: { a: '1', b: '2' } });
    expect(decodeOssMetadata({ 'content-type': 'x' })).toBeUndefined();
    expect(detectFormat({ 'enseal-format': '1' })).toBe('enseal');
    expect(detectFormat({})).toBe('none');
  });

  it('cek-alg other than AES/CTR/NoPadding, unknown wrap algorithms (current and legacy)', () => {
    headerError({ ...GO, [`${P}cek-alg`]: 'AES/GCM/NoPadding' }, `${P}cek-alg`);
    headerError({ ...GO, [`${P}wrap-alg`]: 'RSA/ECB/OAEPWithSHA-256AndMGF1Padding' }, `${P}wrap-alg`);
    headerError({ ...GO, [`${P}wrap-alg`]: 'rsa/none/pkcs1padding' }, `${P}wrap-alg`);
    headerError({ ...LEGACY, 'oss-wrap-alg': 'aes' }, 'oss-wrap-alg');
    headerError({ ...LEGACY, 'oss-cek-alg': 'AES/CBC/PKCS5Padding' }, 'oss-cek-alg');
  });

  it('mixed: current + legacy names, OSS + enseal marker (decode and detectFormat)', () => {
    const mixed = { ...GO, 'oss-crypto-key': LEGACY['oss-crypto-key']! };
    headerError(mixed, 'oss-crypto-key');
    expect(() => detectFormat(mixed)).toThrow(/mixes the legacy Python format/);
    headerError({ ...GO, 'enseal-format': '1' }, `${P}cek-alg`);
    headerError({ ...LEGACY, 'enseal-plaintext-size': '5' }, 'oss-cek-alg');
  });

  it('partial metadata: each required field missing, and an unknown client-side-encryption-* field', () => {
    for (const k of ['key', 'start', 'cek-alg', 'wrap-alg']) headerError(without(GO, `${P}${k}`), `${P}${k}`);
    for (const k of ['oss-crypto-key', 'oss-crypto-start', 'oss-cek-alg', 'oss-wrap-alg']) headerError(without(LEGACY, k), k);
    headerError({ [`${P}unencrypted-content-length`]: '5' }, `${P}cek-alg`);
    headerError({ ...GO, [`${P}iv`]: 'AAAA' }, `${P}iv`);
  });

  it('non-canonical numbers, bad part sizes, contradicting sizes', () => {
    for (const v of ['007', '+5', '1e3', ' 5', '5 ', '-1', '0x10', '9007199254740993', '', '1.0']) headerError({ ...GO, [`${P}unencrypted-content-length`]: v }, `${P}unencrypted-content-length`);
    headerError({ ...GO, [`${P}part-size`]: '100' }, `${P}part-size`);
    headerError({ ...GO, [`${P}part-size`]: '0' }, `${P}part-size`);
    headerError({ ...GO, [`${P}data-size`]: '10', [`${P}unencrypted-content-length`]: '11' }, `${P}data-size`);
    headerError({ ...LEGACY, 'unencrypted-content-length': '01' }, 'unencrypted-content-length');
  });

  it('bad base64, oversized values (before decoding), bad MD5, bad matdesc', () => {
    headerError({ ...GO, [`${P}key`]: GO[`${P}key`]!.replace(/=+$/, '') }, `${P}key`);
    headerError({ ...GO, [`${P}start`]: GO[`${P}start`]!.replace(/\+/g, '-') }, `${P}start`);
    headerError({ ...GO, [`${P}key`]: 'A'.repeat(8193) }, `${P}key`);
    headerError({ ...GO, [`${P}key`]: 'AAAA'.repeat(1500) }, `${P}key`); // 6000 decoded bytes: over the wrapped-value bound
    headerError({ ...GO, [`${P}unencrypted-content-md5`]: 'AAAA' }, `${P}unencrypted-content-md5`);
    headerError({ ...GO, [`${P}matdesc`]: '{"a":1}' }, `${P}matdesc`);
    headerError({ ...GO, [`${P}matdesc`]: '["a"]' }, `${P}matdesc`);
    headerError({ ...GO, [`${P}matdesc`]: '{"a":' }, `${P}matdesc`);
    headerError({ ...GO, [`${P}matdesc`]: JSON.stringify({ a: 'x'.repeat(5000) }) }, `${P}matdesc`);
    headerError({ ...GO, [`${P}matdesc`]: JSON.stringify(Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']))) }, `${P}matdesc`);
  });

  it('values from the metadata are escaped in messages', () => {
    const e = headerError({ ...GO, [`${P}wrap-alg`]: 'evil\x1b[2K\r\u202eOK' }, `${P}wrap-alg`);
    expect(e.message).not.toMatch(/[\x1b\r\u202e]/);
    expect(e.message).toContain('\\x1b');
  });
});

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = (k: typeof privateKey, type: 'pkcs8' | 'spki'): string => k.export({ type, format: 'pem' }) as string;
const collect = async (s: ReadableStream<Uint8Array>): Promise<Buffer> => Buffer.from(await new Response(s).arrayBuffer());
const flipB64 = (v: string, at = 10): string => {
  const b = Buffer.from(v, 'base64');
  b[at] = b[at]! ^ 1;
  return b.toString('base64');
};

function suite(name: BackendName): void {
  const rsaBackend = name === 'webcrypto' ? { rsaBackend: 'node' as const } : {};
  const reader = (wrap: 'pkcs1' | 'oaep-sha1', key = privateKey) => ossRsaKey({ privateKey: pem(key, 'pkcs8'), legacy: true, ...(wrap === 'pkcs1' ? rsaBackend : {}) });
  const setup = async (wrap: 'pkcs1' | 'oaep-sha1', n = 100_000) => {
    const plain = pseudoRandom(n, 21);
    const sealed = await sealOssObject(plain, { recipients: [ossRsaKey({ publicKey: pem(publicKey, 'spki'), wrap })], md5: true, backend: name });
    const store = memoryStore();
    const put = async (k: string, md: Record<string, string>, body: Uint8Array = sealed.body) => {
      await store.put(k, body, { metadata: md });
      return store.head(k);
    };
    return { plain, sealed, store, put };
  };
  const open = (store: ReturnType<typeof memoryStore>, k: string, info: Awaited<ReturnType<ReturnType<typeof memoryStore>['head']>>, keys: unknown[], range?: { start: number; end?: number }) =>
    openOssObject(store, k, info, { keys, allowUnauthenticated: true, backend: name, ...(range === undefined ? {} : { range }) });

  describe(`OSS tampering at read time / ${name}`, () => {
    it('modified IV (PKCS#1): no error at unwrap (implicit rejection); the whole read fails the MD5 with ERR_AUTH; a ranged read returns wrong bytes', async () => {
      const { plain, sealed, store, put } = await setup('pkcs1');
      const info = await put('o', { ...sealed.metadata, [`${P}start`]: flipB64(sealed.metadata[`${P}start`]!) });
      const r = await open(store, 'o', info, [reader('pkcs1')]);
      await expect(collect(r.body)).rejects.toMatchObject({ code: 'ERR_AUTH' });
      const ranged = await collect((await open(store, 'o', info, [reader('pkcs1')], { start: 0, end: 99 })).body);
      expect(ranged.equals(Buffer.from(plain.subarray(0, 100)))).toBe(false);
    });

    it('modified wrapped key: OAEP → ERR_NO_KEY (cause ERR_AUTH); PKCS#1 → ERR_AUTH at the MD5, the same as a wrong private key', async () => {
      const o = await setup('oaep-sha1');
      const info = await o.put('o', { ...o.sealed.metadata, [`${P}key`]: flipB64(o.sealed.metadata[`${P}key`]!) });
      const e = await expectCode(open(o.store, 'o', info, [reader('oaep-sha1')]), 'ERR_NO_KEY');
      expect((e.errors[0] as EnsealError).code).toBe('ERR_AUTH');
      const p = await setup('pkcs1');
      const tampered = await p.put('o', { ...p.sealed.metadata, [`${P}key`]: flipB64(p.sealed.metadata[`${P}key`]!) });
      await expect(collect((await open(p.store, 'o', tampered, [reader('pkcs1')])).body)).rejects.toMatchObject({ code: 'ERR_AUTH' });
      const untouched = await p.put('u', p.sealed.metadata);
      // A wrong private key: implicit rejection gives a wrong content key (ERR_AUTH at the MD5)
      // — unless a ciphertext (the key's or the start's: two separate RSA encryptions), made under
      // the other modulus, is not below this key's modulus: then RSA itself refuses it (as every
      // SDK's RSA does), and no key claims the object.
      const asInt = (name: string) => BigInt(`0x${Buffer.from(p.sealed.metadata[`${P}${name}`]!, 'base64').toString('hex')}`);
      const nOther = BigInt(`0x${Buffer.from(other.publicKey.export({ format: 'jwk' }).n as string, 'base64url').toString('hex')}`);
      const c = asInt('key') > asInt('start') ? asInt('key') : asInt('start'); // both below nOther iff the larger is
      // (RSA's refusal comes from open(), the MD5 failure from the body: both inside the promise.)
      const wrongKey = (async () => collect((await open(p.store, 'u', untouched, [reader('pkcs1', other.privateKey)])).body))();
      await expect(wrongKey).rejects.toMatchObject({ code: c < nOther ? 'ERR_AUTH' : 'ERR_NO_KEY' });
      // A wrapped value of the wrong size for the key is not claimed at all.
      const short = await p.put('s', { ...p.sealed.metadata, [`${P}key`]: Buffer.from(p.sealed.metadata[`${P}key`]!, 'base64').subarray(1).toString('base64') });
      expect((await expectCode(open(p.store, 's', short, [reader('pkcs1')]), 'ERR_NO_KEY')).errors).toHaveLength(0);
    });

    it('MD5 mismatch: ERR_AUTH at the end, after the earlier bytes were already delivered (unauthenticated)', async () => {
      const { sealed, store, put } = await setup('oaep-sha1', 1 << 20);
      const info = await put('o', { ...sealed.metadata, [`${P}unencrypted-content-md5`]: createHash('md5').update('other').digest('base64') });
      const r = await open(store, 'o', info, [reader('oaep-sha1')]);
      expect(r.md5Checked).toBe(true);
      const rd = r.body.getReader();
      let delivered = 0;
      let error: unknown;
      for (let i = 0; i < 10_000; i++) {
        try {
          const { done, value } = await rd.read();
          if (done) break;
          delivered += value.length;
        } catch (e) {
          error = e;
          break;
        }
      }
      expect((error as EnsealError).code).toBe('ERR_AUTH');
      expect(delivered).toBe(1 << 20); // every byte went out before the check could fail
      // A ranged read does not check the MD5 at all.
      const ranged = await open(store, 'o', info, [reader('oaep-sha1')], { start: 5, end: 500 });
      expect(ranged.md5Checked).toBe(false);
      expect((await collect(ranged.body)).length).toBe(496);
    });

    it('a body bit flip fails the MD5 (whole read); a short body is ERR_TRUNCATED; a length hint that contradicts the size is ERR_HEADER', async () => {
      const { sealed, store, put } = await setup('oaep-sha1');
      const flipped = sealed.body.slice();
      flipped[500] = flipped[500]! ^ 0x80;
      const info = await put('f', sealed.metadata, flipped);
      await expect(collect((await open(store, 'f', info, [reader('oaep-sha1')])).body)).rejects.toMatchObject({ code: 'ERR_AUTH' });
      const good = await put('g', sealed.metadata);
      store.failOn(1, 'short');
      await expect(collect((await open(store, 'g', good, [reader('oaep-sha1')])).body)).rejects.toMatchObject({ code: 'ERR_TRUNCATED' });
      const lying = await put('l', { ...sealed.metadata, [`${P}unencrypted-content-length`]: String(sealed.body.length + 1) });
      await expectCode(open(store, 'l', lying, [reader('oaep-sha1')]), 'ERR_HEADER');
    });

    it('no OSS key in keys: ERR_NO_KEY saying which factories to use; ranges past the end: ERR_RANGE', async () => {
      const { sealed, store, put } = await setup('oaep-sha1', 64);
      const info = await put('o', sealed.metadata);
      const e = await expectCode(open(store, 'o', info, [{ description: 'x', wrap: async () => ({}), unwrap: async () => null }]), 'ERR_NO_KEY');
      expect(e.message).toMatch(/ossRsaKey or ossKmsKey/);
      await expectCode(open(store, 'o', info, [reader('oaep-sha1')], { start: 64 }), 'ERR_RANGE');
      await expect(open(store, 'o', info, [reader('oaep-sha1')], { start: 10, end: 5 })).rejects.toThrow(RangeError);
    });
  });
}

for (const name of BACKENDS) suite(name);
