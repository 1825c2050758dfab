/**
 * `enseal/storage/s3`: an {@link ObjectStore} over an `S3Client` from `@aws-sdk/client-s3`
 * (optional peer dependency, imported only here and only its command classes). Works with any
 * S3-compatible endpoint the client is configured for (AWS, MinIO, Ceph, R2, s3rver, …).
 *
 * - **HTTPS only** (issue 7 item 6): the client's endpoint is checked when the store is made
 *   (the SDK holds it as an async provider: it is resolved then, and every operation awaits that
 *   verdict before sending anything), and every request is checked again by a middleware added to each command (not to the
 *   caller's client) at the `build` step, after the endpoint is resolved and before anything
 *   is signed or sent: `http:` is `ERR_INSECURE_TRANSPORT` unless the host is loopback and
 *   `allowInsecureHttp: true` was passed.
 * - **Server-side encryption** maps to the SDK fields: `AES256` → `ServerSideEncryption`;
 *   `aws:kms` → `ServerSideEncryption`, `SSEKMSKeyId`, `SSEKMSEncryptionContext` (base64 JSON);
 *   `SSE-C` → `SSECustomerAlgorithm: AES256`, `SSECustomerKey` (base64) and
 *   `SSECustomerKeyMD5` (base64 MD5 of the key), sent on put, get, head and part uploads. The
 *   response's `x-amz-server-side-encryption` (+ KMS key id) is surfaced as `ObjectInfo.sse`;
 *   an SSE-C object reports `{ algorithm: 'SSE-C' }`.
 * - **Errors:** 404 / `NoSuchKey` / `NotFound` → `ERR_NOT_FOUND`; 416 / `InvalidRange` →
 *   `ERR_RANGE`; anything else `ERR_STORE` with the HTTP status, `$metadata.requestId` and the
 *   S3 error code in `cause`. An aborted signal rejects with the signal's reason.
 * - **Content-MD5** (RFC 1864) is sent with a byte-array single PUT and with every part when the
 *   SDK adds no checksum of its own (`requestChecksumCalculation: 'WHEN_REQUIRED'`, the setting
 *   for S3-compatible stores without flexible checksums); with the SDK's default it already sends
 *   `x-amz-checksum-crc32`, which S3 verifies. A streamed PUT cannot carry it (the header comes
 *   before the body) and relies on the SDK's checksum. S3 refuses a body that does not match
 *   (`BadDigest` → `ERR_STORE`).
 * - A stream body with a known `contentLength` is streamed (Node: through `Readable.fromWeb`);
 *   without one it is collected first (S3 needs the length of a single PUT), up to 5 GiB.
 *
 * @module
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { md5 } from 'hash-wasm';
import { createChecksummer } from '../integrity/checksums.js';
import { assertChunk, toBase64, utf8 } from '../bytes.js';
import { EnsealError } from '../errors.js';
import { checkBody, collectBody, exactLength, servedBody, iterableStream, nodeReadable } from './body.js';
import { notFoundError, quoteKey, storeError, summariseCause } from './errors.js';
import { checkRange, checkServedRange, parseContentRange, rangeHeader, rangeNotSatisfiable } from './http-range.js';
import { checkMetadata, normaliseMetadata, S3_MAX_METADATA_BYTES } from './metadata.js';
import { checkKey } from './object-key.js';
import type { GetResult, ListEntry, MultipartLimits, ObjectInfo, ObjectStore, ServerSideEncryption, ServerSideEncryptionInfo, StoreFailure, StoreRange } from './store.js';
import { checkProtocol } from './transport.js';

/** Options of {@link s3Store}. */
export interface S3StoreOptions {
  /** A configured `S3Client` (region, credentials, endpoint, `forcePathStyle`, …). */
  readonly client: S3Client;
  /** The bucket. */
  readonly bucket: string;
  /** Allow plain `http:` to a loopback endpoint (tests, local emulators only). */
  readonly allowInsecureHttp?: boolean;
  /** Largest user metadata, names plus values in bytes (default 2048, S3's limit). */
  readonly maxMetadataBytes?: number;
}

/** S3's multipart limits. */
export const S3_MULTIPART_LIMITS: MultipartLimits = { minPartSize: 5 * 1024 * 1024, maxPartSize: 5 * 1024 ** 3, maxParts: 10_000 };

type Input = Record<string, unknown>;
interface SdkCommand {
  readonly middlewareStack: { add(mw: unknown, opts: { step: string; name: string; priority?: string }): void };
}
interface SdkError {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string };
  $response?: { statusCode?: number; headers?: Record<string, string> };
}

