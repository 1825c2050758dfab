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
 * - Objects of the Alibaba OSS and AWS S3 encryption clients are detected after the enseal path
 *   failed (from the metadata of its own first answer: no extra request for enseal objects),
 *   read, written (`format`), described and converted (`convertObject`) through
 *   bucket-interop*.ts (docs/INTEROP.md §"Through the encrypting bucket").
 *
 * @module
 */
import { getBackend, type BackendChoice } from '../backends/select.js';
import { escapeControl } from '../bytes.js';
import { EnsealError } from '../errors.js';
import { encrypt } from '../envelope/oneshot.js';
import { inspect } from '../envelope/inspect.js';
import { plaintextSize } from '../envelope/sizes.js';
import { decodeHeaderPrefix, type EncryptionContext } from '../format/header.js';
import { HEADER_PREFIX_LENGTH } from '../format/limits.js';
import { checkProviders, type KeyProvider } from '../keys/provider.js';
import { checkUserMetadata, metadataBytes, readMarker, userMetadata, withMarker } from './bucket-marker.js';
import { OBJECT_KEY_CONTEXT } from './bucket-open.js';
import { DEFAULT_HEADER_GUESS, ObjectReader, type ReaderOptions } from './bucket-reader.js';
import { rewrapStoredObject, type RewrapObjectOptions, type RewrapObjectResult } from './bucket-rewrap.js';
import { S3_MAX_METADATA_BYTES } from './metadata.js';
import { checkKey } from './object-key.js';
import { checkRange } from './http-range.js';
import { encryptedMultipartUpload, type UploadProgress } from './multipart.js';
import { checkWorkersOption } from '../pool/pool.js';
import type { WorkersOption } from '../pool/session.js';
import { DEFAULT_PART_SIZE } from './multipart-layout.js';
import { retryPolicy, withRetry, type RetryOptions } from './multipart-retry.js';
import { splitBody, type PartSource } from './multipart-source.js';
import type { ObjectInfo, ObjectStore, ServerSideEncryption, ServerSideEncryptionInfo, StoreRange } from './store.js';
import type { UploadState } from './upload-state.js';
import { checkNoForeignNames, isForeign, metadataFormat, type StoredFormat, type WriteFormat } from './bucket-interop-format.js';
import { foreignAfter, probeStore, type ForeignReadOptions } from './bucket-interop-read.js';
import { headForeign, openForeignReader, putForeign, readForeign, type InteropDescription, type InteropObjectReader, type OssWriteSettings, type S3ecWriteSettings } from './bucket-interop.js';
import { convertStored, type ConvertObjectResult } from './bucket-interop-convert.js';

export type { RewrapObjectOptions, RewrapObjectResult } from './bucket-rewrap.js';
export type { UploadProgress } from './multipart.js';
export type { StoredFormat, WriteFormat } from './bucket-interop-format.js';
export type { InteropDescription, InteropObjectReader, OssWriteSettings, S3ecWriteSettings } from './bucket-interop.js';
export type { ConvertObjectResult } from './bucket-interop-convert.js';

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
  /**
   * Seal `putObject` bodies (enseal format, one PUT or multipart) on worker threads: a thread
   * count (a shared pool) or a `createPool()` pool. Same bytes as without.
   */
  readonly workers?: WorkersOption;
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
  /**
   * Format `putObject` writes (default `'enseal'`): `'oss'` (Alibaba OSS client-side encryption,
   * AES-CTR, unauthenticated; needs one `ossRsaKey`/`ossKmsKey` among `recipients`) or `'s3ec'`
   * (AWS S3 Encryption Client, V3 by default; one S3EC keyring). Reads detect the format.
   */
  readonly format?: WriteFormat;
  /**
   * Read unauthenticated formats (OSS CTR, S3EC CBC, ranged S3EC GCM reads). Default false:
   * `ERR_UNAUTHENTICATED`. Each call may override it.
   */
  readonly allowUnauthenticated?: boolean;
  /** Most bytes an S3EC read or write buffers (default 64 MiB, at most 1 GiB). */
  readonly maxBuffer?: number;
  /** OSS-format write settings. */
  readonly oss?: OssWriteSettings;
  /** S3EC-format write settings. */
  readonly s3ec?: S3ecWriteSettings;
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
  /** Format of this object (default: the bucket's `format`, else `'enseal'`). */
  readonly format?: WriteFormat;
  /** OSS-format settings of this object (over the bucket's). */
  readonly oss?: OssWriteSettings;
  /** S3EC-format settings of this object (over the bucket's). */
  readonly s3ec?: S3ecWriteSettings;
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
  /** Read an unauthenticated foreign format (overrides the bucket's setting). */
  readonly allowUnauthenticated?: boolean;
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
  /** Which header was trusted (`'metadata'` for foreign formats: their key material is there). */
  readonly headerSource: 'body' | 'metadata';
  /** The object's format. */
  readonly format: StoredFormat;
  /**
   * Whether every byte of `body` is authenticated before it is released: true for enseal and for
   * whole S3EC V2/V3 reads; false for OSS, S3EC CBC and ranged S3EC reads (then a whole OSS read
   * still checks a recorded MD5 at the end).
   */
  readonly authenticated: boolean;
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
  /** The object's format. */
  readonly format: StoredFormat;
  /** For a foreign format: what it is and which key provider would read it (no secrets). */
  readonly interop?: InteropDescription;
}

