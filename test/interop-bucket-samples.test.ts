/**
 * The objects written by the real OSS SDKs (test/vectors/oss-sdk-samples, copied from
 * ../shared/vectors/oss-sdk-samples: C++ and Go current format, Python deprecated format),
 * stored in memoryStore() with their sample metadata and read through the encrypting bucket
 * (format detection, dispatch, the safety switch), whole and by every range class, on every
 * backend; the enseal path's request count is unchanged next to them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { BackendName } from '../src/backends/backend.js';
import { aesKey } from '../src/index.js';
import { ossRsaKey } from '../src/interop.js';
import { encryptedBucket } from '../src/storage.js';
import { memoryStore } from '../src/storage/memory.js';
import { BACKENDS, expectCode, pseudoRandom } from './helpers.js';

const dir = new URL('./vectors/oss-sdk-samples/', import.meta.url);
const file = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, dir)));
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
  const key = (pkcs1: boolean) => ossRsaKey({ privateKey: privatePem, legacy: true, ...(name === 'webcrypto' && pkcs1 ? { rsaBackend: 'node' as const } : {}) });

  describe(`OSS SDK samples through encryptedBucket(memoryStore()) / ${name}`, () => {
    for (const s of SAMPLES) {
      const pkcs1 = s.format === 'oss';
      const load = async (allowUnauthenticated?: boolean) => {
        const store = memoryStore();
        await store.put(s.data, file(s.data), { metadata: storedMeta(s.meta) });
        const bucket = encryptedBucket(store, { keys: [key(pkcs1)], backend: name, ...(allowUnauthenticated === undefined ? {} : { allowUnauthenticated }) });
        return { store, bucket };
      };

      it(`${s.sdk}: detected as ${s.format}; the whole object decrypts to the plaintext byte for byte, reported unauthenticated`, async () => {
        const { bucket } = await load(true);
        const r = await bucket.getObject(s.data);
        expect(r.format).toBe(s.format);
        expect(r.authenticated).toBe(false);
        expect(r.size).toBe(s.plain.length);
        expect(same(await collect(r.body), s.plain)).toBe(true);
        await expectCode(r.verifiedSize(), 'ERR_UNAUTHENTICATED');
      });

      it(`${s.sdk}: every range class, by getObject and by an openObject reader`, async () => {
        const { bucket } = await load(true);
        const n = s.plain.length;
        const reader = await bucket.openObject(s.data);
        for (const [label, start, end] of rangeClasses(n)) {
          const range = { start, ...(end === undefined ? {} : { end }) };
          const r = await bucket.getObject(s.data, { range });
          const last = Math.min(end ?? n - 1, n - 1);
          expect(r.range, label).toEqual({ start, end: last });
          expect(r.format, label).toBe(s.format);
          expect(same(await collect(r.body), s.plain.subarray(start, last + 1)), label).toBe(true);
          expect(same(await reader.readBytes(range), s.plain.subarray(start, last + 1)), label).toBe(true);
        }
        await expectCode(bucket.getObject(s.data, { range: { start: n } }), 'ERR_RANGE');
        reader.close();
        await expectCode(reader.readBytes({ start: 0, end: 1 }), 'ERR_STATE');
      });

      it(`${s.sdk}: refused with ERR_UNAUTHENTICATED without the opt-in (bucket default), per call opt-in and opt-out override the bucket`, async () => {
        const { bucket } = await load();
        await expectCode(bucket.getObject(s.data), 'ERR_UNAUTHENTICATED');
        await expectCode(bucket.getObject(s.data, { range: { start: 0, end: 9 } }), 'ERR_UNAUTHENTICATED');
        await expectCode(bucket.openObject(s.data), 'ERR_UNAUTHENTICATED');
        const ok = await bucket.getObject(s.data, { allowUnauthenticated: true, range: { start: 3, end: 20 } });
        expect(same(await collect(ok.body), s.plain.subarray(3, 21))).toBe(true);
        const { bucket: open } = await load(true);
        await expectCode(open.getObject(s.data, { allowUnauthenticated: false }), 'ERR_UNAUTHENTICATED');
      });
    }
  });
}

for (const name of BACKENDS) suite(name);

describe('detection next to enseal objects', () => {
  it('an enseal object in the same bucket still costs at most 2 requests for a range, and a mixed-metadata object is ERR_HEADER', async () => {
    const store = memoryStore();
    const k = aesKey({ id: 'k', key: new Uint8Array(32).fill(7) });
    const bucket = encryptedBucket(store, { recipients: [k], keys: [k, ossRsaKey({ privateKey: privatePem, legacy: true })], allowUnauthenticated: true });
    const plain = pseudoRandom(200_000, 3);
    await bucket.putObject('e.bin', plain);
    const cold = encryptedBucket(store, { keys: [k] });
    store.resetStats();
    const r = await cold.getObject('e.bin', { range: { start: 70_000, end: 70_999 } });
    expect(same(await collect(r.body), plain.subarray(70_000, 71_000))).toBe(true);
    expect(r.format).toBe('enseal');
    expect(r.authenticated).toBe(true);
    expect(store.stats.requests).toBeLessThanOrEqual(2);
    // OSS names copied onto an enseal object: mixed.
    const go = storedMeta('encrypted_go_example_meta.json');
    const stored = store.peek('e.bin');
    expect(stored).toBeDefined();
    await store.put('mixed.bin', (await store.get('e.bin')).body, { metadata: { ...go, 'enseal-format': '1' }, contentLength: (await store.head('e.bin')).size });
    await expectCode(bucket.getObject('mixed.bin'), 'ERR_HEADER');
    await expectCode(bucket.headObject('mixed.bin'), 'ERR_HEADER');
    // OSS body under OSS names plus S3EC names: mixed too.
    await store.put('mixed2.bin', file('encrypted_go_example.jpg'), { metadata: { ...go, 'x-amz-key-v2': 'AAAA', 'x-amz-iv': 'AAAA' } });
    await expectCode(bucket.getObject('mixed2.bin'), 'ERR_HEADER');
    // A plain object with no metadata keeps the enseal error.
    await store.put('plain.txt', new TextEncoder().encode('just text, no encryption'));
    await expectCode(bucket.getObject('plain.txt'), 'ERR_HEADER');
  });
});
