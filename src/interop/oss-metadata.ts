/**
 * Metadata codec of Alibaba Cloud OSS client-side encryption (the `OssEncryptionClient` format of
 * the Java, Go, Python ≥ 2.11 and C++ SDKs, and the older Python 2.5–2.10 format), docs/INTEROP.md
 * §"Alibaba OSS". Names are object-store metadata names as {@link ObjectMetadata} holds them:
 * lower case, without the `x-oss-meta-` wire prefix.
 *
 * ```
 * current format (INTEROP.md §OSS.1)
 *   client-side-encryption-key                       required  base64(wrap(CEK)), CEK = 32 bytes (AES-256)
 *   client-side-encryption-start                     required  base64(wrap(IV)), IV = 16 bytes, the initial CTR block
 *   client-side-encryption-cek-alg                   required  "AES/CTR/NoPadding"
 *   client-side-encryption-wrap-alg                  required  "RSA/NONE/PKCS1Padding" | "RSA/NONE/OAEPWithSHA-1AndMGF1Padding"
 *                                                               | "KMS/ALICLOUD"
 *   client-side-encryption-matdesc                   optional  JSON object of strings (written only when non-empty)
 *   client-side-encryption-unencrypted-content-length optional decimal plaintext length
 *   client-side-encryption-unencrypted-content-md5   optional  base64 of the 16-byte MD5 of the plaintext
 *   client-side-encryption-data-size                 optional  multipart: decimal total plaintext size
 *   client-side-encryption-part-size                 optional  multipart: decimal part size, a multiple of 16
 * legacy Python format (INTEROP.md §OSS.5)
 *   oss-crypto-key                                   required  rsa: base64(OAEP-SHA-1(CEK)); kms: the KMS CiphertextBlob text
 *   oss-crypto-start                                 required  rsa: base64(OAEP-SHA-1(decimal counter)); kms: CiphertextBlob text
 *   oss-cek-alg                                      required  "AES/GCM/NoPadding" (a label only: the content is AES-256-CTR)
 *                                                               or "AES/CTR/NoPadding"
 *   oss-wrap-alg                                     required  "rsa" | "kms"
 *   unencrypted-content-length, unencrypted-content-md5  optional, as above
 * ```
 *
 * Decoding is strict: every value is checked for length before it is decoded (no value over
 * {@link OSS_MAX_VALUE_LENGTH} characters, no matdesc over {@link OSS_MAX_MATDESC_LENGTH}),
 * numbers must be canonical decimals (no sign, no leading zero, at most 2^53 − 1), base64 must be
 * standard and padded, and a metadata map that mixes the current and the legacy names, carries
 * enseal's own `enseal-` marker next to OSS names, names an unknown `client-side-encryption-*`
 * field, or lacks a required field is rejected. Every failure is `EnsealError('ERR_HEADER')`
 * naming the field, with the name and any value escaped (`escapeControl`). None of this metadata is
 * authenticated: see docs/SECURITY.md §"Foreign formats".
 *
 * @module
 */
import { escapeControl, fromBase64, toBase64, type Bytes } from '../bytes.js';
import { EnsealError } from '../errors.js';
import type { ObjectMetadata } from '../storage/store.js';

/** Prefix of every current-format name. */
export const OSS_PREFIX = 'client-side-encryption-';
/** The only content cipher of the current format (INTEROP.md §OSS.2). */
export const OSS_CEK_ALG = 'AES/CTR/NoPadding';
/** RSAES-PKCS1-v1_5 wrap (Java, Go, C++, Python `RsaProvider`). */
export const OSS_WRAP_RSA_PKCS1 = 'RSA/NONE/PKCS1Padding';
/** RSAES-OAEP with SHA-1 and MGF1-SHA-1, empty label (Python `LocalRsaProvider`; the legacy `rsa`). */
export const OSS_WRAP_RSA_OAEP_SHA1 = 'RSA/NONE/OAEPWithSHA-1AndMGF1Padding';
/** Alibaba Cloud KMS `Encrypt`/`GenerateDataKey` (all SDKs; the legacy `kms`). */
export const OSS_WRAP_KMS = 'KMS/ALICLOUD';
/** Longest metadata value accepted (OSS allows 8 KiB of user metadata in all). */
export const OSS_MAX_VALUE_LENGTH = 8192;
/** Longest matdesc JSON text accepted. */
export const OSS_MAX_MATDESC_LENGTH = 4096;
/** Most entries in a matdesc. */
export const OSS_MAX_MATDESC_ENTRIES = 64;

