/**
 * The encrypting bucket's foreign-format side (docs/INTEROP.md §"Through the encrypting
 * bucket"): what `getObject`, `openObject` and `headObject` do once the metadata says an object
 * is an Alibaba OSS or AWS S3EC object, and how `putObject(…, { format: 'oss' | 's3ec' })`
 * writes one. bucket.ts keeps the enseal path; this module is called only for the others.
 *
 * @module
 */
import type { CryptoBackend } from '../backends/backend.js';
import { escapeControl } from '../bytes.js';
import { EnsealError } from '../errors.js';
import { isOssKeyring } from '../interop/oss-keyring.js';
import { describeOssObject } from '../interop/oss-read.js';
import { putOssObject } from '../interop/oss-write.js';
import { isS3ecKeyring } from '../interop/s3ec-keyring.js';
import type { S3ecObjectDescription } from '../interop/s3ec-metadata.js';
import { describeS3ecObject } from '../interop/s3ec-read.js';
import { putS3ecObject } from '../interop/s3ec-write.js';
import { describeOss, describeS3ec, type InteropDescription } from './bucket-interop-describe.js';
import { foreignUserMetadata, type MetadataFormat, type StoredFormat } from './bucket-interop-format.js';
import { InteropObjectReader, openForeign, type ForeignRead, type ForeignReadOptions } from './bucket-interop-read.js';
import type { ObjectInfo, ObjectStore, ServerSideEncryption, ServerSideEncryptionInfo } from './store.js';

export type { InteropDescription } from './bucket-interop-describe.js';
export { InteropObjectReader } from './bucket-interop-read.js';

/** Settings of the S3EC format when the bucket writes it. */
export interface S3ecWriteSettings {
  /** 3 (default; key-committing) or 2. */
  readonly version?: 2 | 3;
  /** Store the fields in `<key>.instruction` (default false). */
  readonly instructionFile?: boolean;
  /** KMS encryption context (s3ecKmsKey only). */
  readonly context?: Readonly<Record<string, string>>;
}

/** Settings of the OSS format when the bucket writes it. */
export interface OssWriteSettings {
  /** Material description to write (default: the key's). */
  readonly matdesc?: Readonly<Record<string, string>>;
  /** Also record the plaintext MD5 (byte bodies only; default false). */
  readonly md5?: boolean;
}

/** What a foreign read looks like from the bucket (the caller adds `verifiedSize`). */
export interface InteropRead extends ForeignRead {
  /** A foreign format keeps its key material in metadata. */
  readonly headerSource: 'metadata';
}

/**
 * Reads a foreign object whole or by range.
 * @param store - the store
 * @param key - the object key
 * @param info - one snapshot of the object's facts
 * @param format - the detected format
 * @param opts - read options
 * @returns the read
 * @throws as `openForeign`
 * @example
 * ```ts
 * const r = await readForeign(store, key, info, 'oss', { keys, allowUnauthenticated: true });
 * ```
 */
export async function readForeign(store: ObjectStore, key: string, info: ObjectInfo, format: MetadataFormat, opts: ForeignReadOptions): Promise<InteropRead> {
  const r = await openForeign(store, key, info, format, opts);
  return { ...r, headerSource: 'metadata' };
}

/**
 * Opens a foreign object for repeated reads, refusing at once what every read would refuse. An
 * S3EC object is described once here (its instruction file read once): the reader's reads use
 * that description and never look at the file again.
 * @param store - the store
 * @param key - the object key
 * @param info - one snapshot of the object's facts
 * @param format - the detected format
 * @param opts - read options (no range)
 * @returns the reader
 * @throws EnsealError `ERR_UNAUTHENTICATED` for an OSS or CBC object without the opt-in, `ERR_HEADER`
 * @example
 * ```ts
 * const r = await openForeignReader(store, key, info, 's3ec-v3', { keys, allowUnauthenticated: false });
 * ```
 */
export async function openForeignReader(store: ObjectStore, key: string, info: ObjectInfo, format: MetadataFormat, opts: ForeignReadOptions): Promise<InteropObjectReader> {
  // Described once (an instruction file read once): every read of the reader uses this description.
  const s3ec = format === 'oss' || format === 'oss-legacy' ? undefined : await s3ecDescriptionOf(store, key, info, opts);
  const d = s3ec === undefined ? describeOss(describeOssObject(info)) : describeS3ec(s3ec);
  if (!d.authenticatedWholeRead && !opts.allowUnauthenticated) {
    throw new EnsealError('ERR_UNAUTHENTICATED', `"${escapeControl(key, 120)}" is a ${d.format} object (${d.contentCipher}, no integrity): reading it needs allowUnauthenticated: true`);
  }
  const cbcSize = d.contentCipher === 'AES-256-CBC' ? (d.unencryptedContentLength ?? Math.max(0, info.size - 1)) : undefined;
  return new InteropObjectReader(store, key, info, format, d.format, cbcSize, s3ec === undefined ? opts : { ...opts, s3ecDescription: s3ec });
}

