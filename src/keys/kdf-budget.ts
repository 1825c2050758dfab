/**
 * The per-header KDF budget: how much passphrase-derivation work (in cost units, see
 * `kdf-cost.ts`) the passphrase providers have spent on one header.
 *
 * The ledger is keyed by the header's {@link WrapContext} object: `unwrapDataKey` hands its
 * providers one fresh context per header, so what one object spent never counts against
 * another, and nothing is kept once the context is garbage (a `WeakMap`). Every passphrase
 * provider charges the same ledger, each against its own `maxCost`, so a reader with several
 * passphrase keys still does at most the largest `maxCost` of work per header.
 *
 * Wrapping keeps a separate ledger, so that encryption can refuse recipients whose stanzas a
 * default reader could not all try (rewrap unwraps and then wraps with one context).
 *
 * @module
 */
import type { WrapContext } from './provider.js';
import { MILLI } from './kdf-cost.js';

/** Which ledger: the work of decrypting a header, or the work a reader will need for the stanzas being written. */
export type KdfLedger = 'unwrap' | 'wrap';

const ledgers: Readonly<Record<KdfLedger, WeakMap<object, number>>> = {
  unwrap: new WeakMap(),
  wrap: new WeakMap(),
};

/** What {@link chargeKdfBudget} decided. */
export interface KdfCharge {
  /** Whether the cost fitted (and was charged). */
  readonly charged: boolean;
  /** Thousandths of a unit spent on this header before the call. */
  readonly spentMilli: number;
}

/**
 * Charges `costMilli` to the header's ledger if the total stays within `budgetMilli`; charges
 * nothing otherwise. Check and charge are one synchronous step, so two derivations started for
 * the same header cannot both pass the check on the same remainder.
 * @param ctx - the header's context (the ledger key)
 * @param ledger - `'unwrap'` or `'wrap'`
 * @param costMilli - the stanza's cost, in thousandths of a unit
 * @param budgetMilli - the caller's budget for the header, in thousandths of a unit
 * @returns whether it was charged, and what had been spent before
 * @throws TypeError when `ctx` is not an object
 * @example
 * ```ts
 * const { charged } = chargeKdfBudget(ctx, 'unwrap', kdfCostMilli(params), 10_000);
 * if (!charged) throw new EnsealError('ERR_LIMIT', 'budget exhausted');
 * ```
 */
export function chargeKdfBudget(ctx: WrapContext, ledger: KdfLedger, costMilli: number, budgetMilli: number): KdfCharge {
  if (typeof ctx !== 'object' || ctx === null) throw new TypeError('"ctx" expected a WrapContext object');
  const map = ledgers[ledger];
  const spentMilli = map.get(ctx) ?? 0;
  if (spentMilli + costMilli > budgetMilli) return { charged: false, spentMilli };
  map.set(ctx, spentMilli + costMilli);
  return { charged: true, spentMilli };
}

/**
 * What the passphrase providers have spent on a header so far, in units.
 * @param ctx - the header's context
 * @param ledger - `'unwrap'` (default) or `'wrap'`
 * @returns units spent (0 for a context never charged)
 * @example
 * ```ts
 * kdfSpent(ctx); // 2.2 after two default Argon2id attempts
 * ```
 */
export function kdfSpent(ctx: WrapContext, ledger: KdfLedger = 'unwrap'): number {
  return (ledgers[ledger].get(ctx) ?? 0) / MILLI;
}
