/**
 * The work model of the passphrase KDFs: how long one derivation takes, in *cost units*, from
 * its parameters alone, so a reader can refuse a stanza before running it (docs/SECURITY.md,
 * "Passphrases").
 *
 * One unit is the work of one default Argon2id derivation (m = 128 MiB, t = 2, p = 1): about
 * 0.45 s with hash-wasm on the shared 2-core build VM (Node 20.20). The formulas were fitted to
 * hash-wasm timings measured there (fresh memory each time, as in a fresh worker):
 *
 * | KDF             | cost (units)                    | measured                                             |
 * |-----------------|---------------------------------|------------------------------------------------------|
 * | `argon2id`      | m · (t + 1) / (3 · 2^17)        | 128 MiB t=2: 0.42–0.50 s; 256 MiB t=1: 0.64–0.70 s; 256 MiB t=8 p=4: 2.8–3.3 s; 8 MiB t=8: 0.06–0.07 s |
 * | `scrypt`        | N · r · p / 2^20                | 2^17·8·1: 0.38–0.63 s; 2^20·2·1: 0.85–0.91 s; 2^14·8·8: 0.27–0.34 s |
 * | `pbkdf2-sha256` | i / 150 000                     | 600 000: 1.7–2.1 s; 100 000: 0.26–0.37 s             |
 *
 * plus {@link DERIVATION_OVERHEAD} per derivation (starting a worker thread: 35–55 ms).
 *
 * Argon2id fills m KiB once and then makes t passes over it (RFC 9106 §3.2–3.4): the "+ 1" is the
 * first touch of fresh memory, which costs about one pass. Lanes (p) do not change the number of
 * blocks computed, and hash-wasm runs them one after another. scrypt's ROMix writes and then
 * reads N blocks of 128·r bytes per lane (RFC 7914 §5–6), so its work is proportional to N·r·p.
 * PBKDF2 is i HMAC computations per 32-byte block (RFC 8018 §5.2); hash-wasm's is slow (about
 * 3 µs per iteration here), which is why its default of 600 000 iterations costs 4 units.
 *
 * Costs are computed in integer thousandths of a unit (rounded up), so that sums and
 * comparisons against a budget are exact.
 *
 * @module
 */
import type { KdfParams } from './passphrase-kdf.js';

/** Fixed cost of any derivation in units: a worker thread's start-up (or, on the main thread, hash-wasm's set-up). */
export const DERIVATION_OVERHEAD = 0.1;

/** Thousandths of a unit per unit. */
export const MILLI = 1000;

/**
 * The cost of one derivation with `params`, in thousandths of a unit (rounded up), including
 * {@link DERIVATION_OVERHEAD}. `params` must already have passed `checkKdfParams` (positive
 * safe integers within the bounds), so every product here stays far below 2^53.
 * @param params - the KDF and its (checked) costs
 * @returns an integer ≥ 100
 * @throws TypeError for an unknown KDF name
 * @example
 * ```ts
 * kdfCostMilli({ kdf: 'argon2id', memoryKiB: 131072, iterations: 2, parallelism: 1 }); // 1100
 * ```
 */
export function kdfCostMilli(params: KdfParams): number {
  let work: number;
  switch (params.kdf) {
    case 'argon2id':
      work = Math.ceil((params.memoryKiB * (params.iterations + 1) * MILLI) / (3 * 2 ** 17));
      break;
    case 'scrypt':
      work = Math.ceil((params.N * params.r * params.p * MILLI) / 2 ** 20);
      break;
    case 'pbkdf2-sha256':
      work = Math.ceil((params.iterations * MILLI) / 150_000);
      break;
    default:
      throw new TypeError(`"kdf" expected argon2id, scrypt or pbkdf2-sha256, got ${String((params as { kdf?: unknown }).kdf)}`);
  }
  return work + DERIVATION_OVERHEAD * MILLI;
}

/**
 * The cost of one derivation with `params` in units (1 = one default Argon2id derivation),
 * including the per-derivation overhead: what a passphrase stanza with these parameters takes
 * from a reader's `maxCost` budget.
 * @param params - the KDF and its costs (within the bounds of `PASSPHRASE_LIMITS`)
 * @returns the cost in units, to three decimals
 * @throws TypeError for an unknown KDF name
 * @example
 * ```ts
 * kdfCost({ kdf: 'argon2id', memoryKiB: 131072, iterations: 2, parallelism: 1 }); // 1.1
 * kdfCost({ kdf: 'pbkdf2-sha256', iterations: 600_000 });                          // 4.1
 * ```
 */
export function kdfCost(params: KdfParams): number {
  return kdfCostMilli(params) / MILLI;
}
