/**
 * Byte helpers shared by every module. Outputs are `Uint8Array<ArrayBuffer>` ({@link Bytes}) so
 * they can be handed to WebCrypto (TypeScript ≥ 5.9 types its inputs that way); inputs accept any
 * `Uint8Array`, including subarrays of Node `Buffer`s.
 *
 * @module
 */
import { EnsealError } from './errors.js';

/** A byte array backed by a plain (non-shared) `ArrayBuffer`: what enseal returns. */
export type Bytes = Uint8Array<ArrayBuffer>;

/** Returns a view of `u8` usable as a WebCrypto `BufferSource`, copying only if it is shared. */
export function asBufferSource(u8: Uint8Array): Bytes {
  return u8.buffer instanceof ArrayBuffer ? (u8 as Bytes) : copyBytes(u8);
}

/**
 * A copy of `b` in a plain `Uint8Array` over a new `ArrayBuffer`. Not `b.slice()`: on a Node
 * `Buffer`, `slice()` is a view of the same memory (like `subarray`), so a private copy of a
 * caller's key made that way would change with the caller's buffer, and wiping it would wipe the
 * caller's.
 * @param b - the bytes to copy
 * @returns the copy
 * @example
 * ```ts
 * const mine = copyBytes(callerKey);
 * ```
 */
export function copyBytes(b: Uint8Array): Bytes {
  return new Uint8Array(b) as Bytes;
}

/**
 * Concatenates byte arrays into a new {@link Bytes}.
 * @param parts - the byte arrays, in order
 * @returns their concatenation, a new buffer
 * @example
 * ```ts
 * const framed = concat(header, body);
 * ```
 */
export function concat(...parts: readonly Uint8Array[]): Bytes {
  return concatList(parts);
}

/**
 * {@link concat} of a list (no spread: any number of parts, e.g. every chunk of a stream).
 * @param parts - the byte arrays, in order
 * @returns their concatenation, a new buffer
 * @example
 * ```ts
 * const whole = concatList(pieces);
 * ```
 */
