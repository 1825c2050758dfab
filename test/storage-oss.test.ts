/**
 * The OSS adapter through a REAL ali-oss client against the fake OSS of storage-servers.ts
 * (which verifies the V1 signature of every request): signatures and their refusal, request
 * ids, server-side encryption headers, bytes and requests of a ranged read, HTTPS with a
 * self-signed certificate, and the HTTPS-only rule (no request is sent when it refuses).
 */
import { request as httpRequest } from 'node:http';
import { Agent } from 'node:https';
import { inspect } from 'node:util';
import OSS from 'ali-oss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ossStore } from '../src/storage/oss.js';
import { Crc64 } from '../src/integrity/crc64.js';
import { expectCode, pseudoRandom } from './helpers.js';
import { FakeOss, selfSignedCert, type Cert } from './storage-servers.js';

const bytesOf = async (s: ReadableStream<Uint8Array>): Promise<Uint8Array> => new Uint8Array(await new Response(s).arrayBuffer());

function client(fake: FakeOss, over: Partial<OSS.Options> = {}): OSS {
  return new OSS({ endpoint: fake.endpoint, bucket: fake.bucket, region: 'oss-cn-hangzhou', accessKeyId: fake.accessKeyId, accessKeySecret: fake.accessKeySecret, ...over });
}

