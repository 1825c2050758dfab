/**
 * The shared storage helpers: metadata rules, HTTP ranges, the HTTPS-only rule, the bucket
 * policies, store errors, object keys and body plumbing (with fast-check properties).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EnsealError } from '../src/errors.js';
import { collectBody, exactLength, servedBody, sliceStream } from '../src/storage/body.js';
import { notFoundError, storeError, storeFailureOf } from '../src/storage/errors.js';
import { checkRange, checkServedRange, parseContentRange, rangeHeader, resolveRange } from '../src/storage/http-range.js';
import { checkMetadata, metadataFromHeaders, OSS_MAX_METADATA_BYTES, S3_MAX_METADATA_BYTES } from '../src/storage/metadata.js';
import { checkKey } from '../src/storage/object-key.js';
import { httpsOnlyPolicy } from '../src/storage/policy.js';
import { checkProtocol, checkTransport, isLoopbackHost } from '../src/storage/transport.js';
import { expectCode } from './helpers.js';

const streamOf = (parts: Uint8Array[]): ReadableStream<Uint8Array> =>
  new ReadableStream({
    pull(c) {
      const p = parts.shift();
      if (p === undefined) c.close();
      else c.enqueue(p);
    },
  });
const bytesOf = async (s: ReadableStream<Uint8Array>): Promise<Uint8Array> => new Uint8Array(await new Response(s).arrayBuffer());

describe('metadata', () => {
  it('accepts lower-case token names and printable ASCII values, returning a copy', () => {
    const md = { 'client-side-encryption-key': 'QUJD+/=', 'x-a.b_c~1': 'v a l u e', empty: '' };
    const out = checkMetadata(md, S3_MAX_METADATA_BYTES);
    expect(out).toEqual(md);
    expect(out).not.toBe(md);
    md['empty'] = 'changed';
    expect(out.empty).toBe('');
    expect(checkMetadata(undefined, 10)).toEqual({});
  });

  it.each([
    [{ note: 'a\r\nx-injected: 1' }, /not a valid header value/],
    [{ note: 'a\nb' }, /not a valid header value/],
    [{ note: 'tab\there' }, /not a valid header value/],
    [{ note: 'caf\u00e9' }, /printable US-ASCII/],
    [{ note: 'nul\0' }, /not a valid header value/],
    [{ note: ' lead' }, /white space/],
    [{ note: 'trail ' }, /white space/],
    [{ Note: 'x' }, /lower-case HTTP token/],
    [{ 'with space': 'x' }, /lower-case HTTP token/],
    [{ 'na\u00efve': 'x' }, /lower-case HTTP token/],
    [{ '': 'x' }, /lower-case HTTP token/],
    [{ 'x-amz-meta-note': 'x' }, /store prefix "x-amz-meta-"/],
    [{ 'x-oss-meta-note': 'x' }, /store prefix "x-oss-meta-"/],
    [{ note: 5 }, /string value/],
  ] as [Record<string, unknown>, RegExp][])('refuses %j with a TypeError naming the problem', (md, msg) => {
    const e = (() => {
      try {
        checkMetadata(md, S3_MAX_METADATA_BYTES);
      } catch (x) {
        return x;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(TypeError);
    expect((e as Error).message).toMatch(msg);
    expect((e as Error).message).not.toMatch(/[\r\n\t\0]/); // the bad value is escaped
  });

  it('bounds the total size per store (S3 2 KiB, OSS 8 KiB)', () => {
    const big = { note: 'x'.repeat(S3_MAX_METADATA_BYTES - 4) };
    expect(checkMetadata(big, S3_MAX_METADATA_BYTES)).toEqual(big);
    expect(() => checkMetadata({ note: 'x'.repeat(S3_MAX_METADATA_BYTES - 3) }, S3_MAX_METADATA_BYTES)).toThrow(/over the store's limit of 2048/);
    expect(() => checkMetadata({ note: 'x'.repeat(OSS_MAX_METADATA_BYTES) }, OSS_MAX_METADATA_BYTES)).toThrow(TypeError);
    expect(() => checkMetadata([], 100)).toThrow(TypeError);
    expect(() => checkMetadata('a=b', 100)).toThrow(TypeError);
  });

  it('property: whatever it accepts is header-safe and round-trips through Headers', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ maxLength: 30 }), { maxKeys: 5 }), (md) => {
        let out: Record<string, string>;
        try {
          out = checkMetadata(md, 100_000);
        } catch (e) {
          expect(e).toBeInstanceOf(TypeError);
          return;
        }
        const h = new Headers();
        for (const [k, v] of Object.entries(out)) h.set(`x-amz-meta-${k}`, v);
        expect(metadataFromHeaders(h, 'x-amz-meta-')).toEqual(out);
      }),
      { numRuns: 300 },
    );
  });

  it('reads metadata from response headers, removing the prefix and lower-casing', () => {
    expect(metadataFromHeaders({ 'X-OSS-Meta-A': '1', 'x-oss-meta-b': ['2', '3'], 'x-oss-meta-': 'no name', etag: 'x' }, 'x-oss-meta-')).toEqual({ a: '1', b: '2, 3' });
  });
});

describe('http ranges', () => {
  it('validates ranges (RangeError/TypeError) and copies them', () => {
    const r = { start: 3, end: 9 };
    const c = checkRange(r);
    expect(c).toEqual(r);
    expect(c).not.toBe(r);
    expect(checkRange({ start: 0 })).toEqual({ start: 0 });
    for (const bad of [{ start: -1 }, { start: 0.5 }, { start: 2 ** 53 }, { start: 5, end: 4 }, { start: 0, end: Number.NaN }, { start: '1' }]) expect(() => checkRange(bad)).toThrow(RangeError);
    expect(() => checkRange(null)).toThrow(TypeError);
  });

  it('builds Range and parses Content-Range strictly', () => {
    expect(rangeHeader({ start: 0, end: 1023 })).toBe('bytes=0-1023');
    expect(rangeHeader({ start: 7 })).toBe('bytes=7-');
    expect(parseContentRange('bytes 0-9/100')).toEqual({ start: 0, end: 9, size: 100 });
    expect(parseContentRange('bytes */100')).toEqual({ size: 100 });
    for (const bad of ['bytes 9-0/100', 'bytes 0-100/100', 'bytes 0-9/*', 'items 0-9/100', 'bytes -9/100', 'bytes 0-9/99999999999999999', '', undefined, null]) {
      expect(parseContentRange(bad as string), String(bad)).toBeUndefined();
    }
  });

  it('property: resolveRange agrees with what a store must serve; 416 past the end', () => {
    fc.assert(
      fc.property(fc.nat(10_000), fc.nat(12_000), fc.option(fc.nat(12_000), { nil: undefined }), (size, start, len) => {
        const range = checkRange(len === undefined ? { start } : { start, end: start + len });
        if (start >= size) {
          const e = (() => {
            try {
              resolveRange('t', range, size);
            } catch (x) {
              return x;
            }
            return undefined;
          })();
          expect(e).toBeInstanceOf(EnsealError);
          expect((e as EnsealError).code).toBe('ERR_RANGE');
          expect(storeFailureOf(e)?.status).toBe(416);
          return;
        }
        const served = resolveRange('t', range, size);
        expect(served.start).toBe(start);
        expect(served.end).toBe(Math.min(size - 1, range.end ?? size - 1));
        const header = parseContentRange(`bytes ${served.start}-${served.end}/${size}`);
        expect(checkServedRange('t', range, header, {})).toMatchObject({ start: served.start, end: served.end, size, offset: 0 });
      }),
      { numRuns: 500 },
    );
  });

  it('accepts a served superset (to be sliced) and refuses anything that does not cover the request', () => {
    expect(checkServedRange('t', { start: 0, end: 0 }, { start: 0, end: 99, size: 100 }, {})).toEqual({ start: 0, end: 0, size: 100, offset: 0, servedLength: 100 });
    expect(checkServedRange('t', { start: 10, end: 19 }, { start: 5, end: 30, size: 100 }, {})).toMatchObject({ offset: 5, servedLength: 26 });
    for (const served of [{ start: 11, end: 19, size: 100 }, { start: 10, end: 18, size: 100 }, { size: 100 }, undefined]) {
      const e = (() => {
        try {
          checkServedRange('t', { start: 10, end: 19 }, served, { status: 206, requestId: 'R' });
        } catch (x) {
          return x;
        }
        return undefined;
      })() as EnsealError;
      expect(e.code).toBe('ERR_STORE');
      expect(storeFailureOf(e)?.requestId).toBe('R');
    }
  });
});

