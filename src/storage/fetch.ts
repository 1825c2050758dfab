/**
 * `enseal/storage/fetch`: an {@link ObjectStore} over `fetch` and presigned or public URLs, for
 * browsers, workers and any runtime with `fetch` (imports no `node:` module).
 *
 * Where each request goes is the caller's: either a `baseUrl` (the object's URL is `baseUrl`
 * plus the key, each `/`-segment percent-encoded), or a `url(key, op)` provider that returns a
 * (presigned) URL per operation — or `undefined` when that operation is not allowed, which
 * makes it `ERR_UNSUPPORTED` without a request.
 *
 * | operation | request | notes |
 * |---|---|---|
 * | `get` | `GET` + `Range: bytes=a-b` | 206 + `Content-Range` checked; a 200 is sliced (the server ignored `Range`) |
 * | `head` | `HEAD` | size from `Content-Length` |
 * | `put` | `PUT` with the whole body | stream bodies are collected first (a presigned PUT needs its length) |
 * | `delete` | `DELETE` | 404 counts as done |
 * | `list` | the `list` option | no URL scheme lists objects portably; supply an async iterable |
 * | multipart | the `multipart` option | your backend creates/completes/aborts; parts are `PUT` to `url(key, { op: 'uploadPart', uploadId, partNumber })` |
 *
 * Without `multipart`, the multipart methods throw `ERR_UNSUPPORTED` (the encrypting bucket
 * then uses single puts); without `list`, `list` does.
 *
 * - **HTTPS only** (issue 7 item 6): every URL is checked right before its request (and
 *   `baseUrl` when the store is made): `http:` is `ERR_INSECURE_TRANSPORT` unless the host is
 *   loopback and `allowInsecureHttp: true` was passed. Redirects are refused (`redirect:
 *   'error'`), so a request cannot be bounced to another scheme or host.
 * - **Metadata** travels as `<metadataPrefix><name>` headers (default `x-amz-meta-`, for S3
 *   presigned URLs — which must then be signed with those headers; `x-oss-meta-` for OSS). In
 *   browsers the server's CORS policy must expose them, `ETag` and `Content-Range`.
 * - **Errors:** 404 → `ERR_NOT_FOUND`, 416 → `ERR_RANGE`, others `ERR_STORE` with the status, the
 *   request id (`x-amz-request-id`, `x-oss-request-id`, `x-request-id`) and the `<Code>` of an
 *   XML error body (at most 4 KiB of it is read).
 *
 * @module
 */
import { assertChunk } from '../bytes.js';
import { EnsealError } from '../errors.js';
import { checkBody, collectBody, exactLength, servedBody, sliceStream } from './body.js';
import { notFoundError, quoteKey, storeError, summariseCause } from './errors.js';
import { checkRange, checkServedRange, parseContentRange, rangeHeader, rangeNotSatisfiable } from './http-range.js';
import { checkMetadata, metadataFromHeaders, S3_MAX_METADATA_BYTES } from './metadata.js';
import { checkKey } from './object-key.js';
import type { CompletedPart, GetResult, ListEntry, MultipartLimits, ObjectInfo, ObjectMetadata, ObjectStore, StoreFailure } from './store.js';
import { checkTransport } from './transport.js';

/** The operation a URL is asked for. */
export type FetchOperation =
  | { readonly op: 'get' | 'head' | 'put' | 'delete' }
  | { readonly op: 'uploadPart'; readonly uploadId: string; readonly partNumber: number };

/** Returns the URL for one request, or `undefined` when the operation is not allowed. */
export type FetchUrlProvider = (key: string, op: FetchOperation) => string | URL | undefined | Promise<string | URL | undefined>;