/** A wrap algorithm of the OSS formats. */
export type OssWrapAlgorithm = typeof OSS_WRAP_RSA_PKCS1 | typeof OSS_WRAP_RSA_OAEP_SHA1 | typeof OSS_WRAP_KMS;

/** Which OSS layout an object's metadata uses. */
export type OssFormat = 'oss' | 'oss-legacy';

/** What {@link decodeOssMetadata} reads from an object's metadata (nothing here is authenticated). */
export interface OssObjectDescription {
  /** `oss` (current `client-side-encryption-*` names) or `oss-legacy` (Python 2.5–2.10). */
  readonly format: OssFormat;
  /** The content cipher actually used: always AES-256-CTR with a 128-bit big-endian counter. */
  readonly contentCipher: typeof OSS_CEK_ALG;
  /** The cek-alg label as stored (legacy objects say `AES/GCM/NoPadding` but are CTR). */
  readonly cekAlgLabel: string;
  /** How the content key and the start were wrapped. */
  readonly wrapAlgorithm: OssWrapAlgorithm;
  /**
   * The wrapped content key: the base64-decoded `-key` value (RSA: the k-byte RSA ciphertext;
   * KMS: the CiphertextBlob bytes, or for the Python double encoding the blob's text).
   */
  readonly wrappedKey: Bytes;
  /** The wrapped start, decoded the same way as {@link wrappedKey}. */
  readonly wrappedStart: Bytes;
  /** The `-key` value as stored (base64 text; a KMS CiphertextBlob for Java/Go KMS objects). */
  readonly wrappedKeyText: string;
  /** The `-start` value as stored. */
  readonly wrappedStartText: string;
  /**
   * What the start unwraps to: `iv` = the 16-byte initial counter block (current format);
   * `decimal` = the ASCII decimal initial counter (legacy format).
   */
  readonly startEncoding: 'iv' | 'decimal';
  /** The material description, parsed (undefined when absent). */
  readonly matdesc: Readonly<Record<string, string>> | undefined;
  /** The matdesc JSON text exactly as stored (the Go SDK compares this string). */
  readonly matdescText: string | undefined;
  /** Plaintext length, when the writer recorded it. */
  readonly unencryptedContentLength: number | undefined;
  /** Base64 MD5 of the plaintext, when the writer recorded it. */
  readonly unencryptedContentMd5: string | undefined;
  /** Multipart: total plaintext size, when recorded. */
  readonly dataSize: number | undefined;
  /** Multipart: part size (a multiple of 16), when recorded. */
  readonly partSize: number | undefined;
}

/** What {@link encodeOssMetadata} writes (current format only). */
export interface OssMetadataFields {
  /** The wrap algorithm. */
  readonly wrapAlgorithm: OssWrapAlgorithm;
  /** The value stored base64-encoded in `-key`. */
  readonly wrappedKey: Uint8Array;
  /** The value stored base64-encoded in `-start`. */
  readonly wrappedStart: Uint8Array;
  /** Material description (written as compact JSON, keys sorted; omitted when empty). */
  readonly matdesc?: Readonly<Record<string, string>>;
  /** Plaintext length. */
  readonly unencryptedContentLength?: number;
  /** Base64 MD5 of the plaintext. */
  readonly unencryptedContentMd5?: string;
  /** Multipart total plaintext size. */
  readonly dataSize?: number;
  /** Multipart part size (a multiple of 16). */
  readonly partSize?: number;
}

