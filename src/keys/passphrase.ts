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
import { concat, utf8, utf8Strict, wipe, type Bytes, copyBytes } from '../bytes.js';
import { EnsealError } from '../errors.js';
import { MAX_KEY_ID_LENGTH } from '../format/limits.js';
import { chargeKdfBudget } from './kdf-budget.js';
import { kdfCostMilli, MILLI } from './kdf-cost.js';
import { deriveKey, type Argon2idCost, type KdfParams, type Pbkdf2Cost, type ScryptCost } from './passphrase-kdf.js';

export type { PassphraseExpectation } from './kdf-pin.js';
import { pinFromOptions, pinMismatch, type PassphraseExpectation } from './kdf-pin.js';
import { canonicalKdf, checkKdfParams, costOptions, DEFAULT_KDF_PARAMS, encodeStanzaParams, parseStanzaParams, PASSPHRASE_LIMITS, SALT_LENGTH } from './passphrase-params.js';
import type { KeyProvider, Stanza, WrapContext } from './provider.js';

/** Stanza type written by {@link passphrase}. */
export const PASSPHRASE_STANZA = 'passphrase';
const WRAPPED_LENGTH = 12 + 32 + 16;
const AAD_LABEL = utf8('enseal/v1 passphrase');

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
   * decryption (default 256 MiB = 262144; at most 2 GiB). Raise it only to read objects written
   * with more (and raise `maxCost` with it).
   */
  maxMemoryKiB?: number;
  /**
   * KDF work budget per header, in cost units (1 = one default Argon2id derivation, about
   * 0.45 s on our build VM; see `kdfCost`); default 10, at most 1000. On decryption every
   * passphrase stanza tried is charged its cost *before* it is derived, and a stanza that does
   * not fit what is left is refused with `ERR_LIMIT`. On encryption the passphrase recipients of
   * one object together may cost at most this much, so that a reader with the same budget can
   * try them all.
   */
  maxCost?: number;
  /**
   * Pin the parameters this reader accepts, e.g. `{ kdf: 'argon2id', params: { memoryKiB: 131072 } }`:
   * a stanza with others is refused (`ERR_LIMIT`, "(expect)") before any derivation. Useful
   * when you know how your objects were written: a forged stanza then cannot make you spend
   * even the budget. Does not change what `wrap` writes (`kdf`/`params` do).
   */
  expect?: PassphraseExpectation;
}

/** Options of {@link passphrase}: the passphrase, and optionally the KDF and its costs. */
export type PassphraseOptions = PassphraseCommonOptions &
  (
    | { kdf?: 'argon2id'; params?: Partial<Argon2idCost> }
    | { kdf: 'scrypt'; params?: Partial<ScryptCost> }
    | { kdf: 'pbkdf2-sha256' | 'pbkdf2'; params?: Partial<Pbkdf2Cost> }
  );

/** The provider {@link passphrase} returns. */
export interface PassphraseProvider extends KeyProvider {
  /** The KDF and costs used when this provider wraps (encrypts). */
  readonly kdf: Readonly<KdfParams>;
  /** The per-header KDF budget of this provider, in cost units. */
  readonly maxCost: number;
  /** Wipes the provider's copy of the passphrase; later wrap/unwrap calls throw `ERR_STATE`. */
  dispose(): void;
  /**
   * The cost in units of trying `stanza` (0 for a stanza that is not a passphrase stanza, or
   * that will be refused without deriving).
   */
  unwrapCost(stanza: Stanza): number;
}

function passphraseBytes(p: unknown): Bytes {
  if (typeof p === 'string') {
    if (p.length === 0) throw new RangeError('"passphrase" expected a non-empty string');
    return utf8Strict(p.normalize('NFC'), '"passphrase"');
  }
  if (p instanceof Uint8Array) {
    if (p.length === 0) throw new RangeError('"passphrase" expected at least 1 byte');
    return copyBytes(p);
  }
  throw new TypeError(`"passphrase" expected a string or Uint8Array, got ${p === null ? 'null' : typeof p}`);
}

function kdfFromOptions(opts: PassphraseOptions, maxMemoryKiB: number): KdfParams {
  const kdf = canonicalKdf(opts.kdf);
  const given = costOptions(kdf, opts.params, 'params', (_k, v) => v as number);
  const params = { kdf, ...DEFAULT_KDF_PARAMS[kdf], ...given } as KdfParams;
  checkKdfParams(params, maxMemoryKiB, 'options');
  return Object.freeze(params);
}

