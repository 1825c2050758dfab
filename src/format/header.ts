/**
 * The enseal v1 envelope header: canonical, bounded binary encoding (docs/FORMAT.md §2).
 *
 * ```
 * magic          6   "enseal"
 * version        1   0x01
 * suite          1   0x01 = Cobblestone-256 (HKDF-SHA-512, AES-256-GCM, 16 KiB chunks)
 * header_length  4   u32: bytes from magic through mac, 55 ≤ n ≤ 65536
 * context        u16 count, then count × (u16 len, key UTF-8, u16 len, value UTF-8),
 *                keys strictly ascending by bytes
 * recipients     u8 count (1..64), then count × stanza
 *   stanza       u8 len, type ASCII; u16 len, key id UTF-8;
 *                u8 count, count × (u8 len, name ASCII, u16 len, value UTF-8), names strictly ascending;
 *                u16 len, wrapped data key
 * mac            32  HMAC-SHA-256(HKDF-Expand-SHA-512(data key, "enseal/v1 header-mac", 32),
 *                    header bytes before the mac)
 * ```
 * All integers are big-endian. The *bound part* — magic, version, suite and the context section
 * (everything except header_length, recipients and mac) — is the C2SP `context` of the payload,
 * so it is bound into the payload's key commitment; the recipients can be rewritten (rewrap)
 * without touching the payload, and are authenticated by the mac.
 *
 * @module
 */
import { assertChunk, fromUtf8, utf8, utf8Strict, type Bytes, copyBytes } from '../bytes.js';
import { EnsealError } from '../errors.js';
import {
  HEADER_MAC_LENGTH,
  HEADER_PREFIX_LENGTH,
  MAX_CONTEXT_ENTRIES,
  MAX_CONTEXT_KEY_LENGTH,
  MAX_CONTEXT_VALUE_LENGTH,
  MAX_HEADER_LENGTH,
  MAX_KEY_ID_LENGTH,
  MAX_PARAMS,
  MAX_PARAM_NAME_LENGTH,
  MAX_PARAM_VALUE_LENGTH,
  MAX_RECIPIENTS,
  MAX_TYPE_LENGTH,
  MAX_WRAPPED_LENGTH,
} from './limits.js';

/** "enseal" in ASCII (FORMAT.md §2.1). */
export const MAGIC: Bytes = utf8('enseal');
/** The only header version this build reads and writes. */
export const VERSION = 1;
/** Suite id of Cobblestone-256. */
export const SUITE_COBBLESTONE_256 = 1;
/** Smallest possible header: prefix, empty context, one minimal stanza, mac. */
export const MIN_HEADER_LENGTH = HEADER_PREFIX_LENGTH + 2 + 1 + (1 + 1 + 2 + 1 + 2 + 1) + HEADER_MAC_LENGTH;

/** The bound part of every header with an empty context: magic, version, suite, u16 count 0. */
const EMPTY_BOUND: Bytes = Uint8Array.of(...MAGIC, VERSION, SUITE_COBBLESTONE_256, 0, 0);

/** An encryption context: string keys to string values, bound to the ciphertext. */
export type EncryptionContext = Readonly<Record<string, string>>;

/**
 * One recipient of the data key, as stored in the header. Produced by a key provider's `wrap`,
 * handed back to its `unwrap`.
 */
export interface Stanza {
  /** Provider type, ASCII `[a-z0-9][a-z0-9.-]*`, e.g. `aes256-gcm`. */
  readonly type: string;
  /** Which master key wrapped the data key (a key id, ARN, alias…). May be empty. */
  readonly keyId: string;
  /** Provider parameters (algorithm options, salts as base64…). Never secrets. */
  readonly params: Readonly<Record<string, string>>;
  /** The wrapped (encrypted) data key. */
  readonly wrapped: Uint8Array;
}

/** A decoded header. */
export interface Header {
  readonly version: number;
  readonly suite: number;
  /** Total header length in bytes (= offset of the payload). */
  readonly length: number;
  readonly context: EncryptionContext;
  readonly recipients: readonly Stanza[];
  /** The header bytes covered by the mac (everything before it). */
  readonly macInput: Bytes;
  /** The stored mac. */
  readonly mac: Bytes;
  /** The bound part: the payload's C2SP context. */
  readonly bound: Bytes;
}

const TYPE_RE = /^[a-z0-9][a-z0-9.-]*$/;
const PARAM_RE = /^[A-Za-z0-9._-]+$/;

