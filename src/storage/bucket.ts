/**
 * `encryptedBucket(store)`: client-side encryption over any {@link ObjectStore}, the analogue of
 * the OSS and S3 encryption clients (and of rclone's `crypt` remote: the crypto lives in this
 * one wrapper, adapters stay thin). docs/FORMAT.md §"Object storage" describes what is stored.
 *
 * - Every stored body is a complete enseal object (`encrypt` output, or byte-identical multipart
 *   parts of it): a copy that loses its metadata still decrypts.
 * - The object's key in the store is bound into its encryption context
 *   (`enseal:object-key`), so a store that serves another object, even one under the same
 *   master key, is refused (`ERR_CONTEXT`). Disable with `bindObjectKey: false`.
 * - Metadata holds hints only (format, plaintext size, header length, a rewrapped header):
 *   never trusted, checked against the authenticated object.
 * - Ranged reads cost at most 2 requests for a range not touching the end, and move only the
 *   header, the preamble and the covering chunks ({@link ObjectReader}).
 *
 * @module
 */
import { getBackend, type BackendChoice } from '../backends/select.js';
import { EnsealError } from '../errors.js';
import { encrypt } from '../envelope/oneshot.js';
import { inspect } from '../envelope/inspect.js';
import { plaintextSize } from '../envelope/sizes.js';
import { decodeHeaderPrefix, type EncryptionContext } from '../format/header.js';
import { checkProviders, type KeyProvider } from '../keys/provider.js';
import { checkUserMetadata, metadataBytes, readMarker, userMetadata, withMarker } from './bucket-marker.js';
import { OBJECT_KEY_CONTEXT } from './bucket-open.js';
import { DEFAULT_HEADER_GUESS, ObjectReader, type ReaderOptions } from './bucket-reader.js';
import { rewrapStoredObject, type RewrapObjectOptions, type RewrapObjectResult } from './bucket-rewrap.js';
import { S3_MAX_METADATA_BYTES } from './metadata.js';
import { checkKey } from './object-key.js';
import { checkRange } from './http-range.js';
import { encryptedMultipartUpload, type UploadProgress } from './multipart.js';
import { DEFAULT_PART_SIZE } from './multipart-layout.js';
import { retryPolicy, withRetry, type RetryOptions } from './multipart-retry.js';
import { splitBody, type PartSource } from './multipart-source.js';
import type { ObjectStore, ServerSideEncryption, ServerSideEncryptionInfo, StoreRange } from './store.js';
import type { UploadState } from './upload-state.js';

export type { RewrapObjectOptions, RewrapObjectResult } from './bucket-rewrap.js';
export type { UploadProgress } from './multipart.js';

/** Options of {@link encryptedBucket}. */
export interface EncryptedBucketOptions {
  /** Who can decrypt objects this bucket writes (needed by `putObject`). */
  readonly recipients?: readonly KeyProvider[];
  /** Keys to decrypt with (needed by `getObject`, `rewrapObject`, resumed uploads). */
  readonly keys?: readonly KeyProvider[];
  /** Encryption context written into every object, and required of every object read. */
  readonly context?: EncryptionContext;
  /** Plaintext bytes per multipart part (default 8 MiB; raised to the store's minimum). */
  readonly partSize?: number;
  /** Parts uploaded in parallel (default 4). */
  readonly concurrency?: number;
  /** Bodies longer than this go multipart (default: `partSize`). */
  readonly multipartThreshold?: number;
  /** Crypto backend. */
  readonly backend?: BackendChoice;
  /** Bind each object to its key in the store (default true). */
  readonly bindObjectKey?: boolean;
  /** Retries of upload requests. */
  readonly retry?: RetryOptions;
  /** User-metadata budget of the store (default 2048, S3's; OSS allows 8192). */
  readonly maxMetadataBytes?: number;
}

