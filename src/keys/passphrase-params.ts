/**
 * Parameters of passphrase stanzas (docs/FORMAT.md §4): defaults, bounds, and the conversion
 * between {@link KdfParams} and the stanza's string parameters.
 *
 * ```
 * kdf=argon2id       m=<KiB> t=<passes> p=<lanes>  salt=<base64, 16..32 bytes>
 * kdf=scrypt         N=<cost> r=<block size> p=<parallelism>  salt=…
 * kdf=pbkdf2-sha256  i=<iterations>  salt=…
 * ```
 * Integers are canonical decimal (no sign, no leading zero); the salt is standard padded base64
 * with no stray bits. Nothing else may appear.
 *
 * On decryption these values are attacker-controlled, and a KDF's cost is whatever they say:
 * {@link parseStanzaParams} checks every bound before any KDF runs, so an absurd cost (4 GiB of
 * memory, a billion iterations) is refused in microseconds rather than attempted.
 *
 * @module
 */
import { fromBase64, toBase64, type Bytes } from '../bytes.js';
import { EnsealError } from '../errors.js';
import { PASSPHRASE_KDFS, type Argon2idCost, type KdfParams, type PassphraseKdf, type Pbkdf2Cost, type ScryptCost } from './passphrase-kdf.js';

/** Salt length written by `passphrase()`, in bytes. */
export const SALT_LENGTH = 16;
/** Shortest salt accepted in a stanza (RFC 9106 §3.1 recommends 16 bytes). */
export const MIN_SALT_LENGTH = 16;
/** Longest salt accepted in a stanza. */
export const MAX_SALT_LENGTH = 32;

/**
 * Default costs. Argon2id: 128 MiB, 2 passes, 1 lane — about 0.45 s per derivation with
 * hash-wasm on the 2-core build VM (Node 20.20), inside RFC 9106 §4's "as much memory as you
 * can afford" guidance and above OWASP's 19 MiB/t=2 minimum; 1.1 cost units. scrypt: N = 2^17,
 * r = 8, p = 1 (128 MiB, OWASP's minimum, 0.4–0.6 s; 1.1 units). PBKDF2-HMAC-SHA-256: 600 000
 * iterations (OWASP's minimum; 1.7–2.1 s in hash-wasm here, 4.1 units — prefer Argon2id).
 */
export const DEFAULT_KDF_PARAMS: Readonly<{ argon2id: Argon2idCost; scrypt: ScryptCost; 'pbkdf2-sha256': Pbkdf2Cost }> = Object.freeze({
  argon2id: Object.freeze({ memoryKiB: 131072, iterations: 2, parallelism: 1 }),
  scrypt: Object.freeze({ N: 2 ** 17, r: 8, p: 1 }),
  'pbkdf2-sha256': Object.freeze({ iterations: 600_000 }),
});

/**
 * Bounds on KDF costs, checked on encryption (`RangeError`) and on decryption (`ERR_LIMIT`)
 * before a KDF runs: encryption refuses exactly what decryption would refuse. Memory is the one
 * most likely to need raising, so it is an option of `passphrase()` (`maxMemoryKiB`, up to
 * `maxMemoryKiBCeiling`); the others are fixed. On top of these per-parameter maxima, the total
 * work a reader spends on one header is capped by a budget in cost units (`kdf-cost.ts`;
 * `defaultMaxCost`, option `maxCost`).
 *
 * Why these values (OWASP Password Storage Cheat Sheet, current edition: Argon2id at least
 * m = 19 MiB, t = 2, p = 1, or an equivalent trade such as m = 7 MiB, t = 5; scrypt at least
 * N = 2^17, r = 8, p = 1, or N = 2^13, r = 8, p = 10; PBKDF2-HMAC-SHA-256 at least 600 000
 * iterations). Those are minimums for a server hashing many logins; a passphrase that unlocks
 * one object can afford more, so every maximum leaves headroom above them, but not the
 * unbounded headroom that lets a hostile object pin a reader:
 *
 * - Argon2id `m` ≤ 256 MiB (default `maxMemoryKiB`): 13× OWASP's 19 MiB and 2× our default
 *   128 MiB. `t` ≤ 8: OWASP's lowest-memory equivalent uses t = 5; with m at its maximum, t = 8
 *   costs 6 units (about 3 s here), inside the default budget. `p` ≤ 4: OWASP uses p = 1,
 *   RFC 9106 §4's recommended options p = 4; hash-wasm runs lanes one after another, so more
 *   lanes buy a reader nothing.
 * - scrypt `N` ≤ 2^20 (8× OWASP's 2^17), `r` ≤ 16 (OWASP always uses r = 8), `p` ≤ 16 (OWASP's
 *   highest is p = 10), and the memory `128·N·r·p` ≤ `maxMemoryKiB` (256 MiB: N = 2^18 with
 *   r = 8, or N = 2^20 with r·p ≤ 2), 2× OWASP's 128 MiB.
 * - PBKDF2 10 000 ≤ `i` ≤ 1 200 000: 2× OWASP's 600 000. hash-wasm's PBKDF2 takes about 3 µs per
 *   iteration here, so 1 200 000 iterations cost 8 units (3.5–4 s); more would not fit the
 *   default budget at all. The floor refuses stanzas far below any guidance (RFC 8018 §4.2 asks
 *   for at least 1 000).
 */