/** Multipart hooks for {@link fetchStore}: your backend owns the upload, the client PUTs the parts. */
export interface FetchMultipart {
  /** Starts an upload for `key` (e.g. a backend call that runs CreateMultipartUpload). */
  create(key: string, opts: { readonly metadata: ObjectMetadata; readonly signal?: AbortSignal }): Promise<{ uploadId: string }>;
  /** Completes it from the parts, in order. */
  complete(key: string, uploadId: string, parts: readonly CompletedPart[], opts: { readonly signal?: AbortSignal }): Promise<{ etag?: string }>;
  /** Aborts it (an unknown upload must succeed). */
  abort(key: string, uploadId: string, opts: { readonly signal?: AbortSignal }): Promise<void>;
  /** The store's part limits (default S3's: 5 MiB, 5 GiB, 10 000). */
  readonly limits?: Partial<MultipartLimits>;
}

/**
 * What `new Headers(init)` accepts (the DOM's `HeadersInit`), spelled through the `Headers` global
 * so that the declarations compile with the DOM lib or with `@types/node` alone.
 */
export type FetchHeadersInit = NonNullable<ConstructorParameters<typeof Headers>[0]>;

/** Options of {@link fetchStore}; exactly one of `url` and `baseUrl`. */
export interface FetchStoreOptions {
  /** Per-request URL provider (presigned URLs). */
  readonly url?: FetchUrlProvider;
  /** Base URL of public or token-protected objects: the object URL is `baseUrl` + encoded key. */
  readonly baseUrl?: string | URL;
  /** Extra request headers (e.g. `Authorization`), or a function of the key and operation. */
  readonly headers?: FetchHeadersInit | ((key: string, op: FetchOperation) => FetchHeadersInit | Promise<FetchHeadersInit>);
  /** The `fetch` to use (default `globalThis.fetch`). */
  readonly fetch?: typeof globalThis.fetch;
  /** Allow plain `http:` to a loopback host (tests, local servers only). */
  readonly allowInsecureHttp?: boolean;
  /** Header prefix of user metadata (default `x-amz-meta-`). */
  readonly metadataPrefix?: string;
  /** Largest user metadata, names plus values in bytes (default 2048). */
  readonly maxMetadataBytes?: number;
  /** Lists objects (no URL scheme does it portably). */
  readonly list?: (prefix: string, opts: { readonly signal?: AbortSignal }) => AsyncIterable<ListEntry>;
  /** Multipart hooks; without them the multipart methods throw `ERR_UNSUPPORTED`. */
  readonly multipart?: FetchMultipart;
  /** Name for messages (default `fetch:<origin>` or `fetch`). */
  readonly name?: string;
}

const S3_LIMITS: MultipartLimits = { minPartSize: 5 * 1024 * 1024, maxPartSize: 5 * 1024 ** 3, maxParts: 10_000 };
const MAX_ERROR_BODY = 4096;
const PREFIX = /^[a-z0-9-]+-$/;

