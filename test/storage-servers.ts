/**
 * Servers for the storage-adapter tests, all on 127.0.0.1, started and stopped by the tests:
 *
 * - {@link FakeOss}: the OSS REST calls the `ossStore` adapter uses (PUT/GET with Range/HEAD/
 *   DELETE/ListObjects(V2)/multipart/copy), over HTTP or HTTPS, which VERIFIES every request's
 *   OSS V1 signature (`Authorization: OSS ak:base64(HMAC-SHA1(secret, VERB\nContent-MD5\n
 *   Content-Type\nDate\nCanonicalizedOSSHeaders+CanonicalizedResource))`) or V4 signature
 *   (`OSS4-HMAC-SHA256`), written here from the OSS documentation with node:crypto, and the
 *   Content-MD5 of bodies; it counts requests and body bytes;
 * - {@link startS3rver}: npm `s3rver` (HTTP or HTTPS);
 * - {@link CountingProxy}: an HTTP reverse proxy that counts requests and bytes, records the
 *   requests, and can add response headers;
 * - {@link selfSignedCert}: a throw-away certificate for 127.0.0.1/localhost made with openssl.
 */
import { execFileSync } from 'node:child_process';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// The TypeScript CRC-64/XZ of the library (checked bit by bit in test/integrity.test.ts): the
// fake computes the whole object's CRC directly, never by combining parts as the client does.
import { crc64Register } from '../src/integrity/crc64-table.js';

/** A PEM key and certificate. */
export interface Cert {
  readonly key: string;
  readonly cert: string;
}

/**
 * A self-signed certificate for 127.0.0.1 and localhost (openssl, 1 day, EC P-256), plus
 * `extraDns` names (ali-oss validates an IP endpoint's certificate against its Host header,
 * `<bucket>.<region>.aliyuncs.com`).
 */
export function selfSignedCert(extraDns: readonly string[] = []): Cert {
  const dir = mkdtempSync(join(tmpdir(), 'enseal-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1',
        '-subj', '/CN=127.0.0.1', '-addext', `subjectAltName=${['IP:127.0.0.1', 'DNS:localhost', ...extraDns.map((d) => `DNS:${d}`)].join(',')}`,
      ],
      { stdio: 'pipe', timeout: 30_000 },
    );
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Tracks sockets so close() does not wait for keep-alive connections. */
class Tracked {
  readonly sockets = new Set<Socket>();
  constructor(readonly server: Server) {
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }
  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return (this.server.address() as AddressInfo).port;
  }
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

// ---------------------------------------------------------------------------------------------
// Fake OSS

interface OssObject {
  bytes: Buffer;
  meta: Record<string, string>;
  etag: string;
  lastModified: Date;
  sse?: { algorithm: string; keyId?: string };
  contentType?: string;
  /** CRC-64/XZ of `bytes` as OSS stores it (decimal), returned as x-oss-hash-crc64ecma. */
  crc64?: string;
}

/** Where the fake OSS can lie about the CRC-64 it returns (tests of the client's check). */
export type OssCrcFault = 'put' | 'part' | 'complete' | 'get';

/** CRC-64/XZ of `b`, the way OSS computes x-oss-hash-crc64ecma (decimal string). */
const ossCrc64 = (b: Uint8Array): string => (crc64Register(0xffffffffffffffffn, b) ^ 0xffffffffffffffffn).toString();

/** A request as the fake OSS saw it. */
export interface SeenOssRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly bodyBytes: number;
}

/** Sub-resources that enter the V1 CanonicalizedResource (the OSS signing documentation). */
const SIGNED_SUBRESOURCES = new Set([
  'acl', 'uploads', 'location', 'cors', 'logging', 'website', 'referer', 'lifecycle', 'delete', 'append', 'tagging',
  'objectMeta', 'uploadId', 'partNumber', 'security-token', 'position', 'img', 'style', 'styleName', 'replication',
  'replicationProgress', 'replicationLocation', 'cname', 'bucketInfo', 'comp', 'qos', 'live', 'status', 'vod',
  'startTime', 'endTime', 'symlink', 'x-oss-process', 'response-content-type', 'response-content-language',
  'response-expires', 'response-cache-control', 'response-content-disposition', 'response-content-encoding',
  'restore', 'callback', 'callback-var', 'policy', 'encryption', 'versions', 'versioning', 'versionId',
  'sequential', 'continuation-token',
]);

