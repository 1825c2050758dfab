/**
 * Which format a stored object is in, as the encrypting bucket decides it (docs/INTEROP.md
 * §"Through the encrypting bucket"). The decision uses the metadata names only (nothing here is
 * authenticated: the reader of the chosen format then enforces its own rules, and every
 * unauthenticated format still needs `allowUnauthenticated: true`):
 *
 * ```
 * enseal-* marker                                   'enseal'
 * client-side-encryption-*                          'oss'          (Alibaba OSS, current)
 * oss-crypto-key / -start, oss-cek-alg, oss-wrap-alg 'oss-legacy'  (oss2 2.5–2.10)
 * x-amz-key                                         's3ec-v1'
 * x-amz-key-v2                                      's3ec-v2'
 * x-amz-c/3/w/d/i/m/t                               's3ec-v3'      (x-amz-c/d/i only: the rest in <key>.instruction)
 * none of these                                     'none'         (an enseal body without its marker,
 *                                                                   an S3EC object with an instruction file, or plaintext)
 * names of two of these families                    ERR_HEADER (mixed metadata)
 * ```
 *
 * This module imports the interop codecs (src/interop/ sits beside format/, below storage/); the
 * interop modules never import the bucket.
 *
 * @module
 */
import { escapeControl } from '../bytes.js';
import { EnsealError } from '../errors.js';
import { OSS_LEGACY_NAMES } from '../interop/foreign-names.js';
import { OSS_PREFIX, detectFormat } from '../interop/oss-metadata.js';
import { S3EC_INSTRUCTION_MARKER } from '../interop/s3ec-instruction.js';
import { S3EC_NAMES, detectS3ecFormat } from '../interop/s3ec-metadata.js';
import { RESERVED_PREFIX } from './bucket-marker.js';
import type { ObjectMetadata } from './store.js';

export { checkNoForeignNames } from '../interop/foreign-names.js';

/** A format the bucket reads. */
export type StoredFormat = 'enseal' | 'oss' | 'oss-legacy' | 's3ec-v1' | 's3ec-v2' | 's3ec-v3';

/** A format the bucket writes (`putObject(…, { format })`). */
export type WriteFormat = 'enseal' | 'oss' | 's3ec';

/** What the metadata names say, before any instruction file is looked for. */
export type MetadataFormat = StoredFormat | 's3ec-v3-instruction' | 'none';

/**
 * Tells the format of a stored object from its metadata names.
 *
 * @param metadata - the object's user metadata (one snapshot)
 * @returns the format the names describe
 * @throws EnsealError `ERR_HEADER` for mixed metadata (two OSS layouts, OSS or S3EC names next to
 *   an enseal marker, OSS next to S3EC names, S3EC names of two versions)
 * @example
 * ```ts
 * metadataFormat({ 'x-amz-key-v2': '…', 'x-amz-iv': '…' }); // 's3ec-v2'
 * ```
 */
export function metadataFormat(metadata: ObjectMetadata): MetadataFormat {
  const md = { ...metadata };
  const oss = detectFormat(md); // throws on OSS + enseal and on current + legacy OSS
  const s3ec = detectS3ecFormat(md); // throws on two S3EC versions
  if (s3ec !== 'none' && oss !== 'none') {
    const other = oss === 'enseal' ? Object.keys(md).find((n) => n.startsWith(RESERVED_PREFIX)) : Object.keys(md).find((n) => n.startsWith(OSS_PREFIX) || n.startsWith('oss-'));
    throw new EnsealError('ERR_HEADER', `mixed metadata: S3EC names (${s3ec}) next to "${escapeControl(other ?? oss, 80)}" (${oss})`);
  }
  if (oss !== 'none') return oss;
  return s3ec;
}

/**
 * True for the formats read by `src/interop/` (everything but enseal and plain objects).
 * @param f - a detected format
 * @returns whether the interop readers handle it
 * @example
 * ```ts
 * isForeign('oss'); // true
 * isForeign('none'); // false
 * ```
 */
export function isForeign(f: MetadataFormat): f is Exclude<MetadataFormat, 'enseal' | 'none'> {
  return f !== 'enseal' && f !== 'none';
}

/**
 * The user's part of a foreign object's metadata: the format's own names removed.
 * @param metadata - stored metadata
 * @param format - the object's format
 * @returns the other entries
 * @example
 * ```ts
 * foreignUserMetadata({ owner: 'a', 'x-amz-iv': '…' }, 's3ec-v2'); // { owner: 'a' }
 * ```
 */
export function foreignUserMetadata(metadata: ObjectMetadata, format: StoredFormat): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (format === 'oss' && k.startsWith(OSS_PREFIX)) continue;
    if (format === 'oss-legacy' && OSS_LEGACY_NAMES.includes(k)) continue;
    if (format.startsWith('s3ec') && (S3EC_NAMES.includes(k) || k === S3EC_INSTRUCTION_MARKER)) continue;
    if (k.startsWith(RESERVED_PREFIX)) continue;
    out[k] = v;
  }
  return out;
}
