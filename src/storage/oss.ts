/**
 * `enseal/storage/oss`: an {@link ObjectStore} over an `ali-oss` client (optional peer
 * dependency; only its types are imported — the caller passes the client, configured with
 * region/endpoint, bucket and credentials).
 *
 * - **HTTPS only** (issue 7 item 6): the client's endpoint (`client.options.endpoint`) is
 *   checked when the store is made and again before every request (the options are mutable,
 *   e.g. `useBucket`): `http:` is `ERR_INSECURE_TRANSPORT` unless the host is loopback and
 *   `allowInsecureHttp: true` was passed. Nothing is sent when the check fails.
 * - **Metadata** goes through ali-oss's `meta` option (`x-oss-meta-*` headers) and comes back
 *   as ali-oss presents it: lower-case names without the prefix. OSS allows 8 KiB of it.
 * - **Server-side encryption:** `x-oss-server-side-encryption: AES256 | KMS | SM4` (+
 *   `x-oss-server-side-encryption-key-id` for a KMS CMK) on put, create-multipart and copy; the
 *   same response headers are surfaced as `ObjectInfo.sse`.
 * - **Ranges** are sent with `x-oss-range-behavior: standard`, so a start past the end is a 416
 *   (`ERR_RANGE`) rather than the whole object; a served `Content-Range` must match the request.
 * - **Multipart** uses `initMultipartUpload`, `uploadPart` (from a Buffer),
 *   `completeMultipartUpload` and `abortMultipartUpload`.
 * - **CRC-64** (the OSS "Check data integrity by using CRC-64" guide): OSS returns the CRC-64/XZ
 *   of what it stored as `x-oss-hash-crc64ecma` on PutObject, UploadPart, CompleteMultipartUpload
 *   (when every part had one) and full GetObject. The adapter computes the CRC of what it sends
 *   in the same pass (src/integrity/) and checks each returned value; for a complete it combines
 *   the CRCs of the parts this store uploaded (src/integrity/crc64-combine.ts), and a full GET's
 *   body errors at its end when its CRC differs. A mismatch, or an unparsable value, is
 *   `ERR_STORE` (code `Crc64Mismatch`); an absent header (objects older than the feature, some
 *   emulators) is not checked. Ranged GETs are not checked (OSS returns the whole object's CRC).
 * - **Errors:** 404 → `ERR_NOT_FOUND`; 416 → `ERR_RANGE`; anything else `ERR_STORE` with the HTTP
 *   status, OSS request id and error code (`SignatureDoesNotMatch`, `AccessDenied`, …) in
 *   `cause`. ali-oss takes no `AbortSignal`: an abort rejects at once with the signal's reason
 *   (a body being read is destroyed), but a request already sent runs to its end.
 *
 * @module
 */
import { assertChunk } from '../bytes.js';
import type OSS from 'ali-oss';
import { EnsealError } from '../errors.js';
import { checkBody, collectBody, exactLength, servedBody, iterableStream, nodeReadable, sliceStream } from './body.js';
import { notFoundError, quoteKey, storeError, summariseCause } from './errors.js';
import { checkRange, checkServedRange, parseContentRange, rangeHeader, rangeNotSatisfiable } from './http-range.js';
import { checkMetadata, metadataFromHeaders, OSS_MAX_METADATA_BYTES } from './metadata.js';
import { checkKey } from './object-key.js';
import type { GetResult, ListEntry, MultipartLimits, ObjectInfo, ObjectStore, ServerSideEncryption, ServerSideEncryptionInfo, StoreFailure } from './store.js';
import { checkProtocol } from './transport.js';
import { checksumStream } from '../integrity/checksum-stream.js';
import { crcCheckedStream, OSS_CRC64_HEADER, parseCrc64Header } from '../integrity/crc-check.js';
import { createCrc64 } from '../integrity/crc64.js';
import { crc64Combine } from '../integrity/crc64-combine.js';

/** Options of {@link ossStore}. */
export interface OssStoreOptions {
  /** A configured `ali-oss` client (`new OSS({ region, bucket, accessKeyId, accessKeySecret, secure: true })`). */
  readonly client: OSS;
  /** Allow plain `http:` to a loopback endpoint (tests, local emulators only). */
  readonly allowInsecureHttp?: boolean;
  /** Largest user metadata, names plus values in bytes (default 8192, OSS's limit). */
  readonly maxMetadataBytes?: number;
}

