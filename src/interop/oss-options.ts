/**
 * Option checks shared by the OSS interop modules.
 *
 * @module
 */
import { escapeControl } from '../bytes.js';
import { OSS_MAX_MATDESC_ENTRIES } from './oss-metadata.js';

/**
 * Checks a material description given as an option.
 * @param v - the option as given
 * @returns a frozen copy, or `undefined` when absent
 * @throws TypeError for anything but a plain object of strings; RangeError for too many entries
 * @example
 * ```ts
 * checkMatdesc({ owner: 'ops' }); // { owner: 'ops' }
 * ```
 */
export function checkMatdesc(v: unknown): Readonly<Record<string, string>> | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TypeError('"matdesc" expected a plain object of strings');
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > OSS_MAX_MATDESC_ENTRIES) throw new RangeError(`"matdesc" expected at most ${OSS_MAX_MATDESC_ENTRIES} entries, got ${entries.length}`);
  for (const [k, x] of entries) if (typeof x !== 'string') throw new TypeError(`"matdesc.${escapeControl(k, 64)}" expected a string`);
  return Object.freeze(Object.fromEntries(entries) as Record<string, string>);
}
