/**
 * Metadata codec of the AWS S3 Encryption Client (S3EC) formats V1, V2 and V3 (docs/INTEROP.md
 * §"AWS S3 Encryption Client", S3EC.1). Names are object-store metadata names as
 * {@link ObjectMetadata} holds them: lower case, without the `x-amz-meta-` wire prefix. Source:
 * the S3EC specification `s3-encryption/data-format/content-metadata.md` and the Java client's
 * `MetadataKeyConstants` / `ContentMetadataEncodingStrategy` (research notes §2.1).
 *
 * ```
 * V1 (read only)
 *   x-amz-key                         required  base64(EDK)
 *   x-amz-iv                          required  base64(16-byte CBC IV)
 *   x-amz-matdesc                     required  JSON object of strings (KMS: the encryption context)
 *   x-amz-wrap-alg                    optional  "kms" | "AESWrap" | "RSA/ECB/OAEPWithSHA-256AndMGF1Padding"
 *                                               (absent: JCE "AES"/"RSA" ECB wraps, not supported)
 *   x-amz-unencrypted-content-length  optional  decimal plaintext length
 * V2
 *   x-amz-key-v2                      required  base64(EDK)
 *   x-amz-iv                          required  base64(IV): 12 bytes (GCM) or 16 (CBC)
 *   x-amz-cek-alg                     required  "AES/GCM/NoPadding" | "AES/CBC/PKCS5Padding" (read only)
 *   x-amz-tag-len                     GCM only  "128" (absent for CBC)
 *   x-amz-wrap-alg                    required  "kms+context" | "AES/GCM" | "RSA-OAEP-SHA1" | legacy "kms" | "AESWrap"
 *   x-amz-matdesc                     optional  JSON (absent = {}); for kms+context the encryption context, which holds
 *                                               "aws:x-amz-cek-alg": "AES/GCM/NoPadding" (the cek-alg)
 *   x-amz-unencrypted-content-length  optional  decimal plaintext length
 * V3 (compressed names)
 *   x-amz-c                           required  "115" (suite 0x0073, ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY)
 *   x-amz-3                           required  base64(EDK)
 *   x-amz-w                           required  "02" = AES/GCM, "12" = kms+context, "22" = RSA-OAEP-SHA1
 *   x-amz-d                           required  base64(28-byte key commitment)
 *   x-amz-i                           required  base64(28-byte message id)
 *   x-amz-m                           02/22     material description JSON (default {})
 *   x-amz-t                           12        KMS encryption context JSON, holds "aws:x-amz-cek-alg": "115"
 * ```
 *
 * Decoding is strict: a map that mixes names exclusive to two versions (V1 `x-amz-key` with V2
 * names, any V1/V2 name with a V3 name), lacks a required field, carries an unknown algorithm or
 * a non-canonical value (`x-amz-c` other than exactly `115`, a tag length other than `128`, a
 * decimal with a sign or leading zero, base64 that is not standard and padded, an IV, commitment
 * or message id of the wrong length), or a JSON that is not an object of strings, is rejected
 * with `EnsealError('ERR_HEADER')` naming the field, values escaped with `escapeControl`. Every
 * value's length is checked before it is decoded. Other metadata names are ignored (the
 * specification allows "additional unrelated mapkeys"). None of this is authenticated, except
 * what the content cipher later binds (docs/SECURITY.md §"Foreign formats").
 *
 * @module
 */
import { escapeControl, fromBase64, toBase64, type Bytes } from '../bytes.js';
import { EnsealError } from '../errors.js';
import type { ObjectMetadata } from '../storage/store.js';

/** AES-256-GCM, 12-byte IV, 16-byte tag, no key derivation (V2). */
export const S3EC_CEK_GCM = 'AES/GCM/NoPadding';
/** AES-256-CBC with PKCS#5 padding (V1, legacy V2; read only). */
export const S3EC_CEK_CBC = 'AES/CBC/PKCS5Padding';
/** Suite 0x0073 ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY, as V3 stores it. */
export const S3EC_CEK_COMMIT = '115';
/** The reserved KMS encryption-context entry naming the content algorithm. */
export const S3EC_RESERVED_CONTEXT_KEY = 'aws:x-amz-cek-alg';
/** Longest metadata value accepted, in characters (S3 allows 2 KiB of user metadata in all). */
export const S3EC_MAX_VALUE_LENGTH = 8192;
/** Longest encrypted data key accepted, in bytes. */
export const S3EC_MAX_EDK_LENGTH = 4096;
/** Longest matdesc / encryption-context JSON accepted, in characters. */
export const S3EC_MAX_MATDESC_LENGTH = 4096;
/** Most entries in a matdesc / encryption context. */
export const S3EC_MAX_MATDESC_ENTRIES = 64;
/** Length of the V3 message id and key commitment, bytes. */
export const S3EC_V3_ID_LENGTH = 28;