/** Options of {@link EncryptedBucket.convertObject}. */
export interface ConvertObjectOptions {
  /** Target format (only `'enseal'`). */
  readonly to: 'enseal';
  /** Who can decrypt the converted object (default: the bucket's `recipients`). */
  readonly recipients?: readonly KeyProvider[];
  /** Keys that read the foreign object (default: the bucket's `keys`). */
  readonly keys?: readonly KeyProvider[];
  /**
   * Must be true to convert OSS (AES-CTR) and S3EC CBC objects: converting them reads
   * unauthenticated bytes (overrides the bucket's setting).
   */
  readonly allowUnauthenticated?: boolean;
  /** Aborts the conversion (the old object stays). */
  readonly signal?: AbortSignal;
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
   * Reads and decrypts an object or a plaintext range of it. The format is detected (enseal
   * first, unchanged; then OSS or S3EC from the metadata names, docs/INTEROP.md §B.1).
   * @param key - object key
   * @param opts - range, sse, signal, allowUnauthenticated
   * @returns the plaintext stream, sizes, metadata, `format` and `authenticated`
   * @throws RangeNotSatisfiableError (`ERR_RANGE`) when `range.start` ≥ the size
   * @throws EnsealError `ERR_NOT_FOUND`, `ERR_STORE`, `ERR_NO_KEY`, `ERR_CONTEXT`, `ERR_AUTH`, `ERR_TRUNCATED`,
   *   `ERR_HEADER` (mixed metadata), `ERR_UNAUTHENTICATED` (an unauthenticated format without the opt-in)
   */
  getObject(key: string, opts?: GetObjectOptions): Promise<GetObjectResult>;
  /**
   * Opens an object for repeated ranged reads (the final chunk is authenticated once, when a
   * read reaches it or `verifiedSize()` is asked). A foreign (OSS, S3EC) object gives an
   * `InteropObjectReader` (docs/INTEROP.md §B.1); OSS and CBC objects need the opt-in.
   * @param key - object key
   * @param opts - sse, signal, allowUnauthenticated
   * @returns the reader; `close()` it when done
   * @throws as {@link getObject}; `ERR_UNAUTHENTICATED` for an OSS or CBC object without the opt-in
   */
  openObject(key: string, opts?: Omit<GetObjectOptions, 'range'>): Promise<ObjectReader | InteropObjectReader>;
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
  /**
   * Migrates an OSS or S3EC object to the enseal format under the same key, atomically: the new
   * object is written whole (one PUT, or a multipart upload completed at the end) before anything
   * old is removed, the OSS MD5 or S3EC GCM tag verified before it becomes visible, an instruction
   * file deleted only after that. **Converting OSS (AES-CTR) or S3EC CBC objects reads
   * unauthenticated bytes**: it needs `allowUnauthenticated: true`, and what a writer of the old
   * object tampered with is sealed as authentic (only a recorded MD5 is checked).
   * @param key - object key
   * @param opts - `{ to: 'enseal', recipients?, keys?, allowUnauthenticated?, signal? }`
   * @returns what was done (`converted: false` for an object already in the enseal format)
   * @throws EnsealError `ERR_UNAUTHENTICATED` without the opt-in, `ERR_AUTH` (MD5/tag mismatch),
   *   `ERR_NO_KEY`, `ERR_HEADER`, store errors: the old object is then untouched
   * @example
   * ```ts
   * await bucket.convertObject('photo.jpg', { to: 'enseal', allowUnauthenticated: true });
   * ```
   */
  convertObject(key: string, opts: ConvertObjectOptions): Promise<ConvertObjectResult>;
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
  checkWorkersOption(opts.workers);
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

