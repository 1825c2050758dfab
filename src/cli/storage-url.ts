/**
 * Object locations of the storage commands (`put`, `get`, `head`, `ls`, `rm`, and `rewrap` of a
 * stored object):
 *
 * ```
 * s3://BUCKET/KEY      an S3 (or S3-compatible) bucket; KEY is everything after the first "/"
 * oss://BUCKET/KEY     an Alibaba Cloud OSS bucket
 * file:PATH            a local folder store (fsStore)
 * ./PATH ../PATH /PATH a local folder store, without the "file:" prefix
 * ```
 *
 * A local PATH names a folder and a key in it: `DIR//KEY` splits at the first `//` (KEY may hold
 * "/": `./backups//2026/db.tar`); without `//`, KEY is the last path component and DIR the rest
 * (`./backups/db.tar`: folder `./backups`, key `db.tar`). For `ls`, PATH is the folder itself
 * (`ls ./backups`) or `DIR//PREFIX`.
 *
 * How a location is told apart from a plain file: `put` and `get` take one file (or "-") and one
 * location, by position, and the location must be written in one of the forms above — a bare
 * relative path (`backups/db.tar`) is refused, so a typo never turns a file name into a store.
 * `rewrap` with a single argument treats it as a stored object only when it starts with `s3://`,
 * `oss://` or `file:`; with two arguments (IN OUT) it rewrites a file, as before.
 *
 * Pure: nothing here touches the file system or the network.
 *
 * @module
 */
import { usageError } from './cli-error.js';
import { quoted } from './terminal-text.js';

/** Where a location lives. */
export type StorageScheme = 's3' | 'oss' | 'file';

/** A parsed object location (or, for `ls`, a folder/bucket and a key prefix). */
export interface StorageLocation {
  readonly scheme: StorageScheme;
  /** The bucket (s3, oss) or the folder (file). */
  readonly bucket: string;
  /** The object key; for `ls`, the key prefix (may be empty). */
  readonly key: string;
  /** The location as the user wrote it (for messages; escape before printing). */
  readonly text: string;
}

/** What the location is for: one object, or a listing prefix. */
export type LocationRole = 'object' | 'prefix';

const URL_FORM = /^(s3|oss):\/\/([^/]*)(?:\/(.*))?$/s;

/**
 * Whether `text` starts with an explicit storage scheme (`s3://`, `oss://`, `file:`).
 * @param text - a command-line argument
 * @returns true for the scheme forms (not for `./PATH`)
 * @example
 * ```ts
 * hasStorageScheme('s3://b/k'); // true
 * hasStorageScheme('./dir/k');  // false
 * ```
 */
export function hasStorageScheme(text: string): boolean {
  return text.startsWith('s3://') || text.startsWith('oss://') || text.startsWith('file:');
}

/** A local path written explicitly: absolute, or starting with `./` or `../` (or `.`/`..`). */
function isExplicitLocalPath(path: string): boolean {
  return path.startsWith('/') || path.startsWith('./') || path.startsWith('../') || path === '.' || path === '..';
}

function splitLocal(text: string, path: string, role: LocationRole): StorageLocation {
  if (path === '' || path.includes('\0')) throw usageError(`${quoted(text)} names no folder`);
  if (path.startsWith('//')) throw usageError(`${quoted(text)}: write a local folder as file:/PATH or /PATH (not //PATH)`);
  const cut = path.indexOf('//');
  if (cut !== -1) {
    const key = path.slice(cut + 2);
    if (role === 'object' && key === '') throw usageError(`${quoted(text)} names a folder but no object key after "//"`);
    return { scheme: 'file', bucket: path.slice(0, cut) === '' ? '/' : path.slice(0, cut), key, text };
  }
  if (role === 'prefix') return { scheme: 'file', bucket: path, key: '', text };
  const slash = path.lastIndexOf('/');
  const key = path.slice(slash + 1);
  if (key === '' || key === '.' || key === '..') throw usageError(`${quoted(text)} names no object key (write DIR/KEY or DIR//KEY)`);
  const dir = slash === -1 ? '.' : slash === 0 ? '/' : path.slice(0, slash);
  return { scheme: 'file', bucket: dir, key, text };
}

/**
 * Parses an object location.
 * @param text - the argument
 * @param role - `object` (a key is required) or `prefix` (`ls`: the key part is a prefix)
 * @returns the location
 * @throws CliError `ERR_USAGE` for a bare relative path, an empty bucket or (for `object`) an
 *   empty key; the message echoes the argument, escaped
 * @example
 * ```ts
 * parseLocation('s3://photos/2026/cat.jpg', 'object'); // { scheme: 's3', bucket: 'photos', key: '2026/cat.jpg', … }
 * parseLocation('./backups//db/x.tar', 'object');      // { scheme: 'file', bucket: './backups', key: 'db/x.tar', … }
 * parseLocation('oss://logs', 'prefix');               // { scheme: 'oss', bucket: 'logs', key: '', … }
 * ```
 */
export function parseLocation(text: string, role: LocationRole): StorageLocation {
  const m = URL_FORM.exec(text);
  if (m !== null) {
    const [, scheme, bucket, key = ''] = m as unknown as [string, 's3' | 'oss', string, string | undefined];
    if (bucket === '') throw usageError(`${quoted(text)} names no bucket (${scheme}://BUCKET/KEY)`);
    if (role === 'object' && key === '') throw usageError(`${quoted(text)} names no object key (${scheme}://BUCKET/KEY)`);
    return { scheme, bucket, key, text };
  }
  if (text.startsWith('file:')) return splitLocal(text, text.slice('file:'.length), role);
  if (isExplicitLocalPath(text)) return splitLocal(text, text, role);
  throw usageError(
    `${quoted(text)} is not an object location: write s3://BUCKET/KEY, oss://BUCKET/KEY, or a local folder as ./DIR/KEY, /DIR/KEY or file:DIR/KEY`,
  );
}

/**
 * The location of a key in the same bucket or folder, for messages.
 * @param loc - a location
 * @param key - a key in it
 * @returns e.g. `s3://b/key` or `./dir//key`
 */
export function locationOf(loc: StorageLocation, key: string): string {
  if (loc.scheme === 'file') return `${loc.bucket.replace(/\/$/, '')}//${key}`;
  return `${loc.scheme}://${loc.bucket}/${key}`;
}