/** Options of {@link EncryptedBucket.putObject}. */
export interface PutObjectOptions {
  /** User metadata (lower-case names; not `enseal-*`), stored in clear. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Server-side encryption to request from the store as well. */
  readonly sse?: ServerSideEncryption;
  /** Aborts the upload (a multipart upload is aborted in the store too). */
  readonly signal?: AbortSignal;
  /** Plaintext length of a stream body, when known. */
  readonly contentLength?: number;
  /** Progress of a multipart upload, after each part. */
  readonly onProgress?: (p: UploadProgress) => void;
  /** Persist multipart progress here (resumable uploads). */
  readonly uploadState?: UploadState;
  /** Resume the upload saved in `uploadState` (same plaintext; needs the bucket's `keys`). */
  readonly resume?: boolean;
  /** Keep parts and state after a failure, for a later resume (default false: abort). */
  readonly leavePartsOnError?: boolean;
}

/** What {@link EncryptedBucket.putObject} returns. */
export interface PutObjectResult {
  /** The stored object's entity tag, when the store returned one. */
  readonly etag?: string;
  /** Plaintext bytes. */
  readonly size: number;
  /** Stored bytes. */
  readonly storedSize: number;
  /** Parts, for a multipart upload (else 1). */
  readonly parts: number;
  /** Parts sent by this call (fewer after a resume). */
  readonly uploadedParts: number;
}

/** Options of {@link EncryptedBucket.getObject}. */
export interface GetObjectOptions {
  /** Plaintext bytes `start..end`, inclusive; `end` past the end is clamped. */
  readonly range?: StoreRange;
  /** SSE-C key, when the store encrypted the object with one. */
  readonly sse?: ServerSideEncryption;
  /** Aborts the requests and the body. */
  readonly signal?: AbortSignal;
}

/** What {@link EncryptedBucket.getObject} returns. */
export interface GetObjectResult {
  /** Authenticated plaintext (the range, or everything). */
  readonly body: ReadableStream<Uint8Array>;
  /** Plaintext size of the whole object (from the stored size; see `verifiedSize`). */
  readonly size: number;
  /** The plaintext range served, inclusive, when one was asked for. */
  readonly range?: { readonly start: number; readonly end: number };
  /** User metadata. */
  readonly metadata: Record<string, string>;
  /** Entity tag. */
  readonly etag?: string;
  /** The store's own server-side encryption, when reported. */
  readonly sse?: ServerSideEncryptionInfo;
  /** Which header was trusted. */
  readonly headerSource: 'body' | 'metadata';
  /**
   * Authenticates the length: resolves at once when the body reached the final chunk, else
   * fetches it (one GET while the body is open; once the body settled, the reader's key is
   * released, so the object is opened again: two GETs, checked to be the same object). Use
   * {@link EncryptedBucket.openObject} for repeated reads.
   */
  verifiedSize(): Promise<number>;
}

/** What {@link EncryptedBucket.headObject} returns (nothing in it is authenticated). */
export interface HeadObjectResult {
  /** Plaintext size implied by the stored size and header length. */
  readonly size: number;
  /** Stored bytes. */
  readonly storedSize: number;
  /** User metadata. */
  readonly metadata: Record<string, string>;
  /** Whether the bucket's marker is present (absent for an object copied without metadata). */
  readonly marked: boolean;
  /** Recipients as `inspect` shows them (wrapped keys by length only). */
  readonly recipients: { type: string; keyId: string; params: Record<string, string>; wrappedKeyLength: number }[];
  /** Encryption context as stored. */
  readonly context: Record<string, string>;
  /** Whether the recipients come from a rewrapped header in metadata. */
  readonly headerSource: 'body' | 'metadata';
  /** Entity tag. */
  readonly etag?: string;
  /** Last modification. */
  readonly lastModified?: Date;
  /** The store's own server-side encryption, when reported. */
  readonly sse?: ServerSideEncryptionInfo;
  /** Always false: use `getObject`/`openObject` for verified facts. */
  readonly authenticated: false;
}

/** One entry of {@link EncryptedBucket.listObjects}. */
export interface BucketListEntry {
  /** Object key. */
  readonly key: string;
  /** Stored bytes (the plaintext size needs the header: `headObject`). */
  readonly storedSize: number;
  /** Entity tag. */
  readonly etag?: string;
  /** Last modification. */
  readonly lastModified?: Date;
}