function headerError(msg: string): EnsealError {
  return new EnsealError('ERR_HEADER', `invalid header: ${msg}`);
}

/** Byte-wise comparison (the canonical order of keys). */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return a.length - b.length;
}

// ---------------------------------------------------------------------------------------------
// Encoding

/**
 * The encoder's buffer, shared by every header encoded in this realm (grown when needed, never
 * shrunk): encoding is synchronous, so one encoding never interleaves with another, and header
 * bytes are not secret.
 */
let shared = new Uint8Array(512);

/** Writes into one growing buffer (no piece per field); `done()` copies out the bytes written. */
class Writer {
  buf = shared;
  length = 0;
  #room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const b = new Uint8Array(Math.max(2 * this.buf.length, this.length + n));
    b.set(this.buf.subarray(0, this.length));
    this.buf = shared = b;
  }
  bytes(b: Uint8Array): void {
    this.#room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  u8(n: number): void {
    this.#room(1);
    this.buf[this.length++] = n;
  }
  u16(n: number): void {
    this.#room(2);
    this.buf[this.length++] = n >>> 8;
    this.buf[this.length++] = n & 0xff;
  }
  /** Writes a big-endian u32 at `at` (already written, e.g. a length patched in afterwards). */
  u32At(at: number, n: number): void {
    this.buf[at] = n >>> 24;
    this.buf[at + 1] = (n >>> 16) & 0xff;
    this.buf[at + 2] = (n >>> 8) & 0xff;
    this.buf[at + 3] = n & 0xff;
  }
  /** A length-prefixed field, with the length checked against `max` (misuse → RangeError). */
  field(b: Uint8Array, lenBytes: 1 | 2, min: number, max: number, what: string): void {
    if (b.length < min || b.length > max) throw new RangeError(`${what} expected ${min}..${max} bytes, got ${b.length}`);
    if (lenBytes === 1) this.u8(b.length);
    else this.u16(b.length);
    this.bytes(b);
  }
  done(): Bytes {
    return this.buf.slice(0, this.length);
  }
  /** The bytes written, as a view of the shared buffer (valid until the next encoding). */
  view(): Bytes {
    return this.buf.subarray(0, this.length);
  }
}

/** No entries: a shared empty list, never written to. */
const NO_ENTRIES: readonly [Bytes, Bytes][] = Object.freeze([]);

/**
 * Whether a map (already checked to be a non-array object) has no enumerable string key, own
 * or inherited: then `Object.entries` is empty too, and there is nothing to validate or sort.
 */
function isEmptyMap(map: object): boolean {
  for (const _ in map) return false;
  return true;
}

/** Validates and canonically orders a string map; misuse throws TypeError/RangeError. */
function sortedEntries(
  map: Readonly<Record<string, string>>,
  what: string,
  maxEntries: number,
  keyOk: (k: string) => boolean,
): readonly [Bytes, Bytes][] {
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new TypeError(`${what} expected a string map`);
  if (isEmptyMap(map)) return NO_ENTRIES; // the common case: no context, no stanza params
  const entries = Object.entries(map).map(([k, v]): [Bytes, Bytes] => {
    if (typeof v !== 'string') throw new TypeError(`${what} value of "${k}" expected string, got ${typeof v}`);
    if (!keyOk(k)) throw new TypeError(`${what} key "${k}" is not allowed`);
    return [utf8Strict(k, `${what} key`), utf8Strict(v, `${what} value`)];
  });
  if (entries.length > maxEntries) throw new RangeError(`${what} expected at most ${maxEntries} entries, got ${entries.length}`);
  return entries.sort((a, b) => compareBytes(a[0], b[0]));
}

/** Encodes the context section (u16 count + entries), shared by the header and the bound part. */
function encodeContext(w: Writer, context: EncryptionContext): void {
  const entries = sortedEntries(context, 'encryption context', MAX_CONTEXT_ENTRIES, (k) => k.length > 0);
  w.u16(entries.length);
  for (const [k, v] of entries) {
    w.field(k, 2, 1, MAX_CONTEXT_KEY_LENGTH, 'encryption context key');
    w.field(v, 2, 0, MAX_CONTEXT_VALUE_LENGTH, 'encryption context value');
  }
}

/**
 * The bound part of a header with this context: magic, version, suite, context section.
 * @throws TypeError/RangeError when the context violates the format's rules
 */
