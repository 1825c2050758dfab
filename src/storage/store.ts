/**
 * The object-store contract every adapter implements (`enseal/storage/memory`, `/fs`, `/s3`,
 * `/oss`, `/fetch`) and the encrypting bucket builds on. Adapters are thin: they move bytes and
 * metadata, translate the store's errors into {@link EnsealError} codes, and never see a key.
 *
 * Conventions (the same for every adapter):
 * - **Keys** are the store's object keys (UTF-8, 1..1024 bytes, no NUL).
 * - **Metadata** is user metadata only, as the SDKs present it: lower-case names **without** the
 *   store's prefix (`client-side-encryption-key`, not `x-oss-meta-client-side-encryption-key`),
 *   string values that must be valid HTTP header values (checked before any request).
 * - **Ranges** are inclusive byte ranges as in HTTP `Range: bytes=start-end`; `end` omitted or
 *   past the end means "to the end". A `start` at or past the end is `ERR_RANGE` (HTTP 416).
 * - **Errors:** a missing object is `ERR_NOT_FOUND`; an unsatisfiable range `ERR_RANGE`; any
 *   other store failure `ERR_STORE` whose `cause` is a {@link StoreFailure} (HTTP status,
 *   request id, the store's error code). Messages never contain credentials or body bytes.
 *
 * @module
 */

/** Inclusive byte range of a stored object (HTTP `Range: bytes=start-end`). */
export interface StoreRange {
  /** First byte. */
  readonly start: number;
  /** Last byte, inclusive; omitted or past the end means "to the end". */
  readonly end?: number;
}

/** User metadata: lower-case names without the store's prefix, header-safe string values. */
export type ObjectMetadata = Record<string, string>;

/** Server-side encryption requested from the store itself (in addition to enseal's). */
export type ServerSideEncryption =
  /** Alibaba OSS: `x-oss-server-side-encryption: AES256` (SSE-OSS). */
  | { readonly provider: 'oss'; readonly algorithm: 'AES256' }
  /** Alibaba OSS: SSE-KMS, optionally with a CMK id (`x-oss-server-side-encryption-key-id`). */
  | { readonly provider: 'oss'; readonly algorithm: 'KMS'; readonly keyId?: string }
  /** Alibaba OSS: SM4 (`x-oss-server-side-encryption: SM4`). */
  | { readonly provider: 'oss'; readonly algorithm: 'SM4' }
  /** S3: SSE-S3 (`x-amz-server-side-encryption: AES256`). */
  | { readonly provider: 's3'; readonly algorithm: 'AES256' }
  /** S3: SSE-KMS, optionally with a key id and an encryption context. */
  | {
      readonly provider: 's3';
      readonly algorithm: 'aws:kms';
      readonly keyId?: string;
      readonly context?: Readonly<Record<string, string>>;
    }
  /** S3: SSE-C with a 32-byte customer key (the adapter computes and sends its MD5). */
  | { readonly provider: 's3'; readonly algorithm: 'SSE-C'; readonly key: Uint8Array };

/** What the store reported about its own server-side encryption of an object. */
export interface ServerSideEncryptionInfo {
  /** `AES256`, `KMS`, `SM4`, `aws:kms`, … as the store's response header says. */
  readonly algorithm: string;
  /** The KMS key id the store used, when it says. */
  readonly keyId?: string;
}

/** Options of {@link ObjectStore.put}. */
export interface PutOptions {
  /** User metadata stored with the object. */
  readonly metadata?: ObjectMetadata;
  /** Body length in bytes, when known (required by some stores for a stream body). */
  readonly contentLength?: number;
  /** Server-side encryption to request from the store. */
  readonly sse?: ServerSideEncryption;
  /** Aborts the request. */
  readonly signal?: AbortSignal;
}

/** Options of {@link ObjectStore.get}. */
export interface GetOptions {
  /** Only these bytes of the stored object. */
  readonly range?: StoreRange;
  /** SSE-C objects need their key on every read. */
  readonly sse?: ServerSideEncryption;
  /** Aborts the request (and the body stream). */
  readonly signal?: AbortSignal;
}

/** Facts about a stored object, without its body. */
export interface ObjectInfo {
  /** Size of the whole stored object in bytes (not of the range). */
  readonly size: number;
  /** User metadata, as in {@link ObjectMetadata}. */
  readonly metadata: ObjectMetadata;
  /** The store's entity tag, when it has one (quotes removed). */
  readonly etag?: string;
  /** Last modification time, when the store reports it. */
  readonly lastModified?: Date;
  /** The store's own server-side encryption of the object, when it reports one. */
  readonly sse?: ServerSideEncryptionInfo;
}

/** The answer to {@link ObjectStore.get}. */
export interface GetResult extends ObjectInfo {
  /** The requested bytes (the range, or the whole object). */
  readonly body: ReadableStream<Uint8Array>;
  /** The inclusive range actually served, when a range was asked for. */
  readonly range?: { readonly start: number; readonly end: number };
}