describe('transport', () => {
  it('knows loopback hosts', () => {
    for (const h of ['localhost', 'LOCALHOST', '127.0.0.1', '127.255.0.9', '[::1]', '::1', 'localhost.']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['128.0.0.1', '127.0.0.256', '127.0.0.1.nip.io', 'localhost.example.com', 'mylocalhost', '[::ffff:7f00:1]', '10.0.0.1', '0.0.0.0', '[::]']) expect(isLoopbackHost(h), h).toBe(false);
  });

  it('https always; http only to loopback with the opt-in; other schemes and credentials are misuse', () => {
    expect(checkTransport('https://s3.amazonaws.com/b/k?x=1', false, 'x').href).toBe('https://s3.amazonaws.com/b/k?x=1');
    expect(checkTransport('http://127.0.0.1:9000/b', true, 'x').port).toBe('9000');
    expect(checkTransport('http://127.1/', true, 'x').hostname).toBe('127.0.0.1'); // WHATWG normalises
    for (const [url, allow] of [['http://127.0.0.1:9000', false], ['http://localhost', undefined], ['http://10.0.0.1', true], ['http://example.com', true], ['HTTP://EXAMPLE.COM', true]] as const) {
      const e = (() => {
        try {
          checkTransport(url, allow, 'the endpoint');
        } catch (x) {
          return x;
        }
        return undefined;
      })() as EnsealError;
      expect(e, url).toBeInstanceOf(EnsealError);
      expect(e.code).toBe('ERR_INSECURE_TRANSPORT');
      expect(e.message).toContain('the endpoint refused');
    }
    for (const url of ['ftp://example.com', 'file:///etc/passwd', 'not a url', 'https://u:p@example.com']) expect(() => checkTransport(url, true, 'x'), url).toThrow(TypeError);
    expect(() => checkProtocol('http', 'evil\u001b[2J', true, 'x')).toThrow(expect.objectContaining({ message: expect.not.stringContaining('\u001b') }));
  });
});