describe('ossStore over ali-oss (HTTP on loopback, opted in)', () => {
  let fake: FakeOss;
  beforeAll(async () => {
    fake = await new FakeOss().start();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('every request ali-oss sends carries a V1 signature the server verifies', async () => {
    const store = ossStore({ client: client(fake), allowInsecureHttp: true });
    fake.resetCounters();
    const before = fake.signatureFailures;
    await store.put('sig/a b+c/ü.bin', pseudoRandom(100), { metadata: { m: '1' } });
    await store.head('sig/a b+c/ü.bin');
    await (await store.get('sig/a b+c/ü.bin', { range: { start: 1, end: 2 } })).body.cancel();
    for await (const _ of store.list('sig/')) void _;
    const { uploadId } = await store.createMultipart('sig/mp');
    const p = await store.uploadPart('sig/mp', uploadId, 1, pseudoRandom(10));
    await store.completeMultipart('sig/mp', uploadId, [{ partNumber: 1, etag: p.etag }]);
    await store.copy!('sig/mp', 'sig/copy', { metadata: { n: '2' } });
    await store.delete('sig/copy');
    expect(fake.requests).toBe(9);
    expect(fake.signatureFailures).toBe(before);
    for (const r of fake.seen) expect(r.headers.authorization).toMatch(/^OSS test-ak:[A-Za-z0-9+/]{27}=$/);
  });

  it('works with V4 signatures too (authorizationV4), and a bad V4 secret is a 403', async () => {
    const store = ossStore({ client: client(fake, { authorizationV4: true } as Partial<OSS.Options>), allowInsecureHttp: true });
    const v4Before = fake.v4Requests;
    const failures = fake.signatureFailures;
    const data = pseudoRandom(3000, 31);
    await store.put('v4/a b+c.bin', data, { metadata: { v: '4' }, sse: { provider: 'oss', algorithm: 'KMS', keyId: 'k-1' } });
    const got = await store.get('v4/a b+c.bin', { range: { start: 10, end: 19 } });
    expect(Buffer.compare(await bytesOf(got.body), data.subarray(10, 20))).toBe(0);
    expect((await store.head('v4/a b+c.bin')).metadata).toEqual({ v: '4' });
    const listed: string[] = [];
    for await (const e of store.list('v4/')) listed.push(e.key);
    expect(listed).toEqual(['v4/a b+c.bin']);
    const { uploadId } = await store.createMultipart('v4/mp');
    const p = await store.uploadPart('v4/mp', uploadId, 1, data);
    await store.completeMultipart('v4/mp', uploadId, [{ partNumber: 1, etag: p.etag }]);
    await store.delete('v4/mp');
    expect(fake.v4Requests - v4Before).toBe(8);
    expect(fake.signatureFailures).toBe(failures);
    const bad = ossStore({ client: client(fake, { authorizationV4: true, accessKeySecret: 'nope' } as Partial<OSS.Options>), allowInsecureHttp: true });
    const e = await expectCode(bad.put('v4/x', data), 'ERR_STORE');
    expect(e.cause).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch', requestId: fake.lastRequestId });
  });

  it('the server really checks: a replayed request with one signed header changed is refused', async () => {
    const store = ossStore({ client: client(fake), allowInsecureHttp: true });
    const body = pseudoRandom(100, 21);
    fake.resetCounters();
    await store.put('replay/k', body, { metadata: { m: 'original' } });
    const seen = fake.seen[0];
    expect(seen?.method).toBe('PUT');
    const send = (headers: Record<string, string>): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = httpRequest(`${fake.endpoint}${seen?.url ?? ''}`, { method: 'PUT', headers }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(body);
      });
    const original = Object.fromEntries(Object.entries(seen?.headers ?? {}).map(([k, v]) => [k, String(v)]));
    expect(await send(original)).toBe(200); // the same request verifies again
    const before = fake.signatureFailures;
    expect(await send({ ...original, 'x-oss-meta-m': 'tampered' })).toBe(403);
    expect(await send({ ...original, 'x-oss-server-side-encryption': 'AES256' })).toBe(403);
    expect(await send({ ...original, 'content-type': 'text/html' })).toBe(403);
    expect(await send({ ...original, 'content-md5': 'AAAAAAAAAAAAAAAAAAAAAA==' })).toBe(403);
    expect(fake.signatureFailures).toBe(before + 4);
    expect(fake.objects.get('replay/k')?.meta).toEqual({ m: 'original' });
  });

  it('a bad secret is refused with 403 and surfaces as ERR_STORE with the status and request id', async () => {
    const store = ossStore({ client: client(fake, { accessKeySecret: 'wrong-secret' }), allowInsecureHttp: true });
    const before = fake.signatureFailures;
    for (const op of [() => store.put('k', pseudoRandom(10)), () => store.get('k'), () => store.createMultipart('k')]) {
      const e = await expectCode(op(), 'ERR_STORE');
      const cause = e.cause as { status?: number; requestId?: string; code?: string };
      expect(cause.status).toBe(403);
      expect(cause.code).toBe('SignatureDoesNotMatch');
      expect(cause.requestId).toBe(fake.lastRequestId);
      expect(e.message).toContain(fake.lastRequestId);
      expect(e.message).not.toContain('wrong-secret');
    }
    // HEAD has no error body: the status and the x-oss-request-id header still come through.
    const e = await expectCode(store.head('k'), 'ERR_STORE');
    expect((e.cause as { status?: number; requestId?: string }).status).toBe(403);
    expect((e.cause as { requestId?: string }).requestId).toBe(fake.lastRequestId);
    expect(fake.signatureFailures).toBe(before + 4);
    const other = ossStore({ client: client(fake, { accessKeyId: 'someone-else' }), allowInsecureHttp: true });
    const e2 = await expectCode(other.put('k', pseudoRandom(1)), 'ERR_STORE');
    expect((e2.cause as { code?: string }).code).toBe('InvalidAccessKeyId');
    expect(fake.objects.has('k')).toBe(false);
  });

  it('keeps credentials out of errors, even deep in their causes (ali-oss errors hold the request headers)', async () => {
    const store = ossStore({ client: client(fake, { accessKeySecret: 'wrong-secret-XYZ', stsToken: 'STS-TOKEN-SECRET-123' }), allowInsecureHttp: true });
    for (const op of [() => store.put('k', pseudoRandom(10)), () => store.get('k'), () => store.head('k'), () => store.uploadPart('k', 'u', 1, pseudoRandom(1))]) {
      const e = await expectCode(op(), 'ERR_STORE');
      const text = inspect(e, { depth: 20, showHidden: true });
      expect(text).not.toContain('STS-TOKEN-SECRET-123');
      expect(text).not.toContain('wrong-secret-XYZ');
      expect(text).not.toMatch(/OSS test-ak:/); // no Authorization header value
    }
    expect(fake.seen.at(-1)?.headers['x-oss-security-token']).toBe('STS-TOKEN-SECRET-123'); // it was sent, signed
  });

  it('a missing object is ERR_NOT_FOUND carrying status 404 and the request id', async () => {
    const store = ossStore({ client: client(fake), allowInsecureHttp: true });
    const e = await expectCode(store.get('nope'), 'ERR_NOT_FOUND');
    expect(e.cause).toMatchObject({ status: 404, code: 'NoSuchKey', requestId: fake.lastRequestId });
  });

  it('maps SSE options to x-oss-server-side-encryption (+ key id) and surfaces them', async () => {
    const store = ossStore({ client: client(fake), allowInsecureHttp: true });
    const cases = [
      { sse: { provider: 'oss', algorithm: 'AES256' } as const, want: { algorithm: 'AES256' } },
      { sse: { provider: 'oss', algorithm: 'SM4' } as const, want: { algorithm: 'SM4' } },
      { sse: { provider: 'oss', algorithm: 'KMS', keyId: 'cmk-123' } as const, want: { algorithm: 'KMS', keyId: 'cmk-123' } },
    ];
    for (const [i, c] of cases.entries()) {
      fake.resetCounters();
      await store.put(`sse/${i}`, pseudoRandom(10), { sse: c.sse });
      const sent = fake.seen[0]?.headers;
      expect(sent?.['x-oss-server-side-encryption']).toBe(c.want.algorithm);
      expect(sent?.['x-oss-server-side-encryption-key-id']).toBe(c.want.keyId);
      expect((await store.head(`sse/${i}`)).sse).toEqual(c.want);
      const got = await store.get(`sse/${i}`);
      await got.body.cancel();
      expect(got.sse).toEqual(c.want);
    }
    const { uploadId } = await store.createMultipart('sse/mp', { sse: { provider: 'oss', algorithm: 'KMS', keyId: 'cmk-9' } });
    const p = await store.uploadPart('sse/mp', uploadId, 1, pseudoRandom(10));
    await store.completeMultipart('sse/mp', uploadId, [{ partNumber: 1, etag: p.etag }]);
    expect((await store.head('sse/mp')).sse).toEqual({ algorithm: 'KMS', keyId: 'cmk-9' });
    await expect(store.put('sse/x', pseudoRandom(1), { sse: { provider: 's3', algorithm: 'AES256' } })).rejects.toBeInstanceOf(TypeError);
  });

  it('a ranged get moves only the range: one request, range-length body bytes', async () => {
    const store = ossStore({ client: client(fake), allowInsecureHttp: true });
    const big = pseudoRandom(1 << 20, 3);
    await store.put('count/big', big);
    for (const [start, end] of [[1000, 2023], [0, 0], [(1 << 20) - 10, (1 << 20) + 50]] as const) {
      fake.resetCounters();
      const got = await store.get('count/big', { range: { start, end } });
      const bytes = await bytesOf(got.body);
      const want = big.subarray(start, Math.min(end, (1 << 20) - 1) + 1);
      expect(Buffer.compare(bytes, want)).toBe(0);
      expect(fake.requests).toBe(1);
      expect(fake.bytesOut).toBe(want.length);
      expect(fake.seen[0]?.headers.range).toBe(`bytes=${start}-${end}`);
      expect(fake.seen[0]?.headers['x-oss-range-behavior']).toBe('standard');
    }
    fake.resetCounters();
    const head = await store.head('count/big');
    expect(head.size).toBe(1 << 20);
    expect(fake.bytesOut).toBe(0);
  });

  it('serves a stream body of unknown length (chunked PUT)', async () => {
    const store = ossStore({ client: client(fake), allowInsecureHttp: true });
    const data = pseudoRandom(50_000, 4);
    let off = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (off >= data.length) return c.close();
        c.enqueue(data.slice(off, off + 7000));
        off += 7000;
      },
    });
    fake.resetCounters();
    await store.put('chunked', stream);
    expect(fake.seen[0]?.headers['transfer-encoding']).toBe('chunked');
    expect(Buffer.compare(await bytesOf((await store.get('chunked')).body), data)).toBe(0);
  });

  it('stops a listing whose continuation token does not advance (ERR_STORE ListLoop)', async () => {
    const c = client(fake);
    let calls = 0;
    (c as unknown as { listV2: unknown }).listV2 = async () => {
      calls++;
      return { objects: [{ name: 'k', size: 1 }], isTruncated: true, nextContinuationToken: 'same' };
    };
    const store = ossStore({ client: c, allowInsecureHttp: true });
    const e = await expectCode((async () => { for await (const _ of store.list('')) void _; })(), 'ERR_STORE');
    expect((e.cause as { code?: string }).code).toBe('ListLoop');
    expect(calls).toBe(2);
  });

  it('rejects at once on an aborted signal, without a request', async () => {
    const store = ossStore({ client: client(fake), allowInsecureHttp: true });
    fake.resetCounters();
    const ac = new AbortController();
    ac.abort(new Error('user cancelled'));
    await expect(store.get('count/big', { signal: ac.signal })).rejects.toThrow('user cancelled');
    await expect(store.put('x', pseudoRandom(1), { signal: ac.signal })).rejects.toThrow('user cancelled');
    expect(fake.requests).toBe(0);
  });
});