export function encodeBound(context: EncryptionContext): Bytes {
  if (typeof context === 'object' && context !== null && !Array.isArray(context) && isEmptyMap(context)) return EMPTY_BOUND.slice();
  const w = new Writer();
  w.bytes(MAGIC);
  w.u8(VERSION);
  w.u8(SUITE_COBBLESTONE_256);
  encodeContext(w, context);
  return w.done();
}

/** Checks a stanza a provider returned (its shape is the provider's responsibility). */
export function checkStanza(s: Stanza): void {
  if (typeof s !== 'object' || s === null) throw new TypeError('stanza expected an object');
  if (typeof s.type !== 'string' || !TYPE_RE.test(s.type) || s.type.length > MAX_TYPE_LENGTH) {
    throw new TypeError(`stanza type expected [a-z0-9][a-z0-9.-]* of at most ${MAX_TYPE_LENGTH} bytes, got ${JSON.stringify(s.type)}`);
  }
  if (typeof s.keyId !== 'string') throw new TypeError('stanza keyId expected string');
  assertChunk(s.wrapped, 'stanza wrapped expected Uint8Array');
}

/**
 * UTF-8 of recent stanza types and key ids (the same few strings in every header a provider
 * writes): one cache for the plain encoding (types, already checked ASCII) and one for the strict
 * one (key ids: lone surrogates rejected), so a lookup builds no key string.
 */
const plainEncodings = new Map<string, Bytes>();
const strictEncodings = new Map<string, Bytes>();
const MAX_ENCODINGS = 64;

/** The UTF-8 of `s` (`strict`: lone surrogates rejected, as utf8Strict), from a small cache; never handed out. */
function encoded(s: string, strict: boolean): Bytes {
  const cache = strict ? strictEncodings : plainEncodings;
  let b = cache.get(s);
  if (b === undefined) {
    b = strict ? utf8Strict(s, 'stanza keyId') : utf8(s);
    if (cache.size >= MAX_ENCODINGS) cache.clear();
    cache.set(s, b);
  }
  return b;
}

/**
 * Encodes a header without its mac; `header_length` already counts the 32 mac bytes.
 * @throws TypeError/RangeError when a field violates the format's rules or limits
 */
export function encodeHeaderBody(context: EncryptionContext, recipients: readonly Stanza[]): Bytes {
  return encodeHeaderBodyView(context, recipients).slice();
}

/**
 * {@link encodeHeaderBody} without the copy: a view of the encoder's shared buffer, valid only
 * until the next header encoding in this realm (copy it before calling anything else that
 * encodes, e.g. into the object's output buffer).
 * @param context - the encryption context
 * @param recipients - the stanzas, 1..64
 * @returns the header body (`header_length` counts the 32 mac bytes), as a short-lived view
 * @throws TypeError/RangeError as {@link encodeHeaderBody}
 * @example
 * ```ts
 * const body = encodeHeaderBodyView(context, stanzas);
 * out.set(body, 0); // at once
 * ```
 */
export function encodeHeaderBodyView(context: EncryptionContext, recipients: readonly Stanza[]): Bytes {
  checkRecipientCount(recipients);
  const body = new Writer();
  body.bytes(MAGIC);
  body.u8(VERSION);
  body.u8(SUITE_COBBLESTONE_256);
  body.u16(0);
  body.u16(0); // header_length, patched below
  encodeContext(body, context);
  return writeRecipients(body, recipients);
}

/**
 * {@link encodeHeaderBodyView} from the bound part already encoded by {@link encodeBound} for the
 * same context: the context section is copied from it (FORMAT.md §2: the bound part is magic,
 * version, suite and that section), so the context is read and validated once per object, and
 * the header stores exactly the bytes the payload commits to. A short-lived view, as
 * {@link encodeHeaderBodyView}.
 * @param bound - from {@link encodeBound} (not checked again)
 * @param recipients - the stanzas, 1..64
 * @returns the header body (`header_length` counts the 32 mac bytes), as a short-lived view
 * @throws TypeError/RangeError as {@link encodeHeaderBody}
 * @example
 * ```ts
 * const bound = encodeBound(context);
 * out.set(encodeHeaderBodyViewOfBound(bound, stanzas), 0); // at once
 * ```
 */