  const putSingle = async (key: string, plaintext: Uint8Array, user: Record<string, string>, o: PutObjectOptions, recipients: readonly KeyProvider[]): Promise<PutObjectResult> => {
    const sealed = await encrypt(plaintext, { recipients, context: contextFor(key), backend, ...(opts.workers === undefined ? {} : { workers: opts.workers }) });
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
    recipients: readonly KeyProvider[],
  ): Promise<PutObjectResult> => {
    let headerLength = 0;
    const r = await encryptedMultipartUpload(source, {
      store,
      key,
      recipients,
      ...(opts.keys === undefined ? {} : { keys: opts.keys }),
      context: contextFor(key),
      backend,
      partSize,
      ...(opts.concurrency === undefined ? {} : { concurrency: opts.concurrency }),
      ...(opts.workers === undefined ? {} : { workers: opts.workers }),
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

  const allowUnauth = (o: { allowUnauthenticated?: boolean }): boolean => (o.allowUnauthenticated ?? opts.allowUnauthenticated) === true;
  const foreignOpts = (o: { sse?: ServerSideEncryption; signal?: AbortSignal; allowUnauthenticated?: boolean }, keys?: readonly KeyProvider[]): ForeignReadOptions => ({
    keys: keys ?? needKeys(),
    allowUnauthenticated: allowUnauth(o),
    backend,
    ...(opts.maxBuffer === undefined ? {} : { maxBuffer: opts.maxBuffer }),
    ...(o.sse === undefined ? {} : { sse: o.sse }),
    ...(o.signal === undefined ? {} : { signal: o.signal }),
  });
  /** The enseal read succeeded: foreign names beside it are mixed metadata. */
  const checkEnsealMetadata = (md: Record<string, string>): void => {
    const f = metadataFormat(md);
    if (isForeign(f)) throw new EnsealError('ERR_HEADER', `mixed metadata: an enseal object carries ${f} encryption metadata`);
  };

  const putEnseal = async (key: string, body: Uint8Array | ReadableStream<Uint8Array>, o: PutObjectOptions, recipients: readonly KeyProvider[]): Promise<PutObjectResult> => {
    const user = checkUserMetadata(o.metadata);
    checkNoForeignNames(user);
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
          return await putSingle(key, split.bytes, user, o, recipients);
        } finally {
          if (split.owned) split.bytes.fill(0);
        }
      }
      return putMultipart(key, split.source, user, o, split.length ?? contentLength, recipients);
  };

  const headEnseal = async (
    key: string,
    info: ObjectInfo,
    o: { readonly recipients?: boolean },
    common: { sse?: ServerSideEncryption; signal?: AbortSignal },
  ): Promise<HeadObjectResult> => {
    const marker = readMarker(info.metadata);
    // No header is shorter than its 12-byte prefix: such a hint is ignored (the header is read instead).
    const plausible = (n: number | undefined): number | undefined => (n !== undefined && n >= HEADER_PREFIX_LENGTH ? n : undefined);
    let headerLength = plausible(marker.headerLength) ?? plausible(hints.get(key));
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
      format: 'enseal',
    };
  };