describe('ossStore transport security', () => {
  let fake: FakeOss;
  let tlsFake: FakeOss;
  let cert: Cert;
  beforeAll(async () => {
    cert = selfSignedCert(['bkt.oss-cn-hangzhou.aliyuncs.com']);
    fake = await new FakeOss().start();
    tlsFake = await new FakeOss({ tls: cert }).start();
  });
  afterAll(async () => {
    await fake.close();
    await tlsFake.close();
  });

  it('refuses http:// without the opt-in, and a non-loopback http:// even with it, sending nothing', async () => {
    fake.resetCounters();
    const e = (() => {
      try {
        ossStore({ client: client(fake) });
      } catch (x) {
        return x;
      }
      return undefined;
    })();
    expect(e).toMatchObject({ code: 'ERR_INSECURE_TRANSPORT' });
    for (const endpoint of ['http://oss-cn-hangzhou.aliyuncs.com', 'http://10.0.0.1:9000', 'http://127.0.0.1.nip.io', 'http://localhost.example.com']) {
      const c = new OSS({ endpoint, bucket: 'bkt', region: 'oss-cn-hangzhou', accessKeyId: 'a', accessKeySecret: 'b' });
      let sent = 0;
      (c as unknown as { urllib: unknown }).urllib = { request: async () => { sent++; throw new Error('must not be called'); } };
      expect(() => ossStore({ client: c, allowInsecureHttp: true }), endpoint).toThrow(expect.objectContaining({ code: 'ERR_INSECURE_TRANSPORT' }));
      expect(sent).toBe(0);
    }
    expect(fake.requests).toBe(0);
  });

  it('checks the endpoint again before every request (client options are mutable)', async () => {
    const c = client(fake);
    const store = ossStore({ client: c, allowInsecureHttp: true });
    await store.put('k', pseudoRandom(3));
    let sent = 0;
    const real = (c as unknown as { urllib: { request: (...a: unknown[]) => unknown } }).urllib;
    (c as unknown as { urllib: unknown }).urllib = { request: (...a: unknown[]) => { sent++; return real.request(...a); } };
    (c as unknown as { options: { endpoint: unknown } }).options.endpoint = new URL('http://oss-cn-hangzhou.aliyuncs.com'); // switched to plain HTTP elsewhere
    for (const op of [() => store.get('k'), () => store.head('k'), () => store.put('k', pseudoRandom(1)), () => store.delete('k'), () => store.createMultipart('k')]) {
      await expectCode(op(), 'ERR_INSECURE_TRANSPORT');
    }
    expect(sent).toBe(0);
  });

  it('speaks HTTPS to a server with a self-signed certificate trusted through the agent', async () => {
    const c = new OSS({
      endpoint: tlsFake.endpoint,
      bucket: tlsFake.bucket,
      region: 'oss-cn-hangzhou',
      accessKeyId: tlsFake.accessKeyId,
      accessKeySecret: tlsFake.accessKeySecret,
      secure: true,
      httpsAgent: new Agent({ ca: cert.cert, keepAlive: false }),
    } as OSS.Options);
    const store = ossStore({ client: c }); // no opt-in needed for https
    const data = pseudoRandom(40_000, 5);
    await store.put('tls/obj', data, { metadata: { over: 'tls' } });
    const got = await store.get('tls/obj', { range: { start: 100, end: 199 } });
    expect(Buffer.compare(await bytesOf(got.body), data.subarray(100, 200))).toBe(0);
    expect(got.metadata).toEqual({ over: 'tls' });
    expect(tlsFake.signatureFailures).toBe(0);
    expect(tlsFake.requests).toBe(2);
  });

  it('fails with ERR_STORE when the certificate is not trusted (TLS is verified)', async () => {
    const c = new OSS({ endpoint: tlsFake.endpoint, bucket: tlsFake.bucket, region: 'oss-cn-hangzhou', accessKeyId: 'test-ak', accessKeySecret: 'test-secret', secure: true, httpsAgent: new Agent({ keepAlive: false }) } as OSS.Options);
    const before = tlsFake.requests;
    const e = await expectCode(ossStore({ client: c }).head('tls/obj'), 'ERR_STORE');
    expect((e.cause as { status?: number }).status).toBeUndefined(); // no HTTP answer: the TLS handshake failed
    expect(tlsFake.requests).toBe(before);
  });
});