export const PASSPHRASE_LIMITS = Object.freeze({
  /** Default memory ceiling in KiB (256 MiB), for Argon2id `m` and for scrypt `128·N·r·p` bytes. */
  maxMemoryKiB: 1 << 18,
  /** Largest `maxMemoryKiB` option (2 GiB: RFC 9106 §4's first recommended option; WebAssembly memory stops at 4 GiB). */
  maxMemoryKiBCeiling: 1 << 21,
  /** Argon2id passes `t`: 1..8. */
  argon2idMaxIterations: 8,
  /** Argon2id lanes `p`: 1..4. */
  argon2idMaxParallelism: 4,
  /** scrypt `N`: 2..2^20. */
  scryptMaxN: 2 ** 20,
  /** scrypt block size `r`: 1..16. */
  scryptMaxR: 16,
  /** scrypt parallelization `p`: 1..16. */
  scryptMaxP: 16,
  /** Fewest PBKDF2 iterations (RFC 8018 §4.2 asks for at least 1 000; we ask for 10 000). */
  pbkdf2MinIterations: 10_000,
  /** Most PBKDF2 iterations (2× OWASP's 600 000). */
  pbkdf2MaxIterations: 1_200_000,
  /**
   * Default KDF budget per header in cost units (1 = one default Argon2id derivation, about
   * 0.45 s here): room for 9 default Argon2id, 9 default scrypt or 2 default PBKDF2 stanzas, and
   * for any single stanza at the maxima above; a hostile header costs at most about 4.5 s here.
   */
  defaultMaxCost: 10,
  /** Largest `maxCost` option. */
  maxCostCeiling: 1000,
});

/**
 * Reads an options object naming some of a KDF's costs (`params`, `expect.params`): only the
 * KDF's own cost names (those of {@link DEFAULT_KDF_PARAMS}) are allowed; `undefined` values are
 * skipped.
 * @param kdf - the KDF whose cost names apply
 * @param given - the caller's object (or `undefined`: no costs)
 * @param name - the option's name, for errors
 * @param check - validates one value (throws) and returns it
 * @returns the costs given, by `KdfParams` field name
 * @throws TypeError for a non-object or an unknown cost name; whatever `check` throws
 * @example
 * ```ts
 * costOptions('scrypt', { N: 1024 }, 'params', (_k, v) => v as number); // { N: 1024 }
 * ```
 */
