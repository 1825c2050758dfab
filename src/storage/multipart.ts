/**
 * Encrypted, parallel, resumable multipart upload. The object it creates is byte for byte the
 * enseal object `encrypt`/`encryptStream` would have produced with the same randomness (same
 * data key, salt and nonces), cut into parts at chunk boundaries ({@link sealPart}); so it
 * decrypts with every reader, ranged or streamed, with or without its metadata.
 *
 * - **Parallel:** up to `concurrency` parts are sealed and uploaded at once (chunk `i` always
 *   uses nonce `i`, so order does not matter); memory is bounded by `concurrency + 1` parts.
 *   With `workers`, the parts are sealed on a worker pool (`./multipart-pool.ts`), same bytes.
 * - **Resumable:** with an {@link UploadState}, the upload id, the sealed header (data key
 *   wrapped only), the salt, the layout and each completed part (entity tag, size, SHA-256 of
 *   its ciphertext) are saved as they happen. `resume: true` unwraps the saved header with
 *   `keys`, re-derives the payload keys, reseals every part from the same plaintext, checks
 *   each already-uploaded part against its recorded digest (a different source is refused) and
 *   uploads only the missing parts.
 * - **All or nothing:** transient store failures are retried (bounded, with backoff); any other
 *   failure aborts the upload (`abortMultipart`), so no partial object ever becomes visible.
 *   `leavePartsOnError: true` keeps the parts and the state for a later resume instead (the
 *   object is still invisible until completed).
 *
 * @module
 */
import { concat, fromBase64, toBase64, toHex, wipe, type Bytes } from '../bytes.js';
import type { CryptoBackend } from '../backends/backend.js';
import { EnsealError } from '../errors.js';
import { CHUNK_SIZE, PREAMBLE_LENGTH, SALT_LENGTH, SEALED_CHUNK_SIZE, TAG_LENGTH } from '../format/cobblestone.js';
import { MAX_HEADER_LENGTH } from '../format/limits.js';
import { encodeBound, type EncryptionContext } from '../format/header.js';
import { sealHeader, unlockHeader } from '../envelope/options.js';
import type { KeyProvider } from '../keys/provider.js';
import { checkWorkersOption } from '../pool/pool.js';
import type { WorkersOption } from '../pool/session.js';
import { chunksPerPart } from './multipart-layout.js';
import { partSealer, type PartSealer } from './multipart-pool.js';
import { retryPolicy, untilAborted, withRetry, type RetryOptions } from './multipart-retry.js';
import type { PartSource } from './multipart-source.js';
import type { ObjectMetadata, ObjectStore, ServerSideEncryption } from './store.js';
import type { UploadRecord, UploadState, UploadedPart } from './upload-state.js';
import { checkUploadRecordMac, sealUploadRecord, uploadStateKey, type UnsealedUploadRecord } from './upload-state-mac.js';

/** Progress of an upload, like `@aws-sdk/lib-storage`'s `httpUploadProgress`. */
export interface UploadProgress {
  /** Plaintext bytes of the parts stored so far (resumed parts included). */
  readonly loaded: number;
  /** Plaintext bytes in all, when known (`contentLength`, or a `Uint8Array` body). */
  readonly total?: number;
  /** The part that just completed. */
  readonly part: number;
}

/** Options of {@link encryptedMultipartUpload}. */
export interface EncryptedMultipartOptions {
  /** Destination store. */
  readonly store: ObjectStore;
  /** Destination key. */
  readonly key: string;
  /** Who can decrypt (a fresh upload). */
  readonly recipients?: readonly KeyProvider[];
  /** Keys that unwrap the saved header (a resumed upload). */
  readonly keys?: readonly KeyProvider[];
  /** Encryption context of the object. */
  readonly context: EncryptionContext;
  /** Crypto backend. */
  readonly backend: CryptoBackend;
  /** Plaintext bytes per part (rounded up to whole 16 KiB chunks; at least the store's minimum). */
  readonly partSize?: number;
  /** Parts in flight at once (default 4, 1..64). */
  readonly concurrency?: number;
  /** Metadata of the object, given the header length. */
  readonly metadata: (headerLength: number) => ObjectMetadata;
  /** Server-side encryption to request. */
  readonly sse?: ServerSideEncryption;
  /** Aborts the upload (which is then aborted in the store too, unless `leavePartsOnError`). */
  readonly signal?: AbortSignal;
  /** Called after each part. */
  readonly onProgress?: (p: UploadProgress) => void;
  /** Where progress is persisted for a resume. */
  readonly uploadState?: UploadState;
  /** Resume the upload saved in `uploadState`, if any. */
  readonly resume?: boolean;
  /** Keep parts and state after a failure (for a later resume) instead of aborting. */
  readonly leavePartsOnError?: boolean;
  /** Retry policy of each request. */
  readonly retry?: RetryOptions;
  /** Plaintext length, when known: sizes the parts within `maxParts` and is checked at the end. */
  readonly contentLength?: number;
  /** Seal the parts on worker threads: a thread count (a shared pool) or a `createPool()` pool. */
  readonly workers?: WorkersOption;
}