describe('ossStore CRC-64 (x-oss-hash-crc64ecma) checks', () => {
  let fake: FakeOss;
  beforeAll(async () => {
    fake = await new FakeOss().start();
  });
  afterAll(async () => {
    await fake.close();
  });
  const store = (): ReturnType<typeof ossStore> => ossStore({ client: client(fake), allowInsecureHttp: true });
  const reset = (): void => {
    fake.crcFaults.clear();
    fake.crc64 = true;
  };
  const streamOf = (data: Uint8Array, step: number): ReadableStream<Uint8Array> => {
    let off = 0;
    return new ReadableStream<Uint8Array>({
      pull(c) {
        if (off >= data.length) return c.close();
        c.enqueue(data.slice(off, off + step));
        off += step;
      },
    });
  };
  const mismatch = async (p: Promise<unknown>): Promise<void> => {
    const e = await expectCode(p, 'ERR_STORE');
    expect(e.message).toMatch(/CRC-64 mismatch/);
    expect((e.cause as { code?: string }).code).toBe('Crc64Mismatch');
    expect((e.cause as { requestId?: string }).requestId).toMatch(/^fake-oss-/);
  };

  it('the fake returns the CRC-64/XZ of what it stored, and matching values pass on put (bytes and stream), parts, complete and full get', async () => {
    reset();
    const s = store();
    const data = pseudoRandom(30_000, 11);
    await s.put('crc/bytes', data);
    expect(fake.objects.get('crc/bytes')?.crc64).toBe(new Crc64('js').update(data).digest().toString());
    await s.put('crc/stream', streamOf(data, 4096));
    expect(Buffer.compare(await bytesOf((await s.get('crc/stream')).body), data)).toBe(0);
    const a = pseudoRandom(120 * 1024, 12);
    const b = pseudoRandom(5000, 13);
    const { uploadId } = await s.createMultipart('crc/mp');
    const p1 = await s.uploadPart('crc/mp', uploadId, 1, a);
    const p2 = await s.uploadPart('crc/mp', uploadId, 2, b);
    await s.completeMultipart('crc/mp', uploadId, [{ partNumber: 1, ...p1 }, { partNumber: 2, ...p2 }]);
    const whole = Buffer.concat([a, b]);
    expect(fake.objects.get('crc/mp')?.crc64).toBe(new Crc64('js').update(whole).digest().toString());
    expect(Buffer.compare(await bytesOf((await s.get('crc/mp')).body), whole)).toBe(0);
  });

  it('a wrong CRC-64 after a single PUT (bytes or stream) is ERR_STORE Crc64Mismatch', async () => {
    reset();
    fake.crcFaults.add('put');
    await mismatch(store().put('crc/bad-put', pseudoRandom(1000, 1)));
    await mismatch(store().put('crc/bad-put-stream', streamOf(pseudoRandom(20_000, 2), 3000)));
  });

  it('a wrong CRC-64 for a part, or for the completed object, is ERR_STORE Crc64Mismatch', async () => {
    reset();
    const s = store();
    fake.crcFaults.add('part');
    const up1 = await s.createMultipart('crc/bad-part');
    await mismatch(s.uploadPart('crc/bad-part', up1.uploadId, 1, pseudoRandom(200, 3)));
    reset();
    fake.crcFaults.add('complete');
    const up2 = await s.createMultipart('crc/bad-complete');
    const p1 = await s.uploadPart('crc/bad-complete', up2.uploadId, 1, pseudoRandom(110 * 1024, 4));
    const p2 = await s.uploadPart('crc/bad-complete', up2.uploadId, 2, pseudoRandom(10, 5));
    await mismatch(s.completeMultipart('crc/bad-complete', up2.uploadId, [{ partNumber: 1, ...p1 }, { partNumber: 2, ...p2 }]));
  });

  it('a full GET whose bytes do not match the announced CRC-64 errors the body at its end; ranged GETs are not checked', async () => {
    reset();
    const s = store();
    const data = pseudoRandom(50_000, 6);
    await s.put('crc/get', data);
    fake.crcFaults.add('get');
    const got = await s.get('crc/get');
    await mismatch(bytesOf(got.body));
    const part = await s.get('crc/get', { range: { start: 10, end: 99 } });
    expect(Buffer.compare(await bytesOf(part.body), data.subarray(10, 100))).toBe(0);
    // A stored object corrupted at rest (bytes changed, CRC kept) fails the same way.
    reset();
    fake.objects.get('crc/get')!.bytes[123]! ^= 1;
    await mismatch(bytesOf((await s.get('crc/get')).body));
  });

  it('without the header (objects older than CRC-64, emulators) nothing is checked and everything works', async () => {
    reset();
    fake.crc64 = false;
    const s = store();
    const data = pseudoRandom(2000, 8);
    await s.put('crc/none', data);
    expect(Buffer.compare(await bytesOf((await s.get('crc/none')).body), data)).toBe(0);
    reset();
  });
});
