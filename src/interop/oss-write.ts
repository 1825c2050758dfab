/**
 * Writing objects the OSS SDKs' encryption clients read (docs/INTEROP.md §OSS.6): a fresh
 * 32-byte content key and a fresh IV with bytes 8..11 zero (`newOssIv`; the Java and Go readers
 * need it), both wrapped by the one OSS recipient (RSA PKCS#1 v1.5 / OAEP-SHA-1 with the public
 * key, or KMS/ALICLOUD), the content AES-256-CTR, the metadata in the current format with a
 * compact JSON matdesc.
 *
 * ```
 * single PUT   body = CTR(IV, plaintext)
 * multipart    part n (1-based) = CTR(IV + (n − 1)·partSize/16, plaintext[(n − 1)·partSize …])
 *              partSize a multiple of 16; every part but the last exactly partSize bytes;
 *              metadata adds data-size (when the size is known) and part-size
 * ```
 *
 * The format stores one wrapped key, so an OSS object has exactly one recipient. Writing never
 * weakens enseal objects: it is a separate function, and the encrypting bucket uses it only for
 * `putObject(…, { format: 'oss' })`.
 *
 * @module
 */
import { createMD5 } from 'hash-wasm';
import { assertChunk, toBase64, wipe, type Bytes, whileAttached, detachedDuring } from '../bytes.js';
import type { CryptoBackend } from '../backends/backend.js';
import { getBackend, type BackendChoice } from '../backends/select.js';
import { EnsealError } from '../errors.js';
import type { ObjectMetadata, ObjectStore } from '../storage/store.js';
import { checkWriterMetadata } from './foreign-names.js';
import { ossCtrStream } from './oss-content.js';
import { addBlocks, newOssIv } from './oss-counter.js';
import { isOssKeyring, type OssKeyring, type OssWrapped } from './oss-keyring.js';
import { encodeOssMetadata } from './oss-metadata.js';
import { checkMatdesc } from './oss-options.js';

/** Options of {@link sealOssObject}. */
export interface SealOssObjectOptions {
  /** The one recipient: an `ossRsaKey` (public key) or an `ossKmsKey`. */
  readonly recipients: readonly unknown[];
  /** Material description to write (default: the recipient's). */
  readonly matdesc?: Readonly<Record<string, string>>;
  /** Also write `unencrypted-content-md5` (the MD5 of the plaintext). Default false. */
  readonly md5?: boolean;
  /** Crypto backend. */
  readonly backend?: BackendChoice;
}

/** Options of {@link putOssObject}. */
export interface PutOssObjectOptions extends SealOssObjectOptions {
  /** Multipart upload with parts of this many bytes (a positive multiple of 16, within the store's limits). */
  readonly partSize?: number;
  /** Plaintext length of a stream body, when known (written as unencrypted-content-length / data-size). */
  readonly contentLength?: number;
  /** Other user metadata stored with the object (no OSS, S3EC or enseal names: TypeError). */
  readonly metadata?: ObjectMetadata;
  /** Aborts the upload. */
  readonly signal?: AbortSignal;
}

/** An OSS object made in memory: the stored body and its metadata. */
export interface SealedOssObject {
  /** The ciphertext (same length as the plaintext). */
  readonly body: Bytes;
  /** The metadata to store with it (names without `x-oss-meta-`). */
  readonly metadata: ObjectMetadata;
}

function recipientOf(list: unknown): OssKeyring {
  if (!Array.isArray(list) || list.length !== 1 || !isOssKeyring(list[0])) {
    throw new TypeError('"recipients" expected exactly one OSS key (ossRsaKey or ossKmsKey): the OSS format stores one wrapped key');
  }
  return list[0];
}

async function md5Of(data: Uint8Array): Promise<string> {
  const h = await createMD5();
  h.init();
  h.update(data);
  return toBase64(h.digest('binary'));
}

interface Material {
  readonly backend: CryptoBackend;
  readonly cek: Bytes;
  readonly iv: Bytes;
  readonly wrapped: OssWrapped;
  readonly matdesc: Readonly<Record<string, string>> | undefined;
}

async function material(opts: SealOssObjectOptions): Promise<Material> {
  const ring = recipientOf(opts.recipients);
  const override = checkMatdesc(opts.matdesc);
  const backend = getBackend(opts.backend);
  const cek = backend.randomBytes(32);
  const iv = newOssIv(backend);
  try {
    const wrapped = await ring.ossWrap(cek, iv, backend);
    return { backend, cek, iv, wrapped, matdesc: override ?? wrapped.matdesc };
  } catch (e) {
    wipe(cek, iv);
    throw e;
  }
}

