/**
 * Reading S3EC objects (V1, V2, V3, with or without an instruction file) from any
 * {@link ObjectStore} (docs/INTEROP.md S3EC.3–S3EC.5). This is what the encrypting bucket calls
 * for an object whose metadata `detectS3ecFormat` says is `s3ec-*` (or, for `none`, when the
 * caller asks it to look for `<key>.instruction`).
 *
 * ```
 * whole GCM read (V2, V3): authenticated
 *   ciphertext = the whole object (n + 16 bytes), buffered; V3: commitment checked first;
 *   plaintext released only after AES-GCM verified the tag
 * ranged GCM read [s, e] (unauthenticated, needs allowUnauthenticated: true)
 *   e' = min(e, n − 1), a = s − s mod 16; GET bytes a..e'; AES-CTR with IV || uint32_be(2 + a/16);
 *   the first s mod 16 bytes dropped (V3: the commitment is still checked first)
 * CBC read (V1, V2 CBC; unauthenticated, needs allowUnauthenticated: true)
 *   the whole object, AES-256-CBC, PKCS#5 padding removed, then the range sliced
 * ```
 *
 * **Memory.** Whole-object GCM reads buffer the object in memory, never on disk: at most
 * `maxBuffer` bytes of ciphertext (default {@link S3EC_DEFAULT_MAX_BUFFER}, 64 MiB), plus the
 * same again for the plaintext while it is handed out. A larger object is `ERR_LIMIT` before
 * any key is unwrapped or any byte fetched; nothing partial is ever released. Ranged and CBC
 * reads are bounded the same way (by the bytes they fetch).
 *
 * @module
 */
import { escapeControl, wipe, type Bytes } from '../bytes.js';
import { getBackend, type BackendChoice } from '../backends/select.js';
import { EnsealError, RangeNotSatisfiableError } from '../errors.js';
import type { ObjectInfo, ObjectStore, ServerSideEncryption } from '../storage/store.js';
import { S3EC_GCM_MAX_PLAINTEXT, S3EC_TAG_LENGTH, S3EC_V3_IV, S3EC_SUITE_ID, s3ecCbcDecrypt, s3ecCtrCounter, s3ecGcm, s3ecV3ContentKey } from './s3ec-content.js';
import { mergeS3ecInstruction, readS3ecInstruction } from './s3ec-instruction.js';
import { unwrapS3ecDataKey } from './s3ec-keyring.js';
import { S3EC_CEK_CBC, decodeS3ecMetadata, detectS3ecFormat, type S3ecObjectDescription } from './s3ec-metadata.js';

/** Default bound on the bytes a read buffers (64 MiB). */
export const S3EC_DEFAULT_MAX_BUFFER = 64 * 1024 * 1024;
/** Largest `maxBuffer` accepted (1 GiB). */
export const S3EC_MAX_MAX_BUFFER = 1024 * 1024 * 1024;

/** Options of {@link openS3ecObject}. */
export interface OpenS3ecObjectOptions {
  /** Key providers; those with an S3EC face (`s3ecAesKey`, `s3ecRsaKey`, `s3ecKmsKey`) are tried. */
  readonly keys: readonly unknown[];
  /** Needed for ranged reads of GCM objects and for every CBC (V1) read: they are unauthenticated. */
  readonly allowUnauthenticated?: boolean;
  /** Inclusive plaintext range (HTTP `Range` semantics; `end` omitted or past the end = to the end). */
  readonly range?: { readonly start: number; readonly end?: number };
  /** Most bytes buffered (default 64 MiB, at most 1 GiB). */
  readonly maxBuffer?: number;
  /** Whether to look for `<key>.instruction` when the metadata needs it (default true). */
  readonly instructionFile?: boolean;
  /** Crypto backend. */
  readonly backend?: BackendChoice;
  /** Aborts the store requests. */
  readonly signal?: AbortSignal;
  /** SSE-C key, when the store also encrypted the object (and its instruction file) with one. */
  readonly sse?: ServerSideEncryption;
}