const F = {
  key: `${OSS_PREFIX}key`,
  start: `${OSS_PREFIX}start`,
  cekAlg: `${OSS_PREFIX}cek-alg`,
  wrapAlg: `${OSS_PREFIX}wrap-alg`,
  matdesc: `${OSS_PREFIX}matdesc`,
  length: `${OSS_PREFIX}unencrypted-content-length`,
  md5: `${OSS_PREFIX}unencrypted-content-md5`,
  dataSize: `${OSS_PREFIX}data-size`,
  partSize: `${OSS_PREFIX}part-size`,
} as const;
const CURRENT_NAMES: ReadonlySet<string> = new Set(Object.values(F));

const L = {
  key: 'oss-crypto-key',
  start: 'oss-crypto-start',
  cekAlg: 'oss-cek-alg',
  wrapAlg: 'oss-wrap-alg',
  length: 'unencrypted-content-length',
  md5: 'unencrypted-content-md5',
} as const;
/** Names that only the legacy format uses (its length/md5 names are generic words). */
const LEGACY_ONLY: readonly string[] = [L.key, L.start, L.cekAlg, L.wrapAlg];
/** enseal's own marker prefix (src/storage/bucket-marker.ts `RESERVED_PREFIX`). */
const ENSEAL_PREFIX = 'enseal-';

const WRAP_ALGS: ReadonlySet<string> = new Set([OSS_WRAP_RSA_PKCS1, OSS_WRAP_RSA_OAEP_SHA1, OSS_WRAP_KMS]);
const LEGACY_CEK_LABELS: ReadonlySet<string> = new Set(['AES/GCM/NoPadding', OSS_CEK_ALG]);
const DECIMAL = /^(?:0|[1-9][0-9]{0,15})$/;

/** The field name comes from the stored metadata (untrusted): escaped like the values. */
const bad = (field: string, why: string): EnsealError => new EnsealError('ERR_HEADER', `OSS metadata "${escapeControl(field, 80)}" ${why}`);
const shown = (v: string): string => `"${escapeControl(v, 80)}"`;

/** Which encrypted-object layout a metadata map describes. */
export type DetectedFormat = 'enseal' | 'oss' | 'oss-legacy' | 'none';

/**
 * Tells which format an object's metadata describes, from the field names alone.
 *
 * @param metadata - the object's user metadata (lower-case names without the store prefix)
 * @returns `'enseal'` (an `enseal-` marker), `'oss'` (any `client-side-encryption-*` name),
 *   `'oss-legacy'` (any of `oss-crypto-key`, `oss-crypto-start`, `oss-cek-alg`, `oss-wrap-alg`),
 *   or `'none'` (a plain object)
 * @throws TypeError when `metadata` is not an object; EnsealError `ERR_HEADER` when the names of
 *   two formats are mixed (current + legacy OSS, or OSS + enseal)
 * @example
 * ```ts
 * detectFormat({ 'client-side-encryption-key': '…', 'client-side-encryption-start': '…' }); // 'oss'
 * detectFormat({ 'content-type': 'image/jpeg' }); // 'none'
 * ```
 */
export function detectFormat(metadata: ObjectMetadata): DetectedFormat {
  if (typeof metadata !== 'object' || metadata === null) throw new TypeError('"metadata" expected an object of strings');
  const names = Object.keys(metadata);
  const current = names.find((n) => n.startsWith(OSS_PREFIX));
  const legacy = names.find((n) => LEGACY_ONLY.includes(n));
  const enseal = names.find((n) => n.startsWith(ENSEAL_PREFIX));
  if (current !== undefined && legacy !== undefined) throw bad(legacy, `mixes the legacy Python format with the current one ("${escapeControl(current, 80)}")`);
  const oss = current ?? legacy;
  if (oss !== undefined && enseal !== undefined) throw bad(oss, `mixes OSS client-side encryption with an enseal marker ("${escapeControl(enseal, 80)}")`);
  if (enseal !== undefined) return 'enseal';
  if (current !== undefined) return 'oss';
  if (legacy !== undefined) return 'oss-legacy';
  return 'none';
}

