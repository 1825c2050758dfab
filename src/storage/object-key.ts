/**
 * Object-key validation shared by the adapters (contract in `./store.ts`): a key is a
 * well-formed string of 1..1024 UTF-8 bytes without NUL. Adapters add their own rules on top
 * (`fsStore` refuses path escapes).
 *
 * @module
 */
import { isWellFormed, utf8 } from '../bytes.js';

/** Longest object key in UTF-8 bytes (S3 and OSS: 1024). */
export const MAX_KEY_BYTES = 1024;

/**
 * Checks an object key (before any request).
 *
 * @param key - the key to check
 * @param what - argument name for messages (default `"key"`)
 * @returns the key
 * @throws TypeError when `key` is not a string, contains NUL or a lone surrogate
 * @throws RangeError when it is empty or longer than 1024 UTF-8 bytes
 * @example
 * ```ts
 * checkKey('photos/cat.jpg'); // "photos/cat.jpg"
 * checkKey(''); // throws RangeError
 * ```
 */
export function checkKey(key: unknown, what = '"key"'): string {
  if (typeof key !== 'string') throw new TypeError(`${what} expected string, got ${typeof key}`);
  if (!isWellFormed(key)) throw new TypeError(`${what} expected a well-formed string (lone UTF-16 surrogate)`);
  if (key.includes('\0')) throw new TypeError(`${what} must not contain NUL`);
  const n = utf8(key).length;
  if (n < 1 || n > MAX_KEY_BYTES) throw new RangeError(`${what} expected 1..${MAX_KEY_BYTES} UTF-8 bytes, got ${n}`);
  return key;
}