/** The encrypting bucket. */
export interface EncryptedBucket {
  /** The underlying store. */
  readonly store: ObjectStore;
  /**
   * Encrypts and stores an object: one PUT up to `multipartThreshold`, else a parallel
   * (optionally resumable) multipart upload.
   * @param key - object key
   * @param body - plaintext bytes (not modified) or a stream of unknown length
   * @param opts - metadata, sse, signal, progress, resumable state
   * @returns sizes and entity tag
   * @throws TypeError for invalid metadata (before any request) or missing `recipients`
   * @throws EnsealError `ERR_STORE` after bounded retries (nothing becomes visible)
   */
  putObject(key: string, body: Uint8Array | ReadableStream<Uint8Array>, opts?: PutObjectOptions): Promise<PutObjectResult>;
  /**
   * Reads and decrypts an object or a plaintext range of it.
   * @param key - object key
   * @param opts - range, sse, signal
   * @returns the plaintext stream, sizes and metadata
   * @throws RangeNotSatisfiableError (`ERR_RANGE`) when `range.start` ≥ the size
   * @throws EnsealError `ERR_NOT_FOUND`, `ERR_STORE`, `ERR_NO_KEY`, `ERR_CONTEXT`, `ERR_AUTH`, `ERR_TRUNCATED`
   */
  getObject(key: string, opts?: GetObjectOptions): Promise<GetObjectResult>;
  /**
   * Opens an object for repeated ranged reads (the final chunk is authenticated once, when a
   * read reaches it or `verifiedSize()` is asked).
   * @param key - object key
   * @param opts - sse, signal
   * @returns the reader; `close()` it when done
   * @throws as {@link getObject}
   */
  openObject(key: string, opts?: Omit<GetObjectOptions, 'range'>): Promise<ObjectReader>;
  /**
   * Size, metadata and recipients without decrypting: one HEAD, plus one small ranged GET of the
   * header unless metadata carries it or `recipients: false`… and the header length is known.
   * @param key - object key
   * @param opts - sse, signal, `recipients: false` to skip the header
   * @returns unauthenticated facts
   * @throws EnsealError `ERR_NOT_FOUND`, `ERR_STORE`, `ERR_HEADER`
   */
  headObject(key: string, opts?: { readonly sse?: ServerSideEncryption; readonly signal?: AbortSignal; readonly recipients?: boolean }): Promise<HeadObjectResult>;
  /**
   * Deletes an object.
   * @param key - object key
   */
  deleteObject(key: string, opts?: { readonly signal?: AbortSignal }): Promise<void>;
  /**
   * Lists objects under a prefix, in key order.
   * @param prefix - key prefix
   */
  listObjects(prefix?: string, opts?: { readonly signal?: AbortSignal }): AsyncIterable<BucketListEntry>;
  /**
   * Key rotation: new recipients without re-encrypting the payload (server-side copy when the
   * store can, else a verified streamed rewrite).
   * @param key - object key
   * @param opts - keys, add, remove, method
   * @returns the method used and the new recipients
   * @throws RangeError when no recipient would remain
   */
  rewrapObject(key: string, opts: RewrapObjectOptions): Promise<RewrapObjectResult>;
}

const HINTS_MAX = 1024;

/**
 * Creates an encrypting bucket over a store.
 *
 * @param store - any {@link ObjectStore} (memory, fs, s3, oss, fetch)
 * @param opts - recipients (write), keys (read), context, multipart and retry settings
 * @returns the bucket
 * @throws TypeError when `store` is not an object store, or a provider list is invalid
 * @example
 * ```ts
 * import { aesKey } from 'enseal';
 * import { encryptedBucket } from 'enseal/storage';
 * import { memoryStore } from 'enseal/storage/memory';
 * const key = aesKey({ id: 'k1', key: crypto.getRandomValues(new Uint8Array(32)) });
 * const bucket = encryptedBucket(memoryStore(), { recipients: [key], keys: [key] });
 * await bucket.putObject('a.txt', new TextEncoder().encode('hello'));
 * const { body } = await bucket.getObject('a.txt', { range: { start: 1, end: 3 } }); // "ell"
 * ```
 */
