/**
 * fetchStore over real `fetch` against the fake OSS (as a public, path-style bucket) and over
 * injected `fetch` functions for the hostile cases: ranges, 416, 404, bytes moved by a ranged
 * read, servers that ignore Range or answer another range or a short body, the HTTPS-only rule
 * checked before every request (no request is sent when it refuses), the URL provider's
 * refusals, list and multipart hooks, and no `node:` import anywhere in its module graph.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchStore, type FetchOperation } from '../src/storage/fetch.js';
import { expectCode, pseudoRandom } from './helpers.js';
import { FakeOss } from './storage-servers.js';

const bytesOf = async (s: ReadableStream<Uint8Array>): Promise<Uint8Array> => new Uint8Array(await new Response(s).arrayBuffer());

let fake: FakeOss;
let base: string;
beforeAll(async () => {
  fake = await new FakeOss({ anonymous: true }).start();
  base = `${fake.endpoint}/${fake.bucket}/`;
});
afterAll(async () => {
  await fake.close();
});

describe('fetchStore against a public bucket', () => {
  it('puts, gets, heads and deletes with metadata headers', async () => {
    const store = fetchStore({ baseUrl: base, allowInsecureHttp: true, metadataPrefix: 'x-oss-meta-' });
    const data = pseudoRandom(50_000, 1);
    const put = await store.put('dir/a b+c.bin', data, { metadata: { 'client-side-encryption-key': 'QUJD' } });
    expect(put.etag).toMatch(/^[0-9A-F]{32}$/);
    expect(fake.objects.get('dir/a b+c.bin')?.meta).toEqual({ 'client-side-encryption-key': 'QUJD' });
    const head = await store.head('dir/a b+c.bin');
    expect(head).toMatchObject({ size: data.length, metadata: { 'client-side-encryption-key': 'QUJD' }, etag: put.etag });
    const got = await store.get('dir/a b+c.bin');
    expect(got.size).toBe(data.length);
    expect(Buffer.compare(await bytesOf(got.body), data)).toBe(0);
    await store.delete('dir/a b+c.bin');
    await store.delete('dir/a b+c.bin'); // 204 for a missing object too
    const e = await expectCode(store.get('dir/a b+c.bin'), 'ERR_NOT_FOUND');
    expect(e.cause).toMatchObject({ status: 404, requestId: fake.lastRequestId, code: 'NoSuchKey' });
    await expectCode(store.head('dir/a b+c.bin'), 'ERR_NOT_FOUND');
  });

  it('serves ranges and answers ERR_RANGE past the end; a ranged get moves only the range', async () => {
    const store = fetchStore({ baseUrl: base, allowInsecureHttp: true, metadataPrefix: 'x-oss-meta-' });
    const data = pseudoRandom(1 << 20, 2);
    await store.put('big', data);
    for (const [start, end] of [[0, 0], [1000, 2023], [(1 << 20) - 1, undefined], [10, (1 << 20) + 99]] as const) {
      fake.resetCounters();
      const got = await store.get('big', { range: end === undefined ? { start } : { start, end } });
      const want = data.subarray(start, Math.min((1 << 20) - 1, end ?? Infinity) + 1);
      expect(got.range).toEqual({ start, end: start + want.length - 1 });
      expect(got.size).toBe(1 << 20);
      expect(Buffer.compare(await bytesOf(got.body), want)).toBe(0);
      expect(fake.requests).toBe(1);
      expect(fake.bytesOut).toBe(want.length);
    }
    // OSS answers a past-the-end range with 200 and the whole object unless asked for standard behaviour:
    const legacy = await expectCode(store.get('big', { range: { start: 1 << 20 } }), 'ERR_RANGE');
    expect((legacy.cause as { status?: number }).status).toBe(200);
    const standard = fetchStore({ baseUrl: base, allowInsecureHttp: true, headers: { 'x-oss-range-behavior': 'standard' } });
    const e = await expectCode(standard.get('big', { range: { start: 1 << 20 } }), 'ERR_RANGE');
    expect((e.cause as { status?: number }).status).toBe(416);
  });

  it('sends the configured headers and refuses redirects', async () => {
    const seen: RequestInit[] = [];
    const store = fetchStore({
      baseUrl: base,
      allowInsecureHttp: true,
      headers: (_key, op) => ({ 'x-api-token': `token-for-${op.op}` }),
      fetch: async (url, init) => {
        seen.push(init ?? {});
        return fetch(url, init);
      },
    });
    fake.resetCounters();
    await store.put('h', pseudoRandom(5));
    await store.head('h');
    expect(fake.seen.map((r) => r.headers['x-api-token'])).toEqual(['token-for-put', 'token-for-head']);
    expect(seen.every((i) => i.redirect === 'error')).toBe(true);
  });
});

describe('fetchStore against hostile or odd servers', () => {
  const data = pseudoRandom(10_000, 3) as Uint8Array<ArrayBuffer>;
  const respond = (fn: (url: URL, init: RequestInit) => Response): typeof fetch => async (url, init) => fn(new URL(String(url)), init ?? {});

  it('slices a whole-object 200 answer to a ranged GET (a server ignoring Range)', async () => {
    const store = fetchStore({ baseUrl: 'https://objects.example.com/', fetch: respond(() => new Response(data, { status: 200, headers: { 'content-length': String(data.length) } })) });
    const got = await store.get('k', { range: { start: 100, end: 199 } });
    expect(got.range).toEqual({ start: 100, end: 199 });
    expect(Buffer.compare(await bytesOf(got.body), data.subarray(100, 200))).toBe(0);
    await expectCode(store.get('k', { range: { start: data.length } }), 'ERR_RANGE');
  });

  it('refuses another range than the one asked (ERR_STORE RangeMismatch)', async () => {
    const store = fetchStore({
      baseUrl: 'https://objects.example.com/',
      fetch: respond(() => new Response(data.subarray(200, 300), { status: 206, headers: { 'content-range': `bytes 200-299/${data.length}`, 'x-amz-request-id': 'RID-7' } })),
    });
    const e = await expectCode(store.get('k', { range: { start: 100, end: 199 } }), 'ERR_STORE');
    expect(e.cause).toMatchObject({ code: 'RangeMismatch', status: 206, requestId: 'RID-7' });
    const bad = fetchStore({ baseUrl: 'https://objects.example.com/', fetch: respond(() => new Response(data.subarray(0, 100), { status: 206, headers: { 'content-range': 'bytes 0-99/junk' } })) });
    await expectCode(bad.get('k', { range: { start: 0, end: 99 } }), 'ERR_STORE');
  });

  it('errors a body shorter or longer than announced (ERR_STORE on the stream, not a clean end)', async () => {
    const short = fetchStore({ baseUrl: 'https://objects.example.com/', fetch: respond(() => new Response(data.subarray(0, 50), { status: 206, headers: { 'content-range': `bytes 0-99/${data.length}` } })) });
    const got = await short.get('k', { range: { start: 0, end: 99 } });
    await expectCode(bytesOf(got.body), 'ERR_STORE');
    const long = fetchStore({ baseUrl: 'https://objects.example.com/', fetch: respond(() => new Response(data, { status: 200, headers: { 'content-length': '100' } })) });
    await expectCode(bytesOf((await long.get('k')).body), 'ERR_STORE');
  });

  it('keeps status, request id and the XML <Code> of a failure', async () => {
    const store = fetchStore({
      baseUrl: 'https://objects.example.com/',
      fetch: respond(() => new Response('<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>no</Message></Error>', { status: 403, headers: { 'x-oss-request-id': 'OSS-RID-1' } })),
    });
    const e = await expectCode(store.put('k', data), 'ERR_STORE');
    expect(e.cause).toMatchObject({ status: 403, code: 'AccessDenied', requestId: 'OSS-RID-1' });
    expect(e.message).toContain('OSS-RID-1');
    const net = fetchStore({ baseUrl: 'https://objects.example.com/', fetch: async () => { throw new TypeError('fetch failed'); } });
    const n = await expectCode(net.get('k'), 'ERR_STORE');
    expect((n.cause as { code?: string }).code).toBe('NetworkError');
  });
});

describe('fetchStore transport security and URL provider', () => {
  const spy = (): { fetch: typeof fetch; calls: string[] } => {
    const calls: string[] = [];
    return { calls, fetch: async (url) => { calls.push(String(url)); return new Response(null, { status: 204 }); } };
  };

  it('refuses an http:// baseUrl without the opt-in, and a non-loopback one even with it', () => {
    for (const [baseUrl, allow] of [[base, false], ['http://objects.example.com/', true], ['http://10.0.0.1/', true], ['http://[::ffff:7f00:1]/', true]] as const) {
      const s = spy();
      expect(() => fetchStore({ baseUrl, allowInsecureHttp: allow, fetch: s.fetch }), baseUrl).toThrow(expect.objectContaining({ code: 'ERR_INSECURE_TRANSPORT' }));
      expect(s.calls).toEqual([]);
    }
    expect(() => fetchStore({ baseUrl: 'https://user:pass@objects.example.com/' })).toThrow(TypeError);
    expect(() => fetchStore({ baseUrl: 'ftp://objects.example.com/' })).toThrow(TypeError);
  });

  it('checks every URL the provider returns, before its request', async () => {
    const s = spy();
    const urls: Record<string, string> = { get: 'http://evil.example.com/k', head: 'http://127.0.0.1:1/k', put: 'https://ok.example.com/k?X-Amz-Signature=abc', delete: 'http://localhost:1/k' };
    const store = fetchStore({ url: (_key, op) => urls[op.op], fetch: s.fetch, allowInsecureHttp: true });
    await expectCode(store.get('k'), 'ERR_INSECURE_TRANSPORT'); // not loopback
    await store.delete('k'); // loopback + opt-in: sent
    await store.put('k', pseudoRandom(3)); // https: sent
    expect(s.calls).toEqual([urls.delete, urls.put]);
    const strict = fetchStore({ url: (_key, op) => urls[op.op], fetch: s.fetch });
    await expectCode(strict.head('k'), 'ERR_INSECURE_TRANSPORT'); // loopback without the opt-in
    expect(s.calls).toHaveLength(2);
  });

  it('an operation the provider does not allow is ERR_UNSUPPORTED, without a request', async () => {
    const s = spy();
    const store = fetchStore({ url: (_key, op: FetchOperation) => (op.op === 'get' ? 'https://cdn.example.com/k' : undefined), fetch: s.fetch });
    await expectCode(store.put('k', pseudoRandom(1)), 'ERR_UNSUPPORTED');
    await expectCode(store.delete('k'), 'ERR_UNSUPPORTED');
    expect(() => store.list('')).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED' }));
    await expectCode(store.createMultipart('k'), 'ERR_UNSUPPORTED');
    await expectCode(store.uploadPart('k', 'u', 1, pseudoRandom(1)), 'ERR_UNSUPPORTED');
    await expectCode(store.completeMultipart('k', 'u', [{ partNumber: 1, etag: 'e' }]), 'ERR_UNSUPPORTED');
    await expectCode(store.abortMultipart('k', 'u'), 'ERR_UNSUPPORTED');
    await expectCode(store.put('k', pseudoRandom(1), { sse: { provider: 's3', algorithm: 'AES256' } }), 'ERR_UNSUPPORTED');
    expect(s.calls).toEqual([]);
  });

  it('multipart through hooks: the backend creates and completes, parts are PUT to provided URLs', async () => {
    const bucketUrl = base;
    const store = fetchStore({
      url: (key, op) => {
        const u = new URL(key.split('/').map(encodeURIComponent).join('/'), bucketUrl);
        if (op.op === 'uploadPart') {
          u.searchParams.set('partNumber', String(op.partNumber));
          u.searchParams.set('uploadId', op.uploadId);
        }
        return u;
      },
      allowInsecureHttp: true,
      metadataPrefix: 'x-oss-meta-',
      multipart: {
        limits: { minPartSize: 100 * 1024 },
        async create(key, { metadata }) {
          const headers = Object.fromEntries(Object.entries(metadata).map(([k, v]) => [`x-oss-meta-${k}`, v]));
          const text = await (await fetch(new URL(`${encodeURIComponent(key)}?uploads`, bucketUrl), { method: 'POST', headers })).text();
          return { uploadId: /<UploadId>([^<]+)<\/UploadId>/.exec(text)?.[1] as string };
        },
        async complete(key, uploadId, parts) {
          const xml = `<CompleteMultipartUpload>${parts.map((p) => `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>"${p.etag}"</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
          const res = await fetch(new URL(`${encodeURIComponent(key)}?uploadId=${uploadId}`, bucketUrl), { method: 'POST', body: xml });
          if (!res.ok) throw new Error(`complete failed ${res.status}`);
          return {};
        },
        async abort(key, uploadId) {
          await fetch(new URL(`${encodeURIComponent(key)}?uploadId=${uploadId}`, bucketUrl), { method: 'DELETE' });
        },
      },
      list: async function* (prefix) {
        for (const k of [...fake.objects.keys()].filter((x) => x.startsWith(prefix)).sort()) yield { key: k, size: fake.objects.get(k)?.bytes.length ?? 0 };
      },
    });
    expect(store.multipart.minPartSize).toBe(100 * 1024);
    const p1 = pseudoRandom(100 * 1024, 5);
    const p2 = pseudoRandom(777, 6);
    const { uploadId } = await store.createMultipart('mp/obj', { metadata: { a: '1' } });
    const [r2, r1] = await Promise.all([store.uploadPart('mp/obj', uploadId, 2, p2), store.uploadPart('mp/obj', uploadId, 1, p1)]);
    await store.completeMultipart('mp/obj', uploadId, [{ partNumber: 1, etag: r1.etag }, { partNumber: 2, etag: r2.etag }]);
    const got = await store.get('mp/obj');
    expect(got.metadata).toEqual({ a: '1' });
    expect(Buffer.compare(await bytesOf(got.body), Buffer.concat([p1, p2]))).toBe(0);
    const listed: string[] = [];
    for await (const e of store.list('mp/')) listed.push(e.key);
    expect(listed).toEqual(['mp/obj']);
    const second = await store.createMultipart('mp/aborted');
    await store.abortMultipart('mp/aborted', second.uploadId);
    expect(fake.uploads.has(second.uploadId)).toBe(false);
  });
});

describe('fetchStore runs without node: modules', () => {
  it('imports no node: module anywhere in its module graph', () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'storage');
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^\s*import\s+(?:type\s+)?[^'"]*from\s+'([^']+)'/gm)) {
        const spec = m[1] as string;
        expect(spec.startsWith('node:'), `${file} imports ${spec}`).toBe(false);
        if (m[0].includes('import type')) continue;
        if (spec.startsWith('.')) visit(join(dirname(file), spec.replace(/\.js$/, '.ts')));
        else expect(['hash-wasm'], `${file} imports ${spec}`).toContain(spec);
      }
    };
    visit(join(root, 'fetch.ts'));
    expect(seen.size).toBeGreaterThan(5);
  });
});