/** What {@link encryptedMultipartUpload} returns. */
export interface EncryptedMultipartResult {
  /** Entity tag of the completed object, when the store returned one. */
  readonly etag?: string;
  /** Plaintext bytes uploaded. */
  readonly plaintextSize: number;
  /** Stored bytes (header and payload). */
  readonly storedSize: number;
  /** Header length at the start of the object. */
  readonly headerLength: number;
  /** Parts of the object. */
  readonly parts: number;
  /** Parts sent by this call (fewer than `parts` after a resume). */
  readonly uploadedParts: number;
  /** Whether a saved upload was resumed. */
  readonly resumed: boolean;
}

interface Prepared {
  readonly keys: PartSealer;
  /** Key of the record MAC (`./upload-state-mac.ts`); wiped when the upload ends. */
  readonly stateKey: Bytes;
  readonly header: Bytes;
  readonly salt: Bytes;
  readonly k: number;
  readonly record: UploadRecord | undefined;
}

/** Refuses a saved layout this store cannot take, before anything is unwrapped or allocated. */
function checkSavedLayout(k: number, store: ObjectStore): void {
  const limits = store.multipart;
  if (k * SEALED_CHUNK_SIZE < limits.minPartSize) throw new EnsealError('ERR_STATE', 'the saved part layout does not meet the store minimum part size');
  if (MAX_HEADER_LENGTH + PREAMBLE_LENGTH + k * SEALED_CHUNK_SIZE + TAG_LENGTH > limits.maxPartSize) {
    throw new EnsealError('ERR_STATE', `the saved part layout (${k} chunks per part) exceeds the store's maximum part size`);
  }
}

async function prepare(opts: EncryptedMultipartOptions): Promise<Prepared> {
  const { store, key, backend } = opts;
  const state = opts.uploadState;
  const saved = state === undefined ? undefined : await state.load();
  if (saved !== undefined && !opts.resume) {
    // A fresh upload replaces the saved one: free its parts (best effort).
    if (saved.store === store.name && saved.key === key) await store.abortMultipart(key, saved.uploadId).catch(() => undefined);
    await state?.clear();
  }
  const record = opts.resume ? saved : undefined;
  if (record !== undefined) {
    if (record.store !== store.name || record.key !== key) {
      throw new EnsealError('ERR_STATE', 'the saved upload is for another store or key');
    }
    if (opts.keys === undefined) throw new TypeError('"keys" are needed to resume an upload (the saved header is unwrapped again)');
    const k = record.chunksPerPart;
    checkSavedLayout(k, store);
    const header = fromBase64(record.header);
    const salt = fromBase64(record.salt);
    if (salt.length !== SALT_LENGTH) throw new EnsealError('ERR_STATE', 'upload state has a bad salt');
    const unlocked = await unlockHeader(header, { keys: opts.keys }, backend);
    let keys: PartSealer;
    let stateKey: Bytes | undefined;
    try {
      // The header's own MAC says only that it is *a* header for these keys (it may be another
      // object's): the record MAC is what ties header, salt, layout and parts to this upload.
      stateKey = await uploadStateKey(backend, unlocked.dataKey);
      await checkUploadRecordMac(backend, stateKey, record);
      if (unlocked.header.length !== header.length) throw new EnsealError('ERR_STATE', 'upload state has trailing header bytes');
      const expected = encodeBound(opts.context);
      if (expected.length !== unlocked.header.bound.length || !expected.every((b, i) => b === unlocked.header.bound[i])) {
        throw new EnsealError('ERR_STATE', 'the saved upload has another encryption context');
      }
      keys = await partSealer(backend, unlocked.dataKey, salt, unlocked.header.bound, opts.workers);
    } catch (e) {
      if (stateKey !== undefined) wipe(stateKey);
      throw e;
    } finally {
      wipe(unlocked.dataKey);
    }
    return { keys, stateKey, header, salt, k, record };
  }
  if (opts.recipients === undefined) throw new TypeError('"recipients" expected for an upload');
  const k = chunksPerPart(store.multipart, opts.partSize, opts.contentLength);
  // Same order of randomness as encrypt(): data key (and stanzas), then the salt.
  const sealed = await sealHeader({ recipients: opts.recipients, context: opts.context }, backend);
  const salt = backend.randomBytes(SALT_LENGTH);
  let keys: PartSealer;
  let stateKey: Bytes | undefined;
  try {
    stateKey = await uploadStateKey(backend, sealed.dataKey);
    keys = await partSealer(backend, sealed.dataKey, salt, sealed.bound, opts.workers);
  } catch (e) {
    if (stateKey !== undefined) wipe(stateKey);
    throw e;
  } finally {
    wipe(sealed.dataKey);
  }
  return { keys, stateKey, header: sealed.header, salt, k, record: undefined };
}

