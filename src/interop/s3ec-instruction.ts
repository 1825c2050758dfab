/**
 * S3EC instruction files (docs/INTEROP.md S3EC.4; S3EC specification
 * `data-format/metadata-strategy.md`, the Java client's `InstructionFileConfig`, research notes
 * §2.4): a separate object `<key>.instruction` whose body is a JSON object of the content
 * metadata, stored with the metadata `x-amz-crypto-instr-file: ""`.
 *
 * ```
 * V1/V2   every S3EC field is in the file; the object's metadata has none
 *         ("x-amz-tag-len" may be a JSON number on read)
 * V3      "x-amz-3", "x-amz-w", "x-amz-m" / "x-amz-t" are in the file;
 *         "x-amz-c", "x-amz-d", "x-amz-i" MUST stay in the object metadata and a file holding
 *         any of them is refused
 * ```
 *
 * The file's size is checked (at most {@link S3EC_MAX_INSTRUCTION_LENGTH} bytes) from the store's
 * answer before its body is read, and its body is read with that bound.
 *
 * @module
 */
import { escapeControl, fromUtf8 } from '../bytes.js';
import { EnsealError } from '../errors.js';
import type { ObjectMetadata, ObjectStore, ServerSideEncryption } from '../storage/store.js';
import { S3EC_MAX_MATDESC_ENTRIES, S3EC_NAMES, S3EC_V3_METADATA_ONLY, detectS3ecFormat } from './s3ec-metadata.js';

/** Suffix of an instruction file's key. */
export const S3EC_INSTRUCTION_SUFFIX = '.instruction';
/** Metadata name marking an instruction file (value `""`). */
export const S3EC_INSTRUCTION_MARKER = 'x-amz-crypto-instr-file';
/** Largest instruction file read, bytes. */
export const S3EC_MAX_INSTRUCTION_LENGTH = 64 * 1024;

const bad = (why: string): EnsealError => new EnsealError('ERR_HEADER', `S3EC instruction file ${why}`);

/**
 * Parses an instruction file body.
 * @param body - the file's bytes
 * @returns its entries as a metadata map (numbers turned into their decimal text)
 * @throws EnsealError `ERR_HEADER` for a body over the bound, not UTF-8 JSON, not an object of
 *   strings (or numbers), or with more than 64 + 16 entries
 * @example
 * ```ts
 * parseS3ecInstruction(new TextEncoder().encode('{"x-amz-key-v2":"…"}'));
 * ```
 */