export function encryptedBucket(store: ObjectStore, opts: EncryptedBucketOptions = {}): EncryptedBucket {
  if (typeof store !== 'object' || store === null || typeof store.get !== 'function' || typeof store.put !== 'function') {
    throw new TypeError('"store" expected an ObjectStore');
  }
  if (opts.recipients !== undefined) checkProviders(opts.recipients, 'recipients');
  if (opts.keys !== undefined) checkProviders(opts.keys, 'keys');
  const backend = getBackend(opts.backend);
  const baseContext: EncryptionContext = { ...(opts.context ?? {}) };
  if (Object.hasOwn(baseContext, OBJECT_KEY_CONTEXT)) throw new TypeError(`"context" must not set the reserved "${OBJECT_KEY_CONTEXT}"`);
  const bind = opts.bindObjectKey !== false;
  const partSize = opts.partSize ?? DEFAULT_PART_SIZE;
  const threshold = opts.multipartThreshold ?? Math.max(partSize, 1);
  if (!Number.isSafeInteger(threshold) || threshold < 0) throw new RangeError(`"multipartThreshold" expected a non-negative integer, got ${String(threshold)}`);
  const maxMetadataBytes = opts.maxMetadataBytes ?? S3_MAX_METADATA_BYTES;
  const policy = retryPolicy(opts.retry);
  const hints = new Map<string, number>(); // key → body header length (a hint)

  const remember = (key: string, headerLength: number): void => {
    hints.delete(key);
    hints.set(key, headerLength);
    if (hints.size > HINTS_MAX) hints.delete(hints.keys().next().value as string);
  };
  const contextFor = (key: string): EncryptionContext => (bind ? { ...baseContext, [OBJECT_KEY_CONTEXT]: key } : baseContext);
  const needKeys = (): readonly KeyProvider[] => {
    if (opts.keys === undefined) throw new TypeError('encryptedBucket needs "keys" to read');
    return opts.keys;
  };
  const readerOpts = (o: { sse?: ServerSideEncryption; signal?: AbortSignal }) => ({
    keys: needKeys(),
    context: baseContext,
    backend,
    ...(o.sse === undefined ? {} : { sse: o.sse }),
    ...(o.signal === undefined ? {} : { signal: o.signal }),
  });
  const checkMd = (md: Record<string, string>): void => {
    const n = metadataBytes(md);
    if (n > maxMetadataBytes) throw new TypeError(`metadata is ${n} bytes with the bucket's marker, over the store's ${maxMetadataBytes}-byte limit`);
  };

  const putSingle = async (key: string, plaintext: Uint8Array, user: Record<string, string>, o: PutObjectOptions): Promise<PutObjectResult> => {
    const sealed = await encrypt(plaintext, { recipients: opts.recipients!, context: contextFor(key), backend });
    const headerLength = decodeHeaderPrefix(sealed);
    const metadata = withMarker(user, plaintext.length, headerLength);
    checkMd(metadata);
    const put = await withRetry(
      (s) => store.put(key, sealed, { metadata, contentLength: sealed.length, ...(o.sse === undefined ? {} : { sse: o.sse }), ...(s === undefined ? {} : { signal: s }) }),
      policy,
      o.signal,
    );
    remember(key, headerLength);
    o.onProgress?.({ loaded: plaintext.length, total: plaintext.length, part: 1 });
    return { ...(put.etag === undefined ? {} : { etag: put.etag }), size: plaintext.length, storedSize: sealed.length, parts: 1, uploadedParts: 1 };
  };

  const putMultipart = async (
    key: string,
    source: PartSource,
    user: Record<string, string>,
    o: PutObjectOptions,
    contentLength: number | undefined,
  ): Promise<PutObjectResult> => {
    let headerLength = 0;
    const r = await encryptedMultipartUpload(source, {
      store,
      key,
      recipients: opts.recipients!,
      ...(opts.keys === undefined ? {} : { keys: opts.keys }),
      context: contextFor(key),
      backend,
      partSize,
      ...(opts.concurrency === undefined ? {} : { concurrency: opts.concurrency }),
      metadata: (h) => {
        headerLength = h;
        const md = withMarker(user, contentLength, h);
        checkMd(md);
        return md;
      },
      ...(o.sse === undefined ? {} : { sse: o.sse }),
      ...(o.signal === undefined ? {} : { signal: o.signal }),
      ...(o.onProgress === undefined ? {} : { onProgress: o.onProgress }),
      ...(o.uploadState === undefined ? {} : { uploadState: o.uploadState }),
      ...(o.resume === undefined ? {} : { resume: o.resume }),
      ...(o.leavePartsOnError === undefined ? {} : { leavePartsOnError: o.leavePartsOnError }),
      ...(opts.retry === undefined ? {} : { retry: opts.retry }),
      ...(contentLength === undefined ? {} : { contentLength }),
    });
    remember(key, r.headerLength || headerLength);
    return { ...(r.etag === undefined ? {} : { etag: r.etag }), size: r.plaintextSize, storedSize: r.storedSize, parts: r.parts, uploadedParts: r.uploadedParts };
  };

  return {
    store,

    async putObject(key, body, o = {}) {
      checkKey(key);
      if (opts.recipients === undefined) throw new TypeError('encryptedBucket needs "recipients" to write');
      const user = checkUserMetadata(o.metadata);
      const contentLength = o.contentLength; // read once
      if (contentLength !== undefined && (!Number.isSafeInteger(contentLength) || contentLength < 0)) {
        throw new RangeError(`"contentLength" expected a non-negative integer, got ${String(contentLength)}`);
      }
      checkMd(withMarker(user, Number.MAX_SAFE_INTEGER, 65536)); // the largest marker, before any request
      o.signal?.throwIfAborted();
      if (body instanceof Uint8Array && contentLength !== undefined && contentLength !== body.length) {
        throw new RangeError(`the body is ${body.length} bytes, not "contentLength" (${contentLength})`);
      }
      const split = await splitBody(body, threshold, o.uploadState !== undefined);
      if (split.kind === 'single') {
        try {
          if (contentLength !== undefined && contentLength !== split.bytes.length) {
            throw new RangeError(`the body is ${split.bytes.length} bytes, not "contentLength" (${contentLength})`);
          }
          return await putSingle(key, split.bytes, user, o);
        } finally {
          if (split.owned) split.bytes.fill(0);
        }
      }
      return putMultipart(key, split.source, user, o, split.length ?? contentLength);
    },

    async getObject(key, o = {}) {
      checkKey(key);
      const ro = readerOpts(o);
      if (o.range === undefined) {
        const { reader, body } = await ObjectReader.openStream(store, key, ro);
        remember(key, reader.bodyHeaderLength);
        return result(reader, body, undefined, ro, store, key);
      }
      const snapshot: StoreRange = checkRange(o.range); // validated copy, read once
      const hint = hints.get(key);
      const reader = await ObjectReader.open(store, key, ro, { ...(hint === undefined ? {} : { headerLength: hint }), range: snapshot });
      try {
        remember(key, reader.bodyHeaderLength);
        const body = await reader.read(snapshot, { autoClose: true });
        return result(reader, body, { start: snapshot.start, end: Math.min(snapshot.end ?? reader.size - 1, reader.size - 1) }, ro, store, key);
      } catch (e) {
        reader.close();
        throw e;
      }
    },

    async openObject(key, o = {}) {
      checkKey(key);
      const hint = hints.get(key);
      const reader = await ObjectReader.open(store, key, readerOpts(o), hint === undefined ? {} : { headerLength: hint });
      remember(key, reader.bodyHeaderLength);
      return reader;
    },

    async headObject(key, o = {}) {
      checkKey(key);
      const common = { ...(o.sse === undefined ? {} : { sse: o.sse }), ...(o.signal === undefined ? {} : { signal: o.signal }) };
      const info = await store.head(key, common);
      const marker = readMarker(info.metadata);
      let headerLength = marker.headerLength ?? hints.get(key);
      if (headerLength !== undefined) {
        try {
          plaintextSize(info.size, headerLength);
        } catch {
          headerLength = undefined; // a wrong hint: read the header instead
        }
      }
      let described: ReturnType<typeof inspect> | undefined;
      let headerSource: 'body' | 'metadata' = 'body';
      if (marker.header !== undefined && o.recipients !== false) {
        try {
          described = inspect(marker.header);
          headerSource = 'metadata';
        } catch (e) {
          if (!(e instanceof EnsealError)) throw e; // a malformed hint: use the body's header
        }
      }
      if ((described === undefined && o.recipients !== false) || headerLength === undefined) {
        const end = Math.min(info.size, headerLength ?? DEFAULT_HEADER_GUESS) - 1;
        if (end < 0) throw new EnsealError('ERR_TRUNCATED', 'the stored object is empty: not an enseal object');
        let res = await store.get(key, { range: { start: 0, end }, ...common });
        let bytes = new Uint8Array(await new Response(res.body).arrayBuffer());
        const need = decodeHeaderPrefix(bytes);
        if (bytes.length < need && need <= info.size) {
          res = await store.get(key, { range: { start: 0, end: need - 1 }, ...common });
          bytes = new Uint8Array(await new Response(res.body).arrayBuffer());
        }
        const body = inspect(bytes.subarray(0, Math.min(bytes.length, need)));
        headerLength = body.headerLength;
        if (described === undefined) described = body;
      }
      remember(key, headerLength);
      const size = plaintextSize(info.size, headerLength);
      return {
        size,
        storedSize: info.size,
        metadata: userMetadata(info.metadata),
        marked: marker.format !== undefined,
        recipients: described?.recipients ?? [],
        context: described?.context ?? {},
        headerSource,
        ...(info.etag === undefined ? {} : { etag: info.etag }),
        ...(info.lastModified === undefined ? {} : { lastModified: info.lastModified }),
        ...(info.sse === undefined ? {} : { sse: info.sse }),
        authenticated: false,
      };
    },

    async deleteObject(key, o = {}) {
      checkKey(key);
      hints.delete(key);
      await store.delete(key, o);
    },

    listObjects(prefix = '', o = {}) {
      if (typeof prefix !== 'string') throw new TypeError(`"prefix" expected string, got ${typeof prefix}`);
      const inner = store.list(prefix, o);
      return {
        async *[Symbol.asyncIterator]() {
          for await (const e of inner) {
            yield {
              key: e.key,
              storedSize: e.size,
              ...(e.etag === undefined ? {} : { etag: e.etag }),
              ...(e.lastModified === undefined ? {} : { lastModified: e.lastModified }),
            };
          }
        },
      };
    },

    async rewrapObject(key, o) {
      checkKey(key);
      if (typeof o !== 'object' || o === null) throw new TypeError('"options" expected { keys?, add?, remove? }');
      const hint = hints.get(key);
      const r = await rewrapStoredObject(key, o, {
        store,
        backend,
        keys: o.keys ?? needKeys(),
        maxMetadataBytes,
        partSize,
        ...(opts.retry === undefined ? {} : { retry: opts.retry }),
        ...(hint === undefined ? {} : { headerHint: hint }),
      });
      if (r.method === 'stream') hints.delete(key);
      return r;
    },
  };
}

