/**
 * One snapshot of an S3EC instruction file for the life of an `InteropObjectReader`
 * (docs/INTEROP.md §"Through the encrypting bucket").
 *
 * An object whose S3EC fields live in `<key>.instruction` is described once, when the reader is
 * opened, and that description decides what the reader reports (`authenticated`, `format`,
 * `size`). Each later read opens the object again; if it read `<key>.instruction` again, a file
 * swapped in between (GCM relabelled as CBC, V3 as V2) would make a read decrypt under other
 * rules than the ones reported. {@link pinInstructionFile} reads the file once and hands the
 * same bytes to every later look at it, so every read of the reader uses the description fixed
 * at open.
 *
 * ```
 * open       GET <key>.instruction once (bounded by S3EC_MAX_INSTRUCTION_LENGTH), keep the bytes
 * later      get/head of <key>.instruction through the wrapper: the kept answer, no request
 *            (not found at open stays not found); every other call goes to the store
 * ```
 *
 * @module
 */
import { escapeControl } from '../bytes.js';
import { EnsealError, isEnsealError } from '../errors.js';
import { S3EC_INSTRUCTION_SUFFIX, S3EC_MAX_INSTRUCTION_LENGTH } from '../interop/s3ec-instruction.js';
import { readAll } from '../streams/read-all.js';
import { overlayStore } from './store-overlay.js';
import type { GetResult, ObjectInfo, ObjectStore, ServerSideEncryption, StoreRange } from './store.js';

/** The kept answer: the file's facts and bytes, or the error the store gave. */
type Pinned = { readonly info: ObjectInfo; readonly bytes: Uint8Array } | { readonly error: unknown };

function bytesBody(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(c) {
      if (bytes.length > 0) c.enqueue(bytes.slice());
      c.close();
    },
  });
}

function answer(p: Pinned, range: StoreRange | undefined): GetResult {
  if ('error' in p) throw p.error;
  if (range === undefined) return { ...p.info, metadata: { ...p.info.metadata }, body: bytesBody(p.bytes) };
  const end = Math.min(range.end ?? p.bytes.length - 1, p.bytes.length - 1);
  return { ...p.info, metadata: { ...p.info.metadata }, body: bytesBody(p.bytes.subarray(range.start, end + 1)), range: { start: range.start, end } };
}

/**
 * Reads `<key>.instruction` once and wraps the store so that every later `get`/`head` of it
 * answers with that snapshot.
 *
 * @param store - the store
 * @param key - the object's key (not the instruction file's)
 * @param o - signal, sse (for the one GET)
 * @returns the wrapped store (every other key and method goes to `store` unchanged)
 * @throws EnsealError `ERR_STORE` when the store sends more bytes than it announced; store
 *   errors other than `ERR_NOT_FOUND` (a missing file is kept as missing)
 * @example
 * ```ts
 * const pinned = await pinInstructionFile(store, 'photo.jpg', {});
 * await openS3ecObject(pinned, 'photo.jpg', info, { keys }); // reads the kept file
 * ```
 */
export async function pinInstructionFile(store: ObjectStore, key: string, o: { readonly signal?: AbortSignal; readonly sse?: ServerSideEncryption }): Promise<ObjectStore> {
  const fileKey = key + S3EC_INSTRUCTION_SUFFIX;
  let pinned: Pinned;
  try {
    const got = await store.get(fileKey, { ...(o.signal === undefined ? {} : { signal: o.signal }), ...(o.sse === undefined ? {} : { sse: o.sse }) });
    const info: ObjectInfo = {
      size: got.size,
      metadata: { ...got.metadata },
      ...(got.etag === undefined ? {} : { etag: got.etag }),
      ...(got.lastModified === undefined ? {} : { lastModified: got.lastModified }),
      ...(got.sse === undefined ? {} : { sse: got.sse }),
    };
    if (got.size > S3EC_MAX_INSTRUCTION_LENGTH) {
      // The reader refuses it from its size alone; its body is never needed.
      await got.body.cancel().catch(() => undefined);
      pinned = { info, bytes: new Uint8Array(0) };
    } else {
      const bytes = await readAll(got.body, {
        max: got.size,
        what: 'the instruction file',
        tooLong: () => new EnsealError('ERR_STORE', `the store sent more bytes of "${escapeControl(fileKey, 120)}" than it announced (${got.size})`),
        ...(o.signal === undefined ? {} : { signal: o.signal }),
      });
      pinned = { info, bytes };
    }
  } catch (e) {
    if (!isEnsealError(e, 'ERR_NOT_FOUND')) throw e;
    pinned = { error: e };
  }
  const p = pinned;
  return overlayStore(store, {
    async get(k, opts) {
      if (k !== fileKey) return store.get(k, opts);
      opts?.signal?.throwIfAborted();
      return answer(p, opts?.range);
    },
    async head(k, opts) {
      if (k !== fileKey) return store.head(k, opts);
      opts?.signal?.throwIfAborted();
      if ('error' in p) throw p.error;
      return { ...p.info, metadata: { ...p.info.metadata } };
    },
  });
}