export function concatList(parts: readonly Uint8Array[]): Bytes {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * Compares two byte arrays in time that depends only on their lengths (not on where they differ).
 * Lengths are not secret in any use here.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/** Overwrites a buffer we own with zeros. */
export function wipe(...bufs: (Uint8Array | undefined)[]): void {
  for (const b of bufs) b?.fill(0);
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8 encodes a string. */
export function utf8(s: string): Bytes {
  return encoder.encode(s) as Bytes;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True unless `s` has a lone UTF-16 surrogate (which has no UTF-8 encoding). */
export function isWellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

/**
 * UTF-8 encodes a string that must be well-formed: `TextEncoder` would silently turn a lone
 * surrogate into U+FFFD, so what is stored would differ from what the caller gave.
 * @throws TypeError naming `what` when `s` contains a lone surrogate
 */
export function utf8Strict(s: string, what: string): Bytes {
  if (!isWellFormed(s)) throw new TypeError(`${what} expected a well-formed string (lone UTF-16 surrogate)`);
  return utf8(s);
}

/** Decodes UTF-8, throwing `TypeError` on malformed input. */
export function fromUtf8(b: Uint8Array): string {
  return strictDecoder.decode(b);
}

const HEX = '0123456789abcdef';

/**
 * Lowercase hex of `b`.
 * @param b - bytes
 * @returns 2 × `b.length` hex digits
 * @example
 * ```ts
 * toHex(Uint8Array.of(0xab, 1)); // "ab01"
 * ```
 */
export function toHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += HEX[x >>> 4]! + HEX[x & 15]!;
  return s;
}

/**
 * Standard padded base64 (RFC 4648 §4).
 * @param b - bytes
 * @returns base64 text
 * @example
 * ```ts
 * toBase64(new TextEncoder().encode('hi')); // "aGk="
 * ```
 */
export function toBase64(b: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < b.length; i += 0x8000) bin += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(bin);
}

/**
 * Unpadded base64url (RFC 4648 §5).
 * @param b - bytes
 * @returns base64url text without `=`
 * @example
 * ```ts
 * toBase64Url(Uint8Array.of(0xfb, 0xff)); // "-_8"
 * ```
 */
export function toBase64Url(b: Uint8Array): string {
  return toBase64(b).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Decodes standard base64; throws `TypeError` on malformed input. */
export function fromBase64(s: string): Bytes {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) {
    throw new TypeError('"base64" expected standard padded base64');
  }
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * Whether `v` is a view of an `ArrayBuffer` that was detached: its memory was transferred away
 * (`postMessage`, `structuredClone` with `transfer`, `ArrayBuffer.prototype.transfer`). Such a
 * view reads as empty, so without this check its bytes would silently count as "no data": an
 * encryption of nothing presented as the caller's message. A `SharedArrayBuffer` never detaches.
 * @param v - any byte view
 * @returns true only for a view of a detached buffer
 * @example
 * ```ts
 * const v = new Uint8Array(8);
 * structuredClone(v.buffer, { transfer: [v.buffer] });
 * isDetached(v); // true
 * ```
 */
export function isDetached(v: Uint8Array): boolean {
  if (v.byteLength !== 0) return false;
  const b = v.buffer as ArrayBuffer & { detached?: boolean };
  if (b.byteLength !== 0) return false;
  if (typeof b.detached === 'boolean') return b.detached; // ES2024 (Bun, Deno, browsers)
  try {
    new Uint8Array(b); // throws TypeError on a detached buffer (Node 20 has no `detached`)
    return false;
  } catch {
    return true;
  }
}

/**
 * The error for a view of a detached buffer handed to enseal ({@link isDetached}).
 * @param subject - what it was, as the message names it (`"plaintext"`, `stream chunk`)
 * @returns a `TypeError`
 * @example
 * ```ts
 * if (isDetached(chunk)) throw detachedView('stream chunk');
 * ```
 */
export function detachedView(subject: string): TypeError {
  return new TypeError(`${subject} is a view of a detached ArrayBuffer (its memory was transferred away): it holds no bytes`);
}

/**
 * The error for an input whose buffer was detached while an operation was running (checked once
 * the operation settled: detaching cannot be undone, so a buffer attached at the end was attached
 * throughout; one detached at the end may have been read short).
 * @param name - the argument's name
 * @returns an `ERR_STATE` error (the output, complete or not, is never returned)
 * @example
 * ```ts
 * if (plaintext.byteLength !== n) throw detachedDuring('plaintext');
 * ```
 */
export function detachedDuring(name: string): EnsealError {
  return new EnsealError('ERR_STATE', `"${name}" was detached (its buffer transferred away) while the operation was running (it may have been read short): nothing is returned`);
}

/**
 * Runs an asynchronous operation over `input` and refuses its result when `input` was detached
 * before it settled ({@link detachedDuring}; a result that is a byte array is wiped first).
 * @param input - the caller's bytes the operation reads across awaits
 * @param name - the argument's name, for the error
 * @param run - the operation
 * @returns its result
 * @throws EnsealError `ERR_STATE` when `input` was detached meanwhile; else whatever `run` throws
 * @example
 * ```ts
 * return whileAttached(plaintext, 'plaintext', () => sealMessage(backend, suite, key, plaintext, ctx, salt));
 * ```
 */
export async function whileAttached<T>(input: Uint8Array, name: string, run: () => Promise<T>): Promise<T> {
  const n = input.byteLength; // read once
  let out: T;
  try {
    out = await run();
  } catch (e) {
    if (input.byteLength !== n) throw detachedDuring(name);
    throw e;
  }
  if (input.byteLength !== n) {
    if (out instanceof Uint8Array) out.fill(0);
    throw detachedDuring(name);
  }
  return out;
}

/**
 * Throws `TypeError(message)` unless `v` is a `Uint8Array` that is not a view of a detached buffer
 * ({@link isDetached}: it would read as empty). For chunks of caller streams, provider results and
 * bodies, where the message names what was expected.
 * @param v - the value
 * @param message - the error message for a value that is not a `Uint8Array`
 * @throws TypeError
 * @example
 * ```ts
 * assertChunk(value, '"body" stream expected Uint8Array chunks');
 * ```
 */
export function assertChunk(v: unknown, message: string): asserts v is Uint8Array {
  if (!(v instanceof Uint8Array)) throw new TypeError(message);
  if (isDetached(v)) throw new TypeError(`${message}, got a view of a detached ArrayBuffer (its memory was transferred away)`);
}

/** Throws `TypeError` unless `v` is a `Uint8Array` (and not a view of a detached buffer, {@link isDetached}). */
export function assertBytes(v: unknown, name: string, length?: number): asserts v is Uint8Array {
  if (!(v instanceof Uint8Array)) throw new TypeError(`"${name}" expected Uint8Array, got ${describe(v)}`);
  if (isDetached(v)) throw detachedView(`"${name}"`);
  if (length !== undefined && v.length !== length) {
    throw new RangeError(`"${name}" expected ${length} bytes, got ${v.length}`);
  }
}

/** Short description of a value's type for argument errors. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

/**
 * Makes text from untrusted bytes (a key id, a label, a context value from a header) safe to
 * print on a terminal or in a log line: C0 and C1 control characters, DEL, and the Unicode
 * line/paragraph separators and bidirectional overrides become `\xNN` / `\uNNNN`, a backslash
 * becomes `\\`, and the result is cut to `max` characters (with `…`). Printable text, including
 * non-ASCII letters, is kept as it is.
 *
 * @param s - any string (a non-string is described by its type)
 * @param max - longest output kept before the ellipsis (default 200)
 * @returns a single-line string without control characters
 * @example
 * ```ts
 * escapeControl('key\x1b[2K\rOK'); // "key\\x1b[2K\\rOK"
 * ```
 */
export function escapeControl(s: unknown, max = 200): string {
  if (typeof s !== 'string') return `<${describe(s)}>`;
  const out = s.replace(/[\\\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g, (c) => {
    if (c === '\\') return '\\\\';
    const code = c.charCodeAt(0);
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
  return out.length > max ? `${out.slice(0, max)}…` : out;
}