/** OSS's multipart limits (parts of 100 KiB to 5 GiB, at most 10 000). */
export const OSS_MULTIPART_LIMITS: MultipartLimits = { minPartSize: 100 * 1024, maxPartSize: 5 * 1024 ** 3, maxParts: 10_000 };

type Headers = Record<string, string | string[] | undefined>;
interface Res {
  status?: number;
  headers?: Headers;
}
/** The part of the ali-oss client this adapter uses. */
interface OssClient {
  options: { endpoint?: { protocol?: string; hostname?: string }; bucket?: string; cancelFlag?: boolean };
  put(name: string, file: unknown, options?: object): Promise<{ res: Res }>;
  putStream(name: string, stream: unknown, options?: object): Promise<{ res: Res }>;
  getStream(name: string, options?: object): Promise<{ stream: AsyncIterable<Uint8Array> & { destroy(): void }; res: Res }>;
  head(name: string, options?: object): Promise<{ status: number; meta: Record<string, string> | null; res: Res }>;
  delete(name: string, options?: object): Promise<{ res: Res }>;
  listV2(query: Record<string, unknown>, options?: object): Promise<{
    objects?: { name: string; size: number; etag?: string; lastModified?: string }[];
    isTruncated?: boolean;
    nextContinuationToken?: string | null;
  }>;
  initMultipartUpload(name: string, options?: object): Promise<{ uploadId: string; res: Res }>;
  uploadPart(name: string, uploadId: string, partNo: number, file: unknown, start: number, end: number, options?: object): Promise<{ etag: string; res: Res }>;
  completeMultipartUpload(name: string, uploadId: string, parts: { number: number; etag: string }[], options?: object): Promise<{ etag?: string; res: Res }>;
  abortMultipartUpload(name: string, uploadId: string, options?: object): Promise<{ res: Res }>;
  copy(name: string, sourceName: string, options?: object): Promise<{ data?: { etag?: string }; res: Res }>;
}
interface OssError {
  status?: number;
  code?: string;
  name?: string;
  requestId?: string;
}