function value(md: ObjectMetadata, name: string, required: boolean): string | undefined {
  const v = Object.hasOwn(md, name) ? md[name] : undefined;
  if (v === undefined) {
    if (required) throw bad(name, 'is missing (partial OSS encryption metadata)');
    return undefined;
  }
  if (typeof v !== 'string') throw bad(name, 'expected a string');
  if (v.length > OSS_MAX_VALUE_LENGTH) throw bad(name, `is ${v.length} characters, more than ${OSS_MAX_VALUE_LENGTH}`);
  return v;
}

function decimal(md: ObjectMetadata, name: string): number | undefined {
  const v = value(md, name, false);
  if (v === undefined) return undefined;
  if (!DECIMAL.test(v) || !Number.isSafeInteger(Number(v))) throw bad(name, `expected a canonical decimal of at most 2^53 - 1, got ${shown(v)}`);
  return Number(v);
}

function base64(name: string, v: string, maxBytes: number): Bytes {
  // Length first: at most maxBytes decoded bytes, before anything is allocated.
  if (v.length === 0 || v.length > 4 * Math.ceil(maxBytes / 3)) throw bad(name, `expected 1..${maxBytes} bytes of base64, got ${v.length} characters`);
  try {
    return fromBase64(v);
  } catch {
    throw bad(name, `expected standard padded base64, got ${shown(v)}`);
  }
}

function md5Value(md: ObjectMetadata, name: string): string | undefined {
  const v = value(md, name, false);
  if (v === undefined) return undefined;
  if (v.length !== 24 || base64(name, v, 18).length !== 16) throw bad(name, `expected the base64 of a 16-byte MD5, got ${shown(v)}`);
  return v;
}

/**
 * Parses a matdesc JSON text: an object whose values are all strings.
 * @param text - the stored value
 * @returns the map (a null-prototype copy)
 * @throws EnsealError `ERR_HEADER` naming the field
 */
