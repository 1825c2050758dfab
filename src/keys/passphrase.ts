/**
 * Passphrase key provider: a password-based KDF (Argon2id by default, or scrypt, or
 * PBKDF2-HMAC-SHA-256) turns the passphrase and a random salt into a 32-byte key-encryption key
 * (KEK) that wraps the data key with AES-256-GCM (docs/FORMAT.md §4).
 *
 * ```
 * stanza type  "passphrase"
 * key id       the label ("" by default; not secret, never used to pick the stanza)
 * params       kdf=argon2id, m, t, p | kdf=scrypt, N, r, p | kdf=pbkdf2-sha256, i;  salt=<base64>
 * wrapped      nonce (12, random) || AES-256-GCM(KEK, nonce, data key, aad) (32 + 16 tag)   = 60 bytes
 * KEK          KDF(passphrase, salt, costs) → 32 bytes   (RFC 9106 / RFC 7914 / RFC 8018)
 * aad          "enseal/v1 passphrase" || 0x00 || u16 len(key id) || key id
 *              || u8 count || count × (u8 len, name, u16 len, value)   (params, names ascending)
 *              || bound header part
 * ```
 *
 * @module
 */
import { concat, utf8, utf8Strict, wipe, type Bytes } from '../bytes.js';
import { EnsealError } from '../errors.js';
import { MAX_KEY_ID_LENGTH } from '../format/limits.js';
import { deriveKey, PASSPHRASE_KDFS, type Argon2idCost, type KdfParams, type PassphraseKdf, type Pbkdf2Cost, type ScryptCost } from './passphrase-kdf.js';
import { checkKdfParams, DEFAULT_KDF_PARAMS, encodeStanzaParams, parseStanzaParams, PASSPHRASE_LIMITS, SALT_LENGTH } from './passphrase-params.js';
import type { KeyProvider, Stanza, WrapContext } from './provider.js';

/** Stanza type written by {@link passphrase}. */
export const PASSPHRASE_STANZA = 'passphrase';
const WRAPPED_LENGTH = 12 + 32 + 16;
const AAD_LABEL = utf8('enseal/v1 passphrase');
/** Default number of KDF runs one provider spends on one header. */
const DEFAULT_MAX_ATTEMPTS = 4;

/** Options shared by every KDF choice of {@link passphrase}. */
export interface PassphraseCommonOptions {
  /**
   * The passphrase. A string is NFC-normalised (Unicode UAX #15, as RFC 8265's OpaqueString
   * profile does) and then UTF-8 encoded, so the same passphrase typed on systems whose input
   * methods produce composed or decomposed characters derives the same key. Bytes are used
   * exactly as given. Either is copied; the provider's copy is wiped by `dispose()` (a string
   * itself cannot be wiped from JS memory).
   */
  passphrase: string | Uint8Array;
  /** Non-secret label stored as the stanza's key id (e.g. to prompt "passphrase for backups"). */
  label?: string;
  /**
   * Memory ceiling in KiB for Argon2id `m` and scrypt `128·N·r·p` bytes, on encryption and on
   * decryption (default 1 GiB = 1048576; at most 2 GiB). Raise it only to read objects written
   * with more.
   */
  maxMemoryKiB?: number;
  /**
   * Most KDF runs this provider performs for one header (default 4). A header may carry up to
   * 64 passphrase stanzas and each run may cost up to the bounds; further stanzas of the same
   * header are refused with `ERR_LIMIT`.
   */
  maxAttempts?: number;
}

/** Options of {@link passphrase}: the passphrase, and optionally the KDF and its costs. */
export type PassphraseOptions = PassphraseCommonOptions &
  (
    | { kdf?: 'argon2id'; params?: Partial<Argon2idCost> }
    | { kdf: 'scrypt'; params?: Partial<ScryptCost> }
    | { kdf: 'pbkdf2-sha256'; params?: Partial<Pbkdf2Cost> }
  );

/** The provider {@link passphrase} returns. */
export interface PassphraseProvider extends KeyProvider {
  /** The KDF and costs used when this provider wraps (encrypts). */
  readonly kdf: Readonly<KdfParams>;
  /** Wipes the provider's copy of the passphrase; later wrap/unwrap calls throw `ERR_STATE`. */
  dispose(): void;
}

