/**
 * `bucket.convertObject(key, { to: 'enseal' })`: OSS (current, legacy sample, multipart-sized)
 * and S3EC (V2/V3, metadata and instruction file) objects become enseal objects under the same
 * key; the opt-in is required for unauthenticated content; an MD5 or GCM-tag mismatch is found
 * before the new object is visible (single PUT and multipart) and leaves the old object intact;
 * and with a fault injected at every request k (every fault kind), the key always holds either
 * the whole old object (with its instruction file) or the whole new one — never neither, never
 * a half.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EnsealError, aesKey } from '../src/index.js';
import { ossRsaKey, putOssObject, putS3ecObject, s3ecAesKey } from '../src/interop.js';
import { encryptedBucket } from '../src/storage.js';
import { memoryStore, type MemoryFault, type MemoryStore } from '../src/storage/memory.js';
import { expectCode, pseudoRandom } from './helpers.js';

const dir = new URL('./vectors/oss-sdk-samples/', import.meta.url);
const samplePem = readFileSync(new URL('rsa1024-private.pem', dir), 'utf8');
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const ossKey = ossRsaKey({ privateKey: privatePem, legacy: true });
const s3Key = s3ecAesKey({ key: new Uint8Array(pseudoRandom(32, 4)) });
const target = aesKey({ id: 'new', key: new Uint8Array(pseudoRandom(32, 5)) });

const collect = async (s: ReadableStream<Uint8Array>): Promise<Uint8Array> => new Uint8Array(await new Response(s).arrayBuffer());
const same = (a: Uint8Array | undefined, b: Uint8Array): boolean => a !== undefined && a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

/** Small multipart limits so that 40 KiB objects go up in 16 KiB parts. */
const newStore = (): MemoryStore => memoryStore({ multipart: { minPartSize: 16 }, hangMs: 20 });
const bucketOf = (store: MemoryStore, allow = true) =>
  encryptedBucket(store, { recipients: [target], keys: [target, ossKey, s3Key, ossRsaKey({ privateKey: samplePem, legacy: true })], allowUnauthenticated: allow, partSize: 16 * 1024, multipartThreshold: 16 * 1024, retry: { retries: 0 } });

type Source = { name: string; plain: Uint8Array; instruction: boolean; verified: 'gcm-tag' | 'md5' | 'nothing'; make(store: MemoryStore): Promise<void> };
const SOURCES: Source[] = [
  { name: 'OSS, small, with MD5', plain: pseudoRandom(5000, 1), instruction: false, verified: 'md5', make: (s) => putOssObject(s, 'obj', pseudoRandom(5000, 1), { recipients: [ossKey], md5: true }).then(() => undefined) },
  { name: 'OSS, 40 KiB (multipart enseal write), with MD5', plain: pseudoRandom(40 * 1024 + 3, 2), instruction: false, verified: 'md5', make: (s) => putOssObject(s, 'obj', pseudoRandom(40 * 1024 + 3, 2), { recipients: [ossKey], md5: true }).then(() => undefined) },
  { name: 'OSS, no MD5', plain: pseudoRandom(777, 3), instruction: false, verified: 'nothing', make: (s) => putOssObject(s, 'obj', pseudoRandom(777, 3), { recipients: [ossKey] }).then(() => undefined) },
  { name: 'S3EC V2, instruction file', plain: pseudoRandom(3000, 4), instruction: true, verified: 'gcm-tag', make: (s) => putS3ecObject(s, 'obj', pseudoRandom(3000, 4), { recipients: [s3Key], version: 2, instructionFile: true }).then(() => undefined) },
  { name: 'S3EC V3, instruction file, 40 KiB', plain: pseudoRandom(40 * 1024, 5), instruction: true, verified: 'gcm-tag', make: (s) => putS3ecObject(s, 'obj', pseudoRandom(40 * 1024, 5), { recipients: [s3Key], version: 3, instructionFile: true }).then(() => undefined) },
  { name: 'S3EC V3, metadata', plain: pseudoRandom(100, 6), instruction: false, verified: 'gcm-tag', make: (s) => putS3ecObject(s, 'obj', pseudoRandom(100, 6), { recipients: [s3Key], metadata: { owner: 'ana' } }).then(() => undefined) },
];

