/**
 * The S3 adapter through @aws-sdk/client-s3 against s3rver on 127.0.0.1, behind a counting
 * proxy: server-side-encryption fields as sent and as surfaced, request ids and statuses on
 * failures, bytes and requests of a ranged read, HTTPS with a self-signed certificate, and the
 * HTTPS-only rule (no request is sent when it refuses).
 */
import { createHash } from 'node:crypto';
import { Agent } from 'node:https';
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Store } from '../src/storage/s3.js';
import { expectCode, pseudoRandom } from './helpers.js';
import { CountingProxy, selfSignedCert, startS3rver, type Cert, type S3rverHandle } from './storage-servers.js';

const bytesOf = async (s: ReadableStream<Uint8Array>): Promise<Uint8Array> => new Uint8Array(await new Response(s).arrayBuffer());

const base: S3ClientConfig = {
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
  maxAttempts: 1,
};

/** A request handler that records calls and never sends anything. */
function recordingHandler(): { handler: S3ClientConfig['requestHandler']; calls: number } {
  const rec = {
    calls: 0,
    handler: {
      handle: async () => {
        rec.calls++;
        throw new Error('must not be sent');
      },
      metadata: { handlerProtocol: 'http/1.1' },
      updateHttpClientConfig: () => undefined,
      httpHandlerConfigs: () => ({}),
    } as unknown as S3ClientConfig['requestHandler'],
  };
  return rec;
}