/** One entry of {@link ObjectStore.list}. */
export interface ListEntry {
  /** Object key. */
  readonly key: string;
  /** Stored size in bytes. */
  readonly size: number;
  /** Entity tag, when the store lists one. */
  readonly etag?: string;
  /** Last modification time, when listed. */
  readonly lastModified?: Date;
}

/** Options of {@link ObjectStore.createMultipart}. */
export interface CreateMultipartOptions {
  /** User metadata of the object the upload will create. */
  readonly metadata?: ObjectMetadata;
  /** Server-side encryption to request. */
  readonly sse?: ServerSideEncryption;
  /** Aborts the request. */
  readonly signal?: AbortSignal;
}

/** A completed part, as {@link ObjectStore.completeMultipart} needs it. */
export interface CompletedPart {
  /** Part number, 1-based. */
  readonly partNumber: number;
  /** The part's entity tag as {@link ObjectStore.uploadPart} returned it. */
  readonly etag: string;
}

/** Limits of a store's multipart uploads. */
export interface MultipartLimits {
  /** Smallest part size accepted for every part but the last (S3 and OSS: 5 MiB; 100 KiB for OSS). */
  readonly minPartSize: number;
  /** Largest part size accepted. */
  readonly maxPartSize: number;
  /** Largest number of parts. */
  readonly maxParts: number;
}

/**
 * An object store: S3, OSS, a folder, memory, or plain HTTP(S) URLs. All methods are
 * asynchronous and may be called concurrently.
 */
export interface ObjectStore {
  /** Short name for messages, e.g. `s3://bucket`, `oss://bucket`, `fs:/data`, `memory`. */
  readonly name: string;
  /** Multipart limits this store enforces. */
  readonly multipart: MultipartLimits;
  /**
   * Stores an object (replacing any object under the same key); the object becomes visible
   * whole or not at all.
   * @returns the stored object's entity tag, when the store returns one
   */
  put(key: string, body: Uint8Array | ReadableStream<Uint8Array>, opts?: PutOptions): Promise<{ etag?: string }>;
  /**
   * Reads an object or a range of it.
   * @throws EnsealError `ERR_NOT_FOUND`, `ERR_RANGE`, `ERR_STORE`
   */
  get(key: string, opts?: GetOptions): Promise<GetResult>;
  /**
   * Reads an object's size and metadata.
   * @throws EnsealError `ERR_NOT_FOUND`, `ERR_STORE`
   */
  head(key: string, opts?: { readonly sse?: ServerSideEncryption; readonly signal?: AbortSignal }): Promise<ObjectInfo>;
  /** Deletes an object; deleting a missing object succeeds. */
  delete(key: string, opts?: { readonly signal?: AbortSignal }): Promise<void>;
  /** Lists the objects whose key starts with `prefix`, in key order. */
  list(prefix: string, opts?: { readonly signal?: AbortSignal }): AsyncIterable<ListEntry>;
  /**
   * Starts a multipart upload.
   * @returns the store's upload id
   */
  createMultipart(key: string, opts?: CreateMultipartOptions): Promise<{ uploadId: string }>;
  /**
   * Uploads one part (1-based `partNumber`); re-uploading a number replaces that part.
   * @returns the part's entity tag
   */
  uploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: Uint8Array,
    opts?: { readonly sse?: ServerSideEncryption; readonly signal?: AbortSignal },
  ): Promise<{ etag: string }>;
  /** Completes an upload from its parts in order: the object appears whole, at once. */
  completeMultipart(
    key: string,
    uploadId: string,
    parts: readonly CompletedPart[],
    opts?: { readonly signal?: AbortSignal },
  ): Promise<{ etag?: string }>;
  /** Aborts an upload and frees its parts; aborting an unknown upload succeeds. */
  abortMultipart(key: string, uploadId: string, opts?: { readonly signal?: AbortSignal }): Promise<void>;
  /**
   * Optional: copies an object inside the store (server-side), replacing its metadata. Used by
   * key rotation to move no payload bytes through the client.
   */
  copy?(
    sourceKey: string,
    destinationKey: string,
    opts: { readonly metadata: ObjectMetadata; readonly sse?: ServerSideEncryption; readonly signal?: AbortSignal },
  ): Promise<{ etag?: string }>;
}

/** What an adapter puts in the `cause` of an `ERR_STORE` error. */
export interface StoreFailure {
  /** HTTP status, when there was a response. */
  readonly status?: number;
  /** The store's request id (`x-amz-request-id`, `x-oss-request-id`), when given. */
  readonly requestId?: string;
  /** The store's error code (`AccessDenied`, `NoSuchBucket`, …), when given. */
  readonly code?: string;
  /** The underlying error (network failure, SDK error), when any. */
  readonly cause?: unknown;
}