/** A content algorithm as stored. */
export type S3ecContentAlgorithm = typeof S3EC_CEK_GCM | typeof S3EC_CEK_CBC | typeof S3EC_CEK_COMMIT;

/** A key-wrap algorithm (V3's compressed values are translated to these). */
export type S3ecWrapAlgorithm = 'kms+context' | 'AES/GCM' | 'RSA-OAEP-SHA1' | 'kms' | 'AESWrap' | 'RSA/ECB/OAEPWithSHA-256AndMGF1Padding';

/** What {@link detectS3ecFormat} finds. */
export type S3ecFormat =
  /** V1 names in the object metadata. */
  | 's3ec-v1'
  /** V2 names in the object metadata. */
  | 's3ec-v2'
  /** V3, every name in the object metadata. */
  | 's3ec-v3'
  /** V3 with `x-amz-c`/`x-amz-d`/`x-amz-i` only: the rest is in `<key>.instruction`. */
  | 's3ec-v3-instruction'
  /** No S3EC names (possibly a V1/V2 object whose fields are all in `<key>.instruction`). */
  | 'none';

/** A decoded S3EC object description (nothing here is authenticated). */
export interface S3ecObjectDescription {
  /** Format version. */
  readonly version: 1 | 2 | 3;
  /** The content algorithm. */
  readonly contentAlgorithm: S3ecContentAlgorithm;
  /** The key-wrap algorithm (V1 without `x-amz-wrap-alg` is refused at decode time). */
  readonly wrapAlgorithm: S3ecWrapAlgorithm;
  /** The encrypted data key. */
  readonly encryptedDataKey: Bytes;
  /** V1/V2: the content IV (16 bytes CBC, 12 bytes GCM). */
  readonly iv?: Bytes;
  /** V3: the 28-byte message id (HKDF salt). */
  readonly messageId?: Bytes;
  /** V3: the 28-byte key commitment. */
  readonly commitment?: Bytes;
  /** Material description (raw keyrings) or KMS encryption context (kms, kms+context). */
  readonly matdesc: Readonly<Record<string, string>>;
  /** Whether `matdesc` is a KMS encryption context (V2 kms+context / kms, V3 `x-amz-t`). */
  readonly matdescIsContext: boolean;
  /** `x-amz-unencrypted-content-length`, when present (V1/V2). */
  readonly unencryptedContentLength?: number;
  /** Whether some fields came from an instruction file. */
  readonly instructionFile: boolean;
}

const V1_ONLY = ['x-amz-key'] as const;
const V2_ONLY = ['x-amz-key-v2', 'x-amz-cek-alg', 'x-amz-tag-len'] as const;
const V12_SHARED = ['x-amz-iv', 'x-amz-matdesc', 'x-amz-wrap-alg', 'x-amz-unencrypted-content-length'] as const;
const V3_NAMES = ['x-amz-c', 'x-amz-3', 'x-amz-w', 'x-amz-d', 'x-amz-i', 'x-amz-m', 'x-amz-t'] as const;
/** V3 names that must stay in the object metadata (never in an instruction file). */
export const S3EC_V3_METADATA_ONLY: readonly string[] = ['x-amz-c', 'x-amz-d', 'x-amz-i'];
/** Every name this codec reads. */
export const S3EC_NAMES: readonly string[] = [...V1_ONLY, ...V2_ONLY, ...V12_SHARED, ...V3_NAMES];

