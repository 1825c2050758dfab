/**
 * Objects written by the Alibaba Cloud OSS SDKs' client-side encryption (test/vectors/oss-sdk-samples,
 * see its README): the content key and counter block are RSA-wrapped with the published 1024-bit
 * test key, the content is AES-256-CTR. We unwrap with our own RSA code (PKCS#1 v1.5 with implicit
 * rejection for the C++/Go objects, RSA-OAEP-SHA-1 for the deprecated Python one), decrypt with the
 * backend's aesCtr, and require the original bytes exactly. Then the same wrapped key is carried
 * into an enseal object as a legacy `rsa-pkcs1` stanza, which rsaKey reads.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { BackendName, CryptoBackend } from '../src/backends/backend.js';
import { getBackend } from '../src/backends/select.js';
import { rsaesPkcs1v15DecryptImplicit } from '../src/keys/rsa-pkcs1.js';
import { RSA_PKCS1_STANZA, rsaKey } from '../src/keys/rsa.js';
import { decrypt, encrypt, inspect, type KeyProvider } from '../src/index.js';
import { BACKENDS, expectCode, toHex } from './helpers.js';

const dir = new URL('./vectors/oss-sdk-samples/', import.meta.url);
const file = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, dir)));
const meta = (name: string): Record<string, string> => JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as Record<string, string>;
const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
const sha256 = async (b: Uint8Array): Promise<string> => toHex(await getBackend('node').digest('SHA-256', b));

const privatePem = readFileSync(new URL('rsa1024-private.pem', dir), 'utf8'); // PKCS#1 "RSA PRIVATE KEY"
const publicPem = readFileSync(new URL('rsa1024-public.pem', dir), 'utf8'); // PKCS#1 "RSA PUBLIC KEY"
const example = file('example.jpg');

const SAMPLES = [
  { sdk: 'C++', data: 'encrypted_cpp_example.jpg', meta: 'encrypted_cpp_example_meta.json' },
  { sdk: 'Go', data: 'encrypted_go_example.jpg', meta: 'encrypted_go_example_meta.json' },
] as const;
const PREFIX = 'x-oss-meta-client-side-encryption-';

it('sample files are the documented ones', async () => {
  expect(example).toHaveLength(21839);
  expect(await sha256(example)).toBe('a2be45fe15e5b84f542a139d0f20bbc57c12ae7dc9e71e9629d85c88a06656a5');
  for (const s of SAMPLES) {
    const m = meta(s.meta);
    expect(m[`${PREFIX}cek-alg`]).toBe('AES/CTR/NoPadding');
    expect(m[`${PREFIX}wrap-alg`]).toBe('RSA/NONE/PKCS1Padding');
    expect(file(s.data)).toHaveLength(example.length); // CTR: no expansion
    expect(toHex(file(s.data))).not.toBe(toHex(example));
  }
  expect(file('deprecated_encrypted_1MB_a_rsa')).toHaveLength(1 << 20);
});

/** Unwraps the content key and counter block of a C++/Go sample (node: raw RSA + implicit rejection). */
async function unwrapSample(m: Record<string, string>): Promise<{ key: Uint8Array; counter: Uint8Array }> {
  const node = getBackend('node');
  const rsa = await node.importRsaKey(privatePem, 'private');
  expect(rsa.modulusLengthInBits).toBe(1024);
  const key = await rsaesPkcs1v15DecryptImplicit(node, rsa, b64(m[`${PREFIX}key`]!));
  const counter = await rsaesPkcs1v15DecryptImplicit(node, rsa, b64(m[`${PREFIX}start`]!));
  return { key, counter };
}