export function encodeHeaderBodyViewOfBound(bound: Uint8Array, recipients: readonly Stanza[]): Bytes {
  checkRecipientCount(recipients);
  const body = new Writer();
  body.bytes(bound.subarray(0, 8)); // magic, version, suite
  body.u16(0);
  body.u16(0); // header_length, patched below
  body.bytes(bound.subarray(8)); // the context section
  return writeRecipients(body, recipients);
}

function checkRecipientCount(recipients: readonly Stanza[]): void {
  if (recipients.length < 1 || recipients.length > MAX_RECIPIENTS) {
    throw new RangeError(`recipients expected 1..${MAX_RECIPIENTS}, got ${recipients.length}`);
  }
}

/** Writes the recipients section after the context and patches `header_length` (§2.2). */
function writeRecipients(body: Writer, recipients: readonly Stanza[]): Bytes {
  body.u8(recipients.length);
  for (const s of recipients) {
    checkStanza(s);
    body.field(encoded(s.type, false), 1, 1, MAX_TYPE_LENGTH, 'stanza type');
    body.field(encoded(s.keyId, true), 2, 0, MAX_KEY_ID_LENGTH, 'stanza keyId');
    const params = sortedEntries(s.params ?? {}, 'stanza params', MAX_PARAMS, (k) => PARAM_RE.test(k));
    body.u8(params.length);
    for (const [k, v] of params) {
      body.field(k, 1, 1, MAX_PARAM_NAME_LENGTH, 'stanza param name');
      body.field(v, 2, 0, MAX_PARAM_VALUE_LENGTH, 'stanza param value');
    }
    body.field(s.wrapped, 2, 1, MAX_WRAPPED_LENGTH, 'stanza wrapped key');
  }
  const total = body.length + HEADER_MAC_LENGTH;
  if (total > MAX_HEADER_LENGTH) throw new RangeError(`header expected at most ${MAX_HEADER_LENGTH} bytes, got ${total}`);
  body.u32At(8, total);
  return body.view();
}

// ---------------------------------------------------------------------------------------------
// Decoding: every length is checked against its limit and the bytes left before use.

class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }
  need(n: number, what: string): void {
    if (n > this.end - this.pos) throw headerError(`${what} runs past the end of the header`);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++] as number;
  }
  u16(what: string): number {
    this.need(2, what);
    const v = ((this.buf[this.pos] as number) << 8) | (this.buf[this.pos + 1] as number);
    this.pos += 2;
    return v;
  }
  /** A length-prefixed field whose length is checked against `min..max` before slicing. */
  field(lenBytes: 1 | 2, min: number, max: number, what: string): Uint8Array {
    const n = lenBytes === 1 ? this.u8(what) : this.u16(what);
    if (n < min || n > max) throw headerError(`${what} length ${n} outside ${min}..${max}`);
    this.need(n, what);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  text(lenBytes: 1 | 2, min: number, max: number, what: string): { raw: Uint8Array; text: string } {
    const raw = this.field(lenBytes, min, max, what);
    return { raw, text: decodedText(raw, what) };
  }
  /** {@link text} without the raw bytes, short strings from a cache of recent ones (stanza types and key ids). */
  recentText(lenBytes: 1 | 2, min: number, max: number, what: string): string {
    const raw = this.field(lenBytes, min, max, what);
    const known = raw.length <= RECENT_TEXT_MAX ? recentTextOf(raw) : undefined;
    if (known !== undefined) return known;
    const text = decodedText(raw, what);
    if (raw.length <= RECENT_TEXT_MAX) rememberText(raw, text);
    return text;
  }
}

/** The UTF-8 text of a header field; `ERR_HEADER` when it is not valid UTF-8. */
function decodedText(raw: Uint8Array, what: string): string {
  try {
    return fromUtf8(raw);
  } catch {
    throw headerError(`${what} is not valid UTF-8`);
  }
}

/**
 * Recently decoded stanza types and key ids with their bytes (the same few strings in every
 * header a reader opens): comparing a dozen bytes costs less than a call into the platform's
 * UTF-8 decoder. Header bytes are not secret; a string is remembered only once it decoded.
 */
const recentTexts: { raw: Bytes; text: string }[] = [];
const RECENT_TEXTS = 8;
const RECENT_TEXT_MAX = 64;

function recentTextOf(raw: Uint8Array): string | undefined {
  for (const e of recentTexts) {
    const r = e.raw;
    if (r.length !== raw.length) continue;
    let i = 0;
    while (i < r.length && r[i] === raw[i]) i++;
    if (i === r.length) return e.text;
  }
  return undefined;
}

