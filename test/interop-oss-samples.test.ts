/**
 * The objects written by the real OSS SDKs (test/vectors/oss-sdk-samples, provenance in its
 * README): C++ and Go (current format, RSA/NONE/PKCS1Padding) and the deprecated Python format
 * (oss-crypto-*, RSA-OAEP-SHA-1, decimal start), stored in memoryStore() with their metadata
 * (the `x-oss-meta-` wire prefix stripped, as a store adapter does), read through
 * openOssObject whole and by every range class, on every backend.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { BackendName } from '../src/backends/backend.js';
import { memoryStore } from '../src/storage/memory.js';
import { detectFormat, openOssObject, ossRsaKey } from '../src/interop.js';
import { BACKENDS, expectCode } from './helpers.js';

const dir = new URL('./vectors/oss-sdk-samples/', import.meta.url);
const file = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, dir)));
/** The samples' metadata as a store adapter hands it over: lower case, no x-oss-meta- prefix. */
const storedMeta = (name: string): Record<string, string> => {
  const raw = JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as Record<string, string>;
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k.toLowerCase().replace(/^x-oss-meta-/, ''), v]));
};
const privatePem = readFileSync(new URL('rsa1024-private.pem', dir), 'utf8');
const example = file('example.jpg');
const aMiB = new Uint8Array(1 << 20).fill(0x61);

const SAMPLES = [
  { sdk: 'C++', data: 'encrypted_cpp_example.jpg', meta: 'encrypted_cpp_example_meta.json', plain: example, format: 'oss' },
  { sdk: 'Go', data: 'encrypted_go_example.jpg', meta: 'encrypted_go_example_meta.json', plain: example, format: 'oss' },
  { sdk: 'Python (deprecated format)', data: 'deprecated_encrypted_1MB_a_rsa', meta: 'deprecated_encrypted_1MB_a_meta_rsa.json', plain: aMiB, format: 'oss-legacy' },
] as const;

const collect = async (s: ReadableStream<Uint8Array>): Promise<Uint8Array> => new Uint8Array(await new Response(s).arrayBuffer());
const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

/** [start, end?] pairs covering every range class, for an object of n bytes. */
const rangeClasses = (n: number): [string, number, number | undefined][] => [
  ['aligned', 16 * 700, 16 * 700 + 999],
  ['unaligned start', 17, 40],
  ['1 byte', 999, 999],
  ['first byte', 0, 0],
  ['across 16-byte blocks', 15, 16],
  ['across many blocks, unaligned both ends', 5, 16 * 40 + 3],
  ['to the end (no end)', n - 37, undefined],
  ['end past the end', n - 20, n + 1000],
  ['last byte', n - 1, n - 1],
];

function suite(name: BackendName): void {
  // WebCrypto has no raw RSA: PKCS#1 v1.5 unwrap runs on node:crypto there (rsaBackend), the content on WebCrypto.
  const key = (wrapIsPkcs1: boolean) => ossRsaKey({ privateKey: privatePem, legacy: true, ...(name === 'webcrypto' && wrapIsPkcs1 ? { rsaBackend: 'node' as const } : {}) });

  describe(`OSS SDK sample objects via openOssObject / ${name}`, () => {
    for (const s of SAMPLES) {
      const pkcs1 = s.format === 'oss';
      const load = async () => {
        const store = memoryStore();
        await store.put(s.data, file(s.data), { metadata: storedMeta(s.meta) });
        return { store, info: await store.head(s.data) };
      };

      it(`${s.sdk}: detected as ${s.format}, whole object decrypts byte for byte`, async () => {
        const { store, info } = await load();
        expect(detectFormat(info.metadata)).toBe(s.format);
        const r = await openOssObject(store, s.data, info, { keys: [key(pkcs1)], allowUnauthenticated: true, backend: name });
        expect(r.size).toBe(s.plain.length);
        expect(r.md5Checked).toBe(false);
        expect(same(await collect(r.body), s.plain)).toBe(true);
      });

      it(`${s.sdk}: every range class decrypts to the same bytes of the plaintext`, async () => {
        const { store, info } = await load();
        const n = s.plain.length;
        for (const [label, start, end] of rangeClasses(n)) {
          const r = await openOssObject(store, s.data, info, { keys: [key(pkcs1)], allowUnauthenticated: true, backend: name, range: { start, ...(end === undefined ? {} : { end }) } });
          const last = Math.min(end ?? n - 1, n - 1);
          const got = await collect(r.body);
          expect(r.range, label).toEqual({ start, end: last });
          expect(got.length, label).toBe(last - start + 1);
          expect(same(got, s.plain.subarray(start, last + 1)), label).toBe(true);
        }
        await expectCode(openOssObject(store, s.data, info, { keys: [key(pkcs1)], allowUnauthenticated: true, backend: name, range: { start: n } }), 'ERR_RANGE');
      });

      it(`${s.sdk}: refused with ERR_UNAUTHENTICATED without allowUnauthenticated, and without legacy: true the key is ERR_UNSUPPORTED`, async () => {
        const { store, info } = await load();
        const before = store.stats.byOperation.get;
        const e = await expectCode(openOssObject(store, s.data, info, { keys: [key(pkcs1)], backend: name }), 'ERR_UNAUTHENTICATED');
        expect(e.message).toMatch(/allowUnauthenticated: true/);
        await expectCode(openOssObject(store, s.data, info, { keys: [key(pkcs1)], allowUnauthenticated: false, backend: name }), 'ERR_UNAUTHENTICATED');
        expect(store.stats.byOperation.get).toBe(before); // refused before any GET
        const strict = await expectCode(openOssObject(store, s.data, info, { keys: [ossRsaKey({ privateKey: privatePem })], allowUnauthenticated: true, backend: name }), 'ERR_NO_KEY');
        expect((strict.errors[0] as { code?: string }).code).toBe('ERR_UNSUPPORTED');
      });
    }

    if (name === 'webcrypto') {
      it('PKCS#1 v1.5 unwrap on WebCrypto itself is ERR_UNSUPPORTED (no raw RSA), reported inside ERR_NO_KEY', async () => {
        const store = memoryStore();
        await store.put('go', file('encrypted_go_example.jpg'), { metadata: storedMeta('encrypted_go_example_meta.json') });
        const e = await expectCode(openOssObject(store, 'go', await store.head('go'), { keys: [ossRsaKey({ privateKey: privatePem, legacy: true })], allowUnauthenticated: true, backend: name }), 'ERR_NO_KEY');
        expect((e.errors[0] as { code?: string }).code).toBe('ERR_UNSUPPORTED');
      });
    }
  });
}

for (const name of BACKENDS) suite(name);
