/**
 * The ObjectStore contract (src/storage/store.ts), ONE suite parametrised by store: memory
 * (the reference), fs, s3 (the S3 adapter through @aws-sdk/client-s3 against s3rver on
 * 127.0.0.1) and oss (the OSS adapter through a real ali-oss client against the fake OSS of
 * test/storage-servers.ts, which verifies every request signature).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import OSS from 'ali-oss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnsealError } from '../src/errors.js';
import { fsStore } from '../src/storage/fs.js';
import { memoryStore } from '../src/storage/memory.js';
import { ossStore } from '../src/storage/oss.js';
import { s3Store } from '../src/storage/s3.js';
import type { ObjectStore } from '../src/storage/store.js';
import { expectCode, pseudoRandom } from './helpers.js';
import { CountingProxy, FakeOss, startS3rver, type S3rverHandle } from './storage-servers.js';

interface Fixture {
  store: ObjectStore;
  /**
   * s3rver's gaps beyond the known three (suffix ranges, ListParts, part sizes): no
   * AbortMultipartUpload (405), part ETags not compared at completion, concurrent replacements
   * of one key not atomic. Where they matter the suite asserts s3rver's actual answer instead,
   * or leaves that one check to the other stores.
   */
  s3rver?: boolean;
  /** Requests the store's backend has received so far (undefined for fs: it makes none). */
  requests?: () => number;
  close(): Promise<void>;
}

