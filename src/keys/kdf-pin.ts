/**
 * Pinned passphrase parameters (option `expect` of `passphrase()`): a reader that knows how its
 * objects were written refuses any stanza with another KDF or other costs *before* deriving,
 * so a forged stanza cannot make it spend even the per-header budget (docs/SECURITY.md,
 * "Passphrases"). The stanza's parameters are not authenticated at that point; refusing on
 * them only ever withholds work, and a stanza that passes is still authenticated by the wrap's
 * AES-GCM tag, whose AAD covers every parameter.
 *
 * @module
 */
import type { Argon2idCost, KdfParams, PassphraseKdf, Pbkdf2Cost, ScryptCost } from './passphrase-kdf.js';
import { canonicalKdf, costOptions } from './passphrase-params.js';

/**
 * Parameters a reader insists on: the KDF, and any of its costs. A stanza with another KDF, or
 * another value for a cost named here, is refused before any derivation. Costs not named may
 * take any value within the bounds.
 */
export type PassphraseExpectation =
  | { kdf: 'argon2id'; params?: Partial<Argon2idCost> }
  | { kdf: 'scrypt'; params?: Partial<ScryptCost> }
  | { kdf: 'pbkdf2-sha256' | 'pbkdf2'; params?: Partial<Pbkdf2Cost> };

/** A checked {@link PassphraseExpectation}: the canonical KDF name and the pinned costs by `KdfParams` field. */
export interface KdfPin {
  readonly kdf: PassphraseKdf;
  readonly costs: Readonly<Record<string, number>>;
}

/**
 * Checks the `expect` option.
 * @param e - the option (`undefined`: nothing pinned)
 * @returns the pin, or `undefined`
 * @throws TypeError for a non-object, a missing or unknown KDF, an unknown cost name;
 *   RangeError for a cost that is not a positive integer
 * @example
 * ```ts
 * pinFromOptions({ kdf: 'pbkdf2', params: { iterations: 600_000 } }); // { kdf: 'pbkdf2-sha256', costs: { iterations: 600000 } }
 * ```
 */
export function pinFromOptions(e: unknown): KdfPin | undefined {
  if (e === undefined) return undefined;
  if (typeof e !== 'object' || e === null) throw new TypeError('"expect" expected an object { kdf, params? }');
  const { kdf: name, params } = e as { kdf?: unknown; params?: unknown };
  if (name === undefined) throw new TypeError('"expect.kdf" expected a KDF name');
  const kdf = canonicalKdf(name);
  const costs = costOptions(kdf, params, 'expect.params', (k, v) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new RangeError(`"expect.params.${k}" expected a positive integer, got ${String(v)}`);
    return v;
  });
  return Object.freeze({ kdf, costs: Object.freeze(costs) });
}

/**
 * Why parsed stanza parameters are not what the pin asks for.
 * @param pin - the pin (`undefined`: anything goes)
 * @param p - the stanza's parsed, bounded parameters
 * @returns a short reason naming the parameter and both values (all validated integers or
 *   canonical KDF names, safe to print), or `undefined` when `p` matches
 * @example
 * ```ts
 * pinMismatch(pin, kdf); // "argon2id memoryKiB = 262144 differs from the pinned 131072"
 * ```
 */
export function pinMismatch(pin: KdfPin | undefined, p: KdfParams): string | undefined {
  if (pin === undefined) return undefined;
  if (p.kdf !== pin.kdf) return `kdf ${p.kdf} is not the pinned ${pin.kdf}`;
  const actual = p as unknown as Record<string, number>;
  for (const [k, v] of Object.entries(pin.costs)) {
    if (actual[k] !== v) return `${p.kdf} ${k} = ${actual[k]} differs from the pinned ${v}`;
  }
  return undefined;
}