/**
 * Encrypts bytes into an OSS client-side-encryption object in memory (single PUT layout).
 *
 * @param plaintext - the content
 * @param opts - `{ recipients: [ossKey], matdesc?, md5?, backend? }`
 * @returns the ciphertext and the metadata to store with it
 * @throws TypeError without exactly one OSS recipient or with a bad matdesc; what the recipient
 *   throws (RangeError for an RSA key under 2048 bits, KMS errors)
 * @example
 * ```ts
 * const { body, metadata } = await sealOssObject(bytes, { recipients: [ossRsaKey({ publicKey })] });
 * await store.put('a.bin', body, { metadata });
 * ```
 */
export async function sealOssObject(plaintext: Uint8Array, opts: SealOssObjectOptions): Promise<SealedOssObject> {
  assertChunk(plaintext, '"plaintext" expected Uint8Array');
  return whileAttached(plaintext, 'plaintext', async () => {
    const m = await material(opts);
    try {
      const body = await m.backend.aesCtr(m.cek, m.iv, plaintext);
      const metadata = encodeOssMetadata({
        wrapAlgorithm: m.wrapped.wrapAlgorithm,
        wrappedKey: m.wrapped.wrappedKey,
        wrappedStart: m.wrapped.wrappedStart,
        ...(m.matdesc === undefined ? {} : { matdesc: m.matdesc }),
        unencryptedContentLength: plaintext.length,
        ...(opts.md5 === true ? { unencryptedContentMd5: await md5Of(plaintext) } : {}),
      });
      return { body, metadata };
    } finally {
      wipe(m.cek, m.iv);
    }
  });
}

/**
 * Splits a byte stream into pieces of exactly `size` bytes (the last may be shorter, never empty
 * unless the input is). With `expected` (the caller's `contentLength`), a stream body must be
 * exactly that long, as for the single PUT (`ossCtrStream`'s `inputLength`): a piece past it is
 * never yielded.
 * @throws EnsealError `ERR_TRUNCATED` when the stream ends short of `expected`, `ERR_STORE` when
 *   it runs past it
 */
async function* pieces(body: Uint8Array | ReadableStream<Uint8Array>, size: number, expected?: number): AsyncGenerator<Uint8Array> {
  if (body instanceof Uint8Array) {
    const n = body.length; // read once: a buffer transferred away meanwhile reads as empty
    for (let i = 0; i < n; i += size) {
      if (body.length !== n) throw detachedDuring('body');
      yield body.subarray(i, i + size);
    }
    if (body.length !== n) throw detachedDuring('body');
    if (n === 0) yield body;
    return;
  }
  const reader = body.getReader();
  let buf = new Uint8Array(size);
  let fill = 0;
  let any = false;
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      assertChunk(value, 'the body stream expected Uint8Array chunks');
      total += value.length;
      if (expected !== undefined && total > expected) {
        await reader.cancel().catch(() => undefined);
        throw new EnsealError('ERR_STORE', `OSS object: the body stream is longer than "contentLength" (${expected} bytes)`);
      }
      let off = 0;
      while (off < value.length) {
        const n = Math.min(size - fill, value.length - off);
        buf.set(value.subarray(off, off + n), fill);
        fill += n;
        off += n;
        if (fill === size) {
          any = true;
          yield buf;
          buf = new Uint8Array(size);
          fill = 0;
        }
      }
    }
    if (expected !== undefined && total < expected) throw new EnsealError('ERR_TRUNCATED', `OSS object: the body stream ended after ${total} of the ${expected} bytes of "contentLength"`);
    if (fill > 0 || !any) yield buf.subarray(0, fill);
  } finally {
    reader.releaseLock();
  }
}

/**
 * Stores an object in the OSS client-side-encryption format, by single PUT or multipart upload.
 *
 * @param store - the object store
 * @param key - the object key
 * @param body - the plaintext, as bytes or a stream
 * @param opts - `{ recipients: [ossKey], matdesc?, partSize?, md5?, contentLength?, metadata?, backend?, signal? }`
 * @returns the store's etag and the OSS metadata written
 * @throws TypeError/RangeError for a bad recipient list, matdesc, metadata, part size (not a
 *   positive multiple of 16, outside the store's limits, too many parts) or `md5` with a stream
 *   body; EnsealError `ERR_TRUNCATED` / `ERR_STORE` for a stream body shorter / longer than
 *   `contentLength` (single PUT and multipart alike; nothing is completed); store and
 *   key-provider errors (a failed multipart upload is aborted)
 * @example
 * ```ts
 * await putOssObject(store, 'big.bin', stream, { recipients: [ossKmsKey({ client, keyId })], partSize: 8 * 1024 * 1024 });
 * ```
 */