const stripQuotes = (e: string | undefined): string | undefined => (e === undefined ? undefined : e.replace(/^W\//, '').replace(/^"|"$/g, ''));

/**
 * Creates an {@link ObjectStore} over an S3 bucket.
 *
 * @param opts - client, bucket, `allowInsecureHttp`, metadata limit
 * @returns the store (its `name` is `s3://bucket`)
 * @throws TypeError for a missing client or bucket
 * @throws EnsealError `ERR_INSECURE_TRANSPORT` when the client is configured with `tls: false`
 *   for a host that is not allowed (endpoint providers are checked before the first request)
 * @example
 * ```ts
 * import { S3Client } from '@aws-sdk/client-s3';
 * import { s3Store } from 'enseal/storage/s3';
 * const store = s3Store({ client: new S3Client({ region: 'eu-west-1' }), bucket: 'photos' });
 * await store.put('cat.jpg', bytes, { sse: { provider: 's3', algorithm: 'aws:kms', keyId: 'alias/photos' } });
 * ```
 */
export function s3Store(opts: S3StoreOptions): ObjectStore {
  const { client, bucket } = opts ?? ({} as S3StoreOptions);
  if (typeof client !== 'object' || client === null || typeof (client as { send?: unknown }).send !== 'function') throw new TypeError('"client" expected an S3Client');
  if (typeof bucket !== 'string' || bucket === '' || bucket.includes('/')) throw new TypeError('"bucket" expected a bucket name');
  const allow = opts.allowInsecureHttp === true;
  const maxMetadataBytes = opts.maxMetadataBytes ?? S3_MAX_METADATA_BYTES;
  const name = `s3://${bucket}`;

  // Construction-time check of the client's configuration. The SDK keeps even a literal endpoint
  // as an async provider, so it is resolved now and its verdict awaited before the first request;
  // the per-request middleware below is the authority.
  const config = (client as unknown as { config?: { tls?: boolean; endpoint?: () => Promise<{ protocol?: string; hostname?: string }> } }).config;
  let endpointCheck: Promise<void> = Promise.resolve();
  if (typeof config?.endpoint === 'function') {
    endpointCheck = Promise.resolve()
      .then(() => (config.endpoint as () => Promise<{ protocol?: string; hostname?: string }>)())
      .then((ep) => {
        if (ep?.protocol !== undefined && ep.hostname !== undefined) checkProtocol(ep.protocol, ep.hostname, allow, `${name} endpoint`);
      });
    endpointCheck.catch(() => undefined);
  } else if (config?.tls === false) {
    throw new EnsealError('ERR_INSECURE_TRANSPORT', `${name}: the S3Client is configured with tls: false for an AWS endpoint`);
  }

  // Does the SDK add its own checksum (flexible checksums) to PutObject/UploadPart? Resolved once.
  const checksumSetting = (client as unknown as { config?: { requestChecksumCalculation?: () => Promise<string> } }).config?.requestChecksumCalculation;
  let sdkChecksums: Promise<boolean> | undefined;
  const contentMd5 = async (bytes: Uint8Array): Promise<{ ContentMD5?: string }> => {
    sdkChecksums ??= typeof checksumSetting === 'function' ? Promise.resolve(checksumSetting()).then((v) => v !== 'WHEN_REQUIRED', () => true) : Promise.resolve(true);
    if (await sdkChecksums) return {};
    const sums = await createChecksummer({ md5: true });
    sums.update(bytes);
    return { ContentMD5: sums.digest().md5! };
  };

  const httpsOnly = (next: (args: { request?: unknown }) => Promise<unknown>) => async (args: { request?: unknown }) => {
    const req = args.request as { protocol?: string; hostname?: string } | undefined;
    checkProtocol(req?.protocol ?? 'https:', req?.hostname ?? '', allow, `${name} request`);
    return next(args);
  };

  const send = async <T>(command: object, what: string, key: string | undefined, signal: AbortSignal | undefined, expect404: 'not-found' | 'upload' | 'ok' = 'not-found'): Promise<T> => {
    signal?.throwIfAborted();
    await endpointCheck;
    (command as SdkCommand).middlewareStack.add(httpsOnly, { step: 'build', name: 'ensealHttpsOnly', priority: 'low' });
    try {
      return (await client.send(command as never, signal === undefined ? {} : { abortSignal: signal })) as T;
    } catch (e) {
      if (e instanceof EnsealError) throw e;
      if (signal?.aborted) throw signal.reason;
      const err = e as SdkError;
      const status = err.$metadata?.httpStatusCode ?? err.$response?.statusCode;
      const code = err.Code ?? err.name;
      const failure: StoreFailure = {
        ...(status === undefined ? {} : { status }),
        ...(err.$metadata?.requestId === undefined ? {} : { requestId: err.$metadata.requestId }),
        ...(code === undefined ? {} : { code }),
        cause: summariseCause(e),
      };
      if (code === 'NoSuchUpload' && expect404 === 'ok') return undefined as T;
      if (key !== undefined && expect404 === 'not-found' && (code === 'NoSuchKey' || code === 'NotFound' || (status === 404 && code !== 'NoSuchBucket'))) {
        throw notFoundError(name, key, failure);
      }
      if (status === 416 || code === 'InvalidRange') throw rangeNotSatisfiable(name, -1, undefined, failure);
      throw storeError(name, what, failure);
    }
  };

  const sseInput = async (sse: ServerSideEncryption | undefined, forRead: boolean): Promise<Record<string, string>> => {
    if (sse === undefined) return {};
    if (sse.provider !== 's3') throw new TypeError(`"sse" for an S3 store expected provider 's3', got ${String((sse as { provider?: unknown }).provider)}`);
    if (sse.algorithm === 'SSE-C') {
      if (!(sse.key instanceof Uint8Array) || sse.key.length !== 32) throw new RangeError('"sse.key" expected 32 bytes');
      return { SSECustomerAlgorithm: 'AES256', SSECustomerKey: toBase64(sse.key), SSECustomerKeyMD5: toBase64(fromHex(await md5(sse.key))) };
    }
    if (forRead) return {}; // SSE-S3 and SSE-KMS need nothing on reads
    if (sse.algorithm === 'AES256') return { ServerSideEncryption: 'AES256' };
    if (sse.algorithm === 'aws:kms') {
      return {
        ServerSideEncryption: 'aws:kms',
        ...(sse.keyId === undefined ? {} : { SSEKMSKeyId: sse.keyId }),
        ...(sse.context === undefined ? {} : { SSEKMSEncryptionContext: toBase64(utf8(JSON.stringify(sse.context))) }),
      };
    }
    throw new TypeError(`"sse.algorithm" expected AES256, aws:kms or SSE-C, got ${String((sse as { algorithm?: unknown }).algorithm)}`);
  };

  const sseInfo = (out: Input): ServerSideEncryptionInfo | undefined => {
    if (typeof out.SSECustomerAlgorithm === 'string') return { algorithm: 'SSE-C' };
    if (typeof out.ServerSideEncryption !== 'string') return undefined;
    return typeof out.SSEKMSKeyId === 'string' ? { algorithm: out.ServerSideEncryption, keyId: out.SSEKMSKeyId } : { algorithm: out.ServerSideEncryption };
  };

  const info = (out: Input, size: number): ObjectInfo => {
    const sse = sseInfo(out);
    const etag = stripQuotes(out.ETag as string | undefined);
    return {
      size,
      metadata: normaliseMetadata(out.Metadata as Record<string, unknown> | undefined),
      ...(etag === undefined ? {} : { etag }),
      ...(out.LastModified instanceof Date ? { lastModified: out.LastModified } : {}),
      ...(sse === undefined ? {} : { sse }),
    };
  };

  const failureOf = (out: Input): StoreFailure => {
    const md = out.$metadata as { httpStatusCode?: number; requestId?: string } | undefined;
    return { ...(md?.httpStatusCode === undefined ? {} : { status: md.httpStatusCode }), ...(md?.requestId === undefined ? {} : { requestId: md.requestId }) };
  };

  const toWeb = (body: unknown): ReadableStream<Uint8Array> => {
    const b = body as { transformToWebStream?: () => ReadableStream<Uint8Array>; destroy?: () => void } | undefined;
    if (b instanceof ReadableStream) return b as ReadableStream<Uint8Array>;
    if (b !== undefined && typeof (b as unknown as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
      return iterableStream(b as unknown as AsyncIterable<Uint8Array>, () => b.destroy?.());
    }
    if (typeof b?.transformToWebStream === 'function') return b.transformToWebStream();
    if (b === undefined) return new ReadableStream({ start: (c) => c.close() });
    throw storeError(name, 'get body', { code: 'UnknownBody' });
  };

  return {
    name,
    multipart: S3_MULTIPART_LIMITS,

    async put(key, body, o = {}) {
      checkKey(key);
      checkBody(body);
      const metadata = checkMetadata(o.metadata, maxMetadataBytes);
      const sse = await sseInput(o.sse, false);
      const len = o.contentLength;
      if (len !== undefined && (!Number.isSafeInteger(len) || len < 0)) throw new RangeError('"contentLength" expected a non-negative integer');
      let payload: unknown = body;
      let contentLength = len;
      if (body instanceof ReadableStream) {
        // Stream when the length is known and Node streams exist; otherwise S3 needs the bytes first.
        const readable = len === undefined ? undefined : nodeReadable(body);
        if (readable !== undefined) payload = readable;
        else {
          const bytes = await collectBody(body, o.signal);
          payload = bytes;
          contentLength ??= bytes.length;
        }
      }
      if (payload instanceof Uint8Array && contentLength !== undefined && contentLength !== payload.length) {
        throw storeError(name, `put "${quoteKey(key)}" (body of ${payload.length} bytes, contentLength ${contentLength})`, { status: 400, code: 'IncompleteBody' });
      }
      const md5 = payload instanceof Uint8Array ? await contentMd5(payload) : {};
      const out = await send<Input>(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: payload as never, ...(contentLength === undefined ? {} : { ContentLength: contentLength }), Metadata: metadata, ...sse, ...md5 }),
        `put "${quoteKey(key)}"`,
        undefined,
        o.signal,
      );
      const etag = stripQuotes(out.ETag as string | undefined);
      return etag === undefined ? {} : { etag };
    },

    async get(key, o = {}): Promise<GetResult> {
      checkKey(key);
      const range: StoreRange | undefined = o.range === undefined ? undefined : checkRange(o.range);
      const sse = await sseInput(o.sse, true);
      let out: Input;
      try {
        out = await send<Input>(
          new GetObjectCommand({ Bucket: bucket, Key: key, ...(range === undefined ? {} : { Range: rangeHeader(range) }), ...sse }),
          `get "${quoteKey(key)}"`,
          key,
          o.signal,
        );
      } catch (e) {
        if (e instanceof EnsealError && e.code === 'ERR_RANGE' && range !== undefined) throw rangeNotSatisfiable(name, range.start, undefined, e.cause as StoreFailure);
        throw e;
      }
      const failure = failureOf(out);
      const raw = toWeb(out.Body);
      const contentRange = parseContentRange(out.ContentRange as string | undefined);
      const length = out.ContentLength as number | undefined;
      if (range !== undefined && contentRange !== undefined) {
        const served = checkServedRange(name, range, contentRange, failure);
        return { ...info(out, served.size), body: servedBody(raw, served, name, failure, o.signal), range: { start: served.start, end: served.end } };
      }
      if (typeof length !== 'number') {
        await raw.cancel().catch(() => undefined);
        throw storeError(name, `get "${quoteKey(key)}" (no Content-Length)`, { ...failure, code: 'NoContentLength' });
      }
      if (range !== undefined) {
        // A whole-object answer to a ranged GET: acceptable only when the range covers it all.
        if (range.start === 0 && (range.end === undefined || range.end >= length - 1) && length > 0) {
          return { ...info(out, length), body: exactLength(raw, length, name, failure, o.signal), range: { start: 0, end: length - 1 } };
        }
        await raw.cancel().catch(() => undefined);
        if (range.start >= length) throw rangeNotSatisfiable(name, range.start, length, { ...failure, code: 'InvalidRange' });
        throw storeError(name, `ranged get "${quoteKey(key)}" (no Content-Range)`, { ...failure, code: 'BadContentRange' });
      }
      return { ...info(out, length), body: exactLength(raw, length, name, failure, o.signal) };
    },

    async head(key, o = {}) {
      checkKey(key);
      const sse = await sseInput(o.sse, true);
      const out = await send<Input>(new HeadObjectCommand({ Bucket: bucket, Key: key, ...sse }), `head "${quoteKey(key)}"`, key, o.signal);
      const length = out.ContentLength;
      if (typeof length !== 'number') throw storeError(name, `head "${quoteKey(key)}" (no Content-Length)`, { ...failureOf(out), code: 'NoContentLength' });
      return info(out, length);
    },

    async delete(key, o = {}) {
      checkKey(key);
      await send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), `delete "${quoteKey(key)}"`, undefined, o.signal);
    },

    list(prefix, o = {}) {
      if (typeof prefix !== 'string') throw new TypeError(`"prefix" expected string, got ${typeof prefix}`);
      return {
        async *[Symbol.asyncIterator](): AsyncGenerator<ListEntry> {
          let token: string | undefined;
          for (let page = 0; page < 1_000_000; page++) {
            const out = await send<Input>(
              new ListObjectsV2Command({ Bucket: bucket, ...(prefix === '' ? {} : { Prefix: prefix }), ...(token === undefined ? {} : { ContinuationToken: token }) }),
              'list',
              undefined,
              o.signal,
            );
            for (const c of (out.Contents as Input[] | undefined) ?? []) {
              if (typeof c.Key !== 'string') continue;
              const etag = stripQuotes(c.ETag as string | undefined);
              yield {
                key: c.Key,
                size: Number(c.Size ?? 0),
                ...(etag === undefined ? {} : { etag }),
                ...(c.LastModified instanceof Date ? { lastModified: c.LastModified } : {}),
              };
            }
            const next = out.IsTruncated === true ? (out.NextContinuationToken as string | undefined) : undefined;
            if (next === undefined) return;
            // A server that hands back the same token would make this loop forever.
            if (next === token) throw storeError(name, 'list (the continuation token did not advance)', { ...failureOf(out), code: 'ListLoop' });
            token = next;
          }
        },
      };
    },

    async createMultipart(key, o = {}) {
      checkKey(key);
      const metadata = checkMetadata(o.metadata, maxMetadataBytes);
      const sse = await sseInput(o.sse, false);
      const out = await send<Input>(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, Metadata: metadata, ...sse }), `create multipart "${quoteKey(key)}"`, undefined, o.signal);
      if (typeof out.UploadId !== 'string' || out.UploadId === '') throw storeError(name, 'create multipart (no upload id)', { ...failureOf(out), code: 'NoUploadId' });
      return { uploadId: out.UploadId };
    },

    async uploadPart(key, uploadId, partNumber, body, o = {}) {
      checkKey(key);
      if (typeof uploadId !== 'string' || uploadId === '') throw new TypeError('"uploadId" expected a non-empty string');
      if (!Number.isSafeInteger(partNumber) || partNumber < 1 || partNumber > S3_MULTIPART_LIMITS.maxParts) throw new RangeError(`"partNumber" expected 1..10000, got ${String(partNumber)}`);
      assertChunk(body, '"body" expected Uint8Array');
      const sse = await sseInput(o.sse, true);
      const out = await send<Input>(
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: body, ContentLength: body.length, ...sse, ...(await contentMd5(body)) }),
        `upload part ${partNumber} of "${quoteKey(key)}"`,
        undefined,
        o.signal,
      );
      const etag = stripQuotes(out.ETag as string | undefined);
      if (etag === undefined) throw storeError(name, `upload part ${partNumber} (no ETag)`, { ...failureOf(out), code: 'NoETag' });
      return { etag };
    },

    async completeMultipart(key, uploadId, parts, o = {}) {
      checkKey(key);
      if (!Array.isArray(parts) || parts.length === 0) throw new TypeError('"parts" expected a non-empty array of { partNumber, etag }');
      const list = parts.map((p) => ({ PartNumber: p.partNumber, ETag: `"${String(p.etag).replace(/"/g, '')}"` }));
      // S3 answers InvalidPartOrder; checked here too so S3-compatible stores that do not check agree.
      for (let i = 1; i < list.length; i++) {
        if ((list[i] as { PartNumber: number }).PartNumber <= (list[i - 1] as { PartNumber: number }).PartNumber) {
          throw storeError(name, 'complete multipart (parts not in ascending order)', { status: 400, code: 'InvalidPartOrder' });
        }
      }
      const out = await send<Input>(
        new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: list } }),
        `complete multipart "${quoteKey(key)}"`,
        undefined,
        o.signal,
      );
      const etag = stripQuotes(out.ETag as string | undefined);
      return etag === undefined ? {} : { etag };
    },

    async abortMultipart(key, uploadId, o = {}) {
      checkKey(key);
      await send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }), `abort multipart "${quoteKey(key)}"`, undefined, o.signal, 'ok');
    },

    async copy(sourceKey, destinationKey, o) {
      checkKey(sourceKey);
      checkKey(destinationKey);
      const metadata = checkMetadata(o?.metadata, maxMetadataBytes);
      const sse = await sseInput(o?.sse, false);
      const copySse: Record<string, string> = o?.sse?.algorithm === 'SSE-C' ? { CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: sse.SSECustomerKey as string, CopySourceSSECustomerKeyMD5: sse.SSECustomerKeyMD5 as string } : {};
      const source = `${bucket}/${sourceKey.split('/').map(encodeURIComponent).join('/')}`;
      const out = await send<Input>(
        new CopyObjectCommand({ Bucket: bucket, Key: destinationKey, CopySource: source, MetadataDirective: 'REPLACE', Metadata: metadata, ...sse, ...copySse }),
        `copy "${quoteKey(sourceKey)}"`,
        sourceKey,
        o?.signal,
      );
      const etag = stripQuotes((out.CopyObjectResult as Input | undefined)?.ETag as string | undefined);
      return etag === undefined ? {} : { etag };
    },
  };
}

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
