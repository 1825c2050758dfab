/**
 * `openObject` of an S3EC object whose fields live in `<key>.instruction`: the reader describes
 * the object once, at open, and every later `read()` / `verifiedSize()` uses that description.
 * An instruction file swapped after open (for an AES-CBC description, which has no integrity) must not change how a read decrypts, nor let `verifiedSize()` "verify" a CBC read.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { putS3ecObject, s3ecAesKey } from '../src/interop.js';
import { encryptedBucket, type EncryptedBucket } from '../src/storage.js';
import { InteropObjectReader } from '../src/storage/bucket-interop-read.js';
import { memoryStore } from '../src/storage/memory.js';
import { overlayStore } from '../src/storage/store-overlay.js';
import type { ObjectStore } from '../src/storage/store.js';
import { expectCode } from './helpers.js';

const collect = async (s: ReadableStream<Uint8Array>): Promise<Uint8Array> => new Uint8Array(await new Response(s).arrayBuffer());
const MARK = { 'x-amz-crypto-instr-file': '' };

/** The instruction file of a V2 AES-GCM object relabelled AES-CBC (refused or garbage when read). */
function asCbc(file: Record<string, string>, iv: Uint8Array): Record<string, string> {
  const { 'x-amz-tag-len': _t, 'x-amz-unencrypted-content-length': _l, ...rest } = file;
  return { ...rest, 'x-amz-cek-alg': 'AES/CBC/PKCS5Padding', 'x-amz-iv': Buffer.from(iv).toString('base64') };
}

/**
 * An empty V2 AES-GCM object `o` with an instruction file: its body is the 16-byte tag, one AES
 * block. `cbcFile` is a V1 (AESWrap, AES-CBC: no integrity) description of that same body under
 * another data key and an IV chosen so that the block decrypts to "EVIL" + valid padding.
 */
async function gcmWithCbcFile(): Promise<{ store: ObjectStore; k: ReturnType<typeof s3ecAesKey>; cbcFile: Record<string, string> }> {
  const kek = new Uint8Array(randomBytes(32));
  const k = s3ecAesKey({ key: kek });
  const store = memoryStore();
  await putS3ecObject(store, 'o', new Uint8Array(0), { recipients: [k], version: 2, instructionFile: true });
  const body = await collect((await store.get('o')).body);
  expect(body.length).toBe(16);
  const dataKey = randomBytes(32);
  const d = createDecipheriv('aes-256-ecb', dataKey, null).setAutoPadding(false);
  const block = Buffer.concat([d.update(body), d.final()]);
  const wanted = Buffer.concat([Buffer.from('EVIL'), Buffer.alloc(12, 12)]);
  const iv = Buffer.from(block.map((x, i) => x ^ wanted[i]!));
  const w = createCipheriv('id-aes256-wrap', kek, Buffer.from('A6A6A6A6A6A6A6A6', 'hex'));
  const cbcFile = { 'x-amz-key': Buffer.concat([w.update(dataKey), w.final()]).toString('base64'), 'x-amz-iv': iv.toString('base64'), 'x-amz-matdesc': '{}', 'x-amz-wrap-alg': 'AESWrap' };
  return { store, k, cbcFile };
}

/** `openObject`, which must answer an {@link InteropObjectReader}. */
async function openInterop(bucket: EncryptedBucket, key: string): Promise<InteropObjectReader> {
  const r = await bucket.openObject(key);
  expect(r).toBeInstanceOf(InteropObjectReader);
  return r as InteropObjectReader;
}

/** Counts the GETs of each key. */
function counting(store: ObjectStore): { store: ObjectStore; gets: Map<string, number> } {
  const gets = new Map<string, number>();
  const get: ObjectStore['get'] = (k, o) => {
    gets.set(k, (gets.get(k) ?? 0) + 1);
    return store.get(k, o);
  };
  return { gets, store: overlayStore(store, { get }) };
}