function maxCostOption(v: unknown): number {
  if (v === undefined) return PASSPHRASE_LIMITS.defaultMaxCost;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > PASSPHRASE_LIMITS.maxCostCeiling) {
    throw new RangeError(`"maxCost" expected a number of cost units in (0, ${PASSPHRASE_LIMITS.maxCostCeiling}], got ${String(v)}`);
  }
  return v;
}

const units = (milli: number): string => String(milli / MILLI);

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
 * **Untrusted costs.** On decryption the KDF parameters come from the object. Before anything is
 * derived they are parsed and bounded: Argon2id `m` ≤ `maxMemoryKiB` (256 MiB), `t` ≤ 8,
 * `p` ≤ 4; scrypt `N` ≤ 2^20, `r` ≤ 16, `p` ≤ 16 and `128·N·r·p` ≤ `maxMemoryKiB`; PBKDF2
 * iterations 10 000..1 200 000; salt 16..32 bytes (`PASSPHRASE_LIMITS`). Anything else is
 * `ERR_LIMIT` (a bound), `ERR_HEADER` (malformed) or `ERR_UNSUPPORTED` (unknown KDF), at once.
 * Then the stanza must match `expect`, if given, and its cost (`kdfCost`) must fit what is
 * left of the header's budget (`maxCost`, default 10 units), else `ERR_LIMIT`. The budget is
 * per header and shared by every passphrase provider trying that header; `decrypt` tries
 * passphrase stanzas after every other kind, cheapest first (`unwrapCost`), so a hostile stanza
 * cannot spend the budget ahead of a cheaper real one. Any number of passphrase recipients can
 * decrypt: encryption refuses a set of passphrase recipients whose total cost exceeds the
 * writer's `maxCost`, so a reader with that budget can always try them all.
 *
 * **Where the KDF runs.** In Node, Bun and Deno each derivation runs in a worker thread that is
 * terminated before the call returns: the event loop keeps running, and the KDF's memory is
 * returned. Where no worker can start (browsers, or bundles without hash-wasm on disk) it runs
 * on the calling thread, which then blocks for the derivation, and hash-wasm's WebAssembly
 * memory keeps the largest size a KDF needed.
 *
 * Each `wrap` runs the KDF once with a fresh 16-byte salt (about 0.45 s with the Argon2id
 * defaults), and each `unwrap` once per passphrase stanza tried. The passphrase crosses to the
 * worker by transfer and is wiped there; the derived KEK comes back by transfer and is wiped
 * after use.
 *
 * @param opts - the passphrase; `kdf` (`'argon2id'` default, `'scrypt'`, `'pbkdf2-sha256'`,
 *   or its alias `'pbkdf2'`) and `params` (any subset of the KDF's costs, the rest from the
 *   defaults); `label`, `maxMemoryKiB`, `maxCost`, `expect`
 * @returns a provider usable in `recipients` (encrypt) and `keys` (decrypt)
 * @throws TypeError for a missing passphrase, an unknown KDF or cost name; RangeError for an
 *   empty passphrase, costs outside the bounds above, or costs above `maxCost`
 * @example
 * ```ts
 * const pw = passphrase({ passphrase: 'correct horse battery staple' });
 * const sealed = await encrypt(data, { recipients: [pw] });
 * const plain = await decrypt(sealed, { keys: [pw] });
 * // a reader that accepts only the defaults it wrote with:
 * passphrase({ passphrase: 'correct horse battery staple', expect: { kdf: 'argon2id', params: DEFAULT_KDF_PARAMS.argon2id } });
 * // cheaper, e.g. for tests:
 * passphrase({ passphrase: 'x', kdf: 'scrypt', params: { N: 1024 } });
 * ```
 */