function parseMatdesc(text: string): Record<string, string> {
  if (text.length > OSS_MAX_MATDESC_LENGTH) throw bad(F.matdesc, `is ${text.length} characters, more than ${OSS_MAX_MATDESC_LENGTH}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw bad(F.matdesc, `expected a JSON object, got ${shown(text)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad(F.matdesc, `expected a JSON object, got ${shown(text)}`);
  const entries = Object.entries(parsed as Record<string, unknown>);
  if (entries.length > OSS_MAX_MATDESC_ENTRIES) throw bad(F.matdesc, `has ${entries.length} entries, more than ${OSS_MAX_MATDESC_ENTRIES}`);
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of entries) {
    if (typeof v !== 'string') throw bad(F.matdesc, `entry "${escapeControl(k, 80)}" expected a string value`);
    out[k] = v;
  }
  return out;
}

/** Upper bound of a wrapped value: an RSA-4096 ciphertext is 512 bytes, a KMS blob well under 2 KiB. */
const MAX_WRAPPED_BYTES = 4096;

/**
 * Decodes the OSS client-side-encryption metadata of an object (current or legacy Python format).
 *
 * @param metadata - the object's user metadata (lower-case names without `x-oss-meta-`)
 * @returns the typed description, or `undefined` when the metadata names no OSS encryption
 * @throws EnsealError `ERR_HEADER` (naming the field; values escaped) for mixed, partial or
 *   malformed metadata: an unknown `client-side-encryption-*` name, an unknown cek-alg or
 *   wrap-alg, a non-canonical number, bad base64, an oversized value, a bad matdesc, a part size
 *   that is not a positive multiple of 16, or contradicting sizes
 * @example
 * ```ts
 * const d = decodeOssMetadata((await store.head(key)).metadata);
 * if (d !== undefined) console.log(d.wrapAlgorithm, d.unencryptedContentLength);
 * ```
 */
export function decodeOssMetadata(metadata: ObjectMetadata): OssObjectDescription | undefined {
  // Snapshot: every check below reads one copy of the map.
  const md: ObjectMetadata = { ...metadata };
  const format = detectFormat(md);
  if (format === 'oss') return decodeCurrent(md);
  if (format === 'oss-legacy') return decodeLegacy(md);
  return undefined;
}

function decodeCurrent(md: ObjectMetadata): OssObjectDescription {
  for (const name of Object.keys(md)) {
    if (name.startsWith(OSS_PREFIX) && !CURRENT_NAMES.has(name)) throw bad(name, 'is not a field of OSS client-side encryption');
  }
  const cekAlg = value(md, F.cekAlg, true)!;
  if (cekAlg !== OSS_CEK_ALG) throw bad(F.cekAlg, `expected ${OSS_CEK_ALG}, got ${shown(cekAlg)}`);
  const wrapAlg = value(md, F.wrapAlg, true)!;
  if (!WRAP_ALGS.has(wrapAlg)) throw bad(F.wrapAlg, `names an unknown wrap algorithm ${shown(wrapAlg)}`);
  const wrappedKeyText = value(md, F.key, true)!;
  const wrappedStartText = value(md, F.start, true)!;
  const wrappedKey = base64(F.key, wrappedKeyText, MAX_WRAPPED_BYTES);
  const wrappedStart = base64(F.start, wrappedStartText, MAX_WRAPPED_BYTES);
  const matdescText = value(md, F.matdesc, false);
  const matdesc = matdescText === undefined ? undefined : parseMatdesc(matdescText);
  const length = decimal(md, F.length);
  const dataSize = decimal(md, F.dataSize);
  const partSize = decimal(md, F.partSize);
  if (partSize !== undefined && (partSize === 0 || partSize % 16 !== 0)) throw bad(F.partSize, `expected a positive multiple of 16, got ${partSize}`);
  if (dataSize !== undefined && length !== undefined && dataSize !== length) {
    throw bad(F.dataSize, `(${dataSize}) contradicts ${F.length} (${length})`);
  }
  return {
    format: 'oss',
    contentCipher: OSS_CEK_ALG,
    cekAlgLabel: cekAlg,
    wrapAlgorithm: wrapAlg as OssWrapAlgorithm,
    wrappedKey,
    wrappedStart,
    wrappedKeyText,
    wrappedStartText,
    startEncoding: 'iv',
    matdesc,
    matdescText,
    unencryptedContentLength: length,
    unencryptedContentMd5: md5Value(md, F.md5),
    dataSize,
    partSize,
  };
}

function decodeLegacy(md: ObjectMetadata): OssObjectDescription {
  const cekAlg = value(md, L.cekAlg, true)!;
  if (!LEGACY_CEK_LABELS.has(cekAlg)) throw bad(L.cekAlg, `expected AES/GCM/NoPadding or ${OSS_CEK_ALG}, got ${shown(cekAlg)}`);
  const wrap = value(md, L.wrapAlg, true)!;
  if (wrap !== 'rsa' && wrap !== 'kms') throw bad(L.wrapAlg, `names an unknown wrap algorithm ${shown(wrap)} (expected rsa or kms)`);
  const wrappedKeyText = value(md, L.key, true)!;
  const wrappedStartText = value(md, L.start, true)!;
  const wrappedKey = base64(L.key, wrappedKeyText, MAX_WRAPPED_BYTES);
  const wrappedStart = base64(L.start, wrappedStartText, MAX_WRAPPED_BYTES);
  return {
    format: 'oss-legacy',
    contentCipher: OSS_CEK_ALG,
    cekAlgLabel: cekAlg,
    wrapAlgorithm: wrap === 'rsa' ? OSS_WRAP_RSA_OAEP_SHA1 : OSS_WRAP_KMS,
    wrappedKey,
    wrappedStart,
    wrappedKeyText,
    wrappedStartText,
    startEncoding: 'decimal',
    matdesc: undefined,
    matdescText: undefined,
    unencryptedContentLength: decimal(md, L.length),
    unencryptedContentMd5: md5Value(md, L.md5),
    dataSize: undefined,
    partSize: undefined,
  };
}

/**
 * Compact JSON of a matdesc with sorted keys and no spaces, as the Go SDK's `json.Marshal`
 * writes it (so Go readers, which compare the string, match it).
 * @param matdesc - a map of strings
 * @returns the JSON text
 * @throws TypeError for a non-string value
 * @example
 * ```ts
 * compactMatdesc({ owner: 'b', desc: 'a' }); // '{"desc":"a","owner":"b"}'
 * ```
 */
export function compactMatdesc(matdesc: Readonly<Record<string, string>>): string {
  const entries = Object.entries(matdesc).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [k, v] of entries) if (typeof v !== 'string') throw new TypeError(`"matdesc.${k}" expected a string`);
  return JSON.stringify(Object.fromEntries(entries));
}