const header = (h: Headers | undefined, n: string): string | undefined => {
  const v = h?.[n];
  return Array.isArray(v) ? v[0] : v;
};
const stripQuotes = (e: string | undefined): string | undefined => (e === undefined ? undefined : e.replace(/^W\//, '').replace(/^"|"$/g, ''));

interface BufferCtor {
  from(ab: ArrayBufferLike, offset: number, length: number): Uint8Array;
}
/** ali-oss recognises bodies with `Buffer.isBuffer`: hand it a Buffer view (no copy). */
function asBuffer(u8: Uint8Array): Uint8Array {
  const B = (globalThis as { Buffer?: BufferCtor }).Buffer;
  return B === undefined ? u8 : B.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

/** Rejects as soon as `signal` aborts (ali-oss cannot cancel a request). */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return p;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * Creates an {@link ObjectStore} over an Alibaba Cloud OSS bucket through `ali-oss`.
 *
 * @param opts - client, `allowInsecureHttp`, metadata limit
 * @returns the store (its `name` is `oss://bucket`)
 * @throws TypeError for a missing client or a client without a bucket
 * @throws EnsealError `ERR_INSECURE_TRANSPORT` for an `http:` endpoint that is not allowed
 * @example
 * ```ts
 * import OSS from 'ali-oss';
 * import { ossStore } from 'enseal/storage/oss';
 * const client = new OSS({ region: 'oss-cn-hangzhou', bucket: 'photos', accessKeyId, accessKeySecret, secure: true });
 * const store = ossStore({ client });
 * await store.put('cat.jpg', bytes, { sse: { provider: 'oss', algorithm: 'KMS', keyId: 'key-…' } });
 * ```
 */
export function ossStore(opts: OssStoreOptions): ObjectStore {
  const c = opts?.client as unknown as OssClient | undefined;
  if (typeof c !== 'object' || c === null || typeof c.put !== 'function' || typeof c.options !== 'object') throw new TypeError('"client" expected an ali-oss client');
  const bucket = c.options.bucket;
  if (typeof bucket !== 'string' || bucket === '') throw new TypeError('"client" expected an ali-oss client configured with a bucket');
  const allow = opts.allowInsecureHttp === true;
  const maxMetadataBytes = opts.maxMetadataBytes ?? OSS_MAX_METADATA_BYTES;
  const name = `oss://${bucket}`;

  const checkEndpoint = (): void => {
    const ep = c.options.endpoint;
    if (typeof ep?.protocol !== 'string' || typeof ep.hostname !== 'string') throw new TypeError(`${name}: the client has no endpoint`);
    checkProtocol(ep.protocol, ep.hostname, allow, `${name} endpoint`);
  };
  checkEndpoint();

  const fail = (e: unknown, what: string, key: string | undefined): never => {
    if (e instanceof EnsealError || e instanceof TypeError || e instanceof RangeError) throw e;
    const err = (typeof e === 'object' && e !== null ? e : {}) as OssError;
    const status = typeof err.status === 'number' && err.status > 0 ? err.status : undefined;
    const code = typeof err.code === 'string' && err.code !== '' ? err.code : err.name === 'UnknownError' ? undefined : err.name;
    const failure: StoreFailure = {
      ...(status === undefined ? {} : { status }),
      ...(typeof err.requestId === 'string' && err.requestId !== '' ? { requestId: err.requestId } : {}),
      ...(code === undefined ? {} : { code }),
      cause: summariseCause(e), // ali-oss errors hold the request's headers (signature, STS token)
    };
    if (key !== undefined && (status === 404 || code === 'NoSuchKey') && code !== 'NoSuchBucket' && code !== 'NoSuchUpload') throw notFoundError(name, key, failure);
    if (status === 416 || code === 'InvalidRange') throw rangeNotSatisfiable(name, -1, undefined, failure);
    throw storeError(name, what, failure);
  };

  /** Runs one client call: endpoint check first, abort race, error mapping. */
  const call = async <T>(what: string, key: string | undefined, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> => {
    signal?.throwIfAborted();
    checkEndpoint();
    try {
      return await raceAbort(fn(), signal);
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      return fail(e, what, key);
    }
  };

  const sseHeaders = (sse: ServerSideEncryption | undefined): Record<string, string> => {
    if (sse === undefined) return {};
    if (sse.provider !== 'oss') throw new TypeError(`"sse" for an OSS store expected provider 'oss', got ${String((sse as { provider?: unknown }).provider)}`);
    switch (sse.algorithm) {
      case 'AES256':
      case 'SM4':
        return { 'x-oss-server-side-encryption': sse.algorithm };
      case 'KMS':
        return { 'x-oss-server-side-encryption': 'KMS', ...(sse.keyId === undefined ? {} : { 'x-oss-server-side-encryption-key-id': sse.keyId }) };
      default:
        throw new TypeError(`"sse.algorithm" expected AES256, KMS or SM4, got ${String((sse as { algorithm?: unknown }).algorithm)}`);
    }
  };

  const sseInfo = (h: Headers | undefined): ServerSideEncryptionInfo | undefined => {
    const algorithm = header(h, 'x-oss-server-side-encryption');
    if (algorithm === undefined) return undefined;
    const keyId = header(h, 'x-oss-server-side-encryption-key-id');
    return keyId === undefined ? { algorithm } : { algorithm, keyId };
  };

  const info = (h: Headers | undefined, size: number): ObjectInfo => {
    const etag = stripQuotes(header(h, 'etag'));
    const lm = header(h, 'last-modified');
    const sse = sseInfo(h);
    return {
      size,
      metadata: metadataFromHeaders((h ?? {}) as Record<string, unknown>, 'x-oss-meta-'),
      ...(etag === undefined ? {} : { etag }),
      ...(lm === undefined || Number.isNaN(Date.parse(lm)) ? {} : { lastModified: new Date(lm) }),
      ...(sse === undefined ? {} : { sse }),
    };
  };

  const failureOf = (res: Res): StoreFailure => {
    const rid = header(res.headers, 'x-oss-request-id');
    return { ...(res.status === undefined ? {} : { status: res.status }), ...(rid === undefined ? {} : { requestId: rid }) };
  };

  /** Compares the CRC-64 OSS returned (if any) with ours: `Crc64Mismatch` when they differ. */
  const checkCrc = (res: Res, ours: bigint, what: string): void => {
    const theirs = parseCrc64Header(header(res.headers, OSS_CRC64_HEADER));
    if (theirs === undefined || theirs === ours) return;
    throw crcError(res, ours, theirs, what);
  };
  const crcError = (res: Res, ours: bigint, theirs: bigint | null, what: string): EnsealError =>
    storeError(
      name,
      `${what} (CRC-64 mismatch: OSS reports ${OSS_CRC64_HEADER} ${theirs === null ? 'that is not a 64-bit decimal' : theirs.toString()}, the bytes give ${ours.toString()})`,
      { ...failureOf(res), code: 'Crc64Mismatch' },
    );
  /** CRC-64 and length of each part this store uploaded, per upload id (for the complete's check). */
  const partCrcs = new Map<string, Map<number, { crc: bigint; length: number }>>();

  const lengthOf = (res: Res, what: string): number => {
    const v = header(res.headers, 'content-length');
    const n = v === undefined ? NaN : Number(v);
    if (!Number.isSafeInteger(n) || n < 0) throw storeError(name, `${what} (no valid Content-Length)`, { ...failureOf(res), code: 'NoContentLength' });
    return n;
  };

  return {
    name,
    multipart: OSS_MULTIPART_LIMITS,

    async put(key, body, o = {}) {
      checkKey(key);
      if (key.startsWith('/')) throw new TypeError('"key" must not start with "/" (ali-oss strips it)');
      checkBody(body);
      const meta = checkMetadata(o.metadata, maxMetadataBytes);
      const headers = sseHeaders(o.sse);
      const len = o.contentLength;
      if (len !== undefined && (!Number.isSafeInteger(len) || len < 0)) throw new RangeError('"contentLength" expected a non-negative integer');
      const what = `put "${quoteKey(key)}"`;
      let res: Res;
      // The CRC-64 of what is sent, computed in the same pass (a tap on a stream body).
      const tap = body instanceof Uint8Array ? undefined : checksumStream({ crc64: true });
      const sent = tap === undefined ? body : (body as ReadableStream<Uint8Array>).pipeThrough(tap);
      const readable = sent instanceof Uint8Array ? undefined : nodeReadable(sent);
      let ours: bigint;
      if (readable === undefined) {
        const bytes = await collectBody(sent, o.signal);
        if (len !== undefined && len !== bytes.length) throw storeError(name, `${what} (body of ${bytes.length} bytes, contentLength ${len})`, { status: 400, code: 'IncompleteBody' });
        ours = tap === undefined ? (await createCrc64()).update(bytes).digest() : BigInt((await tap.digests).crc64!);
        ({ res } = await call(what, undefined, o.signal, () => c.put(key, asBuffer(bytes), { meta, headers })));
      } else {
        // Known length: Content-Length; unknown: chunked transfer (OSS accepts both).
        ({ res } = await call(what, undefined, o.signal, () => c.putStream(key, readable, { meta, headers, ...(len === undefined ? {} : { contentLength: len }) })));
        ours = BigInt((await tap!.digests).crc64!);
      }
      checkCrc(res, ours, what);
      const etag = stripQuotes(header(res.headers, 'etag'));
      return etag === undefined ? {} : { etag };
    },

    async get(key, o = {}): Promise<GetResult> {
      checkKey(key);
      const range = o.range === undefined ? undefined : checkRange(o.range);
      if (o.sse !== undefined) sseHeaders(o.sse);
      const headers: Record<string, string> = range === undefined ? {} : { Range: rangeHeader(range), 'x-oss-range-behavior': 'standard' };
      let got;
      try {
        got = await call(`get "${quoteKey(key)}"`, key, o.signal, () => c.getStream(key, { headers }));
      } catch (e) {
        if (e instanceof EnsealError && e.code === 'ERR_RANGE' && range !== undefined) throw rangeNotSatisfiable(name, range.start, undefined, e.cause as StoreFailure);
        throw e;
      }
      const { stream, res } = got;
      const failure = failureOf(res);
      const onAbort = (): void => stream.destroy();
      o.signal?.addEventListener('abort', onAbort, { once: true });
      const raw = iterableStream(
        stream,
        () => stream.destroy(),
        () => o.signal?.removeEventListener('abort', onAbort),
      );
      const drop = async (): Promise<void> => {
        o.signal?.removeEventListener('abort', onAbort);
        await raw.cancel().catch(() => undefined);
      };
      try {
        if (range !== undefined && res.status === 206) {
          const served = checkServedRange(name, range, parseContentRange(header(res.headers, 'content-range')), failure);
          return { ...info(res.headers, served.size), body: servedBody(raw, served, name, failure, o.signal), range: { start: served.start, end: served.end } };
        }
        if (res.status !== 200) throw storeError(name, `get "${quoteKey(key)}" (unexpected status)`, { ...failure, code: 'UnexpectedStatus' });
        const size = lengthOf(res, `get "${quoteKey(key)}"`);
        if (range === undefined) {
          const body = exactLength(raw, size, name, failure, o.signal);
          const theirs = parseCrc64Header(header(res.headers, OSS_CRC64_HEADER));
          const what = `get "${quoteKey(key)}"`;
          return { ...info(res.headers, size), body: theirs === undefined ? body : crcCheckedStream(body, theirs, (ours) => crcError(res, ours, theirs, what)) };
        }
        // A 200 to a ranged GET (a server ignoring Range): serve the slice, or 416 past the end.
        if (range.start >= size) throw rangeNotSatisfiable(name, range.start, size, { ...failure, code: 'InvalidRange' });
        const end = Math.min(size - 1, range.end ?? size - 1);
        return { ...info(res.headers, size), body: sliceStream(exactLength(raw, size, name, failure, o.signal), range.start, end), range: { start: range.start, end } };
      } catch (e) {
        await drop();
        throw e;
      }
    },

    async head(key, o = {}) {
      checkKey(key);
      const out = await call(`head "${quoteKey(key)}"`, key, o.signal, () => c.head(key, {}));
      if (out.status !== 200) throw storeError(name, `head "${quoteKey(key)}" (unexpected status)`, { ...failureOf(out.res), code: 'UnexpectedStatus' });
      return info(out.res.headers, lengthOf(out.res, `head "${quoteKey(key)}"`));
    },

    async delete(key, o = {}) {
      checkKey(key);
      await call(`delete "${quoteKey(key)}"`, undefined, o.signal, () => c.delete(key, {}));
    },

    list(prefix, o = {}) {
      if (typeof prefix !== 'string') throw new TypeError(`"prefix" expected string, got ${typeof prefix}`);
      return {
        async *[Symbol.asyncIterator](): AsyncGenerator<ListEntry> {
          let token: string | undefined;
          for (let page = 0; page < 1_000_000; page++) {
            const query: Record<string, unknown> = { 'max-keys': 1000, ...(prefix === '' ? {} : { prefix }), ...(token === undefined ? {} : { 'continuation-token': token }) };
            const out = await call('list', undefined, o.signal, () => c.listV2(query, {}));
            for (const obj of out.objects ?? []) {
              const etag = stripQuotes(obj.etag);
              const lm = obj.lastModified === undefined ? NaN : Date.parse(obj.lastModified);
              yield { key: obj.name, size: Number(obj.size), ...(etag === undefined ? {} : { etag }), ...(Number.isNaN(lm) ? {} : { lastModified: new Date(lm) }) };
            }
            const next = out.isTruncated === true && typeof out.nextContinuationToken === 'string' ? out.nextContinuationToken : undefined;
            if (next === undefined) return;
            // A server that hands back the same token would make this loop forever.
            if (next === token) throw storeError(name, 'list (the continuation token did not advance)', { code: 'ListLoop' });
            token = next;
          }
        },
      };
    },

    async createMultipart(key, o = {}) {
      checkKey(key);
      if (key.startsWith('/')) throw new TypeError('"key" must not start with "/" (ali-oss strips it)');
      const meta = checkMetadata(o.metadata, maxMetadataBytes);
      const headers = sseHeaders(o.sse);
      const out = await call(`create multipart "${quoteKey(key)}"`, undefined, o.signal, () => c.initMultipartUpload(key, { meta, headers }));
      if (typeof out.uploadId !== 'string' || out.uploadId === '') throw storeError(name, 'create multipart (no upload id)', { ...failureOf(out.res), code: 'NoUploadId' });
      return { uploadId: out.uploadId };
    },

    async uploadPart(key, uploadId, partNumber, body, o = {}) {
      checkKey(key);
      if (typeof uploadId !== 'string' || uploadId === '') throw new TypeError('"uploadId" expected a non-empty string');
      if (!Number.isSafeInteger(partNumber) || partNumber < 1 || partNumber > OSS_MULTIPART_LIMITS.maxParts) throw new RangeError(`"partNumber" expected 1..10000, got ${String(partNumber)}`);
      assertChunk(body, '"body" expected Uint8Array');
      const crc = (await createCrc64()).update(body).digest();
      const what = `upload part ${partNumber} of "${quoteKey(key)}"`;
      const out = await call(what, undefined, o.signal, () => c.uploadPart(key, uploadId, partNumber, asBuffer(body), 0, body.length, {}));
      checkCrc(out.res, crc, what);
      const etag = stripQuotes(out.etag);
      if (etag === undefined || etag === '') throw storeError(name, `upload part ${partNumber} (no ETag)`, { ...failureOf(out.res), code: 'NoETag' });
      let mine = partCrcs.get(uploadId);
      if (mine === undefined) {
        // Bounded: uploads that are never completed or aborted here must not grow it forever.
        if (partCrcs.size >= 1000) partCrcs.delete(partCrcs.keys().next().value!);
        partCrcs.set(uploadId, (mine = new Map()));
      }
      mine.set(partNumber, { crc, length: body.length });
      return { etag };
    },

    async completeMultipart(key, uploadId, parts, o = {}) {
      checkKey(key);
      if (!Array.isArray(parts) || parts.length === 0) throw new TypeError('"parts" expected a non-empty array of { partNumber, etag }');
      const list = parts.map((p) => ({ number: p.partNumber, etag: `"${String(p.etag).replace(/"/g, '')}"` }));
      // ali-oss sorts and de-duplicates parts silently; the contract (like S3) refuses disorder.
      for (let i = 1; i < list.length; i++) {
        if ((list[i] as { number: number }).number <= (list[i - 1] as { number: number }).number) {
          throw storeError(name, 'complete multipart (parts not in ascending order)', { status: 400, code: 'InvalidPartOrder' });
        }
      }
      const what = `complete multipart "${quoteKey(key)}"`;
      const out = await call(what, undefined, o.signal, () => c.completeMultipartUpload(key, uploadId, list, {}));
      // The whole object's CRC from the parts' CRCs, when this store uploaded every part (a
      // resumed upload from another process has not seen them all: then only the parts were checked).
      const mine = partCrcs.get(uploadId);
      partCrcs.delete(uploadId);
      const known = list.map((p) => mine?.get(p.number));
      if (known.every((k) => k !== undefined)) {
        let whole: bigint | undefined;
        for (const k of known) whole = whole === undefined ? k!.crc : crc64Combine(whole, k!.crc, k!.length);
        if (whole !== undefined) checkCrc(out.res, whole, what);
      }
      const etag = stripQuotes(out.etag ?? header(out.res.headers, 'etag'));
      return etag === undefined ? {} : { etag };
    },

    async abortMultipart(key, uploadId, o = {}) {
      checkKey(key);
      // abortMultipartUpload also raises the client's cancel flag for ali-oss's managed uploads; restore it.
      const prev = c.options.cancelFlag;
      try {
        partCrcs.delete(uploadId);
        await call(`abort multipart "${quoteKey(key)}"`, undefined, o.signal, () => c.abortMultipartUpload(key, uploadId, {}));
      } catch (e) {
        const cause = (e as EnsealError).cause as StoreFailure | undefined;
        if (!(e instanceof EnsealError && (cause?.code === 'NoSuchUpload' || cause?.status === 404))) throw e;
      } finally {
        c.options.cancelFlag = prev;
      }
    },

    async copy(sourceKey, destinationKey, o) {
      checkKey(sourceKey);
      checkKey(destinationKey);
      const meta = checkMetadata(o?.metadata, maxMetadataBytes);
      // ali-oss sets x-oss-metadata-directive: REPLACE itself when `meta` is given.
      const headers = sseHeaders(o?.sse);
      const out = await call(`copy "${quoteKey(sourceKey)}"`, sourceKey, o?.signal, () => c.copy(destinationKey, sourceKey, { meta, headers }));
      const etag = stripQuotes(out.data?.etag ?? header(out.res.headers, 'etag'));
      return etag === undefined ? {} : { etag };
    },
  };
}