function ossSuite(name: BackendName): void {
  const b = (): CryptoBackend => getBackend(name);

  describe(`OSS SDK objects / ${name}`, () => {
    for (const s of SAMPLES) {
      it(`${s.sdk}: PKCS#1 v1.5 unwrap of key and counter block, then AES-256-CTR gives example.jpg byte for byte`, async () => {
        const m = meta(s.meta);
        if (name === 'webcrypto') {
          const rsa = await b().importRsaKey(privatePem, 'private');
          await expectCode(rsaesPkcs1v15DecryptImplicit(b(), rsa, b64(m[`${PREFIX}key`]!)), 'ERR_UNSUPPORTED'); // no raw RSA
        }
        const { key, counter } = await unwrapSample(m);
        expect(key).toHaveLength(32); // AES-256 content key
        expect(counter).toHaveLength(16); // the full initial counter block
        expect(toHex(counter.subarray(8, 12))).toBe('00000000'); // writers keep bytes 8..11 zero (README)
        // The fixed-length mode gives the same values for these (valid) ciphertexts.
        const node = getBackend('node');
        const rsa = await node.importRsaKey(privatePem, 'private');
        expect(toHex(await rsaesPkcs1v15DecryptImplicit(node, rsa, b64(m[`${PREFIX}key`]!), 32))).toBe(toHex(key));
        expect(toHex(await rsaesPkcs1v15DecryptImplicit(node, rsa, b64(m[`${PREFIX}start`]!), 16))).toBe(toHex(counter));
        const plain = await b().aesCtr(key, counter, file(s.data));
        expect(plain).toHaveLength(example.length);
        expect(Buffer.compare(Buffer.from(plain), Buffer.from(example))).toBe(0);
        // A ranged read the SDK way: align down to 16, add start/16 to the counter.
        const from = 16 * 700;
        const c = BigInt(`0x${toHex(counter)}`) + BigInt(from / 16);
        const counterAt = new Uint8Array(Buffer.from(c.toString(16).padStart(32, '0'), 'hex'));
        const part = await b().aesCtr(key, counterAt, file(s.data).subarray(from, from + 1000));
        expect(toHex(part)).toBe(toHex(example.subarray(from, from + 1000)));
      });
    }

    it('deprecated Python SDK object: RSA-OAEP-SHA1 unwrap, ASCII decimal start, AES-256-CTR gives 1 MiB of "a"', async () => {
      const m = meta('deprecated_encrypted_1MB_a_meta_rsa.json');
      expect(m['x-oss-meta-oss-wrap-alg']).toBe('rsa');
      // The header says "AES/GCM/NoPadding", but these SDK versions wrote AES-CTR (README); the
      // result below is the proof.
      expect(m['x-oss-meta-oss-cek-alg']).toBe('AES/GCM/NoPadding');
      const rsa = await b().importRsaKey(privatePem, 'private');
      const key = await b().rsaOaepDecrypt(rsa, 'SHA-1', b64(m['x-oss-meta-oss-crypto-key']!));
      expect(key).toHaveLength(32);
      const start = new TextDecoder().decode(await b().rsaOaepDecrypt(rsa, 'SHA-1', b64(m['x-oss-meta-oss-crypto-start']!)));
      expect(start).toMatch(/^[0-9]+$/);
      const counter = new Uint8Array(Buffer.from(BigInt(start).toString(16).padStart(32, '0'), 'hex')); // 128-bit big-endian
      const plain = await b().aesCtr(key, counter, file('deprecated_encrypted_1MB_a_rsa'));
      expect(plain).toHaveLength(1 << 20);
      expect(plain.every((x) => x === 0x61)).toBe(true);
      // Wrong counter (the decimal read as a raw byte string) does not give the plaintext.
      const wrong = await b().aesCtr(key, new Uint8Array(16).fill(start.charCodeAt(0)), file('deprecated_encrypted_1MB_a_rsa').subarray(0, 64));
      expect(wrong.every((x) => x === 0x61)).toBe(false);
    });

    it('an OSS-wrapped content key carried into an enseal object as an rsa-pkcs1 stanza: rsaKey reads it with legacy: true (1024-bit), refuses it without', async () => {
      const m = meta('encrypted_go_example_meta.json');
      const { key } = await unwrapSample(m);
      const reader = rsaKey({ privateKey: privatePem, legacy: true });
      const keyId = await reader.keyId(b());
      expect(await rsaKey({ publicKey: publicPem }).keyId(b())).toBe(keyId); // PKCS#1 public PEM, same id
      // An importer that re-uses the SDK's wrapped key: the content key becomes the data key.
      const importer: KeyProvider = {
        description: 'oss-import',
        async generateDataKey() {
          return { dataKey: key.slice(), stanza: { type: RSA_PKCS1_STANZA, keyId, params: {}, wrapped: b64(m[`${PREFIX}key`]!) } };
        },
        async wrap() {
          throw new Error('unused');
        },
        async unwrap() {
          return null;
        },
      };
      const sealed = await encrypt(example, { recipients: [importer], context: { source: 'oss' }, backend: name });
      expect(inspect(sealed).recipients[0]).toMatchObject({ type: RSA_PKCS1_STANZA, keyId, wrappedKeyLength: 128 });
      // Without the opt-in: the reader's own stanza, refused with a typed error naming the option.
      const strict = await expectCode(decrypt(sealed, { keys: [rsaKey({ privateKey: privatePem })], backend: name }), 'ERR_NO_KEY');
      expect(strict.errors).toHaveLength(1);
      expect((strict.errors[0] as Error & { code: string }).code).toBe('ERR_UNSUPPORTED');
      expect((strict.errors[0] as Error).message).toMatch(/legacy: true.*--legacy/);
      if (name === 'webcrypto') {
        const e = await expectCode(decrypt(sealed, { keys: [reader], backend: name }), 'ERR_NO_KEY');
        expect((e.errors[0] as Error & { code: string }).code).toBe('ERR_UNSUPPORTED');
        return;
      }
      const plain = await decrypt(sealed, { keys: [reader], backend: name });
      expect(Buffer.compare(Buffer.from(plain), Buffer.from(example))).toBe(0);
      await expect(encrypt(example, { recipients: [reader], backend: name })).rejects.toThrow(RangeError); // 1024 bits: never for writing
    });
  });
}

for (const name of BACKENDS) ossSuite(name);