const V3_WRAP: Readonly<Record<string, S3ecWrapAlgorithm>> = { '02': 'AES/GCM', '12': 'kms+context', '22': 'RSA-OAEP-SHA1' };
const V3_WRAP_CODE: Readonly<Partial<Record<S3ecWrapAlgorithm, string>>> = { 'AES/GCM': '02', 'kms+context': '12', 'RSA-OAEP-SHA1': '22' };
const V2_WRAPS: ReadonlySet<string> = new Set(['kms+context', 'AES/GCM', 'RSA-OAEP-SHA1', 'kms', 'AESWrap']);
const V1_WRAPS: ReadonlySet<string> = new Set(['kms', 'AESWrap', 'RSA/ECB/OAEPWithSHA-256AndMGF1Padding']);
/**
 * The V2 wraps that bind the content algorithm (AES/GCM AAD, RSA pseudo data key suffix, the
 * reserved KMS context entry), always as `AES/GCM/NoPadding` (research notes §2.2): S3EC writes
 * CBC content only under the legacy wraps, so CBC under one of these is a relabelled GCM object.
 */
const V2_BINDING_WRAPS: ReadonlySet<string> = new Set(['kms+context', 'AES/GCM', 'RSA-OAEP-SHA1']);

const bad = (field: string, why: string): EnsealError => new EnsealError('ERR_HEADER', `S3EC metadata "${field}" ${why}`);
const has = (m: ObjectMetadata, n: string): boolean => Object.hasOwn(m, n);

/**
 * Which S3EC format an object's metadata uses, from the names alone.
 *
 * @param metadata - the object's user metadata
 * @returns the format, or `'none'`
 * @throws EnsealError `ERR_HEADER` for names of two formats at once (V1 + V2, V1/V2 + V3)
 * @example
 * ```ts
 * detectS3ecFormat({ 'x-amz-key-v2': '…', 'x-amz-iv': '…' }); // 's3ec-v2'
 * ```
 */
export function detectS3ecFormat(metadata: ObjectMetadata): S3ecFormat {
  const v1 = V1_ONLY.filter((n) => has(metadata, n));
  const v2 = V2_ONLY.filter((n) => has(metadata, n));
  const shared = V12_SHARED.filter((n) => has(metadata, n));
  const v3 = V3_NAMES.filter((n) => has(metadata, n));
  if (v3.length > 0 && v1.length + v2.length + shared.length > 0) {
    throw bad([...v1, ...v2, ...shared][0]!, `is a V1/V2 name next to V3 names (${v3.join(', ')}): mixed metadata`);
  }
  if (v1.length > 0 && v2.length > 0) throw bad('x-amz-key', `is a V1 name next to V2 names (${v2.join(', ')}): mixed metadata`);
  if (v3.length > 0) {
    const inFile = v3.filter((n) => !S3EC_V3_METADATA_ONLY.includes(n));
    return inFile.length === 0 ? 's3ec-v3-instruction' : 's3ec-v3';
  }
  if (v1.length > 0) return 's3ec-v1';
  if (v2.length > 0) return 's3ec-v2';
  if (shared.length > 0) throw bad(shared[0]!, 'is present without x-amz-key or x-amz-key-v2: partial metadata');
  return 'none';
}

function text(m: ObjectMetadata, name: string, required: true): string;
function text(m: ObjectMetadata, name: string, required: false): string | undefined;
function text(m: ObjectMetadata, name: string, required: boolean): string | undefined {
  if (!has(m, name)) {
    if (required) throw bad(name, 'is missing: partial metadata');
    return undefined;
  }
  const v = m[name];
  if (typeof v !== 'string') throw bad(name, 'is not a string');
  if (v.length > S3EC_MAX_VALUE_LENGTH) throw bad(name, `is ${v.length} characters, over ${S3EC_MAX_VALUE_LENGTH}`);
  return v;
}

function b64(m: ObjectMetadata, name: string, length?: number): Bytes {
  const v = text(m, name, true);
  // Length before decoding: base64 of n bytes is 4·⌈n/3⌉ characters.
  const maxChars = 4 * Math.ceil((length ?? S3EC_MAX_EDK_LENGTH) / 3);
  if (v.length > maxChars) throw bad(name, `is ${v.length} characters, over the ${maxChars} of its largest valid value`);
  let out: Bytes;
  try {
    out = fromBase64(v);
  } catch {
    throw bad(name, `is not standard padded base64: "${escapeControl(v, 64)}"`);
  }
  if (length !== undefined && out.length !== length) throw bad(name, `expected ${length} bytes, got ${out.length}`);
  if (out.length === 0) throw bad(name, 'is empty');
  return out;
}