describe('openObject pins the instruction file it was opened with', () => {
  it('a GCM object whose file is swapped for a CBC one after open: reads stay authenticated GCM', async () => {
    const { store, k, cbcFile } = await gcmWithCbcFile();

    const bucket = encryptedBucket(store, { keys: [k], allowUnauthenticated: true });
    const reader = await openInterop(bucket, 'o');
    expect(reader.format).toBe('s3ec-v2');
    expect(reader.authenticated).toBe(true);
    expect(reader.size).toBe(0);

    await store.put('o.instruction', new TextEncoder().encode(JSON.stringify(cbcFile)), { metadata: MARK });
    // A fresh open sees the swapped file (and reports it honestly as unauthenticated CBC).
    const fresh = await openInterop(bucket, 'o');
    expect(fresh.format).toBe('s3ec-v1');
    expect(fresh.authenticated).toBe(false);
    expect(Buffer.from(await fresh.readBytes()).toString()).toBe('EVIL');
    // The reader opened before the swap: without the pin, "EVIL" and a "verified" size of 4.
    expect((await reader.readBytes()).length).toBe(0);
    expect(await reader.verifiedSize()).toBe(0);
    expect(reader.sizeVerified).toBe(true);
    expect(reader.authenticated).toBe(true);
  });

  it('a non-empty object: reads after a swap still decrypt the original plaintext', async () => {
    const k = s3ecAesKey({ key: new Uint8Array(randomBytes(32)) });
    const store = memoryStore();
    const plain = new Uint8Array(randomBytes(112));
    await putS3ecObject(store, 'o', plain, { recipients: [k], version: 2, instructionFile: true });
    const file = JSON.parse(Buffer.from(await collect((await store.get('o.instruction')).body)).toString()) as Record<string, string>;
    const reader = await openInterop(encryptedBucket(store, { keys: [k], allowUnauthenticated: true }), 'o');
    await store.put('o.instruction', new TextEncoder().encode(JSON.stringify(asCbc(file, new Uint8Array(16)))), { metadata: MARK });
    expect(Buffer.from(await reader.readBytes()).equals(Buffer.from(plain))).toBe(true);
    expect(Buffer.from(await reader.readBytes({ start: 10, end: 41 })).equals(Buffer.from(plain.subarray(10, 42)))).toBe(true);
    expect(await reader.verifiedSize()).toBe(112);
  });

  it('a reader over an unpinned store refuses a read that no longer matches its description', async () => {
    const { store, k, cbcFile } = await gcmWithCbcFile();
    // Built directly on the raw store (no pin): every read re-reads <key>.instruction.
    const reader = new InteropObjectReader(store, 'o', await store.head('o'), 'none', 's3ec-v2', undefined, { keys: [k], allowUnauthenticated: true });
    expect(reader.authenticated).toBe(true);
    await store.put('o.instruction', new TextEncoder().encode(JSON.stringify(cbcFile)), { metadata: MARK });
    await expectCode(reader.readBytes(), 'ERR_STORE');
    await expectCode(reader.readBytes({ start: 0 }), 'ERR_STORE');
    await expectCode(reader.verifiedSize(), 'ERR_STORE');
    expect(reader.sizeVerified).toBe(false);
  });

  it('reads do not GET the instruction file again (V2 and V3)', async () => {
    for (const version of [2, 3] as const) {
      const k = s3ecAesKey({ key: new Uint8Array(randomBytes(32)) });
      const c = counting(memoryStore());
      const plain = new Uint8Array(randomBytes(40));
      await putS3ecObject(c.store, 'o', plain, { recipients: [k], version, instructionFile: true });
      const reader = await openInterop(encryptedBucket(c.store, { keys: [k], allowUnauthenticated: true }), 'o');
      const atOpen = c.gets.get('o.instruction') ?? 0;
      expect(atOpen).toBeGreaterThan(0);
      expect(Buffer.from(await reader.readBytes()).equals(Buffer.from(plain))).toBe(true);
      expect(Buffer.from(await reader.readBytes({ start: 3, end: 20 })).equals(Buffer.from(plain.subarray(3, 21)))).toBe(true);
      expect(await reader.verifiedSize()).toBe(40);
      expect(c.gets.get('o.instruction')).toBe(atOpen);
    }
  });
});