export function passphrase(opts: PassphraseOptions): PassphraseProvider {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('"options" expected an object with a passphrase');
  const label = opts.label ?? '';
  if (typeof label !== 'string') throw new TypeError('"label" expected a string');
  const labelBytes = utf8Strict(label, '"label"');
  if (labelBytes.length > MAX_KEY_ID_LENGTH) throw new RangeError(`"label" expected at most ${MAX_KEY_ID_LENGTH} bytes, got ${labelBytes.length}`);
  const maxMemoryKiB = positiveIntOption(opts.maxMemoryKiB, 'maxMemoryKiB', PASSPHRASE_LIMITS.maxMemoryKiB, PASSPHRASE_LIMITS.maxMemoryKiBCeiling);
  const maxCost = maxCostOption(opts.maxCost);
  const budget = Math.round(maxCost * MILLI);
  const kdf = kdfFromOptions(opts, maxMemoryKiB);
  const ownCost = kdfCostMilli(kdf);
  if (ownCost > budget) {
    throw new RangeError(`one derivation with these costs is ${units(ownCost)} cost units, above "maxCost" ${maxCost}: no reader with that budget could decrypt`);
  }
  const pin = pinFromOptions(opts.expect);
  // Last, so that no argument error leaves an unwiped copy behind.
  const secret = passphraseBytes(opts.passphrase);
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
    maxCost,
    async wrap(dataKey, ctx): Promise<Stanza> {
      live();
      // What a reader will have to spend on this object's passphrase stanzas, counted before
      // this one is derived (one ledger per header, shared by every passphrase recipient).
      const charge = chargeKdfBudget(ctx, 'wrap', ownCost, budget);
      if (!charge.charged) {
        throw new RangeError(
          `the passphrase recipients of one object would cost ${units(charge.spentMilli + ownCost)} cost units to try, above "maxCost" ${maxCost}: ` +
            'a reader could not reach every passphrase stanza (use fewer passphrase recipients or cheaper costs)',
        );
      }
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
    unwrapCost(stanza): number {
      if (stanza?.type !== PASSPHRASE_STANZA || disposed) return 0;
      try {
        const { kdf: p } = parseStanzaParams(stanza.params, maxMemoryKiB);
        return pinMismatch(pin, p) === undefined ? kdfCostMilli(p) / MILLI : 0;
      } catch {
        return 0; // refused by unwrap at once, without deriving
      }
    },
    async unwrap(stanza, ctx): Promise<Bytes | null> {
      if (stanza.type !== PASSPHRASE_STANZA) return null;
      live();
      // Snapshot what is checked, so the values derived from and authenticated are those checked.
      const wrapped = copyBytes(stanza.wrapped);
      const stanzaParams: Readonly<Record<string, string>> = Object.freeze({ ...stanza.params });
      const keyId = utf8(stanza.keyId);
      if (wrapped.length !== WRAPPED_LENGTH) {
        throw new EnsealError('ERR_HEADER', `passphrase stanza: wrapped key is ${wrapped.length} bytes, expected ${WRAPPED_LENGTH}`);
      }
      const { kdf: kdfParams, salt } = parseStanzaParams(stanzaParams, maxMemoryKiB);
      const mismatch = pinMismatch(pin, kdfParams);
      if (mismatch !== undefined) throw new EnsealError('ERR_LIMIT', `passphrase stanza: ${mismatch} (expect)`);
      const cost = kdfCostMilli(kdfParams);
      if (cost > budget) {
        throw new EnsealError('ERR_LIMIT', `passphrase stanza: one derivation would cost ${units(cost)} cost units, above the budget of ${maxCost} per header (maxCost)`);
      }
      const charge = chargeKdfBudget(ctx, 'unwrap', cost, budget);
      if (!charge.charged) {
        throw new EnsealError(
          'ERR_LIMIT',
          `passphrase stanza: deriving would cost ${units(cost)} cost units, but only ${units(budget - charge.spentMilli)} of this header's budget of ${maxCost} are left (maxCost)`,
        );
      }
      return withKek(kdfParams, salt, async (kek) => {
        const aead = await ctx.backend.aesGcm(kek);
        try {
          return await aead.open(wrapped.subarray(0, 12), wrapped.subarray(12), aadFor(keyId, stanzaParams, ctx));
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

/**
 * Counts the passphrase stanzas an object already has against the wrap budget of `ctx`, so that
 * passphrase recipients added to it afterwards (rewrap) are refused, like at encryption, when a
 * reader could no longer try every passphrase stanza within `maxCost`. Stanzas that are not
 * passphrase stanzas, or that no reader would derive (malformed, beyond the largest bounds), are
 * not counted.
 * @param ctx - the context the new recipients will wrap with
 * @param stanzas - the recipients the object keeps
 * @returns the cost counted, in units
 * @example
 * ```ts
 * chargeKeptPassphraseStanzas(ctx, kept);
 * for (const p of add) added.push(await p.wrap(dataKey, ctx)); // RangeError when over budget
 * ```
 */
export function chargeKeptPassphraseStanzas(ctx: WrapContext, stanzas: readonly Stanza[]): number {
  let total = 0;
  for (const s of stanzas) {
    if (s?.type !== PASSPHRASE_STANZA) continue;
    let cost: number;
    try {
      cost = kdfCostMilli(parseStanzaParams(s.params, PASSPHRASE_LIMITS.maxMemoryKiBCeiling).kdf);
    } catch {
      continue;
    }
    // An unlimited budget: this records, it never refuses (the recipients are already there).
    chargeKdfBudget(ctx, 'wrap', cost, Number.MAX_SAFE_INTEGER);
    total += cost;
  }
  return total / MILLI;
}