function passphraseBytes(p: unknown): Bytes {
  if (typeof p === 'string') {
    if (p.length === 0) throw new RangeError('"passphrase" expected a non-empty string');
    return utf8Strict(p.normalize('NFC'), '"passphrase"');
  }
  if (p instanceof Uint8Array) {
    if (p.length === 0) throw new RangeError('"passphrase" expected at least 1 byte');
    return p.slice();
  }
  throw new TypeError(`"passphrase" expected a string or Uint8Array, got ${p === null ? 'null' : typeof p}`);
}

function kdfFromOptions(opts: PassphraseOptions, maxMemoryKiB: number): KdfParams {
  const kdf = (opts.kdf ?? 'argon2id') as PassphraseKdf;
  if (!(PASSPHRASE_KDFS as readonly string[]).includes(kdf)) {
    throw new TypeError(`"kdf" expected one of ${PASSPHRASE_KDFS.join(', ')}, got ${String(opts.kdf)}`);
  }
  const given: Record<string, unknown> = opts.params ?? {};
  if (typeof given !== 'object' || given === null) throw new TypeError('"params" expected an object');
  const defaults: Record<string, number> = { ...DEFAULT_KDF_PARAMS[kdf] };
  for (const k of Object.keys(given)) {
    if (!(k in defaults)) throw new TypeError(`"params" of ${kdf} expected only ${Object.keys(defaults).join(', ')}, got ${k}`);
    if (given[k] !== undefined) defaults[k] = given[k] as number;
  }
  const params = { kdf, ...defaults } as KdfParams;
  checkKdfParams(params, maxMemoryKiB, 'options');
  return Object.freeze(params);
}

function positiveIntOption(v: unknown, name: string, def: number, max: number): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > max) {
    throw new RangeError(`"${name}" expected an integer 1..${max}, got ${String(v)}`);
  }
  return v;
}

function aadFor(keyId: Bytes, params: Readonly<Record<string, string>>, ctx: WrapContext): Bytes {
  const parts: Uint8Array[] = [AAD_LABEL, Uint8Array.of(0, keyId.length >>> 8, keyId.length & 0xff), keyId];
  // Names are ASCII, so string order is byte order (the header's canonical order).
  const names = Object.keys(params).sort();
  parts.push(Uint8Array.of(names.length));
  for (const name of names) {
    const n = utf8(name);
    const v = utf8(params[name] as string);
    parts.push(Uint8Array.of(n.length), n, Uint8Array.of(v.length >>> 8, v.length & 0xff), v);
  }
  parts.push(ctx.aad);
  return concat(...parts);
}

/**
 * A key provider for a passphrase.
 *
 * **Every passphrase stanza is "mine".** A passphrase has no identity that could be matched
 * against a stanza without running the KDF, so `unwrap` never answers `null` for a
 * `passphrase` stanza (the label is informational): it derives the KEK and tries it, and a wrong
 * passphrase is an `ERR_AUTH` failure (surfacing from `decrypt` as an `ERR_NO_KEY` cause).
 *
 * **Untrusted costs.** On decryption the KDF parameters come from the object. They are checked
 * before the KDF runs: Argon2id `m` ≤ `maxMemoryKiB` (1 GiB), `t` ≤ 10, `p` ≤ 16; scrypt
 * `N` ≤ 2^20 and `128·N·r·p` ≤ `maxMemoryKiB`; PBKDF2 iterations 10 000..10 000 000; salt
 * 16..32 bytes. Anything else is `ERR_LIMIT` (a bound), `ERR_HEADER` (malformed) or
 * `ERR_UNSUPPORTED` (unknown KDF), at once. At most `maxAttempts` KDF runs per header.
 *
 * Each `wrap` runs the KDF once with a fresh 16-byte salt (about 0.55 s with the Argon2id
 * defaults), and each `unwrap` once per passphrase stanza tried. The derived KEK is wiped after
 * use. hash-wasm's WebAssembly memory is outside enseal's reach.
 *
 * @param opts - the passphrase; `kdf` (`'argon2id'` default, `'scrypt'`, `'pbkdf2-sha256'`)
 *   and `params` (any subset of the KDF's costs, the rest from the defaults); `label`,
 *   `maxMemoryKiB`, `maxAttempts`
 * @returns a provider usable in `recipients` (encrypt) and `keys` (decrypt)
 * @throws TypeError for a missing passphrase, an unknown KDF or cost name; RangeError for an
 *   empty passphrase or costs outside the bounds above
 * @example
 * ```ts
 * const pw = passphrase({ passphrase: 'correct horse battery staple' });
 * const sealed = await encrypt(data, { recipients: [pw] });
 * const plain = await decrypt(sealed, { keys: [pw] });
 * // cheaper, e.g. for tests:
 * passphrase({ passphrase: 'x', kdf: 'scrypt', params: { N: 1024 } });
 * ```
 */