/**
 * Describes a foreign object (its instruction file read when needed).
 * @param store - the store
 * @param key - the object key
 * @param info - one snapshot of its facts
 * @param format - the detected format
 * @param o - signal, sse
 * @returns the description
 * @throws EnsealError `ERR_HEADER` for malformed metadata
 * @example
 * ```ts
 * (await describeInfo(store, key, info, 'oss', {})).keyProvider;
 * ```
 */
export async function describeInfo(store: ObjectStore, key: string, info: ObjectInfo, format: MetadataFormat, o: { signal?: AbortSignal; sse?: ServerSideEncryption }): Promise<InteropDescription> {
  if (format === 'oss' || format === 'oss-legacy') return describeOss(describeOssObject(info));
  return describeS3ec(await s3ecDescriptionOf(store, key, info, o));
}

function s3ecDescriptionOf(store: ObjectStore, key: string, info: ObjectInfo, o: { signal?: AbortSignal; sse?: ServerSideEncryption }): Promise<S3ecObjectDescription> {
  return describeS3ecObject(store, key, info.metadata, { ...(o.signal === undefined ? {} : { signal: o.signal }), ...(o.sse === undefined ? {} : { sse: o.sse }) });
}

/** What `headObject` returns for a foreign object (the bucket's `HeadObjectResult` shape). */
export interface InteropHead {
  readonly format: Exclude<StoredFormat, 'enseal'>;
  readonly size: number;
  readonly storedSize: number;
  readonly metadata: Record<string, string>;
  readonly marked: false;
  readonly recipients: { type: string; keyId: string; params: Record<string, string>; wrappedKeyLength: number }[];
  readonly context: Record<string, string>;
  readonly headerSource: 'metadata';
  readonly etag?: string;
  readonly lastModified?: Date;
  readonly sse?: ServerSideEncryptionInfo;
  readonly authenticated: false;
  readonly interop: InteropDescription;
}

/**
 * `headObject` of a foreign object: no GET of the body (an instruction file is read when the
 * fields live there).
 * @param store - the store
 * @param key - the object key
 * @param info - the HEAD answer
 * @param format - the detected format
 * @param o - signal, sse
 * @returns the description
 * @throws EnsealError `ERR_HEADER`
 * @example
 * ```ts
 * const h = await headForeign(store, key, await store.head(key), 'oss', {});
 * ```
 */
export async function headForeign(store: ObjectStore, key: string, info: ObjectInfo, format: MetadataFormat, o: { signal?: AbortSignal; sse?: ServerSideEncryption }): Promise<InteropHead> {
  const d = await describeInfo(store, key, info, format, o);
  // CBC: the recorded length, else an upper bound (the padding is 1..16 bytes).
  const size = d.format.startsWith('oss') ? info.size : d.contentCipher === 'AES-256-CBC' ? (d.unencryptedContentLength ?? Math.max(0, info.size - 1)) : Math.max(0, info.size - 16);
  return {
    format: d.format,
    size,
    storedSize: info.size,
    metadata: foreignUserMetadata(info.metadata, d.format),
    marked: false,
    recipients: [{ type: d.wrapAlgorithm, keyId: '', params: { ...(d.matdesc ?? {}) }, wrappedKeyLength: d.wrappedKeyLength }],
    context: { ...(d.encryptionContext ?? {}) },
    headerSource: 'metadata',
    ...(info.etag === undefined ? {} : { etag: info.etag }),
    ...(info.lastModified === undefined ? {} : { lastModified: info.lastModified }),
    ...(info.sse === undefined ? {} : { sse: info.sse }),
    authenticated: false,
    interop: d,
  };
}

/** Options of {@link putForeign}. */
export interface PutForeignOptions {
  readonly recipients: readonly unknown[];
  readonly metadata: Record<string, string>;
  readonly backend: CryptoBackend;
  readonly partSize: number;
  readonly threshold: number;
  readonly contentLength?: number;
  readonly sse?: ServerSideEncryption;
  readonly signal?: AbortSignal;
  readonly maxBuffer?: number;
  readonly oss?: OssWriteSettings;
  readonly s3ec?: S3ecWriteSettings;
}

