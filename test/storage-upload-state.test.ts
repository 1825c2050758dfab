/**
 * The saved state of a resumable upload is not trusted: it lives in a file or store the caller
 * picks, and it holds nothing secret. A resume must not let whoever can write it choose what is
 * sealed under which key and nonces (the record MAC, src/storage/upload-state-mac.ts), nor make
 * enseal allocate what it says (the layout bound), and a part is recorded before it is sent, so a
 * resume after a crash mid-part cannot seal other plaintext under nonces the store has seen.
 */
import { describe, expect, it } from 'vitest';
import { aesKey } from '../src/index.js';
import { toBase64 } from '../src/bytes.js';
import { METADATA_HEADER_LENGTH } from '../src/storage/bucket-marker.js';
import { encryptedBucket, memoryUploadState, type UploadRecord } from '../src/storage.js';
import type { ObjectStore } from '../src/storage/store.js';
import { expectCode, pseudoRandom } from './helpers.js';
import { MIN_PART, smallMemoryStore } from './storage-bucket-helpers.js';
import { CHUNK_SIZE, SEALED_CHUNK_SIZE } from '../src/format/cobblestone.js';

const KEY = aesKey({ id: 'state', key: pseudoRandom(32, 77) });
const PART = Math.ceil(MIN_PART / SEALED_CHUNK_SIZE) * CHUNK_SIZE;

/** The store, logging the part numbers of every uploadPart (and the bytes sent). */
function logging(inner: ObjectStore) {
  const sent: { partNumber: number; bytes: Uint8Array }[] = [];
  const store: ObjectStore = Object.assign(Object.create(inner) as ObjectStore, {
    uploadPart: (key: string, id: string, n: number, body: Uint8Array, o?: object) => {
      sent.push({ partNumber: n, bytes: Uint8Array.from(body) });
      return inner.uploadPart(key, id, n, body, o);
    },
  });
  return { store, sent };
}

async function interrupted(plain: Uint8Array, failAt: number, mem = smallMemoryStore()) {
  const { store, sent } = logging(mem);
  const bucket = encryptedBucket(store, { recipients: [KEY], keys: [KEY], partSize: PART, multipartThreshold: PART, retry: { retries: 0 }, concurrency: 1 });
  const state = memoryUploadState();
  mem.failOn(failAt, 'throw');
  await expectCode(bucket.putObject('doc', plain, { uploadState: state, leavePartsOnError: true }), 'ERR_STORE');
  return { mem, store, sent, bucket, state, record: (await state.load())! };
}

describe('resumable upload state', () => {
  it('a record whose header and salt were copied from a stored object does not resume (no data key, salt or nonce reuse)', async () => {
    const pOld = pseudoRandom(5 * PART, 1);
    const pNew = pseudoRandom(5 * PART, 2);
    // The object as stored, then a new version of it whose upload is interrupted.
    const mem = smallMemoryStore();
    await encryptedBucket(mem, { recipients: [KEY], partSize: PART, multipartThreshold: PART }).putObject('doc', pOld);
    const raw = mem.peek('doc')!;
    const h = Number((await mem.head('doc')).metadata[METADATA_HEADER_LENGTH]);
    const { sent, bucket, state, record } = await interrupted(pNew, 3, mem);
    expect(h).toBeGreaterThan(0);
    const forged: UploadRecord = { ...record, header: toBase64(raw.subarray(0, h)), salt: toBase64(raw.subarray(h, h + 24)), parts: [] };
    await state.save(forged);
    const before = sent.length;
    await expectCode(bucket.putObject('doc', pNew, { uploadState: state, resume: true }), 'ERR_STATE');
    expect(sent.length).toBe(before); // nothing sealed left the machine
    expect(mem.peek('doc')).toEqual(raw); // the stored version is untouched
  });

  it('every edited field fails the record MAC (ERR_STATE); the genuine record still resumes', async () => {
    const plain = pseudoRandom(5 * PART, 3);
    const { sent, bucket, state, record } = await interrupted(plain, 4);
    const done = record.parts.filter((p) => p.etag !== '');
    expect(done.length).toBe(2);
    const flipHex = (h: string) => (h[0] === '0' ? '1' : '0') + h.slice(1);
    const edits: Partial<UploadRecord>[] = [
      { uploadId: `${record.uploadId}x` },
      { salt: toBase64(pseudoRandom(24, 9)) },
      { chunksPerPart: record.chunksPerPart + 1 },
      { parts: record.parts.slice(1) },
      { parts: record.parts.map((p, i) => (i === 0 ? { ...p, sha256: flipHex(p.sha256) } : p)) },
      { parts: record.parts.map((p, i) => (i === 0 ? { ...p, etag: `${p.etag}0` } : p)) },
      { mac: flipHex(record.mac) },
    ];
    const before = sent.length;
    for (const e of edits) {
      await state.save({ ...record, ...e });
      await expectCode(bucket.putObject('doc', plain, { uploadState: state, resume: true, leavePartsOnError: true }), 'ERR_STATE');
    }
    expect(sent.length).toBe(before);
    await state.save(record);
    const r = await bucket.putObject('doc', plain, { uploadState: state, resume: true });
    expect(r.uploadedParts).toBe(r.parts - 2); // resumed: parts 1 and 2 were not sent again
    expect(new Uint8Array(await new Response((await bucket.getObject('doc')).body).arrayBuffer())).toEqual(plain);
  });

  it('a record without a MAC (version 1) or with a hostile layout is ERR_STATE before anything is allocated', async () => {
    const plain = pseudoRandom(3 * PART, 4);
    const { bucket, state, record } = await interrupted(plain, 3);
    const { mac: _m, ...rest } = record;
    await state.save({ ...rest, version: 1 } as unknown as UploadRecord);
    await expectCode(bucket.putObject('doc', plain, { uploadState: state, resume: true, leavePartsOnError: true }), 'ERR_STATE');
    for (const k of [2 ** 20, 2 ** 33, Number.MAX_SAFE_INTEGER, 1]) {
      await state.save({ ...record, chunksPerPart: k });
      await expectCode(bucket.putObject('doc', plain, { uploadState: state, resume: true, leavePartsOnError: true }), 'ERR_STATE');
    }
  });

  it('a part is recorded before it is sent: after a failure mid-part, a resume with other bytes there is refused before they leave', async () => {
    const plain = pseudoRandom(5 * PART, 5);
    const { mem, sent, bucket, state, record } = await interrupted(plain, 4); // create, parts 1 and 2, then part 3 fails
    expect(record.parts.map((p) => [p.partNumber, p.etag === ''])).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
    const failed = sent.filter((s) => s.partNumber === 3);
    expect(failed).toHaveLength(1); // its bytes reached the store before it failed
    const other = plain.slice();
    other[2 * PART + 7]! ^= 1; // only part 3 differs
    const before = sent.length;
    await expectCode(bucket.putObject('doc', other, { uploadState: state, resume: true, leavePartsOnError: true }), 'ERR_STATE');
    expect(sent.slice(before).filter((s) => s.partNumber === 3)).toEqual([]);
    // The same bytes resume: part 3 is sent again (it has no entity tag), 1 and 2 are not.
    const r = await bucket.putObject('doc', plain, { uploadState: state, resume: true });
    expect(r.uploadedParts).toBe(r.parts - 2);
    expect(sent.slice(before).map((s) => s.partNumber).sort()).toEqual([3, 4, 5, 6].slice(0, r.parts - 2));
    expect(mem.pendingUploads()).toHaveLength(0);
  });
});