function rememberText(raw: Uint8Array, text: string): void {
  if (recentTexts.length >= RECENT_TEXTS) recentTexts.shift();
  recentTexts.push({ raw: copyBytes(raw), text });
}

const anyContextKey = (): boolean => true;
const paramNameOk = (k: string): boolean => PARAM_RE.test(k);

/**
 * The error of an object that ends inside its header (after a valid 12-byte prefix).
 * @param headerLength - the declared header length
 * @param present - the bytes there are
 * @returns a fresh `EnsealError` `ERR_TRUNCATED`
 * @example
 * ```ts
 * if (bytes.length < length) throw headerCut(length, bytes.length);
 * ```
 */
export function headerCut(headerLength: number, present: number): EnsealError {
  return new EnsealError('ERR_TRUNCATED', `ciphertext was truncated: it ends inside the ${headerLength}-byte header (${present} bytes present)`);
}

/** The input does not start with the magic: whatever it is, it is not ours. */
function badMagic(): EnsealError {
  return new EnsealError('ERR_HEADER', 'not an enseal object: it does not start with the "enseal" magic');
}

/**
 * Reads the fixed 12-byte prefix (FORMAT.md §2.1) and returns the header length.
 *
 * Errors are precise about what the bytes show: input whose bytes differ from the magic is
 * `ERR_HEADER` ("not an enseal object"), even when it is shorter than 12 bytes; input that is a
 * genuine prefix of an enseal header but shorter than 12 bytes (including empty input) is
 * `ERR_TRUNCATED` (it may be an enseal object cut short; the message says it is not a whole one).
 *
 * @param bytes - at least the first 12 bytes of an object, when it has them
 * @returns the declared header length, MIN_HEADER_LENGTH..65536
 * @throws EnsealError `ERR_TRUNCATED` if fewer than 12 bytes, `ERR_HEADER` for a bad magic or
 *   length, `ERR_UNSUPPORTED` for an unknown version or suite
 * @example
 * ```ts
 * const headerLength = decodeHeaderPrefix(await source.read(0, 12));
 * ```
 */
export function decodeHeaderPrefix(bytes: Uint8Array): number {
  if (bytes.length < HEADER_PREFIX_LENGTH) {
    // Distinguish "not ours" from "cut short" on what we have.
    for (let i = 0; i < Math.min(bytes.length, MAGIC.length); i++) if (bytes[i] !== MAGIC[i]) throw badMagic();
    throw new EnsealError(
      'ERR_TRUNCATED',
      bytes.length === 0
        ? 'not an enseal object: the input is empty'
        : `not an enseal object: ${bytes.length} bytes is too short for the ${HEADER_PREFIX_LENGTH}-byte header prefix (truncated?)`,
    );
  }
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) throw badMagic();
  if (bytes[6] !== VERSION) throw new EnsealError('ERR_UNSUPPORTED', `unsupported header version ${bytes[6]}`);
  if (bytes[7] !== SUITE_COBBLESTONE_256) throw new EnsealError('ERR_UNSUPPORTED', `unsupported suite ${bytes[7]}`);
  const len = (((bytes[8] as number) << 24) | ((bytes[9] as number) << 16) | ((bytes[10] as number) << 8) | (bytes[11] as number)) >>> 0;
  if (len < MIN_HEADER_LENGTH || len > MAX_HEADER_LENGTH) {
    throw headerError(`header length ${len} outside ${MIN_HEADER_LENGTH}..${MAX_HEADER_LENGTH}`);
  }
  return len;
}

function decodeStringMap(
  r: Reader,
  count: number,
  keyLen: 1 | 2,
  keyMin: number,
  keyMax: number,
  valueMax: number,
  what: string,
  keyOk: (k: string) => boolean,
): Record<string, string> {
  if (count === 0) return {};
  const entries: [string, string][] = [];
  let prev: Uint8Array | undefined;
  for (let i = 0; i < count; i++) {
    const k = r.text(keyLen, keyMin, keyMax, `${what} key`);
    if (!keyOk(k.text)) throw headerError(`${what} key is not allowed`);
    if (prev !== undefined && compareBytes(prev, k.raw) >= 0) throw headerError(`${what} keys not in strictly ascending order`);
    prev = k.raw;
    const v = r.text(2, 0, valueMax, `${what} value`);
    entries.push([k.text, v.text]);
  }
  return Object.fromEntries(entries);
}