/** What {@link openS3ecObject} returns. */
export interface OpenS3ecObjectResult {
  /** The plaintext (of the range). */
  readonly body: ReadableStream<Uint8Array>;
  /** Bytes `body` delivers. */
  readonly size: number;
  /** Plaintext size of the whole object. */
  readonly totalSize: number;
  /** The inclusive range served, for a ranged read. */
  readonly range?: { readonly start: number; readonly end: number };
  /** True only for a whole GCM read (the tag verified before anything was released). */
  readonly authenticated: boolean;
  /** The decoded metadata. */
  readonly description: S3ecObjectDescription;
}

/**
 * Decodes an object's S3EC metadata, reading `<key>.instruction` when the metadata needs it.
 * @param store - the store
 * @param key - the object key
 * @param metadata - the object's metadata (one snapshot)
 * @param opts - `instructionFile` (default true), `signal`, `sse`
 * @returns the description
 * @throws EnsealError `ERR_HEADER` when the object is not S3EC-encrypted or its metadata is malformed
 * @example
 * ```ts
 * const desc = await describeS3ecObject(store, key, (await store.head(key)).metadata);
 * ```
 */
export async function describeS3ecObject(
  store: ObjectStore,
  key: string,
  metadata: Readonly<Record<string, string>>,
  opts: { readonly instructionFile?: boolean; readonly signal?: AbortSignal; readonly sse?: ServerSideEncryption } = {},
): Promise<S3ecObjectDescription> {
  const m = { ...metadata };
  const format = detectS3ecFormat(m);
  if (format !== 'none' && format !== 's3ec-v3-instruction') return decodeS3ecMetadata(m)!;
  const what = `"${escapeControl(key, 120)}"`;
  if (opts.instructionFile === false) throw new EnsealError('ERR_HEADER', `${what} has no S3EC metadata (an instruction file was not looked for)`);
  const file = await readS3ecInstruction(store, key, opts.signal, opts.sse);
  if (file === undefined) {
    throw new EnsealError('ERR_HEADER', format === 'none' ? `${what} is not an S3EC-encrypted object (no S3EC metadata, no instruction file)` : `${what} has V3 metadata but no instruction file`);
  }
  const desc = decodeS3ecMetadata(mergeS3ecInstruction(m, file), { instructionFile: true });
  if (desc === undefined) throw new EnsealError('ERR_HEADER', `the instruction file of ${what} holds no S3EC fields`);
  return desc;
}

/**
 * Reads exactly `length` bytes of a body.
 * @throws EnsealError `ERR_TRUNCATED` when it ends early, `ERR_STORE` when it runs long
 */
async function readExactly(body: ReadableStream<Uint8Array>, length: number, what: string): Promise<Bytes> {
  const buf = new Uint8Array(length);
  let off = 0;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (off + value.length > length) throw new EnsealError('ERR_STORE', `${what}: the store sent more than the ${length} bytes asked for`);
      buf.set(value, off);
      off += value.length;
    }
  } catch (e) {
    await reader.cancel().catch(() => undefined);
    throw e;
  } finally {
    reader.releaseLock();
  }
  if (off !== length) throw new EnsealError('ERR_TRUNCATED', `${what}: the store sent ${off} of ${length} bytes`);
  return buf;
}

/**
 * A stream handing out `bytes` in 64 KiB pieces; a cancelled read wipes them.
 * @param bytes - the plaintext (owned by the stream from now on)
 * @returns the stream
 */
function bytesStream(bytes: Bytes): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (off >= bytes.length) {
        c.close();
        return;
      }
      const n = Math.min(65536, bytes.length - off);
      c.enqueue(bytes.slice(off, off + n));
      off += n;
      if (off >= bytes.length) {
        wipe(bytes);
        c.close();
      }
    },
    cancel() {
      wipe(bytes);
    },
  });
}

/** Checks the options of an open; returns `maxBuffer`. */
function checkOpenOptions(opts: OpenS3ecObjectOptions): number {
  if (typeof opts !== 'object' || opts === null || !Array.isArray(opts.keys)) throw new TypeError('"options" expected { keys }');
  const maxBuffer = opts.maxBuffer ?? S3EC_DEFAULT_MAX_BUFFER;
  if (!Number.isSafeInteger(maxBuffer) || maxBuffer < 1 || maxBuffer > S3EC_MAX_MAX_BUFFER) throw new RangeError(`"maxBuffer" expected 1..${S3EC_MAX_MAX_BUFFER}, got ${String(maxBuffer)}`);
  return maxBuffer;
}