describe('httpsOnlyPolicy', () => {
  it('OSS: denies oss:* when acs:SecureTransport is false, on the bucket and its objects', () => {
    const p = JSON.parse(httpsOnlyPolicy({ provider: 'oss', bucket: 'photos-1' })) as Record<string, unknown>;
    expect(p).toEqual({
      Version: '1',
      Statement: [{ Effect: 'Deny', Action: ['oss:*'], Principal: ['*'], Resource: ['acs:oss:*:*:photos-1', 'acs:oss:*:*:photos-1/*'], Condition: { Bool: { 'acs:SecureTransport': ['false'] } } }],
    });
  });

  it('S3: denies s3:* when aws:SecureTransport is false, per partition', () => {
    const p = JSON.parse(httpsOnlyPolicy({ provider: 's3', bucket: 'my.bucket' })) as { Version: string; Statement: Record<string, unknown>[] };
    expect(p.Version).toBe('2012-10-17');
    expect(p.Statement[0]).toEqual({ Sid: 'DenyInsecureTransport', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: ['arn:aws:s3:::my.bucket', 'arn:aws:s3:::my.bucket/*'], Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    const cn = JSON.parse(httpsOnlyPolicy({ provider: 's3', bucket: 'b-cn', partition: 'aws-cn' })) as { Statement: { Resource: string[] }[] };
    expect(cn.Statement[0]?.Resource[0]).toBe('arn:aws-cn:s3:::b-cn');
  });

  it('refuses bucket names the provider does not allow (no injection into the policy)', () => {
    for (const bucket of ['', 'ab', 'UPPER', 'a"b', 'a/b', 'bucket*', '-lead', 'x'.repeat(64)]) {
      expect(() => httpsOnlyPolicy({ provider: 's3', bucket }), bucket).toThrow(TypeError);
      expect(() => httpsOnlyPolicy({ provider: 'oss', bucket }), bucket).toThrow(TypeError);
    }
    expect(() => httpsOnlyPolicy({ provider: 'oss', bucket: 'a.b' })).toThrow(TypeError); // OSS: no dots
    expect(() => httpsOnlyPolicy({ provider: 's3', bucket: '192.168.1.1' })).toThrow(TypeError);
    expect(() => httpsOnlyPolicy({ provider: 'gcs' as 's3', bucket: 'b12' })).toThrow(TypeError);
  });
});

describe('store errors and keys', () => {
  it('ERR_STORE and ERR_NOT_FOUND keep the failure as cause and escape what they print', () => {
    const e = storeError('s3://b', 'get "k"', { status: 503, requestId: 'R\n1', code: 'SlowDown' });
    expect(e.code).toBe('ERR_STORE');
    expect(e.message).toBe('s3://b: get "k" failed (HTTP 503, SlowDown, request id R\\n1)');
    expect(storeFailureOf(e)).toEqual({ status: 503, requestId: 'R\n1', code: 'SlowDown' });
    const n = notFoundError('fs:/d', 'a\u001b[31m"b');
    expect(n.code).toBe('ERR_NOT_FOUND');
    expect(n.message).toBe('fs:/d: no object "a\\x1b[31m\\"b"');
    expect(storeFailureOf(new Error('x'))).toBeUndefined();
  });

  it('checks keys: 1..1024 UTF-8 bytes, no NUL, no lone surrogate', () => {
    expect(checkKey('a/b')).toBe('a/b');
    expect(checkKey('é'.repeat(512))).toHaveLength(512);
    expect(() => checkKey('é'.repeat(513))).toThrow(RangeError);
    expect(() => checkKey('')).toThrow(RangeError);
    expect(() => checkKey('a\0b')).toThrow(TypeError);
    expect(() => checkKey('\ud800')).toThrow(TypeError);
    expect(() => checkKey(5)).toThrow(TypeError);
  });
});

describe('body plumbing', () => {
  it('exactLength errors a short or long body with ERR_STORE, passes an exact one', async () => {
    const parts = (): Uint8Array[] => [new Uint8Array(3), new Uint8Array(4)];
    expect((await bytesOf(exactLength(streamOf(parts()), 7, 't'))).length).toBe(7);
    await expectCode(bytesOf(exactLength(streamOf(parts()), 8, 't', { status: 206 })), 'ERR_STORE');
    await expectCode(bytesOf(exactLength(streamOf(parts()), 6, 't')), 'ERR_STORE');
  });

  it('property: sliceStream and servedBody return exactly the asked bytes for any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 10 }), fc.nat(), fc.nat(), async (data, cuts, a, b) => {
        const start = a % data.length;
        const end = start + (b % (data.length - start));
        const chunked = (): Uint8Array[] => {
          const out: Uint8Array[] = [];
          for (let off = 0, i = 0; off < data.length; i++) {
            const n = cuts[i % cuts.length] as number;
            out.push(data.slice(off, off + n));
            off += n;
          }
          return out;
        };
        expect(await bytesOf(sliceStream(streamOf(chunked()), start, end))).toEqual(data.subarray(start, end + 1));
        const served = checkServedRange('t', { start, end }, { start: 0, end: data.length - 1, size: data.length }, {});
        expect(await bytesOf(servedBody(streamOf(chunked()), served, 't', {}))).toEqual(data.subarray(start, end + 1));
      }),
      { numRuns: 200 },
    );
  });

  it('collectBody concatenates, bounds and refuses non-byte chunks', async () => {
    expect(await collectBody(streamOf([Uint8Array.of(1), Uint8Array.of(2, 3)]))).toEqual(Uint8Array.of(1, 2, 3));
    await expect(collectBody(streamOf([new Uint8Array(5), new Uint8Array(5)]), undefined, 8)).rejects.toBeInstanceOf(RangeError);
    await expect(collectBody(new ReadableStream({ start: (c) => c.enqueue('text' as never) }))).rejects.toBeInstanceOf(TypeError);
  });
});