/** What {@link putForeign} returns. */
export interface PutForeignResult {
  readonly etag?: string;
  readonly size: number;
  readonly storedSize: number;
  readonly parts: number;
}

function oneRecipient(list: readonly unknown[], format: 'oss' | 's3ec'): unknown {
  const fits = list.filter(format === 'oss' ? isOssKeyring : isS3ecKeyring);
  if (fits.length !== 1) {
    throw new TypeError(
      format === 'oss'
        ? `writing the OSS format needs exactly one OSS key (ossRsaKey or ossKmsKey) among "recipients", got ${fits.length}: the format stores one wrapped key`
        : `writing the S3EC format needs exactly one S3EC keyring (s3ecAesKey, s3ecRsaKey or s3ecKmsKey) among "recipients", got ${fits.length}`,
    );
  }
  return fits[0];
}

/**
 * Writes an object in a foreign format (`putObject(…, { format: 'oss' | 's3ec' })`).
 *
 * OSS: one PUT up to the bucket's threshold, else a multipart upload in parts of `partSize`
 * (rounded down to a multiple of 16). S3EC: sealed whole (buffered, at most `maxBuffer`), one
 * PUT, or parts of `partSize` above the threshold; V3 unless `s3ec.version: 2`.
 *
 * @param store - the store
 * @param key - the object key
 * @param body - plaintext bytes or a stream
 * @param format - `'oss'` or `'s3ec'`
 * @param opts - the recipient list (exactly one keyring of the format), metadata, sizes, settings
 * @returns sizes and entity tag
 * @throws TypeError without exactly one keyring of the format; what the writers throw
 * @example
 * ```ts
 * await putForeign(store, 'a.bin', bytes, 'oss', { recipients: [ossKey], metadata: {}, backend, partSize, threshold });
 * ```
 */
export async function putForeign(store: ObjectStore, key: string, body: Uint8Array | ReadableStream<Uint8Array>, format: 'oss' | 's3ec', opts: PutForeignOptions): Promise<PutForeignResult> {
  const ring = oneRecipient(opts.recipients, format);
  const signal = opts.signal === undefined ? {} : { signal: opts.signal };
  const length = body instanceof Uint8Array ? body.length : opts.contentLength;
  const part16 = Math.max(16, opts.partSize - (opts.partSize % 16));
  const partSize = Math.max(part16, Math.ceil(store.multipart.minPartSize / 16) * 16);
  const multipart = length === undefined || length > opts.threshold;
  let counted = 0;
  const input =
    body instanceof Uint8Array
      ? body
      : body.pipeThrough(
          new TransformStream<Uint8Array, Uint8Array>({
            transform(c, ctl) {
              counted += c.length;
              ctl.enqueue(c);
            },
          }),
        );
  if (format === 'oss') {
    if (opts.sse !== undefined) throw new TypeError('"sse" is not passed through by the OSS-format writer');
    const r = await putOssObject(store, key, input, {
      recipients: [ring],
      backend: opts.backend,
      metadata: opts.metadata,
      ...(opts.oss?.matdesc === undefined ? {} : { matdesc: opts.oss.matdesc }),
      ...(opts.oss?.md5 === undefined ? {} : { md5: opts.oss.md5 }),
      ...(length === undefined ? {} : { contentLength: length }),
      ...(multipart ? { partSize } : {}),
      ...signal,
    });
    const size = length ?? counted;
    return { ...(r.etag === undefined ? {} : { etag: r.etag }), size, storedSize: size, parts: multipart ? Math.max(1, Math.ceil(size / partSize)) : 1 };
  }
  const split = length === undefined || length + 16 > opts.threshold;
  const r = await putS3ecObject(store, key, input, {
    recipients: [ring],
    backend: opts.backend,
    metadata: opts.metadata,
    ...(opts.s3ec?.version === undefined ? {} : { version: opts.s3ec.version }),
    ...(opts.s3ec?.instructionFile === undefined ? {} : { instructionFile: opts.s3ec.instructionFile }),
    ...(opts.s3ec?.context === undefined ? {} : { context: opts.s3ec.context }),
    ...(opts.maxBuffer === undefined ? {} : { maxBuffer: opts.maxBuffer }),
    ...(opts.sse === undefined ? {} : { sse: opts.sse }),
    ...(split ? { partSize } : {}),
    ...signal,
  });
  return { ...(r.etag === undefined ? {} : { etag: r.etag }), size: r.size - 16, storedSize: r.size, parts: split && r.size > partSize ? Math.ceil(r.size / partSize) : 1 };
}