export function parseS3ecInstruction(body: Uint8Array): ObjectMetadata {
  if (body.length > S3EC_MAX_INSTRUCTION_LENGTH) throw bad(`is ${body.length} bytes, over ${S3EC_MAX_INSTRUCTION_LENGTH}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(fromUtf8(body));
  } catch {
    throw bad('is not UTF-8 JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad('is not a JSON object');
  const entries = Object.entries(parsed as Record<string, unknown>);
  if (entries.length > S3EC_MAX_MATDESC_ENTRIES + 16) throw bad(`has ${entries.length} entries`);
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (typeof v === 'string') out[k] = v;
    else if (k === 'x-amz-tag-len' && typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) out[k] = String(v);
    else throw bad(`entry "${escapeControl(k, 64)}" is not a string`);
  }
  return out;
}

/**
 * Merges an object's metadata with its instruction file, enforcing where each field may live.
 * @param objectMetadata - the object's own metadata
 * @param file - the parsed instruction file
 * @returns the merged map of S3EC fields
 * @throws EnsealError `ERR_HEADER` when the file holds `x-amz-c`/`x-amz-d`/`x-amz-i`, when a V1/V2
 *   file sits next to S3EC names in the object metadata, or when a V3 file's object lacks them
 * @example
 * ```ts
 * const fields = mergeS3ecInstruction(info.metadata, parseS3ecInstruction(fileBytes));
 * ```
 */
export function mergeS3ecInstruction(objectMetadata: ObjectMetadata, file: ObjectMetadata): ObjectMetadata {
  for (const n of S3EC_V3_METADATA_ONLY) if (Object.hasOwn(file, n)) throw bad(`holds "${n}", which must stay in the object metadata`);
  const own = detectS3ecFormat(objectMetadata);
  const merged: Record<string, string> = {};
  for (const n of S3EC_NAMES) if (Object.hasOwn(file, n)) merged[n] = file[n]!;
  if (own === 's3ec-v3-instruction') {
    for (const n of S3EC_V3_METADATA_ONLY) if (Object.hasOwn(objectMetadata, n)) merged[n] = objectMetadata[n]!;
    return merged;
  }
  if (own !== 'none') throw bad(`is next to object metadata that already holds S3EC fields (${own})`);
  if (Object.hasOwn(file, 'x-amz-3')) throw bad('holds V3 fields but the object metadata lacks x-amz-c, x-amz-d and x-amz-i');
  return merged;
}

/**
 * Reads `<key>.instruction` from a store.
 * @param store - the object store
 * @param key - the object's key (not the instruction file's)
 * @param signal - aborts the request
 * @param sse - SSE-C key, when the store encrypted the file with one
 * @returns the parsed file, or `undefined` when there is none
 * @throws EnsealError `ERR_HEADER` for a malformed or oversized file; store errors other than `ERR_NOT_FOUND`
 * @example
 * ```ts
 * const file = await readS3ecInstruction(store, 'photo.jpg'); // reads photo.jpg.instruction
 * ```
 */
export async function readS3ecInstruction(store: ObjectStore, key: string, signal?: AbortSignal, sse?: ServerSideEncryption): Promise<ObjectMetadata | undefined> {
  let got;
  try {
    got = await store.get(key + S3EC_INSTRUCTION_SUFFIX, { ...(signal === undefined ? {} : { signal }), ...(sse === undefined ? {} : { sse }) });
  } catch (e) {
    if (e instanceof EnsealError && e.code === 'ERR_NOT_FOUND') return undefined;
    throw e;
  }
  if (got.size > S3EC_MAX_INSTRUCTION_LENGTH) {
    await got.body.cancel().catch(() => undefined);
    throw bad(`is ${got.size} bytes, over ${S3EC_MAX_INSTRUCTION_LENGTH}`);
  }
  const buf = new Uint8Array(got.size);
  let off = 0;
  const reader = got.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (off + value.length > buf.length) throw new EnsealError('ERR_STORE', 'the store sent more instruction-file bytes than it announced');
      buf.set(value, off);
      off += value.length;
    }
  } finally {
    reader.releaseLock();
  }
  if (off !== buf.length) throw new EnsealError('ERR_TRUNCATED', `the instruction file ended after ${off} of ${buf.length} bytes`);
  return parseS3ecInstruction(buf);
}

/**
 * Splits a full S3EC metadata map into what stays on the object and the instruction file's body.
 * @param full - every S3EC field (from `encodeS3ecMetadata`)
 * @returns `{ objectMetadata, body }` (V2: nothing stays; V3: `x-amz-c`, `x-amz-d`, `x-amz-i` stay)
 * @example
 * ```ts
 * const { objectMetadata, body } = splitS3ecInstruction(encodeS3ecMetadata(fields));
 * ```
 */
export function splitS3ecInstruction(full: ObjectMetadata): { objectMetadata: ObjectMetadata; body: Uint8Array } {
  const objectMetadata: Record<string, string> = {};
  const file: Record<string, string> = {};
  const v3 = Object.hasOwn(full, 'x-amz-c');
  for (const [k, v] of Object.entries(full)) {
    if (v3 && S3EC_V3_METADATA_ONLY.includes(k)) objectMetadata[k] = v;
    else file[k] = v;
  }
  return { objectMetadata, body: new TextEncoder().encode(JSON.stringify(file)) };
}