function result(
  reader: ObjectReader,
  body: ReadableStream<Uint8Array>,
  range: { start: number; end: number } | undefined,
  ro: ReaderOptions,
  store: ObjectStore,
  key: string,
): GetObjectResult {
  let reopened: Promise<number> | undefined;
  const verifiedSize = (): Promise<number> => {
    if (reader.sizeVerified || !reader.closed) return reader.verifiedSize();
    reopened ??= (async () => {
      const again = await ObjectReader.open(store, key, ro, { headerLength: reader.bodyHeaderLength });
      try {
        if (again.storedSize !== reader.storedSize || (again.etag !== undefined && reader.etag !== undefined && again.etag !== reader.etag)) {
          throw new EnsealError('ERR_STORE', 'the object changed since it was read', { cause: { status: 412, code: 'PreconditionFailed' } });
        }
        return await again.verifiedSize();
      } finally {
        again.close();
      }
    })();
    return reopened;
  };
  return {
    body,
    size: reader.size,
    ...(range === undefined ? {} : { range }),
    metadata: reader.metadata,
    ...(reader.etag === undefined ? {} : { etag: reader.etag }),
    ...(reader.sse === undefined ? {} : { sse: reader.sse }),
    headerSource: reader.headerSource,
    verifiedSize,
  };
}
