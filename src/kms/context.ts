/**
 * Canonical bytes of a KMS encryption context, for KMSs that take the context as bytes rather
 * than as a map: LocalKms authenticates it as AES-GCM associated data, the Vault client sends it
 * (base64) as Vault Transit's `context` or `associated_data`.
 *
 * ```
 * context encoding = u32 count
 *                    count × ( u32 len, key UTF-8; u32 len, value UTF-8 )
 *                    entries in strictly ascending order of their key bytes
 * ```
 * All integers are big-endian. Two maps with the same entries always encode to the same bytes,
 * and the length prefixes make the encoding injective (no two maps share an encoding).
 *
 * @module
 */
import { concat, utf8Strict, type Bytes } from '../bytes.js';
import type { EncryptionContext } from '../format/header.js';

function u32(n: number): Bytes {
  return Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return a.length - b.length;
}

/**
 * Encodes an encryption context canonically (see the module comment).
 *
 * @param context - string keys to string values
 * @returns the canonical bytes
 * @throws TypeError when the context is not a map of well-formed strings
 * @example
 * ```ts
 * encodeKmsContext({ b: '2', a: '1' }); // same bytes as encodeKmsContext({ a: '1', b: '2' })
 * ```
 */
export function encodeKmsContext(context: EncryptionContext): Bytes {
  if (typeof context !== 'object' || context === null || Array.isArray(context)) {
    throw new TypeError('"context" expected a string map');
  }
  const entries = Object.entries(context).map(([k, v]): [Bytes, Bytes] => {
    if (typeof v !== 'string') throw new TypeError(`"context" value of "${k}" expected string, got ${typeof v}`);
    return [utf8Strict(k, '"context" key'), utf8Strict(v, '"context" value')];
  });
  entries.sort((a, b) => compareBytes(a[0], b[0]));
  const parts: Uint8Array[] = [u32(entries.length)];
  for (const [k, v] of entries) parts.push(u32(k.length), k, u32(v.length), v);
  return concat(...parts);
}
