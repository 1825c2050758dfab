/** A mutation of a negative enseal-v1 vector (see mutate.mjs). */
export interface Mutation {
  op: 'flip' | 'truncate' | 'append' | 'swap';
  byte?: number;
  bit?: number;
  length?: number;
  hex?: string;
  a?: number;
  b?: number;
}
/** Applies `m` to a copy of `ct`. */
export function mutate(ct: Uint8Array, m: Mutation): Uint8Array;
