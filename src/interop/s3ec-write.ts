/**
 * Writing S3EC objects, V3 (default: committing) or V2 (docs/INTEROP.md S3EC.6), that the AWS S3
 * Encryption Clients read: one fresh 32-byte data key per object, wrapped by exactly one
 * S3EC keyring (the formats hold one encrypted data key), the content sealed whole with
 * AES-256-GCM (s3ec-content.ts), the metadata from `encodeS3ecMetadata`.
 *
 * ```
 * single PUT      body = ciphertext || tag; metadata = the S3EC fields (+ the caller's metadata)
 * multipart       (partSize given and the body longer) parts of partSize bytes of body, in order,
 *                 the last one ending with the tag: one GCM stream across parts, as the Java client
 *                 writes them; a failed upload is aborted
 * instruction     instructionFile: true puts <key>.instruction first (V2: every field; V3: all but
 *                 x-amz-c/d/i, which stay on the object), marked x-amz-crypto-instr-file: "",
 *                 then the object
 * ```
 *
 * The plaintext is buffered (GCM is sealed in one call): at most `maxBuffer` bytes (default
 * 64 MiB) from a stream body, else `ERR_LIMIT` before anything is stored. The data key and the
 * V3 derived key are wiped on every path.
 *
 * @module
 */
import { readAll } from '../streams/read-all.js';
import { assertChunk, wipe, type Bytes, whileAttached } from '../bytes.js';
import { getBackend, type BackendChoice } from '../backends/select.js';
import { EnsealError } from '../errors.js';
import type { ObjectMetadata, ObjectStore, ServerSideEncryption } from '../storage/store.js';
import { checkWriterMetadata } from './foreign-names.js';
import { S3EC_GCM_MAX_PLAINTEXT, S3EC_SUITE_ID, S3EC_V3_IV, deriveS3ecV3, s3ecGcm } from './s3ec-content.js';
import { S3EC_INSTRUCTION_MARKER, S3EC_INSTRUCTION_SUFFIX, splitS3ecInstruction } from './s3ec-instruction.js';
import { checkS3ecMap, isS3ecKeyring } from './s3ec-keyring.js';
import { S3EC_V3_ID_LENGTH, encodeS3ecMetadata } from './s3ec-metadata.js';
import { S3EC_DEFAULT_MAX_BUFFER, S3EC_MAX_MAX_BUFFER } from './s3ec-read.js';

/** Options of {@link sealS3ecObject}. */
export interface SealS3ecObjectOptions {
  /** Exactly one S3EC keyring (`s3ecAesKey`, `s3ecRsaKey`, `s3ecKmsKey`). */
  readonly recipients: readonly unknown[];
  /** Format version: 3 (default; key-committing) or 2. */
  readonly version?: 2 | 3;
  /** KMS encryption context for a `s3ecKmsKey` (without the reserved `aws:x-amz-cek-alg`). */
  readonly context?: Readonly<Record<string, string>>;
  /** Crypto backend. */
  readonly backend?: BackendChoice;
}

/** What {@link sealS3ecObject} returns. */
export interface SealedS3ecObject {
  /** The stored bytes: ciphertext ‖ tag. */
  readonly body: Bytes;
  /** Every S3EC metadata field of the object. */
  readonly metadata: ObjectMetadata;
}

/**
 * Encrypts a plaintext as an S3EC object (body and metadata), without storing it.
 *
 * @param plaintext - the object's bytes (not modified)
 * @param opts - `{ recipients: [keyring], version?, context?, backend? }`
 * @returns body and metadata
 * @throws TypeError for anything but one S3EC keyring, a bad version or context; RangeError for
 *   a plaintext over GCM's limit; whatever the keyring throws (KMS errors)
 * @example
 * ```ts
 * const { body, metadata } = await sealS3ecObject(bytes, { recipients: [s3ecAesKey({ key })] });
 * ```
 */