const stripQuotes = (e: string | null): string | undefined => (e === null ? undefined : e.replace(/^W\//, '').replace(/^"|"$/g, ''));

function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

/** Reads at most {@link MAX_ERROR_BODY} bytes of an error body and returns its `<Code>`. */
async function errorCode(res: Response): Promise<string | undefined> {
  if (res.body === null) return undefined;
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let n = 0;
  try {
    while (n < MAX_ERROR_BODY) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      n += value.length;
    }
  } catch {
    return undefined;
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const all = new Uint8Array(Math.min(n, MAX_ERROR_BODY));
  let off = 0;
  for (const p of parts) {
    const take = Math.min(p.length, all.length - off);
    all.set(p.subarray(0, take), off);
    off += take;
    if (off === all.length) break;
  }
  const m = /<Code>([A-Za-z0-9._-]{1,64})<\/Code>/.exec(new TextDecoder().decode(all));
  return m?.[1];
}

/**
 * Creates an {@link ObjectStore} over HTTP(S) URLs.
 *
 * @param opts - `url` provider or `baseUrl`, headers, fetch, `allowInsecureHttp`, list and multipart hooks
 * @returns the store
 * @throws TypeError when neither or both of `url` and `baseUrl` are given, or for a bad option
 * @throws EnsealError `ERR_INSECURE_TRANSPORT` for an `http:` `baseUrl` that is not allowed
 * @example
 * ```ts
 * import { fetchStore } from 'enseal/storage/fetch';
 * // URLs presigned by your backend, one per operation:
 * const store = fetchStore({ url: (key, { op }) => api.presign(key, op) });
 * const { body } = await store.get('photos/cat.jpg', { range: { start: 0, end: 65535 } });
 * ```
 */
export function fetchStore(opts: FetchStoreOptions): ObjectStore {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('"opts" expected { url } or { baseUrl }');
  if ((opts.url === undefined) === (opts.baseUrl === undefined)) throw new TypeError('fetchStore expected exactly one of "url" and "baseUrl"');
  if (opts.url !== undefined && typeof opts.url !== 'function') throw new TypeError('"url" expected a function (key, op) => URL');
  const allow = opts.allowInsecureHttp === true;
  const doFetch = opts.fetch ?? globalThis.fetch;
  if (typeof doFetch !== 'function') throw new TypeError('"fetch" expected a function (no global fetch here)');
  const prefix = opts.metadataPrefix ?? 'x-amz-meta-';
  if (!PREFIX.test(prefix)) throw new TypeError('"metadataPrefix" expected lower-case letters, digits and dashes ending in "-"');
  const maxMetadataBytes = opts.maxMetadataBytes ?? S3_MAX_METADATA_BYTES;
  const multipart = opts.multipart;
  const limits: MultipartLimits = { ...S3_LIMITS, ...multipart?.limits };

  let base: URL | undefined;
  if (opts.baseUrl !== undefined) {
    base = checkTransport(opts.baseUrl, allow, 'fetchStore baseUrl');
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    if (base.search !== '' || base.hash !== '') throw new TypeError('"baseUrl" must not have a query or fragment');
  }
  const name = opts.name ?? (base === undefined ? 'fetch' : `fetch:${base.origin}${base.pathname}`);

  const urlFor = async (key: string, op: FetchOperation): Promise<URL> => {
    let u: string | URL | undefined;
    if (base !== undefined) u = op.op === 'uploadPart' ? undefined : new URL(encodeKey(key), base);
    else u = await (opts.url as FetchUrlProvider)(key, op);
    if (u === undefined) throw new EnsealError('ERR_UNSUPPORTED', `${name}: the URL provider does not allow ${op.op} for "${quoteKey(key)}"`);
    return checkTransport(u, allow, `${name} ${op.op} URL`);
  };

  const headersFor = async (key: string, op: FetchOperation): Promise<Headers> => {
    const h = typeof opts.headers === 'function' ? await opts.headers(key, op) : opts.headers;
    return new Headers(h ?? {});
  };

  const failureOf = (res: Response, code?: string): StoreFailure => {
    const rid = res.headers.get('x-amz-request-id') ?? res.headers.get('x-oss-request-id') ?? res.headers.get('x-request-id');
    return { status: res.status, ...(rid === null ? {} : { requestId: rid }), ...(code === undefined ? {} : { code }) };
  };

  /** One request: URL from the provider, transport check, then fetch; maps failures. */
  const request = async (key: string, op: FetchOperation, method: string, init: { headers?: Headers; body?: Uint8Array; signal?: AbortSignal }, what: string): Promise<Response> => {
    init.signal?.throwIfAborted();
    const url = await urlFor(key, op);
    const headers = await headersFor(key, op);
    for (const [k, v] of init.headers ?? []) headers.set(k, v);
    let res: Response;
    try {
      res = await doFetch(url, {
        method,
        headers,
        redirect: 'error',
        ...(init.body === undefined ? {} : { body: init.body as BodyInit }),
        ...(init.signal === undefined ? {} : { signal: init.signal }),
      });
    } catch (e) {
      if (init.signal?.aborted) throw init.signal.reason;
      throw storeError(name, what, { code: 'NetworkError', cause: summariseCause(e) });
    }
    if (res.ok) return res;
    const code = method === 'HEAD' ? undefined : await errorCode(res);
    const failure = failureOf(res, code);
    if (res.status === 404 && (op.op === 'get' || op.op === 'head')) throw notFoundError(name, key, failure);
    if (res.status === 404 && op.op === 'delete') return res;
    if (res.status === 416) throw rangeNotSatisfiable(name, -1, undefined, failure);
    throw storeError(name, what, failure);
  };

  const info = (res: Response, size: number): ObjectInfo => {
    const etag = stripQuotes(res.headers.get('etag'));
    const lm = res.headers.get('last-modified');
    const sse = res.headers.get('x-amz-server-side-encryption') ?? res.headers.get('x-oss-server-side-encryption');
    const keyId = res.headers.get('x-amz-server-side-encryption-aws-kms-key-id') ?? res.headers.get('x-oss-server-side-encryption-key-id');
    return {
      size,
      metadata: metadataFromHeaders(res.headers, prefix),
      ...(etag === undefined ? {} : { etag }),
      ...(lm === null || Number.isNaN(Date.parse(lm)) ? {} : { lastModified: new Date(lm) }),
      ...(sse === null ? {} : { sse: keyId === null ? { algorithm: sse } : { algorithm: sse, keyId } }),
    };
  };

  const lengthOf = (res: Response, what: string): number => {
    const v = res.headers.get('content-length');
    const n = v === null ? NaN : Number(v);
    if (!Number.isSafeInteger(n) || n < 0) throw storeError(name, `${what} (no valid Content-Length)`, failureOf(res, 'NoContentLength'));
    return n;
  };

  const unsupported = (what: string): EnsealError => new EnsealError('ERR_UNSUPPORTED', `${name}: ${what} needs the "multipart" option of fetchStore`);

  const noSse = (sse: unknown): void => {
    if (sse !== undefined) throw new EnsealError('ERR_UNSUPPORTED', `${name}: server-side encryption options cannot be added to a URL request (sign them into the presigned URL)`);
  };

  const metadataHeaders = (md: ObjectMetadata): Headers => {
    const h = new Headers();
    for (const [k, v] of Object.entries(md)) h.set(prefix + k, v);
    return h;
  };

  return {
    name,
    multipart: limits,

    async put(key, body, o = {}) {
      checkKey(key);
      checkBody(body);
      const metadata = checkMetadata(o.metadata, maxMetadataBytes);
      noSse(o.sse);
      const bytes = await collectBody(body, o.signal);
      if (o.contentLength !== undefined && o.contentLength !== bytes.length) {
        throw storeError(name, `put "${quoteKey(key)}" (body of ${bytes.length} bytes, contentLength ${o.contentLength})`, { status: 400, code: 'IncompleteBody' });
      }
      const res = await request(key, { op: 'put' }, 'PUT', { headers: metadataHeaders(metadata), body: bytes, ...(o.signal === undefined ? {} : { signal: o.signal }) }, `put "${quoteKey(key)}"`);
      await res.body?.cancel().catch(() => undefined);
      const etag = stripQuotes(res.headers.get('etag'));
      return etag === undefined ? {} : { etag };
    },

    async get(key, o = {}): Promise<GetResult> {
      checkKey(key);
      const range = o.range === undefined ? undefined : checkRange(o.range);
      noSse(o.sse);
      const what = `get "${quoteKey(key)}"`;
      const headers = new Headers(range === undefined ? {} : { range: rangeHeader(range) });
      let res: Response;
      try {
        res = await request(key, { op: 'get' }, 'GET', { headers, ...(o.signal === undefined ? {} : { signal: o.signal }) }, what);
      } catch (e) {
        if (e instanceof EnsealError && e.code === 'ERR_RANGE' && range !== undefined) throw rangeNotSatisfiable(name, range.start, undefined, e.cause as StoreFailure);
        throw e;
      }
      const failure = failureOf(res);
      const raw = res.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
      try {
        if (range !== undefined && res.status === 206) {
          const served = checkServedRange(name, range, parseContentRange(res.headers.get('content-range')), failure);
          return { ...info(res, served.size), body: servedBody(raw, served, name, failure, o.signal), range: { start: served.start, end: served.end } };
        }
        if (res.status !== 200) throw storeError(name, `${what} (unexpected status)`, failureOf(res, 'UnexpectedStatus'));
        const size = lengthOf(res, what);
        if (range === undefined) return { ...info(res, size), body: exactLength(raw, size, name, failure, o.signal) };
        if (range.start >= size) throw rangeNotSatisfiable(name, range.start, size, failureOf(res, 'InvalidRange'));
        const end = Math.min(size - 1, range.end ?? size - 1);
        return { ...info(res, size), body: sliceStream(exactLength(raw, size, name, failure, o.signal), range.start, end), range: { start: range.start, end } };
      } catch (e) {
        await raw.cancel().catch(() => undefined);
        throw e;
      }
    },

    async head(key, o = {}) {
      checkKey(key);
      noSse(o.sse);
      const res = await request(key, { op: 'head' }, 'HEAD', { ...(o.signal === undefined ? {} : { signal: o.signal }) }, `head "${quoteKey(key)}"`);
      await res.body?.cancel().catch(() => undefined);
      return info(res, lengthOf(res, `head "${quoteKey(key)}"`));
    },

    async delete(key, o = {}) {
      checkKey(key);
      const res = await request(key, { op: 'delete' }, 'DELETE', { ...(o.signal === undefined ? {} : { signal: o.signal }) }, `delete "${quoteKey(key)}"`);
      await res.body?.cancel().catch(() => undefined);
    },

    list(prefixArg, o = {}) {
      if (typeof prefixArg !== 'string') throw new TypeError(`"prefix" expected string, got ${typeof prefixArg}`);
      const lister = opts.list;
      if (lister === undefined) throw new EnsealError('ERR_UNSUPPORTED', `${name}: listing needs the "list" option of fetchStore`);
      return lister(prefixArg, o);
    },

    async createMultipart(key, o = {}) {
      checkKey(key);
      const metadata = checkMetadata(o.metadata, maxMetadataBytes);
      noSse(o.sse);
      if (multipart === undefined) throw unsupported('multipart upload');
      o.signal?.throwIfAborted();
      return multipart.create(key, { metadata, ...(o.signal === undefined ? {} : { signal: o.signal }) });
    },

    async uploadPart(key, uploadId, partNumber, body, o = {}) {
      checkKey(key);
      if (typeof uploadId !== 'string' || uploadId === '') throw new TypeError('"uploadId" expected a non-empty string');
      if (!Number.isSafeInteger(partNumber) || partNumber < 1 || partNumber > limits.maxParts) throw new RangeError(`"partNumber" expected 1..${limits.maxParts}, got ${String(partNumber)}`);
      assertChunk(body, '"body" expected Uint8Array');
      noSse(o.sse);
      if (multipart === undefined) throw unsupported('multipart upload');
      const what = `upload part ${partNumber} of "${quoteKey(key)}"`;
      const res = await request(key, { op: 'uploadPart', uploadId, partNumber }, 'PUT', { body, ...(o.signal === undefined ? {} : { signal: o.signal }) }, what);
      await res.body?.cancel().catch(() => undefined);
      const etag = stripQuotes(res.headers.get('etag'));
      if (etag === undefined || etag === '') throw storeError(name, `${what} (no ETag: is it exposed by CORS?)`, failureOf(res, 'NoETag'));
      return { etag };
    },

    async completeMultipart(key, uploadId, parts, o = {}) {
      checkKey(key);
      if (multipart === undefined) throw unsupported('multipart upload');
      o.signal?.throwIfAborted();
      return multipart.complete(key, uploadId, parts, o.signal === undefined ? {} : { signal: o.signal });
    },

    async abortMultipart(key, uploadId, o = {}) {
      checkKey(key);
      if (multipart === undefined) throw unsupported('multipart upload');
      o.signal?.throwIfAborted();
      await multipart.abort(key, uploadId, o.signal === undefined ? {} : { signal: o.signal });
    },
  };
}