/**
 * Opens an S3EC-encrypted object (or a range of it) for reading.
 *
 * @param store - the object store
 * @param key - the object key
 * @param info - the object's `head` answer (size and metadata, read once)
 * @param opts - `{ keys, allowUnauthenticated?, range?, maxBuffer?, instructionFile?, backend?, signal?, sse? }`
 * @returns the plaintext stream and its sizes
 * @throws EnsealError `ERR_HEADER` (bad metadata or instruction file, or a size that contradicts
 *   it), `ERR_UNAUTHENTICATED` (a ranged GCM or any CBC read without the opt-in), `ERR_LIMIT`
 *   (over `maxBuffer`), `ERR_RANGE`, `ERR_NO_KEY`, `ERR_AUTH` (commitment, tag, CBC padding),
 *   `ERR_TRUNCATED`, `ERR_STORE` (the object changed between `head` and `get`), store errors;
 *   TypeError/RangeError for bad options
 * @example
 * ```ts
 * const info = await store.head('photo.jpg');
 * const { body } = await openS3ecObject(store, 'photo.jpg', info, { keys: [s3ecAesKey({ key })] });
 * ```
 */
export async function openS3ecObject(store: ObjectStore, key: string, info: ObjectInfo, opts: OpenS3ecObjectOptions): Promise<OpenS3ecObjectResult> {
  checkOpenOptions(opts); // before any request
  const desc = await describeS3ecObject(store, key, info.metadata, {
    ...(opts.instructionFile === undefined ? {} : { instructionFile: opts.instructionFile }),
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    ...(opts.sse === undefined ? {} : { sse: opts.sse }),
  });
  return openDescribedS3ecObject(store, key, info, desc, opts);
}

/**
 * {@link openS3ecObject} under a description already decoded ({@link describeS3ecObject}): no
 * metadata or instruction file is read again, so repeated reads of one object (the bucket's
 * `openObject` reader) all decrypt under the rules described when it was opened. Internal (not
 * exported by `enseal/interop`): the description must come from `describeS3ecObject`.
 * @param store - the object store
 * @param key - the object key
 * @param info - the object's `head` answer (size and metadata, read once)
 * @param desc - its description
 * @param opts - as for {@link openS3ecObject} (`instructionFile` is not used)
 * @returns the plaintext stream and its sizes
 * @throws as {@link openS3ecObject}
 * @example
 * ```ts
 * const desc = await describeS3ecObject(store, key, info.metadata);
 * const { body } = await openDescribedS3ecObject(store, key, info, desc, { keys });
 * ```
 */