function decimal(m: ObjectMetadata, name: string): number | undefined {
  const v = text(m, name, false);
  if (v === undefined) return undefined;
  if (!/^(?:0|[1-9][0-9]{0,15})$/.test(v) || !Number.isSafeInteger(Number(v))) throw bad(name, `expected a canonical decimal, got "${escapeControl(v, 32)}"`);
  return Number(v);
}

/**
 * Parses a matdesc / encryption-context JSON text.
 * @param name - the field, for messages
 * @param v - the JSON text
 * @returns a frozen map of strings
 * @throws EnsealError `ERR_HEADER` for a text over the limits, not a JSON object, or with a non-string value
 * @example
 * ```ts
 * parseS3ecMatdesc('x-amz-matdesc', '{"a":"b"}'); // { a: 'b' }
 * ```
 */
export function parseS3ecMatdesc(name: string, v: string): Readonly<Record<string, string>> {
  if (v.length > S3EC_MAX_MATDESC_LENGTH) throw bad(name, `is ${v.length} characters, over ${S3EC_MAX_MATDESC_LENGTH}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    throw bad(name, `is not JSON: "${escapeControl(v, 80)}"`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad(name, 'is not a JSON object');
  const entries = Object.entries(parsed as Record<string, unknown>);
  if (entries.length > S3EC_MAX_MATDESC_ENTRIES) throw bad(name, `has ${entries.length} entries, over ${S3EC_MAX_MATDESC_ENTRIES}`);
  const out: Record<string, string> = {};
  for (const [k, x] of entries) {
    if (typeof x !== 'string') throw bad(name, `entry "${escapeControl(k, 64)}" is not a string`);
    out[k] = x;
  }
  return Object.freeze(out);
}

/**
 * The matdesc JSON S3EC writers produce, restricted to printable US-ASCII (store metadata
 * values must be): entries in the caller's order, non-ASCII escaped as `\uXXXX`.
 * @param m - the map
 * @returns the JSON text
 * @example
 * ```ts
 * s3ecMatdescJson({ 'aws:x-amz-cek-alg': '115' }); // '{"aws:x-amz-cek-alg":"115"}'
 * ```
 */
export function s3ecMatdescJson(m: Readonly<Record<string, string>>): string {
  return JSON.stringify(m).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function checkReserved(name: string, ctx: Readonly<Record<string, string>>, cek: S3ecContentAlgorithm): void {
  const v = ctx[S3EC_RESERVED_CONTEXT_KEY];
  if (v !== cek) throw bad(name, `expected the reserved entry "${S3EC_RESERVED_CONTEXT_KEY}": "${cek}", got ${v === undefined ? 'none' : `"${escapeControl(v, 40)}"`}`);
}

/**
 * The legacy `kms` wrap uses the stored context as is and binds nothing, so a `kms+context`
 * object (V2 or V3) relabelled `kms` would still unwrap. Such a context carries the reserved
 * entry, which legacy writers never add: when it is there it must name this object's content
 * algorithm (a V1 object has none to name), else the label was changed.
 */
function checkLegacyKmsContext(name: string, ctx: Readonly<Record<string, string>>, cek: typeof S3EC_CEK_GCM | typeof S3EC_CEK_CBC | undefined): void {
  if (!Object.hasOwn(ctx, S3EC_RESERVED_CONTEXT_KEY)) return;
  const v = ctx[S3EC_RESERVED_CONTEXT_KEY]!;
  if (cek === undefined || v !== cek) {
    throw bad(name, `holds the reserved entry "${S3EC_RESERVED_CONTEXT_KEY}": "${escapeControl(v, 40)}", which a legacy kms wrap of ${cek ?? 'a V1 object'} never carries (a relabelled kms+context object)`);
  }
}

/**
 * Decodes the S3EC fields of an object's metadata (merged with its instruction file, when the
 * caller read one: see `s3ec-instruction.ts`).
 *
 * @param metadata - the object's user metadata, or the merged map
 * @param opts - `instructionFile`: whether fields came from `<key>.instruction` (recorded only)
 * @returns the description, or `undefined` when the map has no S3EC names
 * @throws EnsealError `ERR_HEADER` for mixed, partial, unknown or non-canonical metadata (module comment)
 * @example
 * ```ts
 * const desc = decodeS3ecMetadata((await store.head(key)).metadata);
 * ```
 */
export function decodeS3ecMetadata(metadata: ObjectMetadata, opts: { readonly instructionFile?: boolean } = {}): S3ecObjectDescription | undefined {
  const m: ObjectMetadata = { ...metadata };
  const format = detectS3ecFormat(m);
  const instructionFile = opts.instructionFile === true;
  if (format === 'none') return undefined;
  if (format === 's3ec-v3' || format === 's3ec-v3-instruction') {
    const c = text(m, 'x-amz-c', true);
    if (c !== S3EC_CEK_COMMIT) throw bad('x-amz-c', `expected "${S3EC_CEK_COMMIT}" (ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY), got "${escapeControl(c, 32)}"`);
    const w = text(m, 'x-amz-w', true);
    const wrapAlgorithm = Object.hasOwn(V3_WRAP, w) ? V3_WRAP[w] : undefined;
    if (wrapAlgorithm === undefined) throw bad('x-amz-w', `is an unknown wrap algorithm "${escapeControl(w, 32)}" (expected 02, 12 or 22)`);
    const isKms = wrapAlgorithm === 'kms+context';
    if (isKms && has(m, 'x-amz-m')) throw bad('x-amz-m', 'is a material description next to kms+context (12), which uses x-amz-t');
    if (!isKms && has(m, 'x-amz-t')) throw bad('x-amz-t', `is a KMS encryption context next to wrap algorithm ${w}, which uses x-amz-m`);
    const field = isKms ? 'x-amz-t' : 'x-amz-m';
    const json = text(m, field, false);
    const matdesc = json === undefined ? Object.freeze({}) : parseS3ecMatdesc(field, json);
    if (isKms) checkReserved(field, matdesc, S3EC_CEK_COMMIT);
    return {
      version: 3,
      contentAlgorithm: S3EC_CEK_COMMIT,
      wrapAlgorithm,
      encryptedDataKey: b64(m, 'x-amz-3'),
      messageId: b64(m, 'x-amz-i', S3EC_V3_ID_LENGTH),
      commitment: b64(m, 'x-amz-d', S3EC_V3_ID_LENGTH),
      matdesc,
      matdescIsContext: isKms,
      instructionFile,
    };
  }
  const version = format === 's3ec-v1' ? 1 : 2;
  const unencryptedContentLength = decimal(m, 'x-amz-unencrypted-content-length');
  // V1 requires it; V2 readers (the Java client) default a missing one to {} (objects copied without it).
  const matdescText = version === 1 ? text(m, 'x-amz-matdesc', true) : text(m, 'x-amz-matdesc', false);
  const matdesc = matdescText === undefined ? Object.freeze({}) : parseS3ecMatdesc('x-amz-matdesc', matdescText);
  if (version === 1) {
    const w = text(m, 'x-amz-wrap-alg', false);
    if (w === undefined) throw new EnsealError('ERR_UNSUPPORTED', 'S3EC V1 object without x-amz-wrap-alg (JCE "AES"/"RSA" ECB key wrap): not supported');
    if (!V1_WRAPS.has(w)) throw bad('x-amz-wrap-alg', `is an unknown V1 wrap algorithm "${escapeControl(w, 64)}"`);
    if (w === 'kms') checkLegacyKmsContext('x-amz-matdesc', matdesc, undefined);
    return {
      version: 1,
      contentAlgorithm: S3EC_CEK_CBC,
      wrapAlgorithm: w as S3ecWrapAlgorithm,
      encryptedDataKey: b64(m, 'x-amz-key'),
      iv: b64(m, 'x-amz-iv', 16),
      matdesc,
      matdescIsContext: w === 'kms',
      ...(unencryptedContentLength === undefined ? {} : { unencryptedContentLength }),
      instructionFile,
    };
  }
  const cek = text(m, 'x-amz-cek-alg', true);
  if (cek !== S3EC_CEK_GCM && cek !== S3EC_CEK_CBC) throw bad('x-amz-cek-alg', `is an unknown content algorithm "${escapeControl(cek, 64)}"`);
  const tag = text(m, 'x-amz-tag-len', false);
  if (cek === S3EC_CEK_GCM && tag !== '128') throw bad('x-amz-tag-len', tag === undefined ? 'is missing for AES/GCM/NoPadding: partial metadata' : `expected "128", got "${escapeControl(tag, 32)}"`);
  if (cek === S3EC_CEK_CBC && tag !== undefined) throw bad('x-amz-tag-len', 'must be absent for AES/CBC/PKCS5Padding');
  const w = text(m, 'x-amz-wrap-alg', true);
  if (!V2_WRAPS.has(w)) throw bad('x-amz-wrap-alg', `is an unknown wrap algorithm "${escapeControl(w, 64)}"`);
  if (cek === S3EC_CEK_CBC && V2_BINDING_WRAPS.has(w)) {
    throw bad('x-amz-wrap-alg', `"${w}" never wraps AES/CBC/PKCS5Padding content (S3EC writes CBC only under the legacy kms and AESWrap wraps): a relabelled AES/GCM object`);
  }
  if (w === 'kms+context') checkReserved('x-amz-matdesc', matdesc, cek);
  if (w === 'kms') checkLegacyKmsContext('x-amz-matdesc', matdesc, cek);
  return {
    version: 2,
    contentAlgorithm: cek,
    wrapAlgorithm: w as S3ecWrapAlgorithm,
    encryptedDataKey: b64(m, 'x-amz-key-v2'),
    iv: b64(m, 'x-amz-iv', cek === S3EC_CEK_GCM ? 12 : 16),
    matdesc,
    matdescIsContext: w === 'kms+context' || w === 'kms',
    ...(unencryptedContentLength === undefined ? {} : { unencryptedContentLength }),
    instructionFile,
  };
}

/** What {@link encodeS3ecMetadata} encodes (a V2 GCM or V3 object). */
export interface S3ecEncodeInput {
  /** 2 or 3. */
  readonly version: 2 | 3;
  /** `kms+context`, `AES/GCM` or `RSA-OAEP-SHA1`. */
  readonly wrapAlgorithm: 'kms+context' | 'AES/GCM' | 'RSA-OAEP-SHA1';
  /** The encrypted data key. */
  readonly encryptedDataKey: Uint8Array;
  /** V2: the 12-byte IV. */
  readonly iv?: Uint8Array;
  /** V3: message id and commitment (28 bytes each). */
  readonly messageId?: Uint8Array;
  readonly commitment?: Uint8Array;
  /** Material description, or for kms+context the full encryption context (reserved entry included). */
  readonly matdesc: Readonly<Record<string, string>>;
  /** V2: the plaintext length. */
  readonly unencryptedContentLength?: number;
}

/**
 * Encodes a V2 (GCM) or V3 object's metadata, as the Java client writes it.
 *
 * @param input - the fields
 * @returns the metadata map (every S3EC name of the object; `s3ec-instruction.ts` splits it)
 * @throws RangeError for fields of the wrong length
 * @example
 * ```ts
 * const metadata = encodeS3ecMetadata({ version: 3, wrapAlgorithm: 'AES/GCM', encryptedDataKey, messageId, commitment, matdesc: {} });
 * ```
 */
export function encodeS3ecMetadata(input: S3ecEncodeInput): ObjectMetadata {
  if (input.encryptedDataKey.length === 0 || input.encryptedDataKey.length > S3EC_MAX_EDK_LENGTH) throw new RangeError('"encryptedDataKey" expected 1..4096 bytes');
  const json = s3ecMatdescJson(input.matdesc);
  if (input.version === 3) {
    if (input.messageId?.length !== S3EC_V3_ID_LENGTH || input.commitment?.length !== S3EC_V3_ID_LENGTH) throw new RangeError('"messageId" and "commitment" expected 28 bytes each');
    const isKms = input.wrapAlgorithm === 'kms+context';
    return {
      'x-amz-c': S3EC_CEK_COMMIT,
      'x-amz-3': toBase64(input.encryptedDataKey),
      'x-amz-w': V3_WRAP_CODE[input.wrapAlgorithm]!,
      'x-amz-d': toBase64(input.commitment),
      'x-amz-i': toBase64(input.messageId),
      [isKms ? 'x-amz-t' : 'x-amz-m']: json,
    };
  }
  if (input.iv?.length !== 12) throw new RangeError('"iv" expected 12 bytes');
  return {
    'x-amz-key-v2': toBase64(input.encryptedDataKey),
    'x-amz-iv': toBase64(input.iv),
    'x-amz-cek-alg': S3EC_CEK_GCM,
    'x-amz-tag-len': '128',
    'x-amz-wrap-alg': input.wrapAlgorithm,
    'x-amz-matdesc': json,
    ...(input.unencryptedContentLength === undefined ? {} : { 'x-amz-unencrypted-content-length': String(input.unencryptedContentLength) }),
  };
}