export async function sealS3ecObject(plaintext: Uint8Array, opts: SealS3ecObjectOptions): Promise<SealedS3ecObject> {
  assertChunk(plaintext, '"plaintext" expected Uint8Array');
  return whileAttached(plaintext, 'plaintext', async () => {
    if (typeof opts !== 'object' || opts === null || !Array.isArray(opts.recipients)) throw new TypeError('"options" expected { recipients }');
    if (opts.recipients.length !== 1 || !isS3ecKeyring(opts.recipients[0])) {
      throw new TypeError(`"recipients" expected exactly one S3EC keyring (s3ecAesKey, s3ecRsaKey or s3ecKmsKey), got ${opts.recipients.length} entries`);
    }
    const version = opts.version ?? 3;
    if (version !== 2 && version !== 3) throw new TypeError(`"version" expected 2 or 3, got ${String(version)}`);
    const context = checkS3ecMap(opts.context, 'context');
    if (plaintext.length > S3EC_GCM_MAX_PLAINTEXT) throw new RangeError(`"plaintext" expected at most ${S3EC_GCM_MAX_PLAINTEXT} bytes (AES-GCM's limit)`);
    const ring = opts.recipients[0];
    const backend = getBackend(opts.backend);
    const dataKey = backend.randomBytes(32);
    let derived: Bytes | undefined;
    try {
      const wrapped = await ring.s3ecWrap(dataKey, { version, ...(context === undefined ? {} : { context }) }, backend);
      if (version === 3) {
        const messageId = backend.randomBytes(S3EC_V3_ID_LENGTH);
        const d = await deriveS3ecV3(backend, dataKey, messageId);
        derived = d.key;
        const body = await s3ecGcm(backend, derived, S3EC_V3_IV, plaintext, S3EC_SUITE_ID, 'seal');
        return { body, metadata: encodeS3ecMetadata({ version, wrapAlgorithm: wrapped.wrapAlgorithm, encryptedDataKey: wrapped.encryptedDataKey, messageId, commitment: d.commitment, matdesc: wrapped.matdesc }) };
      }
      const iv = backend.randomBytes(12);
      const body = await s3ecGcm(backend, dataKey, iv, plaintext, undefined, 'seal');
      return {
        body,
        metadata: encodeS3ecMetadata({ version, wrapAlgorithm: wrapped.wrapAlgorithm, encryptedDataKey: wrapped.encryptedDataKey, iv, matdesc: wrapped.matdesc, unencryptedContentLength: plaintext.length }),
      };
    } finally {
      wipe(dataKey, derived);
    }
  });
}

/** Options of {@link putS3ecObject}. */
export interface PutS3ecObjectOptions extends SealS3ecObjectOptions {
  /** Store the S3EC fields in `<key>.instruction` (V3: all but x-amz-c/d/i). Default false. */
  readonly instructionFile?: boolean;
  /** Other user metadata of the object (no S3EC, OSS or enseal names: TypeError). */
  readonly metadata?: ObjectMetadata;
  /** Upload in parts of this many bytes (a multiple of 16 within the store's limits) when the body is longer. */
  readonly partSize?: number;
  /** Most plaintext bytes read from a stream body (default 64 MiB, at most 1 GiB). */
  readonly maxBuffer?: number;
  /** Aborts the store requests. */
  readonly signal?: AbortSignal;
  /** Server-side encryption to request from the store as well (object and instruction file). */
  readonly sse?: ServerSideEncryption;
}

function collect(body: ReadableStream<Uint8Array>, max: number): Promise<Bytes> {
  return readAll(body, {
    max,
    what: 'the body stream',
    tooLong: () => new EnsealError('ERR_LIMIT', `the body is longer than maxBuffer (${max} bytes); S3EC GCM objects are sealed whole`),
  });
}