const FIXTURES: Record<string, () => Promise<Fixture>> = {
  async memory() {
    const store = memoryStore({ multipart: { minPartSize: 100 * 1024 } });
    return { store, requests: () => store.stats.requests, close: async () => undefined };
  },
  async fs() {
    const dir = mkdtempSync(join(tmpdir(), 'enseal-fs-contract-'));
    return { store: fsStore(dir), close: async () => rmSync(dir, { recursive: true, force: true }) };
  },
  async s3() {
    const server = await startS3rver();
    const proxy = await new CountingProxy(server.endpoint).start();
    const client = new S3Client({
      endpoint: proxy.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    return {
      store: s3Store({ client, bucket: 'b', allowInsecureHttp: true }),
      s3rver: true,
      requests: () => proxy.requests,
      async close() {
        client.destroy();
        await proxy.close();
        await (server as S3rverHandle).close();
      },
    };
  },
  async oss() {
    const fake = await new FakeOss().start();
    const client = new OSS({ endpoint: fake.endpoint, bucket: fake.bucket, region: 'oss-cn-hangzhou', accessKeyId: fake.accessKeyId, accessKeySecret: fake.accessKeySecret });
    return {
      store: ossStore({ client, allowInsecureHttp: true }),
      requests: () => fake.requests,
      async close() {
        expect(fake.signatureFailures, 'every ali-oss request carried a valid signature').toBe(0);
        await fake.close();
      },
    };
  },
};

/** Byte equality without vitest's element-wise deep equality (slow on MiB arrays). */
function expectSame(a: Uint8Array, b: Uint8Array | undefined, what = ''): void {
  expect(b, what).toBeInstanceOf(Uint8Array);
  expect(a.length, what).toBe((b as Uint8Array).length);
  expect(Buffer.compare(a, b as Uint8Array), what).toBe(0);
}

async function bytesOf(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function streamOf(b: Uint8Array, piece = 1000): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream({
    pull(c) {
      if (off >= b.length) return c.close();
      c.enqueue(b.slice(off, off + piece));
      off += piece;
    },
  });
}

async function collectList(it: AsyncIterable<{ key: string; size: number }>): Promise<{ key: string; size: number }[]> {
  const out: { key: string; size: number }[] = [];
  for await (const e of it) out.push({ key: e.key, size: e.size });
  return out;
}

describe.each(Object.keys(FIXTURES))('ObjectStore contract: %s', (kind) => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await (FIXTURES[kind] as () => Promise<Fixture>)();
  });
  afterAll(async () => {
    await fx?.close();
  });

  const data = pseudoRandom(70_001, 7);

  /** Aborts; on s3rver (no AbortMultipartUpload) asserts its 405 instead. */
  const abort = async (store: ObjectStore, key: string, uploadId: string): Promise<void> => {
    if (fx.s3rver !== true) return store.abortMultipart(key, uploadId);
    const e = await expectCode(store.abortMultipart(key, uploadId), 'ERR_STORE');
    expect((e.cause as { status?: number }).status).toBe(405);
  };

  it('put then get the whole object, bytes and streams', async () => {
    const { store } = fx;
    const put = await store.put('whole/bytes.bin', data);
    expect(typeof put.etag === 'string' || put.etag === undefined).toBe(true);
    const got = await store.get('whole/bytes.bin');
    expect(got.size).toBe(data.length);
    expect(got.range).toBeUndefined();
    expectSame(await bytesOf(got.body), data);

    await store.put('whole/stream.bin', streamOf(data), { contentLength: data.length });
    expectSame(await bytesOf((await store.get('whole/stream.bin')).body), data);
    await store.put('whole/stream-unknown-length.bin', streamOf(data.subarray(0, 5000), 333));
    expectSame(await bytesOf((await store.get('whole/stream-unknown-length.bin')).body), data.subarray(0, 5000));

    await store.put('whole/empty', new Uint8Array(0));
    const empty = await store.get('whole/empty');
    expect(empty.size).toBe(0);
    expect((await bytesOf(empty.body)).length).toBe(0);
  });

  it('does not keep a reference to the caller\'s buffer', async () => {
    const mine = pseudoRandom(1000, 9);
    const copy = mine.slice();
    await fx.store.put('whole/mutated', mine);
    mine.fill(0);
    expectSame(await bytesOf((await fx.store.get('whole/mutated')).body), copy);
  });

  it('serves ranges of every class, reporting the whole size and the served range', async () => {
    const { store } = fx;
    await store.put('ranges/obj', data);
    const n = data.length;
    const cases: { range: { start: number; end?: number }; start: number; end: number }[] = [
      { range: { start: 0, end: 0 }, start: 0, end: 0 }, // first byte
      { range: { start: 10, end: 19 }, start: 10, end: 19 }, // middle
      { range: { start: 16384, end: 16384 * 2 - 1 }, start: 16384, end: 16384 * 2 - 1 }, // chunk-aligned
      { range: { start: 5 }, start: 5, end: n - 1 }, // open-ended
      { range: { start: 5, end: n + 1000 }, start: 5, end: n - 1 }, // end past the end: clamped
      { range: { start: n - 1 }, start: n - 1, end: n - 1 }, // last byte
      { range: { start: n - 1, end: n - 1 }, start: n - 1, end: n - 1 },
      { range: { start: 0 }, start: 0, end: n - 1 }, // whole, as a range
      { range: { start: 0, end: n - 1 }, start: 0, end: n - 1 },
    ];
    for (const c of cases) {
      const got = await store.get('ranges/obj', { range: c.range });
      expect(got.size, JSON.stringify(c.range)).toBe(n);
      expect(got.range, JSON.stringify(c.range)).toEqual({ start: c.start, end: c.end });
      expectSame(await bytesOf(got.body), data.subarray(c.start, c.end + 1), JSON.stringify(c.range));
    }
  });

  it('answers a range starting at or past the end with ERR_RANGE (416)', async () => {
    const { store } = fx;
    await store.put('ranges/small', data.subarray(0, 100));
    for (const start of [100, 101, 10_000]) {
      const e = await expectCode(store.get('ranges/small', { range: { start } }), 'ERR_RANGE');
      expect((e.cause as { status?: number }).status).toBe(416);
      await expectCode(store.get('ranges/small', { range: { start, end: start + 10 } }), 'ERR_RANGE');
    }
  });

  it('refuses malformed ranges before any request', async () => {
    const before = fx.requests?.();
    for (const range of [{ start: -1 }, { start: 1.5 }, { start: 5, end: 4 }, { start: Number.NaN }, { start: 2 ** 60 }]) {
      await expect(fx.store.get('ranges/obj', { range })).rejects.toBeInstanceOf(RangeError);
    }
    expect(fx.requests?.()).toBe(before);
  });

  it('heads an object: size, metadata, etag', async () => {
    const { store } = fx;
    const put = await store.put('head/obj', data.subarray(0, 1234), { metadata: { color: 'blue' } });
    const info = await store.head('head/obj');
    expect(info.size).toBe(1234);
    expect(info.metadata).toEqual({ color: 'blue' });
    if (put.etag !== undefined) expect(info.etag).toBe(put.etag);
  });

  it('round-trips metadata: lower-case names without the store prefix', async () => {
    const { store } = fx;
    const metadata = {
      'client-side-encryption-key': 'QUJDREVGR0g=',
      'client-side-encryption-start': 'MTIzNDU2Nzg5MA==',
      'x-note': 'hello world; a=b, c',
      empty: '',
    };
    await store.put('meta/obj', data.subarray(0, 10), { metadata });
    const info = await store.head('meta/obj');
    const got = await store.get('meta/obj');
    await got.body.cancel();
    for (const m of [info.metadata, got.metadata]) {
      // Some stores drop empty values; every non-empty one must come back exactly.
      const { empty, ...rest } = m;
      expect(rest).toEqual({ 'client-side-encryption-key': 'QUJDREVGR0g=', 'client-side-encryption-start': 'MTIzNDU2Nzg5MA==', 'x-note': 'hello world; a=b, c' });
      expect(empty === undefined || empty === '').toBe(true);
      for (const k of Object.keys(m)) expect(k).toBe(k.toLowerCase());
    }
  });

  it('refuses metadata that is not a valid header value with a TypeError, before any request', async () => {
    const { store } = fx;
    const bad: Record<string, string>[] = [
      { note: 'a\r\nx-injected: 1' },
      { note: 'line\nbreak' },
      { note: 'caf\u00e9' },
      { note: '\u202eevil' },
      { note: ' padded' },
      { Note: 'upper-case name' },
      { 'x-amz-meta-note': 'prefixed' },
      { 'x-oss-meta-note': 'prefixed' },
      { 'bad name': 'space' },
      { note: 'x'.repeat(9000) },
    ];
    const before = fx.requests?.();
    for (const metadata of bad) {
      const e = await store.put('meta/refused', data.subarray(0, 10), { metadata }).catch((x: unknown) => x);
      expect(e, JSON.stringify(metadata).slice(0, 60)).toBeInstanceOf(TypeError);
      expect(String((e as Error).message)).not.toMatch(/[\r\n\u202e]/);
      const e2 = await store.createMultipart('meta/refused', { metadata }).catch((x: unknown) => x);
      expect(e2).toBeInstanceOf(TypeError);
    }
    expect(fx.requests?.()).toBe(before);
    await expectCode(store.head('meta/refused'), 'ERR_NOT_FOUND');
  });

  it('deletes: the object is gone, and deleting a missing object succeeds', async () => {
    const { store } = fx;
    await store.put('del/obj', data.subarray(0, 10));
    await store.delete('del/obj');
    await expectCode(store.get('del/obj'), 'ERR_NOT_FOUND');
    await expectCode(store.head('del/obj'), 'ERR_NOT_FOUND');
    await store.delete('del/obj');
    await store.delete('del/never-existed');
  });

  it('reports a missing object as ERR_NOT_FOUND for get, ranged get and head', async () => {
    const { store } = fx;
    const e = await expectCode(store.get('missing/\u001b[31mkey'), 'ERR_NOT_FOUND');
    expect(e.message).not.toContain('\u001b');
    await expectCode(store.get('missing/key', { range: { start: 0, end: 9 } }), 'ERR_NOT_FOUND');
    await expectCode(store.head('missing/key'), 'ERR_NOT_FOUND');
  });

  it('lists with a prefix, in key order, with sizes', async () => {
    const { store } = fx;
    // (s3rver orders "a-1" before "a": its files are named key + "._S3rver_object"; keys avoid that.)
    const keys = ['lst/b/c', 'lst/a', 'lst/b/a', 'lstz', 'lsu', 'lst/é', 'lst/ab'];
    for (const [i, k] of keys.entries()) await store.put(k, data.subarray(0, i + 1));
    const size = (k: string): number => keys.indexOf(k) + 1;
    const sorted = (ks: string[]): string[] => ks.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(await collectList(store.list('lst/'))).toEqual(sorted(['lst/a', 'lst/ab', 'lst/b/a', 'lst/b/c', 'lst/é']).map((k) => ({ key: k, size: size(k) })));
    expect((await collectList(store.list('lst'))).map((e) => e.key)).toEqual(sorted(['lst/a', 'lst/ab', 'lst/b/a', 'lst/b/c', 'lst/é', 'lstz']));
    expect((await collectList(store.list('lst/b/'))).map((e) => e.key)).toEqual(['lst/b/a', 'lst/b/c']);
    expect((await collectList(store.list('lst/b'))).map((e) => e.key)).toEqual(['lst/b/a', 'lst/b/c']);
    expect(await collectList(store.list('nothing-here/'))).toEqual([]);
    const all = (await collectList(store.list(''))).map((e) => e.key);
    for (const k of keys) expect(all).toContain(k);
  });

  it('multipart: parts uploaded out of order, replaced, completed in order, metadata kept', async () => {
    const { store } = fx;
    const part = Math.max(store.multipart.minPartSize, 1024);
    const p1 = pseudoRandom(part, 11);
    const p2 = pseudoRandom(part, 12);
    const p3 = pseudoRandom(1000, 13);
    const { uploadId } = await store.createMultipart('mp/obj', { metadata: { 'client-side-encryption-key': 'AAAA' } });
    expect(typeof uploadId).toBe('string');
    await expectCode(store.head('mp/obj'), 'ERR_NOT_FOUND'); // not visible before completion
    const [r3, r1] = await Promise.all([store.uploadPart('mp/obj', uploadId, 3, p3), store.uploadPart('mp/obj', uploadId, 1, pseudoRandom(part, 99))]);
    const r1b = await store.uploadPart('mp/obj', uploadId, 1, p1); // replaces part 1
    expect(r1b.etag).not.toBe(r1.etag);
    const r2 = await store.uploadPart('mp/obj', uploadId, 2, p2);
    await expectCode(store.head('mp/obj'), 'ERR_NOT_FOUND');
    await store.completeMultipart('mp/obj', uploadId, [
      { partNumber: 1, etag: r1b.etag },
      { partNumber: 2, etag: r2.etag },
      { partNumber: 3, etag: r3.etag },
    ]);
    const got = await store.get('mp/obj');
    expect(got.size).toBe(2 * part + 1000);
    expect(got.metadata).toEqual({ 'client-side-encryption-key': 'AAAA' });
    const all = await bytesOf(got.body);
    expectSame(all.subarray(0, part), p1);
    expectSame(all.subarray(part, 2 * part), p2);
    expectSame(all.subarray(2 * part), p3);
    const tail = await store.get('mp/obj', { range: { start: 2 * part - 5, end: 2 * part + 4 } });
    expectSame(await bytesOf(tail.body), all.subarray(2 * part - 5, 2 * part + 5));
  });

  it('multipart: refuses parts out of order, or with a wrong ETag, at completion', async () => {
    const { store } = fx;
    const part = Math.max(store.multipart.minPartSize, 1024);
    const { uploadId } = await store.createMultipart('mp/bad');
    const a = await store.uploadPart('mp/bad', uploadId, 1, pseudoRandom(part, 1));
    const b = await store.uploadPart('mp/bad', uploadId, 2, pseudoRandom(100, 2));
    await expectCode(store.completeMultipart('mp/bad', uploadId, [{ partNumber: 2, etag: b.etag }, { partNumber: 1, etag: a.etag }]), 'ERR_STORE');
    // s3rver does not compare part ETags at completion (real S3 answers InvalidPart).
    if (fx.s3rver !== true) await expectCode(store.completeMultipart('mp/bad', uploadId, [{ partNumber: 1, etag: 'ffffffffffffffffffffffffffffffff' }, { partNumber: 2, etag: b.etag }]), 'ERR_STORE');
    await expectCode(store.head('mp/bad'), 'ERR_NOT_FOUND');
    await abort(store, 'mp/bad', uploadId);
  });

  it('multipart: abort leaves no object; aborting an unknown upload succeeds', async () => {
    const { store } = fx;
    const { uploadId } = await store.createMultipart('mp/aborted');
    const r = await store.uploadPart('mp/aborted', uploadId, 1, pseudoRandom(1000, 3));
    await abort(store, 'mp/aborted', uploadId);
    await expectCode(store.head('mp/aborted'), 'ERR_NOT_FOUND');
    if (fx.s3rver === true) return; // s3rver cannot abort: the upload is still there
    const e = await store.completeMultipart('mp/aborted', uploadId, [{ partNumber: 1, etag: r.etag }]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(EnsealError);
    await expectCode(store.head('mp/aborted'), 'ERR_NOT_FOUND');
    await store.abortMultipart('mp/aborted', uploadId);
  });

  it('concurrent puts: every key whole; one key ends as exactly one of the writes', async () => {
    const { store } = fx;
    const bodies = Array.from({ length: 8 }, (_, i) => pseudoRandom(20_000 + i * 1000, 100 + i));
    await Promise.all(bodies.map((b, i) => store.put(`conc/k${i}`, b, { metadata: { n: String(i) } })));
    for (const [i, b] of bodies.entries()) {
      const got = await store.get(`conc/k${i}`);
      expect(got.metadata.n).toBe(String(i));
      expectSame(await bytesOf(got.body), b);
    }
    // s3rver writes concurrent replacements of one key into the same files (bytes and metadata
    // can interleave); S3 itself, memory, fs and OSS replace atomically. Checked on the others.
    if (fx.s3rver === true) return;
    await Promise.all(bodies.map((b, i) => store.put('conc/same', b, { metadata: { n: String(i) } })));
    const got = await store.get('conc/same');
    const n = Number(got.metadata.n);
    expect(n >= 0 && n < bodies.length).toBe(true);
    expect(got.size).toBe((bodies[n] as Uint8Array).length);
    expectSame(await bytesOf(got.body), bodies[n]);
  });

  it('copies server-side with replaced metadata (where the store offers copy)', async () => {
    const { store } = fx;
    expect(typeof store.copy).toBe('function');
    await store.put('copy/src', data.subarray(0, 3000), { metadata: { v: '1' } });
    await store.copy!('copy/src', 'copy/dst', { metadata: { v: '2', extra: 'x' } });
    const got = await store.get('copy/dst');
    expect(got.metadata).toEqual({ v: '2', extra: 'x' });
    expectSame(await bytesOf(got.body), data.subarray(0, 3000));
    expect((await store.head('copy/src')).metadata).toEqual({ v: '1' });
    await expectCode(store.copy!('copy/missing', 'copy/dst2', { metadata: {} }), 'ERR_NOT_FOUND');
  });
});