const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Options of {@link FakeOss}. */
export interface FakeOssOptions {
  readonly bucket?: string;
  readonly accessKeyId?: string;
  readonly accessKeySecret?: string;
  /** Serve HTTPS with this certificate. */
  readonly tls?: Cert;
  /** Accept unsigned requests (a public bucket, for fetchStore). */
  readonly anonymous?: boolean;
  /** Region a V4 signature must name (default `cn-hangzhou`). */
  readonly region?: string;
}

/** A local OSS stand-in that verifies ali-oss's V1 signatures. */
export class FakeOss {
  readonly bucket: string;
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly objects = new Map<string, OssObject>();
  readonly uploads = new Map<string, { key: string; meta: Record<string, string>; sse?: OssObject['sse']; parts: Map<number, { bytes: Buffer; etag: string }> }>();
  readonly seen: SeenOssRequest[] = [];
  requests = 0;
  bytesOut = 0;
  bytesIn = 0;
  signatureFailures = 0;
  /** Return x-oss-hash-crc64ecma like real OSS (false: like an emulator without CRC-64). */
  crc64 = true;
  /** Responses whose CRC-64 is reported wrong (its lowest bit flipped). */
  readonly crcFaults = new Set<OssCrcFault>();
  /** Requests signed with V4. */
  v4Requests = 0;
  /** The request id of the last answer. */
  lastRequestId = '';
  #tracked: Tracked;
  #port = 0;
  #seq = 0;

