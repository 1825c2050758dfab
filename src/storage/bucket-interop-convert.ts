/**
 * Migration of a foreign object to the enseal format in place (`bucket.convertObject(key,
 * { to: 'enseal' })`, docs/INTEROP.md §"Through the encrypting bucket"):
 *
 * ```
 * 1. HEAD (one snapshot of size, metadata, entity tag); the format from the metadata names
 * 2. open the foreign object whole (OSS/CBC need allowUnauthenticated: true)
 * 3. stream its plaintext into the bucket's enseal writer under the same key:
 *    - up to the multipart threshold: buffered, then ONE put, sent only after the stream ended
 *      cleanly, i.e. after the OSS MD5 (when recorded) or the S3EC GCM tag verified;
 *    - above it: a multipart upload, completed only after the stream ended cleanly (an MD5
 *      mismatch errors the stream: the upload is aborted, nothing becomes visible)
 * 4. only then delete <key>.instruction, if the fields came from one
 * ```
 *
 * The store replaces an object atomically on a put or a completed upload, so at every moment
 * the key holds the whole old object or the whole new one; a failure at any step before 4
 * leaves the old object (and its instruction file) untouched. A failure of step 4 leaves a stale
 * instruction file beside a complete enseal object (reported, harmless: the enseal body is read
 * first).
 *
 * @module
 */
import { escapeControl } from '../bytes.js';
import { isEnsealError } from '../errors.js';
import { S3EC_INSTRUCTION_SUFFIX } from '../interop/s3ec-instruction.js';
import { isForeign, type MetadataFormat, type StoredFormat } from './bucket-interop-format.js';
import { openForeign, type ForeignReadOptions } from './bucket-interop-read.js';
import type { ObjectInfo, ObjectStore } from './store.js';

/** What `convertObject` returns. */
export interface ConvertObjectResult {
  /** The format the object was in. */
  readonly from: StoredFormat;
  /** Always `'enseal'`. */
  readonly to: 'enseal';
  /** False when the object already was an enseal object (nothing was done). */
  readonly converted: boolean;
  /** Plaintext bytes. */
  readonly size: number;
  /** Stored bytes of the new object. */
  readonly storedSize: number;
  /** What was verified before the new object became visible. */
  readonly verified: 'gcm-tag' | 'md5' | 'nothing';
  /** Whether an instruction file was removed (false also when there was none). */
  readonly instructionFileRemoved: boolean;
  /** Set when the instruction file could not be removed after the new object was visible. */
  readonly instructionFileError?: unknown;
}

/** The bucket's enseal writer, as convert uses it. */
export type EnsealWriter = (body: ReadableStream<Uint8Array>, metadata: Record<string, string>, contentLength: number) => Promise<{ size: number; storedSize: number }>;

/**
 * Converts a foreign object to the enseal format under the same key.
 *
 * @param store - the store
 * @param key - the object key
 * @param info - one snapshot of its facts
 * @param format - its detected format (`'none'` = fields in an instruction file)
 * @param read - read options (keys and the opt-in)
 * @param write - the bucket's enseal writer (recipients and context bound)
 * @returns what was done
 * @throws EnsealError as `getObject` for the read (`ERR_UNAUTHENTICATED`, `ERR_AUTH` for an MD5
 *   or tag mismatch, …) and as `putObject` for the write; the old object is then untouched
 * @example
 * ```ts
 * await convertStored(store, key, info, 'oss', { keys, allowUnauthenticated: true }, write);
 * ```
 */
export async function convertStored(store: ObjectStore, key: string, info: ObjectInfo, format: MetadataFormat, read: ForeignReadOptions, write: EnsealWriter): Promise<ConvertObjectResult> {
  if (!isForeign(format) && format !== 'none') throw new TypeError(`convertStored: "${escapeControl(key, 120)}" is not a foreign object`);
  const { range: _none, ...whole } = read;
  const r = await openForeign(store, key, info, format, whole);
  let written: { size: number; storedSize: number };
  try {
    written = await write(r.body, r.metadata, r.size);
  } catch (e) {
    await r.body.cancel(e).catch(() => undefined);
    throw e;
  }
  const verified = r.authenticated ? 'gcm-tag' : r.md5Checked ? 'md5' : 'nothing';
  if (!r.instructionFile) return { from: r.format, to: 'enseal', converted: true, size: written.size, storedSize: written.storedSize, verified, instructionFileRemoved: false };
  try {
    await store.delete(key + S3EC_INSTRUCTION_SUFFIX, read.signal === undefined ? {} : { signal: read.signal });
  } catch (e) {
    if (!isEnsealError(e, 'ERR_NOT_FOUND')) {
      return { from: r.format, to: 'enseal', converted: true, size: written.size, storedSize: written.storedSize, verified, instructionFileRemoved: false, instructionFileError: e };
    }
  }
  return { from: r.format, to: 'enseal', converted: true, size: written.size, storedSize: written.storedSize, verified, instructionFileRemoved: true };
}