export async function putOssObject(
  store: ObjectStore,
  key: string,
  body: Uint8Array | ReadableStream<Uint8Array>,
  opts: PutOssObjectOptions,
): Promise<{ etag?: string; metadata: ObjectMetadata }> {
  if (!(body instanceof Uint8Array) && !(body instanceof ReadableStream)) throw new TypeError('"body" expected Uint8Array or ReadableStream');
  const user = checkWriterMetadata(opts.metadata);
  const length = body instanceof Uint8Array ? body.length : opts.contentLength;
  if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) throw new RangeError(`"contentLength" expected a non-negative safe integer, got ${String(length)}`);
  if (opts.md5 === true && !(body instanceof Uint8Array)) throw new TypeError('"md5" needs a Uint8Array body (the metadata is written before a stream is read)');
  const partSize = opts.partSize;
  if (partSize !== undefined) {
    const lim = store.multipart;
    if (!Number.isSafeInteger(partSize) || partSize <= 0 || partSize % 16 !== 0) throw new RangeError(`"partSize" expected a positive multiple of 16, got ${String(partSize)}`);
    if (partSize < lim.minPartSize || partSize > lim.maxPartSize) throw new RangeError(`"partSize" expected ${lim.minPartSize}..${lim.maxPartSize} bytes for ${store.name}, got ${partSize}`);
    if (length !== undefined && Math.ceil(length / partSize) > lim.maxParts) throw new RangeError(`"partSize" ${partSize} needs more than ${lim.maxParts} parts for ${length} bytes`);
  }
  const m = await material(opts);
  try {
    const metadata = encodeOssMetadata({
      wrapAlgorithm: m.wrapped.wrapAlgorithm,
      wrappedKey: m.wrapped.wrappedKey,
      wrappedStart: m.wrapped.wrappedStart,
      ...(m.matdesc === undefined ? {} : { matdesc: m.matdesc }),
      ...(length === undefined ? {} : { unencryptedContentLength: length }),
      ...(opts.md5 === true && body instanceof Uint8Array ? { unencryptedContentMd5: await md5Of(body) } : {}),
      ...(partSize === undefined ? {} : { partSize, ...(length === undefined ? {} : { dataSize: length }) }),
    });
    const all = { ...user, ...metadata };
    const signal = opts.signal === undefined ? {} : { signal: opts.signal };
    if (partSize === undefined) {
      const encrypted = body instanceof Uint8Array ? await m.backend.aesCtr(m.cek, m.iv, body) : body.pipeThrough(ossCtrStream({ backend: m.backend, key: m.cek, counter: m.iv, ...(length === undefined ? {} : { inputLength: length }) }));
      const r = await store.put(key, encrypted, { metadata: all, ...(length === undefined ? {} : { contentLength: length }), ...signal });
      return { ...(r.etag === undefined ? {} : { etag: r.etag }), metadata };
    }
    const { uploadId } = await store.createMultipart(key, { metadata: all, ...signal });
    try {
      const parts: { partNumber: number; etag: string }[] = [];
      let n = 0;
      for await (const plain of pieces(body, partSize, length)) {
        n += 1;
        if (n > store.multipart.maxParts) throw new RangeError(`"partSize" ${partSize} needs more than ${store.multipart.maxParts} parts`);
        // Part n continues the one CTR stream: counter IV + (n − 1)·partSize/16.
        const ct = await m.backend.aesCtr(m.cek, addBlocks(m.iv, ((n - 1) * partSize) / 16), plain);
        const r = await store.uploadPart(key, uploadId, n, ct, signal);
        parts.push({ partNumber: n, etag: r.etag });
      }
      const r = await store.completeMultipart(key, uploadId, parts, signal);
      return { ...(r.etag === undefined ? {} : { etag: r.etag }), metadata };
    } catch (e) {
      await store.abortMultipart(key, uploadId).catch(() => undefined);
      throw e;
    }
  } finally {
    wipe(m.cek, m.iv);
  }
}