  constructor(readonly opts: FakeOssOptions = {}) {
    this.bucket = opts.bucket ?? 'bkt';
    this.accessKeyId = opts.accessKeyId ?? 'test-ak';
    this.accessKeySecret = opts.accessKeySecret ?? 'test-secret';
    const handler = (req: IncomingMessage, res: ServerResponse): void => void this.#serve(req, res);
    const server = opts.tls === undefined ? createHttpServer(handler) : createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, handler);
    this.#tracked = new Tracked(server);
  }

  /** `http(s)://127.0.0.1:port` */
  get endpoint(): string {
    return `${this.opts.tls === undefined ? 'http' : 'https'}://127.0.0.1:${this.#port}`;
  }

  async start(): Promise<this> {
    this.#port = await this.#tracked.listen();
    return this;
  }

  async close(): Promise<void> {
    await this.#tracked.close();
  }

  resetCounters(): void {
    this.requests = 0;
    this.bytesOut = 0;
    this.bytesIn = 0;
    this.seen.length = 0;
  }

  #send(res: ServerResponse, status: number, headers: Record<string, string>, body?: Buffer | string, head = false): void {
    const buf = body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
    res.writeHead(status, { 'x-oss-request-id': headers['x-oss-request-id'] ?? '', 'content-length': String(buf.length), ...headers });
    if (!head) {
      this.bytesOut += buf.length;
      res.end(buf);
    } else res.end();
  }

  #error(res: ServerResponse, rid: string, status: number, code: string, message: string, head = false): void {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message><RequestId>${rid}</RequestId><HostId>fake-oss</HostId></Error>`;
    // OSS repeats the error document in x-oss-err (base64) for answers without a body (HEAD).
    this.#send(res, status, { 'content-type': 'application/xml', 'x-oss-request-id': rid, 'x-oss-err': Buffer.from(xml).toString('base64') }, head ? undefined : xml, head);
  }

  /**
   * V4 signature check (OSS4-HMAC-SHA256: canonical request of verb, URI-encoded /bucket/key,
   * sorted encoded query, content-type/content-md5/x-oss-* plus additional headers, additional
   * header names, payload hash; HMAC-SHA256 key chain "aliyun_v4"+secret → date → region → oss
   * → aliyun_v4_request).
   */
  #verifyV4(req: IncomingMessage, auth: string, key: string, query: URLSearchParams): string | undefined {
    const m = /^OSS4-HMAC-SHA256 Credential=([^/,]+)\/(\d{8})\/([^/,]+)\/oss\/aliyun_v4_request,(?:AdditionalHeaders=([^,]*),)?Signature=([0-9a-f]{64})$/.exec(auth);
    if (m === null) return 'InvalidArgument';
    const [, ak, day, region, additional, signature] = m as unknown as [string, string, string, string, string | undefined, string];
    if (ak !== this.accessKeyId) return 'InvalidAccessKeyId';
    if (region !== (this.opts.region ?? 'cn-hangzhou')) return 'SignatureDoesNotMatch';
    const h = req.headers;
    const stamp = String(h['x-oss-date'] ?? '');
    const t = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(stamp);
    if (t === null || stamp.slice(0, 8) !== day) return 'RequestTimeTooSkewed';
    const when = Date.UTC(Number(t[1]), Number(t[2]) - 1, Number(t[3]), Number(t[4]), Number(t[5]), Number(t[6]));
    if (Math.abs(Date.now() - when) > 15 * 60_000) return 'RequestTimeTooSkewed';
    const enc = (x: string): string => encodeURIComponent(x).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    const uri = enc(`/${this.bucket}/${key}`).replace(/%2F/g, '/');
    const q = [...query.keys()].sort().map((k) => {
      const v = query.get(k) ?? '';
      return v === '' ? enc(k) : `${enc(k)}=${enc(v)}`;
    });
    const extra = additional === undefined || additional === '' ? [] : additional.split(';');
    const names = new Set(extra);
    for (const k of Object.keys(h)) if (k === 'content-type' || k === 'content-md5' || k.startsWith('x-oss-')) names.add(k);
    for (const n of names) if (h[n] === undefined) return 'SignatureDoesNotMatch';
    const canonicalHeaders = [...names].sort().map((n) => `${n}:${String(h[n]).trim()}\n`).join('');
    const canonical = [req.method ?? '', uri, q.join('&'), canonicalHeaders, extra.join(';'), String(h['x-oss-content-sha256'] ?? 'UNSIGNED-PAYLOAD')].join('\n');
    const toSign = ['OSS4-HMAC-SHA256', stamp, `${day}/${region}/oss/aliyun_v4_request`, createHash('sha256').update(canonical).digest('hex')].join('\n');
    let k = createHmac('sha256', `aliyun_v4${this.accessKeySecret}`).update(day).digest();
    for (const part of [region, 'oss', 'aliyun_v4_request']) k = createHmac('sha256', k).update(part).digest();
    const want = createHmac('sha256', k).update(toSign).digest();
    const got = Buffer.from(signature, 'hex');
    return got.length === want.length && timingSafeEqual(got, want) ? undefined : 'SignatureDoesNotMatch';
  }

  /** V1 (or V4) signature check; returns an error code or undefined. */
  #verify(req: IncomingMessage, key: string, query: URLSearchParams, body: Buffer): string | undefined {
    const auth = req.headers.authorization;
    if (auth === undefined) return this.opts.anonymous === true ? undefined : 'AccessDenied';
    const md5v4 = (req.headers['content-md5'] as string | undefined) ?? '';
    if (md5v4 !== '' && createHash('md5').update(body).digest('base64') !== md5v4) return 'InvalidDigest';
    if (auth.startsWith('OSS4-HMAC-SHA256 ')) {
      this.v4Requests++;
      return this.#verifyV4(req, auth, key, query);
    }
    const m = /^OSS ([^:]+):(.+)$/.exec(auth);
    if (m === null) return 'InvalidArgument';
    if (m[1] !== this.accessKeyId) return 'InvalidAccessKeyId';
    const h = req.headers;
    const md5 = (h['content-md5'] as string | undefined) ?? '';
    if (md5 !== '' && createHash('md5').update(body).digest('base64') !== md5) return 'InvalidDigest';
    const date = (h['x-oss-date'] as string | undefined) ?? (h.date as string | undefined) ?? '';
    const when = Date.parse(date);
    if (Number.isNaN(when) || Math.abs(Date.now() - when) > 15 * 60_000) return 'RequestTimeTooSkewed';
    const ossHeaders = Object.keys(h)
      .filter((k) => k.startsWith('x-oss-'))
      .sort()
      .map((k) => `${k}:${String(h[k]).trim()}`);
    const sub = [...new Set([...query.keys()].filter((k) => SIGNED_SUBRESOURCES.has(k)))].sort().map((k) => {
      const v = query.get(k) ?? '';
      return v === '' ? k : `${k}=${v}`;
    });
    const resource = `/${this.bucket}/${key}${sub.length === 0 ? '' : `?${sub.join('&')}`}`;
    const toSign = [req.method ?? '', md5, (h['content-type'] as string | undefined) ?? '', date, ...ossHeaders, resource].join('\n');
    const want = createHmac('sha1', this.accessKeySecret).update(toSign, 'utf8').digest();
    const got = Buffer.from(m[2] as string, 'base64');
    if (got.length !== want.length || !timingSafeEqual(got, want)) return 'SignatureDoesNotMatch';
    return undefined;
  }

  #meta(h: IncomingMessage['headers']): Record<string, string> {
    const meta: Record<string, string> = {};
    for (const [k, v] of Object.entries(h)) if (k.startsWith('x-oss-meta-')) meta[k.slice(11)] = String(v);
    return meta;
  }

  #sse(h: IncomingMessage['headers']): OssObject['sse'] {
    const a = h['x-oss-server-side-encryption'] as string | undefined;
    if (a === undefined) return undefined;
    const keyId = h['x-oss-server-side-encryption-key-id'] as string | undefined;
    return keyId === undefined ? { algorithm: a } : { algorithm: a, keyId };
  }

  #objectHeaders(o: OssObject, rid: string): Record<string, string> {
    const out: Record<string, string> = {
      'x-oss-request-id': rid,
      etag: `"${o.etag}"`,
      'last-modified': o.lastModified.toUTCString(),
      'content-type': o.contentType ?? 'application/octet-stream',
      'accept-ranges': 'bytes',
    };
    if (this.crc64 && o.crc64 !== undefined) out['x-oss-hash-crc64ecma'] = this.#crcFor(o.crc64, 'get');
    for (const [k, v] of Object.entries(o.meta)) out[`x-oss-meta-${k}`] = v;
    if (o.sse !== undefined) {
      out['x-oss-server-side-encryption'] = o.sse.algorithm;
      if (o.sse.keyId !== undefined) out['x-oss-server-side-encryption-key-id'] = o.sse.keyId;
    }
    return out;
  }

  /** The CRC-64 header value to return for `op` (wrong when a fault is injected for it). */
  #crcFor(crc: string, op: OssCrcFault): string {
    return this.crcFaults.has(op) ? (BigInt(crc) ^ 1n).toString() : crc;
  }

  #crcHeader(bytes: Uint8Array, op: OssCrcFault): Record<string, string> {
    return this.crc64 ? { 'x-oss-hash-crc64ecma': this.#crcFor(ossCrc64(bytes), op) } : {};
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    this.requests++;
    this.bytesIn += body.length;
    this.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodyBytes: body.length });
    const rid = `fake-oss-${++this.#seq}-${randomBytes(4).toString('hex')}`;
    this.lastRequestId = rid;
    const method = req.method ?? 'GET';
    const head = method === 'HEAD';
    const url = new URL(req.url ?? '/', 'http://x');
    const host = String(req.headers.host ?? '');
    let path = url.pathname;
    if (!host.startsWith(`${this.bucket}.`)) {
      // Path-style: /bucket/key
      if (path !== `/${this.bucket}` && !path.startsWith(`/${this.bucket}/`)) return this.#error(res, rid, 404, 'NoSuchBucket', 'no such bucket', head);
      path = path.slice(this.bucket.length + 1) || '/';
    }
    let key: string;
    try {
      key = decodeURIComponent(path.slice(1));
    } catch {
      return this.#error(res, rid, 400, 'InvalidObjectName', 'bad object name', head);
    }
    const q = url.searchParams;
    const bad = this.#verify(req, key, q, body);
    if (bad !== undefined) {
      this.signatureFailures++;
      return this.#error(res, rid, 403, bad, 'The request signature we calculated does not match the signature you provided.', head);
    }
    const h = req.headers;

    if (key === '') {
      if (method !== 'GET') return this.#error(res, rid, 405, 'MethodNotAllowed', 'method not allowed');
      return this.#list(res, rid, q);
    }

    if (method === 'POST' && q.has('uploads')) {
      const uploadId = randomBytes(16).toString('hex').toUpperCase();
      const sse = this.#sse(h);
      this.uploads.set(uploadId, { key, meta: this.#meta(h), parts: new Map(), ...(sse === undefined ? {} : { sse }) });
      const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<InitiateMultipartUploadResult><Bucket>${this.bucket}</Bucket><Key>${xmlEscape(key)}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`;
      return this.#send(res, 200, { 'content-type': 'application/xml', 'x-oss-request-id': rid }, xml);
    }
    if (method === 'PUT' && q.has('uploadId')) {
      const up = this.uploads.get(q.get('uploadId') ?? '');
      if (up === undefined || up.key !== key) return this.#error(res, rid, 404, 'NoSuchUpload', 'no such upload');
      const n = Number(q.get('partNumber'));
      if (!Number.isInteger(n) || n < 1 || n > 10000) return this.#error(res, rid, 400, 'InvalidArgument', 'bad part number');
      const etag = createHash('md5').update(body).digest('hex').toUpperCase();
      up.parts.set(n, { bytes: body, etag });
      return this.#send(res, 200, { etag: `"${etag}"`, 'x-oss-request-id': rid, ...this.#crcHeader(body, 'part') });
    }
    if (method === 'POST' && q.has('uploadId')) {
      const id = q.get('uploadId') ?? '';
      const up = this.uploads.get(id);
      if (up === undefined || up.key !== key) return this.#error(res, rid, 404, 'NoSuchUpload', 'no such upload');
      const parts = [...body.toString('utf8').matchAll(/<Part>\s*<PartNumber>(\d+)<\/PartNumber>\s*<ETag>"?([^<"]*)"?<\/ETag>\s*<\/Part>/g)].map((m) => ({ n: Number(m[1]), etag: m[2] as string }));
      if (parts.length === 0) return this.#error(res, rid, 400, 'MalformedXML', 'no parts');
      const bufs: Buffer[] = [];
      let prev = 0;
      for (const [i, p] of parts.entries()) {
        if (p.n <= prev) return this.#error(res, rid, 400, 'InvalidPartOrder', 'parts out of order');
        prev = p.n;
        const stored = up.parts.get(p.n);
        if (stored === undefined || stored.etag !== p.etag.toUpperCase()) return this.#error(res, rid, 400, 'InvalidPart', `part ${p.n}`);
        if (i < parts.length - 1 && stored.bytes.length < 100 * 1024) return this.#error(res, rid, 400, 'EntityTooSmall', `part ${p.n} too small`);
        bufs.push(stored.bytes);
      }
      const bytes = Buffer.concat(bufs);
      const etag = `${createHash('md5').update(bytes).digest('hex').toUpperCase()}-${parts.length}`;
      this.objects.set(key, { bytes, meta: up.meta, etag, lastModified: new Date(), crc64: ossCrc64(bytes), ...(up.sse === undefined ? {} : { sse: up.sse }) });
      this.uploads.delete(id);
      const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUploadResult><Bucket>${this.bucket}</Bucket><Key>${xmlEscape(key)}</Key><ETag>"${etag}"</ETag></CompleteMultipartUploadResult>`;
      return this.#send(res, 200, { 'content-type': 'application/xml', etag: `"${etag}"`, 'x-oss-request-id': rid, ...this.#crcHeader(bytes, 'complete') }, xml);
    }
    if (method === 'DELETE' && q.has('uploadId')) {
      const id = q.get('uploadId') ?? '';
      if (!this.uploads.has(id)) return this.#error(res, rid, 404, 'NoSuchUpload', 'no such upload');
      this.uploads.delete(id);
      return this.#send(res, 204, { 'x-oss-request-id': rid });
    }
    if (method === 'PUT' && h['x-oss-copy-source'] !== undefined) {
      const src = decodeURIComponent(String(h['x-oss-copy-source']).replace(new RegExp(`^/${this.bucket}/`), ''));
      const o = this.objects.get(src);
      if (o === undefined) return this.#error(res, rid, 404, 'NoSuchKey', 'The specified key does not exist.');
      const replace = h['x-oss-metadata-directive'] === 'REPLACE';
      const sse = this.#sse(h) ?? o.sse;
      const copy: OssObject = { ...o, meta: replace ? this.#meta(h) : { ...o.meta }, lastModified: new Date(), ...(sse === undefined ? {} : { sse }) };
      this.objects.set(key, copy);
      const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<CopyObjectResult><ETag>"${o.etag}"</ETag><LastModified>${copy.lastModified.toISOString()}</LastModified></CopyObjectResult>`;
      return this.#send(res, 200, { 'content-type': 'application/xml', 'x-oss-request-id': rid }, xml);
    }
    if (method === 'PUT') {
      const etag = createHash('md5').update(body).digest('hex').toUpperCase();
      const sse = this.#sse(h);
      const o: OssObject = { bytes: body, meta: this.#meta(h), etag, lastModified: new Date(), crc64: ossCrc64(body), ...(sse === undefined ? {} : { sse }) };
      this.objects.set(key, o);
      return this.#send(res, 200, { etag: `"${etag}"`, 'x-oss-request-id': rid, ...this.#crcHeader(body, 'put'), ...(sse === undefined ? {} : { 'x-oss-server-side-encryption': sse.algorithm }) });
    }
    if (method === 'DELETE') {
      this.objects.delete(key);
      return this.#send(res, 204, { 'x-oss-request-id': rid });
    }
    if (method === 'GET' || method === 'HEAD') {
      const o = this.objects.get(key);
      if (o === undefined) return this.#error(res, rid, 404, 'NoSuchKey', 'The specified key does not exist.', head);
      const headers = this.#objectHeaders(o, rid);
      const range = /^bytes=(\d+)-(\d*)$/.exec(String(h.range ?? ''));
      if (range !== null && !head) {
        const size = o.bytes.length;
        const start = Number(range[1]);
        const end = range[2] === '' ? size - 1 : Math.min(size - 1, Number(range[2]));
        if (start >= size || end < start) {
          if (h['x-oss-range-behavior'] === 'standard') {
            return this.#error(res, rid, 416, 'InvalidRange', 'The requested range cannot be satisfied');
          }
          return this.#send(res, 200, headers, o.bytes);
        }
        return this.#send(res, 206, { ...headers, 'content-range': `bytes ${start}-${end}/${size}` }, o.bytes.subarray(start, end + 1));
      }
      if (head) {
        res.writeHead(200, { ...headers, 'content-length': String(o.bytes.length) });
        res.end();
        return;
      }
      return this.#send(res, 200, headers, o.bytes);
    }
    return this.#error(res, rid, 405, 'MethodNotAllowed', 'method not allowed');
  }

  #list(res: ServerResponse, rid: string, q: URLSearchParams): void {
    const v2 = q.get('list-type') === '2';
    const prefix = q.get('prefix') ?? '';
    const max = Math.min(1000, Number(q.get('max-keys') ?? 100) || 100);
    const after = v2 ? (q.get('continuation-token') ?? q.get('start-after') ?? '') : (q.get('marker') ?? '');
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const page = keys.slice(0, max);
    const truncated = keys.length > max;
    const contents = page
      .map((k) => {
        const o = this.objects.get(k) as OssObject;
        return `<Contents><Key>${xmlEscape(k)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified><ETag>"${o.etag}"</ETag><Type>Normal</Type><Size>${o.bytes.length}</Size><StorageClass>Standard</StorageClass></Contents>`;
      })
      .join('');
    const last = page[page.length - 1] ?? '';
    const tail = v2
      ? `<KeyCount>${page.length}</KeyCount>${truncated ? `<NextContinuationToken>${xmlEscape(last)}</NextContinuationToken>` : ''}`
      : truncated ? `<NextMarker>${xmlEscape(last)}</NextMarker>` : '';
    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult><Name>${this.bucket}</Name><Prefix>${xmlEscape(prefix)}</Prefix><MaxKeys>${max}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${contents}${tail}</ListBucketResult>`;
    this.#send(res, 200, { 'content-type': 'application/xml', 'x-oss-request-id': rid }, xml);
  }
}

// ---------------------------------------------------------------------------------------------
// s3rver

/** A running s3rver with bucket `b`. */
export interface S3rverHandle {
  readonly endpoint: string;
  close(): Promise<void>;
}

/**
 * s3rver 3.7.1 answers a PUT before its file is written (`putObject` resolves right after
 * `writeStream.end(...)`), so a GET or HEAD just after a PUT can see 0 or fewer bytes: real S3
 * is read-after-write consistent. Once per process, its store's `putObject` is made to return
 * only when the file on disk has the size it reports (bounded wait).
 */
let patched = false;
async function readAfterWrite(): Promise<void> {
  if (patched) return;
  patched = true;
  // @ts-expect-error s3rver ships no type declarations
  const { default: Store } = (await import('s3rver/lib/stores/filesystem.js')) as unknown as {
    default: { prototype: { putObject(o: { bucket: string; key: string }): Promise<{ size: number }>; getResourcePath(b: string, k: string, t: string): string } };
  };
  const original = Store.prototype.putObject;
  Store.prototype.putObject = async function (this: typeof Store.prototype, object: { bucket: string; key: string }) {
    const r = await original.call(this, object);
    const file = this.getResourcePath(object.bucket, object.key, 'object');
    for (let i = 0; i < 400; i++) {
      try {
        if (statSync(file).size === r.size) break;
      } catch {
        // not there yet
      }
      await new Promise((res) => setTimeout(res, 5));
    }
    return r;
  };
}

/** Starts s3rver on 127.0.0.1 (HTTPS with `tls`) with bucket `b`, in a fresh temp directory. */
export async function startS3rver(tls?: Cert): Promise<S3rverHandle> {
  // @ts-expect-error s3rver ships no type declarations
  const { default: S3rver } = (await import('s3rver')) as unknown as { default: new (o: object) => { run(): Promise<AddressInfo>; close(): Promise<void> } };
  await readAfterWrite();
  const directory = mkdtempSync(join(tmpdir(), 'enseal-s3rver-'));
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory,
    configureBuckets: [{ name: 'b' }],
    ...(tls === undefined ? {} : { key: tls.key, cert: tls.cert }),
  });
  const addr = await server.run();
  return {
    endpoint: `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${addr.port}`,
    async close() {
      const httpServer = (server as unknown as { httpServer?: { closeAllConnections?: () => void } }).httpServer;
      httpServer?.closeAllConnections?.();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Counting proxy

/** A request as the proxy forwarded it. */
export interface ProxiedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly status: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** An HTTP reverse proxy in front of `target` that counts what passes. */
export class CountingProxy {
  readonly log: ProxiedRequest[] = [];
  /** Headers added to every response (e.g. SSE headers a test server does not send). */
  addResponseHeaders: Record<string, string> = {};
  #tracked: Tracked;
  #port = 0;

  constructor(readonly target: string) {
    const t = new URL(target);
    this.#tracked = new Tracked(
      createHttpServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = Buffer.concat(chunks);
          const up = httpRequest(
            { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers },
            (ur) => {
              let out = 0;
              const headers = { ...ur.headers, ...this.addResponseHeaders };
              res.writeHead(ur.statusCode ?? 502, headers);
              ur.on('data', (c: Buffer) => {
                out += c.length;
                res.write(c);
              });
              ur.on('end', () => {
                this.log.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, status: ur.statusCode ?? 0, bytesIn: body.length, bytesOut: out });
                res.end();
              });
              ur.on('error', () => res.destroy());
            },
          );
          up.on('error', () => {
            res.writeHead(502);
            res.end();
          });
          up.end(body);
        });
      }),
    );
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get requests(): number {
    return this.log.length;
  }

  /** Response body bytes of the logged requests. */
  get bytesOut(): number {
    return this.log.reduce((n, r) => n + r.bytesOut, 0);
  }

  reset(): void {
    this.log.length = 0;
  }

  async start(): Promise<this> {
    this.#port = await this.#tracked.listen();
    return this;
  }

  async close(): Promise<void> {
    await this.#tracked.close();
  }
}