/**
 * Encrypts and stores an S3EC object (single PUT, or multipart with `partSize`), optionally with
 * an instruction file.
 *
 * @param store - the object store
 * @param key - the object key
 * @param body - the plaintext (bytes or a stream, at most `maxBuffer` bytes)
 * @param opts - `{ recipients: [keyring], version?, context?, instructionFile?, metadata?, partSize?, maxBuffer?, backend?, signal?, sse? }`
 * @returns the object's metadata as stored, its stored size and entity tag
 * @throws TypeError/RangeError for bad options (S3EC, OSS or `enseal-` names in `metadata`, a
 *   part size that is not a multiple of 16 within the store's limits); EnsealError `ERR_LIMIT`
 *   for a stream body over `maxBuffer`; store and keyring errors (a failed multipart upload is
 *   aborted)
 * @example
 * ```ts
 * await putS3ecObject(store, 'a.bin', bytes, { recipients: [s3ecKmsKey({ client, keyId })], version: 3 });
 * ```
 */
export async function putS3ecObject(
  store: ObjectStore,
  key: string,
  body: Uint8Array | ReadableStream<Uint8Array>,
  opts: PutS3ecObjectOptions,
): Promise<{ etag?: string; size: number; metadata: ObjectMetadata }> {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('"options" expected { recipients }');
  const maxBuffer = opts.maxBuffer ?? S3EC_DEFAULT_MAX_BUFFER;
  if (!Number.isSafeInteger(maxBuffer) || maxBuffer < 0 || maxBuffer > S3EC_MAX_MAX_BUFFER) throw new RangeError(`"maxBuffer" expected 0..${S3EC_MAX_MAX_BUFFER}, got ${String(maxBuffer)}`);
  const extra = checkWriterMetadata(opts.metadata);
  const partSize = opts.partSize;
  if (partSize !== undefined) {
    const l = store.multipart;
    if (!Number.isSafeInteger(partSize) || partSize % 16 !== 0 || partSize < l.minPartSize || partSize > l.maxPartSize) {
      throw new RangeError(`"partSize" expected a multiple of 16 within ${l.minPartSize}..${l.maxPartSize}, got ${String(partSize)}`);
    }
  }
  const signal = opts.signal;
  const sig = { ...(signal === undefined ? {} : { signal }), ...(opts.sse === undefined ? {} : { sse: opts.sse }) };
  const plaintext = body instanceof Uint8Array ? body : await collect(body, maxBuffer);
  let sealed: SealedS3ecObject;
  try {
    sealed = await sealS3ecObject(plaintext, opts);
  } finally {
    if (plaintext !== body) wipe(plaintext);
  }
  let objectMetadata: ObjectMetadata = { ...extra, ...sealed.metadata };
  if (opts.instructionFile === true) {
    const split = splitS3ecInstruction(sealed.metadata);
    await store.put(key + S3EC_INSTRUCTION_SUFFIX, split.body, { metadata: { [S3EC_INSTRUCTION_MARKER]: '' }, contentLength: split.body.length, ...sig });
    objectMetadata = { ...extra, ...split.objectMetadata };
  }
  const data = sealed.body;
  if (partSize === undefined || data.length <= partSize) {
    const r = await store.put(key, data, { metadata: objectMetadata, contentLength: data.length, ...sig });
    return { ...(r.etag === undefined ? {} : { etag: r.etag }), size: data.length, metadata: objectMetadata };
  }
  const count = Math.ceil(data.length / partSize);
  if (count > store.multipart.maxParts) throw new RangeError(`"partSize" ${partSize} needs ${count} parts, over the store's ${store.multipart.maxParts}`);
  const { uploadId } = await store.createMultipart(key, { metadata: objectMetadata, ...sig });
  try {
    const parts: { partNumber: number; etag: string }[] = [];
    // In order, as the S3EC multipart pipeline requires: one GCM stream, the tag at the end of the last part.
    for (let i = 0; i < count; i++) {
      const r = await store.uploadPart(key, uploadId, i + 1, data.subarray(i * partSize, Math.min(data.length, (i + 1) * partSize)), sig);
      parts.push({ partNumber: i + 1, etag: r.etag });
    }
    const r = await store.completeMultipart(key, uploadId, parts, signal === undefined ? {} : { signal });
    return { ...(r.etag === undefined ? {} : { etag: r.etag }), size: data.length, metadata: objectMetadata };
  } catch (e) {
    await store.abortMultipart(key, uploadId).catch(() => undefined);
    throw e;
  }
}
