/**
 * A connection dropped in the middle of a body is `ERR_STORE` (`NetworkError`), never a raw
 * `TypeError: terminated` (undici) or `Error: aborted` (Node's HTTP client under the S3 SDK):
 * through fetchStore and s3Store against a real loopback server that announces a
 * Content-Length, sends half and destroys the socket, and through the body helpers directly. The
 * caller's own abort keeps its reason.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnsealError } from '../src/errors.js';
import { bodyReadError, exactLength, iterableStream, servedBody } from '../src/storage/body.js';
import { fetchStore } from '../src/storage/fetch.js';
import { s3Store } from '../src/storage/s3.js';
import { expectCode, pseudoRandom } from './helpers.js';

const DATA = pseudoRandom(200_000, 7);
const bytesOf = async (s: ReadableStream<Uint8Array>): Promise<Uint8Array> => new Uint8Array(await new Response(s).arrayBuffer());

/** Every GET: headers with the full Content-Length (200, or 206 for a Range), half the bytes, then the socket is destroyed. */
let server: Server;
let url: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    req.socket.on('error', () => undefined);
    const m = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? '');
    const start = m === null ? 0 : Number(m[1]);
    const end = m === null || m[2] === '' ? DATA.length - 1 : Math.min(Number(m[2]), DATA.length - 1);
    const body = DATA.subarray(start, end + 1);
    const headers: Record<string, string> = { 'content-length': String(body.length), etag: '"e1"' };
    if (m !== null) headers['content-range'] = `bytes ${start}-${end}/${DATA.length}`;
    res.writeHead(m === null ? 200 : 206, headers);
    if (req.method === 'HEAD') return res.end();
    const stall = req.url?.includes('stall') === true; // half the body, then nothing (for aborts)
    res.write(body.subarray(0, body.length >> 1), () => (stall ? undefined : setTimeout(() => req.socket.destroy(), 20)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const expectNetworkError = async (p: Promise<unknown>): Promise<void> => {
  const e = await expectCode(p, 'ERR_STORE');
  expect(e.message).toMatch(/connection lost/);
  expect(e.cause).toMatchObject({ code: 'NetworkError' });
  expect((e.cause as { cause?: unknown }).cause).toBeInstanceOf(Error);
};

describe('a connection cut mid-body', () => {
  it('fetchStore: whole and ranged gets fail with ERR_STORE NetworkError', async () => {
    const store = fetchStore({ baseUrl: url, allowInsecureHttp: true });
    await expectNetworkError(store.get('k').then((g) => bytesOf(g.body)));
    await expectNetworkError(store.get('k', { range: { start: 1000, end: 150_000 } }).then((g) => bytesOf(g.body)));
  });

  it('fetchStore: a server ignoring Range (200, whole object) cut mid-body is ERR_STORE too', async () => {
    const store = fetchStore({
      baseUrl: url,
      allowInsecureHttp: true,
      fetch: (u, init) => {
        const h = new Headers(init?.headers);
        h.delete('range');
        return fetch(u, { ...init, headers: h });
      },
    });
    await expectNetworkError(store.get('k', { range: { start: 10, end: 150_000 } }).then((g) => bytesOf(g.body)));
  });

  it('s3Store: whole and ranged gets fail with ERR_STORE NetworkError', async () => {
    const client = new S3Client({ endpoint: url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
    try {
      const store = s3Store({ client, bucket: 'bk', allowInsecureHttp: true });
      await expectNetworkError(store.get('k').then((g) => bytesOf(g.body)));
      await expectNetworkError(store.get('k', { range: { start: 1000, end: 150_000 } }).then((g) => bytesOf(g.body)));
    } finally {
      client.destroy();
    }
  });
});

describe('the caller aborting mid-body', () => {
  it('fetchStore: keeps the AbortError', async () => {
    const store = fetchStore({ baseUrl: url, allowInsecureHttp: true });
    const ac = new AbortController();
    const g = await store.get('stall', { signal: ac.signal });
    const reader = g.body.getReader();
    await reader.read();
    ac.abort();
    await expect(reader.read()).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('fetchStore: keeps a custom abort reason (the adapters pass the signal to the length guard)', async () => {
    const store = fetchStore({ baseUrl: url, allowInsecureHttp: true });
    const ac = new AbortController();
    const g = await store.get('stall', { signal: ac.signal });
    const reader = g.body.getReader();
    await reader.read();
    const reason = new Error('stop here');
    ac.abort(reason);
    await expect(reader.read()).rejects.toBe(reason);
  });
});

describe('body helpers map a failing source', () => {
  const failing = (error: unknown): AsyncIterable<Uint8Array> => ({
    async *[Symbol.asyncIterator]() {
      yield new Uint8Array(10);
      throw error;
    },
  });

  it('an async iterable that throws (the S3/OSS body) becomes ERR_STORE through exactLength and servedBody', async () => {
    const aborted = Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    await expectNetworkError(bytesOf(exactLength(iterableStream(failing(aborted), () => undefined), 100, 's3://b', { status: 200 })));
    const served = { start: 5, end: 50, offset: 0, servedLength: 46 };
    await expectNetworkError(bytesOf(servedBody(iterableStream(failing(aborted), () => undefined), served, 's3://b', { status: 206 })));
  });

  it('the caller\'s abort keeps its reason; AbortError and EnsealError pass unchanged', async () => {
    const ac = new AbortController();
    const reason = new Error('user stop');
    ac.abort(reason);
    await expect(bytesOf(exactLength(iterableStream(failing(reason), () => undefined), 100, 't', {}, ac.signal))).rejects.toBe(reason);
    const abortError = new DOMException('stopped', 'AbortError');
    expect(bodyReadError(abortError, 't')).toBe(abortError);
    const typed = new EnsealError('ERR_AUTH', 'x');
    expect(bodyReadError(typed, 't')).toBe(typed);
    const mapped = bodyReadError(Object.assign(new TypeError('terminated'), { cause: { code: 'UND_ERR_SOCKET' } }), 't', { status: 206, requestId: 'r1' });
    expect(mapped).toBeInstanceOf(EnsealError);
    expect((mapped as EnsealError).code).toBe('ERR_STORE');
    expect((mapped as EnsealError).cause).toMatchObject({ status: 206, requestId: 'r1', code: 'NetworkError' });
  });

  it('short and long bodies are still ShortBody / LongBody', async () => {
    const src = (n: number): ReadableStream<Uint8Array> => new Blob([new Uint8Array(n)]).stream();
    const short = await expectCode(bytesOf(exactLength(src(5), 10, 't')), 'ERR_STORE');
    expect(short.cause).toMatchObject({ code: 'ShortBody' });
    const long = await expectCode(bytesOf(exactLength(src(15), 10, 't')), 'ERR_STORE');
    expect(long.cause).toMatchObject({ code: 'LongBody' });
    expect((await bytesOf(exactLength(src(10), 10, 't'))).length).toBe(10);
  });
});