export function costOptions(kdf: PassphraseKdf, given: unknown, name: string, check: (k: string, v: unknown) => number): Record<string, number> {
  if (given === undefined) return {};
  if (typeof given !== 'object' || given === null) throw new TypeError(`"${name}" expected an object`);
  const names = Object.keys(DEFAULT_KDF_PARAMS[kdf]);
  const out: Record<string, number> = {};
  for (const k of Object.keys(given)) {
    if (!names.includes(k)) throw new TypeError(`"${name}" of ${kdf} expected only ${names.join(', ')}, got ${k.slice(0, 40)}`);
    const v = (given as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = check(k, v);
  }
  return out;
}

/** KDF names accepted in options besides the canonical ones, and the canonical name each stands for. */
const KDF_ALIASES: Readonly<Record<string, PassphraseKdf>> = Object.freeze({ pbkdf2: 'pbkdf2-sha256' });

/**
 * The canonical KDF name for a name given in options: a canonical name itself, or an alias
 * (`'pbkdf2'`, the CLI's name, for `'pbkdf2-sha256'`). Stanzas always store the canonical name.
 * @param name - what the caller passed (default `'argon2id'` when `undefined`)
 * @returns the canonical name
 * @throws TypeError for anything else
 * @example
 * ```ts
 * canonicalKdf('pbkdf2'); // 'pbkdf2-sha256'
 * ```
 */
export function canonicalKdf(name: unknown): PassphraseKdf {
  if (name === undefined) return 'argon2id';
  if (typeof name === 'string') {
    if ((PASSPHRASE_KDFS as readonly string[]).includes(name)) return name as PassphraseKdf;
    if (Object.hasOwn(KDF_ALIASES, name)) return KDF_ALIASES[name] as PassphraseKdf;
  }
  throw new TypeError(`"kdf" expected one of ${[...PASSPHRASE_KDFS, ...Object.keys(KDF_ALIASES)].join(', ')}, got ${typeof name === 'string' ? JSON.stringify(name.slice(0, 40)) : String(name)}`);
}

/** Who is asking: the caller's own options (misuse → RangeError) or a stanza (bad data → EnsealError). */
type Source = 'options' | 'stanza';

function limitError(source: Source, msg: string): Error {
  return source === 'stanza' ? new EnsealError('ERR_LIMIT', `passphrase stanza: ${msg}`) : new RangeError(msg);
}
function formatError(source: Source, msg: string): Error {
  return source === 'stanza' ? new EnsealError('ERR_HEADER', `passphrase stanza: ${msg}`) : new RangeError(msg);
}

/**
 * Checks costs against the bounds, cheapest checks first; nothing here allocates in proportion
 * to the costs.
 * @param p - the KDF and its costs
 * @param maxMemoryKiB - the memory ceiling in KiB
 * @param source - `'options'` (the caller's own choice) or `'stanza'` (read from an object)
 * @throws RangeError (`options`) or EnsealError `ERR_LIMIT` / `ERR_HEADER` (`stanza`) naming the
 *   parameter and the bound it broke; for an unknown KDF, TypeError / `ERR_UNSUPPORTED`
 * @example
 * ```ts
 * checkKdfParams({ kdf: 'argon2id', memoryKiB: 4 << 20, iterations: 1, parallelism: 1 }, 1 << 20, 'stanza');
 * // throws ERR_LIMIT: argon2id memory m = 4194304 KiB exceeds the limit 1048576 KiB (maxMemoryKiB)
 * ```
 */
export function checkKdfParams(p: KdfParams, maxMemoryKiB: number, source: Source): void {
  const intOk = (v: number): boolean => Number.isSafeInteger(v) && v >= 1;
  switch (p.kdf) {
    case 'argon2id': {
      for (const [n, v] of [['m', p.memoryKiB], ['t', p.iterations], ['p', p.parallelism]] as const) {
        if (!intOk(v)) throw formatError(source, `argon2id ${n} expected a positive integer, got ${String(v)}`);
      }
      if (p.parallelism > PASSPHRASE_LIMITS.argon2idMaxParallelism) {
        throw limitError(source, `argon2id parallelism p = ${p.parallelism} exceeds the limit ${PASSPHRASE_LIMITS.argon2idMaxParallelism}`);
      }
      if (p.iterations > PASSPHRASE_LIMITS.argon2idMaxIterations) {
        throw limitError(source, `argon2id iterations t = ${p.iterations} exceeds the limit ${PASSPHRASE_LIMITS.argon2idMaxIterations}`);
      }
      if (p.memoryKiB > maxMemoryKiB) {
        throw limitError(source, `argon2id memory m = ${p.memoryKiB} KiB exceeds the limit ${maxMemoryKiB} KiB (maxMemoryKiB)`);
      }
      // RFC 9106 §3.1: "Memory size m MUST be an integer number of kibibytes from 8*p to 2^32-1"
      if (p.memoryKiB < 8 * p.parallelism) {
        throw formatError(source, `argon2id memory m = ${p.memoryKiB} KiB is below 8·p = ${8 * p.parallelism} KiB (RFC 9106 §3.1)`);
      }
      return;
    }
    case 'scrypt': {
      for (const [n, v] of [['N', p.N], ['r', p.r], ['p', p.p]] as const) {
        if (!intOk(v)) throw formatError(source, `scrypt ${n} expected a positive integer, got ${String(v)}`);
      }
      if (p.N > PASSPHRASE_LIMITS.scryptMaxN) throw limitError(source, `scrypt cost N = ${p.N} exceeds the limit 2^20`);
      if (p.r > PASSPHRASE_LIMITS.scryptMaxR) throw limitError(source, `scrypt block size r = ${p.r} exceeds the limit ${PASSPHRASE_LIMITS.scryptMaxR}`);
      if (p.p > PASSPHRASE_LIMITS.scryptMaxP) throw limitError(source, `scrypt parallelization p = ${p.p} exceeds the limit ${PASSPHRASE_LIMITS.scryptMaxP}`);
      // RFC 7914 §2: N is "a large power of 2" greater than 1 (and §6: N < 2^(128·r/8), checked below)
      if (p.N < 2 || (p.N & (p.N - 1)) !== 0) throw formatError(source, `scrypt cost N = ${p.N} is not a power of 2 greater than 1 (RFC 7914 §2)`);
      // ROMix keeps N blocks of 128·r bytes (RFC 7914 §5); counting p of them bounds both the
      // memory of an implementation that runs the p lanes in parallel and the total work. Each
      // factor is bounded above, so the product is exact (≤ 2^35).
      const bytes = 128 * p.N * p.r * p.p;
      if (bytes > maxMemoryKiB * 1024) {
        throw limitError(source, `scrypt memory 128·N·r·p = ${bytes} bytes exceeds the limit ${maxMemoryKiB} KiB (maxMemoryKiB)`);
      }
      if (p.N >= 2 ** (16 * p.r)) throw formatError(source, `scrypt cost N = ${p.N} must be below 2^(16·r) (RFC 7914 §2)`);
      return;
    }
    case 'pbkdf2-sha256': {
      if (!intOk(p.iterations)) throw formatError(source, `pbkdf2-sha256 i expected a positive integer, got ${String(p.iterations)}`);
      // RFC 8018 §4.2 asks for "at least 1,000" iterations; 10 000 is our floor.
      if (p.iterations < PASSPHRASE_LIMITS.pbkdf2MinIterations || p.iterations > PASSPHRASE_LIMITS.pbkdf2MaxIterations) {
        throw limitError(
          source,
          `pbkdf2-sha256 iterations i = ${p.iterations} outside the limits ${PASSPHRASE_LIMITS.pbkdf2MinIterations}..${PASSPHRASE_LIMITS.pbkdf2MaxIterations}`,
        );
      }
      return;
    }
    default:
      throw source === 'stanza'
        ? new EnsealError('ERR_UNSUPPORTED', 'passphrase stanza: unknown kdf')
        : new TypeError(`"kdf" expected one of ${PASSPHRASE_KDFS.join(', ')}, got ${String((p as { kdf?: unknown }).kdf)}`);
  }
}

/** The stanza parameter names of each KDF besides `kdf` and `salt`, in canonical (byte) order. */
const COST_NAMES: Readonly<Record<PassphraseKdf, readonly string[]>> = {
  argon2id: ['m', 'p', 't'],
  scrypt: ['N', 'p', 'r'],
  'pbkdf2-sha256': ['i'],
};

/**
 * The stanza parameters recording `params` and `salt` (integers in decimal, salt in base64).
 * @param params - the KDF and its costs (already checked)
 * @param salt - the salt
 * @returns the parameter map for the stanza
 * @example
 * ```ts
 * encodeStanzaParams({ kdf: 'pbkdf2-sha256', iterations: 600000 }, salt); // { kdf, salt, i: '600000' }
 * ```
 */
export function encodeStanzaParams(params: KdfParams, salt: Uint8Array): Record<string, string> {
  const cost: Record<string, number> =
    params.kdf === 'argon2id'
      ? { m: params.memoryKiB, t: params.iterations, p: params.parallelism }
      : params.kdf === 'scrypt'
        ? { N: params.N, r: params.r, p: params.p }
        : { i: params.iterations };
  const out: Record<string, string> = { kdf: params.kdf, salt: toBase64(salt) };
  for (const [k, v] of Object.entries(cost)) out[k] = String(v);
  return out;
}

// At most 10 digits: every bound is far below 10^10, and a 4096-digit value is never converted.
const CANONICAL_INT = /^[1-9][0-9]{0,9}$/;

function parseInt10(params: Readonly<Record<string, string>>, name: string): number {
  const v = params[name] as string;
  if (!CANONICAL_INT.test(v)) {
    // Too many digits for a bound we accept is a limit, anything else is a malformed value.
    if (/^[1-9][0-9]{10,}$/.test(v)) throw new EnsealError('ERR_LIMIT', `passphrase stanza: parameter ${name} has ${v.length} digits, beyond every limit`);
    throw new EnsealError('ERR_HEADER', `passphrase stanza: parameter ${name} is not a canonical positive integer`);
  }
  return Number(v);
}

/**
 * Reads and bounds the parameters of a passphrase stanza. Order: the KDF name, the exact set of
 * parameter names, the integers' syntax, the cost bounds ({@link checkKdfParams}), the salt.
 * @param params - the stanza's parameters (untrusted)
 * @param maxMemoryKiB - the reader's memory ceiling
 * @returns the KDF parameters and the salt
 * @throws EnsealError `ERR_UNSUPPORTED` for an unknown KDF, `ERR_HEADER` for missing, extra or
 *   malformed parameters, `ERR_LIMIT` for costs outside the bounds
 * @example
 * ```ts
 * const { kdf, salt } = parseStanzaParams(stanza.params, PASSPHRASE_LIMITS.maxMemoryKiB);
 * ```
 */
export function parseStanzaParams(params: Readonly<Record<string, string>>, maxMemoryKiB: number): { kdf: KdfParams; salt: Bytes } {
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(params, k);
  if (!has('kdf')) throw new EnsealError('ERR_HEADER', 'passphrase stanza: missing parameter kdf');
  const name = params.kdf as string;
  if (!(PASSPHRASE_KDFS as readonly string[]).includes(name)) {
    throw new EnsealError('ERR_UNSUPPORTED', `passphrase stanza: unknown kdf (supported: ${PASSPHRASE_KDFS.join(', ')})`);
  }
  const kdfName = name as PassphraseKdf;
  const expected = ['kdf', 'salt', ...COST_NAMES[kdfName]];
  for (const k of expected) if (!has(k)) throw new EnsealError('ERR_HEADER', `passphrase stanza: missing parameter ${k} for ${kdfName}`);
  const extra = Object.keys(params).filter((k) => !expected.includes(k));
  if (extra.length > 0) throw new EnsealError('ERR_HEADER', `passphrase stanza: unexpected parameter(s) ${extra.slice(0, 4).join(', ')} for ${kdfName}`);

  const kdf: KdfParams =
    kdfName === 'argon2id'
      ? { kdf: kdfName, memoryKiB: parseInt10(params, 'm'), iterations: parseInt10(params, 't'), parallelism: parseInt10(params, 'p') }
      : kdfName === 'scrypt'
        ? { kdf: kdfName, N: parseInt10(params, 'N'), r: parseInt10(params, 'r'), p: parseInt10(params, 'p') }
        : { kdf: kdfName, iterations: parseInt10(params, 'i') };
  checkKdfParams(kdf, maxMemoryKiB, 'stanza');

  const saltText = params.salt as string;
  // 32 bytes are 44 base64 characters: anything longer is refused before decoding.
  let salt: Bytes;
  try {
    if (saltText.length > 44) throw new TypeError('too long');
    salt = fromBase64(saltText);
  } catch {
    throw new EnsealError('ERR_HEADER', `passphrase stanza: salt is not ${MIN_SALT_LENGTH}..${MAX_SALT_LENGTH} bytes of base64`);
  }
  if (salt.length < MIN_SALT_LENGTH || salt.length > MAX_SALT_LENGTH || toBase64(salt) !== saltText) {
    throw new EnsealError('ERR_HEADER', `passphrase stanza: salt is not ${MIN_SALT_LENGTH}..${MAX_SALT_LENGTH} bytes of canonical base64`);
  }
  return { kdf, salt };
}