describe('s3Store over s3rver (HTTP on loopback, opted in)', () => {
  let server: S3rverHandle;
  let proxy: CountingProxy;
  let client: S3Client;
  beforeAll(async () => {
    server = await startS3rver();
    proxy = await new CountingProxy(server.endpoint).start();
    client = new S3Client({ ...base, endpoint: proxy.url });
  });
  afterAll(async () => {
    client.destroy();
    await proxy.close();
    await server.close();
  });

  it('maps SSE options to the SDK fields: AES256, aws:kms with key id and context, SSE-C with its MD5', async () => {
    const store = s3Store({ client, bucket: 'b', allowInsecureHttp: true });
    proxy.reset();
    await store.put('sse/s3', pseudoRandom(10), { sse: { provider: 's3', algorithm: 'AES256' } });
    expect(proxy.log[0]?.headers['x-amz-server-side-encryption']).toBe('AES256');

    proxy.reset();
    const context = { bucket: 'photos', purpose: 'test' };
    await store.put('sse/kms', pseudoRandom(10), { sse: { provider: 's3', algorithm: 'aws:kms', keyId: 'alias/photos', context } });
    const h = proxy.log[0]?.headers ?? {};
    expect(h['x-amz-server-side-encryption']).toBe('aws:kms');
    expect(h['x-amz-server-side-encryption-aws-kms-key-id']).toBe('alias/photos');
    expect(JSON.parse(Buffer.from(String(h['x-amz-server-side-encryption-context']), 'base64').toString('utf8'))).toEqual(context);

    const key = pseudoRandom(32, 77);
    const md5 = createHash('md5').update(key).digest('base64');
    proxy.reset();
    await store.put('sse/c', pseudoRandom(10), { sse: { provider: 's3', algorithm: 'SSE-C', key } });
    await (await store.get('sse/c', { sse: { provider: 's3', algorithm: 'SSE-C', key } })).body.cancel();
    await store.head('sse/c', { sse: { provider: 's3', algorithm: 'SSE-C', key } });
    const { uploadId } = await store.createMultipart('sse/c-mp', { sse: { provider: 's3', algorithm: 'SSE-C', key } });
    await store.uploadPart('sse/c-mp', uploadId, 1, pseudoRandom(10), { sse: { provider: 's3', algorithm: 'SSE-C', key } });
    expect(proxy.log).toHaveLength(5);
    for (const r of proxy.log) {
      expect(r.headers['x-amz-server-side-encryption-customer-algorithm']).toBe('AES256');
      expect(r.headers['x-amz-server-side-encryption-customer-key']).toBe(Buffer.from(key).toString('base64'));
      expect(r.headers['x-amz-server-side-encryption-customer-key-md5']).toBe(md5);
    }
    // A failing SSE-C request: the key appears nowhere in the error, however deep one looks.
    const missing = s3Store({ client, bucket: 'no-such-bucket', allowInsecureHttp: true });
    const err = await expectCode(missing.get('k', { sse: { provider: 's3', algorithm: 'SSE-C', key } }), 'ERR_STORE');
    const text = inspect(err, { depth: 20, showHidden: true });
    expect(text).not.toContain(Buffer.from(key).toString('base64'));
    expect(text).not.toContain('S3RVER/'); // no credential scope / Authorization value
    await expect(store.put('sse/x', pseudoRandom(1), { sse: { provider: 's3', algorithm: 'SSE-C', key: pseudoRandom(16) } })).rejects.toBeInstanceOf(RangeError);
    await expect(store.put('sse/x', pseudoRandom(1), { sse: { provider: 'oss', algorithm: 'AES256' } })).rejects.toBeInstanceOf(TypeError);
  });

  it('surfaces the response SSE headers in ObjectInfo.sse', async () => {
    const store = s3Store({ client, bucket: 'b', allowInsecureHttp: true });
    await store.put('sse/surfaced', pseudoRandom(10));
    try {
      proxy.addResponseHeaders = { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': 'arn:aws:kms:us-east-1:111122223333:key/abc' };
      const want = { algorithm: 'aws:kms', keyId: 'arn:aws:kms:us-east-1:111122223333:key/abc' };
      expect((await store.head('sse/surfaced')).sse).toEqual(want);
      const got = await store.get('sse/surfaced');
      await got.body.cancel();
      expect(got.sse).toEqual(want);
      proxy.addResponseHeaders = { 'x-amz-server-side-encryption-customer-algorithm': 'AES256' };
      expect((await store.head('sse/surfaced')).sse).toEqual({ algorithm: 'SSE-C' });
    } finally {
      proxy.addResponseHeaders = {};
    }
    expect((await store.head('sse/surfaced')).sse).toBeUndefined();
  });

  it('keeps the HTTP status, request id and S3 code of failures', async () => {
    const store = s3Store({ client, bucket: 'b', allowInsecureHttp: true });
    try {
      proxy.addResponseHeaders = { 'x-amz-request-id': 'REQ-0123456789' };
      const e = await expectCode(store.get('nothing/here'), 'ERR_NOT_FOUND');
      expect(e.cause).toMatchObject({ status: 404, requestId: 'REQ-0123456789', code: 'NoSuchKey' });
      const h = await expectCode(store.head('nothing/here'), 'ERR_NOT_FOUND');
      expect(h.cause).toMatchObject({ status: 404, requestId: 'REQ-0123456789' });
      const noBucket = s3Store({ client, bucket: 'no-such-bucket', allowInsecureHttp: true });
      const nb = await expectCode(noBucket.get('k'), 'ERR_STORE');
      expect(nb.cause).toMatchObject({ status: 404, code: 'NoSuchBucket', requestId: 'REQ-0123456789' });
      expect(nb.message).toContain('REQ-0123456789');
    } finally {
      proxy.addResponseHeaders = {};
    }
    // (s3rver does not check SigV4 signatures, only the access key id.)
    const bad = new S3Client({ ...base, endpoint: proxy.url, credentials: { accessKeyId: 'NOT-A-KEY', secretAccessKey: 'wrong-secret' } });
    const e = await expectCode(s3Store({ client: bad, bucket: 'b', allowInsecureHttp: true }).put('k', pseudoRandom(3)), 'ERR_STORE');
    expect(e.cause).toMatchObject({ status: 403, code: 'InvalidAccessKeyId' });
    expect(e.message).not.toContain('wrong-secret');
    bad.destroy();
  });

  it('a ranged get moves only the range: one request, range-length body bytes', async () => {
    const store = s3Store({ client, bucket: 'b', allowInsecureHttp: true });
    const big = pseudoRandom(1 << 20, 8);
    await store.put('count/big', big);
    for (const [start, end] of [[1000, 2023], [65536, 65536 + 16383], [(1 << 20) - 10, (1 << 20) + 100]] as const) {
      proxy.reset();
      const got = await store.get('count/big', { range: { start, end } });
      const bytes = await bytesOf(got.body);
      const want = big.subarray(start, Math.min(end, (1 << 20) - 1) + 1);
      expect(Buffer.compare(bytes, want)).toBe(0);
      expect(proxy.requests).toBe(1);
      expect(proxy.log[0]?.headers.range).toBe(`bytes=${start}-${end}`);
      expect(proxy.bytesOut).toBe(want.length);
    }
    proxy.reset();
    expect((await store.head('count/big')).size).toBe(1 << 20);
    expect(proxy.bytesOut).toBe(0);
  });

  it('streams a body of known length, collects one of unknown length', async () => {
    const store = s3Store({ client, bucket: 'b', allowInsecureHttp: true });
    const data = pseudoRandom(200_000, 9);
    const mk = (): ReadableStream<Uint8Array> => {
      let off = 0;
      return new ReadableStream({
        pull(c) {
          if (off >= data.length) return c.close();
          c.enqueue(data.slice(off, off + 30_000));
          off += 30_000;
        },
      });
    };
    proxy.reset();
    await store.put('stream/known', mk(), { contentLength: data.length });
    await store.put('stream/unknown', mk());
    expect(proxy.log.map((r) => r.headers['content-length'])).toEqual([String(data.length), String(data.length)]);
    for (const k of ['stream/known', 'stream/unknown']) expect(Buffer.compare(await bytesOf((await store.get(k)).body), data)).toBe(0);
  });

  it('sends Content-MD5 on byte PUTs and parts when the SDK adds no checksum (WHEN_REQUIRED), and none when it does', async () => {
    const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('base64');
    const store = s3Store({ client, bucket: 'b', allowInsecureHttp: true });
    const data = pseudoRandom(70_000, 21);
    const part = pseudoRandom(5 * 1024 * 1024, 22);
    proxy.reset();
    await store.put('md5/put', data);
    const { uploadId } = await store.createMultipart('md5/mp');
    const p1 = await store.uploadPart('md5/mp', uploadId, 1, part);
    await store.completeMultipart('md5/mp', uploadId, [{ partNumber: 1, ...p1 }]);
    const puts = proxy.log.filter((r) => r.method === 'PUT');
    expect(puts.map((r) => r.headers['content-md5'])).toEqual([md5(data), md5(part)]);
    expect(Buffer.compare(await bytesOf((await store.get('md5/mp')).body), part)).toBe(0);
    // The SDK's default (flexible checksums): it sends its own CRC32, so no Content-MD5 is added.
    const flexible = new S3Client({ ...base, endpoint: proxy.url, requestChecksumCalculation: 'WHEN_SUPPORTED' });
    try {
      proxy.reset();
      await s3Store({ client: flexible, bucket: 'b', allowInsecureHttp: true }).put('md5/flex', data);
      const h = proxy.log.find((r) => r.method === 'PUT')?.headers ?? {};
      expect(h['content-md5']).toBeUndefined();
      expect(Object.keys(h).some((k) => k.startsWith('x-amz-checksum-') || k === 'x-amz-sdk-checksum-algorithm')).toBe(true);
    } finally {
      flexible.destroy();
    }
  });
});

describe('s3Store against a hostile listing', () => {
  it('stops a listing whose continuation token does not advance (ERR_STORE ListLoop)', async () => {
    let calls = 0;
    const xml = '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name><Prefix></Prefix><KeyCount>1</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>true</IsTruncated><NextContinuationToken>same</NextContinuationToken><Contents><Key>k</Key><Size>1</Size><ETag>"e"</ETag></Contents></ListBucketResult>';
    const handler = {
      handle: async () => {
        calls++;
        return { response: { statusCode: 200, headers: { 'content-type': 'application/xml', 'x-amz-request-id': 'LOOP' }, body: Readable.from([Buffer.from(xml)]) } };
      },
      metadata: { handlerProtocol: 'http/1.1' },
      updateHttpClientConfig: () => undefined,
      httpHandlerConfigs: () => ({}),
    } as unknown as S3ClientConfig['requestHandler'];
    const client = new S3Client({ ...base, endpoint: 'https://s3.example.com', requestHandler: handler });
    const store = s3Store({ client, bucket: 'b' });
    const keys: string[] = [];
    const e = await expectCode((async () => { for await (const x of store.list('')) keys.push(x.key); })(), 'ERR_STORE');
    expect((e.cause as { code?: string }).code).toBe('ListLoop');
    expect(calls).toBe(2);
    expect(keys).toEqual(['k', 'k']);
  });
});

describe('s3Store transport security', () => {
  let cert: Cert;
  let tlsServer: S3rverHandle;
  beforeAll(async () => {
    cert = selfSignedCert();
    tlsServer = await startS3rver(cert);
  });
  afterAll(async () => {
    await tlsServer.close();
  });

  it('refuses http:// without the opt-in, and non-loopback http:// even with it, sending nothing', async () => {
    const cases: [string, boolean][] = [
      ['http://127.0.0.1:9', false],
      ['http://localhost:9', false],
      ['http://[::1]:9', false],
      ['http://10.255.255.1:9000', true],
      ['http://minio.internal:9000', true],
      ['http://127.0.0.1.nip.io:9000', true],
    ];
    for (const [endpoint, allowInsecureHttp] of cases) {
      const rec = recordingHandler();
      const client = new S3Client({ ...base, endpoint, requestHandler: rec.handler });
      // The SDK resolves endpoints asynchronously: the store checks it at construction and every
      // operation waits for that verdict.
      const store = s3Store({ client, bucket: 'b', allowInsecureHttp });
      for (const op of [() => store.get('k'), () => store.head('k'), () => store.put('k', pseudoRandom(2)), () => store.createMultipart('k')]) {
        const e = await expectCode(op(), 'ERR_INSECURE_TRANSPORT');
        expect(e.message, endpoint).toContain('plain http://');
      }
      expect(rec.calls, endpoint).toBe(0);
    }
    const rec = recordingHandler();
    const tlsOff = new S3Client({ ...base, region: 'eu-west-1', tls: false, requestHandler: rec.handler });
    expect(() => s3Store({ client: tlsOff, bucket: 'b', allowInsecureHttp: true })).toThrow(expect.objectContaining({ code: 'ERR_INSECURE_TRANSPORT' }));
    expect(rec.calls).toBe(0);
  });

  it('checks every request: an endpoint provider that turns to http:// is refused before sending', async () => {
    const rec = recordingHandler();
    let scheme = 'https:';
    const client = new S3Client({ ...base, endpoint: async () => ({ protocol: scheme, hostname: 'minio.internal', port: 9000, path: '/' }), requestHandler: rec.handler });
    const store = s3Store({ client, bucket: 'b', allowInsecureHttp: true });
    await expect(store.head('k')).rejects.toBeInstanceOf(Error); // https: reached the (recording) handler
    expect(rec.calls).toBe(1);
    scheme = 'http:';
    for (const op of [() => store.head('k'), () => store.get('k'), () => store.put('k', pseudoRandom(2)), () => store.delete('k'), () => store.createMultipart('k')]) {
      await expectCode(op(), 'ERR_INSECURE_TRANSPORT');
    }
    expect(rec.calls).toBe(1);
  });

  it('refuses a client whose resolved endpoint is http:// (provider given) before the first request', async () => {
    const rec = recordingHandler();
    const client = new S3Client({ ...base, endpoint: async () => ({ protocol: 'http:', hostname: '127.0.0.1', port: 9, path: '/' }), requestHandler: rec.handler });
    const store = s3Store({ client, bucket: 'b' });
    await expectCode(store.get('k'), 'ERR_INSECURE_TRANSPORT');
    await expectCode((async () => { for await (const _ of store.list('')) void _; })(), 'ERR_INSECURE_TRANSPORT');
    expect(rec.calls).toBe(0);
  });

  it('speaks HTTPS to s3rver with a self-signed certificate trusted through the agent', async () => {
    const client = new S3Client({ ...base, endpoint: tlsServer.endpoint, requestHandler: { httpsAgent: new Agent({ ca: cert.cert, keepAlive: false }) } });
    const store = s3Store({ client, bucket: 'b' }); // no opt-in for https
    const data = pseudoRandom(100_000, 10);
    await store.put('tls/obj', data, { metadata: { over: 'tls' } });
    const got = await store.get('tls/obj', { range: { start: 5, end: 50_004 } });
    expect(got.metadata).toEqual({ over: 'tls' });
    expect(Buffer.compare(await bytesOf(got.body), data.subarray(5, 50_005))).toBe(0);
    const { uploadId } = await store.createMultipart('tls/mp');
    const p = await store.uploadPart('tls/mp', uploadId, 1, data);
    await store.completeMultipart('tls/mp', uploadId, [{ partNumber: 1, etag: p.etag }]);
    expect((await store.head('tls/mp')).size).toBe(data.length);
    client.destroy();
  });

  it('fails with ERR_STORE when the certificate is not trusted (TLS is verified)', async () => {
    const client = new S3Client({ ...base, endpoint: tlsServer.endpoint, requestHandler: { httpsAgent: new Agent({ keepAlive: false }) } });
    const e = await expectCode(s3Store({ client, bucket: 'b' }).head('tls/obj'), 'ERR_STORE');
    expect((e.cause as { status?: number }).status).toBeUndefined();
    client.destroy();
  });
});