export async function openDescribedS3ecObject(store: ObjectStore, key: string, info: ObjectInfo, desc: S3ecObjectDescription, opts: OpenS3ecObjectOptions): Promise<OpenS3ecObjectResult> {
  const maxBuffer = checkOpenOptions(opts);
  const what = `"${escapeControl(key, 120)}"`;
  // Snapshots: one size, one entity tag, one metadata map, one range.
  const size = info.size;
  const etag = info.etag;
  const range = opts.range === undefined ? undefined : { start: opts.range.start, end: opts.range.end };
  const signal = opts.signal;
  const sse = opts.sse;
  const cbc = desc.contentAlgorithm === S3EC_CEK_CBC;
  if (cbc || range !== undefined) {
    if (opts.allowUnauthenticated !== true) {
      throw new EnsealError(
        'ERR_UNAUTHENTICATED',
        cbc
          ? `${what} is an S3EC V${desc.version} AES-CBC object (no integrity): reading it needs allowUnauthenticated: true`
          : `a ranged read of the S3EC AES-GCM object ${what} cannot check its tag: it needs allowUnauthenticated: true`,
      );
    }
  }
  let total: number;
  if (cbc) {
    if (size === 0 || size % 16 !== 0) throw new EnsealError('ERR_HEADER', `${what}: an AES-CBC object's size must be a positive multiple of 16, got ${size}`);
    const l = desc.unencryptedContentLength;
    if (l !== undefined && (l >= size || l < size - 16)) throw new EnsealError('ERR_HEADER', `S3EC metadata "x-amz-unencrypted-content-length" (${l}) does not fit the stored size (${size})`);
    total = l ?? size - 1; // refined after unpadding
  } else {
    if (size < S3EC_TAG_LENGTH) throw new EnsealError('ERR_TRUNCATED', `${what} is ${size} bytes, shorter than its 16-byte GCM tag`);
    total = size - S3EC_TAG_LENGTH;
    // AES-GCM encrypts at most 2^39 − 256 bits under one IV (its 32-bit block counter): a larger
    // stored size is not an S3EC object, and a ranged read's counter would run past that space.
    if (total > S3EC_GCM_MAX_PLAINTEXT) throw new EnsealError('ERR_HEADER', `${what} is ${size} bytes, more than AES-GCM can encrypt under one IV (${S3EC_GCM_MAX_PLAINTEXT} + 16)`);
    const l = desc.unencryptedContentLength;
    if (l !== undefined && l !== total) throw new EnsealError('ERR_HEADER', `S3EC metadata "x-amz-unencrypted-content-length" (${l}) does not match the stored size (${size} = ${total} + 16)`);
  }
  let start = 0;
  let end = total - 1;
  if (range !== undefined) {
    if (!Number.isSafeInteger(range.start) || range.start < 0) throw new RangeError(`"range.start" expected a non-negative integer, got ${String(range.start)}`);
    if (range.end !== undefined && (!Number.isSafeInteger(range.end) || range.end < range.start)) throw new RangeError(`"range.end" expected an integer ≥ start, got ${String(range.end)}`);
    if (!cbc && range.start >= total) throw new RangeNotSatisfiableError(range.start, total);
    start = range.start;
    end = Math.min(range.end ?? total - 1, total - 1);
  }
  const aligned = start - (start % 16);
  const fetchLength = cbc || range === undefined ? size : end - aligned + 1;
  if (fetchLength > maxBuffer + (range === undefined && !cbc ? S3EC_TAG_LENGTH : 0)) {
    throw new EnsealError('ERR_LIMIT', `${what}: reading ${fetchLength} bytes would buffer more than maxBuffer (${maxBuffer}); S3EC GCM objects are authenticated only whole`);
  }
  const backend = getBackend(opts.backend);
  const dataKey = await unwrapS3ecDataKey(opts.keys, desc, backend);
  let contentKey: Bytes | undefined;
  try {
    contentKey = desc.version === 3 ? await s3ecV3ContentKey(backend, dataKey, desc.messageId!, desc.commitment!) : dataKey;
    const partial = !cbc && range !== undefined;
    const got = await store.get(key, { ...(partial ? { range: { start: aligned, end: aligned + fetchLength - 1 } } : {}), ...(signal === undefined ? {} : { signal }), ...(sse === undefined ? {} : { sse }) });
    if (got.size !== size || (etag !== undefined && got.etag !== undefined && got.etag !== etag)) {
      await got.body.cancel().catch(() => undefined);
      throw new EnsealError('ERR_STORE', `${what} changed between head and get (size ${size} → ${got.size})`);
    }
    const data = await readExactly(got.body, fetchLength, what);
    let plain: Bytes;
    if (cbc) {
      const all = await s3ecCbcDecrypt(backend, contentKey, desc.iv!, data, desc.unencryptedContentLength);
      total = all.length;
      if (range !== undefined && start >= total) {
        wipe(all);
        throw new RangeNotSatisfiableError(start, total);
      }
      if (range === undefined) end = total - 1;
      else end = Math.min(range.end ?? total - 1, total - 1);
      plain = all.slice(start, total === 0 ? 0 : end + 1);
      wipe(all);
    } else if (range === undefined) {
      plain = await s3ecGcm(backend, contentKey, desc.version === 3 ? S3EC_V3_IV : desc.iv!, data, desc.version === 3 ? S3EC_SUITE_ID : undefined, 'open');
    } else {
      const ctr = await backend.aesCtr(contentKey, s3ecCtrCounter(desc.version === 3 ? S3EC_V3_IV : desc.iv!, aligned), data);
      plain = ctr.slice(start - aligned);
      wipe(ctr);
    }
    return {
      body: bytesStream(plain),
      size: plain.length,
      totalSize: total,
      ...(range === undefined ? {} : { range: { start, end } }),
      authenticated: !cbc && range === undefined,
      description: desc,
    };
  } finally {
    wipe(dataKey);
    if (contentKey !== dataKey) wipe(contentKey);
  }
}