function checkCount(v: number | undefined, name: string): void {
  if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) throw new RangeError(`"${name}" expected a non-negative safe integer, got ${String(v)}`);
}

/**
 * Encodes the current-format metadata of an object (what the OSS SDKs read).
 *
 * @param fields - wrap algorithm, wrapped key and start, optional matdesc, sizes and MD5
 * @returns the metadata map (names without `x-oss-meta-`)
 * @throws TypeError/RangeError for an unknown wrap algorithm, empty wrapped values, negative or
 *   unsafe sizes, a part size that is not a positive multiple of 16, a malformed MD5, or a
 *   matdesc longer than {@link OSS_MAX_MATDESC_LENGTH}
 * @example
 * ```ts
 * const metadata = encodeOssMetadata({ wrapAlgorithm: 'RSA/NONE/PKCS1Padding', wrappedKey, wrappedStart, unencryptedContentLength: 5 });
 * ```
 */
export function encodeOssMetadata(fields: OssMetadataFields): ObjectMetadata {
  if (!WRAP_ALGS.has(fields.wrapAlgorithm)) throw new TypeError(`"wrapAlgorithm" expected one of ${[...WRAP_ALGS].join(', ')}`);
  for (const n of ['wrappedKey', 'wrappedStart'] as const) {
    const b = fields[n];
    if (!(b instanceof Uint8Array) || b.length === 0 || b.length > MAX_WRAPPED_BYTES) throw new RangeError(`"${n}" expected 1..${MAX_WRAPPED_BYTES} bytes`);
  }
  checkCount(fields.unencryptedContentLength, 'unencryptedContentLength');
  checkCount(fields.dataSize, 'dataSize');
  checkCount(fields.partSize, 'partSize');
  if (fields.partSize !== undefined && (fields.partSize === 0 || fields.partSize % 16 !== 0)) throw new RangeError(`"partSize" expected a positive multiple of 16, got ${fields.partSize}`);
  const out: Record<string, string> = {
    [F.key]: toBase64(fields.wrappedKey),
    [F.start]: toBase64(fields.wrappedStart),
    [F.cekAlg]: OSS_CEK_ALG,
    [F.wrapAlg]: fields.wrapAlgorithm,
  };
  if (fields.matdesc !== undefined && Object.keys(fields.matdesc).length > 0) {
    const text = compactMatdesc(fields.matdesc);
    if (text.length > OSS_MAX_MATDESC_LENGTH) throw new RangeError(`"matdesc" expected at most ${OSS_MAX_MATDESC_LENGTH} characters of JSON, got ${text.length}`);
    if (!/^[\x20-\x7e]*$/.test(text)) throw new TypeError('"matdesc" expected printable ASCII (metadata values are HTTP header values)');
    out[F.matdesc] = text;
  }
  if (fields.unencryptedContentLength !== undefined) out[F.length] = String(fields.unencryptedContentLength);
  if (fields.unencryptedContentMd5 !== undefined) {
    const m = fields.unencryptedContentMd5;
    let ok = typeof m === 'string' && m.length === 24;
    try {
      ok &&= fromBase64(m).length === 16;
    } catch {
      ok = false;
    }
    if (!ok) throw new TypeError('"unencryptedContentMd5" expected the base64 of a 16-byte MD5');
    out[F.md5] = m;
  }
  if (fields.dataSize !== undefined) out[F.dataSize] = String(fields.dataSize);
  if (fields.partSize !== undefined) out[F.partSize] = String(fields.partSize);
  return out;
}
