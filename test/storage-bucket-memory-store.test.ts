/**
 * memoryStore's documented test hooks (the contract itself is in storage-contract.test.ts):
 * request and byte counters, the fault injector (each kind, fired at exactly the k-th request
 * from the call), computed objects, and the S3-like multipart rules it enforces.
 */
import { describe, expect, it } from 'vitest';
import { EnsealError } from '../src/errors.js';
import { memoryStore } from '../src/storage/memory.js';
import { expectCode, pseudoRandom } from './helpers.js';
import { collect, expectBytes } from './storage-bucket-helpers.js';

describe('memoryStore test hooks', () => {
  it('failOn(k) fires at exactly the k-th request from the call, once', async () => {
    const s = memoryStore();
    await s.put('a', pseudoRandom(10, 1));
    s.failOn(3, 'throw');
    await s.head('a');
    await s.head('a');
    const e = await expectCode(s.head('a'), 'ERR_STORE');
    expect((e.cause as { status?: number }).status).toBe(500);
    await s.head('a'); // fired once
    expect(s.stats.byOperation.head).toBe(4);
    s.failOn(1, 'throw');
    s.clearFaults();
    await s.head('a');
    expect(() => s.failOn(0, 'throw')).toThrow(RangeError);
  });

  it('timeout honours the signal, or fails with 504 after hangMs', async () => {
    const s = memoryStore({ hangMs: 50 });
    await s.put('a', pseudoRandom(10, 1));
    s.failOn(1, 'timeout');
    const t0 = Date.now();
    await expect(s.get('a', { signal: AbortSignal.timeout(20) })).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - t0).toBeLessThan(1000);
    s.failOn(1, 'timeout');
    const e = await expectCode(s.head('a'), 'ERR_STORE');
    expect((e.cause as { status?: number }).status).toBe(504);
  });

  it('short returns half the body; other serves another object, or noise of the right length', async () => {
    const s = memoryStore();
    const a = pseudoRandom(1000, 1);
    const b = pseudoRandom(1000, 2);
    await s.put('a', a);
    s.failOn(1, 'short');
    expectBytes(await collect((await s.get('a', { range: { start: 100, end: 299 } })).body), a.slice(100, 200));
    s.failOn(1, 'other');
    const lone = await collect((await s.get('a')).body);
    expect(lone.length).toBe(1000);
    expect(Buffer.from(lone).equals(Buffer.from(a))).toBe(false);
    await s.put('b', b);
    s.failOn(1, 'other');
    expectBytes(await collect((await s.get('a', { range: { start: 5, end: 9 } })).body), b.slice(5, 10));
    s.failOn(1, 'short');
    await expectCode(s.put('c', a), 'ERR_STORE'); // no response body: a dropped connection
    expect(s.keys()).toEqual(['a', 'b']);
  });

  it('counts only the body bytes a reader pulled; computed objects are made on demand', async () => {
    const s = memoryStore({ bodyChunkSize: 1000 });
    const reads: [number, number][] = [];
    s.putComputed('huge', {
      size: 1e12,
      read: (start, end) => {
        reads.push([start, end]);
        return new Uint8Array(end - start).fill(7);
      },
    });
    const r = await s.get('huge', { range: { start: 5e11 } });
    const reader = r.body.getReader();
    const first = await reader.read();
    expect(first.value?.length).toBe(1000);
    await reader.cancel();
    expect(s.stats.bytesOut).toBe(1000);
    expect(reads).toEqual([[5e11, 5e11 + 1000]]);
    expect(r.size).toBe(1e12);
    expect(s.peek('huge')).toBeUndefined();
    s.resetStats();
    expect(s.stats).toMatchObject({ requests: 0, bytesIn: 0, bytesOut: 0 });
  });

  it('metadata is copied in and out; copy can be turned off', async () => {
    const s = memoryStore();
    const md = { owner: 'ana' };
    await s.put('a', pseudoRandom(3, 1), { metadata: md });
    md.owner = 'eve';
    const got = await s.head('a');
    expect(got.metadata).toEqual({ owner: 'ana' });
    got.metadata.owner = 'mallory';
    expect((await s.head('a')).metadata).toEqual({ owner: 'ana' });
    await s.copy!('a', 'b', { metadata: { x: '1' } });
    expect((await s.head('b')).metadata).toEqual({ x: '1' });
    expect(memoryStore({ copy: false }).copy).toBeUndefined();
  });

  it('multipart: EntityTooSmall, replaced parts, pending uploads, abort', async () => {
    const s = memoryStore({ multipart: { minPartSize: 10 } });
    const { uploadId } = await s.createMultipart('m', { metadata: { k: 'v' } });
    const p1 = await s.uploadPart('m', uploadId, 1, pseudoRandom(5, 1));
    const p2 = await s.uploadPart('m', uploadId, 2, pseudoRandom(5, 2));
    expect(s.pendingUploads()).toEqual([{ key: 'm', uploadId, parts: 2 }]);
    const e = await expectCode(s.completeMultipart('m', uploadId, [{ partNumber: 1, ...p1 }, { partNumber: 2, ...p2 }]), 'ERR_STORE');
    expect((e.cause as { code?: string }).code).toBe('EntityTooSmall');
    await expectCode(s.head('m'), 'ERR_NOT_FOUND');
    const p1b = await s.uploadPart('m', uploadId, 1, pseudoRandom(12, 3));
    await expect(s.completeMultipart('m', uploadId, [{ partNumber: 1, ...p1 }, { partNumber: 2, ...p2 }])).rejects.toBeInstanceOf(EnsealError); // stale etag
    await s.completeMultipart('m', uploadId, [{ partNumber: 1, ...p1b }, { partNumber: 2, ...p2 }]);
    expectBytes(s.peek('m')!, new Uint8Array([...pseudoRandom(12, 3), ...pseudoRandom(5, 2)]));
    expect((await s.head('m')).metadata).toEqual({ k: 'v' });
    const { uploadId: id2 } = await s.createMultipart('n');
    await s.abortMultipart('n', id2);
    expect(s.pendingUploads()).toEqual([]);
    await s.abortMultipart('n', 'unknown'); // succeeds
  });
});