/** Whether `bytes` views shared memory (a `SharedArrayBuffer`: other threads may write it). */
function isShared(bytes: Uint8Array): boolean {
  return typeof SharedArrayBuffer === 'function' && bytes.buffer instanceof SharedArrayBuffer;
}

/** The bound part of a decoded header: magic, version, suite, then the context section (§2). */
function boundOf(bytes: Uint8Array, contextEnd: number): Bytes {
  const bound = new Uint8Array(8 + contextEnd - HEADER_PREFIX_LENGTH);
  for (let i = 0; i < 8; i++) bound[i] = bytes[i] as number;
  bound.set(bytes.subarray(HEADER_PREFIX_LENGTH, contextEnd), 8);
  return bound;
}

/**
 * Decodes a header from the start of `bytes` (which may continue with the payload). Every field
 * is a copy, so later changes to `bytes` do not reach the header, except with `borrow`.
 * @param bytes - the object, its header first
 * @param borrow - `macInput` and `mac` as views of `bytes` instead of copies (the mac input is
 *   most of the header, and a copy of it a buffer outside the JS heap per object): only for a
 *   caller that verifies the mac before it returns to the event loop and lets the header go
 *   with its call, so that nothing can change `bytes` in between; ignored (copies) for shared
 *   memory, which another thread can change at any time
 * @returns the decoded header
 * @throws EnsealError `ERR_TRUNCATED` when `bytes` is shorter than the declared header,
 *   `ERR_HEADER` for any malformed, non-canonical or out-of-limit field, `ERR_UNSUPPORTED`
 *   for an unknown version or suite
 * @example
 * ```ts
 * const h = decodeHeader(ciphertext);
 * ```
 */
export function decodeHeader(bytes: Uint8Array, borrow = false): Header {
  const length = decodeHeaderPrefix(bytes);
  if (bytes.length < length) throw headerCut(length, bytes.length);
  const macAt = length - HEADER_MAC_LENGTH;
  const r = new Reader(bytes, HEADER_PREFIX_LENGTH, macAt);

  const contextCount = r.u16('context count');
  if (contextCount > MAX_CONTEXT_ENTRIES) throw headerError(`context count ${contextCount} exceeds ${MAX_CONTEXT_ENTRIES}`);
  const context = decodeStringMap(r, contextCount, 2, 1, MAX_CONTEXT_KEY_LENGTH, MAX_CONTEXT_VALUE_LENGTH, 'context', anyContextKey);
  const contextEnd = r.pos;

  const count = r.u8('recipient count');
  if (count < 1 || count > MAX_RECIPIENTS) throw headerError(`recipient count ${count} outside 1..${MAX_RECIPIENTS}`);
  const recipients: Stanza[] = [];
  for (let i = 0; i < count; i++) {
    const type = r.recentText(1, 1, MAX_TYPE_LENGTH, 'stanza type');
    if (!TYPE_RE.test(type)) throw headerError('stanza type has characters outside [a-z0-9.-]');
    const keyId = r.recentText(2, 0, MAX_KEY_ID_LENGTH, 'stanza key id');
    const paramCount = r.u8('stanza param count');
    if (paramCount > MAX_PARAMS) throw headerError(`stanza param count ${paramCount} exceeds ${MAX_PARAMS}`);
    const params = decodeStringMap(r, paramCount, 1, 1, MAX_PARAM_NAME_LENGTH, MAX_PARAM_VALUE_LENGTH, 'stanza param', paramNameOk);
    const wrapped = copyBytes(r.field(2, 1, MAX_WRAPPED_LENGTH, 'stanza wrapped key'));
    recipients.push(Object.freeze({ type, keyId, params: Object.freeze(params), wrapped }));
  }
  if (r.pos !== macAt) throw headerError(`${macAt - r.pos} unexpected bytes before the mac`);

  return Object.freeze({
    version: VERSION,
    suite: SUITE_COBBLESTONE_256,
    length,
    context: Object.freeze(context),
    recipients: Object.freeze(recipients),
    macInput: borrow && !isShared(bytes) ? (bytes.subarray(0, macAt) as Bytes) : copyBytes(bytes.subarray(0, macAt)),
    mac: borrow && !isShared(bytes) ? (bytes.subarray(macAt, length) as Bytes) : copyBytes(bytes.subarray(macAt, length)),
    bound: boundOf(bytes, contextEnd),
  });
}