describe('convertObject to enseal', () => {
  for (const src of SOURCES) {
    it(`${src.name}: converted in place, authenticated afterwards, instruction file gone`, async () => {
      const store = newStore();
      await src.make(store);
      const bucket = bucketOf(store);
      const r = await bucket.convertObject('obj', { to: 'enseal' });
      expect(r.converted).toBe(true);
      expect(r.verified).toBe(src.verified);
      expect(r.instructionFileRemoved).toBe(src.instruction);
      expect(store.peek('obj.instruction')).toBeUndefined();
      const only = encryptedBucket(store, { keys: [target] });
      const got = await only.getObject('obj');
      expect(got.format).toBe('enseal');
      expect(got.authenticated).toBe(true);
      expect(same(await collect(got.body), src.plain)).toBe(true);
      expect((await only.headObject('obj')).format).toBe('enseal');
      // A second conversion is a no-op.
      expect((await bucket.convertObject('obj', { to: 'enseal' })).converted).toBe(false);
    });
  }

  it('the OSS SDK sample (legacy Python format, 1 MiB) converts; without the opt-in it is ERR_UNAUTHENTICATED and untouched', async () => {
    const store = newStore();
    const meta = JSON.parse(readFileSync(new URL('deprecated_encrypted_1MB_a_meta_rsa.json', dir), 'utf8')) as Record<string, string>;
    const body = new Uint8Array(readFileSync(new URL('deprecated_encrypted_1MB_a_rsa', dir)));
    await store.put('obj', body, { metadata: Object.fromEntries(Object.entries(meta).map(([k, v]) => [k.toLowerCase().replace(/^x-oss-meta-/, ''), v])) });
    await expectCode(bucketOf(store, false).convertObject('obj', { to: 'enseal' }), 'ERR_UNAUTHENTICATED');
    expect(same(store.peek('obj'), body)).toBe(true);
    const r = await bucketOf(store, false).convertObject('obj', { to: 'enseal', allowUnauthenticated: true });
    expect(r.from).toBe('oss-legacy');
    const got = await encryptedBucket(store, { keys: [target] }).getObject('obj');
    expect(same(await collect(got.body), new Uint8Array(1 << 20).fill(0x61))).toBe(true);
  });

  for (const big of [false, true]) {
    it(`an MD5 mismatch (${big ? 'multipart' : 'single PUT'} write) is ERR_AUTH before anything is visible: the old object stays, no upload is left`, async () => {
      const store = newStore();
      const plain = pseudoRandom(big ? 40 * 1024 : 4000, 9);
      await putOssObject(store, 'obj', plain, { recipients: [ossKey], md5: true });
      const info = await store.head('obj');
      const tampered = store.peek('obj')!.slice();
      tampered[tampered.length - 3]! ^= 1; // the last part: the first parts may already be uploaded
      await store.put('obj', tampered, { metadata: info.metadata });
      await expectCode(bucketOf(store).convertObject('obj', { to: 'enseal' }), 'ERR_AUTH');
      expect(same(store.peek('obj'), tampered)).toBe(true);
      expect((await store.head('obj')).metadata).toEqual(info.metadata);
      expect(store.pendingUploads().length).toBe(0);
    });
  }

  it('an S3EC tag mismatch is ERR_AUTH, nothing is written, the instruction file stays', async () => {
    const store = newStore();
    await putS3ecObject(store, 'obj', pseudoRandom(2000, 10), { recipients: [s3Key], version: 2, instructionFile: true });
    const bytes = store.peek('obj')!.slice();
    bytes[5]! ^= 0x80;
    await store.put('obj', bytes, { metadata: (await store.head('obj')).metadata });
    store.resetStats();
    await expectCode(bucketOf(store).convertObject('obj', { to: 'enseal' }), 'ERR_AUTH');
    expect(same(store.peek('obj'), bytes)).toBe(true);
    expect(store.peek('obj.instruction')).toBeDefined();
    expect(store.stats.byOperation.put + store.stats.byOperation.createMultipart + store.stats.byOperation.delete).toBe(0);
  });

  it('a plain object is ERR_HEADER, an enseal object is left alone', async () => {
    const store = newStore();
    await store.put('plain', new Uint8Array(10));
    await expectCode(bucketOf(store).convertObject('plain', { to: 'enseal' }), 'ERR_HEADER');
    await expect(bucketOf(store).convertObject('plain', { to: 'oss' as 'enseal' })).rejects.toThrow(TypeError);
  });
});

describe('convertObject is atomic under faults at every request', () => {
  const KINDS: MemoryFault[] = ['throw', 'short', 'timeout', 'other'];
  for (const src of SOURCES.filter((s) => s.name.includes('40 KiB') || s.name.includes('V2'))) {
    it(`${src.name}: old object whole, or new object whole, never neither`, async () => {
      // How many requests a clean conversion takes.
      const clean = newStore();
      await src.make(clean);
      clean.resetStats();
      await bucketOf(clean).convertObject('obj', { to: 'enseal' });
      const total = clean.stats.requests;
      expect(total).toBeGreaterThan(3);
      let sawOld = 0;
      let sawNew = 0;
      for (const kind of KINDS) {
        for (let k = 1; k <= total + 1; k++) {
          const store = newStore();
          await src.make(store);
          await store.put('decoy', pseudoRandom(50, 99)); // what an 'other' fault serves
          const oldBytes = store.peek('obj')!.slice();
          const oldMeta = (await store.head('obj')).metadata;
          store.failOn(k, kind, { otherKey: 'decoy' });
          const outcome = await bucketOf(store)
            .convertObject('obj', { to: 'enseal' })
            .then((r) => r, (e: unknown) => e);
          const label = `${kind} at request ${k}/${total}`;
          store.clearFaults(); // a fault past the last request must not hit the checks below
          const now = store.peek('obj');
          if (same(now, oldBytes)) {
            sawOld++;
            expect((await store.head('obj')).metadata, label).toEqual(oldMeta);
            if (src.instruction) expect(store.peek('obj.instruction'), label).toBeDefined(); // removed only at the end
            expect(outcome, label).toBeInstanceOf(Error);
          } else {
            sawNew++;
            const got = await encryptedBucket(store, { keys: [target] }).getObject('obj');
            expect(got.format, label).toBe('enseal');
            expect(same(await collect(got.body), src.plain), label).toBe(true);
            if (!(outcome instanceof Error) && (outcome as { instructionFileRemoved: boolean }).instructionFileRemoved) expect(store.peek('obj.instruction'), label).toBeUndefined();
            if (outcome instanceof EnsealError) expect(src.instruction, label).toBe(false); // only a failed (reported) delete may remain
          }
          expect(store.pendingUploads().length, label).toBe(0);
        }
      }
      expect(sawOld).toBeGreaterThan(0);
      expect(sawNew).toBeGreaterThan(0);
    }, 120_000);
  }
});