export function passphrase(opts: PassphraseOptions): PassphraseProvider {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('"options" expected an object with a passphrase');
  const secret = passphraseBytes(opts.passphrase);
  const label = opts.label ?? '';
  if (typeof label !== 'string') throw new TypeError('"label" expected a string');
  const labelBytes = utf8Strict(label, '"label"');
  if (labelBytes.length > MAX_KEY_ID_LENGTH) throw new RangeError(`"label" expected at most ${MAX_KEY_ID_LENGTH} bytes, got ${labelBytes.length}`);
  const maxMemoryKiB = positiveIntOption(opts.maxMemoryKiB, 'maxMemoryKiB', PASSPHRASE_LIMITS.maxMemoryKiB, PASSPHRASE_LIMITS.maxMemoryKiBCeiling);
  const maxAttempts = positiveIntOption(opts.maxAttempts, 'maxAttempts', DEFAULT_MAX_ATTEMPTS, 64);
  const kdf = kdfFromOptions(opts, maxMemoryKiB);
  const attempts = new WeakMap<WrapContext, number>();
  let disposed = false;
  const live = (): Bytes => {
    if (disposed) throw new EnsealError('ERR_STATE', 'passphrase provider was disposed');
    return secret;
  };

  async function withKek<T>(kdfParams: KdfParams, salt: Uint8Array, use: (kek: Bytes) => Promise<T>): Promise<T> {
    const kek = await deriveKey(kdfParams, live(), salt, 32);
    try {
      return await use(kek);
    } finally {
      wipe(kek);
    }
  }

  return {
    description: label === '' ? PASSPHRASE_STANZA : `${PASSPHRASE_STANZA}:${label}`,
    kdf,
    async wrap(dataKey, ctx): Promise<Stanza> {
      const salt = ctx.backend.randomBytes(SALT_LENGTH);
      const params = encodeStanzaParams(kdf, salt);
      return withKek(kdf, salt, async (kek) => {
        const aead = await ctx.backend.aesGcm(kek);
        try {
          const nonce = ctx.backend.randomBytes(12);
          const sealed = await aead.seal(nonce, dataKey, aadFor(labelBytes, params, ctx));
          return { type: PASSPHRASE_STANZA, keyId: label, params, wrapped: concat(nonce, sealed) };
        } finally {
          aead.dispose();
        }
      });
    },
    async unwrap(stanza, ctx): Promise<Bytes | null> {
      if (stanza.type !== PASSPHRASE_STANZA) return null;
      live();
      if (stanza.wrapped.length !== WRAPPED_LENGTH) {
        throw new EnsealError('ERR_HEADER', `passphrase stanza: wrapped key is ${stanza.wrapped.length} bytes, expected ${WRAPPED_LENGTH}`);
      }
      const { kdf: kdfParams, salt } = parseStanzaParams(stanza.params, maxMemoryKiB);
      const n = (attempts.get(ctx) ?? 0) + 1;
      if (n > maxAttempts) throw new EnsealError('ERR_LIMIT', `passphrase stanza: more than ${maxAttempts} passphrase stanzas tried in one header (maxAttempts)`);
      attempts.set(ctx, n);
      const keyId = utf8(stanza.keyId);
      return withKek(kdfParams, salt, async (kek) => {
        const aead = await ctx.backend.aesGcm(kek);
        try {
          return await aead.open(stanza.wrapped.subarray(0, 12), stanza.wrapped.subarray(12), aadFor(keyId, stanza.params, ctx));
        } catch (e) {
          if (e instanceof EnsealError && e.code === 'ERR_AUTH') {
            throw new EnsealError('ERR_AUTH', 'passphrase stanza failed authentication (wrong passphrase, or a modified header)');
          }
          throw e;
        } finally {
          aead.dispose();
        }
      });
    },
    dispose(): void {
      disposed = true;
      secret.fill(0);
    },
  };
}
