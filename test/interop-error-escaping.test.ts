/**
 * Object keys and metadata names come from the store (untrusted): the foreign-format paths quote
 * them in error messages only escaped (`escapeControl`), so a message never carries terminal
 * escapes, CR/LF or bidirectional overrides.
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeOssMetadata, detectFormat, ossRsaKey, putOssObject, s3ecAesKey } from '../src/interop.js';
import { encryptedBucket } from '../src/storage.js';
import { memoryStore } from '../src/storage/memory.js';
import { overlayStore } from '../src/storage/store-overlay.js';
import { caught, expectCode } from './helpers.js';

const RAW = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ossKey = ossRsaKey({ privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, legacy: true });

const EVIL_NAME = 'client-side-encryption-\u001b[2J\u001b[31mx\r\n\u202e';
const OSS_BASE = {
  'client-side-encryption-key': 'AAAA',
  'client-side-encryption-start': 'AAAA',
  'client-side-encryption-cek-alg': 'AES/CTR/NoPadding',
  'client-side-encryption-wrap-alg': 'KMS/ALICLOUD',
};

function messageOf(e: unknown): string {
  expect(e).toBeInstanceOf(Error);
  return (e as Error).message;
}

describe('untrusted keys and names are escaped in error messages', () => {
  it('openObject of an OSS object without the opt-in: the key is escaped', async () => {
    const store = memoryStore();
    const key = 'evil\u001b[2J\u001b[31mFAKE\r\nline\u202e';
    await putOssObject(store, key, new TextEncoder().encode('hello'), { recipients: [ossKey] });
    const bucket = encryptedBucket(store, { keys: [ossKey] });
    const e = await expectCode(bucket.openObject(key), 'ERR_UNAUTHENTICATED');
    expect(RAW.test(e.message), JSON.stringify(e.message)).toBe(false);
    expect(e.message).toContain('evil\\x1b[2J\\x1b[31mFAKE\\r\\nline\\u202e');
    // getObject already escaped it: the two agree.
    const g = await expectCode(bucket.getObject(key), 'ERR_UNAUTHENTICATED');
    expect(RAW.test(g.message)).toBe(false);
  });

  it('decodeOssMetadata: an unknown client-side-encryption-* name is escaped', () => {
    let e: unknown;
    try {
      decodeOssMetadata({ ...OSS_BASE, [EVIL_NAME]: 'v' });
    } catch (x) {
      e = x;
    }
    const m = messageOf(e);
    expect((e as { code?: string }).code).toBe('ERR_HEADER');
    expect(RAW.test(m), JSON.stringify(m)).toBe(false);
    expect(m).toContain('client-side-encryption-\\x1b[2J');
  });

  it('detectFormat: an OSS name next to an enseal marker is escaped', () => {
    let e: unknown;
    try {
      detectFormat({ [EVIL_NAME]: 'v', 'enseal-v': '1' });
    } catch (x) {
      e = x;
    }
    const m = messageOf(e);
    expect((e as { code?: string }).code).toBe('ERR_HEADER');
    expect(RAW.test(m), JSON.stringify(m)).toBe(false);
  });

  it('headObject through a store that returns such a name', async () => {
    const inner = memoryStore();
    await inner.put('k', new Uint8Array(10), { metadata: OSS_BASE });
    const add = <T extends { metadata: Record<string, string> }>(r: T): T => ({ ...r, metadata: { ...r.metadata, [EVIL_NAME]: 'v' } });
    const store = overlayStore(inner, { head: async (k, o) => add(await inner.head(k, o)), get: async (k, o) => add(await inner.get(k, o)) });
    const e = await caught(encryptedBucket(store, { keys: [s3ecAesKey({ key: new Uint8Array(32) })] }).headObject('k'));
    const m = messageOf(e);
    expect((e as { code?: string }).code).toBe('ERR_HEADER');
    expect(RAW.test(m), JSON.stringify(m)).toBe(false);
  });
});