  return {
    store,

    async putObject(key, body, o = {}) {
      checkKey(key);
      if (opts.recipients === undefined) throw new TypeError('encryptedBucket needs "recipients" to write');
      const format = o.format ?? opts.format ?? 'enseal';
      if (format === 'enseal') return putEnseal(key, body, o, opts.recipients);
      if (format !== 'oss' && format !== 's3ec') throw new TypeError(`"format" expected "enseal", "oss" or "s3ec", got ${String(format)}`);
      const user = checkUserMetadata(o.metadata);
      checkNoForeignNames(user);
      if (o.uploadState !== undefined || o.resume === true) throw new TypeError(`resumable uploads are for the enseal format, not "${format}"`);
      o.signal?.throwIfAborted();
      const oss = { ...(opts.oss ?? {}), ...(o.oss ?? {}) };
      const s3ec = { ...(opts.s3ec ?? {}), ...(o.s3ec ?? {}) };
      const r = await putForeign(store, key, body, format, {
        recipients: opts.recipients,
        metadata: user,
        backend,
        partSize,
        threshold,
        oss,
        s3ec,
        ...(o.contentLength === undefined ? {} : { contentLength: o.contentLength }),
        ...(o.sse === undefined ? {} : { sse: o.sse }),
        ...(o.signal === undefined ? {} : { signal: o.signal }),
        ...(opts.maxBuffer === undefined ? {} : { maxBuffer: opts.maxBuffer }),
      });
      hints.delete(key);
      o.onProgress?.({ loaded: r.size, total: r.size, part: r.parts });
      return { ...(r.etag === undefined ? {} : { etag: r.etag }), size: r.size, storedSize: r.storedSize, parts: r.parts, uploadedParts: r.parts };
    },

    async getObject(key, o = {}) {
      checkKey(key);
      const ro = readerOpts(o);
      const snapshot: StoreRange | undefined = o.range === undefined ? undefined : checkRange(o.range); // validated copy, read once
      // The enseal path first, exactly as before; the probe only remembers its first answer.
      const probe = probeStore(store);
      try {
        if (snapshot === undefined) {
          const { reader, body } = await ObjectReader.openStream(probe.store, key, ro);
          try {
            checkEnsealMetadata(reader.rawMetadata);
          } catch (e) {
            await body.cancel(e).catch(() => undefined);
            throw e;
          }
          remember(key, reader.bodyHeaderLength);
          return result(reader, body, undefined, ro, store, key);
        }
        const hint = hints.get(key);
        const reader = await ObjectReader.open(probe.store, key, ro, { ...(hint === undefined ? {} : { headerLength: hint }), range: snapshot });
        try {
          checkEnsealMetadata(reader.rawMetadata);
          remember(key, reader.bodyHeaderLength);
          const body = await reader.read(snapshot, { autoClose: true });
          return result(reader, body, { start: snapshot.start, end: Math.min(snapshot.end ?? reader.size - 1, reader.size - 1) }, ro, store, key);
        } catch (e) {
          reader.close();
          throw e;
        }
      } catch (e) {
        const foreign = await foreignAfter(store, key, e, probe.seen(), o);
        if (foreign === undefined) throw e;
        hints.delete(key);
        const r = await readForeign(store, key, foreign.info, foreign.format, { ...foreignOpts(o), ...(snapshot === undefined ? {} : { range: snapshot }) });
        const { md5Checked: _m, instructionFile: _i, ...rest } = r;
        return {
          ...rest,
          verifiedSize: () =>
            r.authenticated
              ? Promise.resolve(r.size)
              : Promise.reject(new EnsealError('ERR_UNAUTHENTICATED', `"${escapeControl(key, 120)}" is read as ${r.format}${snapshot === undefined ? '' : ' by range'}: its size is not authenticated`)),
        };
      }
    },

    async openObject(key, o = {}) {
      checkKey(key);
      const hint = hints.get(key);
      const probe = probeStore(store);
      try {
        const reader = await ObjectReader.open(probe.store, key, readerOpts(o), hint === undefined ? {} : { headerLength: hint });
        try {
          checkEnsealMetadata(reader.rawMetadata);
        } catch (e) {
          reader.close();
          throw e;
        }
        remember(key, reader.bodyHeaderLength);
        return reader;
      } catch (e) {
        const foreign = await foreignAfter(store, key, e, probe.seen(), o);
        if (foreign === undefined) throw e;
        hints.delete(key);
        return openForeignReader(store, key, foreign.info, foreign.format, foreignOpts(o));
      }
    },

    async headObject(key, o = {}) {
      checkKey(key);
      const common = { ...(o.sse === undefined ? {} : { sse: o.sse }), ...(o.signal === undefined ? {} : { signal: o.signal }) };
      const info = await store.head(key, common);
      const detected = metadataFormat(info.metadata); // mixed metadata: ERR_HEADER
      if (isForeign(detected)) return headForeign(store, key, info, detected, common);
      try {
        return await headEnseal(key, info, o, common);
      } catch (e) {
        if (detected !== 'none') throw e;
        const foreign = await foreignAfter(store, key, e, info, common);
        if (foreign === undefined) throw e;
        return headForeign(store, key, foreign.info, foreign.format, common);
      }
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

    async convertObject(key, o) {
      checkKey(key);
      if (typeof o !== 'object' || o === null || o.to !== 'enseal') throw new TypeError('"options" expected { to: "enseal", recipients?, allowUnauthenticated? }');
      const recipients = o.recipients ?? opts.recipients;
      if (recipients === undefined) throw new TypeError('convertObject needs "recipients" (or the bucket\'s)');
      checkProviders(recipients, 'recipients');
      if (o.keys !== undefined) checkProviders(o.keys, 'keys');
      const common = o.signal === undefined ? {} : { signal: o.signal };
      const info = await store.head(key, common);
      let format = metadataFormat(info.metadata);
      if (format === 'enseal' || format === 'none') {
        const found = format === 'none' ? await foreignAfter(store, key, new EnsealError('ERR_HEADER', 'no encryption metadata'), info, common) : undefined;
        if (found === undefined) {
          if (format === 'none') throw new EnsealError('ERR_HEADER', `"${escapeControl(key, 120)}" carries no OSS or S3EC encryption metadata (and no instruction file): nothing to convert`);
          return { from: 'enseal', to: 'enseal', converted: false, size: readMarker(info.metadata).plaintextSize ?? 0, storedSize: info.size, verified: 'nothing', instructionFileRemoved: false };
        }
        format = found.format;
      }
      hints.delete(key);
      return convertStored(store, key, info, format, foreignOpts(o, o.keys), async (body, metadata, contentLength) => {
        const r = await putEnseal(key, body, { metadata, contentLength, ...common }, recipients);
        return { size: r.size, storedSize: r.storedSize };
      });
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
    if (reader.sizeVerified) return Promise.resolve(reader.size); // authenticated while the body streamed
    if (!reader.closed) return reader.verifiedSize();
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
    format: 'enseal',
    authenticated: true,
    verifiedSize,
  };
}
