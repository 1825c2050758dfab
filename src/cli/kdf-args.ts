/**
 * `--kdf NAME` and `--kdf-cost LIST`: the key derivation function and costs of the passphrase
 * recipients an `encrypt` or `rewrap` writes (decryption reads them from the object).
 *
 * ```
 * --kdf argon2id  --kdf-cost m=KiB,t=PASSES,p=LANES   default m=131072,t=2,p=1
 * --kdf scrypt    --kdf-cost N=COST,r=BLOCK,p=PAR     default N=131072,r=8,p=1
 * --kdf pbkdf2    --kdf-cost i=ITERATIONS             default i=600000
 * ```
 * The names are those of the stanza parameters (docs/FORMAT.md §4); omitted costs keep their
 * defaults; the library's bounds apply (`PASSPHRASE_LIMITS`). Pure: no I/O.
 *
 * @module
 */
import type { Argon2idCost, KdfParams, PassphraseKdf, Pbkdf2Cost, ScryptCost } from '../keys/passphrase-kdf.js';
import { checkKdfParams, DEFAULT_KDF_PARAMS, PASSPHRASE_LIMITS } from '../keys/passphrase-params.js';
import { usageError } from './cli-error.js';
import { quoted } from './terminal-text.js';

/** A KDF and the costs given on the command line (the others keep the library's defaults). */
export type KdfChoice =
  | { readonly kdf: 'argon2id'; readonly params: Partial<Argon2idCost> }
  | { readonly kdf: 'scrypt'; readonly params: Partial<ScryptCost> }
  | { readonly kdf: 'pbkdf2-sha256'; readonly params: Partial<Pbkdf2Cost> };

/** `--kdf` values, and the KDF each names. */
const KDF_NAMES: Readonly<Record<string, PassphraseKdf>> = { argon2id: 'argon2id', scrypt: 'scrypt', pbkdf2: 'pbkdf2-sha256', 'pbkdf2-sha256': 'pbkdf2-sha256' };

/** For each KDF: `--kdf-cost` name → library parameter name. */
const COST_FIELDS: Readonly<Record<PassphraseKdf, Readonly<Record<string, string>>>> = {
  argon2id: { m: 'memoryKiB', t: 'iterations', p: 'parallelism' },
  scrypt: { N: 'N', r: 'r', p: 'p' },
  'pbkdf2-sha256': { i: 'iterations' },
};

const INTEGER = /^[1-9][0-9]{0,9}$/;

/**
 * Parses `--kdf` and `--kdf-cost` and checks the costs against the library's bounds.
 * @param kdfText - the `--kdf` value, if given
 * @param costText - the `--kdf-cost` value, if given
 * @returns the choice, or `undefined` when neither option was given
 * @throws CliError `ERR_USAGE` for an unknown KDF, a malformed list, a cost name the KDF does not
 *   have, or costs outside the bounds (with the library's explanation)
 * @example
 * ```ts
 * parseKdf('argon2id', 'm=65536,t=3'); // { kdf: 'argon2id', params: { memoryKiB: 65536, iterations: 3 } }
 * ```
 */
export function parseKdf(kdfText: string | undefined, costText: string | undefined): KdfChoice | undefined {
  if (kdfText === undefined && costText === undefined) return undefined;
  const name = kdfText ?? 'argon2id';
  if (!Object.hasOwn(KDF_NAMES, name)) throw usageError(`--kdf expects argon2id, scrypt or pbkdf2 (also pbkdf2-sha256), got ${quoted(name, 40)}`);
  const kdf = KDF_NAMES[name] as PassphraseKdf;
  const fields = COST_FIELDS[kdf];
  const params: Record<string, number> = {};
  if (costText !== undefined) {
    for (const item of costText.split(',')) {
      const eq = item.indexOf('=');
      const costName = item.slice(0, eq);
      const value = item.slice(eq + 1);
      if (eq <= 0 || !Object.hasOwn(fields, costName)) {
        throw usageError(`--kdf-cost for ${kdf} expects a comma-separated list of ${Object.keys(fields).map((n) => `${n}=INT`).join(', ')}, got ${quoted(item, 40)}`);
      }
      const field = fields[costName] as string;
      if (Object.hasOwn(params, field)) throw usageError(`--kdf-cost: ${costName} given more than once`);
      if (!INTEGER.test(value)) throw usageError(`--kdf-cost: ${costName} expects a positive decimal integer, got ${quoted(value, 20)}`);
      params[field] = Number(value);
    }
  }
  const full = { kdf, ...DEFAULT_KDF_PARAMS[kdf], ...params } as KdfParams;
  try {
    checkKdfParams(full, PASSPHRASE_LIMITS.maxMemoryKiB, 'options');
  } catch (e) {
    if (e instanceof RangeError || e instanceof TypeError) throw usageError(`--kdf-cost: ${e.message}`);
    throw e;
  }
  return { kdf, params } as KdfChoice;
}