/**
 * Uploads a plaintext body as an encrypted multipart object.
 *
 * @param source - the plaintext, read sequentially
 * @param opts - store, key, recipients (or keys to resume), context, layout, state, retries
 * @returns sizes, parts and the object's entity tag
 * @throws TypeError/RangeError for invalid options (`workers` included), or a body whose length
 *   differs from `contentLength`
 * @throws EnsealError `ERR_STORE` (after retries), `ERR_STATE` (a resume whose source or
 *   context differs), `ERR_LIMIT` (more parts than the store allows), `ERR_NO_KEY` (resume)
 * @example
 * ```ts
 * const r = await encryptedMultipartUpload(streamSource(body.getReader()), {
 *   store, key: 'big.bin', recipients: [key], context: {}, backend: getBackend(),
 *   metadata: () => ({}), uploadState: fileUploadState('big.upload.json'), resume: true, keys: [key],
 * });
 * ```
 */
export async function encryptedMultipartUpload(source: PartSource, opts: EncryptedMultipartOptions): Promise<EncryptedMultipartResult> {
  const { store, key, backend } = opts;
  const concurrency = opts.concurrency ?? 4;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new RangeError(`"concurrency" expected an integer in 1..64, got ${String(concurrency)}`);
  const total = opts.contentLength;
  if (total !== undefined && (!Number.isSafeInteger(total) || total < 0)) throw new RangeError(`"contentLength" expected a non-negative integer, got ${String(total)}`);
  checkWorkersOption(opts.workers);
  const policy = retryPolicy(opts.retry);
  const state = opts.uploadState;
  opts.signal?.throwIfAborted();

  let prepared: Prepared;
  try {
    prepared = await prepare(opts);
  } catch (e) {
    await source.cancel(e);
    throw e;
  }
  const { keys, stateKey, header, salt, k } = prepared;
  const prefix = concat(header, salt, keys.commitment);
  const partPlaintext = k * CHUNK_SIZE;
  const internal = new AbortController();
  const signal = opts.signal === undefined ? internal.signal : AbortSignal.any([opts.signal, internal.signal]);
  const sse = opts.sse === undefined ? {} : { sse: opts.sse };

  let uploadId: string | undefined = prepared.record?.uploadId;
  const recorded = new Map<number, UploadedPart>((prepared.record?.parts ?? []).map((p) => [p.partNumber, p]));
  const etags = new Map<number, string>();
  const inflight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let saving: Promise<void> = Promise.resolve();
  let loaded = 0;
  let plaintextSize = 0;
  let storedSize = 0;
  let uploadedParts = 0;

  // Every part that may have reached the store is in the record with its digest (recorded before
  // it is sent), so a resume reseals the same plaintext wherever ciphertext may have been seen.
  const lastRecorded = Math.max(0, ...recorded.keys());
  const snapshot = (): UnsealedUploadRecord => ({
    version: 2,
    store: store.name,
    key,
    uploadId: uploadId as string,
    header: toBase64(header),
    salt: toBase64(salt),
    chunksPerPart: k,
    parts: [...recorded.values()].sort((a, b) => a.partNumber - b.partNumber),
  });
  const persist = (): Promise<void> => {
    if (state === undefined) return Promise.resolve();
    const r = snapshot();
    saving = saving.then(async () => state.save(await sealUploadRecord(backend, stateKey, r)));
    return saving;
  };
  const fail = (e: unknown): void => {
    if (failure !== undefined) return;
    failure = { error: e };
    internal.abort(e);
  };

  const runPart = async (partNumber: number, bytes: Uint8Array, owned: boolean, last: boolean): Promise<void> => {
    let sealed: Bytes;
    try {
      sealed = await keys.seal(partNumber, k, bytes, last, partNumber === 1 ? prefix : undefined);
    } finally {
      if (owned) wipe(bytes);
    }
    const digest = toHex(await backend.digest('SHA-256', sealed));
    const prev = recorded.get(partNumber);
    const same = prev !== undefined && prev.sha256 === digest && prev.size === sealed.length;
    if (prev !== undefined && !same) {
      throw new EnsealError('ERR_STATE', `part ${partNumber} differs from the interrupted upload: resume needs the same plaintext`);
    }
    if (same && prev.etag !== '') {
      etags.set(partNumber, prev.etag); // already in the store, byte-identical
    } else {
      // Recorded (digest, no entity tag yet) before the bytes leave: see UploadedPart.etag.
      recorded.set(partNumber, { partNumber, etag: '', size: sealed.length, sha256: digest });
      await persist();
      const { etag } = await withRetry((s) => store.uploadPart(key, uploadId as string, partNumber, sealed, { ...sse, ...(s === undefined ? {} : { signal: s }) }), policy, signal);
      if (typeof etag !== 'string') throw new EnsealError('ERR_STORE', `${store.name}: uploadPart returned no entity tag`);
      uploadedParts++;
      etags.set(partNumber, etag);
      recorded.set(partNumber, { partNumber, etag, size: sealed.length, sha256: digest });
      await persist();
    }
    loaded += bytes.length;
    storedSize += sealed.length;
    opts.onProgress?.({ loaded, ...(total === undefined ? {} : { total }), part: partNumber });
  };

  try {
    if (uploadId === undefined) {
      const md = opts.metadata(header.length);
      uploadId = (await withRetry((s) => store.createMultipart(key, { metadata: md, ...sse, ...(s === undefined ? {} : { signal: s }) }), policy, signal)).uploadId;
      if (typeof uploadId !== 'string' || uploadId.length === 0) throw new EnsealError('ERR_STORE', `${store.name}: createMultipart returned no upload id`);
      await persist();
    }
    let partNumber = 0;
    for (;;) {
      partNumber++;
      if (partNumber > store.multipart.maxParts) {
        throw new EnsealError('ERR_LIMIT', `the body needs more than the store's ${store.multipart.maxParts} parts: raise "partSize" or give "contentLength"`);
      }
      const piece = await untilAborted(source.read(partPlaintext), signal);
      const last = piece.bytes.length < partPlaintext || (await untilAborted(source.atEnd(), signal));
      plaintextSize += piece.bytes.length;
      if (total !== undefined && plaintextSize > total) {
        if (piece.owned) wipe(piece.bytes);
        throw new RangeError(`the body is longer than "contentLength" (${total})`);
      }
      while (inflight.size >= concurrency && failure === undefined) await Promise.race(inflight);
      if (failure !== undefined) {
        if (piece.owned) wipe(piece.bytes);
        break;
      }
      const task: Promise<void> = runPart(partNumber, piece.bytes, piece.owned, last)
        .catch(fail)
        .finally(() => inflight.delete(task));
      inflight.add(task);
      if (last) break;
    }
    if (failure === undefined && lastRecorded > partNumber) {
      throw new EnsealError('ERR_STATE', 'the body ends before the parts of the interrupted upload: resume needs the same plaintext');
    }
    await Promise.all(inflight);
    if (failure !== undefined) throw failure.error;
    if (total !== undefined && plaintextSize !== total) throw new RangeError(`the body is ${plaintextSize} bytes, not "contentLength" (${total})`);
    const parts = [...etags.entries()].sort(([a], [b]) => a - b).map(([partNumber, etag]) => ({ partNumber, etag }));
    const done = await withRetry((s) => store.completeMultipart(key, uploadId as string, parts, s === undefined ? {} : { signal: s }), policy, signal);
    await saving.catch(() => undefined);
    await state?.clear();
    return {
      ...(done.etag === undefined ? {} : { etag: done.etag }),
      plaintextSize,
      storedSize,
      headerLength: header.length,
      parts: parts.length,
      uploadedParts,
      resumed: prepared.record !== undefined,
    };
  } catch (e) {
    fail(e);
    await Promise.allSettled([...inflight]);
    await source.cancel(e);
    await saving.catch(() => undefined);
    if (!opts.leavePartsOnError && uploadId !== undefined) {
      const id = uploadId;
      // Not under the caller's signal: an aborted upload must still be cleaned up.
      await withRetry((s) => store.abortMultipart(key, id, s === undefined ? {} : { signal: s }), policy).catch(() => undefined);
      await state?.clear().catch(() => undefined);
    }
    throw e;
  } finally {
    keys.dispose();
    await saving.catch(() => undefined);
    wipe(stateKey);
  }
}
