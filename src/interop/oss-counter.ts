/**
 * The AES-CTR counter arithmetic of OSS client-side encryption (docs/INTEROP.md §OSS.2): the
 * 16-byte IV is the initial counter block, read as one 128-bit big-endian integer, and the block
 * of byte offset `o` (a multiple of 16) is encrypted under `IV + o/16 mod 2^128`. Multipart part
 * n (1-based) starts at byte `(n − 1)·partSize`, so its counter is `IV + (n − 1)·partSize/16`:
 * the parts continue one CTR stream, they do not restart it (Python `upload_part`, Go
 * `SeekIV((partNumber-1)*PartSize)`, Java `uploadPartSecurely` `skipBlock`).
 *
 * The SDKs agree with this full 128-bit addition only while bytes 8..11 of the IV are zero
 * (Java adds to bytes 12..15 only, Go to bytes 8..15 without carry into byte 7); writers keep
 * them zero ({@link newOssIv}) and readers use the full 128-bit addition.
 *
 * @module
 */
import type { Bytes } from '../bytes.js';
import type { CryptoBackend } from '../backends/backend.js';

const MOD = 1n << 128n;

/**
 * The counter block `counter + blocks mod 2^128`.
 * @param counter - a 16-byte big-endian counter block (not modified)
 * @param blocks - number of 16-byte blocks to advance (≥ 0)
 * @returns a fresh 16-byte block
 * @throws RangeError for a counter that is not 16 bytes or a negative / non-integer advance
 * @example
 * ```ts
 * addBlocks(new Uint8Array(16).fill(0xff), 1n); // 16 zero bytes (wraps at 2^128)
 * ```
 */
export function addBlocks(counter: Uint8Array, blocks: bigint | number): Bytes {
  if (!(counter instanceof Uint8Array) || counter.length !== 16) throw new RangeError('"counter" expected 16 bytes');
  const n = typeof blocks === 'bigint' ? blocks : Number.isSafeInteger(blocks) ? BigInt(blocks) : -1n;
  if (n < 0n) throw new RangeError(`"blocks" expected a non-negative integer, got ${String(blocks)}`);
  let v = 0n;
  for (const b of counter) v = (v << 8n) | BigInt(b);
  v = (v + n) % MOD;
  const out = new Uint8Array(16);
  for (let i = 15; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/**
 * The counter block of a decimal initial counter (legacy Python objects store `str(counter)`).
 * @param digits - ASCII decimal digits, canonical (no sign, no leading zero), below 2^128
 * @returns the 16-byte big-endian counter block, or `undefined` when `digits` is not one
 * @example
 * ```ts
 * counterFromDecimal(new TextEncoder().encode('8')); // 00…08
 * ```
 */
export function counterFromDecimal(digits: Uint8Array): Bytes | undefined {
  if (digits.length === 0 || digits.length > 39) return undefined;
  let v = 0n;
  for (let i = 0; i < digits.length; i++) {
    const d = (digits[i] as number) - 0x30;
    if (d < 0 || d > 9 || (i === 0 && d === 0 && digits.length > 1)) return undefined;
    v = v * 10n + BigInt(d);
  }
  if (v >= MOD) return undefined;
  return addBlocks(new Uint8Array(16), v);
}

/**
 * A fresh OSS IV: 8 random bytes, 4 zero bytes (8..11), 4 random bytes, as the Java, Go and
 * Python writers make it (Java and Go readers need bytes 8..11 zero for ranges and parts).
 * @param backend - the CSPRNG
 * @returns 16 bytes (the caller wipes them)
 * @example
 * ```ts
 * const iv = newOssIv(backend); // iv[8..11] === 0
 * ```
 */
export function newOssIv(backend: CryptoBackend): Bytes {
  const iv = backend.randomBytes(16);
  iv.fill(0, 8, 12);
  return iv;
}
