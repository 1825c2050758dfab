/**
 * Which user-metadata names belong to an encryption format (docs/INTEROP.md §"Through the
 * encrypting bucket"), and the check every writer makes before storing the caller's metadata: a
 * name of another format family next to the fields a writer adds would make the stored object
 * read as mixed metadata (`ERR_HEADER`), i.e. unreadable.
 *
 * ```
 * OSS, current     client-side-encryption-*
 * OSS, legacy      oss-crypto-key, oss-crypto-start, oss-cek-alg, oss-wrap-alg,
 *                  unencrypted-content-length, unencrypted-content-md5
 * S3EC             x-amz-key, x-amz-key-v2, x-amz-iv, x-amz-c, … (S3EC_NAMES), x-amz-crypto-instr-file
 * enseal           enseal-*  (the bucket's own marker prefix)
 * ```
 *
 * Here (below storage/) so that the standalone writers (`putOssObject`, `putS3ecObject`) and the
 * encrypting bucket refuse the same names with the same error type (`TypeError`).
 *
 * @module
 */
import { escapeControl } from '../bytes.js';
import type { ObjectMetadata } from '../storage/store.js';
import { OSS_PREFIX } from './oss-metadata.js';
import { S3EC_INSTRUCTION_MARKER } from './s3ec-instruction.js';
import { S3EC_NAMES } from './s3ec-metadata.js';

/** The names of the legacy OSS format (oss2 2.5–2.10), its generic length/md5 names included. */
export const OSS_LEGACY_NAMES: readonly string[] = ['oss-crypto-key', 'oss-crypto-start', 'oss-cek-alg', 'oss-wrap-alg', 'unencrypted-content-length', 'unencrypted-content-md5'];

/** enseal's marker prefix (src/storage/bucket-marker.ts `RESERVED_PREFIX`). */
const ENSEAL_PREFIX = 'enseal-';

/**
 * Refuses user metadata that would make an object look like another format (it would be read
 * as mixed metadata).
 * @param user - the caller's metadata
 * @throws TypeError naming the entry
 * @example
 * ```ts
 * checkNoForeignNames({ owner: 'a' }); // ok
 * checkNoForeignNames({ 'x-amz-key': 'a' }); // TypeError
 * ```
 */
export function checkNoForeignNames(user: ObjectMetadata): void {
  for (const k of Object.keys(user)) {
    if (k.startsWith(OSS_PREFIX) || OSS_LEGACY_NAMES.includes(k) || S3EC_NAMES.includes(k) || k === S3EC_INSTRUCTION_MARKER) {
      throw new TypeError(`metadata name "${escapeControl(k, 64)}" is an OSS or S3EC encryption field`);
    }
  }
}

/**
 * Checks the `metadata` option of a foreign-format writer: a plain object of strings with no
 * name of any format family (OSS, S3EC, enseal's `enseal-` prefix).
 * @param md - the option (`undefined` is no metadata)
 * @returns a copy (read once)
 * @throws TypeError naming the offending entry
 * @example
 * ```ts
 * checkWriterMetadata({ owner: 'ana' }); // { owner: 'ana' }
 * checkWriterMetadata({ 'x-amz-iv': '…' }); // TypeError
 * ```
 */
export function checkWriterMetadata(md: unknown): ObjectMetadata {
  if (md === undefined) return {};
  if (typeof md !== 'object' || md === null || Array.isArray(md)) throw new TypeError('"metadata" expected a plain object of strings');
  const copy: Record<string, string> = {};
  for (const [k, v] of Object.entries(md as Record<string, unknown>)) {
    if (typeof v !== 'string') throw new TypeError(`metadata "${escapeControl(k, 64)}" expected a string value`);
    if (k.startsWith(ENSEAL_PREFIX)) throw new TypeError(`metadata name "${escapeControl(k, 64)}" uses the reserved "${ENSEAL_PREFIX}" prefix`);
    copy[k] = v;
  }
  checkNoForeignNames(copy);
  return copy;
}
